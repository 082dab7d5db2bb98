# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""The scoring kernel of a matcher's candidate windows (``_candidates``).

One function, :func:`bin_scores`, does in one pass over the hits what the
vectorised formulation did in a dozen passes over ``n_ratios x n_hits``
temporaries: place every hit at each tempo ratio, keep per (excerpt,
half-bin) and then per (excerpt, bin) the largest gain, sum those per
(ratio, phase class, bin) and reduce the phase classes to a score.  The
sums are taken in the order the vectorised code took them (ratio, excerpt,
then increasing bin; phase classes in order), so the scores are bit for
bit the same; only the bins a hit reaches are visited, so the memory is
``O(n_ratios x n_bins)`` for the scores plus ``O(period x n_bins)``.
"""

import numpy as np

from libc.math cimport floor, isfinite
from libc.stdint cimport int64_t
from libc.string cimport memset
from cpython.mem cimport PyMem_RawFree as free, PyMem_RawMalloc as malloc


cdef inline int64_t floor_half(int64_t h) noexcept nogil:
    """``h // 2`` rounded towards minus infinity (Python's ``//``)."""
    return (h - 1) // 2 if h < 0 else h // 2


cdef inline void flush(
    int64_t b, double g, Py_ssize_t n_bins, double* sums, Py_ssize_t base,
    unsigned char* seen, int64_t* touched, Py_ssize_t* n_touched,
) noexcept nogil:
    """Add the gain ``g`` of one (excerpt, bin) to its phase class's sum."""
    if b < 0 or b >= n_bins:
        return
    sums[base + b] += g
    if not seen[b]:
        seen[b] = 1
        touched[n_touched[0]] = b
        n_touched[0] += 1


