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
block size chosen so that they hold no more than the search's steps at
the full budget (``budget / 4`` bytes).
Time: every cell once, in float32 by :func:`._dtw.block_extrema` (about
2 ns a cell on one core for 12 features; the float64 BLAS products and
strided reductions it replaced took about 9), against some 25 ns per
explored cell in the search.
"""

from __future__ import annotations

import numpy as np

from ._dtw import block_cost_to_go, block_extrema
from ._frames import Level

# Relative slack for the rounding of sums taken in another order: bounds are
# shrunk, the proof's threshold raised, by this much (float64 sums of up to
# ~1e6 terms round by less).
ROUNDING = 1e-9
# Absolute slack below the float32 products' bounds (underflow to
# subnormals; the frames are scaled to about 1).
TINY = 2.0**-100
# Squared norms beyond this are not put in float32 (no block bound).
FLOAT32_SAFE = 2.0**100


def block_size(n: int, m: int, budget: int | None) -> int:
    """The smallest block size >= 2 whose two float32 tables (8 bytes a
    block) fit in what ``budget`` cells of two-bit steps take, ``budget /
    4`` bytes, and in what the whole matrix's would (none: no budget); at
    most one block per sequence."""
    limit = (n * m if budget is None else min(budget, n * m)) / 4
    f = 2
    while -(-n // f) * -(-m // f) * 8 > limit and f < max(n, m):
        f += max(f // 8, 1)
    return f


def block_minima(Q: Level, R: Level, metric: str, f: int):
    """``L[I, J]``, a lower bound on every local cost of block ``(I, J)``,
    and per query frame, per reference frame, a lower bound on its smallest
    local cost to any frame of the other sequence (its nearest neighbour),
    from the same products (:func:`._dtw.block_extrema`, float32).

    Squared distances by ``|q|^2 + |r|^2 - 2 q.r``, or for cosine and chord,
    whose prepared frames are unit vectors or zero, by ``2 - 2 q.r`` (for a
    zero frame the kernel's own 2: chord sqrt(2), cosine 1); the extreme
    value is taken first, then lowered by ``float32_margin`` times the
    largest ``|q|^2 + |r|^2`` it could involve (the float32 rounding of the
    frames and of the sums) and clipped at 0.  Frames too large for float32
    (never after the power-of-two scaling of :func:`._frames.frame_scale`)
    give no bound (zeros).
    """
    n, m, d = len(Q), len(R), Q.frames.shape[1]
    unit = metric in ("cosine", "chord")
    eps = float32_margin(d)
    with np.errstate(over="ignore", invalid="ignore"):
        q_sq = np.ones(n) if unit else np.einsum("ij,ij->i", Q.frames, Q.frames)
        r_sq = np.ones(m) if unit else np.einsum("ij,ij->i", R.frames, R.frames)
        if not (q_sq.max() < FLOAT32_SAFE and r_sq.max() < FLOAT32_SAFE):
            nb, mb = -(-n // f), -(-m // f)
            return np.zeros((nb, mb)), np.zeros(n), np.zeros(m)
        # unit: the smallest -q.r; else the smallest |q|^2 + |r|^2 - 2 q.r.
        blocks, rows, cols = block_extrema(
            np.ascontiguousarray(Q.frames * (-1.0 if unit else -2.0), dtype=np.float32),
            np.ascontiguousarray(R.frames.T, dtype=np.float32),
            np.zeros(n, np.float32) if unit else q_sq.astype(np.float32),
            np.zeros(m, np.float32) if unit else r_sq.astype(np.float32),
            f,
        )
        if unit:
            out = [2.0 + 2.0 * x - 4.0 * eps - TINY for x in (blocks, rows, cols)]
        else:
            q_max, r_max = block_max(q_sq, f), block_max(r_sq, f)
            out = [
                blocks - (eps * (q_max[:, None] + r_max) + TINY),
                rows - (eps * (q_sq + r_sq.max()) + TINY),
                cols - (eps * (q_sq.max() + r_sq) + TINY),
            ]
    return tuple(costs(sq, metric) for sq in out)


def float32_margin(d: int) -> float:
    """A bound on the float32 error of ``|q|^2 + |r|^2 - 2 q.r`` over ``d``
    features, relative to ``|q|^2 + |r|^2``: the frames and norms rounded
    to float32 (one unit in the last place each) and ``d + 1`` sums of
    terms of at most twice that size, doubled."""
    return (d + 8) * 2.0**-23


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


def shrunk_minima(Q, R, metric, f):
    """:func:`block_minima` shrunk for the rounding of the sums over them."""
    out = block_minima(Q, R, metric, f)
    for x in out:
        x *= 1 - ROUNDING
    return out


def block_tables(L, nearest_q, nearest_r, f, step_weights, subsequence) -> dict:
    """The keyword arguments of :func:`._dtw.pruned_dtw`'s block bound:
    ``G``, ``H`` (transposed: per block column, per block row) and the
    within-block terms of rows and columns, from :func:`shrunk_minima`."""
    w_diag, w_ref, w_query = step_weights
    alpha, beta = min(w_diag, w_query), min(w_diag, w_ref)
    n, m = nearest_q.size, nearest_r.size

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
    return {
        "block": f,
        "block_rows": G,
        "block_cols": H,
        "rows_within": rows_within,
        "cols_within": cols_within,
    }


def block_bounds(Q, R, metric, step_weights, f, subsequence):
    """``G``, ``H``, the within-block terms of rows and columns
    (:func:`block_tables`), and the nearest-neighbour costs of the query and
    reference frames; each shrunk for rounding."""
    L, nearest_q, nearest_r = shrunk_minima(Q, R, metric, f)
    t = block_tables(L, nearest_q, nearest_r, f, step_weights, subsequence)
    return (
        t["block_rows"],
        t["block_cols"],
        t["rows_within"],
        t["cols_within"],
        nearest_q,
        nearest_r,
    )
