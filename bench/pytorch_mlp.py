#!/usr/bin/python3
"""PyTorch doing the work `sigmanet bench` measures, on the same machine, in the same JSON schema.

The same networks (fully connected, sigmoid on every layer), the same initialisation scheme (N(0,1) weights and
biases), the same cost (quadratic: sum over outputs of 1/2 (a - y)^2, averaged over the batch, so that the step
is w <- w - eta/m * sum of per-sample gradients), plain SGD, the same grid and repetition rules, one warm-up
repetition excluded, median/min/max of the timed ones.

One training step: x = X[idx]; a = sigmoid(addmm(b, a, W^T)) per layer; the quadratic cost;
torch.autograd.grad; p -= eta * g in place. Images are converted to float and labels to one-hot vectors once,
up front (as a PyTorch user would; sigmanet converts per batch, so this favours PyTorch slightly).

On a CUDA device two variants run: "eager" (one Python call per operation) and "cuda-graph" (the whole step
captured once in a CUDA graph and replayed per batch; a last partial batch runs eagerly). TF32 is off.

CPU threads: --threads (default 1) is set with torch.set_num_threads and, before torch loads, in
OMP_NUM_THREADS and OPENBLAS_NUM_THREADS, so BLAS runs on the same number of threads as sigmanet (1).

Usage: /usr/bin/python3 bench/pytorch_mlp.py [--quick | --all] [--device cpu|cuda|all] [--json FILE]
"""

import argparse
import datetime
import gzip
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SCHEMA = "sigmanet-bench/1"
TRAIN_RECORDS, TEST_RECORDS = 50000, 10000
QUICK_REPETITION_SAMPLES = 10000  # as host/reports/benchmark.cpp
LARGE_CPU_REPETITION_SAMPLES = 8192
LARGE_CPU_EVAL_RECORDS = 2048
FULL_SHAPES = [([784, 30, 10], 10), ([784, 30, 10], 100), ([784, 30, 10], 1000), ([784, 100, 10], 10),
               ([784, 1024, 1024, 10], 256), ([784, 1024, 1024, 10], 1000), ([784, 1024, 1024, 10], 4096)]
QUICK_SHAPES = [([784, 30, 10], 10), ([784, 30, 10], 100)]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="784-30-10 at batch 10 and 100, 10,000 samples a repetition")
    p.add_argument("--all", action="store_true", help="also 784-1024-1024-10 on the CPU (repetitions of whole batches)")
    p.add_argument("--device", choices=["cpu", "cuda", "all"], default="all",
                   help="cpu, cuda, or all (every one present; default)")
    p.add_argument("--precision", choices=["float", "double", "both"], default=None,
                   help="default: float and double on the CPU, float on CUDA")
    p.add_argument("--variants", default="eager,cuda-graph", help="CUDA variants: eager, cuda-graph (comma-separated)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for PyTorch and its BLAS (default 1)")
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--eta", type=float, default=3.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data", default="", help="MNIST folder (default: $SIGMANET_DATA, else ./data/mnist)")
    p.add_argument("--synthetic", action="store_true", help="random images of MNIST's shape instead of MNIST")
    p.add_argument("--json", default="", help="write the results as JSON to FILE")
    args = p.parse_args(argv)
    if args.repetitions < 1:
        p.error("--repetitions: must be at least 1")
    if args.warmup < 0:
        p.error("--warmup: must be 0 or more")
    if args.threads < 1:
        p.error("--threads: must be at least 1")
    if not (args.eta > 0 and math.isfinite(args.eta)):
        p.error("--eta: must be a positive number")
    if args.synthetic and args.data:
        p.error("--synthetic: reads no data, so --data cannot be used with it")
    for v in args.variants.split(","):
        if v not in ("eager", "cuda-graph"):
            p.error(f"--variants: unknown variant '{v}' (use eager, cuda-graph)")
    return args


# Thread counts must be in the environment before torch (and its OpenMP and OpenBLAS) load.
ARGS = parse_args(sys.argv[1:]) if __name__ == "__main__" else None
if ARGS is not None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402


# ---- data ----

