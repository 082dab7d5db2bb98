# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""The dynamic-programming kernel of the alignment: banded DTW.

One function, :func:`banded_dtw`, aligns a query (rows) to a reference
(columns) inside a band given per query row as an inclusive column interval
``[lo[i], hi[i]]``; a band covering every column is full DTW.  Local costs
are computed here from the prepared float64 frames, a row's at a time, each
cell's sum in feature order (no BLAS, no threads, no batching), and the
build turns off FMA contraction, so a path's bits never depend on the
machine's kernels.

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
from cpython.mem cimport (
    PyMem_RawFree as free, PyMem_RawMalloc as malloc, PyMem_RawRealloc as realloc,
)

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
    double w_start
    bint subsequence


cdef Problem make_problem(
    const double[:, ::1] Q, const double[:, ::1] R,
    const unsigned char[::1] q_zero, const unsigned char[::1] r_zero, int metric,
    double w_diag, double w_ref, double w_query, double w_start, bint subsequence,
):
    """The problem of checked frames (:func:`check_problem`); no band yet."""
    cdef Problem p
    p.Q = &Q[0, 0]
    p.R = &R[0, 0]
    p.n = Q.shape[0]
    p.m = R.shape[0]
    p.d = Q.shape[1]
    p.lo = NULL
    p.hi = NULL
    p.q_zero = &q_zero[0]
    p.r_zero = &r_zero[0]
    p.metric = metric
    p.w_diag = w_diag
    p.w_ref = w_ref
    p.w_query = w_query
    p.w_start = w_start
    p.subsequence = subsequence
    return p


cdef void transpose_reference(const Problem* p, double* RT) noexcept nogil:
    """The reference frames transposed, ``RT[t * m + j] = R[j, t]``: what
    :func:`row_costs` reads."""
    cdef Py_ssize_t j, t
    for j in range(p.m):
        for t in range(p.d):
            RT[t * p.m + j] = p.R[j * p.d + t]


cdef void row_costs(
    const Problem* p, Py_ssize_t i, const double* RT, double* out,
    Py_ssize_t l, Py_ssize_t h,
) noexcept nogil:
    """The local costs of cells ``(i, l..h)`` into ``out[0..h - l]``: the
    metric between the prepared frames, its squared differences summed in
    feature order (every kernel computes a cell's cost so, bit for bit),
    from the reference transposed (``RT[t * m + j]``), eight columns side by
    side (the compiler vectorises them).  Cosine on unit vectors is half the
    squared distance (``1 - cos``, exact near 0 where the dot-product form
    cancels), chord its square root; a zero frame (flagged for cosine and
    chord only) is at cosine distance 1 from everything, scikit-learn's
    convention (chord ``sqrt(2)``)."""
    cdef Py_ssize_t t, j = l, u, m = p.m, d = p.d
    cdef const double* q = p.Q + i * d
    cdef const double* col
    cdef double qt, diff
    cdef double acc[8]
    while j <= h:
        # Eight columns at a time, their sums held in registers.
        if j + 8 <= h + 1:
            for u in range(8):
                acc[u] = 0.0
            for t in range(d):
                qt = q[t]
                col = RT + t * m + j
                for u in range(8):
                    diff = qt - col[u]
                    acc[u] = acc[u] + diff * diff
            for u in range(8):
                out[j - l + u] = acc[u]
            j += 8
        else:
            acc[0] = 0.0
            for t in range(d):
                diff = q[t] - RT[t * m + j]
                acc[0] = acc[0] + diff * diff
            out[j - l] = acc[0]
            j += 1
    if p.metric == EUCLIDEAN or p.metric == CHORD:
        for j in range(h - l + 1):
            out[j] = sqrt(out[j])
    elif p.metric == COSINE:
        for j in range(h - l + 1):
            out[j] = 0.5 * out[j]
    for j in range(l, h + 1):
        if p.q_zero[i] or p.r_zero[j]:
            out[j - l] = 1.0 if p.metric == COSINE else SQRT2


cdef inline double relax_cost(
    const Problem* p, double c, Py_ssize_t i, Py_ssize_t j, unsigned char* step,
    double diag, double left, double up,
) noexcept nogil:
    """The recurrence at cell (i, j), of local cost ``c``, from the
    accumulated costs of its predecessors (+inf where there is none): the
    cell's accumulated cost, and its step into ``step``, ties to the earlier
    step in librosa's order."""
    cdef double best = INFINITY, cand
    step[0] = UNREACHED
    if i == 0 and (p.subsequence or j == 0):
        best = p.w_start * c
        step[0] = START
    cand = diag + p.w_diag * c
    if cand < best:
        best = cand
        step[0] = FROM_DIAG
    cand = left + p.w_ref * c
    if cand < best:
        best = cand
        step[0] = FROM_REF
    cand = up + p.w_query * c
    if cand < best:
        best = cand
        step[0] = FROM_QUERY
    return best


