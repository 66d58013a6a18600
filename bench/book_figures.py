#!/usr/bin/python3
"""Reproduce the test accuracies of Nielsen's chapter 3 with `sigmanet train` on the CPU, over several seeds.

Each configuration is the book's (784-N-10, batch 10, 30 epochs, the full 50,000 training images, test accuracy
after each epoch); each runs once per seed. Prints a Markdown table: the median and range over the seeds of the
best epoch's and of the last epoch's test accuracy, the book's figure, and the median time of a run.

Usage:
  /usr/bin/python3 bench/book_figures.py --sigmanet build/sigmanet [--data DIR] [--seeds 5] [--json out.json]
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import time

# (label, flags, the book's figure)
CONFIGS = [
    ("784-30-10, cross-entropy, eta 0.5", ["--sizes", "784,30,10", "--cost", "cross-entropy", "--eta", "0.5"],
     "95.49%"),
    ("784-100-10, cross-entropy, eta 0.5", ["--sizes", "784,100,10", "--cost", "cross-entropy", "--eta", "0.5"],
     "96.82%"),
    ("784-100-10, cross-entropy, eta 0.5, lambda 5.0",
     ["--sizes", "784,100,10", "--cost", "cross-entropy", "--eta", "0.5", "--lambda", "5.0"], "about 98% (97.92%)"),
    ("784-100-10, cross-entropy, eta 0.5, lambda 5.0, --init scaled",
     ["--sizes", "784,100,10", "--cost", "cross-entropy", "--eta", "0.5", "--lambda", "5.0", "--init", "scaled"],
     "about 98%"),
    ("784-100-10, softmax + log-likelihood, eta 0.5",
     ["--sizes", "784,100,10", "--cost", "log-likelihood", "--eta", "0.5"], "none given"),
]

EPOCH = re.compile(r"^Epoch (\d+)/\d+: test (\d+)/(\d+)", re.M)


def run(sigmanet, data, flags, seed):
    cmd = [sigmanet, "train", "--device", "cpu", "--epochs", "30", "--batch", "10", "--seed", str(seed)] + flags
    if data:
        cmd += ["--data", data]
    start = time.monotonic()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    seconds = time.monotonic() - start
    accuracies = [100.0 * int(c) / int(t) for _, c, t in EPOCH.findall(out)]
    if len(accuracies) != 30:
        sys.exit(f"{' '.join(cmd)}: expected 30 epochs, got {len(accuracies)}")
    return {"best": max(accuracies), "last": accuracies[-1], "seconds": seconds}


def spread(values):
    return f"{statistics.median(values):.2f}% ({min(values):.2f}-{max(values):.2f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sigmanet", required=True)
    parser.add_argument("--data", default="")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--json", default="")
    args = parser.parse_args()

    results = []
    for label, flags, book in CONFIGS:
        runs = []
        for seed in range(1, args.seeds + 1):
            runs.append(run(args.sigmanet, args.data, flags, seed))
            print(f"{label}, seed {seed}: best {runs[-1]['best']:.2f}%, last {runs[-1]['last']:.2f}%, "
                  f"{runs[-1]['seconds']:.1f} s", file=sys.stderr, flush=True)
        results.append({"config": label, "flags": flags, "book": book, "runs": runs})

    print(f"| Configuration (batch 10, 30 epochs) | Best epoch, median (range) over {args.seeds} seeds "
          "| Last epoch, median (range) | Book | Time of a run (median) |")
    print("|---|---|---|---|---|")
    for r in results:
        runs = r["runs"]
        print(f"| {r['config']} | {spread([x['best'] for x in runs])} | {spread([x['last'] for x in runs])} "
              f"| {r['book']} | {statistics.median(x['seconds'] for x in runs):.1f} s |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
