#!/usr/bin/env bash
# sigmanet's ONNX export checked where users run it (tests/formats/check_onnx.py): onnx.checker and onnxruntime on
# four exported networks, their outputs within 1e-6 of sigmanet's. CTest runs it (OnnxMatchesSigmanet).
#
# usage: scripts/check-onnx.sh CLI OUTPUTS_TOOL MNIST_DIR WORK_DIR
# ($SIGMANET_DATA, when set, is the MNIST folder instead, as for every test.)
#
# onnx and onnxruntime come from PyPI, at the versions pinned below, into a virtual environment in WORK_DIR/venv
# that later runs reuse (pip finds them installed and asks no index). Without PyPI the check fails and says so:
# CI has PyPI, and a check that skipped there would check nothing.
set -euo pipefail
if [ $# -ne 4 ]; then
  echo "usage: $0 CLI OUTPUTS_TOOL MNIST_DIR WORK_DIR" >&2
  exit 2
fi
cli=$1 outputs_tool=$2 mnist=${SIGMANET_DATA:-$3} work=$4
venv=$work/venv
requirements=(onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6)

mkdir -p "$work"
if [ ! -x "$venv/bin/python" ] && ! python3 -m venv "$venv"; then
  echo "check-onnx: could not make a virtual environment in $venv (install python3-venv)" >&2
  exit 1
fi
if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check "${requirements[@]}"; then
  echo "check-onnx: could not install ${requirements[*]} from PyPI into $venv: this check needs them" >&2
  exit 1
fi
exec "$venv/bin/python" "$(dirname "$0")/../tests/formats/check_onnx.py" "$cli" "$outputs_tool" "$mnist" "$work/models"