cdef double forward(
    const Problem* p, const Py_ssize_t* offsets, unsigned char* back,
    double* F, double* prev, double* cur, double* costs, const double* RT,
    Py_ssize_t* end_j,
) noexcept nogil:
    """Accumulated costs row by row; backpointers into ``back``, and every
    cell's accumulated cost into ``F`` unless it is NULL.  Returns the cost at
    the end cell, which it writes to ``end_j``.  A row's local costs are
    computed first (:func:`row_costs`, into ``costs``, from the reference
    transposed in ``RT``)."""
    cdef Py_ssize_t i, j, l, h, pl = 0, ph = -1
    cdef double c, best, cand
    cdef unsigned char step
    cdef double* swap
    for i in range(p.n):
        l = p.lo[i]
        h = p.hi[i]
        row_costs(p, i, RT, costs, l, h)
        for j in range(l, h + 1):
            best = relax_cost(
                p, costs[j - l], i, j, &step,
                prev[j - 1 - pl] if i > 0 and pl <= j - 1 <= ph else INFINITY,
                cur[j - 1 - l] if j > l else INFINITY,
                prev[j - pl] if i > 0 and pl <= j <= ph else INFINITY,
            )
            cur[j - l] = best
            back[offsets[i] + j - l] = step
            if F != NULL:
                F[offsets[i] + j - l] = best
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
    const Problem* p, const Py_ssize_t* starts, const Py_ssize_t* offsets,
    const unsigned char* back, bint packed, Py_ssize_t end_j,
    long long[:, ::1] path,
) noexcept nogil:
    """The path from the end cell back to a start cell, end first, over rows
    of steps (row ``i`` from column ``starts[i]``, ``offsets[i + 1] -
    offsets[i]`` cells; one byte a step, or two bits when ``packed``);
    returns its length, or -1 when the walk leaves the rows or ends
    anywhere but at a start cell."""
    cdef Py_ssize_t i = p.n - 1, j = end_j, n_steps = 0, at
    cdef unsigned char step
    while True:
        if i < 0 or j < starts[i] or j - starts[i] >= offsets[i + 1] - offsets[i]:
            return -1
        path[n_steps, 0] = i
        path[n_steps, 1] = j
        n_steps += 1
        at = offsets[i] + j - starts[i]
        step = (back[at >> 2] >> ((at & 3) << 1)) & 3 if packed else back[at]
        if step == FROM_DIAG:
            i -= 1
            j -= 1
        elif step == FROM_REF:
            j -= 1
        elif step == FROM_QUERY:
            i -= 1
        elif step == START and i == 0 and (p.subsequence or j == 0):
            return n_steps
        else:
            return -1


