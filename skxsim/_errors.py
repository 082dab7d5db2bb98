"""Errors skxsim raises at its boundary, and the checks behind them."""

from __future__ import annotations

import functools
import os
import sys

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError


class OutputTooLargeError(MemoryError):
    """The requested output would not fit in the memory this machine has."""


def available_memory() -> int | None:
    """Bytes of memory available to allocate now, if the system says."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_output_size(n_bytes: int, what: str, ways_out: str) -> None:
    """Refuse, before allocating, an output larger than the available memory."""
    available = available_memory()
    if available is not None and n_bytes > available:
        raise OutputTooLargeError(
            f"{what} would take {n_bytes / 2**30:.1f} GiB, more than the "
            f"{available / 2**30:.1f} GiB of memory available. {ways_out}"
        )


WAYS_OUT = (
    "Use sparse output (sparse=True), a smaller k, full=False, or transform "
    "the query in blocks of rows (skxsim.transform_many, or slices of X)."
)


def output_bytes(n, n_ref, k, full, sparse, dtype) -> int:
    """Bytes the output of ``transform`` will take."""
    itemsize = np.dtype(dtype).itemsize
    entries = n * (n_ref if full else k)
    if sparse:
        return entries * (itemsize + np.dtype(np.intp).itemsize)
    return n * n_ref * itemsize


def _librosa_parameter_error():
    """librosa's ParameterError, if librosa is already imported."""
    module = sys.modules.get("librosa.util.exceptions")
    return getattr(module, "ParameterError", None)


@functools.lru_cache(maxsize=4)
def _compatible_class(base: type, librosa_error: type) -> type:
    return type(
        librosa_error.__name__,
        (base, librosa_error),
        {
            "__module__": __name__,
            "__doc__": f"{base.__name__} that is also librosa's ParameterError.",
        },
    )


def librosa_errors(func):
    """Make a librosa drop-in's ``ValueError`` catchable as librosa's.

    Where librosa is imported (a migrating user's ``except
    librosa.ParameterError:``), a ``ValueError`` (scikit-learn's
    ``InvalidParameterError`` included) leaves the function as an instance
    of a class deriving from both it and ``librosa.ParameterError``.
    librosa itself is never imported for this.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ValueError as exc:
            librosa_error = _librosa_parameter_error()
            if librosa_error is None or isinstance(exc, librosa_error):
                raise
            base = (
                InvalidParameterError
                if isinstance(exc, InvalidParameterError)
                else ValueError
            )
            raise _compatible_class(base, librosa_error)(*exc.args) from exc

    return wrapper
