"""Network: training, metrics, evaluation, outputs, parameters, save and load, devices."""

import os

import numpy as np
import pytest

import sigmanet


def test_nielsen_network_learns_mnist(mnist):
    train, validation, test = mnist
    net = sigmanet.Network([784, 30, 10], seed=1)
    metrics = net.train(*train, epochs=2, validation=validation, test=test, device="cpu")
    assert [m["epoch"] for m in metrics] == [1, 2]
    # Measured: 9072 and 9238 of 10,000 after epochs 1 and 2 (the CLI's figures for seed 1).
    assert [m["test_correct"] for m in metrics] == [9072, 9238]
    assert metrics[-1]["test_total"] == 10000 and metrics[-1]["validation_total"] == 10000
    assert metrics[-1]["validation_accuracy"] > 0.9
    assert net.epochs == 2 and net.history == metrics
    assert net.evaluate(*test) == {"correct": 9238, "total": 10000, "accuracy": 0.9238,
                                   "cost": pytest.approx(metrics[-1]["test_cost"], abs=0)}


def test_outputs_predictions_and_parameters(small):
    (x, y), (xt, yt) = small
    net = sigmanet.Network([784, 30, 10], seed=3)
    net.train(x, y, epochs=1, device="cpu")
    out = net.output(xt)
    assert out.shape == (1000, 10) and out.dtype == np.float32
    assert np.all((out > 0) & (out < 1))
    predicted = net.predict(xt)
    assert predicted.shape == (1000,)
    np.testing.assert_array_equal(predicted, np.argmax(out, axis=1))
    assert net.evaluate(xt, yt)["correct"] == int(np.sum(predicted == yt))
    # The output layer from the parameters, in float64: the library's float32 forward pass to rounding.
    a = xt.reshape(1000, 784) / 255.0
    for w, b in zip(net.weights, net.biases):
        a = 1 / (1 + np.exp(-(a @ w.T.astype(np.float64) + b)))
    np.testing.assert_allclose(out, a, atol=1e-5)  # measured: 3e-7 at most


def test_parameters_are_read_only_copies(small):
    (x, y), _ = small
    net = sigmanet.Network([784, 30, 10], seed=1)
    w = net.weights
    assert [a.shape for a in w] == [(30, 784), (10, 30)]
    assert [a.shape for a in net.biases] == [(30,), (10,)]
    with pytest.raises(ValueError):
        w[0][0, 0] = 1.0
    net.train(x, y, epochs=1, device="cpu")
    assert not np.array_equal(w[0], net.weights[0])  # the old copy kept its values
    assert net.weights[0].dtype == np.float32
    assert sigmanet.Network([4, 2], precision="double").weights[0].dtype == np.float64


def test_uint8_float_and_layouts_train_the_same_bits(small):
    (x, y), _ = small
    reference = sigmanet.Network([784, 30, 10], seed=5)
    reference.train(x, y, epochs=1, device="cpu")
    variants = [x.astype(np.float32) / np.float32(255), x / 255.0, np.asfortranarray(x), x.reshape(1000, 784),
                np.repeat(x, 2, axis=0)[::2], y.astype(np.int64)]
    for i, v in enumerate(variants):
        net = sigmanet.Network([784, 30, 10], seed=5)
        xs, ys = (x, v) if i == len(variants) - 1 else (v, y)
        net.train(xs, ys, epochs=1, device="cpu")
        for a, b in zip(net.weights, reference.weights):
            np.testing.assert_array_equal(a, b)


def test_on_epoch_sees_each_epoch_and_false_stops(small):
    (x, y), test = small
    seen = []
    net = sigmanet.Network([784, 30, 10])
    metrics = net.train(x, y, epochs=5, test=test, device="cpu",
                        on_epoch=lambda m: seen.append(m["epoch"]) or len(seen) < 2)
    assert seen == [1, 2] and len(metrics) == 2 and net.epochs == 2


def test_costs_lambda_schedule_and_early_stopping(mnist):
    (x, y), (xv, yv), _ = mnist
    net = sigmanet.Network([784, 30, 10], init="scaled", seed=2)
    metrics = net.train(x[:2000], y[:2000], epochs=40, eta=0.5, cost="cross-entropy", lam=5.0,
                        validation=(xv[:500], yv[:500]), early_stopping=2, device="cpu")
    assert metrics[-1]["stopped_by"].startswith("early stopping") and len(metrics) < 40
    assert net.cost == "cross-entropy" and net.lam == 5.0
    net = sigmanet.Network([784, 30, 10], seed=2)
    metrics = net.train(x[:1000], y[:1000], epochs=40, eta=1.0, cost="log-likelihood",
                        validation=(xv[:500], yv[:500]), eta_schedule="halve:1", device="cpu")
    assert metrics[1]["eta"] <= metrics[0]["eta"]
    assert np.allclose(net.output(xv[:3]).sum(axis=1), 1.0, atol=1e-6)  # softmax


def test_progress_only_when_asked(small, capsys):
    (x, y), test = small
    sigmanet.Network([784, 30, 10]).train(x, y, epochs=1, test=test, device="cpu")
    assert capsys.readouterr() == ("", "")
    sigmanet.Network([784, 30, 10]).train(x, y, epochs=1, test=test, device="cpu", progress=True)
    out, err = capsys.readouterr()
    assert out.startswith("Epoch 1/1: test ") and "samples/s" in out
    assert "Epoch 1/1 [" in err


def test_save_and_load_round_trip(small, tmp_path):
    (x, y), test = small
    net = sigmanet.Network([784, 30, 10], seed=4)
    net.train(x, y, epochs=2, test=test, device="cpu")
    net.save(tmp_path / "net.safetensors")
    back = sigmanet.load(tmp_path / "net.safetensors")
    assert back.sizes == [784, 30, 10] and back.seed == 4 and back.epochs == 2
    for a, b in zip(back.weights + back.biases, net.weights + net.biases):
        np.testing.assert_array_equal(a, b)
    assert back.evaluate(*test) == net.evaluate(*test)
    back.save(tmp_path / "again.safetensors")
    assert (tmp_path / "again.safetensors").read_bytes() == (tmp_path / "net.safetensors").read_bytes()


def test_devices_say_what_is_usable():
    cpu, gpu = sigmanet.devices()
    assert cpu["device"] == "cpu" and cpu["usable"] and cpu["threads"] >= 1
    assert gpu["device"] == "gpu"
    assert gpu["usable"] or gpu["reason"]


def test_load_idx_reads_one_pair(mnist):
    folder = os.environ["SIGMANET_DATA"]
    names = sorted(os.listdir(folder))
    images = next(n for n in names if n.startswith("t10k-images"))
    labels = next(n for n in names if n.startswith("t10k-labels"))
    x, y = sigmanet.load_idx(os.path.join(folder, images), os.path.join(folder, labels))
    np.testing.assert_array_equal(x, mnist.test[0])
    np.testing.assert_array_equal(y, mnist.test[1])
