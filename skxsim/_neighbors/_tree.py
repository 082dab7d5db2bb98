"""Exact search on a tree: scikit-learn's KD-tree and ball tree, SciPy's cKDTree.

A tree over the reference proposes each query frame's nearest frames; an
exact index of the same reference (``_exact``) gives the metric's ranking
keys and distances, so every tree, the BLAS engine and brute force return
the same bits.  The trees differ only in how they are built and queried
(the *engines* below); the certification of each row's boundary exists
once, in :class:`TreeIndex`.

Orientation: scikit-learn (rows are frames).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from sklearn.neighbors import BallTree, KDTree

from ._exact import band_entries, exact_index, merge_rows
from ._metrics import p_norm
from ._scaling import query_overflow
from ._select import choose_k, select_exact

_U = 2.0**-53

# cKDTree's build: the sliding-midpoint rule (``balanced_tree=False``) rather
# than the median, cells not shrunk to their frames (``compact_nodes=False``)
# and leaves of 64 frames.  Chroma has a coordinate at exactly 1.0 in every
# frame and many equal values: median splits of such data give a poor tree.
# Measured on the benchmark's catalogues at k = 10 (one thread, build +
# query of 5000 frames): SciPy's defaults 35 + 871 ms (chroma), 31 + 329 ms
# (chroma_cens); these 16 + 112 and 15 + 117 ms.
CKD_LEAF_SIZE = 64
# Rows whose boundary is not clear (ties at the k-th distance) ask the tree
# for four times more proposals while that stays under this fraction of the
# reference; past it, all their keys are cheaper.
_REQUERY_MAX_FRACTION = 1 / 16


class ScikitLearnTree:
    """Engine: scikit-learn's ``KDTree`` or ``BallTree``.

    Its distances are scikit-learn's ``DistanceMetric`` values, and it prunes
    on bounds computed like a distance (within the rounding the exact index
    allows for); it needs no tolerance of its own.
    """

    computes_definition = True
    pruning_tolerance = 0.0

    def __init__(self, kind: str, points, metric, metric_params) -> None:
        tree = {"kd_tree": KDTree, "ball_tree": BallTree}[kind]
        self.tree = tree(points, metric=metric, **metric_params)

    def query(self, points, k: int):
        """``(distances, indices)`` of the ``k`` nearest, ``(b, k)`` each."""
        return self.tree.query(points, k=k)


class ScipyTree:
    """Engine: SciPy's ``cKDTree``, for the p-norms (p >= 1).

    cKDTree keeps a cell's distance to the query as a running sum, updated
    at each level of the descent, so its pruning may err by a few roundings
    of that distance per level: :attr:`pruning_tolerance` bounds it by the
    number of nodes (at least the depth).  Its queries release the GIL, so
    the blocked search's threads run them in parallel.
    """

    computes_definition = False

    def __init__(self, points, metric, metric_params) -> None:
        self.p = p_norm(metric, metric_params)
        if self.p is None:
            raise ValueError(
                f"algorithm='ckd_tree' computes the p-norms with p >= 1 "
                f"(euclidean, manhattan, chebyshev, minkowski without weights); "
                f"got metric={metric!r} with metric_params={metric_params!r}."
            )
        self.tree = self._build(points)

    @staticmethod
    def _build(points):
        return cKDTree(
            points, leafsize=CKD_LEAF_SIZE, balanced_tree=False, compact_nodes=False
        )

    # cKDTree's own pickle holds its nodes' pointers in this process: a
    # loaded copy differs from it byte for byte, and the memory= cache
    # verifies bytes.  The tree travels as its points and is rebuilt on load
    # (the same tree: the build is deterministic; about 2 ms per 10000 frames).
    def __getstate__(self):
        return {"points": self.tree.data, "p": self.p}

    def __setstate__(self, state):
        self.p = state["p"]
        self.tree = self._build(state["points"])

    @property
    def pruning_tolerance(self) -> float:
        # Each level adds at most ~5 roundings of the final cell distance
        # (its p-th power; the distance's relative error is at most that).
        return 6.0 * self.tree.size * _U

    def query(self, points, k: int):
        """``(distances, indices)`` of the ``k`` nearest, ``(b, k)`` each."""
        dist, ind = self.tree.query(points, k=k, p=self.p)
        return dist.reshape(len(points), k), ind.reshape(len(points), k)


def tree_engine(kind: str, points, metric, metric_params):
    """The engine of tree ``kind`` over ``points`` (a reference's tree points)."""
    if kind == "ckd_tree":
        return ScipyTree(points, metric, metric_params)
    return ScikitLearnTree(kind, points, metric, metric_params)


class TreeIndex:
    """Exact search on a tree, certified at each row's boundary.

    The tree proposes the ``k + 1`` nearest frames (plus the band's, when
    one is excluded).  A row's proposals are accepted when their boundary is
    clear of rounding: the farthest proposal lies beyond the k-th nearest by
    more than the rounding of the two distance computations and of the
    tree's pruning, so no frame left out can be nearer.  Other rows (ties at
    the k-th distance, typically) ask the tree for more proposals, and past
    a sixteenth of the reference are settled on all their keys.
    """

    exact = True
    uses_blas = False

    def __init__(self, reference, metric, metric_params, kind: str) -> None:
        self.kind = kind
        self.reference_ = np.ascontiguousarray(reference)
        self.n_samples_fit_, self.n_features_in_ = reference.shape
        self.exact_ = exact_index(self.reference_, metric, metric_params, search=False)
        tree_metric, tree_params = self.exact_.tree_metric
        self.engine_ = tree_engine(
            kind, self.exact_.tree_points(self.reference_), tree_metric, tree_params
        )
        # The tree's distances are the keys only where both say so.
        self.trusts_tree_ = (
            self.engine_.computes_definition and self.exact_.keys_are_tree_distances
        )

    def distances_block(self, X):
        return self.exact_.distances_block(X)

    def pair_distances(self, X, rows, cols):
        return self.exact_.pair_distances(X, rows, cols)

    def row_bytes(self, k: int) -> int:
        """Memory per query row of a block: its proposals, not a row of scores."""
        return 64 * (k + 2)

    @property
    def tolerance(self) -> float:
        """Relative rounding between a tree distance and a key's tree units."""
        tolerance = self.engine_.pruning_tolerance
        if not self.trusts_tree_:
            tolerance += self.exact_.tree_tolerance
        return tolerance

    def kneighbors_block(self, X, k, band=None, values=True):
        b, m = X.shape[0], self.n_samples_fit_
        extra = 2 * band[1] - 1 if band is not None else 0
        n_query = min(m, k + 1 + extra)
        tree_dist, ind = self._query(X, n_query)
        if band is None and n_query == k + 1:
            counts, cols, keys, todo = self._clear_gaps(X, k, tree_dist, ind, values)
            tree_dist, ind = tree_dist[todo], ind[todo]
            sub_band = None
        else:
            counts, cols = np.zeros(b, dtype=np.intp), np.empty(0, dtype=np.intp)
            keys, todo, sub_band = np.empty(0), np.arange(b), band
        if todo.size:
            *sub, unsettled = self._settle(X[todo], k, sub_band, tree_dist, ind)
            counts, cols, keys = merge_rows(counts, cols, keys, todo, sub)
            todo = todo[unsettled]
        # Rows whose boundary is not clear: more proposals, then all keys.
        while todo.size and 4 * n_query <= m * _REQUERY_MAX_FRACTION:
            n_query *= 4
            sub_band = None if band is None else (band[0][todo], band[1])
            tree_dist, ind = self._query(X[todo], n_query)
            *sub, unsettled = self._settle(X[todo], k, sub_band, tree_dist, ind)
            counts, cols, keys = merge_rows(counts, cols, keys, todo, sub)
            todo = todo[unsettled]
        if todo.size:
            excluded = None
            if band is not None:
                excluded = band_entries((band[0][todo], band[1]), m)
            sub = select_exact(self.exact_.all_keys(X[todo]), k, excluded)
            counts, cols, keys = merge_rows(counts, cols, keys, todo, sub)
        return counts, cols, self.exact_.distances(keys) if values else None

    def _query(self, X, n_query):
        """The tree's ``n_query`` proposals for each row of ``X``.

        A proposal at an infinite tree distance (a query frame so far
        outside the reference's scale that its squared distances overflow)
        has no valid index (cKDTree gives ``n_samples_fit_``): refused.
        """
        tree_dist, ind = self.engine_.query(self.exact_.tree_points(X), n_query)
        if not np.all(np.isfinite(tree_dist)):
            raise query_overflow(np.inf)
        return tree_dist, ind

    def _clear_gaps(self, X, k, tree_dist, ind, values):
        """The rows whose k nearest are the tree's first ``k`` proposals.

        Where the k-th and the (k + 1)-th tree distances are further apart
        than their rounding, the first k frames are nearer than every other,
        exactly: no key decides anything, and only the answer's distances
        are computed (``values``; zeros stand in otherwise).  Returns the
        answers ``(counts, cols, keys)`` and the positions of the other rows.
        """
        tolerance = self.tolerance
        clear = tree_dist[:, k - 1] * (1 + tolerance) < tree_dist[:, k] * (
            1 - tolerance
        )
        # A proposal whose tree distance understates its key (cosine's zero
        # vectors) may not belong among the first k: those rows are settled
        # on keys, which such proposals never threaten beyond the last one.
        shortfall = self.exact_.tree_shortfall(X, ind[:, :k])
        if shortfall is not None:
            clear &= ~shortfall
        order = np.argsort(ind[clear, :k], axis=1)
        cols = np.take_along_axis(ind[clear, :k], order, axis=1).reshape(-1)
        if not values:
            keys = np.zeros(cols.size)
        elif self.trusts_tree_:
            keys = np.take_along_axis(tree_dist[clear, :k], order, axis=1).reshape(-1)
        else:
            keys = self.exact_.keys(X, np.repeat(np.flatnonzero(clear), k), cols)
        counts = np.where(clear, k, 0)
        return counts, cols, keys, np.flatnonzero(~clear)

    def _settle(self, X, k, band, tree_dist, ind):
        """Rows settled on the keys of all their proposals ``(tree_dist, ind)``.

        Returns ``(counts, cols, keys, unsettled)``: the answers of the rows
        whose boundary is clear (none for the others) and the positions of
        the others.
        """
        exact = self.exact_
        (b, n_query), m = ind.shape, self.n_samples_fit_
        if self.trusts_tree_:
            keys = np.array(tree_dist, dtype=np.float64)
        else:
            rows = np.repeat(np.arange(b), n_query)
            keys = exact.keys(X, rows, ind.ravel()).reshape(b, n_query)
        if band is not None:
            keys[np.abs(ind - band[0][:, None]) < band[1]] = np.inf
        kk = min(k, n_query) - 1
        kth = np.partition(keys, kk, axis=1)[:, kk]
        settled = (n_query == m) | (
            np.isfinite(kth)
            & (tree_dist[:, -1] > exact.tree_units(kth) * (1 + self.tolerance))
        )
        order = np.argsort(ind, axis=1, kind="stable")
        ind = np.take_along_axis(ind, order, axis=1)
        keys = np.take_along_axis(keys, order, axis=1)
        keep = np.isfinite(keys) & settled[:, None]
        counts, cols, keys = choose_k(np.nonzero(keep)[0], ind[keep], keys[keep], k, b)
        return counts, cols, keys, np.flatnonzero(~settled)
