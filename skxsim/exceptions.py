"""Exceptions and warnings raised by skxsim, as :mod:`sklearn.exceptions`.

Errors in the parameters or the data are plain ``ValueError``s (or
scikit-learn's ``InvalidParameterError`` and ``NotFittedError``) that name
what is wrong.  The classes here are the ones with a meaning of their own.

The librosa drop-ins (:func:`skxsim.cross_similarity`,
:func:`skxsim.recurrence_matrix`, ...) raise ``ValueError``s that are also
``librosa.ParameterError`` where librosa is imported, so that a migrating
user's ``except librosa.ParameterError:`` keeps working; their classes are
made on demand (librosa is never imported for this).
"""

from __future__ import annotations

import functools
import sys

from sklearn.utils._param_validation import InvalidParameterError

__all__ = [
    "AlignmentWarning",
    "CacheWarning",
    "OutputTooLargeError",
    "SkxsimVersionWarning",
]


class OutputTooLargeError(MemoryError):
    """The requested output would not fit in the memory this process may use.

    Raised before anything is allocated; the message names the size, the
    memory available and the ways out (sparse output, a smaller ``k``,
    blocks of rows).
    """


class AlignmentWarning(UserWarning):
    """An alignment's optimum was not proven within its ``budget``.

    The message, and ``align(..., return_info=True)``, state the proven
    bound ``cost <= (1 + gap) * optimum``.
    """


class CacheWarning(UserWarning):
    """A damaged ``memory=`` cache entry or data cache file was rebuilt."""


class SkxsimVersionWarning(UserWarning):
    """A model pickled by another skxsim version was loaded."""


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
