"""Argument checks with the command-line tool's one-line wording, the argument's name in place of the flag
(host/cli/flags.cpp): ``batch: must be at least 1 (got 0)``. A value of the wrong type is a TypeError; a value
of the right type that is out of range or unknown is a sigmanet.InputError, which is a ValueError."""

import math
import numbers
import os

from . import _sigmanet
from ._sigmanet import InputError

INT_MAX = 2**31 - 1
UINT64_MAX = 2**64 - 1


def _is_whole(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def whole(name, value, low, high):
    """value as an int in [low, high]."""
    if not _is_whole(value):
        raise TypeError(f"{name}: expected a whole number from {low} to {high} (got {value!r})")
    value = int(value)
    if value < low:
        raise InputError(f"{name}: {'must not be negative' if low == 0 else f'must be at least {low}'} (got {value})")
    if value > high:
        raise InputError(f"{name}: must be at most {high} (got {value})")
    return value


def optional_whole(name, value, low, high):
    """None (the default) or value as whole() checks it."""
    return None if value is None else whole(name, value, low, high)


def real(name, value):
    """value as a finite float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a decimal number such as 0.5 or 3e-2 (got {value!r})")
    value = float(value)
    if not math.isfinite(value):
        raise InputError(f"{name}: expected a decimal number such as 0.5 or 3e-2 (got {value!r})")
    return value


def choice(name, value, names):
    """value, one of names exactly as spelled."""
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected {_names_text(names)} (got {value!r})")
    if value not in names:
        raise InputError(f"{name}: expected {_names_text(names)} (got {value!r})")
    return value


def sizes(value):
    """Neurons per layer, input first, as a list of ints."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"sizes: expected a list of whole numbers such as [784, 30, 10] (got {value!r})")
    entries = list(value)
    for i, n in enumerate(entries):
        problem = None
        if not _is_whole(n):
            problem = f"expected a whole number from 1 to {INT_MAX}"
        elif n < 1:
            problem = "must be at least 1"
        elif n > INT_MAX:
            problem = f"must be at most {INT_MAX}"
        if problem:
            error = TypeError if not _is_whole(n) else InputError
            raise error(f"sizes: entry {i + 1} ({n!r}): {problem} (got {entries!r})")
    return [int(n) for n in entries]


def eta_schedule(value):
    """The schedule's halving period N ("halve:N"), 0 for a constant eta (None or "constant")."""
    if value is None:
        return 0
    expected = ("expected halve:N (halve eta after N epochs without a better validation accuracy, N >= 1) or "
                f"constant, got {value!r}")
    if not isinstance(value, str):
        raise TypeError(f"eta_schedule: {expected}")
    halve_after = _sigmanet.halve_eta_after(value)
    if halve_after is None:
        raise InputError(f"eta_schedule: {expected}")
    return halve_after


def path(name, value):
    """A file's path as str (str, bytes or os.PathLike)."""
    try:
        text = os.fspath(value)
    except TypeError:
        raise TypeError(f"{name}: expected a file name, str or os.PathLike (got {value!r})") from None
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not text:
        raise InputError(f"{name}: expected a file or folder name (got '')")
    if "\0" in text:
        raise InputError(f"{name}: a path cannot hold a NUL byte (got {text!r})")
    return text


def callable_or_none(name, value):
    if value is not None and not callable(value):
        raise TypeError(f"{name}: expected a function or None (got {value!r})")
    return value


def flag(name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{name}: expected True or False (got {value!r})")
    return value


def _names_text(names):
    """"cpu, gpu or auto"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
