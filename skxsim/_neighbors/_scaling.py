"""Exact power-of-two scaling: frames anywhere in float64's range.

Dividing by a power of two moves the exponent only, so it changes no bit of
a result that neither overflows nor underflows.  These helpers divide frames
(or statistics) by one where their squares, sums, differences or products
would leave float64's range (values near 1e308, 1e154, 1e-154), and say
when a result itself cannot be represented (:func:`checked_distances`).
Every exact path of the engine scales through them, so 1e-300..1e308 gets
the answer of ordinary data, scaled.
"""

from __future__ import annotations

import numpy as np

# Values (float64) handled at once by the row-wise helpers: 2 MB.
ROWS_CHUNK = 2**18


def row_chunks(n: int, width: int, values: int = ROWS_CHUNK) -> list[slice]:
    """Slices of ``n`` rows of ``width`` values each, at most ``values``
    values a slice (at least one row)."""
    step = max(1, values // max(width, 1))
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]


def _peak(values) -> float:
    """max |value| without an |values| temporary (0 for no values)."""
    values = np.asarray(values)
    if values.size == 0:
        return 0.0
    return max(float(np.max(values)), -float(np.min(values)))


def _power_of_two_above(peak: float) -> float:
    # frexp's exponent e has peak < 2**e <= 2**1024, which overflows at the
    # very top of the range: 2**1023 still leaves the peak below 2.
    if not np.isfinite(peak) or peak == 0:
        return 1.0
    return float(np.ldexp(1.0, min(int(np.frexp(peak)[1]), 1023)))


def pow2_peak(values: np.ndarray) -> float:
    """A power of two at most twice the peak ``|value|``, always finite.

    Dividing by it is exact (a power of two moves the exponent only): the
    values come out below 2 in magnitude with every bit they had, unless
    they fall below float64's normal range there.  1.0 for zeros.
    """
    return _power_of_two_above(_peak(values))


def pow2_scale(*arrays: np.ndarray, limit: float = 2.0**400) -> float:
    """1.0, or for values beyond ``limit`` (or below its inverse) the
    :func:`pow2_peak` of them all.

    Scaling by a power of two changes no bit of a result that neither
    overflows nor underflows; it keeps the squares of frames near 1e160 (or
    1e-160) representable, and differences of frames near 1e308 too.
    Ordinary data is not scaled at all (the same bits, one pass fewer).
    """
    peak = max((_peak(a) for a in arrays), default=0.0)
    if not np.isfinite(peak) or 1 / limit <= peak <= limit or peak == 0:
        return 1.0
    return _power_of_two_above(peak)


def as_output_dtype(distances: np.ndarray, dtype) -> np.ndarray:
    """Distances (float64, valid) rounded to the output's ``dtype``, or a
    ``ValueError`` where it cannot hold them: float32 data near 1e30 has
    squared distances beyond float32's range, near 1e-30 below it (an inf,
    or a 0 for frames that differ)."""
    dtype = np.dtype(dtype)
    if dtype == np.float64:
        return distances
    info = np.finfo(dtype)
    if np.any(distances > info.max) or np.any(
        (distances > 0) & (distances < info.tiny)
    ):
        raise ValueError(
            f"distances of these frames leave {dtype.name}'s range (beyond "
            f"{info.max:.1e} or below {info.tiny:.1e}), the dtype of the data "
            "and so of the output; convert the data to float64 or rescale it."
        )
    return distances.astype(dtype)


def divided(X: np.ndarray, scale: float) -> np.ndarray:
    """``X`` in float64 divided by ``scale`` (a power of two), or as is when
    it is 1 (no copy of float64 data)."""
    X = np.asarray(X, dtype=np.float64)
    return X if scale == 1.0 else X / scale


def scaled_apply(func, *arrays):
    """``func(*arrays)`` for a function homogeneous of degree 1 (a mean, a
    median, a geometric mean), computed on the arrays divided by a power of
    two when their values are beyond 2**+-400, where sums overflow and
    products underflow.  The same bits as ``func(*arrays)`` otherwise."""
    s = pow2_scale(*arrays)
    if s == 1.0:
        return func(*arrays)
    return func(*(a / s for a in arrays)) * s


def unit_factors(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, a power of two near its peak and the norm of the row divided
    by it (0 for a zero row): ``X / scale / norm`` are the unit vectors,
    with no overflow or underflow on the way for rows anywhere in float64's
    range.

    The summation order is fixed (numpy's pairwise sum along a contiguous
    row), so a row's factors do not depend on the other rows.
    """
    X = np.asarray(X)
    n, d = X.shape
    scale, norm = np.empty(n), np.empty(n)
    # A chunk of rows at a time: its float64 copies stay in cache, and no
    # copy of the whole array is made (rows are independent).
    for part in row_chunks(n, d):
        rows = np.asarray(X[part], dtype=np.float64)
        peak = np.max(np.abs(rows), axis=1, initial=0.0)
        scale[part] = np.ldexp(1.0, np.minimum(np.frexp(peak)[1], 1023))
        scaled = rows / scale[part, None]
        np.square(scaled, out=scaled)
        norm[part] = np.sqrt(scaled.sum(axis=1))
    return scale, norm


def unit_rows(X: np.ndarray, factors=None) -> np.ndarray:
    """Rows of ``X`` divided by their norms (zero rows stay zero), float64.

    Bit for bit ``X / norms`` wherever the norms are finite: the division by
    a power of two first is exact.
    """
    scale, norm = unit_factors(X) if factors is None else factors
    unit = np.asarray(X, dtype=np.float64) / scale[:, None]
    unit /= np.where(norm == 0, 1, norm)[:, None]
    return unit


def row_norms(X: np.ndarray) -> np.ndarray:
    """Euclidean norm of each row, in float64, without intermediate overflow
    or underflow (a norm beyond float64's range is inf)."""
    scale, norm = unit_factors(X)
    with np.errstate(over="ignore"):
        return norm * scale


def query_overflow(reach: float) -> ValueError:
    """The refusal of query frames whose squared distances to the reference
    overflow float64 at the reference's scale (``reach``: how many times
    larger than it they are, inf when not even that is representable)."""
    size = f"about {reach:.1e}" if np.isfinite(reach) else "more than 1e150"
    return ValueError(
        f"query frames are {size} times larger than the reference's scale: "
        "their squared distances overflow float64; rescale the features."
    )


def checked_distances(out: np.ndarray, keys: np.ndarray, metric) -> np.ndarray:
    """``out``, the distances of ``keys``, unless one left float64's range:
    an inf, or a 0 (or subnormal) for frames that differ."""
    tiny = np.finfo(np.float64).tiny
    if np.all(np.isfinite(out)) and not np.any((out < tiny) & (keys > 0)):
        return out
    hint = "rescale the features"
    if metric == "sqeuclidean":
        hint = "use metric='euclidean' or " + hint
    raise ValueError(
        f"{metric} distances of these frames leave float64's range (beyond "
        f"{np.finfo(np.float64).max:.1e} or below {tiny:.1e}; squares of values "
        f"near 1e154 or 1e-154 do); {hint}."
    )
