"""sigmanet's Python API and a plain PyTorch loop doing the same work, side by side, in one Python process.

The work, per repetition: a fresh 784-30-10 sigmoid network (N(0,1) weights and biases), one epoch of mini-batch
SGD over MNIST's 50,000 training images in a shuffled order (batch 10, eta 3, quadratic cost: the step is
w <- w - eta/m * the sum of the per-sample gradients), then the accuracy on the 10,000 test images. Timed from the
call to its return: for sigmanet, Network(...) and net.train(x, y, epochs=1, test=...) with uint8 arrays as
load_mnist returns them; for PyTorch, the loop a PyTorch user writes (autograd, in-place updates under no_grad),
its images converted to float32 and its labels to one-hot once, before the clock starts. Both on the CPU, on
--threads threads (sigmanet's 784-30-10 at batch 10 trains on one whatever the number). One warm-up repetition
of each is excluded; the figures are the median, min and max of the timed ones, in seconds per epoch.

sigmanet is imported before torch, so that OpenBLAS runs the kernels sigmanet names on this CPU for both.

Usage: python bench/python_vs_pytorch.py [--repetitions 5] [--threads 1] [--data DIR]
(in an environment with the sigmanet package, pip install ., and torch, e.g. Debian's python3-torch through a
virtual environment made with --system-site-packages)
"""

import argparse
import statistics
import time

import sigmanet  # before torch: see above

import numpy as np  # noqa: E402
import torch  # noqa: E402


def sigmanet_epoch(train, test, seed, threads):
    net = sigmanet.Network([784, 30, 10], seed=seed)
    metrics = net.train(*train, epochs=1, batch=10, eta=3.0, test=test, device="cpu", threads=threads)
    return metrics[0]["test_accuracy"]


def pytorch_epoch(x, y_onehot, xt, yt, seed, eta=3.0, batch=10):
    generator = torch.Generator().manual_seed(seed)
    sizes = [784, 30, 10]
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params += [torch.randn(n_out, n_in, generator=generator).requires_grad_(),
                   torch.randn(n_out, generator=generator).requires_grad_()]
    order = torch.randperm(len(x), generator=generator)
    for start in range(0, len(x), batch):
        idx = order[start:start + batch]
        a = x[idx]
        for w, b in zip(params[0::2], params[1::2]):
            a = torch.sigmoid(torch.addmm(b, a, w.t()))
        # The sum over the batch of 1/2 |a - y|^2, divided by m: the step is eta/m * the sum of the gradients.
        loss = 0.5 * (a - y_onehot[idx]).pow(2).sum() / len(idx)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(eta * g)
    with torch.no_grad():
        a = xt
        for w, b in zip(params[0::2], params[1::2]):
            a = torch.sigmoid(torch.addmm(b, a, w.t()))
        return float((a.argmax(dim=1) == yt).float().mean())


def timed(run, repetitions, warmup):
    seconds, accuracies = [], []
    for r in range(warmup + repetitions):
        start = time.perf_counter()
        accuracy = run(r + 1)
        elapsed = time.perf_counter() - start
        if r >= warmup:
            seconds.append(elapsed)
            accuracies.append(accuracy)
    return seconds, accuracies


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data", default=None, help="MNIST folder (default: $SIGMANET_DATA, else ./data/mnist)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    train, _, test = sigmanet.load_mnist(args.data)
    x = torch.from_numpy(train[0].reshape(len(train[0]), 784).astype(np.float32) / 255)
    y_onehot = torch.nn.functional.one_hot(torch.from_numpy(train[1].astype(np.int64)), 10).float()
    xt = torch.from_numpy(test[0].reshape(len(test[0]), 784).astype(np.float32) / 255)
    yt = torch.from_numpy(test[1].astype(np.int64))

    results = {
        "sigmanet (Python API)": timed(lambda seed: sigmanet_epoch(train, test, seed, args.threads),
                                       args.repetitions, args.warmup),
        f"PyTorch {torch.__version__} (plain loop)": timed(lambda seed: pytorch_epoch(x, y_onehot, xt, yt, seed),
                                                         args.repetitions, args.warmup),
    }
    print(f"784-30-10, batch 10, one epoch of 50,000 + test on 10,000, CPU, {args.threads} thread(s); "
          f"{args.repetitions} timed repetitions after {args.warmup} warm-up")
    print(f"{'':32} {'median s':>9} {'min s':>7} {'max s':>7}  test accuracy (median)")
    medians = {}
    for name, (seconds, accuracies) in results.items():
        medians[name] = statistics.median(seconds)
        print(f"{name:32} {medians[name]:9.3f} {min(seconds):7.3f} {max(seconds):7.3f}  "
              f"{statistics.median(accuracies):.4f}")
    ours, theirs = medians.values()
    print(f"PyTorch / sigmanet: {theirs / ours:.1f}x the time")


if __name__ == "__main__":
    main()