cdef void near_optimal(
    const Problem* p, const Py_ssize_t* offsets, const double* F,
    const double* thresholds, Py_ssize_t n_thresholds,
    Py_ssize_t* region_lo, Py_ssize_t* region_hi,
    double* b_next, double* b_cur, double* c_next, double* c_cur, const double* RT,
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
        row_costs(p, i, RT, c_cur, l, h)
        for j in range(h, l - 1, -1):
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
            through = F[offsets[i] + j - l] + best
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


def check_problem(
    Q, R, q_zero, r_zero, double w_diag, double w_ref, double w_query, double w_start
):
    """``ValueError`` unless the frames and weights are a problem the kernels
    can read: at least one frame each, the same features, one zero flag per
    frame, finite weights > 0."""
    n, m = Q.shape[0], R.shape[0]
    if n < 1 or m < 1 or Q.shape[1] != R.shape[1] or Q.shape[1] < 1:
        raise ValueError(
            f"DTW kernel: frames of shapes {tuple(Q.shape[:2])} and "
            f"{tuple(R.shape[:2])}; both need >= 1 frame of the same features."
        )
    if q_zero.shape[0] != n or r_zero.shape[0] != m:
        raise ValueError("DTW kernel: one zero flag per frame is needed.")
    for w in (w_diag, w_ref, w_query, w_start):
        if not (0 < w < INFINITY):
            raise ValueError(f"DTW kernel: step weights must be finite and > 0, got {w}.")


def check_band(const Py_ssize_t[::1] lo, const Py_ssize_t[::1] hi, Py_ssize_t n,
               Py_ssize_t m, bint subsequence):
    """``ValueError`` unless ``[lo[i], hi[i]]`` (per row) is a band the kernel
    may read: one interval per row inside the ``n x m`` matrix, both ends
    non-decreasing, each row overlapping or touching the previous one
    (``lo[i] <= hi[i - 1] + 1``: connected), from column 0 and to column
    ``m - 1`` unless ``subsequence``."""
    cdef Py_ssize_t i
    if lo.shape[0] != n or hi.shape[0] != n:
        raise ValueError(f"DTW band: {lo.shape[0]} and {hi.shape[0]} bounds for {n} rows.")
    for i in range(n):
        if not (0 <= lo[i] <= hi[i] < m):
            raise ValueError(
                f"DTW band: row {i} spans columns [{lo[i]}, {hi[i]}], not inside "
                f"0..{m - 1}."
            )
        if i > 0 and (lo[i] < lo[i - 1] or hi[i] < hi[i - 1] or lo[i] > hi[i - 1] + 1):
            raise ValueError(
                f"DTW band: row {i} [{lo[i]}, {hi[i]}] after [{lo[i - 1]}, "
                f"{hi[i - 1]}] is not monotone and connected."
            )
    if not subsequence and (lo[0] != 0 or hi[n - 1] != m - 1):
        raise ValueError("DTW band: a global alignment's band holds (0, 0) and (n-1, m-1).")


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
    double w_start=1.0,
):
    """Optimal monotone path of ``Q`` (rows) through ``R`` (columns) in a band.

    The band is checked first (:func:`check_problem`; a ``ValueError``
    otherwise): inside the matrix, ``lo`` and ``hi`` non-decreasing,
    ``lo[i] <= hi[i - 1] + 1`` (connected), and for a global alignment
    ``lo[0] == 0`` and ``hi[n - 1] == m - 1``.  Every read and write of the
    kernel lies inside such a band, so no input reaches memory outside it.

    With ``slack`` (relative, each >= 0), also the near-optimal region: per
    value ``s`` of ``slack`` and per row, the first and last columns of the
    cells lying on some path in the band that costs at most
    ``cost * (1 + s)`` (up to a relative 1e-6: the forward costs are kept in
    float64; sums in another order may differ by a relative 1e-12).

    ``w_start`` multiplies the start cell's cost (1: librosa's recurrence;
    the driver scales every weight by one power of two).

    Returns
    -------
    path : ndarray of shape (n_steps, 2), int64
        ``(query frame, reference frame)`` pairs, start to end.
    cost : float
        Accumulated cost of the path.
    region_lo, region_hi : ndarray of shape (len(slack), n), intp
        Only with ``slack``.
    """
    check_problem(Q, R, q_zero, r_zero, w_diag, w_ref, w_query, w_start)
    check_band(lo, hi, Q.shape[0], R.shape[0], subsequence)
    if slack is not None and not all(s >= 0 for s in slack):
        raise ValueError("slack values must be >= 0")
    cdef Problem p
    cdef Py_ssize_t n = Q.shape[0], i, width, max_width = 0, total = 0
    cdef Py_ssize_t end_j = 0, n_steps = -1, n_slack = 0
    cdef double cost = INFINITY
    cdef Py_ssize_t* offsets = NULL
    cdef unsigned char* back = NULL
    cdef double* F = NULL
    cdef double* rows = NULL
    cdef double* RT = NULL
    cdef double* thresholds = NULL
    cdef Py_ssize_t[:, ::1] region_lo
    cdef Py_ssize_t[:, ::1] region_hi

    p = make_problem(
        Q, R, q_zero, r_zero, metric, w_diag, w_ref, w_query, w_start, subsequence
    )
    p.lo = &lo[0]
    p.hi = &hi[0]
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
        rows = <double*> malloc(5 * max_width * sizeof(double))
        RT = <double*> malloc(p.m * p.d * sizeof(double))
        if slack is not None:
            F = <double*> malloc(total * sizeof(double))
            thresholds = <double*> malloc((n_slack + 1) * sizeof(double))
        if (
            offsets == NULL or back == NULL or rows == NULL or RT == NULL
            or (slack is not None and (F == NULL or thresholds == NULL))
        ):
            raise MemoryError(f"banded DTW: cannot allocate {total} band cells")
        with nogil:
            offsets[0] = 0
            for i in range(n):
                offsets[i + 1] = offsets[i] + hi[i] - lo[i] + 1
            transpose_reference(&p, RT)
            cost = forward(
                &p, offsets, back, F, rows, rows + max_width, rows + 4 * max_width,
                RT, &end_j,
            )
            n_steps = backtrack(&p, p.lo, offsets, back, False, end_j, path)
            if F != NULL and n_steps > 0:
                for i in range(n_slack):
                    # The margin covers the rounding of sums in another order.
                    thresholds[i] = cost * (1.0 + slack[i] + 1e-12)
                near_optimal(
                    &p, offsets, F, thresholds, n_slack,
                    &region_lo[0, 0], &region_hi[0, 0],
                    rows, rows + max_width, rows + 2 * max_width,
                    rows + 3 * max_width, RT,
                )
    finally:
        free(offsets)
        free(back)
        free(rows)
        free(RT)
        free(F)
        free(thresholds)
    if n_steps < 0:
        # The band connects start and end (checked), so only costs beyond
        # float64's range leave the end unreached.
        raise ValueError(
            "DTW: every path's cost leaves float64's range; rescale the "
            "features or the step weights."
        )
    path_out = path_arr[:n_steps][::-1].copy()
    if slack is None:
        return path_out, float(cost)
    return path_out, float(cost), lo_arr, hi_arr


