"""A two-dimensional lower bound on the rest of a path: block cost-to-go.

The nearest-neighbour bound of :mod:`._proof` charges each later frame its
smallest cost to *any* frame of the other sequence, wherever it lies; on
music a chord recurs all over a piece, so that bound is about a third of
the optimum.  This one charges each frame only what it costs near where a
monotone path can still take it.

Blocks.  Rows and columns are cut into runs of ``f`` frames; ``L[I, J]``
is a lower bound on every local cost in block ``(I, J)`` (rows ``I f ..
I f + f - 1``, columns alike), computed exactly from every cell by one
matrix product per run of rows (:func:`block_minima`), minus a margin for
its rounding.

Cost-to-go over block rows.  ``G[I, J] = min over K >= J of (rows(I) *
alpha * L[I, K] + G[I + 1, K])``, ``G[n_blocks, :] = 0``, with ``alpha =
min(w_diag, w_query)`` and ``rows(I)`` the rows of block row ``I``.

Claim: after cell ``(i, j)``, in block ``(I, J)``, any monotone path pays
at least ``G[I + 1, J] + alpha * sum of nearest[i'] over the rows i' of
block row I after i``.  Proof: the path enters every later row once at
least, by a diagonal or query step (weight >= ``alpha``), at a cell whose
cost is >= that row's nearest-neighbour cost and >= ``L`` of its block.
The rows left in block row ``I`` give the second term.  In a later block
row ``I'`` the path's entries lie in column blocks ``a(I') .. b(I')``, with
``a(I + 1) >= J`` and ``a(I' + 1) >= b(I')`` (monotone); they cost at
least ``rows(I') * alpha * L[I', K(I')]``, ``K(I')`` the cheapest block of
that range, and ``K(I')`` is non-decreasing from ``J`` on: a sequence the
minimum defining ``G`` runs over, so the sum is >= ``G[I + 1, J]``.  By
symmetry ``H`` over block columns (with ``min(w_diag, w_ref)``) bounds the
columns; subsequence alignment has no column bound (the path need not
reach the last column).  :func:`._dtw.pruned_dtw` takes the largest of the
four bounds per cell; any lower bound keeps the pruned search exact.

Memory: two tables of ``n_blocks x m_blocks`` float32 (rounded down), the
block size chosen so that they hold at most ``budget`` bytes together.
Time: every cell once, by BLAS (about a nanosecond a cell), against some
20 ns per explored cell in the search.
"""

from __future__ import annotations

import numpy as np

from ._dtw import block_cost_to_go
from ._frames import Level

# Relative margin for the rounding of the matrix products' distances (of
# the sum of squared norms; float64 products of up to ~1e6 features round
# by less).
MARGIN = 2.0**-30
# Rows of the cost matrix computed at once (times the reference's length).
CHUNK_CELLS = 1 << 20


