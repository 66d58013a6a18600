#!/usr/bin/env bash
# One-shot check of the CUDA backend on a machine with an NVIDIA GPU, sized for one borrowed run of at most
# 10 minutes: every gpu test suite, `sigmanet verify`, Nielsen's 30-epoch run on the GPU, the persistent kernel
# against the graph path (`sigmanet bench` at batches 1, 10 and 32: each path's time a step and their ratio, which
# test bench/persistent_model.py), then every gpu test suite again under compute-sanitizer memcheck, and those
# that run our shared-memory kernels under racecheck; a table last.
# With --grid instead: `sigmanet bench` on the whole GPU grid and PyTorch on the same grid (the figures for
# bench/RESULTS.md). Exit status 0 only when every step passed.
#
#   bash bench/gpu_check.sh [BUILD_DIR] [--grid]
#
# Every step runs under its own `timeout`; the budget (all of them, plus the grace each gets to die) is printed
# first and stays under 540 s. Each step's whole output goes to $OUT/<step>.log as it runs and the table to
# $OUT/summary.txt after every step, so a run cut short still brings back what it did. Without OUT the logs go
# to BUILD_DIR/gpu-check-logs. Nothing is written outside OUT and the build folder.
#
# Without BUILD_DIR it first configures and builds Release into build-gpu-check/ for sm_${SIGMANET_CUDA_ARCH:-90}
# (needs the project's build dependencies; the build is not in the budget).
#
# A GPU machine without the Debian libraries (GoogleTest, CLI11, zlib headers) runs a build made elsewhere.
# Recipe, on the build machine, from the repository root:
#   cmake -S . -B build-h200 -DCMAKE_BUILD_TYPE=Release -DSIGMANET_PORTABLE=ON -DSIGMANET_BENCHMARKS=OFF \
#         -DCMAKE_CUDA_ARCHITECTURES=90
#   cmake --build build-h200 -j2 --target sigmanet_cli gpu_kernels gpu_backend gpu_checkpoint gpu_oom_test gpu_persistent \
#         gpu_objectives
#   mkdir -p data/mnist && cp /work/shared/data/mnist/*-ubyte.gz data/mnist/      # data/ is git-ignored
# then carry only what the check runs (a few MB) and run it there:
#   run(command="bash bench/gpu_check.sh build-h200",
#       carry=["build-h200/sigmanet", "build-h200/tests/gpu_kernels", "build-h200/tests/gpu_backend",
#              "build-h200/tests/gpu_checkpoint", "build-h200/tests/gpu_oom_test",
#              "build-h200/tests/gpu_persistent", "build-h200/tests/gpu_objectives", "data/mnist"])
# SIGMANET_PORTABLE links zlib and libstdc++ statically; the CUDA runtime is static by default. libcublas.so.13
# and libcublasLt.so.13 stay shared and are too big to carry (52 MB and 517 MB): the script looks for them in
# /usr/local/cuda/lib64, then in the Python nvidia-cublas wheel, and puts the folder it found on
# LD_LIBRARY_PATH. Test executables are run directly, not through ctest: CTest files hold the build machine's
# absolute paths.
#
# GPU_CHECK_CUDA (default /usr/local/cuda) names the toolkit folder; only tests of this script change it.
set -u -o pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo" || exit 2
export SIGMANET_DATA="${SIGMANET_DATA:-$repo/data/mnist}"
cuda="${GPU_CHECK_CUDA:-/usr/local/cuda}"

mode=check
build_arg=""
for arg in "$@"; do
  case "$arg" in
    --grid) mode=grid ;;
    -h | --help) sed -n '2,9p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "gpu_check: unknown option $arg" >&2; exit 2 ;;
    *) build_arg="$arg" ;;
  esac
done

budget_limit=540  # the borrowed machine runs one command for 600 s at most; the rest is start-up and copying
grace=2           # `timeout -k`: a step that ignores SIGTERM (a hung GPU call) is killed this much later
setup_limit=5     # each quick look before the steps (nvidia-smi, python3, ldd, --help, --version)
setup_calls=5
# Under the sanitizers, tests run 10-100x slower: the whole-epoch tests would need minutes each, and the
# shorter tests already run every kernel and every code path.
sanitizer_filter='--gtest_filter=-*NielsenEpoch*:*DeeperOddNet*:*AnEpochMatches*:*AnEpochOfAReducedSet*'

