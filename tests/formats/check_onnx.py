"""sigmanet's ONNX export run where users run it: onnx.checker and onnxruntime, against sigmanet's own outputs.

usage: check_onnx.py CLI OUTPUTS_TOOL MNIST_DIR WORK_DIR

Trains four small networks with the sigmanet tool CLI (one epoch on a slice of MNIST: sigmoid and softmax output
layers, 784-30-10 and 784-64-32-10), exports each with `sigmanet export --onnx`, checks it with
onnx.checker.check_model (full_check: shapes inferred too), runs it in onnxruntime on the first 1,000 test records
as the README tells users to feed it (pixels as float32 divided by 255), and compares with sigmanet's output layer
on the same records (OUTPUTS_TOOL, tests/formats/sigmanet_outputs.cpp). Prints the largest difference per model.

Exit status: 0 every model within 1e-6, 1 otherwise. onnx and onnxruntime must import (scripts/check-onnx.sh
installs them): without them the check fails, it never skips.
"""
import gzip
import os
import subprocess
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import onnxruntime

RECORDS = 1000
TOLERANCE = 1e-6

# The deep networks start from chapter 3's scaled weights, N(0, 1/n_in), as deep sigmoid networks are trained:
# from chapter 1's N(0, 1) a 784-64-32-10 network's first layer sums terms up to |z| = 48 (row sums of |w| up to
# 663), and float32's rounding of those sums alone put onnxruntime 1.0e-6 from the network's exact (float64) outputs,
# sigmanet 5.2e-7, and the two 1.13e-6 apart (measured): a float32 runtime's error, not the export's.
MODELS = [
    ("sigmoid-shallow", ["--sizes", "784,30,10"]),
    ("sigmoid-deep", ["--sizes", "784,64,32,10", "--init", "scaled"]),
    ("softmax-shallow", ["--sizes", "784,30,10", "--cost", "log-likelihood", "--eta", "0.5", "--init", "scaled"]),
    ("softmax-deep", ["--sizes", "784,64,32,10", "--cost", "log-likelihood", "--eta", "0.5", "--init", "scaled"]),
]


def test_pixels(mnist_dir, count):
    """The first `count` test images as float32 [count, 784], each pixel byte divided by 255."""
    for name, opener in (("t10k-images-idx3-ubyte", open), ("t10k-images-idx3-ubyte.gz", gzip.open)):
        path = os.path.join(mnist_dir, name)
        if os.path.exists(path):
            with opener(path, "rb") as f:
                data = f.read()
            images = np.frombuffer(data, dtype=np.uint8, offset=16)[: count * 784]
            return images.reshape(count, 784).astype(np.float32) / np.float32(255)
    sys.exit(f"FAIL: no t10k-images-idx3-ubyte(.gz) in {mnist_dir}")


def exact_outputs(model, pixels):
    """The exported network evaluated in float64 from its float32 initializers: the values both runtimes round."""
    weights = {t.name: onnx.numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    a = pixels.astype(np.float64)
    for node in model.graph.node:
        if node.op_type == "Gemm":
            a = a @ weights[node.input[1]].T + weights[node.input[2]]
        elif node.op_type == "Sigmoid":
            a = 1 / (1 + np.exp(-a))
        else:
            e = np.exp(a - a.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
    return a


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"FAIL: {' '.join(command)} exited {result.returncode}: {result.stderr.strip()}")


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    cli, outputs_tool, mnist_dir, work = sys.argv[1:]
    os.makedirs(work, exist_ok=True)
    pixels = test_pixels(mnist_dir, RECORDS)
    print(f"onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}; {RECORDS} test records")
    failed = []
    for name, flags in MODELS:
        model = os.path.join(work, name + ".safetensors")
        exported = os.path.join(work, name + ".onnx")
        reference = os.path.join(work, name + ".outputs")
        run([cli, "train", "--data", mnist_dir, "--device", "cpu", "--epochs", "1", "--train-size", "5000",
             "--validation-size", "0", "--test-size", str(RECORDS), "--seed", "1", "--save", model, *flags])
        run([cli, "export", "--model", model, "--onnx", exported])
        proto = onnx.load(exported)
        onnx.checker.check_model(proto, full_check=True)

        session = onnxruntime.InferenceSession(exported, providers=["CPUExecutionProvider"])
        (ours,) = session.run(["output"], {"input": pixels})
        run([outputs_tool, model, mnist_dir, str(RECORDS), reference])
        theirs = np.fromfile(reference, dtype="<f8").reshape(RECORDS, -1)
        if ours.shape != theirs.shape or ours.dtype != np.float32:
            sys.exit(f"FAIL: {name}: onnxruntime gave {ours.dtype} {ours.shape}, sigmanet float32 {theirs.shape}")
        difference = float(np.max(np.abs(ours.astype(np.float64) - theirs)))
        exact = exact_outputs(proto, pixels)
        agree = float(np.mean(ours.argmax(axis=1) == theirs.argmax(axis=1)))
        print(f"{name}: max |onnxruntime - sigmanet| = {difference:.3g} over {ours.size} outputs "
              f"(from float64: onnxruntime {np.max(np.abs(ours - exact)):.3g}, sigmanet "
              f"{np.max(np.abs(theirs - exact)):.3g}); same class for {agree:.1%} of the records")
        if not difference <= TOLERANCE:  # NaN fails too
            failed.append(name)
            print(f"FAIL: {name}: {difference:.3g} is more than {TOLERANCE:g}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