# Outcomes of the pruned search.
cdef enum:
    DONE = 0
    OUT_OF_BUDGET = 1
    NO_PATH = 2       # no path under the threshold (the bound was too low)


cdef struct Blocks:
    # The block cost-to-go bound (``_heuristic``); size 0: none.
    Py_ssize_t size
    Py_ssize_t n_blocks
    Py_ssize_t m_blocks
    const float* G          # (n_blocks + 1) x m_blocks
    const float* H          # (m_blocks + 1) x n_blocks
    const double* rows_within
    const double* cols_within
    const Py_ssize_t* col_block   # j // size per column


cdef inline Py_ssize_t packed_bytes(Py_ssize_t cells) noexcept nogil:
    """Bytes of ``cells`` two-bit steps."""
    return (cells + 3) >> 2


# Local costs of a row of the pruned search computed at once (it does not
# know beforehand how far the row's live cells reach).
DEF PRUNED_CHUNK = 16


cdef int pruned_forward(
    const Problem* p, const double* lb_rows, const double* lb_cols,
    const Blocks* blocks, double threshold, Py_ssize_t budget, Py_ssize_t* starts,
    Py_ssize_t* offsets,
    unsigned char** back_ptr, Py_ssize_t* capacity, double* prev, double* cur,
    double* row_bound, Py_ssize_t* last_row, Py_ssize_t* explored,
    const double* RT, double* costs,
) noexcept nogil:
    """Rows of DTW over the cells that can still lie on a path of cost <=
    ``threshold``: a cell whose accumulated cost plus the lower bound of the
    rest (``max(lb_rows[i], lb_cols[j])``) exceeds it is dead (cost +inf).
    Row ``i`` spans columns ``starts[i]`` to ``starts[i] + offsets[i + 1] -
    offsets[i] - 1``: from the previous row's first live cell to its last
    live one (plus one), and on to the right while cells live (a cell
    further right is reached only from its dead left neighbour).
    ``prev`` and ``cur`` are indexed by column (``m`` each).  Writes the last
    finished row and the smallest ``cost + bound`` over its live cells.
    Local costs are computed ``PRUNED_CHUNK`` cells of a row at a time
    (:func:`row_costs`, from the reference transposed in ``RT``, into
    ``costs``), as the row reaches them."""
    cdef Py_ssize_t i, j, s, ps = 0, pe = -1, first, total = 0, last_live = -1
    cdef Py_ssize_t chunk_lo = 0, chunk_hi = -1
    cdef Py_ssize_t I = 0, J
    cdef const float* g_row = NULL
    cdef double c, best, cand, lb, low, row_within = 0.0
    cdef unsigned char step
    cdef unsigned char* grown
    cdef double* swap
    offsets[0] = 0
    for i in range(p.n):
        s = 0
        if i > 0:
            s = -1
            for j in range(ps, pe + 1):
                if prev[j] < INFINITY:
                    s = j
                    break
            if s < 0:
                return NO_PATH
        starts[i] = s
        if blocks.size > 0:
            I = i // blocks.size
            g_row = blocks.G + (I + 1) * blocks.m_blocks
            row_within = blocks.rows_within[i]
        low = INFINITY
        first = -1
        last_live = -1
        chunk_hi = -1
        j = s
        while j < p.m:
            if j > s and cur[j - 1] == INFINITY and (i == 0 or j > pe + 1):
                # Only the dead cell on the left reaches this one.
                if not (i == 0 and p.subsequence):
                    break
            if total >= budget:
                return OUT_OF_BUDGET
            if total >= capacity[0]:
                grown = <unsigned char*> realloc(
                    back_ptr[0], packed_bytes(min(2 * capacity[0], budget))
                )
                if grown == NULL:
                    return OUT_OF_BUDGET
                back_ptr[0] = grown
                capacity[0] = min(2 * capacity[0], budget)
            if j > chunk_hi:
                chunk_lo = j
                chunk_hi = min(j + PRUNED_CHUNK - 1, p.m - 1)
                row_costs(p, i, RT, costs, chunk_lo, chunk_hi)
            best = relax_cost(
                p, costs[j - chunk_lo], i, j, &step,
                prev[j - 1] if i > 0 and ps <= j - 1 <= pe else INFINITY,
                cur[j - 1] if j > s else INFINITY,
                prev[j] if i > 0 and ps <= j <= pe else INFINITY,
            )
            lb = lb_rows[i]
            if lb_cols[j] > lb:
                lb = lb_cols[j]
            if blocks.size > 0:
                J = blocks.col_block[j]
                cand = g_row[J] + row_within
                if cand > lb:
                    lb = cand
                cand = blocks.H[(J + 1) * blocks.n_blocks + I] + blocks.cols_within[j]
                if cand > lb:
                    lb = cand
            if best + lb > threshold:
                best = INFINITY
            else:
                last_live = j
                if best + lb < low:
                    low = best + lb
            cur[j] = best
            # Two bits a cell (a dead cell's step is never read).
            if total & 3 == 0:
                back_ptr[0][total >> 2] = step & 3
            else:
                back_ptr[0][total >> 2] |= (step & 3) << ((total & 3) << 1)
            total += 1
            explored[0] = total
            j += 1
        offsets[i + 1] = total
        if low == INFINITY:
            return NO_PATH
        row_bound[0] = low
        last_row[0] = i
        swap = prev
        prev = cur
        cur = swap
        ps = s
        # Cells of this row after its last live one are dead: the next row
        # reads only up to here (low < inf, so last_live >= s).
        pe = last_live
    return DONE