def bin_scores(
    const int64_t[:, ::1] hits,
    const double[:, ::1] gain,
    const double[::1] offsets,
    const int64_t[::1] phase,
    const double[::1] rho,
    const double[::1] per_phase,
    double mid,
    Py_ssize_t period,
    double bin_width,
    Py_ssize_t n_bins,
):
    """Scores ``(2, n_ratios, n_bins)`` of the two bin grids (see
    ``_candidates.bin_scores``).

    ``hits[f]``: excerpt ``f``'s archive excerpts, in increasing order,
    ``gain[f]`` their gains (finite, >= 0); ``offsets[f]``, ``phase[f]``:
    its query offset (frames) and ``offsets[f] % period``; ``per_phase``:
    half of one over each phase class's number of excerpts; ``mid``: the
    query's middle less the excerpt's.  A hit ``a`` of ``f`` at ratio
    ``rho[r]`` lies in half-bin ``floor((a * period + (mid - offsets[f]) *
    rho[r]) * 2 / bin_width)``.
    """
    cdef Py_ssize_t n_f = hits.shape[0], k = hits.shape[1]
    cdef Py_ssize_t n_rho = rho.shape[0]
    if gain.shape[0] != n_f or gain.shape[1] != k:
        raise ValueError(
            f"bin_scores: gains ({gain.shape[0]}, {gain.shape[1]}) for hits ({n_f}, {k})"
        )
    if offsets.shape[0] != n_f or phase.shape[0] != n_f:
        raise ValueError("bin_scores: one offset and one phase per excerpt")
    if period < 1 or per_phase.shape[0] != period:
        raise ValueError(f"bin_scores: period {period}, {per_phase.shape[0]} phases")
    if n_bins < 1 or not (isfinite(bin_width) and bin_width > 0):
        raise ValueError(f"bin_scores: {n_bins} bins of width {bin_width}")
    if not isfinite(mid):
        raise ValueError("bin_scores: the query's middle is not finite")
    cdef Py_ssize_t f, j, r, p, t
    for f in range(n_f):
        if phase[f] < 0 or phase[f] >= period or not isfinite(offsets[f]):
            raise ValueError(f"bin_scores: excerpt {f}'s phase or offset is invalid")
        for j in range(k):
            if hits[f, j] < 0 or (j > 0 and hits[f, j] < hits[f, j - 1]):
                raise ValueError(f"bin_scores: excerpt {f}'s hits are not sorted")
            if not (isfinite(gain[f, j]) and gain[f, j] >= 0):
                raise ValueError(f"bin_scores: excerpt {f}'s gains are invalid")
    for r in range(n_rho):
        if not (isfinite(rho[r]) and rho[r] > 0):
            raise ValueError("bin_scores: tempo ratios must be positive and finite")

    out = np.zeros((2, n_rho, n_bins), dtype=np.float64)
    cdef double[:, :, ::1] score = out
    cdef Py_ssize_t cells = period * n_bins
    cdef double* sums = <double*> malloc(2 * cells * sizeof(double))
    cdef unsigned char* seen = <unsigned char*> malloc(2 * n_bins)
    cdef int64_t* touched = <int64_t*> malloc(2 * n_bins * sizeof(int64_t))
    cdef int64_t* halves = <int64_t*> malloc((k + 1) * sizeof(int64_t))
    if sums == NULL or seen == NULL or touched == NULL or halves == NULL:
        free(sums)
        free(seen)
        free(touched)
        free(halves)
        raise MemoryError(f"bin_scores: cannot allocate {period} x {n_bins} sums")
    cdef double scale = 2.0 / bin_width, period_d = <double> period
    cdef double to_mean = <double> (2 * n_f)
    cdef double o, g, total, best, value
    cdef int64_t h, b
    cdef int64_t current[2]
    cdef double acc[2]
    cdef Py_ssize_t n_touched[2]
    cdef Py_ssize_t base, s, j2
    cdef double* sums_s
    with nogil:
        memset(sums, 0, 2 * cells * sizeof(double))
        memset(seen, 0, 2 * n_bins)
        for r in range(n_rho):
            n_touched[0] = 0
            n_touched[1] = 0
            for f in range(n_f):
                o = (mid - offsets[f]) * rho[r]
                base = phase[f] * n_bins
                for j in range(k):
                    halves[j] = <int64_t> floor(
                        (<double> hits[f, j] * period_d + o) * scale
                    )
                current[0] = -1
                current[1] = -1
                acc[0] = 0.0
                acc[1] = 0.0
                j = 0
                while j < k:
                    # One run of equal half-bins: its largest gain.
                    h = halves[j]
                    g = gain[f, j]
                    j2 = j + 1
                    while j2 < k and halves[j2] == h:
                        if gain[f, j2] > g:
                            g = gain[f, j2]
                        j2 += 1
                    for s in range(2):
                        b = floor_half(h + s)
                        if j > 0 and b == current[s]:
                            if g > acc[s]:
                                acc[s] = g
                        else:
                            if j > 0:
                                flush(current[s], acc[s], n_bins, sums + s * cells,
                                      base, seen + s * n_bins,
                                      touched + s * n_bins, &n_touched[s])
                            current[s] = b
                            acc[s] = g
                    j = j2
                if k > 0:
                    for s in range(2):
                        flush(current[s], acc[s], n_bins, sums + s * cells, base,
                              seen + s * n_bins, touched + s * n_bins,
                              &n_touched[s])
            # The score of each bin reached: the phase classes' sum over
            # 2 n_f, plus the largest phase class's sum times its weight;
            # then its sums are cleared for the next ratio.
            for s in range(2):
                sums_s = sums + s * cells
                for t in range(n_touched[s]):
                    b = touched[s * n_bins + t]
                    total = sums_s[b]
                    for p in range(1, period):
                        total = total + sums_s[p * n_bins + b]
                    best = sums_s[b] * per_phase[0]
                    for p in range(1, period):
                        value = sums_s[p * n_bins + b] * per_phase[p]
                        if value > best:
                            best = value
                    score[s, r, b] = total / to_mean + best
                    for p in range(period):
                        sums_s[p * n_bins + b] = 0.0
                    seen[s * n_bins + b] = 0
    free(sums)
    free(seen)
    free(touched)
    free(halves)
    return out
