#!/usr/bin/env bash
# The one command for a machine with an NVIDIA GPU. Such a machine may hold only the driver and the CUDA toolkit
# (no Debian libraries, no MPI, no GoogleTest, nothing to install) and be there for a few minutes, so the
# executables are built elsewhere, carried over, and checked against a time budget.
#
#   bash bench/gpu_check.sh --prepare         here: build gpu-carry/ (bench/gpu_carry.sh), print what to carry
#   bash bench/gpu_check.sh [BUILD_DIR]       there: the first-contact profile, under 240 s
#   bash bench/gpu_check.sh --full [BUILD_DIR]   the profile, then compute-sanitizer on every suite, under 570 s
#   bash bench/gpu_check.sh --grid [BUILD_DIR]   `sigmanet bench` on the GPU grid and PyTorch on the same grid
#                                                (the figures for bench/RESULTS.md), under 540 s
#   --plan with any of these: print the steps and the budget, run nothing (exit 1 when over the budget)
# BUILD_DIR: gpu-carry/ by default; any build folder holding sigmanet and tests/gpu_* will do. The test programs
# run directly, not through CTest (CTest's files hold the building machine's paths); they find the CLI at
# ../sigmanet. MNIST: $SIGMANET_DATA, else BUILD_DIR/mnist, else ../shared/data/mnist beside the repository.
#
# The first-contact profile, in this order: the driver and the GPU (nvidia-smi), whether sigmanet starts here,
# where cuBLAS is, compute-sanitizer's version; every gpu suite; `sigmanet verify`; Nielsen's 30-epoch run on the
# GPU; the persistent kernel against the graph path (`sigmanet bench` at batches 1, 10 and 32) in clusters of 1,
# 2, 4 and 8 blocks; the persistent kernel's suite under compute-sanitizer racecheck. --full adds memcheck and
# racecheck of every suite that runs our kernels, without the whole-epoch tests (10-100x slower there).
#
# Each step runs under its own `timeout`; the budget (every limit, plus the second each gets to die) is printed
# before anything runs, and a plan over its profile's budget fails. Results:
# - A gpu test skipped for "no usable GPU" while nvidia-smi sees a GPU fails its suite (an old driver, a runtime
#   the driver does not take), and so does a suite that skips every test.
# - Without a GPU (no nvidia-smi, or it lists none) the machine's row fails and every GPU step is SKIP with the
#   reason the program gave; nothing else fails for it.
# - compute-sanitizer refusing the device ("Device not supported", as under some virtualised runtimes) is a SKIP
#   row saying so, and the sanitizer steps after it are skipped.
# - Exit status 0 only when every row is PASS or SKIP.
# Each step's output goes to BUILD_DIR/gpu-check-logs/<step>.log as it runs; the console shows it without gtest's
# per-test lines, and the table comes last. With OUT set, OUT gets three files after every step, so that a run cut
# short still leaves what it did, and all of it fits in three files to copy off the machine: summary.txt (the
# table), gpu_check.log (the console) and logs.tar.gz (every step's log and JSON). Nothing is written outside OUT
# and BUILD_DIR.
#
# cuBLAS (libcublas.so.13 and libcublasLt.so.13, 52 and 517 MB: too big to carry) is opened by sigmanet when the
# GPU is first used; the script looks in GPU_CHECK_CUDA (default /usr/local/cuda)/lib64, then in the Python
# nvidia-cublas wheel, and puts the folder it finds on LD_LIBRARY_PATH. The CUDA driver (libcuda) comes from the
# machine's loader path.
set -u -o pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo" || exit 2
cuda="${GPU_CHECK_CUDA:-/usr/local/cuda}"

mode=check
plan_only=0
build_arg=""
for arg in "$@"; do
  case "$arg" in
    --prepare) exec bash "$repo/bench/gpu_carry.sh" ;;
    --full) mode=full ;;
    --grid) mode=grid ;;
    --plan) plan_only=1 ;;
    -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "gpu_check: unknown option $arg (see --help)" >&2; exit 2 ;;
    *) build_arg="$arg" ;;
  esac
