# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
# distutils: language = c++
"""The compiled nomination of a block of scores: one pass over each row.

:func:`row_candidates` gives, per row of a block of product scores, the
exact k-th smallest score ``t`` and every column whose score is at most
``t + margin`` (in float64), in ascending column order: what
``_select.nominate`` followed by the k-th statistic and the margin test
gives, from one read of the row from memory instead of several passes over
the block.

A row is read once from memory, in chunks of 32 columns: each chunk's
scores are folded into the minima of ``G`` strided column groups (column c
in group c % G, ``G`` = 2k rounded up to a whole number of chunks), and its
own minimum kept.  The k-th smallest group minimum bounds the row's k-th
score from above (each minimum is a distinct entry).  Then only the chunks
whose minimum is within the threshold (that bound, or the k-th smallest of
the kept scores, plus the margin) are read again (from cache): their
qualifying columns form a bit mask, whose set bits are appended to a
buffer that is compacted (its k-th smallest recomputed, the columns beyond
the new threshold dropped, order kept) when it fills.  The threshold only
falls, so every column within the margin of the row's final k-th score is
kept.  k-th smallest values are selected exactly: a histogram of the values
finds the bucket that holds the k-th, and only that bucket is searched.
Excluded columns (+inf) never qualify.  The GIL is released: the blocks of
the search run on threads.
"""

import numpy as np

from libc.math cimport INFINITY, nextafterf
from libc.float cimport DBL_MAX, FLT_MAX
from libc.stdlib cimport free, malloc, realloc
from cython.view cimport array as cvarray

ctypedef fused score_t:
    float
    double

