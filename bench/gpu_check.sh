#!/usr/bin/env bash
# One-shot check of the CUDA backend on a machine with an NVIDIA GPU: the gpu test suites, `sigmanet verify`,
# Nielsen's 30-epoch run on the GPU with its time, and `sigmanet bench --quick` when this build has it; a short
# table last. Exit status 0 only when every step passed. Writes nothing outside the build folder.
#
#   bash bench/gpu_check.sh [BUILD_DIR]
#
# Without BUILD_DIR it configures and builds Release into build-gpu-check/ for sm_${SIGMANET_CUDA_ARCH:-90}
# (needs the project's build dependencies). With BUILD_DIR it uses that build as it is.
#
# A GPU machine without the Debian libraries (GoogleTest, CLI11, zlib headers) runs a build made elsewhere.
# Recipe, on the build machine, from the repository root:
#   cmake -S . -B build-h200 -DCMAKE_BUILD_TYPE=Release -DSIGMANET_PORTABLE=ON -DSIGMANET_BENCHMARKS=OFF \
#         -DCMAKE_CUDA_ARCHITECTURES=90
#   cmake --build build-h200 -j2 --target sigmanet_cli gpu_kernels gpu_backend gpu_checkpoint gpu_oom_test
#   mkdir -p data/mnist && cp /work/shared/data/mnist/*-ubyte.gz data/mnist/      # data/ is git-ignored
# then carry only what the check runs (a few MB) and run it there:
#   run(command="bash bench/gpu_check.sh build-h200",
#       carry=["build-h200/sigmanet", "build-h200/tests/gpu_kernels", "build-h200/tests/gpu_backend",
#              "build-h200/tests/gpu_checkpoint", "build-h200/tests/gpu_oom_test", "data/mnist"])
# SIGMANET_PORTABLE links zlib and libstdc++ statically; the CUDA runtime is static by default; only
# libcublas stays shared, found through LD_LIBRARY_PATH below. Test executables are run directly, not through
# ctest: CTest files hold the build machine's absolute paths.
set -u -o pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export LD_LIBRARY_PATH="/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export SIGMANET_DATA="${SIGMANET_DATA:-$repo/data/mnist}"
export PATH="/usr/local/cuda/bin:$PATH"

