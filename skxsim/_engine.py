"""Exact k-nearest-neighbour search at the BLAS floor.

One blocked pass over the query rows: per block, a single matrix product
against a prepared reference gives a selection score per (query, reference)
pair, an exact partial selection keeps the k smallest per row, and the
distances of the kept pairs are finished (and, where the norm expansion
cancels, recomputed directly).  No Python loop runs over rows and no dense
``n x n_ref`` temporary exists: blocks follow scikit-learn's
``working_memory``.

Orientation: scikit-learn (rows are frames).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from joblib import cpu_count
from sklearn import get_config
from threadpoolctl import threadpool_limits

# Metrics the BLAS engine computes; anything else goes through scikit-learn.
FAST_METRICS = ("euclidean", "l2", "sqeuclidean", "cosine")

# A kept pair whose squared distance is below this fraction of the sum of the
# squared norms loses too many digits in ``|q|^2 - 2 q.r + |r|^2``; it is
# recomputed from the difference.  This gives about 1e-11 relative error in
# float64 and 1e-4 in float32 on the final distance (a larger ratio for
# float32 recomputed most pairs of close sequences and cost more than the
# product).
_CANCELLATION_RATIO = 1e-3


class ExactIndex:
    """A reference prepared for the blocked BLAS search.

    The prepared matrix folds the per-reference term of the score into the
    product: for euclidean distances ``[R, |R|^2 / 2]`` so that
    ``[-Q, 1] @ prepared.T == |R|^2 / 2 - Q R^T``, whose row-wise order is the
    order of the distances; for cosine, the unit-normalised reference.

    Parameters
    ----------
    reference : ndarray of shape (n_ref, n_features)
        Reference frames (float32 or float64), rows are frames.
    metric : {"euclidean", "l2", "sqeuclidean", "cosine"}
        The distance.
    """

    def __init__(self, reference: np.ndarray, metric: str) -> None:
        if metric not in FAST_METRICS:
            raise ValueError(f"metric={metric!r} is not computed by ExactIndex")
        self.metric = metric
        reference = np.asarray(reference)
        dtype = reference.dtype
        if self.metric == "cosine":
            norms = np.sqrt(np.einsum("ij,ij->i", reference, reference))
            # scikit-learn's cosine distance treats a zero vector as having
            # cosine similarity 0 with everything: keep zero rows at zero.
            norms[norms == 0] = 1
            self.center_ = None
            self.prepared_ = np.ascontiguousarray(reference / norms[:, None], dtype)
        else:
            # Distances do not change under translation, but the rounding of
            # the norm expansion grows with the norms: centring on the
            # reference mean shrinks them (features such as chroma or
            # embeddings of a time series sit far from the origin).
            self.center_ = reference.mean(axis=0, dtype=np.float64).astype(dtype)
            prepared = np.empty((reference.shape[0], reference.shape[1] + 1), dtype)
            np.subtract(reference, self.center_, out=prepared[:, :-1])
            centred = prepared[:, :-1]
            prepared[:, -1] = 0.5 * np.einsum("ij,ij->i", centred, centred)
            self.prepared_ = prepared
        self.n_samples_fit_, self.n_features_in_ = reference.shape

    @property
    def dtype(self) -> np.dtype:
        return self.prepared_.dtype

    @property
    def reference_(self) -> np.ndarray:
        """The reference frames (unit-normalised for cosine)."""
        if self.center_ is None:
            return self.prepared_
        return self.prepared_[:, :-1] + self.center_

    def _prepare_query(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Query block as the left factor of the product, plus its own term."""
        X = np.asarray(X, dtype=self.dtype)
        if self.metric == "cosine":
            norms = np.sqrt(np.einsum("ij,ij->i", X, X))
            norms[norms == 0] = 1
            unit = X / norms[:, None]
            return -unit, unit
        left = np.empty((X.shape[0], X.shape[1] + 1), self.dtype)
        centred = left[:, :-1]
        np.subtract(X, self.center_, out=centred)
        sq = np.einsum("ij,ij->i", centred, centred)
        np.negative(centred, out=centred)
        left[:, -1] = 1
        return left, sq

    def _scores(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        left, extra = self._prepare_query(X)
        return left @ self.prepared_.T, left, extra

    def _finish(self, left, extra, rows, cols, scores):
        """Distances of the pairs (rows, cols) from their selection scores."""
        ratio = _CANCELLATION_RATIO
        if self.metric == "cosine":
            unit = extra
            dist = scores + 1  # 1 - cos
            np.clip(dist, 0, 2, out=dist)
            small = np.flatnonzero(dist < ratio)
            if small.size:
                diff = unit[rows[small]] - self.prepared_[cols[small]]
                dist[small] = 0.5 * np.einsum("ij,ij->i", diff, diff)
            return dist
        sq_q = extra
        d2 = 2 * scores + sq_q[rows]
        np.maximum(d2, 0, out=d2)
        bound = ratio * (sq_q[rows] + 2 * self.prepared_[cols, -1])
        small = np.flatnonzero(d2 < bound)
        if small.size:
            # left holds the negated centred query: q - r = -(left + r).
            diff = left[rows[small], :-1] + self.prepared_[cols[small], :-1]
            d2[small] = np.einsum("ij,ij->i", diff, diff)
        if self.metric == "sqeuclidean":
            return d2
        return np.sqrt(d2, out=d2)

    def kneighbors_block(self, X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest reference frames of each row of one block.

        Returns ``(distances, indices)`` of shape ``(len(X), k)``; each row's
        neighbours come in ascending reference-index order (CSR order), ties
        broken towards the lower index.
        """
        S, left, extra = self._scores(X)
        cols, scores = select_k_smallest(S, k)
        rows = np.repeat(np.arange(S.shape[0]), k)
        dist = self._finish(left, extra, rows, cols.ravel(), scores.ravel())
        return dist.reshape(cols.shape), cols

    def pairwise_block(self, X: np.ndarray) -> np.ndarray:
        """All distances from the rows of one block to the reference."""
        S, left, extra = self._scores(X)
        b, m = S.shape
        rows = np.repeat(np.arange(b), m)
        cols = np.tile(np.arange(m), b)
        return self._finish(left, extra, rows, cols, S.ravel()).reshape(b, m)


def select_k_smallest(S: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact per-row selection of the k smallest entries, in column order.

    Parameters
    ----------
    S : ndarray of shape (b, m)
        Scores; no NaN.
    k : int
        1 <= k.  With ``k >= m`` every column is kept.

    Returns
    -------
    cols : ndarray of shape (b, min(k, m)), intp
        Kept columns per row, ascending; among equal scores the lower column
        is kept first.
    values : ndarray of shape (b, min(k, m))
        ``S[row, cols]``.
    """
    b, m = S.shape
    if k >= m:
        cols = np.broadcast_to(np.arange(m), (b, m)).copy()
        return cols, S.copy()
    # An upper bound on each row's k-th smallest value that is cheap to get:
    # the k-th smallest over the minima of g column groups (each minimum is a
    # distinct entry of the row, so at least k entries lie at or below it).
    # Groups are strided (column c in group c % g) because the close frames of
    # a sequence are neighbours in time: contiguous groups would put a whole
    # run of near neighbours into one group and loosen the bound.
    # 4k groups keep the bound tight; at least m / 8 (up to 2048) keeps the
    # reduction's inner loops long enough to run at memory speed.
    g = max(4 * k, min(2048, m // 8))
    if m >= 2 * g:
        n_full = (m // g) * g
        mins = S[:, :n_full].reshape(b, m // g, g).min(axis=1)
        if n_full < m:
            mins = np.concatenate([mins, S[:, n_full:]], axis=1)
    else:
        mins = S
    bound = np.partition(mins, k - 1, axis=1)[:, k - 1]
    # 1-d nonzero on the flat mask is ~15x faster than 2-d np.nonzero.
    S = np.ascontiguousarray(S)
    flat = np.flatnonzero(S <= bound[:, None])
    rows, cols = np.divmod(flat, m)
    values = S.ravel()[flat]
    counts = np.bincount(rows, minlength=b)
    if np.all(counts == k):
        return cols.reshape(b, k), values.reshape(b, k)
    # Exact k-th value per row among the few candidates (padded with +inf).
    starts = np.zeros(b + 1, dtype=np.intp)
    np.cumsum(counts, out=starts[1:])
    pos = np.arange(rows.size) - starts[rows]
    padded = np.full((b, counts.max()), np.inf, dtype=S.dtype)
    padded[rows, pos] = values
    kth = np.partition(padded, k - 1, axis=1)[:, k - 1]
    kth_of = kth[rows]
    below = values < kth_of
    tie = values == kth_of
    # Ties at the k-th value: keep the lowest columns, as many as are missing.
    missing = k - np.bincount(rows, weights=below, minlength=b).astype(np.intp)
    tie_cum = np.cumsum(tie)
    tie_rank = tie_cum - tie_cum[starts[rows]] + tie[starts[rows]]
    keep = below | (tie & (tie_rank <= missing[rows]))
    return cols[keep].reshape(b, k), values[keep].reshape(b, k)


def row_blocks(n_rows: int, row_bytes: int, n_workers: int = 1) -> list[slice]:
    """Row slices whose working set fits scikit-learn's ``working_memory``.

    Blocks are also capped at 256 rows, which keeps a block's scores in cache
    and still gives BLAS a product large enough to run at full speed, and
    split so that every worker gets several.
    """
    budget = get_config()["working_memory"] * 2**20 / max(n_workers, 1)
    size = int(min(256, max(1, budget // max(row_bytes, 1))))
    if n_workers > 1:
        size = max(1, min(size, -(-n_rows // (4 * n_workers))))
    return [slice(i, min(i + size, n_rows)) for i in range(0, n_rows, size)]


def run_blocks(func, blocks: list[slice], n_jobs: int | None) -> None:
    """Call ``func(block)`` for every block, on ``n_jobs`` threads.

    With several threads, BLAS and OpenMP (scikit-learn's neighbour search)
    are held to one thread each so that they do not oversubscribe the cores.
    """
    n_workers = min(n_workers_for(n_jobs), len(blocks))
    if n_workers <= 1:
        for block in blocks:
            func(block)
        return
    with (
        threadpool_limits(limits=1),
        ThreadPoolExecutor(n_workers) as pool,
    ):
        for future in [pool.submit(func, block) for block in blocks]:
            future.result()


def n_workers_for(n_jobs: int | None) -> int:
    """Local threads ``n_jobs`` stands for, in joblib's convention.

    Counted on this machine's cores, not through joblib's active backend: the
    threads run here even inside ``parallel_config(backend="dask")``.
    """
    if n_jobs is None:
        return 1
    if n_jobs < 0:
        return max(1, cpu_count() + 1 + n_jobs)
    return max(1, n_jobs)
