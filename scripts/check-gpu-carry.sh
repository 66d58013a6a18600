#!/usr/bin/env bash
# Checks, without a GPU, that gpu-carry/ (bash bench/gpu_check.sh --prepare) runs on a bare GPU machine, one that
# holds the driver and the CUDA toolkit and none of the project's build dependencies:
#   1. every ELF file in it needs no shared library outside glibc's (readelf -d, the NEEDED entries, against the
#      allow-list below: ldd would follow this machine's libraries) and names no RPATH or RUNPATH;
#   2. each starts with LD_LIBRARY_PATH empty: `sigmanet --help`, each test program's --gtest_list_tests;
#   3. the budgets of gpu_check.sh's profiles (--plan) stay under their limits;
#   4. the rehearsal: inside a minimal Debian 12 root (debootstrap --variant=minbase: no compiler, binutils, MPI,
#      CUDA or Python), with the files that travel (the tracked and untracked-but-not-ignored ones, and
#      gpu-carry/), `bash bench/gpu_check.sh` must reach "no GPU" cleanly: exit 1, the machine's row the only FAIL
#      and it saying "no driver", every GPU step SKIP with that reason, no program failing to start (exit 126 or
#      127), and summary.txt, gpu_check.log and logs.tar.gz in OUT; and again with --full, an nvidia-smi that lists
#      a GPU and a compute-sanitizer that refuses the device: every GPU step must fail naming the GPU, the
#      sanitizer's rows be SKIP saying that it refused.
#
#   scripts/check-gpu-carry.sh [--no-rehearsal]
#
# The rehearsal needs root (chroot, and a private mount namespace for /proc) and, the first time, Debian's archive:
# the root is built once (debootstrap, 1-2 minutes) and kept in SIGMANET_REHEARSAL_ROOT (default
# ~/.cache/sigmanet/debian-12-minbase), which later runs reuse. SIGMANET_DEBIAN_MIRROR names the archive (default
# http://deb.debian.org/debian).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
carry="$repo/gpu-carry"
rehearse=1
[[ "${1:-}" == --no-rehearsal ]] && rehearse=0

# What the carry's executables may ask the loader for: glibc's libraries and the loader itself. libstdc++, libgcc
# and zlib are linked statically; libcuda and cuBLAS are opened at run time (dlopen), not linked.
allowed=(libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 ld-linux-x86-64.so.2)

fail() { echo "check-gpu-carry: $*" >&2; exit 1; }
[[ -x "$carry/sigmanet" ]] || fail "no $carry/sigmanet: run 'bash bench/gpu_check.sh --prepare' first"
started=$SECONDS

# ---- 1. what each ELF file needs ----
elves=()
while IFS= read -r -d '' file; do
  [[ "$(head -c 4 "$file" | od -An -c | tr -d ' ')" == '177ELF' ]] && elves+=("$file")
