"""librosa's diagonal smoothing kernels, built once per call.

``librosa.filters.diagonal_filter``: the diagonal of a window, rotated by
``45 - arctan(slope)`` degrees with ``scipy.ndimage.rotate(order=5,
prefilter=False)``, clipped at 0, normalised to sum 1 and optionally made
zero-mean.  The spline spreads the rotated line over several cells a row,
so the kernels are built exactly as librosa builds them (they are small;
the work is in applying them) rather than approximated by 1-pixel lines.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import scipy.ndimage
import scipy.signal

from .._validation import POSITIVE_INT, POSITIVE_REAL, Number


def get_window(window, n: int) -> np.ndarray:
    """A symmetric window of ``n`` samples, as ``librosa.filters.get_window``
    with ``fftbins=False``."""
    if callable(window):
        values = window(n)
    elif isinstance(window, (str, tuple)) or (
        np.isscalar(window) and not isinstance(window, bool)
    ):
        try:
            values = scipy.signal.get_window(window, n, fftbins=False)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"window={window!r} is not a window: {exc}") from None
    elif isinstance(window, (np.ndarray, list)):
        if len(window) != n:
            raise ValueError(
                f"window has {len(window)} values but the filter length n={n}."
            )
        values = window
    else:
        raise ValueError(f"window={window!r} is not a window specification.")
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (n,) or not np.all(np.isfinite(values)):
        raise ValueError(f"window={window!r} does not give {n} finite values.")
    return values


def diagonal_kernel(values: np.ndarray, slope: float, zero_mean: bool) -> np.ndarray:
    """``librosa.filters.diagonal_filter(window, n, slope=slope)`` from the
    window's ``values``."""
    angle = np.arctan(slope)
    kernel = np.diag(values)
    if not np.isclose(angle, np.pi / 4):
        kernel = scipy.ndimage.rotate(
            kernel, 45 - angle * 180 / np.pi, order=5, prefilter=False
        )
    np.clip(kernel, 0, None, out=kernel)
    total = kernel.sum()
    if not total > 0:
        raise ValueError(
            "the smoothing filter sums to zero (a window with no positive "
            f"value, or n={len(values)} too short for it)."
        )
    kernel /= total
    if zero_mean:
        kernel -= kernel.mean()
    return kernel


# The filters' parameters, documented once for the function and the
# transformer (numpydoc, indented for a docstring's body).
_FILTER_PARAMETERS = """\
    window : str, tuple, float, callable or array of length n, default="hann"
        The smoothing window (``scipy.signal.get_window``, symmetric).
    max_ratio : float > 0, default=2.0
        The largest tempo ratio.
    min_ratio : float > 0 or None, default=None
        The smallest tempo ratio, at most ``max_ratio``; ``None`` means
        ``1 / max_ratio``.
    n_filters : int >= 1, default=7
        The number of filters (an odd number includes ratio 1 by default),
        log-spaced from ``min_ratio`` to ``max_ratio``.
    zero_mean : bool, default=False
        Subtract each filter's mean, so that blocks are suppressed while
        paths are enhanced.
    clip : bool, default=True
        Set negative results to 0.
"""


def filter_parameters_doc(obj):
    """Put the filters' parameters in ``obj``'s docstring, at its
    ``<filter parameters>`` line."""
    if obj.__doc__:  # None under python -OO
        obj.__doc__ = obj.__doc__.replace(
            "    <filter parameters>\n", _FILTER_PARAMETERS
        )
    return obj


# One declaration per parameter, for the function and the transformer alike.
ENHANCE_CONSTRAINTS = {
    "n": POSITIVE_INT,
    "window": [
        str,
        tuple,
        callable,
        "array-like",
        Number(Real, None, None, closed="neither"),
    ],
    "max_ratio": POSITIVE_REAL,
    "min_ratio": [*POSITIVE_REAL, None],
    "n_filters": POSITIVE_INT,
    "zero_mean": ["boolean"],
    "clip": ["boolean"],
}


def check_ratios(max_ratio, min_ratio, n_filters) -> np.ndarray:
    """The filters' tempo ratios (slopes), librosa's log-spaced grid; the
    checks a constraint cannot express."""
    for name, value in (("max_ratio", max_ratio), ("min_ratio", min_ratio)):
        if value is not None and not np.isfinite(value):
            raise ValueError(f"{name}={value!r} must be finite.")
    # a numpy scalar gives the bits the equal Python float gives
    max_ratio = float(max_ratio)
    min_ratio = None if min_ratio is None else float(min_ratio)
    if min_ratio is None:
        min_ratio = 1.0 / max_ratio
    elif min_ratio > max_ratio:
        raise ValueError(f"min_ratio={min_ratio} cannot exceed max_ratio={max_ratio}.")
    return np.logspace(
        np.log2(min_ratio), np.log2(max_ratio), num=int(n_filters), base=2
    )


def diagonal_kernels(
    window, n, max_ratio, min_ratio, n_filters, zero_mean
) -> list[np.ndarray]:
    """The kernels ``path_enhance`` convolves with, one per tempo ratio
    (librosa's orientation)."""
    ratios = check_ratios(max_ratio, min_ratio, n_filters)
    values = get_window(window, int(n))
    return [diagonal_kernel(values, ratio, bool(zero_mean)) for ratio in ratios]
