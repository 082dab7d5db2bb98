"""The lag representation of a recurrence matrix, and back.

Drop-ins for ``librosa.segment.recurrence_to_lag`` / ``lag_to_recurrence``:
``lag[l, t] = rec[(t + l) mod T, t]`` (time along columns, ``axis=-1``).
A sparse matrix or array stays sparse, in its format and class, and is
never densified: only its coordinates move.  A dense array is sheared a
block of columns at a time through a strided view, without a per-column
loop or an index array.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from numpy.lib.stride_tricks import as_strided
from sklearn.utils._param_validation import validate_parameter_constraints

from ..exceptions import librosa_errors

# Bytes of the doubled column block a dense shear works on.
_SHEAR_BLOCK_BYTES = 2**25


def _check_axis(axis) -> int:
    if (
        isinstance(axis, bool)
        or not isinstance(axis, Integral)
        or axis not in (0, 1, -1)
    ):
        raise ValueError(f"axis={axis!r} must be 0, 1 or -1.")
    return abs(int(axis))


def _rebuild(matrix, data, rows, cols, shape):
    """A sparse matrix like ``matrix`` (class, format) from coordinates."""
    coo_type = sp.coo_array if isinstance(matrix, sp.sparray) else sp.coo_matrix
    coo = coo_type((data, (rows, cols)), shape=shape)
    return coo.asformat(matrix.format)


def _shear_dense(matrix: np.ndarray, shift: int, n_rows: int) -> np.ndarray:
    """``out[r, c] = matrix[(r - shift * c) mod T, c]`` for ``r < n_rows``,
    where ``T = matrix.shape[0]`` (time along columns), ``shift`` +-1."""
    T, n = matrix.shape
    out = np.empty((n_rows, n), dtype=matrix.dtype)
    width = max(1, _SHEAR_BLOCK_BYTES // max(2 * T * matrix.itemsize, 1))
    for start in range(0, n, width):
        stop = min(start + width, n)
        block = matrix[:, start:stop]
        doubled = np.concatenate([block, block])  # row r + T is row r
        s0, s1 = doubled.strides
        # Column c reads its rows from o(c) = c (shift -1) or T - c (shift +1),
        # both congruent to -shift * c mod T and linear in c: a view whose
        # column stride moves -shift rows.
        first = start if shift == -1 else T - start
        view = as_strided(
            doubled[first:],
            shape=(n_rows, stop - start),
            strides=(s0, s1 - shift * s0),
            writeable=False,
        )
        out[:, start:stop] = view
    return out


@librosa_errors
def recurrence_to_lag(rec, *, pad: bool = True, axis: int = -1):
    """Convert a recurrence matrix to its lag representation.

    A drop-in for ``librosa.segment.recurrence_to_lag`` (librosa 0.11):
    ``lag[l, t] == rec[(t + l) mod T, t]`` for ``axis=-1`` (time along the
    columns, librosa's orientation), so that repetitions, diagonals in
    ``rec``, become horizontal lines at their lag.

    Parameters
    ----------
    rec : ndarray, scipy.sparse matrix or sparse array of shape (n, n)
        A recurrence matrix, e.g. from :func:`recurrence_matrix`.
    pad : bool, default=True
        Pad with ``n`` zeros along the lag axis (``T = 2 n``), so that lags
        do not wrap around; ``False`` gives a square result (``T = n``),
        as if the sequence repeated forever.
    axis : {-1, 1, 0}, default=-1
        The time axis of ``rec``; the other axis becomes the lag axis.

    Returns
    -------
    lag : ndarray or sparse of shape (T, n) for axis=-1, (n, T) for axis=0
        The same kind of object as ``rec``: ndarray, or sparse with the
        same class (``spmatrix`` or ``sparray``), format and dtype.

    See Also
    --------
    lag_to_recurrence : the inverse.
    recurrence_matrix : computes ``rec``.

    Notes
    -----
    librosa 0.11 fails on COO matrices (``lag_to_recurrence``) and on sparse
    arrays such as ``csr_array`` (both functions); these work here.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim.recurrence import recurrence_to_lag
    >>> rec = np.eye(4, k=-2, dtype=bool)   # frame t repeats at t + 2
    >>> recurrence_to_lag(rec, pad=False).astype(int)
    array([[0, 0, 0, 0],
           [0, 0, 0, 0],
           [1, 1, 0, 0],
           [0, 0, 0, 0]])
    """
    axis = _check_axis(axis)
    validate_parameter_constraints(
        {"pad": ["boolean"]}, {"pad": pad}, caller_name="recurrence_to_lag"
    )
    if not sp.issparse(rec):
        rec = np.asarray(rec)
    if rec.ndim != 2 or rec.shape[0] != rec.shape[1]:
        raise ValueError(
            f"rec must be a square recurrence matrix; got shape {np.shape(rec)}."
        )
    n = rec.shape[0]
    n_lags = 2 * n if pad else n
    if sp.issparse(rec):
        coo = rec.tocoo()
        time, other = (coo.col, coo.row) if axis == 1 else (coo.row, coo.col)
        time, other = time.astype(np.int64), other.astype(np.int64)
        lags = (other - time) % n_lags
        rows, cols = (lags, time) if axis == 1 else (time, lags)
        shape = (n_lags, n) if axis == 1 else (n, n_lags)
        return _rebuild(rec, coo.data, rows, cols, shape)
    columns = rec if axis == 1 else rec.T
    if pad:
        columns = np.concatenate([columns, np.zeros_like(columns)])
    lag = _shear_dense(columns, -1, n_lags)
    return lag if axis == 1 else lag.T


@librosa_errors
def lag_to_recurrence(lag, *, axis: int = -1):
    """Convert a lag matrix back to a recurrence matrix.

    A drop-in for ``librosa.segment.lag_to_recurrence`` (librosa 0.11), the
    inverse of :func:`recurrence_to_lag`: ``rec[r, t] == lag[(r - t) mod T,
    t]`` for ``axis=-1``.

    Parameters
    ----------
    lag : ndarray, scipy.sparse matrix or sparse array
        Of shape ``(T, n)`` (``axis=-1``) or ``(n, T)`` (``axis=0``), with
        ``T = n`` (unpadded) or ``T = 2 n`` (padded).
    axis : {-1, 1, 0}, default=-1
        The time axis of ``lag``; the other axis holds the lags.

    Returns
    -------
    rec : ndarray or sparse of shape (n, n)
        The same kind of object as ``lag`` (class, format, dtype).

    See Also
    --------
    recurrence_to_lag : the inverse.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim.recurrence import lag_to_recurrence, recurrence_to_lag
    >>> rec = np.eye(4, k=-2, dtype=bool)
    >>> bool(np.array_equal(lag_to_recurrence(recurrence_to_lag(rec)), rec))
    True
    """
    axis = _check_axis(axis)
    if not sp.issparse(lag):
        lag = np.asarray(lag)
    shape = lag.shape
    if lag.ndim != 2 or (shape[0] != shape[1] and shape[1 - axis] != 2 * shape[axis]):
        raise ValueError(
            f"lag must have shape (T, n) with T = n or 2 * n along the lag "
            f"axis (axis={axis} is time); got shape {shape}."
        )
    n = shape[axis]
    n_lags = shape[1 - axis]
    if sp.issparse(lag):
        coo = lag.tocoo()
        time, lags = (coo.col, coo.row) if axis == 1 else (coo.row, coo.col)
        time, lags = time.astype(np.int64), lags.astype(np.int64)
        other = (lags + time) % n_lags
        keep = other < n  # the padding's rows
        time, other = time[keep], other[keep]
        rows, cols = (other, time) if axis == 1 else (time, other)
        return _rebuild(lag, coo.data[keep], rows, cols, (n, n))
    columns = lag if axis == 1 else lag.T
    rec = _shear_dense(columns, +1, n)
    return rec if axis == 1 else rec.T
