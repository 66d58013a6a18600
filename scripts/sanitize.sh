#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer build of the library, the CLI and the CPU tests, then the
# CPU tests under it. Any sanitizer report stops the test that made it (halt_on_error) and fails the run.
#
#   scripts/sanitize.sh [BUILD_DIR]        (default: build-asan)
#
# Environment: SIGMANET_SANITIZE_JOBS (default 2) build jobs; SIGMANET_SANITIZE_EXCLUDE, a ctest -E regex of
# tests left out of the sanitized run. Default: InstallAndFindPackage, which builds a separate consumer
# project against the installed library; that project is not built with -fsanitize, so it cannot link
# the instrumented library, and it tests packaging, not memory safety (the plain build runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-asan}
jobs=${SIGMANET_SANITIZE_JOBS:-2}

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIGMANET_SANITIZE=ON -DSIGMANET_CUDA=OFF \
  -DSIGMANET_BENCHMARKS=OFF -DSIGMANET_NATIVE=OFF >/dev/null
cmake --build "$build" -j"$jobs"

# detect_leaks: LeakSanitizer is part of ASan on Linux; the flags make every finding fatal and visible.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# The tests run the CLI as a child process; it inherits these options, so its findings fail the test too.
args=(--test-dir "$build" -L cpu --output-on-failure -j"$jobs" --timeout 900 --no-tests=error)
exclude=${SIGMANET_SANITIZE_EXCLUDE-^InstallAndFindPackage$}
if [[ -n "$exclude" ]]; then args+=(-E "$exclude"); fi
ctest "${args[@]}"
