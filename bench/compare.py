#!/usr/bin/python3
"""Run `sigmanet bench` and bench/pytorch_mlp.py on this machine and print ours/PyTorch throughput ratios.

Both write the same JSON schema (sigmanet-bench/1); rows are matched by network, batch, device and precision.
A ratio above 1 means sigmanet trains (or evaluates) more samples per second. Two ratios are printed for
training: by wall-clock time (what a user waits for) and by process CPU time (steadier on a machine shared
with other work, for the single-threaded CPU rows).

Usage:
  /usr/bin/python3 bench/compare.py --sigmanet build/sigmanet [--quick | --all] [--data DIR] [--out DIR]
  /usr/bin/python3 bench/compare.py --ours ours.json --pytorch pytorch.json      (compare saved runs)
Add --markdown for tables to paste into bench/RESULTS.md.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# sigmanet's performance goals against PyTorch: (device, precision, config, PyTorch variant, train or eval
# ratio, least ratio). The CPU goals are for one thread on each side.
GOALS = [
    ("cpu", "float", "784-30-10/b10", "pytorch-eager", "train", 12.0),
    ("cpu", "float", "784-30-10/b1000", "pytorch-eager", "train", 1.2),
    ("cpu", "float", "784-30-10/b10", "pytorch-eager", "eval", 1.5),
    ("gpu", "float", "784-30-10/b10", "pytorch-eager", "train", 10.0),
    ("gpu", "float", "784-1024-1024-10/b4096", "pytorch-eager", "train", 1.0),
]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sigmanet", default="", help="the sigmanet executable to run")
    p.add_argument("--ours", default="", help="a saved `sigmanet bench --json` file instead of running it")
    p.add_argument("--pytorch", default="", help="a saved bench/pytorch_mlp.py --json file instead of running it")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--all", action="store_true")
    p.add_argument("--data", default="")
    p.add_argument("--synthetic", action="store_true")
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads for both sides (sigmanet's CPU backends, PyTorch and its BLAS; default 1)")
    p.add_argument("--out", default=".", help="folder for the two JSON files of a fresh run (default: here)")
    p.add_argument("--markdown", action="store_true", help="print Markdown tables")
    p.add_argument("--pytorch-blas-as-installed", action="store_true",
                   help="let PyTorch's OpenBLAS pick its own kernels, instead of the ones sigmanet's OpenBLAS used")
    args = p.parse_args(argv)
    if not args.ours and not args.sigmanet:
        p.error("give --sigmanet PATH to run the benchmark, or --ours FILE to read a saved run")
    return args


def common_flags(args):
    flags = ["--repetitions", str(args.repetitions), "--threads", str(args.threads)]
    if args.quick:
        flags.append("--quick")
    if args.all:
        flags.append("--all")
    if args.synthetic:
        flags.append("--synthetic")
    if args.data:
        flags += ["--data", args.data]
    return flags


def run(command, env=None):
    print("$ " + " ".join(command), file=sys.stderr, flush=True)
    status = subprocess.run(command, stdout=sys.stderr, env=env).returncode
    if status != 0:
        raise SystemExit(f"compare.py: {command[0]} exited with status {status}")


def load(path):
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise SystemExit(f"compare.py: {path}: {e}")
    if doc.get("schema") != "sigmanet-bench/1":
        raise SystemExit(f"compare.py: {path}: not a sigmanet-bench/1 file (schema {doc.get('schema')!r})")
    return doc


def key(r):
    return (r["device"], r["precision"], r["config"])


def train_rate(r):
    return r["train"]["samples_per_second"]["median"]


def train_cpu_rate(r):
    cpu = r["train"].get("cpu_seconds", {}).get("median", 0)
    return r["train"]["samples_per_repetition"] / cpu if cpu > 0 else float("nan")


def eval_rate(r):
    return r["evaluate"]["samples_per_second"]["median"]


def ratio_rows(ours, theirs):
    """One row per (our result, PyTorch variant) pair with the same device, precision and configuration."""
    by_key = {}
    for r in theirs["results"]:
        by_key.setdefault(key(r), []).append(r)
    rows = []
    for o in ours["results"]:
        for t in by_key.get(key(o), []):
            rows.append(dict(
                backend=o["backend"], config=o["config"], variant=t["variant"],
                ours=train_rate(o), theirs=train_rate(t), train_ratio=train_rate(o) / train_rate(t),
                cpu_ratio=train_cpu_rate(o) / train_cpu_rate(t) if o["device"] == "cpu" else float("nan"),
                eval_ratio=eval_rate(o) / eval_rate(t),
                ours_epoch=o["train"]["epoch_seconds"], theirs_epoch=t["train"]["epoch_seconds"],
                extrapolated=o["train"]["epoch_seconds_extrapolated"]))
    return rows


def fmt_ratio(x):
    return "-" if x != x else f"{x:.2f}x"


def print_table(rows, markdown):
    head = ["backend", "network/batch", "PyTorch variant", "ours train/s", "PyTorch train/s", "train ratio",
            "train ratio (CPU time)", "eval ratio", "ours epoch s", "PyTorch epoch s"]
    lines = []
    for r in rows:
        star = "*" if r["extrapolated"] else ""
        lines.append([r["backend"], r["config"], r["variant"], f"{r['ours']:.0f}", f"{r['theirs']:.0f}",
                      fmt_ratio(r["train_ratio"]), fmt_ratio(r["cpu_ratio"]), fmt_ratio(r["eval_ratio"]),
                      f"{r['ours_epoch']:.3f}{star}", f"{r['theirs_epoch']:.3f}{star}"])
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join(" --- " for _ in head) + "|")
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(head)]
        print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        for line in lines:
            print("  ".join(c.ljust(w) for c, w in zip(line, widths)))
    if any(r["extrapolated"] for r in rows):
        print("\n* epoch time extrapolated from a repetition of whole batches")


def print_goals(rows, theirs):
    print(f"\nGoals, against PyTorch {theirs['tool_version']}:")
    for device, precision, config, variant, measure, least in GOALS:
        what = f"{device} {precision} {config} {measure} vs {variant} >= {least:g}x"
        match = [r for r in rows if r["backend"] == f"{device}-{precision}" and r["config"] == config
                 and r["variant"] == variant]
        if not match:
            print(f"  {what}: not measured in this run")
            continue
        r = match[0]
        ratio = r["train_ratio"] if measure == "train" else r["eval_ratio"]
        verdict = "met" if ratio >= least else "NOT met"
        extra = f" (by CPU time {fmt_ratio(r['cpu_ratio'])})" if device == "cpu" and measure == "train" else ""
        print(f"  {what}: {fmt_ratio(ratio)}{extra}: {verdict}")


def openblas_kernels(ours):
    """The OpenBLAS kernels sigmanet's CPU products ran on ("SkylakeX"), or None (own kernels, or not said)."""
    products = ours.get("cpu_peak", {}).get("products", "")
    if products.startswith("OpenBLAS") and "(" in products and " kernels)" in products:
        return products[products.index("(") + 1:products.index(" kernels)")]
    return None