rows=()      # "step|result|seconds|note" for the table
failed=0
record() { rows+=("$1|$2|$3|$4"); [[ "$2" == PASS || "$2" == SKIP ]] || failed=1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- the build ----
if [[ $# -ge 1 ]]; then
  build="$(cd "$1" && pwd)" || { echo "gpu_check: no build folder $1" >&2; exit 2; }
else
  build="$repo/build-gpu-check"
  arch="${SIGMANET_CUDA_ARCH:-90}"
  echo "== building Release for sm_$arch in $build"
  t=$(now)
  if cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIGMANET_BENCHMARKS=OFF \
       -DCMAKE_CUDA_ARCHITECTURES="$arch" -DSIGMANET_CUDA=ON >/dev/null &&
     cmake --build "$build" -j "$(nproc)" --target sigmanet_cli gpu_kernels gpu_backend gpu_checkpoint gpu_oom_test; then
    record "build sm_$arch" PASS "$(elapsed "$t")" "$build"
  else
    record "build sm_$arch" FAIL "$(elapsed "$t")" "see the compiler output above"
  fi
fi
cli="$build/sigmanet"

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "(nvidia-smi not found)"
[[ -d "$SIGMANET_DATA" ]] || echo "gpu_check: warning: no MNIST at $SIGMANET_DATA (tests that need it skip)"

# ---- the gpu test suites ----
for suite in "$build"/tests/gpu_*; do
  [[ -x "$suite" && -f "$suite" ]] || continue
  name="$(basename "$suite")"
  echo "== $name"
  t=$(now)
  out="$(timeout 200 "$suite" 2>&1)"
  status=$?
  echo "$out" | grep -v -E '^\[       OK \]|^\[ RUN      \]'
  # One line per test ends in "(N ms)"; gtest's closing lists repeat the names without it.
  passed=$(grep -c -E '^\[       OK \] .*\([0-9]+ ms\)$' <<<"$out")
  skipped=$(grep -c -E '^\[  SKIPPED \] .*\([0-9]+ ms\)$' <<<"$out")
  failures=$(grep -c -E '^\[  FAILED  \] .*\([0-9]+ ms\)$' <<<"$out")
  # A suite passes when its tests ran and none failed; some skip by design on a GPU machine (the no-GPU ones).
  if [[ $status -eq 0 && $passed -gt 0 ]]; then result=PASS
  elif [[ $status -eq 0 ]]; then result=SKIP
  elif [[ $status -eq 124 ]]; then result=TIMEOUT
  else result=FAIL; fi
  record "$name" "$result" "$(elapsed "$t")" "$passed passed, $skipped skipped, $failures failed"
done
[[ -n "$(ls "$build"/tests/gpu_* 2>/dev/null)" ]] || record "gpu tests" FAIL 0 "no $build/tests/gpu_* executables"

# ---- sigmanet verify ----
echo "== sigmanet verify"
t=$(now)
out="$(timeout 150 "$cli" verify 2>&1)"
status=$?
echo "$out"
summary="$(grep -E '^verify:' <<<"$out" | tail -1)"
if grep -q "GPU part did not run" <<<"$out"; then result=FAIL; summary="the GPU part did not run"
elif [[ $status -eq 0 ]]; then result=PASS
elif [[ $status -eq 124 ]]; then result=TIMEOUT
else result=FAIL; fi
record "sigmanet verify" "$result" "$(elapsed "$t")" "${summary:-exit $status}"

# ---- Nielsen's run: 784-30-10, batch 10, eta 3, 30 epochs, on the GPU ----
echo "== sigmanet train --device gpu (Nielsen, 30 epochs)"
t=$(now)
out="$(timeout 200 "$cli" train --device gpu --epochs 30 2>&1)"
status=$?
echo "$out"
best="$(grep -E '^Best test accuracy' <<<"$out" | tail -1)"
if [[ $status -eq 0 ]]; then result=PASS; elif [[ $status -eq 124 ]]; then result=TIMEOUT; else result=FAIL; fi
record "train 30 epochs (gpu)" "$result" "$(elapsed "$t")" "${best:-exit $status}"

# ---- the benchmark, when this build has the command ----
if "$cli" bench --help >/dev/null 2>&1; then
  echo "== sigmanet bench --quick"
  t=$(now)
  timeout 120 "$cli" bench --quick 2>&1
  status=$?
  if [[ $status -eq 0 ]]; then result=PASS; elif [[ $status -eq 124 ]]; then result=TIMEOUT; else result=FAIL; fi
  record "bench --quick" "$result" "$(elapsed "$t")" "exit $status"
else
  record "bench --quick" SKIP 0 "this build has no 'sigmanet bench'"
fi

# ---- the full GPU grid, and PyTorch doing the same work on this GPU ----
# JSON lands in the build folder, and in $OUT too when the caller collects files from there.
results="$build/gpu-check-results"
mkdir -p "$results"
if "$cli" bench --help >/dev/null 2>&1; then
  echo "== sigmanet bench --backends gpu-float (full grid)"
  t=$(now)
  timeout 150 "$cli" bench --backends gpu-float --json "$results/sigmanet-gpu.json" 2>&1
  status=$?
  if [[ $status -eq 0 ]]; then result=PASS; elif [[ $status -eq 124 ]]; then result=TIMEOUT; else result=FAIL; fi
  record "bench gpu grid" "$result" "$(elapsed "$t")" "$results/sigmanet-gpu.json"
fi
if python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  echo "== bench/pytorch_mlp.py --device cuda"
  t=$(now)
  timeout 150 python3 bench/pytorch_mlp.py --device cuda --data "$SIGMANET_DATA" --json "$results/pytorch-gpu.json" 2>&1
  status=$?
  if [[ $status -eq 0 ]]; then result=PASS; elif [[ $status -eq 124 ]]; then result=TIMEOUT; else result=FAIL; fi
  record "pytorch gpu grid" "$result" "$(elapsed "$t")" "$results/pytorch-gpu.json"
  if [[ -f "$results/sigmanet-gpu.json" && -f "$results/pytorch-gpu.json" ]]; then
    python3 bench/compare.py --ours "$results/sigmanet-gpu.json" --pytorch "$results/pytorch-gpu.json" --markdown 2>&1
  fi
else
  record "pytorch gpu grid" SKIP 0 "python3 with CUDA-enabled torch not found"
fi
[[ -n "${OUT:-}" && -d "${OUT:-}" ]] && cp "$results"/*.json "$OUT"/ 2>/dev/null

# ---- the table ----
echo
echo "== gpu_check summary ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
printf '%-26s %-8s %9s  %s\n' "step" "result" "seconds" "note"
for row in "${rows[@]}"; do
  IFS='|' read -r step result seconds note <<<"$row"
  printf '%-26s %-8s %9s  %s\n' "$step" "$result" "$seconds" "$note"
done
exit $failed
