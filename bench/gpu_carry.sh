#!/usr/bin/env bash
# Builds here what bench/gpu_check.sh runs on a GPU machine that holds the driver and the CUDA toolkit but none of
# the project's build dependencies (no Debian libraries, no MPI, no GoogleTest, nothing to install), into the
# git-ignored folder gpu-carry/ at the repository root, then prints what to carry there and the command to run:
#
#   bash bench/gpu_check.sh --prepare        (runs this script)
#
# gpu-carry/ is laid out like a build folder, so that the test programs find the CLI at ../sigmanet:
#   sigmanet, tests/gpu_*  the CLI and the gpu test suites (but two, see below), their symbol tables
#                          stripped (the kernels keep their line tables, -lineinfo, for compute-sanitizer's reports)
#   mnist/                 MNIST's four files, from $SIGMANET_DATA, else ../shared/data/mnist beside the repository
#   BUILD.txt              the commit, the options, each executable's size and the libraries it needs
# The build, in build-gpu-carry/: Release for one GPU architecture, ${SIGMANET_CUDA_ARCH:-90} (the H100 and H200);
# SIGMANET_PORTABLE: libstdc++, libgcc and zlib linked statically, and no -march=native, since the GPU machine's
# processor is not this one; the CUDA runtime is static in every build. MPI is off: Debian's Open MPI comes only as
# shared libraries (libmpi, libopen-pal, hwloc, libevent...) that the GPU machine lacks, a static one would mean
# building Open MPI here, and one GPU has no second rank to train with (jobs across processes run in CI, on the CPU
# and on the emulator). Without MPI there is no NCCL either, so gpu_mpi would only skip: it is left out, and so is
# gpu_libraries_on_demand, which needs no GPU and checks how a build links (readelf, the toolkit's cuBLAS): CI runs it,
# and scripts/check-gpu-carry.sh checks the carry's linking.
# GoogleTest is linked statically (Debian ships it so).
# Every executable then needs only glibc (libc, libm, libdl, libpthread, librt and the loader; the version this
# machine's glibc gives its symbols, in BUILD.txt) and, at run time, the CUDA driver's libcuda, which the static
# runtime opens, and cuBLAS, which sigmanet opens when the GPU is first used (gpu_check.sh finds it in the toolkit
# or in the Python wheel). scripts/check-gpu-carry.sh checks this, in CI.
#
# The carried tree (gpu-carry/ and the working tree that travels with it) must stay under 64 MiB: this script
# fails past it. MNIST is 11 MiB of it, the executables about 5-7 MiB each (so some test files share one:
# tests/CMakeLists.txt).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
source scripts/find-nvcc.sh
arch="${SIGMANET_CUDA_ARCH:-90}"
build="$repo/build-gpu-carry"
carry="$repo/gpu-carry"
limit_mib=64

die() { echo "gpu_carry: $*" >&2; exit 2; }
command -v nvcc >/dev/null || die "no nvcc on PATH or in /usr/local/cuda/bin: the carry holds CUDA code"

# MNIST first: a missing copy should stop the run before minutes of compiling.
data="${SIGMANET_DATA:-$repo/../shared/data/mnist}"
mnist_files=()
for stem in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if [[ -f "$data/$stem.gz" ]]; then mnist_files+=("$data/$stem.gz")
  elif [[ -f "$data/$stem" ]]; then mnist_files+=("$data/$stem")
  else die "no $stem(.gz) in $data (set SIGMANET_DATA to MNIST's folder; scripts/get-mnist.sh fetches it)"
  fi
done

echo "== configuring $build: Release, sm_$arch only, SIGMANET_PORTABLE, MPI off, benchmarks off"
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIGMANET_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$arch" \
  -DCMAKE_CUDA_FLAGS=-lineinfo -DSIGMANET_PORTABLE=ON -DSIGMANET_MPI=OFF -DSIGMANET_BENCHMARKS=OFF \
  -DSIGMANET_TESTS=ON >/dev/null

# Every gpu suite but those two, as the build lists its gpu executables (tests/CMakeLists.txt: some test files join
# another suite's executable), so that a new suite is carried without a change here.
suites=()
while read -r name; do
  [[ -z $name || $name == gpu_mpi || $name == gpu_libraries_on_demand ]] || suites+=("$name")
done <"$build/tests/gpu_suites.txt"
echo "== building sigmanet and ${suites[*]}"
cmake --build "$build" -j "${SIGMANET_JOBS:-$(nproc)}" --target sigmanet_cli "${suites[@]}"

# Filled beside and renamed into place, so that an interrupted run never leaves a half carry behind.
staging="$carry.new"
rm -rf "$staging"
mkdir -p "$staging/tests" "$staging/mnist"
strip -o "$staging/sigmanet" "$build/sigmanet"
for suite in "${suites[@]}"; do strip -o "$staging/tests/$suite" "$build/tests/$suite"; done
cp "${mnist_files[@]}" "$staging/mnist/"

needs() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | paste -sd' ' -; }
glibc_needed() {  # the newest GLIBC_x.y symbol version an executable asks for
  objdump -T "$1" | grep -o 'GLIBC_[0-9.]*' | sort -u -t. -k1,1 -k2,2n -k3,3n | tail -1
}
{
  echo "sigmanet's GPU carry, built by bench/gpu_check.sh --prepare"
  echo "commit: $(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m), $(getconf GNU_LIBC_VERSION), $(nvcc --version | tail -1)"
  echo "options: Release, CMAKE_CUDA_ARCHITECTURES=$arch, -lineinfo, SIGMANET_PORTABLE=ON, SIGMANET_MPI=OFF"
  echo "executable: bytes; NEEDED; newest glibc symbol version"
  for file in "$staging/sigmanet" "$staging"/tests/gpu_*; do
    echo "${file#"$staging"/}: $(stat -c %s "$file"); $(needs "$file"); $(glibc_needed "$file")"
  done
} >"$staging/BUILD.txt"

rm -rf "$carry"
mv "$staging" "$carry"

# What travels: the carry, and the tracked and untracked-but-not-ignored files beside it.
carry_bytes=$(du -sb "$carry" | cut -f1)
tree_bytes=$(git -C "$repo" ls-files -z -co --exclude-standard | (cd "$repo" && du -cb --files0-from=- 2>/dev/null) |
             tail -1 | cut -f1)
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
total=$((carry_bytes + tree_bytes))
echo
sed -n '2,5p' "$carry/BUILD.txt"
echo "gpu-carry: $(mib "$carry_bytes") MiB (MNIST $(mib "$(du -sb "$carry/mnist" | cut -f1)") MiB); with the working" \
     "tree, $(mib "$tree_bytes") MiB, $(mib "$total") MiB travel, of at most $limit_mib"
((total < limit_mib * 1048576)) || die "what travels is $(mib "$total") MiB, over $limit_mib MiB"
echo
echo "carry: gpu-carry/, beside the working tree (tracked and untracked files not ignored)"
echo "then:  bash bench/gpu_check.sh          (the first-contact profile, under 240 s)"
echo "   or: bash bench/gpu_check.sh --full   (the profile and compute-sanitizer on every suite, under 570 s)"
