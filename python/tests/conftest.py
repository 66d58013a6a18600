"""What the tests share: MNIST (from $SIGMANET_DATA, as the library reads it) and the sigmanet command-line tool
($SIGMANET_CLI, else `sigmanet` on PATH) for the tests that compare with it."""

import os
import shutil
import subprocess

import pytest

import sigmanet


@pytest.fixture(scope="session")
def mnist():
    if not os.environ.get("SIGMANET_DATA") and not os.path.isdir("data/mnist"):
        pytest.skip("MNIST not found: set SIGMANET_DATA to the folder scripts/get-mnist.sh fetched it into")
    return sigmanet.load_mnist()


@pytest.fixture(scope="session")
def small(mnist):
    """The first 1,000 training records and the first 1,000 test records: what `sigmanet train --train-size 1000
    --test-size 1000` trains and tests on."""
    (x, y), _, (xt, yt) = mnist
    return (x[:1000], y[:1000]), (xt[:1000], yt[:1000])


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("SIGMANET_CLI") or shutil.which("sigmanet")
    if not path:
        pytest.skip("the sigmanet tool: set SIGMANET_CLI to its path, or put it on PATH")

    def run(*args):
        done = subprocess.run([path, *args], capture_output=True, text=True)
        assert done.returncode == 0, f"sigmanet {' '.join(args)}: {done.stderr}"
        return done.stdout

    return run