def block_cost_to_go(
    const double[:, ::1] L, const double[::1] counts, double weight,
    bint transpose=False,
):
    """``G[I, J] = min over K >= J of (counts[I] * weight * L[I, K] + G[I + 1,
    K])``, ``G[n_blocks, :] = 0`` (``_heuristic``), summed in float64 and
    stored as float32 one step below the nearest (so never above the
    float64 value); shape ``(n_blocks + 1, m_blocks)``.  With
    ``transpose``, of ``L.T`` (without a copy)."""
    cdef Py_ssize_t n_blocks = L.shape[0], m_blocks = L.shape[1], I, J
    if transpose:
        n_blocks, m_blocks = m_blocks, n_blocks
    if counts.shape[0] != n_blocks:
        raise ValueError("block cost-to-go: one count per block row.")
    out = np.zeros((n_blocks + 1, m_blocks), dtype=np.float32)
    below_arr = np.zeros(m_blocks)
    cdef float[:, ::1] G = out
    cdef double[::1] below = below_arr
    cdef double run, value
    with nogil:
        for I in range(n_blocks - 1, -1, -1):
            run = INFINITY
            for J in range(m_blocks - 1, -1, -1):
                value = L[J, I] if transpose else L[I, J]
                value = counts[I] * weight * value + below[J]
                if value < run:
                    run = value
                below[J] = run
                G[I, J] = <float> run
    return np.maximum(np.nextafter(out, np.float32(0)), np.float32(0))


def check_blocks(Py_ssize_t block, Py_ssize_t n, Py_ssize_t m, block_rows,
                 block_cols, rows_within, cols_within):
    """``ValueError`` unless the block bound's tables have the shapes
    :func:`pruned_dtw` reads and hold finite values >= 0."""
    n_blocks, m_blocks = (n + block - 1) // block, (m + block - 1) // block
    if (
        block_rows is None or block_cols is None or rows_within is None
        or cols_within is None
        or (block_rows.shape[0], block_rows.shape[1]) != (n_blocks + 1, m_blocks)
        or (block_cols.shape[0], block_cols.shape[1]) != (m_blocks + 1, n_blocks)
        or rows_within.shape[0] != n or cols_within.shape[0] != m
    ):
        raise ValueError("pruned DTW: block tables of the wrong shapes.")
    for table in (block_rows, block_cols, rows_within, cols_within):
        values = np.asarray(table)
        if not (np.all(np.isfinite(values)) and np.all(values >= 0)):
            raise ValueError("pruned DTW: block bounds must be finite and >= 0.")