def read_idx(path):
    """An IDX file (raw or .gz) as a numpy array, checking magic and length."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 8:
        raise SystemExit(f"pytorch_mlp.py: {path}: too short for an IDX header")
    magic = int.from_bytes(raw[0:4], "big")
    if magic == 2051:
        n, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
        shape, offset = (n, rows * cols), 16
    elif magic == 2049:
        shape, offset = (int.from_bytes(raw[4:8], "big"),), 8
    else:
        raise SystemExit(f"pytorch_mlp.py: {path}: bad IDX magic {magic}")
    data = np.frombuffer(raw, dtype=np.uint8, offset=offset)
    if data.size != int(np.prod(shape)):
        raise SystemExit(f"pytorch_mlp.py: {path}: expected {int(np.prod(shape))} values, found {data.size}")
    return data.reshape(shape)


def find_file(folder, name):
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.exists():
            return candidate
    raise SystemExit(f"pytorch_mlp.py: {folder}: missing {name} (or {name}.gz); fetch MNIST with scripts/get-mnist.sh")


def load_data(args):
    """(train images, train labels, test images, test labels, source) as uint8 numpy arrays."""
    if args.synthetic:
        rng = np.random.default_rng(args.seed)
        return (rng.integers(0, 256, (TRAIN_RECORDS, 784), dtype=np.uint8),
                rng.integers(0, 10, TRAIN_RECORDS, dtype=np.uint8),
                rng.integers(0, 256, (TEST_RECORDS, 784), dtype=np.uint8),
                rng.integers(0, 10, TEST_RECORDS, dtype=np.uint8), "synthetic")
    folder = Path(args.data or os.environ.get("SIGMANET_DATA") or "data/mnist")
    train_x = read_idx(find_file(folder, "train-images-idx3-ubyte"))
    train_y = read_idx(find_file(folder, "train-labels-idx1-ubyte"))
    test_x = read_idx(find_file(folder, "t10k-images-idx3-ubyte"))
    test_y = read_idx(find_file(folder, "t10k-labels-idx1-ubyte"))
    # Nielsen's split, as sigmanet: train = the first 50,000 of the training file.
    return train_x[:TRAIN_RECORDS], train_y[:TRAIN_RECORDS], test_x, test_y, f"mnist:{folder}"


# ---- the grid, as host/reports/benchmark.cpp ----

def whole_batches(samples, batch, train_size):
    return min(-(-samples // batch) * batch, train_size)


def grid(backends, quick, include_all, train_size, test_size):
    cases = []
    for device, dtype in backends:
        for sizes, batch in (QUICK_SHAPES if quick else FULL_SHAPES):
            large = sum(a * b for a, b in zip(sizes, sizes[1:])) > 1_000_000
            on_cpu = device == "cpu"
            if large and on_cpu and not include_all:
                continue
            train_samples, eval_records = train_size, test_size
            if quick:
                train_samples = whole_batches(QUICK_REPETITION_SAMPLES, batch, train_size)
            elif large and on_cpu:
                train_samples = whole_batches(LARGE_CPU_REPETITION_SAMPLES, batch, train_size)
                eval_records = min(LARGE_CPU_EVAL_RECORDS, test_size)
            cases.append(dict(sizes=sizes, batch=batch, device=device, dtype=dtype,
                              train_samples=train_samples, eval_records=eval_records))
    return cases


# ---- the network ----

class Mlp:
    """Weights and biases as plain tensors: W is n_out x n_in (as nn.Linear), drawn N(0,1) from the seed."""

    def __init__(self, sizes, device, dtype, seed):
        gen = torch.Generator().manual_seed(seed)
        self.params = []
        for n_in, n_out in zip(sizes, sizes[1:]):
            b = torch.randn(n_out, generator=gen, dtype=torch.float64)
            w = torch.randn(n_out, n_in, generator=gen, dtype=torch.float64)
            self.params += [w.to(device=device, dtype=dtype).requires_grad_(),
                            b.to(device=device, dtype=dtype).requires_grad_()]

    def forward(self, x):
        a = x
        for w, b in zip(self.params[0::2], self.params[1::2]):
            a = torch.sigmoid(torch.addmm(b, a, w.t()))
        return a

    def step(self, x_all, y_all, idx, eta):
        """One SGD step on the records idx: quadratic cost averaged over the batch, p -= eta * grad."""
        x = x_all.index_select(0, idx)
        y = y_all.index_select(0, idx)
        a = self.forward(x)
        cost = 0.5 * (a - y).pow(2).sum() / idx.numel()
        grads = torch.autograd.grad(cost, self.params)
        with torch.no_grad():
            for p, g in zip(self.params, grads):
                p.add_(g, alpha=-eta)

    def finite(self):
        with torch.no_grad():
            return all(bool(torch.isfinite(p).all()) for p in self.params)


class Clock:
    """Seconds of work on the device's clock: CUDA events on a GPU (including finishing the queued work),
    time.perf_counter on the CPU."""

    def __init__(self, device):
        self.cuda = device == "cuda"

    def time(self, work):
        """(seconds on the device's clock, process CPU seconds) of work."""
        cpu0 = time.process_time()
        if self.cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            work()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1000.0, time.process_time() - cpu0
        t0 = time.perf_counter()
        work()
        return time.perf_counter() - t0, time.process_time() - cpu0


def spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def rates(seconds, samples):
    return {"median": samples / statistics.median(seconds), "min": samples / max(seconds),
            "max": samples / min(seconds)}


def run_case(case, variant, data, args):
    device, dtype = case["device"], case["dtype"]
    torch_device = torch.device(device)
    train_x, train_y, test_x, test_y = data
    x_all = torch.tensor(train_x).to(torch_device).to(dtype).div_(255)
    y_all = torch.nn.functional.one_hot(torch.from_numpy(train_y.astype(np.int64)), 10).to(torch_device).to(dtype)
    eval_x = torch.tensor(test_x[:case["eval_records"]]).to(torch_device).to(dtype).div_(255)
    eval_labels = torch.from_numpy(test_y[:case["eval_records"]].astype(np.int64)).to(torch_device)
    eval_y = torch.nn.functional.one_hot(eval_labels, 10).to(dtype)

    net = Mlp(case["sizes"], torch_device, dtype, args.seed)
    batch, samples, eta = case["batch"], case["train_samples"], args.eta
    order_gen = torch.Generator().manual_seed(args.seed + 1)
    clock = Clock(device)

    graph = None
    if variant == "cuda-graph":
        static_idx = torch.arange(batch, device=torch_device)
        # Warm up on a side stream before capture, as the CUDA-graph documentation prescribes.
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                net.step(x_all, y_all, static_idx, eta)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            net.step(x_all, y_all, static_idx, eta)

    def train_once():
        # A fresh shuffled order per repetition, drawn outside the timed region (as sigmanet does).
        order = torch.randperm(len(train_y), generator=order_gen)[:samples].to(torch_device)
        if device == "cuda":
            torch.cuda.synchronize()

        def work():
            full = samples - samples % batch
            if graph is not None:
                for s in range(0, full, batch):
                    static_idx.copy_(order[s:s + batch])
                    graph.replay()
                if full < samples:
                    net.step(x_all, y_all, order[full:], eta)
            else:
                for s in range(0, samples, batch):
                    net.step(x_all, y_all, order[s:s + batch], eta)

        seconds = clock.time(work)  # (wall, cpu)
        if not net.finite():
            raise SystemExit(f"pytorch_mlp.py: training {case_name(case)} diverged (try a smaller --eta)")
        return seconds

    def evaluate_once():
        result = {}

        def work():
            with torch.no_grad():
                a = net.forward(eval_x)
                result["correct"] = int((a.argmax(dim=1) == eval_labels).sum().item())
                result["cost"] = float(0.5 * (a - eval_y).pow(2).sum().item() / len(eval_labels))

        return clock.time(work)

    for _ in range(args.warmup):
        train_once()
        evaluate_once()
    train_times = [train_once() for _ in range(args.repetitions)]
    eval_times = [evaluate_once() for _ in range(args.repetitions)]
    train_seconds, train_cpu = [t[0] for t in train_times], [t[1] for t in train_times]
    eval_seconds, eval_cpu = [t[0] for t in eval_times], [t[1] for t in eval_times]

    train_size = len(train_y)
    whole_epoch = samples == train_size
    precision = "float" if dtype == torch.float32 else "double"
    sig_device = "gpu" if device == "cuda" else "cpu"
    return {
        "config": case_name(case),
        "sizes": case["sizes"],
        "batch": batch,
        "backend": f"{sig_device}-{precision}",
        "device": sig_device,
        "precision": precision,
        "variant": f"pytorch-{variant}",
        "description": f"pytorch {torch.__version__} {variant} {device} {precision}",
        "threads": torch.get_num_threads(),
        "timer": "cuda_events" if device == "cuda" else "perf_counter",
        "train": {
            "repetition": "epoch" if whole_epoch else "batches",
            "samples_per_repetition": samples,
            "batches_per_repetition": -(-samples // batch),
            "repetitions": len(train_seconds),
            "seconds": spread(train_seconds),
            "seconds_each": train_seconds,
            "samples_per_second": rates(train_seconds, samples),
            "cpu_seconds": spread(train_cpu),
            "epoch_seconds": statistics.median(train_seconds) * train_size / samples,
            "epoch_seconds_extrapolated": not whole_epoch,
        },
        "evaluate": {
            "records": case["eval_records"],
            "repetitions": len(eval_seconds),
            "seconds": spread(eval_seconds),
            "seconds_each": eval_seconds,
            "samples_per_second": rates(eval_seconds, case["eval_records"]),
            "cpu_seconds": spread(eval_cpu),
        },
    }


def case_name(case):
    return "-".join(map(str, case["sizes"])) + f"/b{case['batch']}"


# ---- the record ----

def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return "unknown"


def loaded_blas():
    """The BLAS shared libraries this process has mapped (after a matmul has run)."""
    found = set()
    try:
        for line in Path("/proc/self/maps").read_text().splitlines():
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = os.path.basename(path)
            if "blas" in name or "mkl" in name or "lapack" in name:
                found.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(found)


def git_commit():
    try:
        here = Path(__file__).resolve().parent
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, check=True)
        return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def gpu_record():
    if not torch.cuda.is_available():
        return None
    props = torch.cuda.get_device_properties(0)
    driver = "unknown"
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, check=True, timeout=30)
        driver = out.stdout.strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        pass
    return {"name": props.name, "driver_version": driver, "runtime_version": torch.version.cuda,
            "compute_capability": props.major * 10 + props.minor, "memory_bytes": props.total_memory}


