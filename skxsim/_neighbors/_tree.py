"""Exact search on a scikit-learn KD-tree or ball tree.

A tree over the reference proposes each query frame's nearest frames; an
exact index of the same reference (``_exact``) gives the metric's ranking
keys and distances, so trees, the BLAS engine and brute force return the
same bits.

Orientation: scikit-learn (rows are frames).
"""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import BallTree, KDTree

from ._exact import band_entries, exact_index, merge_rows
from ._select import choose_k, select_exact

TREES = {"kd_tree": KDTree, "ball_tree": BallTree}


class TreeIndex:
    """Exact search on a scikit-learn tree, certified at each row's boundary.

    The tree proposes the ``k + 1`` nearest frames (plus the band's, when
    one is excluded).  A row's proposals are accepted when their boundary is
    clear of rounding: the farthest proposal lies beyond the k-th nearest by
    more than the rounding of the two distance computations, so no frame
    left out can be nearer.  Other rows (ties at the k-th distance,
    typically) are settled on all their keys.
    """

    exact = True
    uses_blas = False

    def __init__(self, reference, metric, metric_params, kind: str) -> None:
        self.kind = kind
        self.reference_ = np.ascontiguousarray(reference)
        self.n_samples_fit_, self.n_features_in_ = reference.shape
        self.exact_ = exact_index(self.reference_, metric, metric_params)
        tree_metric, tree_params = self.exact_.tree_metric
        self.tree_ = TREES[kind](
            self.exact_.tree_points(self.reference_), metric=tree_metric, **tree_params
        )

    def distances_block(self, X):
        return self.exact_.distances_block(X)

    def pair_distances(self, X, rows, cols):
        return self.exact_.pair_distances(X, rows, cols)

    def kneighbors_block(self, X, k, band=None, values=True):
        exact = self.exact_
        b, m = X.shape[0], self.n_samples_fit_
        extra = 2 * band[1] - 1 if band is not None else 0
        n_query = min(m, k + 1 + extra)
        tree_dist, ind = self.tree_.query(exact.tree_points(X), k=n_query)
        rows = np.repeat(np.arange(b), n_query)
        keys = exact.proposal_keys(X, rows, ind.ravel(), tree_dist.ravel())
        keys = np.array(keys, dtype=np.float64).reshape(b, n_query)
        if band is not None:
            keys[np.abs(ind - band[0][:, None]) < band[1]] = np.inf
        kk = min(k, n_query) - 1
        kth = np.partition(keys, kk, axis=1)[:, kk]
        settled = np.isfinite(kth) & (
            (n_query == m)
            | (tree_dist[:, -1] > exact.tree_units(kth) * (1 + exact.tree_tolerance))
        )
        order = np.argsort(ind, axis=1, kind="stable")
        ind = np.take_along_axis(ind, order, axis=1)
        keys = np.take_along_axis(keys, order, axis=1)
        keep = np.isfinite(keys) & settled[:, None]
        counts, cols, vals = choose_k(np.nonzero(keep)[0], ind[keep], keys[keep], k, b)
        if not np.all(settled):
            todo = np.flatnonzero(~settled)
            excluded = None
            if band is not None:
                excluded = band_entries((band[0][todo], band[1]), m)
            sub = select_exact(exact.all_keys(X[todo]), k, excluded)
            counts, cols, vals = merge_rows(counts, cols, vals, todo, sub)
        return counts, cols, exact.distances(vals)
