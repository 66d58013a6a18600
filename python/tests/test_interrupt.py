"""Behaving like Python while C++ trains: the GIL released, and Ctrl-C (SIGINT to a child process) raising
KeyboardInterrupt at a whole batch, from which the same train() call continues to the bits of a run never stopped."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np

import sigmanet

CHILD = r"""
import json, sys, threading
import numpy as np
import sigmanet

(x, y), _, _ = sigmanet.load_mnist()
x, y = x[:20000], y[:20000]
net = sigmanet.Network([784, 30, 10], seed=11)

# Epoch 1's end wakes a thread that tells the parent; it can print only once training has released the GIL again,
# so the parent's SIGINT comes while a later epoch trains.
epoch_1_done = threading.Event()
threading.Thread(target=lambda: epoch_1_done.wait() and print("epoch 1", flush=True), daemon=True).start()

def announce(metrics):
    if metrics["epoch"] == 1:
        epoch_1_done.set()

try:
    net.train(x, y, epochs=6, device="cpu", threads=1, on_epoch=announce)
    print(json.dumps({"interrupted": False}), flush=True)
    sys.exit(0)
except KeyboardInterrupt:
    stopped = {"interrupted": net.interrupted, "epochs": net.epochs, "position": net._core.epoch_position}
net.train(x, y, epochs=6, device="cpu", threads=1, on_epoch=announce)  # the same call: continues
whole = sigmanet.Network([784, 30, 10], seed=11)
whole.train(x, y, epochs=6, device="cpu", threads=1)
stopped["epochs_after"] = net.epochs
stopped["same_bits"] = all(np.array_equal(a, b) for a, b in zip(net.weights + net.biases,
                                                                  whole.weights + whole.biases))
print(json.dumps(stopped), flush=True)
"""


def python_child(script, **kwargs):
    """A Python process running script with SIGINT's default action, so that Python installs its own handler
    (KeyboardInterrupt), as it does in a terminal: a shell without job control starts background commands, such as
    a CI run, with SIGINT ignored, and their children keep it ignored."""
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **kwargs)


def test_ctrl_c_stops_at_a_whole_batch_and_the_call_continues(mnist):
    child = python_child(CHILD)
    assert child.stdout.readline() == "epoch 1\n"
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=300)
    assert child.returncode == 0
    result = json.loads(out.splitlines()[-1])
    assert result["interrupted"] is True
    assert 1 <= result["epochs"] < 6  # stopped within the call, the epochs done kept
    assert result["position"] > 0 and result["position"] % 10 == 0  # within an epoch, at a whole batch of 10
    assert result["epochs_after"] == 6 and result["same_bits"] is True


def test_ctrl_c_unhandled_ends_python_as_keyboard_interrupt(mnist):
    script = ("import sigmanet\n(x, y), _, _ = sigmanet.load_mnist()\n"
              "sigmanet.Network([784, 30, 10]).train(x, y, epochs=50, device='cpu', "
              "on_epoch=lambda m: print('epoch', flush=True))\n")
    child = python_child(script, stderr=subprocess.PIPE)
    assert child.stdout.readline() == "epoch\n"
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=300)
    # Python ends on an unhandled KeyboardInterrupt by raising SIGINT again with its default action.
    assert child.returncode == -signal.SIGINT and err.rstrip().endswith("KeyboardInterrupt"), err


def test_the_gil_is_released_while_training(mnist):
    """A Python thread keeps running while an epoch trains: its clock readings cover the epoch with no gap as long
    as the epoch (with the GIL held they would stop from the epoch's start to its end)."""
    (x, y), _, _ = mnist
    readings, marks, stop = [], [], threading.Event()

    def count():
        while not stop.is_set():
            readings.append(time.perf_counter())

    def mark(metrics):
        marks.append(time.perf_counter())

    thread = threading.Thread(target=count)
    thread.start()
    try:
        metrics = sigmanet.Network([784, 30, 10]).train(x, y, epochs=2, device="cpu", threads=1, on_epoch=mark)
    finally:
        stop.set()
        thread.join()
    inside = np.array([t for t in readings if marks[0] < t < marks[1]])
    assert len(inside) > 2
    longest_gap = np.max(np.diff(np.concatenate([[marks[0]], inside, [marks[1]]])))
    assert longest_gap < metrics[1]["seconds"] / 2  # measured: 5 ms gaps (the switch interval) in a 0.2 s epoch
