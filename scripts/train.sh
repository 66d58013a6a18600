#!/usr/bin/env bash
# The main job: install what is missing, build, and run Nielsen's 30-epoch chapter-1 training on MNIST
# with the best device present (the GPU when one is usable, else the CPU). Extra arguments go to
# `sigmanet train` (e.g. --epochs 5).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh build   # what building and training need, nothing for tests or plots
source scripts/find-nvcc.sh
build=${SIGMANET_BUILD:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIGMANET_TESTS=OFF -DSIGMANET_BENCHMARKS=OFF >/dev/null
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
