# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""The compiled preparation of a reference for the euclidean product
(``_product.BlasScores``): two passes over each chunk of rows instead of a
dozen numpy passes over float64 temporaries.

:func:`statistics` adds a chunk's frames, divided by the keys' power of
two, to the running column sums (row after row, the order of numpy's
``add.reduce`` over rows) and widens the running extrema.
:func:`centred_rows` writes ``[c, |c|^2 / 2]`` per row, ``c = x / scale /
rescale - center`` (the same operations, in float64, as the vectorised
code), cast to the product's dtype, and returns the largest ``|c|^2 / 2``.
Dividing by a power of two is multiplying by its reciprocal where that is
a normal number (the same bits).  The squared norms are summed in feature order: any order is within the
product's rounding bound (``_product.rounding_bound``), and the ranking
keys, not these, decide the neighbours.  The GIL is released.
"""

import numpy as np

from libc.math cimport frexp, isfinite

cdef double reciprocal(double x) noexcept nogil:
    """``1 / x`` when ``x`` is a power of two whose reciprocal is a normal
    number (multiplying by it is then dividing by ``x``, bit for bit), else
    0 (divide)."""
    cdef int e
    cdef double inv
    if frexp(x, &e) != 0.5:
        return 0.0
    inv = 1.0 / x
    if not isfinite(inv) or inv < 2.2250738585072014e-308:
        return 0.0
    return inv

ctypedef fused frame_t:
    float
    double

ctypedef fused out_t:
    float
    double


def statistics(
    const frame_t[:, ::1] R, double scale, double[::1] total, double low, double high
):
    """Add ``R / scale`` (float64) to ``total`` row by row; return the
    extrema ``(low, high)`` of ``R / scale`` and the ones given."""
    cdef Py_ssize_t n = R.shape[0], d = R.shape[1], i, j
    cdef double v, inv = reciprocal(scale)
    if total.shape[0] != d:
        raise ValueError(f"statistics: {total.shape[0]} sums for {d} features")
    if not (isfinite(scale) and scale > 0):
        raise ValueError(f"statistics: scale {scale}")
    with nogil:
        for i in range(n):
            for j in range(d):
                if inv != 0:
                    v = (<double> R[i, j]) * inv
                else:
                    v = (<double> R[i, j]) / scale
                total[j] = total[j] + v
                if v < low:
                    low = v
                if v > high:
                    high = v
    return low, high


def centred_rows(
    const frame_t[:, ::1] R,
    double scale,
    double rescale,
    const double[::1] center,
    out_t[:, ::1] out,
):
    """``out[i] = [c, |c|^2 / 2]`` with ``c = R[i] / scale / rescale -
    center``; returns the largest ``|c|^2 / 2`` (0 for no rows), or -1 when
    a squared norm is not finite (the caller then takes the scaled sums)."""
    cdef Py_ssize_t n = R.shape[0], d = R.shape[1], i, j
    cdef double c, norm, top = 0.0
    cdef double inv_s = reciprocal(scale), inv_r = reciprocal(rescale)
    cdef bint finite = True
    if center.shape[0] != d or out.shape[0] != n or out.shape[1] != d + 1:
        raise ValueError(
            f"centred_rows: {n} x {d} frames, {center.shape[0]} centres, "
            f"{out.shape[0]} x {out.shape[1]} outputs"
        )
    if not (isfinite(scale) and scale > 0 and isfinite(rescale) and rescale > 0):
        raise ValueError(f"centred_rows: scales {scale}, {rescale}")
    with nogil:
        for i in range(n):
            norm = 0.0
            for j in range(d):
                if inv_s != 0 and inv_r != 0:
                    c = (<double> R[i, j]) * inv_s * inv_r - center[j]
                else:
                    c = (<double> R[i, j]) / scale / rescale - center[j]
                out[i, j] = <out_t> c
                norm = norm + c * c
            norm = 0.5 * norm
            if not isfinite(norm):
                finite = False
                break
            out[i, d] = <out_t> norm
            if norm > top:
                top = norm
    return top if finite else -1.0
