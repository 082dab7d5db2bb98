# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""The dynamic-programming kernel of the alignment: banded DTW.

One function, :func:`banded_dtw`, aligns a query (rows) to a reference
(columns) inside a band given per query row as an inclusive column interval
``[lo[i], hi[i]]``; a band covering every column is full DTW.  Local costs
are computed here, cell by cell, from the prepared float64 frames in a fixed
order (no BLAS, no threads, no batching), and the build turns off FMA
contraction, so a path's bits never depend on the machine's kernels.

Memory: one byte of backpointer per band cell and two rows of accumulated
cost; never an ``n x m`` matrix unless the band is the whole matrix.

The recurrence is librosa's (``librosa.sequence.dtw`` with steps
``[[1, 1], [0, 1], [1, 0]]`` in (query, reference) order and ``weights_mul``
in that order): ``D[0, 0] = C[0, 0]`` and
``D[i, j] = min(D[i-1, j-1] + w_diag C[i, j], D[i, j-1] + w_ref C[i, j],
D[i-1, j] + w_query C[i, j])``, ties to the earlier step in that list, as
librosa's strict ``<``.  With ``subsequence``, ``D[0, j] = C[0, j]`` (a free
start in the reference) and the path ends at the first column of the
smallest ``D[n-1, j]``.
"""

import numpy as np

from libc.math cimport INFINITY, sqrt
# The raw allocator: callable without the GIL, and seen by tracemalloc.
from cpython.mem cimport PyMem_RawFree as free, PyMem_RawMalloc as malloc

# Metric codes (``_frames.METRIC_CODES`` maps the names).
cdef enum:
    SQEUCLIDEAN = 0
    EUCLIDEAN = 1
    COSINE = 2
    CHORD = 3  # euclidean between unit vectors: sqrt(2 * cosine distance)

# The chord of a zero frame: sqrt(2 * 1), a zero frame being at cosine
# distance 1 from everything.
cdef double SQRT2 = sqrt(2.0)

# Backpointers: the step that reached a cell.
cdef enum:
    FROM_DIAG = 0
    FROM_REF = 1      # (i, j - 1): the reference advanced
    FROM_QUERY = 2    # (i - 1, j): the query advanced
    START = 3
    UNREACHED = 255


cdef inline double local_cost(
    const double* q, const double* r, Py_ssize_t d, int metric,
    bint q_zero, bint r_zero,
) noexcept nogil:
    """The metric between two prepared frames, summed in feature order."""
    cdef Py_ssize_t t
    cdef double acc = 0.0, diff
    if q_zero or r_zero:
        # scikit-learn's convention: a zero frame has cosine similarity 0
        # with everything, so cosine distance 1 (flagged for cosine and
        # chord only).
        return 1.0 if metric == COSINE else SQRT2
    for t in range(d):
        diff = q[t] - r[t]
        acc = acc + diff * diff
    if metric == EUCLIDEAN or metric == CHORD:
        return sqrt(acc)
    if metric == COSINE:
        # Unit vectors: 1 - cos = |u - v|^2 / 2, exact near 0 where the
        # dot-product form cancels.
        return 0.5 * acc
    return acc


cdef struct Problem:
    const double* Q
    const double* R
    Py_ssize_t n
    Py_ssize_t m
    Py_ssize_t d
    const Py_ssize_t* lo
    const Py_ssize_t* hi
    const unsigned char* q_zero
    const unsigned char* r_zero
    int metric
    double w_diag
    double w_ref
    double w_query
    bint subsequence


cdef inline double cell_cost(const Problem* p, Py_ssize_t i, Py_ssize_t j) noexcept nogil:
    return local_cost(
        p.Q + i * p.d, p.R + j * p.d, p.d, p.metric, p.q_zero[i], p.r_zero[j]
    )


cdef double forward(
    const Problem* p, const Py_ssize_t* offsets, unsigned char* back,
    float* F, double* prev, double* cur, Py_ssize_t* end_j,
) noexcept nogil:
    """Accumulated costs row by row; backpointers into ``back``, and every
    cell's accumulated cost into ``F`` unless it is NULL.  Returns the cost at
    the end cell, which it writes to ``end_j``."""
    cdef Py_ssize_t i, j, l, h, pl = 0, ph = -1
    cdef double c, best, cand
    cdef unsigned char step
    cdef double* swap
    for i in range(p.n):
        l = p.lo[i]
        h = p.hi[i]
        for j in range(l, h + 1):
            c = cell_cost(p, i, j)
            best = INFINITY
            step = UNREACHED
            if i == 0 and (p.subsequence or j == 0):
                best = c
                step = START
            if i > 0 and j - 1 >= pl and j - 1 <= ph:
                cand = prev[j - 1 - pl] + p.w_diag * c
                if cand < best:
                    best = cand
                    step = FROM_DIAG
            if j > l:
                cand = cur[j - 1 - l] + p.w_ref * c
                if cand < best:
                    best = cand
                    step = FROM_REF
            if i > 0 and j >= pl and j <= ph:
                cand = prev[j - pl] + p.w_query * c
                if cand < best:
                    best = cand
                    step = FROM_QUERY
            cur[j - l] = best
            back[offsets[i] + j - l] = step
            if F != NULL:
                F[offsets[i] + j - l] = <float> best
        swap = prev
        prev = cur
        cur = swap
        pl = l
        ph = h
    # prev holds the last row.
    if p.subsequence:
        end_j[0] = pl
        best = prev[0]
        for j in range(pl + 1, ph + 1):
            if prev[j - pl] < best:
                best = prev[j - pl]
                end_j[0] = j
        return best
    end_j[0] = p.m - 1
    return prev[p.m - 1 - pl]


cdef Py_ssize_t backtrack(
    const Problem* p, const Py_ssize_t* offsets, const unsigned char* back,
    Py_ssize_t end_j, long long[:, ::1] path,
) noexcept nogil:
    """The path from the end cell back to a START cell, end first; returns its
    length, or -1 when no START cell is reached."""
    cdef Py_ssize_t i = p.n - 1, j = end_j, n_steps = 0
    cdef unsigned char step
    while True:
        path[n_steps, 0] = i
        path[n_steps, 1] = j
        n_steps += 1
        step = back[offsets[i] + j - p.lo[i]]
        if step == FROM_DIAG:
            i -= 1
            j -= 1
        elif step == FROM_REF:
            j -= 1
        elif step == FROM_QUERY:
            i -= 1
        elif step == START:
            return n_steps
        else:
            return -1


cdef void near_optimal(
    const Problem* p, const Py_ssize_t* offsets, const float* F,
    const double* thresholds, Py_ssize_t n_thresholds,
    Py_ssize_t* region_lo, Py_ssize_t* region_hi,
    double* b_next, double* b_cur, double* c_next, double* c_cur,
) noexcept nogil:
    """Per row and threshold, the first and last columns of the cells that
    lie on a path no costlier than the threshold.

    A backward pass: ``B[i, j]``, the cheapest way from cell (i, j) to the
    end (its own cost excluded), plus the forward ``F[i, j]`` is the cost of
    the best path through the cell.  Rows without such a cell keep
    ``region_lo > region_hi``.
    """
    cdef Py_ssize_t i, j, l, h, nl = 0, nh = -1, t, k, at
    cdef double best, cand, through
    cdef double* swap
    for k in range(n_thresholds * p.n):
        region_lo[k] = p.m
        region_hi[k] = -1
    for i in range(p.n - 1, -1, -1):
        l = p.lo[i]
        h = p.hi[i]
        for j in range(h, l - 1, -1):
            c_cur[j - l] = cell_cost(p, i, j)
            if i == p.n - 1 and (p.subsequence or j == p.m - 1):
                best = 0.0
            else:
                best = INFINITY
            if i < p.n - 1 and j + 1 >= nl and j + 1 <= nh:
                cand = b_next[j + 1 - nl] + p.w_diag * c_next[j + 1 - nl]
                if cand < best:
                    best = cand
            if j < h:
                cand = b_cur[j + 1 - l] + p.w_ref * c_cur[j + 1 - l]
                if cand < best:
                    best = cand
            if i < p.n - 1 and j >= nl and j <= nh:
                cand = b_next[j - nl] + p.w_query * c_next[j - nl]
                if cand < best:
                    best = cand
            b_cur[j - l] = best
            through = <double> F[offsets[i] + j - l] + best
            for t in range(n_thresholds):
                if through <= thresholds[t]:
                    at = t * p.n + i
                    region_lo[at] = j
                    if region_hi[at] < j:
                        region_hi[at] = j
        swap = b_next
        b_next = b_cur
        b_cur = swap
        swap = c_next
        c_next = c_cur
        c_cur = swap
        nl = l
        nh = h


def banded_dtw(
    const double[:, ::1] Q,
    const double[:, ::1] R,
    const Py_ssize_t[::1] lo,
    const Py_ssize_t[::1] hi,
    const unsigned char[::1] q_zero,
    const unsigned char[::1] r_zero,
    int metric,
    double w_diag,
    double w_ref,
    double w_query,
    bint subsequence,
    const double[::1] slack=None,
):
    """Optimal monotone path of ``Q`` (rows) through ``R`` (columns) in a band.

    The band must be valid (``_multiscale.check_band``): ``lo`` and ``hi``
    non-decreasing, ``lo[i] <= hi[i - 1] + 1``, and for a global alignment
    ``lo[0] == 0`` and ``hi[n - 1] == m - 1``.

    With ``slack`` (relative, each >= 0), also the near-optimal region: per
    value ``s`` of ``slack`` and per row, the first and last columns of the
    cells lying on some path in the band that costs at most
    ``cost * (1 + s)`` (up to a relative 1e-6: the forward costs are kept in
    float32 for this).

    Returns
    -------
    path : ndarray of shape (n_steps, 2), int64
        ``(query frame, reference frame)`` pairs, start to end.
    cost : float
        Accumulated cost of the path.
    region_lo, region_hi : ndarray of shape (len(slack), n), intp
        Only with ``slack``.
    """
    cdef Problem p
    cdef Py_ssize_t n = Q.shape[0], i, width, max_width = 0, total = 0
    cdef Py_ssize_t end_j = 0, n_steps = -1, n_slack = 0
    cdef double cost = INFINITY
    cdef Py_ssize_t* offsets = NULL
    cdef unsigned char* back = NULL
    cdef float* F = NULL
    cdef double* rows = NULL
    cdef double* thresholds = NULL
    cdef Py_ssize_t[:, ::1] region_lo
    cdef Py_ssize_t[:, ::1] region_hi

    p.Q = &Q[0, 0]
    p.R = &R[0, 0]
    p.n = n
    p.m = R.shape[0]
    p.d = Q.shape[1]
    p.lo = &lo[0]
    p.hi = &hi[0]
    p.q_zero = &q_zero[0]
    p.r_zero = &r_zero[0]
    p.metric = metric
    p.w_diag = w_diag
    p.w_ref = w_ref
    p.w_query = w_query
    p.subsequence = subsequence
    for i in range(n):
        width = hi[i] - lo[i] + 1
        total += width
        if width > max_width:
            max_width = width
    if slack is not None:
        n_slack = slack.shape[0]
    lo_arr = np.empty((n_slack, n), dtype=np.intp)
    hi_arr = np.empty((n_slack, n), dtype=np.intp)
    region_lo = lo_arr
    region_hi = hi_arr
    path_arr = np.empty((n + p.m, 2), dtype=np.int64)
    cdef long long[:, ::1] path = path_arr
    try:
        offsets = <Py_ssize_t*> malloc((n + 1) * sizeof(Py_ssize_t))
        back = <unsigned char*> malloc(total * sizeof(unsigned char))
        rows = <double*> malloc(4 * max_width * sizeof(double))
        if slack is not None:
            F = <float*> malloc(total * sizeof(float))
            thresholds = <double*> malloc((n_slack + 1) * sizeof(double))
        if (
            offsets == NULL or back == NULL or rows == NULL
            or (slack is not None and (F == NULL or thresholds == NULL))
        ):
            raise MemoryError(f"banded DTW: cannot allocate {total} band cells")
        with nogil:
            offsets[0] = 0
            for i in range(n):
                offsets[i + 1] = offsets[i] + hi[i] - lo[i] + 1
            cost = forward(
                &p, offsets, back, F, rows, rows + max_width, &end_j
            )
            n_steps = backtrack(&p, offsets, back, end_j, path)
            if F != NULL and n_steps > 0:
                for i in range(n_slack):
                    # The margin covers the float32 rounding of F.
                    thresholds[i] = cost * (1.0 + slack[i] + 1e-6)
                near_optimal(
                    &p, offsets, F, thresholds, n_slack,
                    &region_lo[0, 0], &region_hi[0, 0],
                    rows, rows + max_width, rows + 2 * max_width,
                    rows + 3 * max_width,
                )
    finally:
        free(offsets)
        free(back)
        free(rows)
        free(F)
        free(thresholds)
    if n_steps < 0:
        raise RuntimeError("banded DTW: the band does not connect start and end")
    path_out = path_arr[:n_steps][::-1].copy()
    if slack is None:
        return path_out, float(cost)
    return path_out, float(cost), lo_arr, hi_arr


def prepare_frames(const double[:, ::1] X, int metric):
    """Frames as the kernel reads them, and which frames are all zeros.

    Cosine and chord: each frame divided by its norm (summed in feature
    order); a zero frame stays zero and is flagged.  The other metrics: the
    frames as they are (flags all 0).
    """
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], i, t
    cdef double norm
    out_arr = np.array(X, dtype=np.float64, copy=True, order="C")
    zero_arr = np.zeros(n, dtype=np.uint8)
    cdef double[:, ::1] out = out_arr
    cdef unsigned char[::1] zero = zero_arr
    if metric != COSINE and metric != CHORD:
        return out_arr, zero_arr
    with nogil:
        for i in range(n):
            norm = 0.0
            for t in range(d):
                norm = norm + X[i, t] * X[i, t]
            norm = sqrt(norm)
            if norm == 0.0:
                zero[i] = 1
                continue
            for t in range(d):
                out[i, t] = X[i, t] / norm
    return out_arr, zero_arr