done < <(find "$carry" -type f -print0 | sort -z)
((${#elves[@]} >= 2)) || fail "only ${#elves[@]} ELF file(s) in $carry: expected the CLI and the test programs"
for elf in "${elves[@]}"; do
  dynamic="$(readelf -d "$elf")"
  for lib in $(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<<"$dynamic"); do
    [[ " ${allowed[*]} " == *" $lib "* ]] || fail "${elf#"$repo"/} needs $lib, which a bare GPU machine lacks" \
      "(allowed: ${allowed[*]})"
  done
  if grep -q -E '\((RPATH|RUNPATH)\)' <<<"$dynamic"; then
    fail "${elf#"$repo"/} names a library path: $(grep -E '\((RPATH|RUNPATH)\)' <<<"$dynamic")"
  fi
done
echo "check-gpu-carry: ${#elves[@]} executables need nothing beyond ${allowed[*]}"

# ---- 2. each starts with no library path ----
for elf in "${elves[@]}"; do
  if [[ "$(basename "$elf")" == sigmanet ]]; then args=(--help); else args=(--gtest_list_tests); fi
  output="$(LD_LIBRARY_PATH= timeout 30 "$elf" "${args[@]}" 2>&1)" ||
    fail "${elf#"$repo"/} ${args[*]} exits $? with LD_LIBRARY_PATH empty: $(head -3 <<<"$output")"
  [[ -n "$output" ]] || fail "${elf#"$repo"/} ${args[*]} printed nothing"
done
echo "check-gpu-carry: each starts with LD_LIBRARY_PATH empty (sigmanet --help, the tests' --gtest_list_tests)"

# ---- 3. the budgets ----
for profile in "" --full --grid; do
  plan="$(bash bench/gpu_check.sh $profile --plan 2>&1)" || fail "gpu_check.sh $profile --plan: $(tail -2 <<<"$plan")"
  echo "check-gpu-carry: gpu_check.sh ${profile:-(default)}: $(grep -E '^   total ' <<<"$plan" | sed 's/^ *//')"
done

((rehearse)) || { echo "check-gpu-carry: passed, without the rehearsal ($((SECONDS - started)) s)"; exit 0; }

# ---- 4. the rehearsal in a minimal Debian root ----
[[ $(id -u) == 0 ]] || fail "the rehearsal needs root (chroot); --no-rehearsal leaves it out"
root="${SIGMANET_REHEARSAL_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/sigmanet/debian-12-minbase}"
if [[ ! -f "$root/.sigmanet-rehearsal-root" ]]; then
  command -v debootstrap >/dev/null || fail "no debootstrap (scripts/install-deps.sh installs it)"
  echo "check-gpu-carry: building the minimal Debian 12 root in $root (once)"
  rm -rf "$root.new" "$root"
  mkdir -p "$(dirname "$root")"
  debootstrap --variant=minbase bookworm "$root.new" "${SIGMANET_DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
    >"$root.log" 2>&1 || fail "debootstrap failed; its log: $root.log"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$root.new/.sigmanet-rehearsal-root"
  mv "$root.new" "$root"
fi
# It must hold nothing the GPU machine may lack beyond glibc: no compiler, binutils, MPI, CUDA or Python.
for tool in cc gcc readelf nvcc mpirun python3 nvidia-smi; do
  ! chroot "$root" sh -c "command -v $tool" >/dev/null || fail "the rehearsal root holds $tool; delete $root"
done
rm -rf "$root/sigmanet" "$root/out" "$root/fake" "$root"/tmp/*
mkdir -p "$root/sigmanet"
# What travels to a GPU machine: the tracked and the untracked-but-not-ignored files, and the carry.
{ git ls-files -z -co --exclude-standard; find gpu-carry -type f -print0; } |
  tar --null -T - -cf - --ignore-failed-read 2>/dev/null | tar -xf - -C "$root/sigmanet"

# Runs `bash bench/gpu_check.sh ARGS` in the root, with PATH's folders first, and leaves its table in $summary and its
# rows but the first two lines and the notes in $rows. A private mount namespace: /proc is mounted for the programs
# (they find themselves through /proc/self/exe) and goes away with the namespace, whatever happens.
rehearse() {  # expected-exit-status path-first args...
  local expected="$1" path="$2" status=0 file
  shift 2
  rm -rf "$root/out" "$root/sigmanet/gpu-carry/gpu-check-logs"
  mkdir -p "$root/out"
  unshare --mount --propagation private -- sh -c 'mount -t proc proc "$1/proc" && exec chroot "$1" /usr/bin/env -i \
    PATH="$2/usr/sbin:/usr/bin:/sbin:/bin" HOME=/root OUT=/out bash -c "cd /sigmanet && bash bench/gpu_check.sh $3"' \
    sh "$root" "$path" "$*" >"$root/out.console" 2>&1 || status=$?
  summary="$root/out/summary.txt"
  [[ -f "$summary" ]] || { tail -20 "$root/out.console"; fail "gpu_check.sh $*: no summary.txt in OUT (exit $status)"; }
  cat "$summary"
  for file in summary.txt gpu_check.log logs.tar.gz; do
    [[ -s "$root/out/$file" ]] || fail "gpu_check.sh $*: no $file in OUT"
  done
  [[ $status == "$expected" ]] || fail "gpu_check.sh $* exits $status; expected $expected"
  rows="$(sed -n '3,$p' "$summary" | grep -v '^note: ')"
  if grep -i -E 'did not start|error while loading shared libraries|not found \(required by' <<<"$rows"; then
    fail "gpu_check.sh $*: a program did not start"
  fi
}
# The rows whose result (the table's columns: the step in 28 characters, a space, the result in 8) is not one of
# the results given.
rows_not() {  # result...
  awk -v ok=" $* " '{ result = substr($0, 30, 8); gsub(/ /, "", result) } index(ok, " " result " ") == 0' <<<"$rows"
}
expect_row() {  # step result pattern-of-the-note
  grep -q -E "^$1 +$2 +[-0-9.]+ +$3" <<<"$rows" || fail "the $1 row is not $2 with a note matching '$3'"
}

# 4a. No driver, no GPU: the machine's row fails saying so; every GPU step is SKIP with the program's reason.
echo "check-gpu-carry: bash bench/gpu_check.sh in $root (no driver, no toolkit)"
rehearse 1 ""
expect_row machine FAIL "no driver: "
if rows_not PASS SKIP | grep -v -E '^machine '; then fail "a row other than the machine's is neither PASS nor SKIP"; fi
for step in gpu_backend gpu_kernels gpu_persistent verify train-gpu-30-epochs gpu-paths-cluster1 gpu-paths-cluster8; do
  expect_row "$step" SKIP "(.*; )?no driver: (no usable GPU|GPU part did not run): "
done
expect_row gpu_persistent.racecheck SKIP "no driver: "

# 4b. A GPU that nvidia-smi lists but the programs cannot use (an old driver, a runtime the driver refuses), and
# a compute-sanitizer that refuses the device: every GPU step fails naming both, the sanitizer rows are SKIP.
mkdir -p "$root/fake/bin"
printf '#!/bin/sh\necho "NVIDIA H100 80GB HBM3, 580.159.04, 81559 MiB, 9.0"\n' >"$root/fake/bin/nvidia-smi"
printf '#!/bin/sh\n[ "$1" = --version ] && { echo "Compute Sanitizer, Version 2025.3.0"; exit 0; }\n%s\nexit 1\n' \
  'echo "========= Error: Device not supported"' >"$root/fake/bin/compute-sanitizer"
chmod +x "$root/fake/bin/"*
echo "check-gpu-carry: bash bench/gpu_check.sh --full in $root, with an nvidia-smi that lists a GPU the programs" \
     "cannot use and a compute-sanitizer that refuses it"
rehearse 1 /fake/bin: --full
rm -rf "$root/fake"
expect_row machine PASS "NVIDIA H100"
for step in gpu_backend gpu_kernels gpu_persistent verify train-gpu-30-epochs gpu-paths-cluster4; do
  expect_row "$step" FAIL "(.*; )?(no usable GPU|GPU part did not run): .*, while nvidia-smi sees NVIDIA H100"
done
expect_row gpu_persistent.racecheck SKIP "compute-sanitizer refuses this device: Error: Device not supported"
expect_row gpu_kernels.memcheck SKIP "compute-sanitizer refused the device in gpu_persistent.racecheck"
echo "check-gpu-carry: passed; the rehearsals reached 'no GPU' and 'a GPU it cannot use' cleanly" \
     "($((SECONDS - started)) s in all)"