def block_size(n: int, m: int, budget: int | None) -> int:
    """The smallest block size >= 2 whose two float32 tables fit in
    ``budget`` bytes (none: blocks of 2; at most one block per sequence)."""
    if budget is None:
        return 2
    f = 2
    while -(-n // f) * -(-m // f) * 8 > budget and f < max(n, m):
        f += max(f // 8, 1)
    return f


def block_minima(Q: Level, R: Level, metric: str, f: int):
    """``L[I, J]``, a lower bound on every local cost of block ``(I, J)``,
    and per query frame, per reference frame, a lower bound on its smallest
    local cost to any frame of the other sequence (its nearest neighbour),
    from the same products.

    Squared distances by ``|q|^2 + |r|^2 - 2 q.r``, or for cosine and chord,
    whose prepared frames are unit vectors or zero, by ``2 - 2 q.r`` (for a
    zero frame the kernel's own 2: chord sqrt(2), cosine 1); the extreme
    product is taken first, then lowered by ``MARGIN`` times the largest
    ``|q|^2 + |r|^2`` it could involve (the products' rounding) and clipped
    at 0.
    """
    n, m = len(Q), len(R)
    unit = metric in ("cosine", "chord")
    with np.errstate(over="ignore", invalid="ignore"):
        q_sq = np.ones(n) if unit else np.einsum("ij,ij->i", Q.frames, Q.frames)
        r_sq = np.ones(m) if unit else np.einsum("ij,ij->i", R.frames, R.frames)
        # unit: the largest products (smallest distances); else the smallest
        # |q|^2 + |r|^2 - 2 q.r.
        blocks, rows, cols = block_reduce(Q.frames, R.frames, q_sq, r_sq, f, unit)
        if unit:
            out = [2.0 - 3 * MARGIN - 2.0 * x for x in (blocks, rows, cols)]
        else:
            q_max, r_max = block_max(q_sq, f), block_max(r_sq, f)
            out = [
                blocks - (MARGIN * (q_max[:, None] + r_max) + MARGIN),
                rows - (MARGIN * (q_sq + r_sq.max()) + MARGIN),
                cols - (MARGIN * (q_sq.max() + r_sq) + MARGIN),
            ]
    return tuple(costs(sq, metric) for sq in out)


def costs(sq: np.ndarray, metric: str) -> np.ndarray:
    """Local costs from squared distances; 0 where rounding or overflow
    (NaN, inf - inf) leaves no bound."""
    sq[~(np.isfinite(sq) & (sq > 0))] = 0.0
    if metric in ("euclidean", "chord"):
        return np.sqrt(sq, out=sq)
    if metric == "cosine":
        sq *= 0.5
    return sq


def block_max(x: np.ndarray, f: int) -> np.ndarray:
    """The largest value of each run of ``f`` (the last may be short)."""
    padded = np.full(-(-x.size // f) * f, -np.inf)
    padded[: x.size] = x
    return padded.reshape(-1, f).max(axis=1)


def block_reduce(A, B, a_sq, b_sq, f, unit):
    """Per block, the largest ``a.b`` (``unit``) or the smallest ``|a|^2 +
    |b|^2 - 2 a.b``: one matrix product per run of rows, reduced in place
    by strided maxima/minima (no temporaries of the product's size)."""
    n, m = len(A), len(B)
    n_blocks, m_blocks = -(-n // f), -(-m // f)
    reduce = np.maximum if unit else np.minimum
    out = np.empty((n_blocks, m_blocks))
    row_ext = np.empty(n)
    col_ext = np.full(m, -np.inf if unit else np.inf)
    rows_at_once = max(f, (CHUNK_CELLS // max(m, 1)) // f * f)
    for start in range(0, n, rows_at_once):
        stop = min(start + rows_at_once, n)
        S = A[start:stop] @ B.T
        if not unit:
            S *= -2.0
            S += b_sq[None, :]
            S += a_sq[start:stop, None]
        reduce(col_ext, reduce.reduce(S, axis=0), out=col_ext)
        cols = S[:, 0::f].copy()
        for k in range(1, f):
            part = S[:, k::f]
            reduce(cols[:, : part.shape[1]], part, out=cols[:, : part.shape[1]])
        row_ext[start:stop] = reduce.reduce(cols, axis=1)
        block = out[start // f : -(-stop // f)]
        block[:] = cols[0::f]
        for k in range(1, f):
            part = cols[k::f]
            reduce(block[: part.shape[0]], part, out=block[: part.shape[0]])
    return out, row_ext, col_ext


def cost_to_go(L, counts, weight, transpose=False) -> np.ndarray:
    """``G`` (module docstring) as float32 rounded down, shape
    ``(n_blocks + 1, m_blocks)``, from the last block row up (``H`` with
    ``transpose``)."""
    return block_cost_to_go(L, counts, float(weight), transpose)


def within_blocks(nearest: np.ndarray, f: int, weight: float) -> np.ndarray:
    """Per frame ``k``, ``weight`` times the nearest-neighbour costs of the
    frames after ``k`` in its own block."""
    n = nearest.size
    padded = np.zeros(-(-n // f) * f)
    padded[:n] = nearest
    blocks = padded.reshape(-1, f)
    after = np.cumsum(blocks[:, ::-1], axis=1)[:, ::-1] - blocks
    return np.ascontiguousarray(np.maximum(after.ravel()[:n], 0.0) * weight)


def block_bounds(Q, R, metric, step_weights, f, subsequence):
    """The arguments of :func:`._dtw.pruned_dtw`'s block bound: ``G``,
    ``H`` (transposed: per block column, per block row), the within-block
    terms of rows and columns; and the nearest-neighbour costs of the query
    and reference frames; each shrunk for rounding."""
    from ._proof import ROUNDING

    w_diag, w_ref, w_query = step_weights
    alpha, beta = min(w_diag, w_query), min(w_diag, w_ref)
    L, nearest_q, nearest_r = block_minima(Q, R, metric, f)
    for x in (L, nearest_q, nearest_r):
        x *= 1 - ROUNDING
    n, m = len(Q), len(R)

    def counts(k, size):
        c = np.full(k, float(f))
        c[-1] = size - (k - 1) * f
        return c

    G = cost_to_go(L, counts(L.shape[0], n), alpha)
    rows_within = within_blocks(nearest_q, f, alpha * (1 - ROUNDING))
    if subsequence:
        H = np.zeros((L.shape[1] + 1, L.shape[0]), dtype=np.float32)
        cols_within = np.zeros(m)
    else:
        H = cost_to_go(L, counts(L.shape[1], m), beta, transpose=True)
        cols_within = within_blocks(nearest_r, f, beta * (1 - ROUNDING))
    return G, H, rows_within, cols_within, nearest_q, nearest_r