def pruned_dtw(
    const double[:, ::1] Q,
    const double[:, ::1] R,
    const unsigned char[::1] q_zero,
    const unsigned char[::1] r_zero,
    int metric,
    double w_diag,
    double w_ref,
    double w_query,
    bint subsequence,
    const double[::1] lb_rows,
    const double[::1] lb_cols,
    double threshold,
    Py_ssize_t budget,
    double w_start=1.0,
    Py_ssize_t block=0,
    const float[:, ::1] block_rows=None,
    const float[:, ::1] block_cols=None,
    const double[::1] rows_within=None,
    const double[::1] cols_within=None,
):
    """Exact DTW over the cells that can still beat ``threshold``.

    ``lb_rows[i]`` and ``lb_cols[j]`` are lower bounds on what any path
    must still pay after cell (i, j) (>= 0, non-increasing; the caller's
    proof rests on them), so a cell with accumulated cost + bound above
    ``threshold`` lies on no path that costs at most ``threshold``; every
    path of cost <= ``threshold`` survives, so the path found is the optimum
    whenever the optimum is <= ``threshold``.  At most ``budget`` cells are
    computed (two bits each are kept for the path).

    With ``block`` > 0, a second bound per cell (``_heuristic``):
    ``max(block_rows[I + 1, J] + rows_within[i], block_cols[J + 1, I] +
    cols_within[j])`` with ``I = i // block``, ``J = j // block``;
    ``block_rows`` of shape ``(ceil(n / block) + 1, ceil(m / block))``,
    ``block_cols`` the transposed shape, every value finite and >= 0
    (checked: a ``ValueError`` otherwise).

    Returns
    -------
    status : int
        0 done, 1 out of budget, 2 no path of cost <= ``threshold``.
    path : ndarray of shape (n_steps, 2), int64, or None
        Only when done.
    cost : float
        The path's cost (inf unless done).
    explored : int
        Cells computed.
    bound : float
        When out of budget: a lower bound on every path's cost above
        ``threshold`` or not (the smallest cost + bound over the live
        cells of the last finished row; -inf before one).
    """
    check_problem(Q, R, q_zero, r_zero, w_diag, w_ref, w_query, w_start)
    cdef Py_ssize_t n = Q.shape[0], m = R.shape[0], i, j, end_j = 0, n_steps = -1
    if lb_rows.shape[0] != n or lb_cols.shape[0] != m:
        raise ValueError("pruned DTW: one lower bound per row and per column.")
    for i in range(n):
        if not (0 <= lb_rows[i] < INFINITY) or (i and lb_rows[i] > lb_rows[i - 1]):
            raise ValueError("pruned DTW: row bounds must be finite, >= 0, non-increasing.")
    for j in range(m):
        if not (0 <= lb_cols[j] < INFINITY) or (j and lb_cols[j] > lb_cols[j - 1]):
            raise ValueError("pruned DTW: column bounds must be finite, >= 0, non-increasing.")
    if threshold != threshold or budget < 1:
        raise ValueError("pruned DTW: the threshold is NaN or the budget < 1.")
    cdef Blocks blocks
    blocks.size = 0
    blocks.n_blocks = 0
    blocks.m_blocks = 0
    blocks.G = NULL
    blocks.H = NULL
    blocks.rows_within = NULL
    blocks.cols_within = NULL
    blocks.col_block = NULL
    col_block_arr = np.arange(m, dtype=np.intp) // max(block, 1)
    cdef const Py_ssize_t[::1] col_block = col_block_arr
    if block > 0:
        check_blocks(block, n, m, block_rows, block_cols, rows_within, cols_within)
        blocks.size = block
        blocks.n_blocks = block_rows.shape[0] - 1
        blocks.m_blocks = block_rows.shape[1]
        blocks.G = &block_rows[0, 0]
        blocks.H = &block_cols[0, 0]
        blocks.rows_within = &rows_within[0]
        blocks.cols_within = &cols_within[0]
        blocks.col_block = &col_block[0]
    cdef Problem p
    p = make_problem(
        Q, R, q_zero, r_zero, metric, w_diag, w_ref, w_query, w_start, subsequence
    )
    cdef Py_ssize_t capacity = min(budget, max(n + m, 1 << 16))
    cdef Py_ssize_t* starts = <Py_ssize_t*> malloc(n * sizeof(Py_ssize_t))
    cdef Py_ssize_t* offsets = <Py_ssize_t*> malloc((n + 1) * sizeof(Py_ssize_t))
    cdef unsigned char* back = <unsigned char*> malloc(packed_bytes(capacity))
    cdef double* rows = <double*> malloc(2 * m * sizeof(double))
    cdef double* RT = <double*> malloc(m * Q.shape[1] * sizeof(double))
    cdef double costs[PRUNED_CHUNK]
    cdef double bound = -INFINITY, cost = INFINITY
    cdef Py_ssize_t last_row = -1, explored = 0
    cdef int status = NO_PATH
    cdef double* last
    path_arr = np.empty((n + m, 2), dtype=np.int64)
    cdef long long[:, ::1] path = path_arr
    try:
        if (
            starts == NULL or offsets == NULL or back == NULL or rows == NULL
            or RT == NULL
        ):
            raise MemoryError("pruned DTW: cannot allocate its rows")
        with nogil:
            transpose_reference(&p, RT)
            status = pruned_forward(
                &p, &lb_rows[0], &lb_cols[0], &blocks, threshold, budget, starts, offsets,
                &back, &capacity, rows, rows + m, &bound, &last_row, &explored,
                RT, costs,
            )
            if status == DONE:
                # The last row is in prev: rows if n is even, rows + m if odd.
                # Row i was written to rows + m when i is even.
                last = rows if n % 2 == 0 else rows + m
                end_j = m - 1
                if subsequence:
                    end_j = starts[n - 1]
                    for j in range(starts[n - 1], starts[n - 1] + offsets[n] - offsets[n - 1]):
                        if last[j] < last[end_j]:
                            end_j = j
                if end_j >= starts[n - 1] + offsets[n] - offsets[n - 1] or last[end_j] == INFINITY:
                    status = NO_PATH
                else:
                    cost = last[end_j]
                    n_steps = backtrack(&p, starts, offsets, back, True, end_j, path)
                    if n_steps < 0:
                        status = NO_PATH
    finally:
        free(starts)
        free(offsets)
        free(back)
        free(rows)
        free(RT)
    if status != DONE:
        return status, None, INFINITY, explored, (bound if status == OUT_OF_BUDGET else -INFINITY)
    return status, path_arr[:n_steps][::-1].copy(), float(cost), explored, float(cost)


