"""The mutual k-nearest-neighbour cross-recurrence of two sequences.

Serrà et al. (2008): query frame ``i`` and reference frame ``j`` recur when
each is among the other's ``k`` nearest.  Both sequences are used whole, so
this is a pair-level computation (the row-level
:class:`~skxsim.CrossSimilarity` is its one-sided half);
:class:`~skxsim.CoverSongIndex` runs it for one query against many
references at once (``mutual_knn``).

Orientation: scikit-learn (rows are frames); inside, distance blocks are
``D_T`` of shape ``(n_reference_frames, n_query_frames)``.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, validate_params

from ._estimator import CrossSimilarity

__all__ = ["cross_recurrence", "mutual_knn", "neighbour_count", "pair_distances"]

K_CONSTRAINT = [
    Interval(Integral, 1, None, closed="left"),
    Interval(Real, 0, 1, closed="right"),
]
METRIC_CONSTRAINT = CrossSimilarity._parameter_constraints["metric"]


def neighbour_count(k, n: int) -> int:
    """Neighbours among ``n`` frames for ``k`` given as a count or a fraction.

    An int is a count (clipped to ``n``).  A float in (0, 1] is a fraction:
    the number of values at or below the ``k``-quantile (numpy's linear
    interpolation) of ``n`` distinct values, ``floor(k * (n - 1)) + 1`` --
    what essentia's ``binarizePercentile`` threshold keeps.
    """
    if isinstance(k, Integral):
        return int(min(k, n))
    return int(min(n, math.floor(k * (n - 1)) + 1))


# Metrics whose full distance blocks come from one BLAS product here.
_BLAS_METRICS = {"euclidean", "l2", "sqeuclidean", "cosine"}


def pair_distances(query_frames, frames, metric, metric_params, memory=None):
    """All distances ``(len(frames), len(query_frames))``.

    The thresholds of the mutual k-NN compare a pair's distance with the
    distances of the same matrix, so they need the whole matrix, fast, and
    not each distance to the last bit.  For euclidean, sqeuclidean and cosine
    it is one BLAS product (the norm expansion, as essentia computes it); the
    engine's ``full=True`` path settles every distance exactly from the
    frames' difference, some 50 times the product at this size.  Other
    metrics go through the engine (:class:`CrossSimilarity`).
    """
    if isinstance(metric, str) and metric in _BLAS_METRICS and not metric_params:
        return _blas_distances(query_frames, frames, metric)
    xsim = CrossSimilarity(
        k=1,  # unused with full=True
        n_jobs=1,
        metric=metric,
        metric_params=metric_params,
        mode="distance",
        full=True,
        sparse=False,
        memory=memory,
    )
    return xsim.fit(query_frames).transform(frames)


def _blas_distances(query_frames, frames, metric):
    if metric == "cosine":

        def unit(X):
            norms = np.sqrt(np.einsum("ij,ij->i", X, X))
            # scikit-learn's rule: a zero vector has similarity 0 to anything.
            return X / np.where(norms == 0, 1, norms)[:, None]

        D = unit(frames) @ unit(query_frames).T
        np.subtract(1, D, out=D)
        return np.clip(D, 0, 2, out=D)
    # Not centred: frames of small integers or dyadic values (binary,
    # symbolic chroma) then give exact distances, so equal distances tie
    # exactly and the ties go to the lower index.  Chroma sits close to the
    # origin, where centring would gain little precision.
    D = frames @ query_frames.T
    D *= -2
    D += np.einsum("ij,ij->i", frames, frames)[:, None]
    D += np.einsum("ij,ij->i", query_frames, query_frames)[None, :]
    np.maximum(D, 0, out=D)
    return D if metric == "sqeuclidean" else np.sqrt(D, out=D)


def _k_smallest(D: np.ndarray, k, axis: int) -> np.ndarray:
    """Boolean mask of the ``k`` smallest entries along ``axis`` of ``D``.

    Exactly ``k`` per line, ordered by (distance, index): among equal
    distances at the k-th place the lower indices are kept, as
    :class:`CrossSimilarity` keeps the lower columns.
    """
    kth = np.partition(D, k - 1, axis=axis).take(k - 1, axis=axis)
    across = (None, slice(None)) if axis == 0 else (slice(None), None)
    mask = D <= kth[across]
    lines = np.flatnonzero(np.count_nonzero(mask, axis=axis) > k)
    if lines.size:
        # Ties at the k-th distance on these lines (frequent with symbolic
        # chroma): keep the first of them, as many as fit.
        sub = D.take(lines, axis=1 - axis)
        at = kth[lines][across]
        below = sub < at
        room = k - np.count_nonzero(below, axis=axis)
        tied = sub == at
        rank = np.cumsum(tied, axis=axis, dtype=np.int32)
        kept = below | (tied & (rank <= room[across]))
        if axis == 0:
            mask[:, lines] = kept
        else:
            mask[lines] = kept
    return mask


def mutual_knn(D_T, bounds, k) -> np.ndarray:
    """Mutual k-NN of the query (columns of ``D_T``) and each reference.

    ``D_T`` holds the distances of reference frames (rows; the references
    one after another, ``bounds`` their row ranges) to the query frames.  A
    pair is linked when the reference frame is among the query frame's
    ``k`` nearest in that reference and the query frame among the reference
    frame's ``k`` nearest in the query.
    """
    bounds = list(bounds)
    S_T = _k_smallest(D_T, neighbour_count(k, D_T.shape[1]), axis=1)
    for lo, hi in bounds:
        S_T[lo:hi] &= _k_smallest(D_T[lo:hi], neighbour_count(k, hi - lo), axis=0)
    outside = np.ones(len(D_T), dtype=bool)
    for lo, hi in bounds:
        outside[lo:hi] = False
    S_T[outside] = False
    return S_T


@validate_params(
    {
        "query": ["array-like"],
        "reference": ["array-like"],
        "k": list(K_CONSTRAINT),
        "metric": list(METRIC_CONSTRAINT),
        "metric_params": [dict, None],
    },
    prefer_skip_nested_validation=True,
)
def cross_recurrence(
    query, reference, *, k=0.095, metric="euclidean", metric_params=None
) -> sp.csr_matrix:
    """Binary cross-recurrence by mutual nearest neighbours (Serrà et al. 2008).

    Query frame ``i`` and reference frame ``j`` recur when ``j`` is among the
    ``k`` nearest reference frames of ``i`` *and* ``i`` among the ``k``
    nearest query frames of ``j``: a frame matches only what also matches it,
    which removes the hubs a one-sided k-NN graph has.  "The ``k`` nearest"
    are exactly ``k``, ordered by (distance, index): among equal distances
    the lower frame index wins, as in :class:`CrossSimilarity`.

    Both sequences are used whole (each frame's neighbours are counted in
    the other sequence), so this is a pair-level function; the row-level
    :class:`CrossSimilarity` is its one-sided half.

    Parameters
    ----------
    query : array-like of shape (n, n_features)
        Query frames as rows (e.g. time-delay embedded chroma).
    reference : array-like of shape (n_ref, n_features)
        Reference frames as rows.
    k : int >= 1 or float in (0, 1], default=0.095
        Neighbours of each frame: an int is a count (clipped to the other
        sequence's length); a float is a fraction of the other sequence's
        length, ``floor(k * (n_other - 1)) + 1`` neighbours, which is the
        threshold of essentia's ``binarizePercentile`` (default 0.095).
    metric : str or callable, default="euclidean"
        Any metric :class:`CrossSimilarity` accepts.
    metric_params : dict or None, default=None
        Keyword arguments of the metric.

    Returns
    -------
    recurrence : scipy.sparse.csr_matrix of shape (n, n_ref)
        1.0 at the recurrences (float64), rows are query frames.

    See Also
    --------
    cover_song_distance : the whole pipeline on chroma.
    CrossSimilarity : one-sided k-NN cross-similarity (row level).

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim import cross_recurrence
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.random((60, 12))
    >>> query = reference[10:50] + 0.01 * rng.random((40, 12))
    >>> R = cross_recurrence(query, reference, k=3)
    >>> R.shape, R.format
    ((40, 60), 'csr')
    >>> bool(np.all(R[:, 10:50].diagonal() == 1))   # each frame finds its source
    True
    """
    query = check_array(query, dtype=[np.float64, np.float32], input_name="query")
    reference = check_array(
        reference, dtype=[np.float64, np.float32], input_name="reference"
    )
    if query.shape[1] != reference.shape[1]:
        raise ValueError(
            f"query has {query.shape[1]} features and reference "
            f"{reference.shape[1]}; they must match."
        )
    D_T = pair_distances(query, reference, metric, metric_params)
    S_T = mutual_knn(D_T, [(0, reference.shape[0])], k)
    return sp.csr_matrix(S_T.T, dtype=np.float64)
