"""The same numbers as the command-line tool: the same settings through Python and through `sigmanet train --save`
give byte-identical model files, and each reads the other's."""

import re

import pytest

import sigmanet

SETTINGS = [
    # (CLI flags, Network arguments, train arguments)
    ([], {}, {}),
    (["--init", "scaled", "--cost", "cross-entropy", "--lambda", "5", "--eta", "0.5", "--batch", "7"],
     {"init": "scaled"}, {"cost": "cross-entropy", "lam": 5.0, "eta": 0.5, "batch": 7}),
    (["--precision", "double", "--cost", "log-likelihood", "--eta", "0.25"],
     {"precision": "double"}, {"cost": "log-likelihood", "eta": 0.25}),
]


@pytest.mark.parametrize("flags, make, train", SETTINGS, ids=["chapter1", "chapter3", "double-softmax"])
def test_python_saves_the_bytes_the_cli_saves(mnist, cli, tmp_path, flags, make, train):
    (x, y), validation, (xt, yt) = mnist
    cli("train", "--train-size", "1000", "--test-size", "1000", "--epochs", "2", "--seed", "7", "--device", "cpu",
        "--threads", "2", "--save", str(tmp_path / "cli.safetensors"), *flags)
    net = sigmanet.Network([784, 30, 10], seed=7, **make)
    net.train(x[:1000], y[:1000], epochs=2, validation=validation, test=(xt[:1000], yt[:1000]), device="cpu",
              threads=2, **train)
    net.save(tmp_path / "python.safetensors")
    assert (tmp_path / "python.safetensors").read_bytes() == (tmp_path / "cli.safetensors").read_bytes()


def cli_test_accuracy(cli, model):
    """`sigmanet evaluate`'s test line: (correct, cost)."""
    out = cli("evaluate", "--model", str(model), "--device", "cpu")
    found = re.search(r"test set: (\d+)/10000 correct \([0-9.]+%\), \S+ cost ([0-9.]+)", out)
    assert found, out
    return int(found[1]), float(found[2])


def test_models_go_from_python_to_the_cli_and_back(mnist, cli, tmp_path):
    (x, y), _, test = mnist
    net = sigmanet.Network([784, 30, 10], seed=9)
    net.train(x[:2000], y[:2000], epochs=1, device="cpu")
    net.save(tmp_path / "python.safetensors")
    ours = net.evaluate(*test)
    correct, cost = cli_test_accuracy(cli, tmp_path / "python.safetensors")
    assert correct == ours["correct"]
    assert cost == pytest.approx(ours["cost"], abs=5e-7)  # the CLI prints 6 digits

    cli("train", "--train-size", "2000", "--epochs", "1", "--seed", "9", "--device", "cpu",
        "--save", str(tmp_path / "cli.safetensors"))
    back = sigmanet.load(tmp_path / "cli.safetensors")
    assert back.epochs == 1 and back.seed == 9 and back.cost == "quadratic"
    assert back.evaluate(*test)["correct"] == cli_test_accuracy(cli, tmp_path / "cli.safetensors")[0]
    back.save(tmp_path / "again.safetensors")
    assert (tmp_path / "again.safetensors").read_bytes() == (tmp_path / "cli.safetensors").read_bytes()


def test_the_gpu_trains_the_bytes_the_cli_trains_there(mnist, cli, tmp_path):
    """On a GPU, or on the CPU emulation of one (a build with SIGMANET_GPU_EMULATOR=ON, run with
    SIGMANET_EMULATE_GPU=1): a hundred records, as the emulator runs the kernels slowly."""
    gpu = sigmanet.devices()[1]
    if not gpu["usable"]:
        pytest.skip(f"no usable GPU: {gpu['reason']}")
    (x, y), _, (xt, yt) = mnist
    cli("train", "--train-size", "100", "--validation-size", "100", "--test-size", "50", "--epochs", "1",
        "--seed", "7", "--device", "gpu", "--save", str(tmp_path / "cli.safetensors"))
    net = sigmanet.Network([784, 30, 10], seed=7)
    net.train(x[:100], y[:100], epochs=1, test=(xt[:50], yt[:50]), device="gpu")
    assert net.device.startswith("gpu")
    net.save(tmp_path / "python.safetensors")
    assert (tmp_path / "python.safetensors").read_bytes() == (tmp_path / "cli.safetensors").read_bytes()