rows=()      # "step|result|seconds|note" for the table
notes=()     # lines printed under the table
failed=0
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- the build ----
if [[ -n "$build_arg" ]]; then
  build="$(cd "$build_arg" 2>/dev/null && pwd)" || { echo "gpu_check: no build folder $build_arg" >&2; exit 2; }
  build_row=""
else
  build="$repo/build-gpu-check"
  arch="${SIGMANET_CUDA_ARCH:-90}"
  echo "== building Release for sm_$arch in $build (not part of the budget)"
  t=$(now)
  if cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIGMANET_BENCHMARKS=OFF \
       -DCMAKE_CUDA_ARCHITECTURES="$arch" -DSIGMANET_CUDA=ON >/dev/null &&
     cmake --build "$build" -j "$(nproc)" --target sigmanet_cli gpu_kernels gpu_backend gpu_checkpoint gpu_oom_test \
       gpu_persistent gpu_objectives; then
    build_row="build sm_$arch|PASS|$(elapsed "$t")|$build"
  else
    build_row="build sm_$arch|FAIL|$(elapsed "$t")|see the compiler output above"
  fi
fi
cli="$build/sigmanet"

# ---- where the logs go ----
if [[ -n "${OUT:-}" ]]; then
  logdir="$OUT"
else
  logdir="$build/gpu-check-logs"
  # Only our own folder is cleared: a log left from an earlier run would pass for one of this run.
  rm -f "$logdir"/*.log "$logdir"/*.json "$logdir"/summary.txt 2>/dev/null
fi
mkdir -p "$logdir" || { echo "gpu_check: cannot create $logdir" >&2; exit 2; }
runlog="$logdir/gpu_check.log"
: >"$runlog"
say() { printf '%s\n' "$*" | tee -a "$runlog"; }
note() { notes+=("$*"); }

write_summary() {
  {
    echo "== gpu_check summary, mode $mode ($(date -u +%Y-%m-%dT%H:%M:%SZ)); each step's output: $logdir/<step>.log"
    printf '%-28s %-8s %8s  %s\n' "step" "result" "seconds" "note"
    local row step result seconds text
    for row in ${rows[@]+"${rows[@]}"}; do
      IFS='|' read -r step result seconds text <<<"$row"
      printf '%-28s %-8s %8s  %s\n' "$step" "$result" "$seconds" "$text"
    done
    [[ -n "$running" ]] && printf '%-28s %-8s %8s  %s\n' "$running" RUNNING - "no result yet: the run was cut short here"
    for text in ${notes[@]+"${notes[@]}"}; do echo "note: $text"; done
  } >"$logdir/summary.txt"
}
running=""  # the step under way, in the table until it has a row of its own
# Rewritten after every step, so that a run cut short still leaves the table of what it did.
record() {
  local text="$4"
  [[ $2 == TIMEOUT ]] && text="stopped at its ${limit:-?} s limit; $text"  # $limit: the step running now
  rows+=("$1|$2|$3|$text")
  running=""
  [[ "$2" == PASS || "$2" == SKIP ]] || failed=1
  if [[ $3 == - ]]; then say "-- $1: $2: $text"; else say "-- $1: $2 ($3 s): $text"; fi
  write_summary
}
[[ -n "$build_row" ]] && { IFS="|" read -r b_step b_result b_seconds b_note <<<"$build_row"; record "$b_step" "$b_result" "$b_seconds" "$b_note"; }

# Runs "$@" under its own timeout, the whole output into $logdir/$1.log; the console gets it without gtest's
# per-test RUN/OK lines, which would push the table out of a caller's last few kilobytes. Returns its status.
run_logged() {
  local log="$logdir/$1.log" limit="$2"
  shift 2
  printf '$ %s\n' "$*" >"$log"
  timeout -k "$grace" "$limit" "$@" </dev/null 2>&1 | tee -a "$log" | grep -v -E '^\[       OK \]|^\[ RUN      \]'
  return "${PIPESTATUS[0]}"
}
result_of() {  # status -> PASS / TIMEOUT / FAIL (137: killed after the grace, or by the kernel for memory)
  case "$1" in 0) echo PASS ;; 124 | 137) echo TIMEOUT ;; *) echo FAIL ;; esac
}

say "== gpu_check ($mode) on $(uname -n) at $(date -u +%Y-%m-%dT%H:%M:%SZ); build $build; logs $logdir"
say "== machine"
timeout -k 1 "$setup_limit" nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 |
  tee -a "$runlog" || say "(nvidia-smi not found or failed)"
[[ -d "$SIGMANET_DATA" ]] || say "gpu_check: warning: no MNIST at $SIGMANET_DATA (tests that need it skip)"

suites=()
for suite in "$build"/tests/gpu_*; do
  [[ -x "$suite" && -f "$suite" ]] && suites+=("$suite")
done

# ---- cuBLAS ----
# The toolkit's copy first (it matches the nvcc the build used when the toolkits agree); else the pip wheel's.
# Wheels for CUDA 12 keep the libraries in nvidia/cublas/lib, those for CUDA 13 in nvidia/cu13/lib; `nvidia`
# and its subpackages are namespace packages, whose __file__ is None, so the folders come from __path__.
wheel_lib_dirs() {
  command -v python3 >/dev/null || return 0
  timeout -k 1 "$setup_limit" python3 - <<'EOF' 2>/dev/null
import importlib, os
for name in ("nvidia.cublas", "nvidia.cu13"):
    try:
        module = importlib.import_module(name)
    except Exception:
        continue
    folders = list(getattr(module, "__path__", None) or [])
    if not folders and getattr(module, "__file__", None):
        folders = [os.path.dirname(module.__file__)]
    for folder in folders:
        print(os.path.join(folder, "lib"))
EOF
}
cublas_dir=""
looked=("$cuda/lib64")
mapfile -t wheel_dirs < <(wheel_lib_dirs)
looked+=(${wheel_dirs[@]+"${wheel_dirs[@]}"})
for dir in "${looked[@]}"; do
  if [[ -e "$dir/libcublas.so.13" && -e "$dir/libcublasLt.so.13" ]]; then cublas_dir="$dir"; break; fi
done
# What sigmanet will open: it loads libcublas.so.13 when the GPU is first used (host/cuda_on_demand), from
# LD_LIBRARY_PATH, else the loader's cache, else the toolkit folder of the machine that built it.
loader_says() {
  local d dirs found=""
  IFS=: read -ra dirs <<< "${LD_LIBRARY_PATH:-}"
  for d in ${dirs[@]+"${dirs[@]}"}; do
    if [[ -n "$d" && -e "$d/libcublas.so.13" ]]; then found="$d/libcublas.so.13 (LD_LIBRARY_PATH)"; break; fi
  done
  [[ -n "$found" ]] || found="$(ldconfig -p 2>/dev/null | awk '/libcublas\.so\.13 /{print $NF " (loader cache)"; exit}')"
  echo "${found:-libcublas.so.13 is neither on LD_LIBRARY_PATH nor in the loader cache}"
}
if [[ -n "$cublas_dir" ]]; then
  export LD_LIBRARY_PATH="$cublas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  say "== cuBLAS: using $cublas_dir (put on LD_LIBRARY_PATH)"
  say "   the loader resolves: $(loader_says)"
  record "cuBLAS libraries" PASS - "$cublas_dir"
else
  # sigmanet may still find a copy through the loader's cache or the build's toolkit folder.
  loaded="$(loader_says)"
  say "== cuBLAS: libcublas.so.13 and libcublasLt.so.13 are in none of ${looked[*]}; the loader resolves: $loaded"
  record "cuBLAS libraries" FAIL - "in none of ${looked[*]}; the loader resolves: $loaded"
fi

# ---- compute-sanitizer ----
sanitizer=""
if [[ $mode == check ]]; then
  for candidate in "$(command -v compute-sanitizer 2>/dev/null)" "$cuda/bin/compute-sanitizer" \
                   "$cuda/compute-sanitizer/compute-sanitizer"; do
    [[ -n "$candidate" && -x "$candidate" ]] && { sanitizer="$candidate"; break; }
  done
  if [[ -n "$sanitizer" ]]; then
    say "== compute-sanitizer: $sanitizer ($(timeout -k 1 "$setup_limit" "$sanitizer" --version 2>&1 | grep -i -m1 version))"
  else
    say "== compute-sanitizer: not on PATH, in $cuda/bin or in $cuda/compute-sanitizer: the sanitizer runs are skipped"
  fi
fi
have_bench=0
timeout -k 1 "$setup_limit" "$cli" bench --help >/dev/null 2>&1 && have_bench=1

# ---- the plan: every step with its time limit, so the budget is known before anything runs ----
plan=()  # "kind|name|limit|suite"
suite_limit() {  # kind suite -> seconds; the heavy suite is gpu_backend (hundreds of training steps)
  local kind="$1" name="$2"
  case "$kind:$name" in
    plain:gpu_backend) echo 30 ;;        plain:gpu_kernels) echo 20 ;;        plain:*) echo 15 ;;
    memcheck:gpu_backend) echo 60 ;;     memcheck:gpu_kernels) echo 35 ;;     memcheck:*) echo 25 ;;
    # racecheck follows every shared-memory access: the persistent kernel lives there.
    racecheck:gpu_kernels) echo 35 ;;    racecheck:gpu_persistent) echo 40 ;;    racecheck:*) echo 25 ;;
  esac
}
add_suites() {  # kind
  local suite name step
  for suite in ${suites[@]+"${suites[@]}"}; do
    name="$(basename "$suite")"
    # gpu_oom_test's one kernel-free test fails an allocation on purpose: nothing for a sanitizer to watch.
    [[ $1 != plain && $name == gpu_oom_test ]] && continue
    # Racecheck watches shared memory. The kernels that use it (the persistent kernel, bias_update's tree, the
    # fused forward's) run in gpu_kernels, gpu_persistent and gpu_objectives; gpu_backend and gpu_checkpoint
    # run the same kernels again, and the budget has no room for them twice.
    [[ $1 == racecheck && ($name == gpu_backend || $name == gpu_checkpoint) ]] && continue
    step="$name"; [[ $1 == plain ]] || step="$name.$1"
    plan+=("$1|$step|$(suite_limit "$1" "$name")|$suite")
  done
}
if [[ $mode == check ]]; then
  # The sanitizer runs last: they are the likeliest to run out of time, and the rest is worth more per second.
  add_suites plain
  plan+=("verify|verify|30|" "train|train-gpu-30-epochs|30|")
  [[ $have_bench == 1 ]] && plan+=("paths|gpu-paths|30|")
  if [[ -n "$sanitizer" ]]; then add_suites memcheck; add_suites racecheck; fi
else
  [[ $have_bench == 1 ]] && plan+=("grid|bench-grid|200|")
  plan+=("pytorch|pytorch-grid|200|" "compare|compare|30|")
fi

budget=$((setup_calls * (setup_limit + 1)))
say "== budget: each step's limit + ${grace} s grace to kill it; ${budget} s for the quick looks above"
for entry in "${plan[@]}"; do
  IFS='|' read -r kind step limit suite <<<"$entry"
  budget=$((budget + limit + grace))
  say "$(printf '   %-28s %4d s' "$step" "$limit")"
done
say "   total ${budget} s (must stay under ${budget_limit} s)"
if ((budget >= budget_limit)); then
  say "gpu_check: the budget is over ${budget_limit} s: more gpu suites than this script was sized for?"
  record "time budget" FAIL - "${budget} s of limits, over ${budget_limit} s"
fi

[[ ${#suites[@]} -gt 0 || $mode == grid ]] || record "gpu tests" FAIL - "no $build/tests/gpu_* executables"
[[ $mode == check && -z "$sanitizer" ]] &&
  record "compute-sanitizer" SKIP - "not found: no memcheck or racecheck runs"
[[ $have_bench == 1 ]] || record "bench" SKIP - "this build has no 'sigmanet bench'"
if [[ -n "$sanitizer" ]]; then
  note "under compute-sanitizer: $sanitizer_filter (the whole-epoch tests are too slow there);" \
       "--report-api-errors no (gpu_oom_test fails a cudaMalloc on purpose); racecheck leaves out cuBLAS's" \
       "kernels (--kernel-name-exclude kns=gemm: our kernels are the ones under test)"
fi

# ---- the steps ----
json_note() { [[ -s "$logdir/$1" ]] && echo "; wrote $1"; }
gtest_counts() {  # log -> "P passed, S skipped, F failed" (one line per test ends in "(N ms)")
  local p s f
  p=$(grep -c -E '^\[       OK \] .*\([0-9]+ ms\)$' "$1")
  s=$(grep -c -E '^\[  SKIPPED \] .*\([0-9]+ ms\)$' "$1")
  f=$(grep -c -E '^\[  FAILED  \] .*\([0-9]+ ms\)$' "$1")
  echo "$p passed, $s skipped, $f failed"
}
for entry in "${plan[@]}"; do
  IFS='|' read -r kind step limit suite <<<"$entry"
  say "== $step (limit $limit s)"
  running="$step"
  write_summary
  t=$(now)
  case "$kind" in
    plain | memcheck | racecheck)
      if [[ $kind == plain ]]; then
        run_logged "$step" "$limit" "$suite"
      else
        # --error-exitcode: a finding fails the step even when every test passed. API errors are off: the
        # tests provoke some on purpose, and the code's own checks turn real ones into test failures.
        tool=(--tool "$kind" --error-exitcode 1 --report-api-errors no)
        # Racecheck on cuBLAS's GEMMs would cost most of the step and check NVIDIA's kernels, not ours.
        [[ $kind == racecheck ]] && tool+=(--kernel-name-exclude kns=gemm)
        run_logged "$step" "$limit" "$sanitizer" "${tool[@]}" "$suite" "$sanitizer_filter"
      fi
      status=$?
      counts="$(gtest_counts "$logdir/$step.log")"
      result="$(result_of "$status")"
      # Some tests skip by design on a GPU machine (those for machines without one); all skipping is a SKIP.
      [[ $result == PASS && $counts == "0 passed"* ]] && result=SKIP
      summary="$(grep -E '^=+ (ERROR SUMMARY|RACECHECK SUMMARY)' "$logdir/$step.log" | tail -1 | sed -E 's/^=+ //')"
      record "$step" "$result" "$(elapsed "$t")" "$counts${summary:+; $summary}"
      ;;
    verify)
      run_logged "$step" "$limit" "$cli" verify
      status=$?
      summary="$(grep -E '^verify:' "$logdir/$step.log" | tail -1)"
      result="$(result_of "$status")"
      if grep -q "GPU part did not run" "$logdir/$step.log"; then result=FAIL; summary="the GPU part did not run"; fi
      record "$step" "$result" "$(elapsed "$t")" "${summary:-exit $status}"
      ;;
    train)  # Nielsen's run: 784-30-10, batch 10, eta 3, 30 epochs
      run_logged "$step" "$limit" "$cli" train --device gpu --epochs 30
      status=$?
      best="$(grep -E '^Best test accuracy' "$logdir/$step.log" | tail -1)"
      record "$step" "$(result_of "$status")" "$(elapsed "$t")" "${best:-exit $status}"
      ;;
    paths)  # each line: "<network> batch <m> gpu-float-persistent (persistent) X us, graph Y us: Zx ..."
      run_logged "$step" "$limit" "$cli" bench --quick --backends gpu-float-persistent,gpu-float-graph \
        --batches 1,10,32 --json "$logdir/gpu-paths.json"
      status=$?
      ratios="$(grep -E '^  784-30-10 +batch' "$logdir/$step.log" | sed -E 's/^ +784-30-10 +batch ([0-9]+) .* ([0-9.]+)x .*/b\1 \2x/' |
        paste -sd' ' -)"
      record "$step" "$(result_of "$status")" "$(elapsed "$t")" \
        "persistent over graph, 784-30-10: ${ratios:-no ratios printed}$(json_note gpu-paths.json)"
      ;;
    grid)
      run_logged "$step" "$limit" "$cli" bench --backends gpu-float --json "$logdir/sigmanet-gpu.json"
      status=$?
      record "$step" "$(result_of "$status")" "$(elapsed "$t")" "exit $status$(json_note sigmanet-gpu.json)"
      ;;
    pytorch)
      run_logged "$step" "$limit" python3 bench/pytorch_mlp.py --device cuda --data "$SIGMANET_DATA" \
        --json "$logdir/pytorch-gpu.json"
      status=$?
      record "$step" "$(result_of "$status")" "$(elapsed "$t")" "exit $status$(json_note pytorch-gpu.json)"
      ;;
    compare)
      if [[ -f "$logdir/sigmanet-gpu.json" && -f "$logdir/pytorch-gpu.json" ]]; then
        run_logged "$step" "$limit" python3 bench/compare.py --ours "$logdir/sigmanet-gpu.json" \
          --pytorch "$logdir/pytorch-gpu.json" --markdown
        status=$?
        record "$step" "$(result_of "$status")" "$(elapsed "$t")" "exit $status"
      else
        record "$step" SKIP - "needs both JSON files"
      fi
      ;;
  esac
done

# ---- the table ----
write_summary
echo
cat "$logdir/summary.txt"
exit $failed
