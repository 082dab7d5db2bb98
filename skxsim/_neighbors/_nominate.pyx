# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
# distutils: language = c++
"""The compiled nomination of a block of scores: one pass over each row.

:func:`row_candidates` gives, per row of a block of product scores, the
exact k-th smallest score ``t`` and every column whose score is at most
``t + margin`` (in float64), in ascending column order: what
``_select.nominate`` followed by the k-th statistic and the margin test
gives, from one read of the row instead of several passes over the block.

A row (in cache after its first read) is read twice: once for the minima
of 2k strided column groups, whose k-th smallest bounds the row's k-th
score from above, then in chunks of 32: a chunk's scores within the
threshold (that bound, or the k-th smallest of the kept scores, plus the
margin) form a bit mask, and only its set bits are appended to a buffer
that is compacted (its k-th smallest recomputed, the columns beyond the
new threshold dropped, order kept) when it fills.  The threshold only
falls, so every column within the margin of the row's final k-th score is
kept.  k-th smallest values come from a histogram (exactly: selected in
the one bucket that holds the k-th).  Excluded columns (+inf) never
qualify.  The GIL is released: the blocks of the search run on threads.
Measured (issue 25, one core): 0.6-1.1 ns a score on the 512-d, walk and
log-CQT cells.
"""

import numpy as np

from libc.math cimport INFINITY, nextafterf
from libc.float cimport DBL_MAX, FLT_MAX
from libcpp.algorithm cimport nth_element
from cpython.mem cimport (
    PyMem_RawFree as free,
    PyMem_RawMalloc as malloc,
    PyMem_RawRealloc as realloc,
)

ctypedef fused score_t:
    float
    double