# Columns of a row of products kept at once (in L1 with the reference's
# features for them).
DEF EXTREMA_CHUNK = 512


cdef inline float chunk_min(const float* x, Py_ssize_t k) noexcept nogil:
    """The smallest of ``x[:k]``, in eight independent lanes (vectorised)."""
    cdef float lanes[8]
    cdef Py_ssize_t j, t
    cdef float low = INFINITY
    for t in range(8):
        lanes[t] = INFINITY
    for j in range(0, k - k % 8, 8):
        for t in range(8):
            lanes[t] = x[j + t] if x[j + t] < lanes[t] else lanes[t]
    for j in range(k - k % 8, k):
        low = x[j] if x[j] < low else low
    for t in range(8):
        low = lanes[t] if lanes[t] < low else low
    return low


def block_extrema(
    const float[:, ::1] Qs, const float[:, ::1] RT, const float[::1] q_add,
    const float[::1] r_add, Py_ssize_t f,
):
    """Per block of ``f`` x ``f`` cells, per query frame (row) and per
    reference frame (column), the smallest ``v[i, j] = q_add[i] + r_add[j] +
    sum_t Qs[i, t] RT[t, j]``, in float32 (``_heuristic.block_minima`` takes
    the rounding into account).  A block row at a time, by chunks of
    columns small enough to stay in cache, summed over the features
    column-contiguously (vectorised); never ``n x m`` values.

    Returns ``(blocks, rows, cols)`` float64 of shapes ``(ceil(n / f),
    ceil(m / f))``, ``(n,)``, ``(m,)``.
    """
    cdef Py_ssize_t n = Qs.shape[0], d = Qs.shape[1], m = RT.shape[1]
    if RT.shape[0] != d or q_add.shape[0] != n or r_add.shape[0] != m or f < 1:
        raise ValueError("block extrema: inconsistent shapes.")
    if n < 1 or m < 1 or d < 1:
        raise ValueError("block extrema: empty frames.")
    cdef Py_ssize_t nb = (n + f - 1) // f, mb = (m + f - 1) // f
    blocks_arr = np.empty((nb, mb))
    rows_arr = np.full(n, np.inf)
    cols_arr = np.full(m, np.inf, dtype=np.float32)
    cdef double[:, ::1] blocks = blocks_arr
    cdef double[::1] rows = rows_arr
    cdef float[::1] cols = cols_arr
    cdef float* blk = <float*> malloc(m * sizeof(float))
    cdef float acc[EXTREMA_CHUNK]
    cdef Py_ssize_t i, j, t, I, J, s, c0, k, i0, i1
    cdef float q, qa, low, bmin, q0, q1, q2, q3
    cdef const float* r_row
    cdef const float* r0
    cdef const float* r1
    cdef const float* r2
    cdef const float* r3
    cdef float* b
    cdef float* cl
    if blk == NULL:
        raise MemoryError("block extrema: cannot allocate a row")
    with nogil:
        for I in range(nb):
            i0 = I * f
            i1 = min(i0 + f, n)
            for c0 in range(0, m, EXTREMA_CHUNK):
                k = min(EXTREMA_CHUNK, m - c0)
                b = blk + c0
                cl = &cols[c0]
                for i in range(i0, i1):
                    qa = q_add[i]
                    for j in range(k):
                        acc[j] = r_add[c0 + j] + qa
                    # Four features per pass over the chunk.
                    for t in range(0, d - d % 4, 4):
                        q0 = Qs[i, t]
                        q1 = Qs[i, t + 1]
                        q2 = Qs[i, t + 2]
                        q3 = Qs[i, t + 3]
                        r0 = &RT[t, c0]
                        r1 = &RT[t + 1, c0]
                        r2 = &RT[t + 2, c0]
                        r3 = &RT[t + 3, c0]
                        for j in range(k):
                            acc[j] = acc[j] + ((q0 * r0[j] + q1 * r1[j]) + (q2 * r2[j] + q3 * r3[j]))
                    for t in range(d - d % 4, d):
                        q = Qs[i, t]
                        r_row = &RT[t, c0]
                        for j in range(k):
                            acc[j] = acc[j] + q * r_row[j]
                    low = chunk_min(acc, k)
                    if low < rows[i]:
                        rows[i] = low
                    if i == i0:
                        for j in range(k):
                            b[j] = acc[j]
                    else:
                        for j in range(k):
                            b[j] = acc[j] if acc[j] < b[j] else b[j]
                    for j in range(k):
                        cl[j] = acc[j] if acc[j] < cl[j] else cl[j]
            for J in range(mb):
                bmin = INFINITY
                for s in range(J * f, min(J * f + f, m)):
                    bmin = blk[s] if blk[s] < bmin else bmin
                blocks[I, J] = bmin
    free(blk)
    return blocks_arr, rows_arr, cols_arr.astype(np.float64)


