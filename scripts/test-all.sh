#!/usr/bin/env bash
# Every test: install what is missing, then
#   1. the default build (CUDA when nvcc is present, for every default GPU architecture) and all its tests
#      (GPU tests skip, saying why, where no GPU is usable);
#   2. a CPU-only build (-DSIGMANET_CUDA=OFF) and its tests;
#   3. the library and CPU tests under AddressSanitizer + UndefinedBehaviorSanitizer;
#   4. each libFuzzer target for SIGMANET_FUZZ_SECONDS (default 60).
# Stops at the first failure, with a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
source scripts/find-nvcc.sh
jobs=$(nproc)
export SIGMANET_DATA=${SIGMANET_DATA:-$(cd .. && pwd)/shared/data/mnist}

step() { printf '\n=== %s ===\n' "$*"; }

step "1/4 default build (CUDA if available) and tests"
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-test -j"$jobs"
ctest --test-dir build-test -j"$jobs" --output-on-failure

step "2/4 CPU-only build and tests"
cmake -S . -B build-test-cpu -DCMAKE_BUILD_TYPE=Release -DSIGMANET_CUDA=OFF -DSIGMANET_BENCHMARKS=OFF >/dev/null
cmake --build build-test-cpu -j"$jobs"
ctest --test-dir build-test-cpu -j"$jobs" --output-on-failure

step "3/4 sanitizers"
bash scripts/sanitize.sh

step "4/4 fuzzing"
bash scripts/fuzz.sh

echo
echo "test-all: every step passed"