# The loops over a row's scores, in C++: a chunk's qualifying columns as a
# bit mask (SSE2 compares where there are), then only its set bits visited.
# Writing every score of a chunk with a hit made each store depend on the
# last: 2/3 of the time on cqt-8000 (k = 180, a third of the chunks have a
# hit); Cython's own loops were not vectorized at all.
cdef extern from *:
    """
    #include <algorithm>
    #if defined(__SSE2__) || defined(_M_X64)
    #include <emmintrin.h>
    #define SKX_SSE2 1
    #endif
    template <typename T>
    static inline unsigned skx_mask_loop(const T* p, Py_ssize_t n, T limit) {
        unsigned mask = 0;
        for (Py_ssize_t j = 0; j < n; j++) mask |= (unsigned)(p[j] <= limit) << j;
        return mask;
    }
    static inline unsigned skx_mask_at_most(const float* p, Py_ssize_t n, float limit) {
    #ifdef SKX_SSE2
        if (n == 32) {
            const __m128 l = _mm_set1_ps(limit);
            unsigned mask = 0;
            for (int j = 0; j < 8; j++)
                mask |= (unsigned)_mm_movemask_ps(
                    _mm_cmple_ps(_mm_loadu_ps(p + 4 * j), l)) << (4 * j);
            return mask;
        }
    #endif
        return skx_mask_loop(p, n, limit);
    }
    static inline unsigned skx_mask_at_most(const double* p, Py_ssize_t n, double limit) {
    #ifdef SKX_SSE2
        if (n == 32) {
            const __m128d l = _mm_set1_pd(limit);
            unsigned mask = 0;
            for (int j = 0; j < 16; j++)
                mask |= (unsigned)_mm_movemask_pd(
                    _mm_cmple_pd(_mm_loadu_pd(p + 2 * j), l)) << (2 * j);
            return mask;
        }
    #endif
        return skx_mask_loop(p, n, limit);
    }
    static inline int skx_lowest_bit(unsigned mask) {
    #if defined(__GNUC__) || defined(__clang__)
        return __builtin_ctz(mask);
    #else
        int j = 0;
        while (!(mask & 1u)) { mask >>= 1; j++; }
        return j;
    #endif
    }
    template <typename T>
    static inline Py_ssize_t skx_append_mask(
        const T* p, Py_ssize_t first, unsigned mask,
        T* scores, Py_ssize_t* cols, Py_ssize_t count
    ) {
        while (mask) {
            int j = skx_lowest_bit(mask);
            scores[count] = p[j];
            cols[count] = first + j;
            count++;
            mask &= mask - 1;
        }
        return count;
    }
    template <typename T>
    static inline void skx_fold_min(T* mins, const T* p, Py_ssize_t n) {
        for (Py_ssize_t j = 0; j < n; j++) mins[j] = p[j] < mins[j] ? p[j] : mins[j];
    }
    /* A value of v[0..n) at least its k-th smallest (1 <= k <= n), from a
       histogram: the largest value of the lowest buckets that hold k values
       (k values are at most it).  Bucket widths are (hi - lo) / SKX_BUCKETS;
       a value's bucket only has to be monotone in the value, so rounding
       cannot make the result wrong.  -1 when the values span no finite
       range (the caller then selects exactly). */
    #define SKX_BUCKETS 128
    template <typename T>
    static inline int skx_bucket(T value, T lo, double scale) {
        int b = (int)(((double)value - (double)lo) * scale);
        return b < 0 ? 0 : (b >= SKX_BUCKETS ? SKX_BUCKETS - 1 : b);
    }
    /* The histogram of v: per bucket its count and largest value; returns
       the bucket holding the k-th smallest and sets *below to the count of
       the lower buckets (every value there is at most every value of that
       bucket: a value's bucket is monotone in the value, whatever the
       rounding).  -1 when the values span no finite range. */
    template <typename T>
    static inline int skx_histogram(const T* v, Py_ssize_t n, Py_ssize_t k,
                                    T* lo_out, double* scale_out,
                                    Py_ssize_t* below, T* top_out) {
        T lo = v[0], hi = v[0];
        for (Py_ssize_t j = 1; j < n; j++) {
            lo = v[j] < lo ? v[j] : lo;
            hi = v[j] > hi ? v[j] : hi;
        }
        double width = (double)hi - (double)lo;
        if (!(width > 0) || !(width < 1e300)) return -1;
        double scale = (SKX_BUCKETS - 1) / width;
        Py_ssize_t counts[SKX_BUCKETS] = {0};
        T tops[SKX_BUCKETS];
        for (int b = 0; b < SKX_BUCKETS; b++) tops[b] = lo;
        for (Py_ssize_t j = 0; j < n; j++) {
            int b = skx_bucket(v[j], lo, scale);
            counts[b]++;
            tops[b] = v[j] > tops[b] ? v[j] : tops[b];
        }
        Py_ssize_t seen = 0;
        T top = lo;
        int b = 0;
        for (; b < SKX_BUCKETS - 1; b++) {
            top = tops[b] > top ? tops[b] : top;
            if (seen + counts[b] >= k) break;
            seen += counts[b];
        }
        top = tops[b] > top ? tops[b] : top;
        *lo_out = lo; *scale_out = scale; *below = seen; *top_out = top;
        return b;
    }
    /* A value at least the k-th smallest of v[0..n) (1 <= k <= n): the
       largest value of the lowest buckets that hold k values. */
    template <typename T>
    static inline int skx_histogram_kth(const T* v, Py_ssize_t n, Py_ssize_t k, T* out) {
        T lo; double scale; Py_ssize_t below;
        if (skx_histogram(v, n, k, &lo, &scale, &below, out) < 0) return -1;
        return 0;
    }
    /* The k-th smallest of v[0..n) exactly: selected among the values of
       its bucket only (copied to scratch, room for n). */
    template <typename T>
    static inline T skx_select_kth(const T* v, Py_ssize_t n, Py_ssize_t k, T* scratch) {
        T lo, top; double scale; Py_ssize_t below, m = 0;
        int b = skx_histogram(v, n, k, &lo, &scale, &below, &top);
        if (b < 0) {
            for (Py_ssize_t j = 0; j < n; j++) scratch[j] = v[j];
            std::nth_element(scratch, scratch + (k - 1), scratch + n);
            return scratch[k - 1];
        }
        for (Py_ssize_t j = 0; j < n; j++)
            if (skx_bucket(v[j], lo, scale) == b) scratch[m++] = v[j];
        Py_ssize_t r = k - 1 - below;
        std::nth_element(scratch, scratch + r, scratch + m);
        return scratch[r];
    }
    """
    unsigned skx_mask_at_most(const float* p, Py_ssize_t n, float limit) noexcept nogil
    unsigned skx_mask_at_most(const double* p, Py_ssize_t n, double limit) noexcept nogil
    Py_ssize_t skx_append_mask[T](
        const T* p, Py_ssize_t first, unsigned mask, T* scores, Py_ssize_t* cols,
        Py_ssize_t count) noexcept nogil
    void skx_fold_min[T](T* mins, const T* p, Py_ssize_t n) noexcept nogil
    int skx_histogram_kth[T](const T* v, Py_ssize_t n, Py_ssize_t k, T* out) noexcept nogil
    T skx_select_kth[T](const T* v, Py_ssize_t n, Py_ssize_t k, T* scratch) noexcept nogil