def subsequence_cost(
    const double[:, ::1] Q,
    const double[:, ::1] R,
    const unsigned char[::1] q_zero,
    const unsigned char[::1] r_zero,
    int metric,
    double w_diag,
    double w_ref,
    double w_query,
    double w_start=1.0,
    double abandon=INFINITY,
):
    """The cost of the optimal subsequence path of ``Q`` through all of
    ``R``, without the path: :func:`banded_dtw`'s over the full band, bit for
    bit (the same recurrence in the same order), in two rows of memory.

    Accumulated costs never decrease down the rows, so once every cell of a
    row costs more than ``abandon`` so does the optimum: the search stops
    there and returns ``(inf, that row's smallest cost)``, a lower bound of
    the cost.  Otherwise ``(cost, cost)``.
    """
    check_problem(Q, R, q_zero, r_zero, w_diag, w_ref, w_query, w_start)
    cdef Problem p = make_problem(
        Q, R, q_zero, r_zero, metric, w_diag, w_ref, w_query, w_start, True
    )
    cdef Py_ssize_t n = p.n, m = p.m, i, j
    cdef double best, low = INFINITY, cost = INFINITY
    cdef unsigned char step
    cdef bint stopped = False
    # Two rows of accumulated costs, one of local costs (a row's, computed
    # first by row_costs) and the reference transposed.
    cdef Py_ssize_t d = p.d
    cdef double* prev = <double*> malloc((3 + d) * m * sizeof(double))
    cdef double* cur
    cdef double* costs
    cdef double* RT
    cdef double* swap
    if prev == NULL:
        raise MemoryError(f"subsequence DTW: cannot allocate {(3 + d) * m} costs")
    cur = prev + m
    costs = prev + 2 * m
    RT = prev + 3 * m
    cdef double* block = prev
    try:
        with nogil:
            transpose_reference(&p, RT)
            for i in range(n):
                row_costs(&p, i, RT, costs, 0, m - 1)
                low = INFINITY
                for j in range(m):
                    best = relax_cost(
                        &p, costs[j], i, j, &step,
                        prev[j - 1] if i > 0 and j > 0 else INFINITY,
                        cur[j - 1] if j > 0 else INFINITY,
                        prev[j] if i > 0 else INFINITY,
                    )
                    cur[j] = best
                    if best < low:
                        low = best
                swap = prev
                prev = cur
                cur = swap
                if low > abandon:
                    stopped = True
                    break
            if not stopped:
                # prev holds the last row; the first smallest, as forward().
                cost = prev[0]
                for j in range(1, m):
                    if prev[j] < cost:
                        cost = prev[j]
    finally:
        free(block)
    if stopped:
        return INFINITY, float(low)
    if not cost < INFINITY:
        raise ValueError(
            "DTW: every path's cost leaves float64's range; rescale the "
            "features or the step weights."
        )
    return float(cost), float(cost)
