#!/usr/bin/env python3
"""Runs an hour: N training runs as one `sigmanet sweep` against the same N `sigmanet train` runs one after another.

Both sides train Nielsen's network (784-30-10, batch 10, eta 3.0) on the CPU with seeds 1..N, for --epochs epochs
each, and write nothing but the sweep's own outputs. Each repetition runs the two back to back (the order alternating
from one repetition to the next, so that a neighbour's load falls on both), and the medians are compared: the ratio
is the sweep's time over the sequential time (below 1: the sweep is faster). The sweep on one thread is timed too:
it reads the data once like the sweep on all threads, so it tells what the threads give from what reading MNIST
once instead of N times gives. With --baseline, a second build is measured in the same repetitions, for a before and
after under the same load; the load average is printed with the figures.

    python3 bench/sweep_bench.py --cli build-cpu/sigmanet --runs 8 --epochs 30 --repetitions 3
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


CPU_SECONDS = []  # each timed command's user + system CPU seconds, in the order run


def timed(command):
    """The command's wall-clock seconds; its CPU seconds go to CPU_SECONDS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_SECONDS.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall


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
    parser.add_argument("--baseline", default=None,
                        help="a second sigmanet tool measured the same way, each repetition beside the first (the "
                             "order alternating), so that both see the same load")
    parser.add_argument("--json", default=None, help="write every time to FILE")
    args = parser.parse_args()

    common = ["--device", "cpu", "--epochs", str(args.epochs)]
    if args.data:
        common += ["--data", args.data]
    clis = [args.cli] + ([args.baseline] if args.baseline else [])
    times = {cli: {"sequential": [], "sweep": [], "one_thread": [], "sequential_cpu": [], "sweep_cpu": []}
             for cli in clis}
    loads = []
    with tempfile.TemporaryDirectory() as folder:
        for rep in range(args.repetitions):
            loads.append(os.getloadavg()[0])
            for cli in (clis if rep % 2 == 0 else clis[::-1]):
                t = times[cli]

                def one_by_one():
                    def train(seed):
                        metrics = ["--metrics", os.path.join(folder, f"metrics-{seed}.jsonl")] if args.metrics else []
                        return timed([cli, "train", "--seed", str(seed)] + metrics + common)
                    first = len(CPU_SECONDS)
                    wall = sum(train(s) for s in range(1, args.runs + 1))
                    t["sequential_cpu"].append(sum(CPU_SECONDS[first:]))
                    return wall

                def at_once(threads, name):
                    out = os.path.join(folder, f"sweep-{rep}-{name}-{clis.index(cli)}")
                    wall = timed([cli, "sweep", "--seed", f"1-{args.runs}", "--threads", str(threads),
                                  "--out", out] + common)
                    if threads == args.threads:
                        t["sweep_cpu"].append(CPU_SECONDS[-1])
                    return wall

                if rep % 2 == 0:
                    t["sequential"].append(one_by_one())
                    t["sweep"].append(at_once(args.threads, "all"))
                    t["one_thread"].append(at_once(1, "one"))
                else:
                    t["one_thread"].append(at_once(1, "one"))
                    t["sweep"].append(at_once(args.threads, "all"))
                    t["sequential"].append(one_by_one())
                print(f"repetition {rep + 1}, {cli}: one after another {t['sequential'][-1]:.1f} s, sweep "
                      f"{t['sweep'][-1]:.1f} s, sweep on one thread {t['one_thread'][-1]:.1f} s "
                      f"(load {loads[-1]:.2f})", file=sys.stderr)

    print(f"{args.runs} runs of {args.epochs} epoch(s), Nielsen's network, median of {args.repetitions}; "
          f"1-minute load average at each repetition's start: {', '.join(f'{x:.2f}' for x in loads)}")
    result = {"runs": args.runs, "epochs": args.epochs, "threads": args.threads, "metrics": args.metrics,
              "load_averages": loads, "builds": {}}
    for cli in clis:
        t = times[cli]
        seq, sw, one = (statistics.median(t[k]) for k in ("sequential", "sweep", "one_thread"))
        print(f"{cli}:")
        print(f"  one after another (train{' --metrics' if args.metrics else ''}): {seq:7.1f} s  {args.runs * 3600 / seq:8.0f} runs/hour")
        print(f"  at once (sweep, {args.threads} threads): {sw:7.1f} s  {args.runs * 3600 / sw:8.0f} runs/hour")
        print(f"  at once (sweep, 1 thread):  {one:7.1f} s  {args.runs * 3600 / one:8.0f} runs/hour")
        print(f"  sweep time / sequential time: {sw / seq:.2f}; sweep on {args.threads} threads / on 1: {sw / one:.2f}")
        # CPU seconds: the work each side does, which other processes on a shared machine disturb far less than
        # wall-clock time. The sweep's work spread evenly over its threads is the time it would take alone on
        # that many otherwise idle cores.
        seq_cpu, sw_cpu = statistics.median(t["sequential_cpu"]), statistics.median(t["sweep_cpu"])
        print(f"  CPU seconds: one after another {seq_cpu:.1f}, sweep {sw_cpu:.1f}; sweep CPU / {args.threads} "
              f"over sequential CPU: {sw_cpu / args.threads / seq_cpu:.2f}")
        result["builds"][cli] = {"sequential_seconds": t["sequential"], "sweep_seconds": t["sweep"],
                                 "sweep_one_thread_seconds": t["one_thread"], "ratio": sw / seq,
                                 "sequential_cpu_seconds": t["sequential_cpu"], "sweep_cpu_seconds": t["sweep_cpu"],
                                 "cpu_ratio_per_thread": sw_cpu / args.threads / seq_cpu}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
