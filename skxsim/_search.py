"""Blocked queries against an index: k nearest neighbours, or all distances.

Results are written block by block into preallocated arrays, which are the
CSR ``data``/``indices`` arrays of the graph (rows are query frames).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import pairwise_distances

from ._backends import uses_fast_engine
from ._engine import ExactIndex, n_workers_for, row_blocks, run_blocks


def kneighbors(index, X: np.ndarray, k: int, *, n_jobs=None, dtype=None):
    """The ``k`` nearest reference frames of every query frame.

    Returns ``(distances, indices)`` of shape ``(n, k)``, each row in
    ascending reference-index order.
    """
    n = X.shape[0]
    dtype = np.dtype(dtype or X.dtype)
    distances = np.empty((n, k), dtype=dtype)
    indices = np.empty((n, k), dtype=np.intp)
    n_workers = n_workers_for(n_jobs)
    # Working set per row: the scores and the selection mask over the
    # reference (about 1.5 times a row of scores).
    row_bytes = int(index.n_samples_fit_ * dtype.itemsize * 1.5)

    def work(rows):
        dist, ind = index.kneighbors_block(X[rows], k)
        if ind.shape[1] != k or not np.all(np.isfinite(dist)):
            raise RuntimeError(
                f"the neighbour index returned fewer than k={k} neighbours "
                f"for some query frames in rows {rows.start}..{rows.stop - 1}"
            )
        distances[rows] = dist
        indices[rows] = ind

    run_blocks(work, row_blocks(n, row_bytes, n_workers), n_jobs)
    return distances, indices


def exact_index_for(index, metric, metric_params):
    """An index that can compute every distance (for ``full=True``)."""
    if hasattr(index, "pairwise_block"):
        return index
    if uses_fast_engine(metric, metric_params):
        return ExactIndex(index.reference_, metric)
    return PairwiseIndex(index.reference_, metric, metric_params)


class PairwiseIndex:
    """All distances through scikit-learn, for metrics the engine lacks."""

    def __init__(self, reference, metric, metric_params):
        self.reference_ = reference
        self.metric = metric
        self.metric_params = metric_params or {}
        self.n_samples_fit_ = reference.shape[0]

    def pairwise_block(self, X):
        D = pairwise_distances(
            X, self.reference_, metric=self.metric, **self.metric_params
        )
        # Distances of identical frames are exactly 0 by definition.
        return D.astype(self.reference_.dtype, copy=False)


def pairwise(index, X: np.ndarray, k: int, *, n_jobs=None, dtype=None):
    """All query-to-reference distances, plus each row's k-NN statistics.

    Returns ``(D, kth, mean_k)``: ``D`` of shape ``(n, n_ref)``; ``kth`` the
    distance to each query frame's k-th nearest reference frame and
    ``mean_k`` the mean distance to its k nearest.
    """
    n, n_ref = X.shape[0], index.n_samples_fit_
    dtype = np.dtype(dtype or X.dtype)
    D = np.empty((n, n_ref), dtype=dtype)
    kth = np.empty(n, dtype=dtype)
    mean_k = np.empty(n, dtype=dtype)

    def work(rows):
        block = index.pairwise_block(X[rows])
        D[rows] = block
        smallest = np.partition(block, k - 1, axis=1)[:, :k]
        kth[rows] = smallest.max(axis=1)
        mean_k[rows] = smallest.mean(axis=1)

    row_bytes = n_ref * dtype.itemsize * 3
    run_blocks(work, row_blocks(n, row_bytes, n_workers_for(n_jobs)), n_jobs)
    return D, kth, mean_k
