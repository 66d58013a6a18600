#!/usr/bin/python3
"""Reads a sigmanet model the way a Python user would, and checks it against sigmanet's own predictions.

usage: check_safetensors.py MODEL PREDICTIONS MNIST_DIR

MODEL is a safetensors file from `sigmanet train --save`. PREDICTIONS is JSON written by the test:
{"first": 0, "count": 100, "predictions": [...], "outputs": [[10 floats], ...]} for test records
first..first+count. The header is parsed with json and the data with numpy alone (no safetensors
package); each tensor's bytes must match its CRC32 in __metadata__ ("crc32:NAME", zlib.crc32 as 8 lowercase
hex digits); when the safetensors package imports, it must read the same arrays; then the same layers are loaded
into torch.nn.Linear and checked too (PyTorch is one of the tests' packages: without it the check fails).

Exit status: 0 all checks passed, 1 a check failed, 77 skipped (numpy missing; the reason is printed).
"""
import gzip
import json
import os
import struct
import sys
import zlib

SKIP = 77

try:
    import numpy as np
except ImportError as e:
    print(f"skip: numpy is not importable ({e})")
    sys.exit(SKIP)

DTYPES = {"F32": "<f4", "F64": "<f8", "U32": "<u4", "U64": "<u8"}


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_len])
    data = blob[8 + header_len:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        crc = f"{zlib.crc32(data[begin:end]):08x}"
        if metadata.get(f"crc32:{name}") != crc:
            fail(f"tensor {name}: __metadata__ crc32:{name} is {metadata.get(f'crc32:{name}')!r}, its bytes give {crc}")
        array = np.frombuffer(data[begin:end], dtype=DTYPES[entry["dtype"]])
        tensors[name] = (entry["dtype"], array.reshape(entry["shape"]))
    return metadata, tensors


def read_test_images(mnist_dir, first, count):
    for name in ("t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz"):
        path = os.path.join(mnist_dir, name)
        if os.path.exists(path):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                raw = f.read()
            magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
            if magic != 2051 or rows * cols != 784:
                fail(f"{path} is not an MNIST image file")
            images = np.frombuffer(raw[16:], dtype=np.uint8).reshape(n, rows * cols)
            return images[first:first + count]
    fail(f"no t10k-images-idx3-ubyte[.gz] in {mnist_dir}")


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    model_path, predictions_path, mnist_dir = sys.argv[1:]
    metadata, tensors = read_safetensors(model_path)
    for key in ("sizes", "epochs", "seed", "accuracy"):
        if not isinstance(metadata.get(key), str):
            fail(f"__metadata__ has no string '{key}': {metadata}")
    try:
        from safetensors.numpy import load_file
    except Exception as e:  # noqa: BLE001 - any import failure means no safetensors here
        print(f"safetensors: skipped, it does not import ({e})")
    else:
        loaded = load_file(model_path)
        if sorted(loaded) != sorted(tensors) or any(
                not np.array_equal(loaded[name], array) for name, (_, array) in tensors.items()):
            fail("the safetensors package reads other tensors than json + numpy do")
        print(f"safetensors: reads the same {len(loaded)} tensors")
    sizes = [int(s) for s in metadata["sizes"].split(",")]
    layers = len(sizes) - 1
    weights, biases = [], []
    for l in range(layers):
        wd, w = tensors[f"layers.{l}.weight"]
        bd, b = tensors[f"layers.{l}.bias"]
        if wd != "F32" or bd != "F32":
            fail(f"layer {l} is {wd}/{bd}, expected F32")
        if w.shape != (sizes[l + 1], sizes[l]) or b.shape != (sizes[l + 1],):
            fail(f"layer {l} shapes {w.shape} {b.shape} do not match sizes {sizes}")
        weights.append(w)
        biases.append(b)

    with open(predictions_path) as f:
        expected = json.load(f)
    first, count = expected["first"], expected["count"]
    want_pred = np.array(expected["predictions"])
    want_out = np.array(expected["outputs"], dtype=np.float64)
    x = read_test_images(mnist_dir, first, count).astype(np.float32) / np.float32(255.0)

    # The output layer is sigmoid, or softmax for a log-likelihood model (files from before it have no entry).
    softmax = metadata.get("output_activation", "sigmoid") == "softmax"

    # numpy: a = sigmoid(W a + b) per layer (softmax(W a + b) at the top of a softmax model), in float32 like
    # sigmanet's float network.
    a = x
    for l, (w, b) in enumerate(zip(weights, biases)):
        z = a @ w.T + b
        if softmax and l == layers - 1:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
        else:
            a = 1.0 / (1.0 + np.exp(-z))
    got_pred = a.argmax(axis=1)
    worst = float(np.abs(a - want_out).max())
    if not np.array_equal(got_pred, want_pred):
        fail(f"numpy predictions differ at {np.nonzero(got_pred != want_pred)[0].tolist()}")
    if worst > 1e-4:
        fail(f"numpy outputs differ from sigmanet's by up to {worst:g}")
    print(f"numpy: {count} predictions match (largest output difference {worst:.2g}, "
          f"{'softmax' if softmax else 'sigmoid'} output)")

    try:
        import torch
    except Exception as e:  # noqa: BLE001 - any import failure means no torch here
        fail(f"torch does not import ({e}); scripts/install-deps.sh installs python3-torch")
    net = torch.nn.Sequential()
    for l in range(layers):
        linear = torch.nn.Linear(sizes[l], sizes[l + 1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weights[l].copy()))
            linear.bias.copy_(torch.from_numpy(biases[l].copy()))
        net.append(linear)
        net.append(torch.nn.Softmax(dim=1) if softmax and l == layers - 1 else torch.nn.Sigmoid())
    with torch.no_grad():
        out = net(torch.from_numpy(x)).numpy()
    got_pred = out.argmax(axis=1)
    worst = float(np.abs(out - want_out).max())
    if not np.array_equal(got_pred, want_pred):
        fail(f"torch predictions differ at {np.nonzero(got_pred != want_pred)[0].tolist()}")
    if worst > 1e-4:
        fail(f"torch outputs differ from sigmanet's by up to {worst:g}")
    print(f"torch {torch.__version__}: {count} predictions match (largest output difference {worst:.2g})")


if __name__ == "__main__":
    main()