# The loops over a row's scores, in C++ (SSE2 where there is: Cython's own
# loops are not vectorized).  Every comparison is exact, so the SIMD and
# scalar paths give the same bits.
cdef extern from *:
    """
    #include <algorithm>
    #include <limits>
    #if defined(__SSE2__) || defined(_M_X64)
    #include <emmintrin.h>
    #define SKX_SSE2 1
    #endif
    #define SKX_CHUNK 32
    /* Per chunk of SKX_CHUNK scores p[0..32): fold them into mins[0..32)
       and return their minimum. */
    template <typename T>
    static inline T skx_fold_chunk(T* mins, const T* p) {
        T low = p[0];
        for (int j = 0; j < SKX_CHUNK; j++) {
            mins[j] = p[j] < mins[j] ? p[j] : mins[j];
            low = p[j] < low ? p[j] : low;
        }
        return low;
    }
    #ifdef SKX_SSE2
    /* minps/minpd: the smaller operand, the second when they compare equal
       (a zero of either sign: the same number); scores are never NaN. */
    static inline float skx_fold_chunk(float* mins, const float* p) {
        __m128 low = _mm_loadu_ps(p);
        for (int j = 0; j < SKX_CHUNK; j += 4) {
            __m128 x = _mm_loadu_ps(p + j);
            _mm_storeu_ps(mins + j, _mm_min_ps(x, _mm_loadu_ps(mins + j)));
            low = _mm_min_ps(x, low);
        }
        low = _mm_min_ps(low, _mm_shuffle_ps(low, low, _MM_SHUFFLE(1, 0, 3, 2)));
        low = _mm_min_ps(low, _mm_shuffle_ps(low, low, _MM_SHUFFLE(2, 3, 0, 1)));
        return _mm_cvtss_f32(low);
    }
    static inline double skx_fold_chunk(double* mins, const double* p) {
        __m128d low = _mm_loadu_pd(p);
        for (int j = 0; j < SKX_CHUNK; j += 2) {
            __m128d x = _mm_loadu_pd(p + j);
            _mm_storeu_pd(mins + j, _mm_min_pd(x, _mm_loadu_pd(mins + j)));
            low = _mm_min_pd(x, low);
        }
        low = _mm_min_pd(low, _mm_shuffle_pd(low, low, 1));
        return _mm_cvtsd_f64(low);
    }
    #endif
    /* Bit j set when p[j] <= limit (n <= 32). */
    template <typename T>
    static inline unsigned skx_mask_loop(const T* p, Py_ssize_t n, T limit) {
        unsigned mask = 0;
        for (Py_ssize_t j = 0; j < n; j++) mask |= (unsigned)(p[j] <= limit) << j;
        return mask;
    }
    static inline unsigned skx_mask_at_most(const float* p, Py_ssize_t n, float limit) {
    #ifdef SKX_SSE2
        if (n == SKX_CHUNK) {
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
        if (n == SKX_CHUNK) {
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
    /* The smallest and largest of v[0..n) (n >= 1), four lanes at a time. */
    template <typename T>
    static inline void skx_range(const T* v, Py_ssize_t n, T* lo, T* hi) {
        T l0 = v[0], l1 = v[0], l2 = v[0], l3 = v[0];
        T h0 = v[0], h1 = v[0], h2 = v[0], h3 = v[0];
        Py_ssize_t j = 0;
        for (; j + 4 <= n; j += 4) {
            l0 = v[j] < l0 ? v[j] : l0; h0 = v[j] > h0 ? v[j] : h0;
            l1 = v[j + 1] < l1 ? v[j + 1] : l1; h1 = v[j + 1] > h1 ? v[j + 1] : h1;
            l2 = v[j + 2] < l2 ? v[j + 2] : l2; h2 = v[j + 2] > h2 ? v[j + 2] : h2;
            l3 = v[j + 3] < l3 ? v[j + 3] : l3; h3 = v[j + 3] > h3 ? v[j + 3] : h3;
        }
        for (; j < n; j++) { l0 = v[j] < l0 ? v[j] : l0; h0 = v[j] > h0 ? v[j] : h0; }
        l0 = std::min(std::min(l0, l1), std::min(l2, l3));
        h0 = std::max(std::max(h0, h1), std::max(h2, h3));
        *lo = l0; *hi = h0;
    }
    /* The bucket of each value of v[0..n): (v - lo) * scale truncated, in
       the arithmetic type A.  Correctly rounded subtraction of a constant
       and multiplication by a positive one are monotone, and so is the
       truncation: a value's bucket is monotone in the value whatever the
       rounding, so every value of a lower bucket is at most every value of
       a higher one.  The caller makes sure nothing overflows: buckets stay
       in [0, SKX_BUCKETS). */
    #define SKX_BUCKETS 128
    template <typename A, typename T>
    static inline void skx_buckets(const T* v, Py_ssize_t n, A lo, A scale,
                                   unsigned char* bucket) {
        for (Py_ssize_t j = 0; j < n; j++)
            bucket[j] = (unsigned char)(int)(((A)v[j] - lo) * scale);
    }
    /* The k-th smallest of v[0..n) exactly (1 <= k <= n): a histogram of
       SKX_BUCKETS buckets over [lo, hi] finds the bucket holding it, and
       only that bucket's values (copied to scratch, room for n) are then
       searched.  Values spanning no finite range (all equal, an infinity,
       wider than 1e300) are searched whole.  float32 values are bucketed in
       float32 where their range allows it (between 1e-30 and 1e38 wide:
       no overflow, no infinite scale), else in float64. */
    template <typename T>
    static inline T skx_select_kth(const T* v, Py_ssize_t n, Py_ssize_t k,
                                   T* scratch, unsigned char* bucket) {
        T lo, hi;
        skx_range(v, n, &lo, &hi);
        const double width = (double)hi - (double)lo;
        if (!(width > 0) || !(width < 1e300)) {
            std::copy(v, v + n, scratch);
            std::nth_element(scratch, scratch + (k - 1), scratch + n);
            return scratch[k - 1];
        }
        const double scale = (SKX_BUCKETS - 1) / width;
        if (sizeof(T) == 4 && width > 1e-30 && width < 1e38)
            skx_buckets<float>(v, n, (float)lo, (float)scale, bucket);
        else
            skx_buckets<double>(v, n, (double)lo, scale, bucket);
        Py_ssize_t counts[SKX_BUCKETS] = {0};
        for (Py_ssize_t j = 0; j < n; j++) counts[bucket[j]]++;
        Py_ssize_t below = 0;
        int b = 0;
        while (below + counts[b] < k) below += counts[b++];
        Py_ssize_t m = 0;
        for (Py_ssize_t j = 0; j < n; j++) {
            scratch[m] = v[j];
            m += bucket[j] == b;
        }
        Py_ssize_t r = k - 1 - below;
        std::nth_element(scratch, scratch + r, scratch + m);
        return scratch[r];
    }
    """
    float skx_fold_chunk(float* mins, const float* p) noexcept nogil
    double skx_fold_chunk(double* mins, const double* p) noexcept nogil
    unsigned skx_mask_at_most(const float* p, Py_ssize_t n, float limit) noexcept nogil
    unsigned skx_mask_at_most(const double* p, Py_ssize_t n, double limit) noexcept nogil
    Py_ssize_t skx_append_mask[T](
        const T* p, Py_ssize_t first, unsigned mask, T* scores, Py_ssize_t* cols,
        Py_ssize_t count) noexcept nogil
    T skx_select_kth[T](const T* v, Py_ssize_t n, Py_ssize_t k, T* scratch,
                         unsigned char* bucket) noexcept nogil

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


