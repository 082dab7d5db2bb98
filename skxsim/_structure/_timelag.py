"""``timelag_filter``: a filter on the lag view of a recurrence matrix."""

from __future__ import annotations

import functools
from numbers import Integral

from sklearn.utils._param_validation import validate_parameter_constraints

from .._recurrence import lag_to_recurrence, recurrence_to_lag


def timelag_filter(function, pad: bool = True, index: int = 0):
    """Wrap a filter so that it runs in the time-lag domain.

    A drop-in for ``librosa.segment.timelag_filter`` (librosa 0.11): the
    returned function maps its ``index``-th positional argument, a square
    recurrence matrix with time along the columns (librosa's orientation;
    skxsim's matrices are symmetric or transposable), to its lag view
    (:func:`recurrence_to_lag`), applies ``function`` to it with the other
    arguments, and maps the result back (:func:`lag_to_recurrence`).  A
    filter along the lag view's time axis, such as a median filter of size
    ``(1, w)``, smooths along the diagonals of the recurrence matrix.

    Parameters
    ----------
    function : callable
        The filter, e.g. :func:`scipy.ndimage.median_filter`.  A sparse
        recurrence matrix is passed to it as a sparse lag matrix (of the
        same format and class), so ``function`` decides whether it accepts
        sparse input.
    pad : bool, default=True
        Zero-pad the lag axis to twice the length (no wrap-around), as in
        :func:`recurrence_to_lag`.
    index : int >= 0, default=0
        Position of the recurrence matrix among the positional arguments.

    Returns
    -------
    wrapped_function : callable
        ``wrapped_function(*args, **kwargs)`` returns
        ``lag_to_recurrence(function(*args_with_lag, **kwargs))``, of shape
        ``(n, n)``.  It keeps ``function``'s name and docstring.

    See Also
    --------
    recurrence_to_lag, lag_to_recurrence : the two views.
    LaplacianSegmentation : uses a sparse time-lag median filter.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.ndimage import median_filter
    >>> from skxsim import timelag_filter
    >>> rec = np.eye(6, k=-2) + np.eye(6, k=2)   # a repetition at lag 2
    >>> rec[4, 2] = 0                            # with one frame missing
    >>> diagonal_median = timelag_filter(median_filter)
    >>> diagonal_median(rec, size=(1, 3))[4, 2]  # restored by its diagonal
    np.float64(1.0)
    """
    if not callable(function):
        raise TypeError(f"function must be callable; got {function!r}.")
    validate_parameter_constraints(
        {"pad": ["boolean"]}, {"pad": pad}, caller_name="timelag_filter"
    )
    if isinstance(index, bool) or not isinstance(index, Integral) or index < 0:
        raise ValueError(f"index={index!r} must be an int >= 0.")
    index = int(index)

    @functools.wraps(function)
    def filtered(*args, **kwargs):
        if len(args) <= index:
            raise ValueError(
                f"timelag_filter(index={index}) needs the recurrence matrix as "
                f"positional argument {index}; got {len(args)} positional "
                "arguments."
            )
        args = list(args)
        args[index] = recurrence_to_lag(args[index], pad=pad)
        return lag_to_recurrence(function(*args, **kwargs))

    return filtered