done

build="$(cd "${build_arg:-$repo/gpu-carry}" 2>/dev/null && pwd)"
if [[ -z "$build" || ! -f "$build/sigmanet" ]]; then
  echo "gpu_check: no sigmanet in ${build_arg:-gpu-carry/}: build it with 'bash bench/gpu_check.sh --prepare'" \
       "on a machine with the build dependencies, or name a build folder" >&2
  exit 2
fi
cli="$build/sigmanet"
if [[ -z "${SIGMANET_DATA:-}" ]]; then
  SIGMANET_DATA="$repo/../shared/data/mnist"
  [[ -d "$build/mnist" ]] && SIGMANET_DATA="$build/mnist"
fi
export SIGMANET_DATA

case $mode in check) budget_limit=240 ;; full) budget_limit=570 ;; grid) budget_limit=540 ;; esac
grace=1  # `timeout -k`: a step that ignores SIGTERM (a hung GPU call) is killed this much later
# Under the sanitizers, tests run 10-100x slower: the whole-epoch tests would need minutes each, and the
# shorter tests already run every kernel and every code path.
sanitizer_filter='--gtest_filter=-*NielsenEpoch*:*DeeperOddNet*:*AnEpochMatches*:*AnEpochOfAReducedSet*'
cluster_sizes=(1 2 4 8)

# Each step's time limit in seconds. The gpu suites are seconds on a GPU, but for the whole-epoch tests against
# the CPU oracle (gpu_backend's); the sanitizers make them 10-100x slower.
step_limit() {  # kind [suite]
  case "$1:${2:-}" in
    look:nvidia-smi) echo 10 ;;  look:python3) echo 5 ;;  look:*) echo 4 ;;
    plain:gpu_backend) echo 30 ;;  plain:gpu_kernels | plain:gpu_persistent) echo 15 ;;
    plain:gpu_checkpoint | plain:gpu_objectives) echo 10 ;;  plain:*) echo 6 ;;
    memcheck:gpu_backend) echo 60 ;;  memcheck:gpu_persistent) echo 40 ;;  memcheck:gpu_kernels) echo 35 ;;
    memcheck:*) echo 25 ;;
    racecheck:gpu_backend) echo 40 ;;  racecheck:gpu_kernels) echo 35 ;;  racecheck:*) echo 25 ;;
    verify:) echo 30 ;;  train:) echo 15 ;;  paths:) echo 10 ;;
    grid:) echo 200 ;;  pytorch:) echo 200 ;;  compare:) echo 30 ;;
  esac
}
looks=(nvidia-smi sigmanet python3 compute-sanitizer)  # the quick looks before the steps, one limit each

rows=()      # "step|result|seconds|note" for the table
notes=()     # lines printed under the table
failed=0
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- where the output goes ----
logdir="$build/gpu-check-logs"
out="${OUT:-}"
runlog="$logdir/gpu_check.log"
if ((plan_only)); then
  runlog=/dev/null out=""
else
  # Only our own folder is cleared: a log left from an earlier run would pass for one of this run.
  rm -rf "$logdir"
  mkdir -p "$logdir" || { echo "gpu_check: cannot create $logdir" >&2; exit 2; }
  [[ -z "$out" ]] || mkdir -p "$out" || { echo "gpu_check: cannot create OUT=$out" >&2; exit 2; }
  : >"$runlog"
fi
say() { printf '%s\n' "$*" | tee -a "$runlog"; }
note() { notes+=("$*"); }