cdef struct Work:
    # One row's buffers, each with room for the row (``lows``, ``chunks``:
    # one entry a chunk).
    void* scores
    Py_ssize_t* cols
    void* scratch
    void* lows
    unsigned char* bucket
    Py_ssize_t* chunks


cdef Py_ssize_t _compact(
    score_t* scores, Py_ssize_t* cols, Work* w, Py_ssize_t n,
    Py_ssize_t k, double margin, score_t* kth,
) noexcept nogil:
    """Keep the buffered columns within ``margin`` of its k-th smallest score
    (in order); return how many, and that k-th in ``kth``."""
    cdef Py_ssize_t i, kept = 0
    cdef score_t limit
    kth[0] = skx_select_kth(scores, n, k, <score_t*> w.scratch, w.bucket)
    limit = _threshold(<double>kth[0], margin, kth[0])
    for i in range(n):
        scores[kept] = scores[i]
        cols[kept] = cols[i]
        kept += scores[i] <= limit
    return kept


cdef score_t _fold_row(
    const score_t* row, Py_ssize_t m, Py_ssize_t k, Py_ssize_t groups,
    Work* w, score_t* lows,
) noexcept nogil:
    """One read of the row: ``lows[c]`` the minimum of chunk c, and an upper
    bound on the row's k-th smallest score: the k-th smallest of the minima
    of ``groups`` strided column groups (column c in group c % groups, a
    whole number of chunks; each minimum a distinct entry).  Strided
    because the near frames of a sequence are neighbours in time: each
    lands in another group."""
    cdef score_t* mins = <score_t*> w.scores
    cdef Py_ssize_t j, c = 0, base = 0, slot = 0
    for j in range(groups):
        mins[j] = INFINITY
    while base + CHUNK <= m:
        lows[c] = skx_fold_chunk(mins + slot, row + base)
        c += 1
        base += CHUNK
        slot += CHUNK
        if slot == groups:
            slot = 0
    if base < m:
        lows[c] = row[base]
        for j in range(base, m):
            if row[j] < mins[slot + j - base]:
                mins[slot + j - base] = row[j]
            if row[j] < lows[c]:
                lows[c] = row[j]
    return skx_select_kth(mins, groups, k, <score_t*> w.scratch, w.bucket)


cdef Py_ssize_t _scan_row(
    const score_t* row, Py_ssize_t m, Py_ssize_t k, double margin, Work* w,
    score_t* kth,
) noexcept nogil:
    """One row: the buffer ``w.scores``/``w.cols`` ends holding the row's
    candidates; returns their count."""
    cdef score_t* scores = <score_t*> w.scores
    cdef score_t* lows = <score_t*> w.lows
    cdef Py_ssize_t* cols = w.cols
    cdef Py_ssize_t n = 0, start, trigger, c, i, n_chunks = (m + CHUNK - 1) // CHUNK
    cdef Py_ssize_t groups = (2 * k + CHUNK - 1) // CHUNK * CHUNK
    cdef unsigned mask
    cdef score_t limit, top = INFINITY
    if m >= 8 * k and m >= 2 * groups:
        # A bound first: else a row whose neighbours come late (the frames
        # near its own time) would keep the threshold falling all along.
        top = _fold_row(row, m, k, groups, w, lows)
    limit = _threshold(<double>top, margin, top)
    trigger = min(m, max(2 * k, k + 64))
    # The chunks that may hold a candidate (all of them without the bound):
    # listed without a branch; the threshold only falls, so the list stays
    # a superset while the scan goes.
    cdef Py_ssize_t n_listed = 0
    if top < INFINITY:
        for c in range(n_chunks):
            w.chunks[n_listed] = c
            n_listed += lows[c] <= limit
    else:
        for c in range(n_chunks):
            w.chunks[c] = c
        n_listed = n_chunks
    for i in range(n_listed):
        start = w.chunks[i] * CHUNK
        mask = skx_mask_at_most(row + start, min(CHUNK, m - start), limit)
        if mask:
            n = skx_append_mask(row + start, start, mask, scores, cols, n)
            if n >= trigger and n >= k:
                n = _compact(scores, cols, w, n, k, margin, &top)
                limit = _threshold(<double>top, margin, top)
                # Room for at least as many again before the next compaction.
                trigger = min(m, max(trigger, 2 * n))
    if n >= k:
        n = _compact(scores, cols, w, n, k, margin, &top)
        kth[0] = top
    else:
        kth[0] = INFINITY
    return n


