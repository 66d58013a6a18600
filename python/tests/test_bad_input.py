"""Bad arguments and arrays: TypeError for a wrong type, sigmanet.InputError (a ValueError) for a wrong value, each
with the command-line tool's one-line wording and the argument's name in place of the flag."""

import re

import numpy as np
import pytest

import sigmanet


@pytest.fixture(scope="module")
def data(small):
    (x, y), _ = small
    return x[:100], y[:100]


@pytest.mark.parametrize("kwargs, message", [
    ({"batch": 0}, "batch: must be at least 1 (got 0)"),
    ({"epochs": 0}, "epochs: must be at least 1 (got 0)"),
    ({"eta": float("nan")}, "eta: expected a decimal number such as 0.5 or 3e-2 (got nan)"),
    ({"lam": -1}, "lam: must be a finite number, 0 or more (got -1)"),
    ({"cost": "hinge"}, "cost: expected quadratic, cross-entropy or log-likelihood (got 'hinge')"),
    ({"device": "tpu"}, "device: expected cpu, gpu or auto (got 'tpu')"),
    ({"eta_schedule": "halve:0"}, "eta_schedule: expected halve:N (halve eta after N epochs without a better "
                                  "validation accuracy, N >= 1) or constant, got 'halve:0'"),
    ({"threads": 0}, "threads: must be at least 1 (got 0)"),
])
def test_bad_settings_raise_value_error(data, kwargs, message):
    with pytest.raises(ValueError) as caught:
        sigmanet.Network([784, 30, 10]).train(*data, **kwargs)
    assert isinstance(caught.value, sigmanet.InputError)
    assert str(caught.value) == message


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": "3"}, "epochs: expected a whole number from 1 to 2147483647 (got '3')"),
    ({"eta": "3"}, "eta: expected a decimal number such as 0.5 or 3e-2 (got '3')"),
    ({"progress": 1}, "progress: expected True or False (got 1)"),
    ({"on_epoch": 3}, "on_epoch: expected a function or None (got 3)"),
    ({"test": 3}, "test: expected a pair (x, y) of records and labels, or None (got int)"),
])
def test_wrong_types_raise_type_error(data, kwargs, message):
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        sigmanet.Network([784, 30, 10]).train(*data, **kwargs)


def test_bad_arrays(data):
    x, y = data
    net = sigmanet.Network([784, 30, 10])
    with pytest.raises(TypeError, match=r"^x: expected uint8, float32 or float64 values \(got int32\)$"):
        net.train(x.astype(np.int32), y)
    with pytest.raises(TypeError, match=r"^y: expected integer labels \(got float32\)$"):
        net.train(x, y.astype(np.float32))
    nan = x.astype(np.float32) / 255
    nan[3, 5, 0] = np.nan
    with pytest.raises(ValueError, match=r"^x: NaN at record 3, feature 140$"):
        net.train(nan, y)
    off = x.astype(np.float64) / 255
    off[1, 0, 2] = 0.5
    with pytest.raises(ValueError, match=r"^x: value 0\.5 is not a pixel value p/255 .* at record 1, feature 2$"):
        net.train(off, y)
    wrong = y.astype(np.int64)
    wrong[7] = 10
    with pytest.raises(ValueError, match=r"^y: label 10 at record 7; labels must be 0\.\.9$"):
        net.train(x, wrong)
    wrong[7] = -1
    with pytest.raises(ValueError, match=r"^y: label -1 at record 7; labels must be 0\.\.9$"):
        net.train(x, wrong)
    with pytest.raises(ValueError, match=r"^y: 50 labels for 100 records of x$"):
        net.train(x, y[:50])
    with pytest.raises(ValueError, match=r"^sizes: the input layer has 784 neurons but x records have 560 features$"):
        net.train(x[:, :20], y)
    with pytest.raises(ValueError, match=r"^x: expected one record per row"):
        net.output(x[0, 0])
    assert net.epochs == 0  # nothing trained


def test_bad_networks_and_files(tmp_path):
    with pytest.raises(ValueError, match=r"^sizes: entry 2 \(0\): must be at least 1 \(got \[784, 0, 10\]\)$"):
        sigmanet.Network([784, 0, 10])
    with pytest.raises(ValueError, match=r"^init: expected standard or scaled \(got 'xavier'\)$"):
        sigmanet.Network([784, 30, 10], init="xavier")
    with pytest.raises(ValueError, match=r"^seed: must not be negative \(got -1\)$"):
        sigmanet.Network([784, 30, 10], seed=-1)
    missing = tmp_path / "missing.safetensors"
    with pytest.raises(ValueError, match=f"^{re.escape(str(missing))}: cannot open: No such file or directory$"):
        sigmanet.load(missing)
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ")
    with pytest.raises(ValueError, match=f"^{re.escape(str(damaged))}: "):
        sigmanet.load(damaged)
    with pytest.raises(ValueError, match=f"^MNIST not found in {re.escape(str(tmp_path))}: missing train-images-idx3-ubyte"):
        sigmanet.load_mnist(tmp_path)


def test_gpu_refused_with_the_reason_where_none_is_usable(data):
    gpu = sigmanet.devices()[1]
    if gpu["usable"]:
        pytest.skip("a GPU is usable here")
    with pytest.raises(ValueError, match=f"^device gpu: no usable GPU: {re.escape(gpu['reason'])}$"):
        sigmanet.Network([784, 30, 10]).train(*data, device="gpu")