# Columns tested together before any is looked at one by one.
cdef enum:
    CHUNK = 32


cdef inline float _float_at_most(double value) noexcept nogil:
    """The largest float32 that is at most ``value`` (finite)."""
    cdef float out
    if value >= <double>FLT_MAX:
        return FLT_MAX
    out = <float>value
    if <double>out > value:
        out = nextafterf(out, -INFINITY)
    return out


cdef inline score_t _threshold(double kth, double margin, score_t witness) noexcept nogil:
    """``kth + margin`` in float64, as the score type's largest value at most
    it (so ``s <= result`` iff ``(double) s <= kth + margin``); never above
    the largest finite value, so +inf never qualifies."""
    cdef double value = kth + margin
    if score_t is float:
        return _float_at_most(value)
    else:
        return value if value < DBL_MAX else DBL_MAX


cdef Py_ssize_t _compact(
    score_t* scores, Py_ssize_t* cols, score_t* scratch, Py_ssize_t n,
    Py_ssize_t k, double margin, score_t* kth,
) noexcept nogil:
    """Keep the buffered columns within ``margin`` of its k-th smallest score
    (in order); return how many, and that k-th in ``kth``."""
    cdef Py_ssize_t i, kept = 0
    cdef score_t limit
    kth[0] = skx_select_kth(scores, n, k, scratch)
    limit = _threshold(<double>kth[0], margin, kth[0])
    for i in range(n):
        if scores[i] <= limit:
            scores[kept] = scores[i]
            cols[kept] = cols[i]
            kept += 1
    return kept


cdef score_t _group_bound(
    const score_t* row, Py_ssize_t m, Py_ssize_t k, score_t* mins,
) noexcept nogil:
    """An upper bound on the row's k-th smallest score: the k-th smallest of
    the minima of ``2k`` strided column groups (column c in group c % 2k),
    each minimum being a distinct entry.  Strided because the near frames of
    a sequence are neighbours in time: each lands in another group."""
    cdef Py_ssize_t groups = 2 * k, base, j, width
    for j in range(groups):
        mins[j] = row[j]
    base = groups
    while base < m:
        width = min(groups, m - base)
        skx_fold_min(mins, row + base, width)
        base += groups
    cdef score_t bound
    if skx_histogram_kth(mins, groups, k, &bound) == 0:
        return bound
    nth_element(mins, mins + (k - 1), mins + groups)
    return mins[k - 1]


cdef Py_ssize_t _scan_row(
    const score_t* row, Py_ssize_t m, Py_ssize_t k, double margin,
    score_t* scores, Py_ssize_t* cols, score_t* scratch, score_t* kth,
) noexcept nogil:
    """One row: the buffer ``scores``/``cols`` (room for ``m``) ends holding
    the row's candidates; returns their count."""
    cdef Py_ssize_t n = 0, start, stop, trigger
    cdef unsigned mask
    cdef score_t limit, top = INFINITY
    if m >= 8 * k:
        # A bound first: else a row whose neighbours come late (the frames
        # near its own time) would keep the threshold falling all along.
        top = _group_bound(row, m, k, scratch)
    trigger = min(m, max(2 * k, k + 64))
    limit = _threshold(<double>top, margin, top)
    start = 0
    while start < m:
        stop = min(start + CHUNK, m)
        mask = skx_mask_at_most(row + start, stop - start, limit)
        if mask:
            n = skx_append_mask(row + start, start, mask, scores, cols, n)
            if n >= trigger and n >= k:
                n = _compact(scores, cols, scratch, n, k, margin, &top)
                limit = _threshold(<double>top, margin, top)
                # Room for at least as many again before the next compaction.
                trigger = min(m, max(trigger, 2 * n))
        start = stop
    if n >= k:
        n = _compact(scores, cols, scratch, n, k, margin, &top)
        kth[0] = top
    else:
        kth[0] = INFINITY
    return n