cdef object _owning(cvarray buffer):
    """``buffer`` as an ndarray that frees its memory when it goes."""
    buffer.callback_free_data = free
    return np.asarray(buffer)


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
    doubt : ndarray, intp
        Positions (in ``cols``) of the candidates of rows with more than k
        whose score is not below ``kth - margin`` (float64): those not
        certainly among the row's k nearest (``_select.settle``).
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
        return (counts_arr, np.empty(0, np.intp), np.empty(0, dtype), kth_arr,
                np.empty(0, np.intp))
    cdef Py_ssize_t[::1] counts = counts_arr
    cdef score_t[::1] kth = kth_arr
    cdef int status = 0  # 1: over the limit, 2: out of memory
    cdef Py_ssize_t capacity = b * min(m, 2 * k + 32)
    if limit >= 0:
        capacity = min(capacity, limit)
    capacity = max(capacity, m)
    # Per row: its buffers (Work); for the block: the output.
    cdef Work w
    cdef Py_ssize_t n_chunks = m // CHUNK + 1
    w.scores = malloc(m * sizeof(score_t))
    w.scratch = malloc(m * sizeof(score_t))
    w.lows = malloc(n_chunks * sizeof(score_t))
    w.cols = <Py_ssize_t*> malloc(m * sizeof(Py_ssize_t))
    w.bucket = <unsigned char*> malloc(m)
    w.chunks = <Py_ssize_t*> malloc(n_chunks * sizeof(Py_ssize_t))
    cdef score_t* scores
    cdef Py_ssize_t* cols = w.cols
    cdef score_t* out_scores = <score_t*> malloc(capacity * sizeof(score_t))
    cdef Py_ssize_t* out_cols = <Py_ssize_t*> malloc(capacity * sizeof(Py_ssize_t))
    cdef Py_ssize_t n_doubt = 0, doubt_capacity = 8 * b
    cdef Py_ssize_t* doubt = <Py_ssize_t*> malloc(doubt_capacity * sizeof(Py_ssize_t))
    cdef double cut
    try:
        if (w.scores == NULL or w.scratch == NULL or w.lows == NULL
                or w.cols == NULL or w.bucket == NULL or w.chunks == NULL
                or out_scores == NULL or out_cols == NULL or doubt == NULL):
            raise MemoryError()
        scores = <score_t*> w.scores
        with nogil:
            for i in range(b):
                n = _scan_row(&S[i, 0], m, k, margin[i], &w, &kth[i])
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
                if n > k:
                    cut = <double>kth[i] - margin[i]
                    if n_doubt + n > doubt_capacity:
                        doubt_capacity = max(2 * doubt_capacity, n_doubt + n)
                        if not _grow(<void**> &doubt, doubt_capacity * sizeof(Py_ssize_t)):
                            status = 2
                            break
                    for j in range(n):
                        doubt[n_doubt] = total + j
                        n_doubt += <double>scores[j] >= cut
                counts[i] = n
                total += n
        if status == 2:
            raise MemoryError()
        if status == 1:
            return None
        doubt_arr = np.empty(n_doubt, dtype=np.intp)
        if n_doubt:
            doubt_arr[:] = <Py_ssize_t[:n_doubt]> doubt
        if total == 0:
            return (counts_arr, np.empty(0, np.intp), np.empty(0, dtype), kth_arr,
                    doubt_arr)
        # The buffers become the arrays (no second copy into fresh memory).
        _grow(<void**> &out_cols, total * sizeof(Py_ssize_t))
        _grow(<void**> &out_scores, total * sizeof(score_t))
        cols_arr = _owning(<Py_ssize_t[:total]> out_cols)
        out_cols = NULL
        scores_arr = _owning(<score_t[:total]> out_scores)
        out_scores = NULL
        return counts_arr, cols_arr, scores_arr, kth_arr, doubt_arr
    finally:
        free(w.scores)
        free(w.scratch)
        free(w.lows)
        free(w.cols)
        free(w.bucket)
        free(w.chunks)
        free(out_scores)
        free(out_cols)
        free(doubt)
