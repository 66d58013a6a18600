"""sigmanet: Nielsen's sigmoid networks trained by a C++ and CUDA library, with NumPy arrays in and out.

    import sigmanet
    train, validation, test = sigmanet.load_mnist()
    net = sigmanet.Network([784, 30, 10])
    metrics = net.train(*train, epochs=30, test=test)

The same library as the ``sigmanet`` command-line tool, and the same numbers: the same settings give the same
model, byte for byte."""

import warnings as _warnings

from . import _sigmanet

# Before numpy: the library opens OpenBLAS with the kernels the command-line tool uses (python/src/openblas_first.hpp).
_blas_warning = _sigmanet.open_blas_first()
if _blas_warning:
    _warnings.warn(_blas_warning, RuntimeWarning, stacklevel=2)

from ._data import Mnist, load_idx, load_mnist  # noqa: E402 (after OpenBLAS)
from ._network import Network, load  # noqa: E402
from ._sigmanet import DivergenceError, Error, InputError  # noqa: E402

__version__ = _sigmanet.version()
__all__ = ["Network", "load", "load_mnist", "load_idx", "Mnist", "devices", "Error", "InputError",
           "DivergenceError"]


def devices():
    """What can train here: a list of dicts, one per device, each with ``device`` ("cpu" or "gpu"), ``usable``,
    ``reason`` (why not, or None) and ``name`` ("cpu float, OpenBLAS"; for a usable GPU also
    ``compute_capability``, ``memory_bytes``, ``driver_version`` and ``runtime_version``), and for the CPU
    ``threads``, the default of ``Network.train(threads=None)``."""
    return _sigmanet.devices()