def print_row(r):
    t, e = r["train"], r["evaluate"]
    rep = "epoch" if t["repetition"] == "epoch" else f"{t['batches_per_repetition']} batches"
    rate = t["samples_per_second"]
    print(f"{r['backend']:<11} {r['variant']:<19} {'-'.join(map(str, r['sizes'])):<17} {r['batch']:>6} {rep:>14} "
          f"{rate['median']:>12.0f} {rate['min']:>12.0f} {rate['max']:>12.0f} {t['epoch_seconds']:>10.3f}"
          f"{'*' if t['epoch_seconds_extrapolated'] else ' '} {t['samples_per_repetition'] / t['cpu_seconds']['median']:>12.0f}"
          f" {e['samples_per_second']['median']:>12.0f}", flush=True)


def main(args):
    torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    have_cuda = torch.cuda.is_available()
    if args.device == "cuda" and not have_cuda:
        raise SystemExit("pytorch_mlp.py: --device cuda: torch.cuda.is_available() is False")
    devices = {"cpu": ["cpu"], "cuda": ["cuda"], "all": ["cpu"] + (["cuda"] if have_cuda else [])}[args.device]
    backends = []
    for device in devices:
        precisions = {"float": [torch.float32], "double": [torch.float64], "both": [torch.float32, torch.float64],
                      None: [torch.float32, torch.float64] if device == "cpu" else [torch.float32]}[args.precision]
        backends += [(device, p) for p in precisions]

    train_x, train_y, test_x, test_y, source = load_data(args)
    cases = grid(backends, args.quick, args.all, len(train_y), len(test_y))
    variants = args.variants.split(",")

    print(f"pytorch {torch.__version__}: {cpu_model()}, {os.cpu_count()} logical CPUs, {torch.get_num_threads()} "
          f"thread(s)" + (f", GPU {torch.cuda.get_device_name(0)}" if have_cuda else ""))
    print(f"data {source} ({len(train_y)} train, {len(test_y)} test); {args.warmup} warm-up + {args.repetitions} "
          f"timed repetitions, median [min-max]; eta {args.eta:g}, seed {args.seed}")
    print(f"{'backend':<11} {'variant':<19} {'network':<17} {'batch':>6} {'repetition':>14} {'train/s':>12} "
          f"{'min':>12} {'max':>12} {'epoch s':>11} {'train/cpu-s':>12} {'eval/s':>12}", flush=True)

    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0
    results = []
    for case in cases:
        for variant in (variants if case["device"] == "cuda" else ["eager"]):
            results.append(run_case(case, variant, (train_x, train_y, test_x, test_y), args))
            print_row(results[-1])
    if any(r["train"]["epoch_seconds_extrapolated"] for r in results):
        print("* epoch time extrapolated from a repetition of whole batches, not a full epoch")

    if args.json:
        doc = {
            "schema": SCHEMA,
            "tool": "pytorch",
            "tool_version": torch.__version__,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": "bench/pytorch_mlp.py " + " ".join(sys.argv[1:]),
            "machine": {"cpu_model": cpu_model(), "logical_cpus": os.cpu_count(), "load_average_before": load_before,
                        "load_average_after": os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0,
                        "gpu": gpu_record()},
            "build": {"git_commit": git_commit(), "python": sys.version.split()[0], "numpy": np.__version__},
            "pytorch": {
                "version": torch.__version__,
                "cuda": torch.version.cuda,
                "threads": torch.get_num_threads(),
                "interop_threads": torch.get_num_interop_threads(),
                "env": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                                       "OPENBLAS_CORETYPE")},
                "blas_libraries_loaded": loaded_blas(),
                "allow_tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
                "allow_tf32_cudnn": torch.backends.cudnn.allow_tf32,
            },
            "data": {"source": source, "train_records": len(train_y), "test_records": len(test_y)},
            "settings": {
                "warmup_repetitions": args.warmup,
                "repetitions": args.repetitions,
                "eta": args.eta,
                "seed": args.seed,
                "init": "N(0,1) weights and biases",
                "cost": "quadratic: sum over outputs of 1/2 (a-y)^2, averaged over the batch",
                "optimizer": "plain SGD",
                "threads": torch.get_num_threads(),
            },
            "results": results,
        }
        try:
            Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
        except OSError as e:
            raise SystemExit(f"pytorch_mlp.py: --json: cannot write {args.json}: {e.strerror}")
    return 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
