#!/usr/bin/env python3
"""Runs an hour: N training runs as one `sigmanet sweep` against the same N `sigmanet train` runs one after another.

Both sides train Nielsen's network (784-30-10, batch 10, eta 3.0) on the CPU with seeds 1..N, for --epochs epochs
each, and write nothing but the sweep's own outputs. Each repetition runs the two back to back (the order alternating
from one repetition to the next, so that a neighbour's load falls on both), and the medians are compared: the ratio
is the sweep's time over the sequential time (below 1: the sweep is faster). The sweep on one thread is timed too:
it reads the data once like the sweep on all threads, so it tells what the threads give from what reading MNIST
once instead of N times gives.

    python3 bench/sweep_bench.py --cli build-cpu/sigmanet --runs 8 --epochs 1 --repetitions 3
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(command):
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli", default="build/sigmanet", help="the sigmanet tool")
    parser.add_argument("--runs", type=int, default=8, help="runs (seeds 1..N)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs a run")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="the sweep's runs at once")
    parser.add_argument("--data", default=None, help="MNIST folder (default: sigmanet's own default)")
    parser.add_argument("--metrics", action="store_true",
                        help="the train runs write --metrics too: the per-epoch lines a sweep writes (the same work)")
    parser.add_argument("--json", default=None, help="write every time to FILE")
    args = parser.parse_args()

    common = ["--device", "cpu", "--epochs", str(args.epochs)]
    if args.data:
        common += ["--data", args.data]
    sequential, swept, one_thread = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        for rep in range(args.repetitions):
            def one_by_one():
                def train(seed):
                    metrics = ["--metrics", os.path.join(folder, f"metrics-{seed}.jsonl")] if args.metrics else []
                    return timed([args.cli, "train", "--seed", str(seed)] + metrics + common)
                return sum(train(s) for s in range(1, args.runs + 1))

            def at_once(threads, name):
                out = os.path.join(folder, f"sweep-{rep}-{name}")
                return timed([args.cli, "sweep", "--seed", f"1-{args.runs}", "--threads", str(threads),
                              "--out", out] + common)

            if rep % 2 == 0:
                sequential.append(one_by_one())
                swept.append(at_once(args.threads, "all"))
                one_thread.append(at_once(1, "one"))
            else:
                one_thread.append(at_once(1, "one"))
                swept.append(at_once(args.threads, "all"))
                sequential.append(one_by_one())
            print(f"repetition {rep + 1}: one after another {sequential[-1]:.1f} s, sweep {swept[-1]:.1f} s, "
                  f"sweep on one thread {one_thread[-1]:.1f} s", file=sys.stderr)

    seq, sw, one = statistics.median(sequential), statistics.median(swept), statistics.median(one_thread)
    print(f"{args.runs} runs of {args.epochs} epoch(s), Nielsen's network, median of {args.repetitions}:")
    print(f"  one after another (train{' --metrics' if args.metrics else ''}): {seq:7.1f} s  {args.runs * 3600 / seq:8.0f} runs/hour")
    print(f"  at once (sweep, {args.threads} threads): {sw:7.1f} s  {args.runs * 3600 / sw:8.0f} runs/hour")
    print(f"  at once (sweep, 1 thread):  {one:7.1f} s  {args.runs * 3600 / one:8.0f} runs/hour")
    print(f"  sweep time / sequential time: {sw / seq:.2f}; sweep on {args.threads} threads / on 1: {sw / one:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": args.runs, "epochs": args.epochs, "threads": args.threads, "metrics": args.metrics,
                       "sequential_seconds": sequential, "sweep_seconds": swept,
                       "sweep_one_thread_seconds": one_thread, "ratio": sw / seq}, f, indent=1)


if __name__ == "__main__":
    main()