cdef bint _grow(void** buffer, Py_ssize_t size) noexcept nogil:
    cdef void* grown = realloc(buffer[0], size)
    if grown == NULL:
        return False
    buffer[0] = grown
    return True


def row_candidates(score_t[:, ::1] S, Py_ssize_t k, const double[::1] margin,
                   Py_ssize_t limit=-1):
    """Per row of ``S``: the k-th smallest score and the candidates within
    ``margin`` of it.

    Parameters
    ----------
    S : ndarray of shape (b, m), float32 or float64, C-contiguous
        Scores; +inf marks an excluded column.
    k : int
        1 <= k.
    margin : ndarray of shape (b,), float64
        Per row, the distance from the k-th score within which a column is a
        candidate.
    limit : int, default=-1
        With ``limit >= 0``, at most this many candidates in all: beyond, the
        block is not worth finishing here (float32 could not resolve it) and
        None is returned.

    Returns
    -------
    counts : ndarray of shape (b,), intp
        Candidates per row: those with ``score <= kth + margin`` (float64),
        or every finite score of a row with fewer than k.
    cols : ndarray of shape (counts.sum(),), intp
        Their columns, row after row, ascending within a row.
    scores : ndarray of shape (counts.sum(),), S.dtype
        Their scores.
    kth : ndarray of shape (b,), S.dtype
        Per row, the k-th smallest score (+inf when fewer than k are finite).
    """
    cdef Py_ssize_t b = S.shape[0], m = S.shape[1], i, j, n, total = 0
    dtype = np.float32 if score_t is float else np.float64
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if margin.shape[0] != b:
        raise ValueError("one margin per row is needed")
    counts_arr = np.zeros(b, dtype=np.intp)
    kth_arr = np.full(b, np.inf, dtype=dtype)
    if m == 0 or b == 0:
        return counts_arr, np.empty(0, np.intp), np.empty(0, dtype), kth_arr
    cdef Py_ssize_t[::1] counts = counts_arr
    cdef score_t[::1] kth = kth_arr
    cdef int status = 0  # 1: over the limit, 2: out of memory
    cdef Py_ssize_t capacity = b * min(m, 2 * k + 32)
    if limit >= 0:
        capacity = min(capacity, limit)
    capacity = max(capacity, m)
    # Per row: its buffer and a scratch copy; for the block: the output.
    cdef score_t* scores = <score_t*> malloc(m * sizeof(score_t))
    cdef score_t* scratch = <score_t*> malloc(m * sizeof(score_t))
    cdef Py_ssize_t* cols = <Py_ssize_t*> malloc(m * sizeof(Py_ssize_t))
    cdef score_t* out_scores = <score_t*> malloc(capacity * sizeof(score_t))
    cdef Py_ssize_t* out_cols = <Py_ssize_t*> malloc(capacity * sizeof(Py_ssize_t))
    try:
        if (scores == NULL or scratch == NULL or cols == NULL or out_scores == NULL
                or out_cols == NULL):
            raise MemoryError()
        with nogil:
            for i in range(b):
                n = _scan_row(&S[i, 0], m, k, margin[i], scores, cols, scratch,
                              &kth[i])
                if limit >= 0 and total + n > limit:
                    status = 1
                    break
                if total + n > capacity:
                    capacity = max(2 * capacity, total + n)
                    if not (
                        _grow(<void**> &out_scores, capacity * sizeof(score_t))
                        and _grow(<void**> &out_cols, capacity * sizeof(Py_ssize_t))
                    ):
                        status = 2
                        break
                for j in range(n):
                    out_cols[total + j] = cols[j]
                    out_scores[total + j] = scores[j]
                counts[i] = n
                total += n
        if status == 2:
            raise MemoryError()
        if status == 1:
            return None
        cols_arr = np.empty(total, dtype=np.intp)
        scores_arr = np.empty(total, dtype=dtype)
        if total:
            cols_arr[:] = <Py_ssize_t[:total]> out_cols
            scores_arr[:] = <score_t[:total]> out_scores
        return counts_arr, cols_arr, scores_arr, kth_arr
    finally:
        free(scores)
        free(scratch)
        free(cols)
        free(out_scores)
        free(out_cols)
