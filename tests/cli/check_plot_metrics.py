#!/usr/bin/python3
"""Checks what scripts/plot_metrics.py draws from a metrics file: each set's line in each panel, by content.

usage: check_plot_metrics.py METRICS.jsonl

The figure is drawn as the script draws it (its draw function), and every line is read back: in the accuracy
panel each set's accuracies in %, in the cost panel its costs, epoch by epoch, in the set's colour, with the
set's name in the legend.

Exit status: 0 all checks passed, 1 a check failed, 77 skipped (matplotlib missing; the reason is printed).
"""
import importlib.util
import json
import os
import sys

SKIP = 77

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.colors
    import matplotlib.pyplot as plt
except ImportError as e:
    print(f"skip: matplotlib is not importable ({e})")
    sys.exit(SKIP)


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "plot_metrics.py")
    spec = importlib.util.spec_from_file_location("plot_metrics", script)
    plot_metrics = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plot_metrics)

    with open(sys.argv[1]) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    fig = plot_metrics.draw(plt, rows, "check")
    accuracy, cost = fig.axes[:2]
    epochs = [r["epoch"] for r in rows]
    for panel, suffix, scale in ((accuracy, "accuracy", 100), (cost, "cost", 1)):
        lines = {line.get_label(): line for line in panel.get_lines()}
        for key, label, colour in plot_metrics.SETS:
            line = lines.get(label)
            if line is None:
                fail(f"the {suffix} panel has no line '{label}' (it has {sorted(lines)})")
            want = [scale * r[f"{key}_{suffix}"] for r in rows]
            if list(line.get_xdata()) != epochs or any(abs(a - b) > 1e-12 for a, b in zip(line.get_ydata(), want)):
                fail(f"the {suffix} panel's '{label}' line is {list(zip(line.get_xdata(), line.get_ydata()))}, "
                     f"the metrics say {list(zip(epochs, want))}")
            if matplotlib.colors.to_hex(line.get_color()) != matplotlib.colors.to_hex(colour):
                fail(f"the {suffix} panel's '{label}' line is {line.get_color()}, not {colour}")
        legend = [t.get_text() for t in panel.get_legend().get_texts()]
        if legend != [label for _, label, _ in plot_metrics.SETS]:
            fail(f"the {suffix} panel's legend is {legend}")
    print(f"plot_metrics: {len(rows)} epochs of {len(plot_metrics.SETS)} sets drawn as the metrics say")


if __name__ == "__main__":
    main()