running=""  # the step under way, in the table until it has a row of its own
write_summary() {
  ((plan_only)) && return 0
  {
    echo "== gpu_check summary, $mode ($(date -u +%Y-%m-%dT%H:%M:%SZ)); each step's log: gpu-check-logs/<step>.log"
    printf '%-28s %-8s %8s  %s\n' "step" "result" "seconds" "note"
    local row step result seconds text
    for row in ${rows[@]+"${rows[@]}"}; do
      IFS='|' read -r step result seconds text <<<"$row"
      printf '%-28s %-8s %8s  %s\n' "$step" "$result" "$seconds" "$text"
    done
    [[ -n "$running" ]] && printf '%-28s %-8s %8s  %s\n' "$running" RUNNING - "no result yet: the run was cut short here"
    for text in ${notes[@]+"${notes[@]}"}; do echo "note: $text"; done
  } >"$logdir/summary.txt"
  [[ -n "$out" ]] || return 0
  cp "$logdir/summary.txt" "$runlog" "$out/" 2>/dev/null
  tar -czf "$out/.logs.tar.gz" -C "$logdir" . 2>/dev/null && mv -f "$out/.logs.tar.gz" "$out/logs.tar.gz"
}
# Rewritten after every step, so that a run cut short still leaves the table of what it did.
record() {  # step result seconds note
  local text="$4"
  [[ $2 == TIMEOUT ]] && text="stopped at its ${limit:-?} s limit; $text"  # $limit: the step running now
  rows+=("$1|$2|$3|$text")
  running=""
  [[ "$2" == PASS || "$2" == SKIP ]] || failed=1
  if [[ $3 == - ]]; then say "-- $1: $2: $text"; else say "-- $1: $2 ($3 s): $text"; fi
  write_summary
}

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
# A status the program did not choose: it could not be started (126, 127: a missing library or file) or died.
how_it_ended() {  # status log -> "" or a few words
  case "$1" in
    126 | 127) echo "exit $1, did not start: $(grep -v '^\$ ' "$2" | head -1)" ;;
    1[3-9][0-9]) [[ $1 == 137 ]] || echo "exit $1 (signal $(($1 - 128)))" ;;
  esac
}

# ---- the plan: every step with its time limit, so that the budget is known before anything runs ----
suites=()
for suite in "$build"/tests/gpu_*; do
  [[ -x "$suite" && -f "$suite" ]] && suites+=("$suite")
done
sanitizer=""
if [[ $mode != grid ]]; then
  for candidate in "$(command -v compute-sanitizer 2>/dev/null)" "$cuda/bin/compute-sanitizer" \
                   "$cuda/compute-sanitizer/compute-sanitizer"; do
    [[ -n "$candidate" && -x "$candidate" ]] && { sanitizer="$candidate"; break; }
  done
