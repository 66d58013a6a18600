#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer build of the library, the CLI and the tests, then the tests
# under it. Any sanitizer report stops the test that made it (halt_on_error) and fails the run.
# Where the CUDA toolkit's headers are installed, the build links the CUDA backend's host code against the
# CPU emulation of CUDA (tests/gpu_emulator), so the gpu tests run too: no GPU is needed, and host-side
# memory errors in that code show here as well.
#
#   scripts/sanitize.sh [BUILD_DIR]        (default: build-asan)
#
# Environment: SIGMANET_SANITIZE_JOBS (default 2) build jobs; SIGMANET_SANITIZE_EXCLUDE, a ctest -E regex of
# tests left out of the sanitized run. The step has 10 minutes in CI and the sanitizers run tests several times slower,
# so the default leaves out tests whose code already runs sanitized elsewhere, or that test no code of ours:
# - InstallAndFindPackage: builds a consumer project without -fsanitize, which cannot link the instrumented
#   library; it tests packaging, not memory safety (the plain build runs it).
# - VerifyCli.OnMnistPrintsATableOfPassingChecks and BenchCli.QuickRunOnMnistPrintsATableAndWritesJson: the
#   longest runs under ASan; the same code runs sanitized on synthetic data (VerifyCli.WithoutMnist...,
#   BenchCli.SyntheticDataNeedsNoFilesAndSaysSo) and in the equivalence and cost tests.
# - SparseInput.MnistEvaluationIsTheOracles*: the AVX-512 lists on real digits, which this build (-march generic)
#   does not compile; its portable lists run sanitized in the other SparseInput tests.
# - Threads.OpenBlasIsRepeatableAndCloseWhateverTheThreads*: OpenBLAS's own repeatability, a library this build
#   does not instrument; its wrapper runs sanitized in the CPU backend's tests at large batches.
# - FlagFuzz.RandomValuesGiveExit0Or2AndOneLineNamingTheFlag: the flag parsing it drives runs sanitized in every
#   TrainCli and BenchCli test; the plain builds run the fuzz.
# - GpuKernels.EachKernelMatchesTheCpuReferenceAtBatches1_7_10_1000: its checks run sanitized inside
#   GpuBackend.VerifyPrintsTheGpuTableWithEveryRowOk (verify's kernel rows).
# - BenchCli.AllAddsTheLargeNetworkOnTheCpu: 784-1024-1024-10 on the CPU; the same bench code runs sanitized in
#   BenchCli.SyntheticDataNeedsNoFilesAndSaysSo.
# - Trainer.OneEpochOfNielsensRunHasAMedianAccuracyNear90Point7Percent: nine MNIST epochs whose trainer and
#   backend code runs sanitized in the other Trainer tests.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-asan}
jobs=${SIGMANET_SANITIZE_JOBS:-2}

source scripts/find-nvcc.sh
emulator=OFF labels=cpu
if command -v nvcc >/dev/null 2>&1; then emulator=ON labels='cpu|gpu'; fi
# -O1 -g1: line tables are all a sanitizer report needs, and -O1 builds in half the time of -O2 -g
# (the step's budget in CI is 10 minutes) while still inlining enough for the tests to run quickly.
# With MPI (and the emulator's NCCL): the jobs across emulated GPUs (tests/cuda/gpu_mpi.cpp) run here, their ranks
# without LeakSanitizer (Open MPI keeps its start-up memory to the end by design; tests/support/test_support.cpp).
# The jobs on the CPU run in the default build only, for this step's time.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DSIGMANET_SANITIZE=ON -DSIGMANET_CUDA=OFF \
  -DSIGMANET_GPU_EMULATOR=$emulator -DSIGMANET_BENCHMARKS=OFF -DSIGMANET_NATIVE=OFF -DSIGMANET_MPI=ON >/dev/null
echo "sanitize: CUDA backend on the CPU emulator: $emulator"
cmake --build "$build" -j"$jobs"

# detect_leaks: LeakSanitizer is part of ASan on Linux; the flags make every finding fatal and visible.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# The tests run the CLI as a child process; it inherits these options, so its findings fail the test too.
args=(--test-dir "$build" -L "$labels" --output-on-failure -j"$jobs" --timeout 900 --no-tests=error)
exclude=${SIGMANET_SANITIZE_EXCLUDE-^(InstallAndFindPackage|VerifyCli.OnMnistPrintsATableOfPassingChecks|SparseInput.MnistEvaluationIsTheOracles.*|BenchCli.QuickRunOnMnistPrintsATableAndWritesJson|Threads.OpenBlasIsRepeatableAndCloseWhateverTheThreads.*|FlagFuzz.RandomValuesGiveExit0Or2AndOneLineNamingTheFlag|GpuKernels.EachKernelMatchesTheCpuReferenceAtBatches1_7_10_1000|BenchCli.AllAddsTheLargeNetworkOnTheCpu|Trainer.OneEpochOfNielsensRunHasAMedianAccuracyNear90Point7Percent)$}
if [[ -n "$exclude" ]]; then args+=(-E "$exclude"); fi
# SIGMANET_CTEST_JUNIT=FILE: the run's results as JUnit too (scripts/test-all.sh's summary reads them).
if [[ -n "${SIGMANET_CTEST_JUNIT:-}" ]]; then args+=(--output-junit "$SIGMANET_CTEST_JUNIT"); fi
ctest "${args[@]}"
