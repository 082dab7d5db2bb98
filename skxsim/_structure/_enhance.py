"""Multi-angle path enhancement: the drop-in for ``librosa.segment.path_enhance``.

librosa convolves the dense matrix with each rotated diagonal kernel
(``scipy.ndimage.convolve``) and keeps the element-wise maximum.  Here the
same kernels (:mod:`._kernels`) are applied by tiled FFTs
(:mod:`._convolve`) with scipy.ndimage's boundary extension, so the values
are librosa's to rounding, at a cost that does not grow with the width, in
memory the output plus a few tiles, and from sparse input without
densifying it.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import validate_parameter_constraints

from .._neighbors import n_threads_for
from ..exceptions import librosa_errors
from ._convolve import MODES, MaxConvolver
from ._kernels import ENHANCE_CONSTRAINTS, diagonal_kernels, filter_parameters_doc

_CONVOLVE_KEYWORDS = {"mode", "cval", "origin"}


def _per_axis(value, ndim: int, name: str) -> list:
    """scipy.ndimage's scalar-or-sequence-per-axis argument, last two axes."""
    if isinstance(value, Integral) or np.ndim(value) == 0:
        return [value, value]
    value = list(value)
    if len(value) != ndim:
        raise ValueError(
            f"{name}={value!r} must be one value or one per axis of R ({ndim})."
        )
    return value[-2:]


def convolve_options(kwargs: dict, ndim: int) -> tuple[list, list, float]:
    """``mode`` and ``origin`` (per axis) and ``cval`` from librosa's
    ``**kwargs`` for ``scipy.ndimage.convolve`` (which takes one mode)."""
    unknown = set(kwargs) - _CONVOLVE_KEYWORDS
    if unknown:
        raise ValueError(
            f"path_enhance passes only {sorted(_CONVOLVE_KEYWORDS)} on to the "
            f"convolution; got {sorted(unknown)}."
        )
    mode = kwargs.get("mode", "reflect")
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"mode={mode!r} must be one of {sorted(MODES)}.")
    origins = _per_axis(kwargs.get("origin", 0), ndim, "origin")
    for origin in origins:
        if isinstance(origin, bool) or not isinstance(origin, Integral):
            raise ValueError(f"origin={origin!r} must be an int.")
    cval = kwargs.get("cval", 0.0)
    if isinstance(cval, bool) or not isinstance(cval, Real) or not np.isfinite(cval):
        raise ValueError(f"cval={cval!r} must be a finite real number.")
    return [MODES[mode]] * 2, [int(o) for o in origins], float(cval)


def check_similarity(R, name: str = "R"):
    """A real, finite similarity matrix (dense ``(..., a, b)`` or 2-D sparse)
    and the dtype its enhancement is computed and returned in."""
    if sp.issparse(R):
        if R.ndim != 2:
            raise ValueError(f"{name} must be a 2-D sparse matrix.")
        R = R.tocsr()
        values = R.data
    else:
        try:
            R = np.asarray(R)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name} is not a rectangular array: {exc}") from None
        if R.ndim < 2:
            raise ValueError(f"{name} must have at least 2 dimensions, not {R.ndim}.")
        values = R
    if values.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, not {values.dtype}.")
    if 0 in R.shape:
        raise ValueError(f"{name} of shape {R.shape} is empty.")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} holds NaN or infinite values.")
    dtype = np.dtype(np.float32 if values.dtype == np.float32 else np.float64)
    return R, dtype


def enhance(
    R, kernels, kwargs: dict, clip: bool, n_jobs=None, transposed: bool = False
) -> np.ndarray:
    """The clipped maximum over ``kernels`` of scipy's convolution of ``R``
    (validated by :func:`check_similarity`), leading axes one at a time.

    ``transposed``: ``R`` is the transpose of the matrix the kernels and
    ``kwargs`` are meant for, and the result is the transpose of theirs
    (the convolution of ``R.T`` with ``K``, transposed, is that of ``R``
    with ``K.T``).
    """
    R, dtype = check_similarity(R)
    modes, origins, cval = convolve_options(kwargs, R.ndim)
    if transposed:
        kernels = [kernel.T for kernel in kernels]
        modes, origins = modes[::-1], origins[::-1]
    out = np.empty(R.shape, dtype=dtype)
    convolver = MaxConvolver(
        kernels, R.shape[-2:], modes, origins, cval, dtype, n_threads_for(n_jobs)
    )
    pairs = transpose_pairs(kernels) if origins[0] == origins[1] else None
    if sp.issparse(R):
        convolver.run(R, out, clip, pairs if _symmetric(R) else None)
        return out
    for index in np.ndindex(R.shape[:-2]):
        matrix = R[index]
        convolver.run(matrix, out[index], clip, pairs if _symmetric(matrix) else None)
    return out


