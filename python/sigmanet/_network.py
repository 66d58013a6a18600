"""sigmanet.Network: a fully connected sigmoid network trained by mini-batch SGD, on the CPU or a GPU."""

import threading

import numpy as np

from . import _arguments, _data, _sigmanet
from ._progress import Progress

_INITS = ["standard", "scaled"]
_PRECISIONS = ["float", "double"]
_COSTS = ["quadratic", "cross-entropy", "log-likelihood"]
_DEVICES = ["cpu", "gpu", "auto"]


class Network:
    """A fully connected network of sigmoid neurons (Nielsen's *Neural Networks and Deep Learning*, chapter 1, with
    chapter 3's costs), trained by sigmanet's C++ library: the same library, and the same numbers, as the
    ``sigmanet`` command-line tool.

    sizes: neurons per layer, input first: ``[784, 30, 10]`` is Nielsen's network for MNIST.
    init: ``"standard"``, weights and biases drawn from N(0, 1) (chapter 1), or ``"scaled"``, weights from
        N(0, 1/n_in) (chapter 3).
    seed: seeds the one generator behind the initial weights and every epoch's shuffle (0 to 2**64-1).
    precision: ``"float"`` or ``"double"`` (double trains on the CPU only).

    ``Network([784, 30, 10], seed=1).train(x, y, epochs=30, test=(xt, yt))`` trains what ``sigmanet train
    --seed 1`` trains, bit for bit (on the same build and machine, with the same ``threads``)."""

    def __init__(self, sizes, init="standard", seed=1, precision="float"):
        self._core = _sigmanet.Network(_arguments.sizes(sizes), _arguments.choice("init", init, _INITS),
                                       _arguments.whole("seed", seed, 0, _arguments.UINT64_MAX),
                                       _arguments.choice("precision", precision, _PRECISIONS))

    def train(self, x, y, epochs=30, batch=10, eta=3.0, cost="quadratic", lam=0.0, validation=None, test=None,
              device="auto", threads=None, early_stopping=None, eta_schedule=None, on_epoch=None, progress=False):
        """Trains by mini-batch SGD and returns the metrics of each epoch, a list of dicts.

        x: the training records, shape (N, features) or (N, rows, cols); uint8 pixels are divided by 255, as the
            command-line tool does; float32 or float64 values are taken as given, and must be such quotients p/255
            (the library holds 8-bit pixels). Any memory layout (non-contiguous arrays are copied).
        y: their labels, integers 0 to sizes[-1] - 1, shape (N,).
        epochs: passes over the training set in this call.
        batch: mini-batch size; each batch does w <- w - (eta/m) * the sum of its per-sample gradients (the last
            batch of an epoch may be smaller; it uses its own m).
        eta: the learning rate.
        cost: ``"quadratic"`` (chapter 1), ``"cross-entropy"``, or ``"log-likelihood"`` (a softmax output layer).
            A network's first training sets its output layer; later training must keep it.
        lam: L2 regularisation: w <- (1 - eta*lam/n) w - ..., n = N.
        validation, test: pairs (x, y) evaluated after each epoch, or None.
        device: ``"cpu"``, ``"gpu"``, or ``"auto"`` (the GPU when one is usable, else the CPU; ``devices()`` says
            which and why).
        threads: CPU threads for large batches and evaluation; None: the cores. Nielsen's 784-30-10 at batch 10
            trains on one thread whatever it is.
        early_stopping: stop when the validation accuracy has not improved for this many epochs; None: off.
        eta_schedule: ``"halve:N"`` halves eta when the validation accuracy has not improved for N epochs, and
            stops at 1/128 of its start; None or ``"constant"`` keeps it.
        on_epoch: called after each epoch with its metrics; returning False stops training.
        progress: draw a progress bar on sys.stderr and print each epoch's line, as ``sigmanet train`` does.

        Each epoch's metrics: ``epoch`` (the network's count, from 1), ``eta``, ``seconds`` (training alone, on the
        backend's clock), ``samples_per_second``; for a test or validation set, ``test_correct``, ``test_total``,
        ``test_accuracy`` and ``test_cost`` (with L2's term over the set's size), likewise ``validation_*``; and
        ``stopped_by`` when early stopping or the schedule ended training. ``history`` keeps them all.

        The GIL is released while the library trains. Ctrl-C raises KeyboardInterrupt after the current batch and
        leaves the network at that whole batch: calling ``train`` again with the same arguments and data continues
        where it stopped, to the same bits as a run never interrupted. Another call starts a new run from the
        network's present weights. Bad arguments raise TypeError or sigmanet.InputError (a ValueError) with the
        command-line tool's message, the argument named instead of the flag; sigmanet.DivergenceError when the
        network's outputs become NaN or Inf (the network keeps its weights from the last epoch's end)."""
        training = _data.labelled("x", x, "y", y)
        sets = _data.optional_set("validation", validation), _data.optional_set("test", test)
        settings = (_arguments.whole("epochs", epochs, 1, _arguments.INT_MAX),
                    _arguments.whole("batch", batch, 1, _arguments.UINT64_MAX),
                    _arguments.real("eta", eta),
                    _arguments.choice("cost", cost, _COSTS),
                    _arguments.real("lam", lam),
                    _arguments.optional_whole("early_stopping", early_stopping, 1, _arguments.INT_MAX) or 0,
                    _arguments.eta_schedule(eta_schedule),
                    _arguments.choice("device", device, _DEVICES),
                    _arguments.optional_whole("threads", threads, 1, 1024) or 0)
        on_epoch = _arguments.callable_or_none("on_epoch", on_epoch)
        on_batch = None
        if _arguments.flag("progress", progress):
            shown = Progress()
            on_batch, user_on_epoch = shown.batch, on_epoch

            def on_epoch(metrics):
                shown.epoch(metrics, self._core.run_target)
                return None if user_on_epoch is None else user_on_epoch(metrics)

        on_main_thread = threading.current_thread() is threading.main_thread()
        return self._core.train(training, *sets, *settings, on_batch, on_epoch, on_main_thread)

    def evaluate(self, x, y):
        """Accuracy and cost on records x with labels y: a dict with ``correct``, ``total``, ``accuracy`` and
        ``cost`` (the network's cost, with L2's term over the set's size). Runs where the network last trained,
        or on the CPU."""
        return self._core.evaluate(_data.labelled("x", x, "y", y))

    def output(self, x):
        """The output layer's activations for records x: shape (N, sizes[-1]), float32 for a float network."""
        return self._core.output(*_data.records("x", x))

    def predict(self, x):
        """The class of each record: the index of its largest output (the first of equals), shape (N,)."""
        return np.argmax(self.output(x), axis=1)

    @property
    def weights(self):
        """Each layer's weights, shape (sizes[l+1], sizes[l]) as torch.nn.Linear holds them: read-only copies, in
        the network's precision."""
        return _read_only(self._core.weights)

    @property
    def biases(self):
        """Each layer's biases, shape (sizes[l+1],): read-only copies, in the network's precision."""
        return _read_only(self._core.biases)

    def save(self, path):
        """Writes the model as ``sigmanet train --save`` does: safetensors, F32, ``layers.N.weight`` and
        ``layers.N.bias`` with the run's metadata, written whole or not at all. The command-line tool reads it
        (``sigmanet evaluate --model``), and so does ``sigmanet.load``."""
        self._core.save(_arguments.path("path", path))

    sizes = property(lambda self: self._core.sizes, doc="Neurons per layer, input first.")
    init = property(lambda self: self._core.init, doc='"standard" or "scaled".')
    seed = property(lambda self: self._core.seed, doc="The seed of the generator behind weights and shuffles.")
    precision = property(lambda self: self._core.precision, doc='"float" or "double".')
    cost = property(lambda self: self._core.cost, doc="The cost the network was last trained for.")
    lam = property(lambda self: self._core.lam, doc="L2's lambda of the last training.")
    epochs = property(lambda self: self._core.epochs, doc="Whole epochs trained, loaded ones included.")
    device = property(lambda self: self._core.device,
                      doc='Where the network last ran, as the tool says it ("cpu float, OpenBLAS"); "" before.')
    interrupted = property(lambda self: self._core.interrupted,
                           doc="Whether a train() call was interrupted; the same call again continues it.")
    history = property(lambda self: self._core.history, doc="The metrics of every epoch trained in this process.")
    metadata = property(lambda self: self._core.metadata, doc="What save() writes in the file's __metadata__.")

    def __repr__(self):
        return (f"sigmanet.Network({self.sizes!r}, init={self.init!r}, seed={self.seed!r}, "
                f"precision={self.precision!r})  # {self.epochs} epochs trained")


def load(path):
    """A network from a model file that ``sigmanet train --save`` or ``Network.save`` wrote (or a checkpoint):
    its weights, cost, seed, init, precision and epochs. The file holds no generator state: further training
    shuffles from the seed as a new network would."""
    net = Network.__new__(Network)
    net._core = _sigmanet.Network.load(_arguments.path("path", path))
    return net


def _read_only(arrays):
    for a in arrays:
        a.setflags(write=False)
    return arrays
