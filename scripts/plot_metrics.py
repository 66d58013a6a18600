#!/usr/bin/python3
"""Draws the training curves of a `sigmanet train --metrics FILE` run as a PNG.

usage: /usr/bin/python3 scripts/plot_metrics.py METRICS.jsonl OUT.png [--title TEXT]

Two panels, per epoch: accuracy (test, and training/validation when the file has them) and the quadratic
cost on the same sets. Needs Debian's python3-matplotlib (exit status 77 with the reason when missing).
"""
import argparse
import json
import sys


def load(path):
    rows = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.exit(f"plot_metrics: {path}:{number}: not a JSON line ({e.msg})")
    if not rows:
        sys.exit(f"plot_metrics: {path} holds no epochs")
    return rows


def series(rows, key):
    points = [(r["epoch"], r[key]) for r in rows if r.get(key) is not None]
    return [p[0] for p in points], [p[1] for p in points]


# The sets drawn: the key's prefix in the metrics, the legend's name, the colour.
SETS = [("train", "training", "tab:blue"), ("validation", "validation", "tab:orange"), ("test", "test", "tab:green")]


def draw(plt, rows, title):
    """The figure: accuracy in % (left) and cost (right) per epoch, one line per set the rows have."""
    fig, (acc, cost) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, label, colour in SETS:
        x, y = series(rows, f"{key}_accuracy")
        if x:
            acc.plot(x, [100 * v for v in y], marker="o", markersize=3, label=label, color=colour)
        x, y = series(rows, f"{key}_cost")
        if x:
            cost.plot(x, y, marker="o", markersize=3, label=label, color=colour)
    acc.set_title("Accuracy")
    acc.set_xlabel("epoch")
    acc.set_ylabel("% correct")
    cost.set_title("Quadratic cost")
    cost.set_xlabel("epoch")
    cost.set_ylabel("C = (1/2n) sum ||a - y||^2")
    for ax in (acc, cost):
        ax.grid(True, alpha=0.3)
        ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("metrics")
    parser.add_argument("out")
    parser.add_argument("--title", default=None)
    args = parser.parse_args()
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print(f"plot_metrics: matplotlib is not importable ({e}); install python3-matplotlib", file=sys.stderr)
        sys.exit(77)

    rows = load(args.metrics)
    fig = draw(plt, rows, args.title or f"sigmanet training: {args.metrics}")
    fig.savefig(args.out, dpi=100)
    print(f"plot_metrics: {len(rows)} epochs drawn in {args.out}")


if __name__ == "__main__":
    main()
