"""The ``memory=`` cache of index builds, verified on every load.

The cached function builds an index from the reference content and the
index parameters only (not k, mode or bandwidth), so grid searches, refits
and other processes reuse a persisted index.  skxsim's version is part of the
key.  A stored index comes back with the checksum taken when it was built;
one that does not match (a damaged file), or that cannot be read at all, is
rebuilt with a one-line warning.

A reload must cost well under the build it replaces.  The reference enters
the key as one SHA-1 of its bytes (joblib would hash the array itself, with
MD5, at each of the two lookups a load needs), and the checksum is a CRC-32
of the index's content: it catches damage, which is all it is for, at
several times the speed of a cryptographic digest.  Backends whose build
costs less than such a reload (:data:`UNCACHED`) are built every time.
"""

from __future__ import annotations

import hashlib
import pickle
import types
import warnings
import zlib

import numpy as np
from sklearn.utils.validation import check_memory

from .._version import __version__
from ..exceptions import CacheWarning
from ._backends import build_index

# Backends whose index is cheaper to build than to load and verify (the
# BLAS engine prepares its reference in a few passes over it, SciPy's
# cKDTree builds 200000 frames in about 0.05 s, brute force keeps the frames
# only): ``memory=`` builds them every time.  Measured by
# ``benchmarks/bench_cache.py``; the others load at least 2x faster than
# they build.
UNCACHED = frozenset({"blas", "brute", "ckd_tree"})


class _Crc32:
    """zlib's CRC-32 with hashlib's ``update`` / ``hexdigest``."""

    def __init__(self) -> None:
        self.value = 0

    def update(self, data) -> None:
        self.value = zlib.crc32(data, self.value)

    def hexdigest(self) -> str:
        return f"{self.value:08x}"


def checksum(obj) -> str:
    """A CRC-32 of ``obj``'s content: its arrays' bytes and its other state.

    Walked through the pickling protocol (``__reduce_ex__``) in a canonical
    order, so an index and its copy loaded from disk (where arrays that were
    shared may come back as separate copies) have the same checksum.  Every
    array's dtype and shape enter it, so a truncated array is caught, and a
    CRC catches any burst of damage up to 32 bits and other damage but for
    one chance in 2**32.
    """
    digest = _Crc32()
    _feed(digest, obj, depth=0)
    return digest.hexdigest()


def reference_key(reference: np.ndarray) -> str:
    """The cache key of a reference's content: its dtype, shape and a SHA-1
    of its values (in C order, whatever its layout)."""
    frames = np.ascontiguousarray(reference)
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(f"{frames.dtype.str} {frames.shape}".encode())
    digest.update(frames.reshape(-1).view(np.uint8).data)
    return digest.hexdigest()


def _feed(digest, obj, depth: int) -> None:
    if depth > 50:
        raise ValueError("object too deeply nested to checksum")
    if isinstance(obj, np.ndarray):
        digest.update(f"ndarray {obj.dtype.str} {obj.shape}".encode())
        if obj.dtype.hasobject:
            for item in obj.ravel():
                _feed(digest, item, depth + 1)
        else:
            digest.update(np.ascontiguousarray(obj).view(np.uint8).ravel().data)
    elif isinstance(obj, bytes | bytearray):
        digest.update(b"bytes")
        digest.update(obj)
    elif obj is None or isinstance(obj, str | int | float | complex | np.generic):
        digest.update(f"{type(obj).__name__} {obj!r}".encode())
    elif isinstance(obj, dict):
        digest.update(f"dict {len(obj)}".encode())
        for key in sorted(obj, key=repr):
            _feed(digest, key, depth + 1)
            _feed(digest, obj[key], depth + 1)
    elif isinstance(obj, list | tuple):
        digest.update(f"{type(obj).__name__} {len(obj)}".encode())
        for item in obj:
            _feed(digest, item, depth + 1)
    elif isinstance(obj, type) or callable(obj) and hasattr(obj, "__qualname__"):
        digest.update(f"{getattr(obj, '__module__', '')}.{obj.__qualname__}".encode())
    else:
        reduced = obj.__reduce_ex__(4)
        digest.update(f"object {type(obj).__qualname__}".encode())
        _feed(digest, tuple(reduced[1:3]), depth + 1)


def build_and_checksum(
    reference,
    reference_key,
    metric,
    metric_params,
    algorithm,
    algorithm_params,
    skxsim_version,
):
    """Build an index and return it with its checksum (the cached function).

    The cache ignores ``reference`` and is keyed on ``reference_key`` (see
    :func:`reference_key`); ``skxsim_version`` only enters the key: an index
    cached by another version is never loaded.
    """
    index = build_index(reference, metric, metric_params, algorithm, algorithm_params)
    return index, checksum(index)


def _fresh(func):
    """A new function object with ``func``'s code, name and module.

    joblib writes a function's code next to its cache the first time it sees
    the function object in a process, and then skips that for every other
    cache location; a location that never got the file looks stale to the
    next process, which clears it and rebuilds.  A fresh function object
    (same code, hence the same cache entries) makes joblib check the
    location at hand each time.
    """
    fresh = types.FunctionType(
        func.__code__,
        func.__globals__,
        func.__name__,
        func.__defaults__,
        func.__closure__,
    )
    fresh.__qualname__ = func.__qualname__
    fresh.__module__ = func.__module__
    fresh.__doc__ = func.__doc__
    return fresh


def cached_build(memory, reference, metric, metric_params, algorithm, algorithm_params):
    """The index of ``reference``: from the cache of ``memory`` when it holds
    a sound one, built (and stored) otherwise; built every time for the
    backends in :data:`UNCACHED`."""
    memory = check_memory(memory)
    if memory.location is None or algorithm in UNCACHED:
        return build_index(
            reference, metric, metric_params, algorithm, algorithm_params
        )
    cached = memory.cache(_fresh(build_and_checksum), ignore=["reference"])
    args = (
        reference,
        reference_key(reference),
        metric,
        metric_params,
        algorithm,
        algorithm_params,
        __version__,
    )
    try:
        in_cache = cached.check_call_in_cache(*args)
    except pickle.PicklingError as exc:
        raise ValueError(
            f"memory= keys the cached index on the metric, and metric={metric!r} "
            "cannot be pickled: use a function defined at the top level of a "
            "module (not a lambda or a nested function), or memory=None."
        ) from exc
    if not in_cache:
        return cached(*args)[0]
    result = cached.call_and_shelve(*args)
    try:
        index, stored = result.get()
        if checksum(index) == stored:
            return index
        problem = "does not match the checksum stored with it"
    except Exception as exc:  # any damage to the file: unpickling can fail anyhow
        problem = f"cannot be read ({type(exc).__name__})"
    warnings.warn(
        f"the cached {algorithm!r} index in {memory.location} {problem}; "
        "rebuilding it.",
        CacheWarning,
        stacklevel=3,
    )
    result.clear()
    return cached(*args)[0]
