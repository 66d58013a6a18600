#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.cpp) with clang-14, ASan and UBSan, writes their seed
# corpora, and runs each for SIGMANET_FUZZ_SECONDS (default 60). Any crash, leak, timeout, out-of-memory or
# sanitizer report fails the script; the input that caused it is kept under BUILD_DIR/findings/.
#
#   scripts/fuzz.sh [BUILD_DIR] [TARGET...]      (default: build-fuzz, every target)
#
# Environment: SIGMANET_FUZZ_SECONDS (per target), SIGMANET_FUZZ_JOBS (build jobs, default 2),
# CXX_FUZZ (default clang++-14).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
shift || true
seconds=${SIGMANET_FUZZ_SECONDS:-60}
jobs=${SIGMANET_FUZZ_JOBS:-2}
cxx=${CXX_FUZZ:-clang++-14}

if [[ $# -gt 0 ]]; then
  targets=("$@")
else
  targets=()
  for f in tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi

cmake -S . -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIGMANET_FUZZ=ON \
  -DSIGMANET_CUDA=OFF -DSIGMANET_TESTS=OFF -DSIGMANET_BENCHMARKS=OFF -DSIGMANET_NATIVE=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target make_fuzz_seeds "${targets[@]}"

seeds="$build/seeds"
rm -rf "$seeds"
"$build/tests/fuzz/make_fuzz_seeds" "$seeds"

export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:allocator_may_return_null=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
status=0
for target in "${targets[@]}"; do
  kind=${target#fuzz_}
  corpus="$build/corpus/$kind"    # grows across runs; the seeds are read-only input
  findings="$build/findings/$target"
  mkdir -p "$corpus" "$findings"
  seed_dir="$seeds/$kind"
  [[ -d "$seed_dir" ]] || { echo "fuzz.sh: no seeds for $target in $seed_dir" >&2; exit 1; }
  echo "== $target: ${seconds} s from $(ls "$seed_dir" | wc -l) seeds"
  # -timeout: one input taking longer than 10 s is a finding (a hang); -rss_limit_mb bounds memory.
  if ! "$build/tests/fuzz/$target" "$corpus" "$seed_dir" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="$findings/" \
      >"$build/$target.log" 2>&1; then
    echo "fuzz.sh: $target FAILED; last lines of $build/$target.log:" >&2
    tail -40 "$build/$target.log" >&2
    status=1
  else
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$build/$target.log" | tail -2 || true
  fi
done
exit $status
