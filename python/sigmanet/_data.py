"""Data in: MNIST and IDX files as NumPy arrays, and arrays of records and labels as the C++ layer takes them."""

import collections
import warnings

import numpy as np

from . import _arguments, _sigmanet
from ._sigmanet import InputError

Mnist = collections.namedtuple("Mnist", ["train", "validation", "test"])
Mnist.__doc__ = """Nielsen's split of MNIST: train (the first 50,000 records of the training file), validation (its
last 10,000) and test (the 10,000 of t10k), each a pair (x, y): x uint8 images of shape (N, 28, 28), y uint8
labels of shape (N,)."""

_RECORD_TYPES = (np.uint8, np.float32, np.float64)


def load_mnist(path=None):
    """MNIST as NumPy arrays, in Nielsen's split: ``train, validation, test = sigmanet.load_mnist()``, each a
    pair ``(x, y)`` of uint8 images, shape (N, 28, 28), and uint8 labels, shape (N,).

    path: the folder of the four IDX files (each raw or .gz), as ``sigmanet train --data`` takes it; None looks
    where the command-line tool does: ``$SIGMANET_DATA``, else ``./data/mnist``. Every header, length and label is
    checked; a missing or damaged file raises sigmanet.InputError naming it (and, when missing, how to fetch the
    files: ``scripts/get-mnist.sh DIR``). A folder that holds both NAME and NAME.gz with the same records reads NAME
    and says so in a warning."""
    folder = None if path is None else _arguments.path("path", path)
    train, validation, test, notes = _sigmanet.load_mnist(folder)
    for note in notes:
        warnings.warn(note, stacklevel=2)
    return Mnist(train, validation, test)


def load_idx(images, labels):
    """One pair of IDX files (raw or .gz) as ``(x, y)``: uint8 images, shape (N, rows, cols), and uint8 labels,
    shape (N,). Raises sigmanet.InputError naming the file for a bad header, length or label (labels must be
    0..9), or when the counts differ."""
    return _sigmanet.load_idx(_arguments.path("images", images), _arguments.path("labels", labels))


def records(name, x):
    """x as the C++ layer takes it: (a 2-D C-contiguous array, one row per record; the image's rows; its cols).
    Any shape (N, ...) is N records of the trailing dimensions flattened."""
    x = np.asarray(x)
    if x.dtype not in _RECORD_TYPES:
        raise TypeError(f"{name}: expected uint8, float32 or float64 values (got {x.dtype})")
    if x.ndim < 2:
        raise InputError(f"{name}: expected one record per row, shape (records, features) or "
                         f"(records, rows, cols) (got shape {x.shape})")
    rows, cols = (x.shape[1], x.shape[2]) if x.ndim == 3 else (1, int(np.prod(x.shape[1:])))
    return np.ascontiguousarray(x.reshape(len(x), rows * cols)), rows, cols


def labels(name, y):
    """y as a 1-D C-contiguous integer array."""
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer labels (got {y.dtype})")
    if y.ndim != 1:
        raise InputError(f"{name}: expected one label per record, shape (records,) (got shape {y.shape})")
    return np.ascontiguousarray(y)


def labelled(x_name, x, y_name, y):
    """Records and their labels as one set for the C++ layer."""
    return (*records(x_name, x), labels(y_name, y))


def optional_set(name, pair):
    """validation= or test=: None, or a pair (x, y)."""
    if pair is None:
        return None
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise TypeError(f"{name}: expected a pair (x, y) of records and labels, or None (got {type(pair).__name__})")
    return labelled(f"{name}[0]", pair[0], f"{name}[1]", pair[1])
