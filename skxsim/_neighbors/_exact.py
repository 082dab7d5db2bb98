"""Neighbour indexes of a reference sequence: one protocol, the exact kinds.

Every index (these, the trees of ``_tree`` and the approximate ones of
``_approximate``) satisfies :class:`NeighborIndex`.  The exact kinds give
identical answers for a metric: the same distance values (one definition
per metric, see ``_metrics`` and ``_product.PairDistances``) and the same k
neighbours, ties going to the lowest column.

An exact index also defines the metric's *ranking keys* (values in the
metric's order, cheaper than distances: scaled squared distances for the
BLAS metrics) and how a tree searches its reference: the trees and the
approximate indexes compose an exact index for these, so the one definition
serves them all.

Orientation: scikit-learn (rows are frames).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ._metrics import (
    DIFFERENCE_METRICS,
    blas_metric,
    canonical,
    frame_scale,
    is_blas_metric,
    metric_distances,
)
from ._product import BlasScores, PairDistances
from ._scaling import checked_distances, divided, row_norms
from ._select import choose_k, select_exact, settle, within_margin

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

    def row_bytes(self, k: int) -> int:
        """Working memory per query row of a block (sets the block size)."""


def row_of_scores(index, k: int) -> int:
    """Working memory per query row of an index that scores every reference
    frame (a float32 score each)."""
    return 4 * index.n_samples_fit_


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


class _TreeTolerance:
    """How far a tree's distance and the index's key of the same pair may
    differ: each computation rounds by about ``d + 2`` ulps (a BLAS key and
    a tree distance alike; for another library's tree, two sums of ``d``
    terms, each raised to ``p`` and back for minkowski)."""

    @property
    def tree_tolerance(self) -> float:
        return 8.0 * (self.n_features_in_ + 4) * 2.0**-53


class BlasIndex(_TreeTolerance):
    """Exact search for euclidean, sqeuclidean and cosine on a BLAS product.

    The product (``_product.BlasScores``) nominates the candidates of a
    block; those within its rounding bound of a row's k-th are settled on
    exact distances.  A block whose float32 bound lets far more than k
    candidates through is scored again in float64.
    """

    exact = True
    uses_blas = True

    def __init__(self, reference: np.ndarray, metric, *, search=True) -> None:
        self.metric = blas_metric(metric)
        self.reference_ = np.ascontiguousarray(reference)
        self.pairs_ = PairDistances(self.reference_, self.metric)
        # Without ``search`` (an index composed by a tree) only the keys and
        # distances are needed, not the prepared reference of the product.
        if search:
            self.scores_ = BlasScores(self.reference_, self.metric, self.pairs_)
        self.n_samples_fit_, self.n_features_in_ = reference.shape

    def kneighbors_block(self, X, k, band=None, values=True):
        b = X.shape[0]
        m = self.n_samples_fit_
        scorer, pairs = self.scores_, self.pairs_
        left, q_norms = scorer.left(X)
        dtype = scorer.score_dtype(q_norms)
        excluded = None if band is None else band_entries(band, m)
        while True:
            S = scorer.scores(left, dtype)
            if excluded is not None:
                S[excluded] = np.inf
            margin = scorer.margin(q_norms, dtype)
            # Far more candidates than k: float32 could not resolve this
            # block's neighbours at its norms.  The answer would be the same,
            # but float64 scores nominate far fewer pairs.
            final = dtype == np.float64 or k >= m
            found = within_margin(S, k, margin, None if final else b * (2 * k + 32))
            if found is not None:
                break
            dtype = np.dtype(np.float64)
        if np.all(found.counts <= k):  # every candidate is a neighbour
            cols = found.cols
            dist = pairs.distances(pairs.keys(X, found.rows, cols)) if values else None
            return found.counts, cols, dist
        if values:
            rows = found.rows
            keys = pairs.keys(X, rows, found.cols)
            counts, cols, keys = choose_k(rows, found.cols, keys, k, b)
            return counts, cols, pairs.distances(keys)
        # Only the pairs within the margin of the k-th need their exact
        # distance to be decided (typically a few).
        counts, cols = settle(found, k, lambda r, c: pairs.keys(X, r, c))
        return counts, cols, None

    def distances_block(self, X):
        return self.pairs_.distances(self.pairs_.all_keys(X))

    row_bytes = row_of_scores

    # Ranking keys, and the search space of a tree over this reference.

    def keys(self, X, rows, cols):
        """Ranking keys of the pairs ``(X[rows[i]], reference[cols[i]])``."""
        return self.pairs_.keys(X, rows, cols)

    def all_keys(self, X):
        return self.pairs_.all_keys(X)

    def distances(self, keys):
        return self.pairs_.distances(keys)

    def pair_distances(self, X, rows, cols):
        """Distances of the pairs ``(X[rows[i]], reference[cols[i]])``."""
        return self.distances(self.keys(X, rows, cols))

    @property
    def tree_metric(self):
        # Cosine neighbours are the euclidean neighbours of unit vectors.
        return "euclidean", {}

    def tree_points(self, X):
        """Frames as a euclidean tree sees them: scaled by the reference's
        power of two (exact), unit vectors for cosine."""
        return self.pairs_.prepared(X)

    # A tree's distances are computed otherwise: the keys are computed again.
    keys_are_tree_distances = False

    def tree_shortfall(self, X, ind) -> np.ndarray | None:
        """Rows (of ``X``, with proposals ``ind``) where a tree distance may be
        below its key's: under cosine, a zero vector is a zero tree point but
        has the fixed key 2 with everything.  Elsewhere the two agree within
        :attr:`tree_tolerance`.  None when no row is such."""
        if self.metric != "cosine":
            return None
        zero_query = row_norms(X) == 0
        zero_ref = self.pairs_.zero_
        if not (np.any(zero_query) or np.any(zero_ref)):
            return None
        return zero_query | np.any(zero_ref[ind], axis=1)

    def tree_units(self, keys):
        """Keys (scaled squared distances) as tree distances."""
        return np.sqrt(keys)


class BruteIndex(_TreeTolerance):
    """Exact search for any other metric: all distances, then selection.

    Its keys are the distances of the frames divided by a power of two
    (``_metrics.frame_scale``; 1 for ordinary data), so that frames near
    1e300 or 1e-300 get the distances of ordinary frames, scaled back.
    """

    exact = True
    uses_blas = False

    def __init__(self, reference, metric, metric_params) -> None:
        self.metric = canonical(metric)
        self.metric_params = dict(metric_params or {})
        self.reference_ = np.ascontiguousarray(reference)
        self.n_samples_fit_, self.n_features_in_ = reference.shape
        self.scale_, self.degree_ = frame_scale(
            self.metric, self.metric_params, self.reference_
        )
        self.scaled_reference_ = self.tree_points(self.reference_)

    def _keys(self, X, R):
        D = metric_distances(X, R, self.metric, self.metric_params)
        if not np.all(np.isfinite(D)):
            raise ValueError(
                f"metric={self.metric!r} gives non-finite distances for these "
                "frames (values too large for float64, or a metric undefined "
                "for them); rescale the features."
            )
        return D

    def all_keys(self, X):
        return self._keys(self.tree_points(X), self.scaled_reference_)

    def distances_block(self, X):
        return self.distances(self.all_keys(X))

    row_bytes = row_of_scores

    def kneighbors_block(self, X, k, band=None, values=True):
        excluded = None if band is None else band_entries(band, self.n_samples_fit_)
        counts, cols, keys = select_exact(self.all_keys(X), k, excluded)
        return counts, cols, self.distances(keys) if values else None

    def keys(self, X, rows, cols):
        """Ranking keys of the pairs ``(X[rows[i]], reference[cols[i]])``."""
        X = self.tree_points(X)
        if rows.size == 0:  # scikit-learn's distances refuse an empty batch
            return np.empty(0)
        if self.metric in DIFFERENCE_METRICS:
            # scikit-learn's value of d(x, y) is computed from x - y alone,
            # so d(x - y, 0) is the same value, bit for bit, for all pairs
            # in one call.
            diff = X[rows] - self.scaled_reference_[cols]
            return self._keys(diff, np.zeros((1, X.shape[1])))[:, 0]
        out = np.empty(rows.size)
        bounds = np.flatnonzero(np.diff(rows)) + 1
        for span in np.split(np.arange(rows.size), bounds):
            if span.size:
                row = rows[span[0]]
                R = self.scaled_reference_[cols[span]]
                out[span] = self._keys(X[row : row + 1], R)[0]
        return out

    def pair_distances(self, X, rows, cols):
        """Distances of the pairs ``(X[rows[i]], reference[cols[i]])``."""
        return self.distances(self.keys(X, rows, cols))

    def distances(self, keys):
        if self.scale_ == 1.0 or self.degree_ == 0:
            return keys
        with np.errstate(over="ignore", under="ignore"):
            out = keys * self.scale_
        return checked_distances(out, keys, self.metric)

    @property
    def tree_metric(self):
        return self.metric, self.metric_params

    def tree_points(self, X):
        """Frames as a tree sees them: divided by the reference's power of two."""
        return divided(X, self.scale_)

    # A scikit-learn tree computes the metric with scikit-learn's
    # DistanceMetric, the definition of these metrics' values (see _metrics),
    # on the same points: its distances are the keys.
    keys_are_tree_distances = True

    def tree_shortfall(self, X, ind) -> None:
        return None

    def tree_units(self, keys):
        return keys


def exact_index(reference, metric, metric_params, *, search=True):
    """The exact brute-force index of ``reference`` for ``metric``; without
    ``search``, one for keys and distances only (``kneighbors_block`` of a
    BLAS metric then fails)."""
    if is_blas_metric(metric, metric_params):
        return BlasIndex(reference, metric, search=search)
    return BruteIndex(reference, metric, metric_params)
