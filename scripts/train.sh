#!/usr/bin/env bash
# The main job: install what is missing, build, and run Nielsen's 30-epoch chapter-1 training on MNIST
# with the best device present (the GPU when one is usable, else the CPU). Extra arguments go to
# `sigmanet train` (e.g. --epochs 5).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh build   # what building and training need, nothing for tests or plots
source scripts/find-nvcc.sh
build=${SIGMANET_BUILD:-build}

# Build for the GPUs this machine has, and without one build no CUDA code at all: the kernels for every
# architecture (what scripts/test-all.sh builds) take minutes of nvcc that a first run should not wait for.
# nvidia-smi lists each GPU's compute capability (9.0 for an H100); every driver that runs CUDA 13 answers that
# query. No nvidia-smi, a failing one, no GPU listed or no nvcc: CPU only.
gpu_arches=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null |
  sed -n 's/^ *\([0-9]\+\)\.\([0-9]\+\) *$/\1\2/p' | sort -u | paste -sd ';') || gpu_arches=""
if [ -z "$gpu_arches" ]; then
  cuda=(-DSIGMANET_CUDA=OFF)
  echo "train.sh: nvidia-smi lists no GPU: building for the CPU only"
elif ! command -v nvcc >/dev/null 2>&1; then
  cuda=(-DSIGMANET_CUDA=OFF)
  echo "train.sh: a GPU but no CUDA toolkit (nvcc): building for the CPU only"
else
  cuda=(-DSIGMANET_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$gpu_arches")
  echo "train.sh: building for this machine's GPU (sm_${gpu_arches//;/, sm_}) and the CPU"
fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIGMANET_TESTS=OFF -DSIGMANET_BENCHMARKS=OFF "${cuda[@]}" \
  >/dev/null
cmake --build "$build" -j"$(nproc)"

# The data: $SIGMANET_DATA, else ./data/mnist, else the shared copy beside the repository, else download it.
if [ -z "${SIGMANET_DATA:-}" ]; then
  if [ -f data/mnist/train-images-idx3-ubyte.gz ] || [ -f data/mnist/train-images-idx3-ubyte ]; then
    SIGMANET_DATA=data/mnist
  elif [ -f ../shared/data/mnist/train-images-idx3-ubyte.gz ]; then
    SIGMANET_DATA=../shared/data/mnist
  else
    bash scripts/get-mnist.sh data/mnist
    SIGMANET_DATA=data/mnist
  fi
fi
export SIGMANET_DATA
exec "$build/sigmanet" train --device auto "$@"
