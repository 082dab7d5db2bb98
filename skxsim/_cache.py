"""The ``memory=`` cache of index builds.

The cached function is :func:`skxsim._backends.build_index`, whose result
depends on the reference content and the index parameters only (not on k,
mode or bandwidth), so grid searches, refits and other processes reuse a
persisted index.
"""

from __future__ import annotations

import types

from sklearn.utils.validation import check_memory

from ._backends import build_index


def cached_build_index(memory):
    """``build_index`` behind ``memory`` (None, a path or a joblib.Memory).

    joblib writes a function's code next to its cache the first time it sees
    the function object in a process, and then skips the check for every
    other cache location; a location that never got the file looks stale to
    the next process, which clears it and rebuilds.  A fresh function object
    (same code, name and module, hence the same cache entries) makes joblib
    check the location at hand each time.
    """
    build = types.FunctionType(
        build_index.__code__,
        build_index.__globals__,
        build_index.__name__,
        build_index.__defaults__,
        build_index.__closure__,
    )
    build.__qualname__ = build_index.__qualname__
    build.__module__ = build_index.__module__
    build.__doc__ = build_index.__doc__
    return check_memory(memory).cache(build)