fi
plan=()  # "kind|step|limit|what": what is the suite's path, or the cluster size
add_suites() {  # kind [suite names...]: every suite, or those named
  local suite name step
  for suite in ${suites[@]+"${suites[@]}"}; do
    name="$(basename "$suite")"
    if (($# > 1)); then [[ " ${*:2} " == *" $name "* ]] || continue; fi
    # gpu_oom_test's one kernel-free test fails an allocation on purpose: nothing for a sanitizer to watch.
    [[ $1 != plain && $name == gpu_oom_test ]] && continue
    step="$name"; [[ $1 == plain ]] || step="$name.$1"
    plan+=("$1|$step|$(step_limit "$1" "$name")|$suite")
  done
}
if [[ $mode == grid ]]; then
  plan+=("grid|bench-grid|$(step_limit grid)|" "pytorch|pytorch-grid|$(step_limit pytorch)|"
         "compare|compare|$(step_limit compare)|")
else
  add_suites plain
  plan+=("verify|verify|$(step_limit verify)|" "train|train-gpu-30-epochs|$(step_limit train)|")
  for n in "${cluster_sizes[@]}"; do plan+=("paths|gpu-paths-cluster$n|$(step_limit paths)|$n"); done
  # The persistent kernel keeps everything in shared memory, its blocks' too (distributed shared memory):
  # racecheck's ground. The rest of the sanitizer pass is --full's.
  add_suites racecheck gpu_persistent
  if [[ $mode == full ]]; then
    add_suites memcheck
    for suite in ${suites[@]+"${suites[@]}"}; do
      [[ $(basename "$suite") == gpu_persistent ]] || add_suites racecheck "$(basename "$suite")"
    done
  fi
fi

say "== gpu_check ($mode) on $(uname -n) at $(date -u +%Y-%m-%dT%H:%M:%SZ); build $build; MNIST $SIGMANET_DATA"
[[ -f "$build/BUILD.txt" ]] && say "   $(sed -n 2p "$build/BUILD.txt"); $(sed -n 4p "$build/BUILD.txt")"
budget=0
say "== budget: each step's limit + ${grace} s to kill it"
for look in "${looks[@]}"; do
  budget=$((budget + $(step_limit look "$look") + grace))
done
say "$(printf '   %-28s %4d s' "quick looks (${#looks[@]})" "$budget")"
for entry in "${plan[@]}"; do
  IFS='|' read -r kind step limit what <<<"$entry"
  budget=$((budget + limit + grace))
  say "$(printf '   %-28s %4d s' "$step" "$limit")"
done
say "   total ${budget} s (must stay under ${budget_limit} s)"
if ((budget >= budget_limit)); then
  say "gpu_check: the budget is over ${budget_limit} s: more gpu suites than this script was sized for?"
  record "time budget" FAIL - "${budget} s of limits, over ${budget_limit} s"
fi
((plan_only)) && exit $failed

# ---- the machine ----
say "== machine"
gpu_seen=""    # the GPU nvidia-smi lists, empty when it lists none
no_gpu=""      # why there is none, for the rows of the GPU steps
t=$(now)
limit=$(step_limit look nvidia-smi)
if ! command -v nvidia-smi >/dev/null 2>&1; then
  no_gpu="no driver: nvidia-smi is not on PATH"
  record machine FAIL - "$no_gpu"
else
  smi="$(timeout -k "$grace" "$limit" nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap \
           --format=csv,noheader 2>&1)"
  status=$?
  printf '%s\n' "$smi" | tee -a "$runlog"
  if [[ $status == 0 && -n "$smi" ]]; then
    gpu_seen="$(head -1 <<<"$smi")"
    record machine PASS "$(elapsed "$t")" "$gpu_seen"
  else
    no_gpu="no GPU: nvidia-smi (exit $status): $(head -1 <<<"$smi")"
    record machine "$(result_of "$status" | sed 's/PASS/FAIL/')" "$(elapsed "$t")" "$no_gpu"
  fi
fi
libc="$(getconf GNU_LIBC_VERSION 2>/dev/null || echo "an unknown C library")"
t=$(now)
version="$(timeout -k "$grace" "$(step_limit look sigmanet)" "$cli" --version 2>&1)"
status=$?
if [[ $status == 0 ]]; then
  record "sigmanet starts" PASS "$(elapsed "$t")" "$(head -1 <<<"$version"); $libc here"
else
  # A missing library or too old a C library ("version `GLIBC_2.36' not found"): every step below fails alike.
  record "sigmanet starts" FAIL "$(elapsed "$t")" "exit $status with $libc here: $(head -1 <<<"$version")"
fi

# ---- cuBLAS ----
# The toolkit's copy first (it matches the nvcc the build used when the toolkits agree); else the pip wheel's.
# Wheels for CUDA 12 keep the libraries in nvidia/cublas/lib, those for CUDA 13 in nvidia/cu13/lib; `nvidia`
# and its subpackages are namespace packages, whose __file__ is None, so the folders come from __path__.
wheel_lib_dirs() {
  command -v python3 >/dev/null || return 0
  timeout -k "$grace" "$(step_limit look python3)" python3 - <<'EOF' 2>/dev/null
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
  say "== cuBLAS: using $cublas_dir (put on LD_LIBRARY_PATH); the loader resolves: $(loader_says)"
  record "cuBLAS libraries" PASS - "$cublas_dir"
else
  # sigmanet may still find a copy through the loader's cache or the build's toolkit folder.
  missing="in none of ${looked[*]}; the loader resolves: $(loader_says)"
  if [[ -n "$no_gpu" ]]; then record "cuBLAS libraries" SKIP - "${no_gpu%%:*}, and no cuBLAS: $missing"
  else record "cuBLAS libraries" FAIL - "$missing"; fi
fi

# ---- compute-sanitizer ----
sanitizer_off=""  # why the sanitizer steps do not run, once that is known
if [[ $mode != grid ]]; then
  if [[ -n "$sanitizer" ]]; then
    say "== compute-sanitizer: $sanitizer ($(timeout -k "$grace" "$(step_limit look compute-sanitizer)" \
          "$sanitizer" --version 2>&1 | grep -i -m1 version))"
    note "under compute-sanitizer: $sanitizer_filter (the whole-epoch tests are too slow there);" \
         "--report-api-errors no (gpu_oom_test fails a cudaMalloc on purpose); racecheck leaves out cuBLAS's" \
         "kernels (--kernel-name-exclude kns=gemm: our kernels are the ones under test)"
  else
    sanitizer_off="compute-sanitizer not found (PATH, $cuda/bin, $cuda/compute-sanitizer)"
    record compute-sanitizer SKIP - "$sanitizer_off: no memcheck or racecheck runs"
  fi
  [[ ${#suites[@]} -gt 0 ]] || record "gpu tests" FAIL - "no $build/tests/gpu_* executables"
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
# The first "no usable GPU: <reason>" a program printed (the suites' skips, sigmanet's refusals), and verify's
# "GPU part did not run: <reason>".
gpu_refusal() { grep -o -m1 -E '(no usable GPU|GPU part did not run): .*' "$1"; }
# Sorts out a GPU step that did not get a GPU: SKIP with the reason where there is none (nvidia-smi lists none),
# FAIL where nvidia-smi sees one. Prints "RESULT|note", or nothing where the program got its GPU.
without_gpu() {  # log
  local why
  why="$(gpu_refusal "$1")" || return 0
  if [[ -n "$no_gpu" ]]; then echo "SKIP|${no_gpu%%:*}: $why"
  else echo "FAIL|$why, while nvidia-smi sees $gpu_seen"; fi
}

for entry in "${plan[@]}"; do
  IFS='|' read -r kind step limit what <<<"$entry"
  if [[ $kind == memcheck || $kind == racecheck ]]; then
    if [[ -n "$no_gpu" ]]; then record "$step" SKIP - "$no_gpu"; continue; fi
    if [[ -n "$sanitizer_off" ]]; then record "$step" SKIP - "$sanitizer_off"; continue; fi
  fi
  say "== $step (limit $limit s)"
  running="$step"
  write_summary
  t=$(now)
  log="$logdir/$step.log"
  case "$kind" in
    plain | memcheck | racecheck)
      if [[ $kind == plain ]]; then
        run_logged "$step" "$limit" "$what"
      else
        # --error-exitcode: a finding fails the step even when every test passed. API errors are off: the
        # tests provoke some on purpose, and the code's own checks turn real ones into test failures.
        tool=(--tool "$kind" --error-exitcode 1 --report-api-errors no)
        # Racecheck on cuBLAS's GEMMs would cost most of the step and check NVIDIA's kernels, not ours.
        [[ $kind == racecheck ]] && tool+=(--kernel-name-exclude kns=gemm)
        run_logged "$step" "$limit" "$sanitizer" "${tool[@]}" "$what" "$sanitizer_filter"
      fi
      status=$?
      counts="$(gtest_counts "$log")"
      result="$(result_of "$status")"
      text="$counts$(sed -E -n 's/^=+ ((ERROR|RACECHECK) SUMMARY.*)/; \1/p' "$log" | tail -1)"
      ended="$(how_it_ended "$status" "$log")"
      refused="$(grep -i -m1 -E 'device not supported|not supported on this device' "$log" | sed -E 's/^=+ *//')"
      verdict="$(without_gpu "$log")"
      if [[ $kind != plain && -n "$refused" ]]; then
        sanitizer_off="compute-sanitizer refused the device in $step"
        result=SKIP text="compute-sanitizer refuses this device: $refused"
      elif [[ -n "$ended" ]]; then
        result=FAIL text="$ended; $counts"
      elif [[ -n "$verdict" && $result != TIMEOUT ]]; then
        # A failed test outweighs the skips.
        [[ $counts == *" 0 failed" ]] && result="${verdict%%|*}"
        text="$counts; ${verdict#*|}"
      elif [[ $result == PASS && $counts == "0 passed"* ]]; then
        result=FAIL text="$counts: every test skipped ($(grep -m1 -A1 ': Skipped$' "$log" | tail -1))"
      fi
      record "$step" "$result" "$(elapsed "$t")" "$text"
      ;;
    verify)
      run_logged "$step" "$limit" "$cli" verify
      status=$?
      summary="$(grep -E '^verify:' "$log" | tail -1)"
      result="$(result_of "$status")"
      verdict="$(without_gpu "$log")"
      ended="$(how_it_ended "$status" "$log")"
      if [[ -n "$ended" ]]; then result=FAIL summary="$ended"
      elif [[ -n "$verdict" && $result == PASS ]]; then result="${verdict%%|*}" summary="${verdict#*|}; ${summary}"
      fi
      record "$step" "$result" "$(elapsed "$t")" "${summary:-exit $status}"
      ;;
    train)  # Nielsen's run: 784-30-10, batch 10, eta 3, 30 epochs
      run_logged "$step" "$limit" "$cli" train --device gpu --epochs 30
      status=$?
      text="$(grep -E '^Best test accuracy' "$log" | tail -1)"
      result="$(result_of "$status")"
      verdict="$(without_gpu "$log")"
      ended="$(how_it_ended "$status" "$log")"
      if [[ -n "$ended" ]]; then result=FAIL text="$ended"
      elif [[ -n "$verdict" ]]; then result="${verdict%%|*}" text="${verdict#*|}"
      fi
      record "$step" "$result" "$(elapsed "$t")" "${text:-exit $status: $(tail -1 "$log")}"
      ;;
    paths)  # each line: "  784-30-10  batch 10  gpu-float-persistent-clusterN (persistent) X us, graph Y us: Zx ..."
      run_logged "$step" "$limit" "$cli" bench --quick --backends gpu-float-persistent,gpu-float-graph \
        --batches 1,10,32 --gpu-cluster "$what" --json "$logdir/$step.json"
      status=$?
      pairs="$(sed -E -n 's/^ +784-30-10 +batch ([0-9]+) .* ([0-9.]+) us, graph ([0-9.]+) us: ([0-9.]+)x.*/b\1 \2 vs \3 us \4x/p' \
               "$log" | paste -sd',' -)"
      skipped="$(grep -c ' skipped: ' "$log")"
      text="persistent vs graph, 784-30-10: ${pairs:-no pairs printed}"
      ((skipped > 0)) && text+="; $skipped case(s) skipped: $(grep -m1 -o 'skipped: .*' "$log")"
      result="$(result_of "$status")"
      verdict="$(without_gpu "$log")"
      ended="$(how_it_ended "$status" "$log")"
      if [[ -n "$ended" ]]; then result=FAIL text="$ended"
      elif [[ -n "$verdict" ]]; then result="${verdict%%|*}" text="${verdict#*|}"
      elif [[ $status != 0 ]]; then text="exit $status: $(tail -1 "$log")"
      fi
      record "$step" "$result" "$(elapsed "$t")" "$text$(json_note "$step.json")"
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
