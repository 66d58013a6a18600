"""What train(progress=True) shows: a bar on sys.stderr during each epoch and the command-line tool's line per
epoch on sys.stdout, written through Python's streams so that a notebook shows them too."""

import sys


class Progress:
    WIDTH = 40

    def __init__(self):
        self._drawn = False

    def batch(self, label, done, total):
        """Called by the trainer at most every 100 ms: "Epoch 3/30 [################........................]  40%"."""
        filled = self.WIDTH * done // total
        bar = "#" * filled + "." * (self.WIDTH - filled)
        sys.stderr.write(f"\r{label} [{bar}] {100 * done // total:3d}%")
        sys.stderr.flush()
        self._drawn = True

    def epoch(self, metrics, target):
        """"Epoch 1/30: test 9088/10000 (90.88%), 0.12 s, 417502 samples/s", as `sigmanet train` prints it."""
        if self._drawn:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self._drawn = False
        line = f"Epoch {metrics['epoch']}/{target}:"
        if "test_total" in metrics:
            line += (f" test {metrics['test_correct']}/{metrics['test_total']}"
                     f" ({100 * metrics['test_accuracy']:.2f}%),")
        if "validation_accuracy" in metrics:
            line += f" validation {100 * metrics['validation_accuracy']:.2f}%,"
        line += f" {metrics['seconds']:.2f} s, {metrics['samples_per_second']:.0f} samples/s"
        print(line, flush=True)
        if "stopped_by" in metrics:
            print(f"Stopped by {metrics['stopped_by']} after epoch {metrics['epoch']}", flush=True)