def transpose_pairs(kernels) -> list | None:
    """``pairs[k]``: the kernel that is kernel ``k`` transposed (to rounding:
    ratios ``r`` and ``1 / r``), or None if some kernel has no such twin."""
    pairs = []
    for k, kernel in enumerate(kernels):
        twin = kernels[len(kernels) - 1 - k]
        scale = np.abs(kernel).max()
        if twin.shape != kernel.T.shape or not np.allclose(
            twin, kernel.T, rtol=0, atol=1e-12 * scale
        ):
            return None
        pairs.append(len(kernels) - 1 - k)
    return pairs


def _symmetric(matrix) -> bool:
    """Exactly symmetric (a self-similarity), checked by square blocks against
    their mirrors (cache-friendly, stops at the first difference)."""
    n = matrix.shape[0]
    if matrix.shape[1] != n:
        return False
    if sp.issparse(matrix):
        return (matrix != matrix.T).nnz == 0
    step = 256
    return all(
        np.array_equal(
            matrix[i : i + step, j : j + step], matrix[j : j + step, i : i + step].T
        )
        for i in range(0, n, step)
        for j in range(i, n, step)
    )


@filter_parameters_doc
@librosa_errors
def path_enhance(
    R,
    n: int,
    *,
    window="hann",
    max_ratio: float = 2.0,
    min_ratio: float | None = None,
    n_filters: int = 7,
    zero_mean: bool = False,
    clip: bool = True,
    **kwargs,
) -> np.ndarray:
    """Multi-angle path enhancement of a self- or cross-similarity matrix.

    A drop-in for ``librosa.segment.path_enhance`` (librosa 0.11): the
    element-wise maximum over ``n_filters`` diagonal smoothing filters, at
    tempo ratios (slopes) log-spaced from ``min_ratio`` to ``max_ratio``, of
    the 2-D convolution of ``R`` with each (``scipy.ndimage.convolve``'s
    values, boundaries and origin), so that paths stand out even where the
    tempo differs.  The filters are librosa's own (its
    ``filters.diagonal_filter``), applied by tiled FFTs: the cost does not
    depend on ``n``, working memory is a few tiles beside the output, and a
    sparse ``R`` is read a band of rows at a time, never densified whole.

    Orientation: any; the result of ``R.T`` is the transpose of the result
    of ``R`` with the ratios inverted (the default ratios, ``min_ratio =
    1 / max_ratio``, are their own inverses).  Ratio ``r`` follows a path
    that advances ``r`` rows per column.

    Parameters
    ----------
    R : ndarray of shape (..., a, b), or scipy.sparse matrix / array (a, b)
        The similarity matrix; leading axes are enhanced independently.
        Sparse input is what :func:`cross_similarity` and
        :func:`recurrence_matrix` give with ``sparse=True``.
    n : int >= 1
        The length of the smoothing filters.
    <filter parameters>
    **kwargs
        ``mode`` (``"reflect"``, ``"constant"``, ``"nearest"``, ``"mirror"``,
        ``"wrap"``), ``cval`` and ``origin`` (one, or one per axis), as
        librosa passes them to ``scipy.ndimage.convolve``.

    Returns
    -------
    R_smooth : ndarray of R's shape
        float32 for float32 input, float64 otherwise (librosa keeps an
        integer or bool dtype and truncates into it).

    See Also
    --------
    PathEnhance : the same as a scikit-learn transformer.
    recurrence_matrix, cross_similarity : matrices to enhance.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim import path_enhance
    >>> R = np.eye(8)
    >>> R_smooth = path_enhance(R, 3, n_filters=1, max_ratio=1, min_ratio=1)
    >>> R_smooth.shape
    (8, 8)
    >>> bool(R_smooth[3, 3] > R_smooth[3, 4] >= 0)
    True
    """
    params = {
        "n": n,
        "window": window,
        "max_ratio": max_ratio,
        "min_ratio": min_ratio,
        "n_filters": n_filters,
        "zero_mean": zero_mean,
        "clip": clip,
    }
    validate_parameter_constraints(
        ENHANCE_CONSTRAINTS, params, caller_name="path_enhance"
    )
    kernels = diagonal_kernels(window, n, max_ratio, min_ratio, n_filters, zero_mean)
    return enhance(R, kernels, kwargs, bool(clip))