def main(args):
    out = Path(args.out)
    ours_path, theirs_path = Path(args.ours) if args.ours else out / "sigmanet-bench.json", \
        Path(args.pytorch) if args.pytorch else out / "pytorch-bench.json"
    if not args.ours:
        run([args.sigmanet, "bench", "--json", str(ours_path)] + common_flags(args))
    ours = load(ours_path)
    if not args.pytorch:
        # PyTorch's matrix products run on OpenBLAS too; it picks its kernels as it loads, and Debian 12's 0.3.21
        # falls back to its SSE3 ones on CPUs newer than it (a seventh of the AVX-512 kernels' speed here).
        # sigmanet names the kernels for the CPU (host/cpu/blas.hpp): both sides get the same ones, unless asked.
        env = dict(os.environ)
        kernels = openblas_kernels(ours)
        if kernels and not args.pytorch_blas_as_installed and "OPENBLAS_CORETYPE" not in env:
            env["OPENBLAS_CORETYPE"] = kernels
            print(f"compare.py: PyTorch's OpenBLAS gets sigmanet's kernels: OPENBLAS_CORETYPE={kernels}",
                  file=sys.stderr)
        run([sys.executable, str(HERE / "pytorch_mlp.py"), "--json", str(theirs_path)] + common_flags(args), env)
    theirs = load(theirs_path)
    load_note = ""
    if hasattr(os, "getloadavg"):
        load_note = f"; load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    pytorch_env = theirs.get("pytorch", {}).get("env", {})
    print(f"sigmanet {ours['build']['git_commit']} ({ours.get('cpu_peak', {}).get('products', 'products unknown')}) "
          f"vs PyTorch {theirs['tool_version']} "
          f"({', '.join(theirs.get('pytorch', {}).get('blas_libraries_loaded', [])) or 'BLAS unknown'}, "
          f"OPENBLAS_CORETYPE={pytorch_env.get('OPENBLAS_CORETYPE') or 'unset'}), "
          f"{ours['machine']['cpu_model']}, {ours['settings']['threads']} thread(s){load_note}")
    rows = ratio_rows(ours, theirs)
    if not rows:
        raise SystemExit("compare.py: no configuration appears in both runs")
    print_table(rows, args.markdown)
    print_goals(rows, theirs)
    return 0


if __name__ == "__main__":
    sys.exit(main(parse_args(sys.argv[1:])))
