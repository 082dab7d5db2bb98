"""Neighbour indexes of a reference sequence: one protocol, the exact kinds.

Every index (these, and the approximate ones of ``_approximate``) satisfies
:class:`NeighborIndex`.  The exact kinds give identical answers for a metric:
the same distance values (one definition per metric, see ``_metrics`` and
``_engine.PairDistances``) and the same k neighbours, ties going to the
lowest column.

Orientation: scikit-learn (rows are frames).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from sklearn.neighbors import BallTree, KDTree

from ._engine import (
    BlasScores,
    PairDistances,
    blas_kneighbors,
    choose_k,
    nominate,
    row_norms,
)
from ._metrics import blas_metric, canonical, is_blas_metric, metric_distances

# A band ``(frames, width)``: query row i is frame ``frames[i]`` of the
# reference itself, and reference frames j with |frames[i] - j| < width are
# excluded (self-similarity).
Band = tuple[np.ndarray, int]


@runtime_checkable
class NeighborIndex(Protocol):
    """What the blocked search needs from an index of the reference.

    Attributes
    ----------
    exact : bool
        Whether ``kneighbors_block`` is exact.
    uses_blas : bool
        Whether its queries call BLAS (the search then runs them on
        single-threaded BLAS, one block per thread).
    n_samples_fit_, n_features_in_ : int
        Shape of the reference.
    """

    exact: bool
    uses_blas: bool
    n_samples_fit_: int
    n_features_in_: int

    def kneighbors_block(
        self, X: np.ndarray, k: int, band: Band | None = None, values: bool = True
    ):
        """The ``k`` nearest reference frames of each row of ``X``.

        Returns ``(counts, cols, dist)``: per row the number of neighbours
        (``k``, fewer only where a band leaves fewer frames), then the
        neighbours' columns and float64 distances, flat, row after row, in
        ascending column order within a row (CSR order).  With
        ``values=False`` the caller needs the neighbours only, and ``dist``
        may be ``None``.
        """

    def distances_block(self, X: np.ndarray) -> np.ndarray:
        """Every distance from the rows of ``X`` to the reference (float64)."""


def band_entries(band: Band, n_ref: int):
    """``(rows, cols)`` of the entries inside ``band``."""
    frames, width = band
    offsets = np.arange(-width + 1, width)
    rows = np.repeat(np.arange(frames.size), offsets.size)
    cols = frames[rows] + np.tile(offsets, frames.size)
    inside = (cols >= 0) & (cols < n_ref)
    return rows[inside], cols[inside]


def merge_rows(counts, cols, dist, todo, sub):
    """Put the answers ``sub = (counts, cols, dist)`` of rows ``todo`` into a
    result in which those rows have no entries yet."""
    sub_counts, sub_cols, sub_dist = sub
    row_of = np.concatenate(
        [np.repeat(np.arange(counts.size), counts), np.repeat(todo, sub_counts)]
    )
    order = np.argsort(row_of, kind="stable")
    merged = counts.copy()
    merged[todo] = sub_counts
    return (
        merged,
        np.concatenate([cols, sub_cols])[order],
        np.concatenate([dist, sub_dist])[order],
    )


def select_exact(D: np.ndarray, k: int, band: Band | None = None):
    """The k smallest entries of each row of ``D`` by (value, column)."""
    if band is not None:
        D[band_entries(band, D.shape[1])] = np.inf
    flat, rows, cols = nominate(D, k, np.zeros(D.shape[0]))
    return choose_k(rows, cols, D.reshape(-1)[flat], k, D.shape[0])


class BlasIndex:
    """Exact search for euclidean, sqeuclidean and cosine on a BLAS product."""

    exact = True
    uses_blas = True

    def __init__(self, reference: np.ndarray, metric) -> None:
        self.metric = blas_metric(metric)
        self.reference_ = np.ascontiguousarray(reference)
        self.pairs_ = PairDistances(self.reference_, self.metric)
        self.scores_ = BlasScores(self.reference_, self.metric, self.pairs_)
        self.n_samples_fit_, self.n_features_in_ = reference.shape

    def kneighbors_block(self, X, k, band=None, values=True):
        exclude = None
        if band is not None:
            entries = band_entries(band, self.n_samples_fit_)

            def exclude(S):
                S[entries] = np.inf

        counts, cols, keys = blas_kneighbors(
            self.scores_, self.pairs_, X, k, exclude, values
        )
        return counts, cols, None if keys is None else self.pairs_.distances(keys)

    def distances_block(self, X):
        return self.pairs_.distances(self.pairs_.all_keys(X))

    def pair_distances(self, X, rows, cols):
        """Distances of the pairs ``(X[rows[i]], reference[cols[i]])``."""
        return self.pairs_.distances(self.pairs_.keys(X, rows, cols))


class BruteIndex:
    """Exact search for any other metric: all distances, then selection."""

    exact = True
    uses_blas = False

    def __init__(self, reference, metric, metric_params) -> None:
        self.metric = canonical(metric)
        self.metric_params = dict(metric_params or {})
        self.reference_ = np.ascontiguousarray(reference)
        self.n_samples_fit_, self.n_features_in_ = reference.shape

    def distances_block(self, X):
        D = metric_distances(X, self.reference_, self.metric, self.metric_params)
        if not np.all(np.isfinite(D)):
            raise ValueError(
                f"metric={self.metric!r} gives non-finite distances for these "
                "frames (values too large for float64, or a metric undefined "
                "for them); rescale the features."
            )
        return D

    def kneighbors_block(self, X, k, band=None, values=True):
        return select_exact(self.distances_block(X), k, band)

    def pair_distances(self, X, rows, cols):
        """Distances of the pairs ``(X[rows[i]], reference[cols[i]])``."""
        out = np.empty(rows.size)
        bounds = np.flatnonzero(np.diff(rows)) + 1
        for span in np.split(np.arange(rows.size), bounds):
            if span.size:
                row = rows[span[0]]
                out[span] = metric_distances(
                    X[row : row + 1],
                    self.reference_[cols[span]],
                    self.metric,
                    self.metric_params,
                )[0]
        return out


def exact_index(reference, metric, metric_params):
    """The exact brute-force index of ``reference`` for ``metric``."""
    if is_blas_metric(metric, metric_params):
        return BlasIndex(reference, metric)
    return BruteIndex(reference, metric, metric_params)


class TreeIndex:
    """Exact search on a scikit-learn KD-tree or ball tree.

    The tree proposes the ``k + 1`` nearest frames (plus the band's, when
    one is excluded).  A row's proposals are accepted when their boundary is
    clear of rounding: the farthest proposal lies beyond the k-th nearest by
    more than the rounding of the two distance computations, so no frame
    left out can be nearer.  Other rows (ties at the k-th distance,
    typically) are settled on all their distances.  Distances of the BLAS
    metrics are recomputed by :class:`~skxsim._engine.PairDistances`, so
    they are bit-identical to the BLAS engine's.
    """

    exact = True
    uses_blas = False

    def __init__(self, reference, metric, metric_params, kind: str) -> None:
        self.kind = kind
        self.reference_ = np.ascontiguousarray(reference)
        self.n_samples_fit_, self.n_features_in_ = reference.shape
        tree_class = KDTree if kind == "kd_tree" else BallTree
        if is_blas_metric(metric, metric_params):
            self.metric = blas_metric(metric)
            self.pairs_ = PairDistances(self.reference_, self.metric)
            self.brute_ = None
            # Cosine neighbours are the euclidean neighbours of unit vectors.
            self.tree_ = tree_class(self._points(self.reference_, self.pairs_.norms_))
        else:
            self.metric = canonical(metric)
            self.pairs_ = None
            self.brute_ = BruteIndex(self.reference_, metric, metric_params)
            self.tree_ = tree_class(
                np.asarray(self.reference_, dtype=np.float64),
                metric=self.metric,
                **self.brute_.metric_params,
            )

    def _points(self, X, norms=None):
        X = np.asarray(X, dtype=np.float64)
        if self.pairs_ is not None and self.metric == "cosine":
            return self.pairs_.unit(X, row_norms(X) if norms is None else norms)
        return X

    def distances_block(self, X):
        if self.pairs_ is None:
            return self.brute_.distances_block(X)
        return self.pairs_.distances(self.pairs_.all_keys(X))

    def pair_distances(self, X, rows, cols):
        if self.pairs_ is None:
            return self.brute_.pair_distances(X, rows, cols)
        return self.pairs_.distances(self.pairs_.keys(X, rows, cols))

    def kneighbors_block(self, X, k, band=None, values=True):
        b, m = X.shape[0], self.n_samples_fit_
        extra = 2 * band[1] - 1 if band is not None else 0
        n_query = min(m, k + 1 + extra)
        tree_dist, ind = self.tree_.query(self._points(X), k=n_query)
        if self.pairs_ is None:
            values = tree_dist.copy()  # the tree computes the metric's values
        else:
            rows = np.repeat(np.arange(b), n_query)
            values = self.pairs_.keys(X, rows, ind.ravel()).reshape(b, n_query)
        if band is not None:
            values[np.abs(ind - band[0][:, None]) < band[1]] = np.inf
        kk = min(k, n_query) - 1
        kth = np.partition(values, kk, axis=1)[:, kk]
        if self.pairs_ is None:
            kth_tree, tol = kth, 0.0
        else:
            # Keys are scaled squared (chord) distances, the tree's units
            # their square roots; each computation rounds by ~(d + 2) ulps.
            kth_tree = np.sqrt(kth) * self.pairs_.scale_
            tol = 8.0 * (self.n_features_in_ + 4) * 2.0**-53
        settled = np.isfinite(kth) & (
            (n_query == m) | (tree_dist[:, -1] > kth_tree * (1 + tol))
        )
        order = np.argsort(ind, axis=1, kind="stable")
        ind = np.take_along_axis(ind, order, axis=1)
        values = np.take_along_axis(values, order, axis=1)
        keep = np.isfinite(values) & settled[:, None]
        counts, cols, vals = choose_k(
            np.nonzero(keep)[0], ind[keep], values[keep], k, b
        )
        if not np.all(settled):
            todo = np.flatnonzero(~settled)
            sub_band = None if band is None else (band[0][todo], band[1])
            if self.pairs_ is not None:
                D = self.pairs_.all_keys(X[todo])
            else:
                D = self.distances_block(X[todo])
            sub = select_exact(D, k, sub_band)
            counts, cols, vals = merge_rows(counts, cols, vals, todo, sub)
        if self.pairs_ is not None:
            vals = self.pairs_.distances(vals)
        return counts, cols, vals
