#!/usr/bin/env bash
# Installs, from Debian 12's archive, what sigmanet needs:
#   scripts/install-deps.sh build   to build the tool and train (scripts/train.sh, the main job)
#   scripts/install-deps.sh         to build, test and benchmark as well (scripts/test-all.sh, CI)
# The CUDA toolkit is not in Debian's archive: it is expected at /usr/local/cuda (or nvcc on PATH);
# without it sigmanet builds CPU-only.
set -euo pipefail

packages=(
  build-essential cmake git curl ca-certificates pkg-config ccache
  zlib1g-dev libcli11-dev nlohmann-json3-dev libstb-dev
  libopenblas0-pthread                                 # the CPU's matrix products (opened at run time)
  libonnx-dev libprotobuf-dev                          # sigmanet export --onnx: ONNX's own protobuf classes
)
if [ "${1:-all}" != build ]; then
  packages+=(
    libgtest-dev libbenchmark-dev
    clang-14 libclang-rt-14-dev                        # fuzzing (libFuzzer) and sanitizers
    libboost-context-dev                               # fibers of the SIMT executor (tests/gpu_emulator/simt)
    openmpi-bin libopenmpi-dev                         # training across processes (mpirun) and its tests
    python3 python3-numpy python3-matplotlib           # model-file check, training-curve plots
    python3-venv python3-dev                           # virtual environments for PyPI tools and the Python package
    python3-torch                                      # the PyTorch side of the benchmark and model check
    debootstrap                                        # the GPU carry's rehearsal in a minimal Debian root
  )
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
