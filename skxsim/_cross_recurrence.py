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

from ._engine import PairDistances, row_norms
from ._estimator import CrossSimilarity
from ._metrics import blas_metric, is_blas_metric

__all__ = [
    "CrossDistances",
    "cross_recurrence",
    "mutual_knn",
    "neighbour_count",
    "pair_distances",
]

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


class CrossDistances:
    """Distances of reference frames (rows) to query frames (columns).

    ``approx`` orders the pairs as their distances do, up to ``margin``:
    ``|approx - key| <= margin`` for every pair, where ``key(rows, cols)``
    is the exact ranking key of those pairs.  The k-nearest selections below
    take whatever lies more than twice the margin from a line's k-th value
    from ``approx`` alone and settle the rest on the exact keys, so the
    recurrence does not depend on the product's rounding (block, threads,
    BLAS kernel).  With ``margin == 0`` the approximation is exact.
    """

    def __init__(self, approx: np.ndarray, margin: float, key) -> None:
        self.approx = approx
        self.margin = float(margin)
        self.key = key


def pair_distances(query_frames, frames, metric, metric_params, memory=None):
    """:class:`CrossDistances` of ``frames`` (rows) to ``query_frames``.

    The thresholds of the mutual k-NN compare a pair's distance with the
    distances of the same matrix, so they need the whole matrix, fast.  For
    the engine's BLAS metrics (euclidean, sqeuclidean, cosine) it is one
    product, in the frames' dtype, of centred frames: the ranking key of the
    engine (:class:`~skxsim._engine.PairDistances`) with a proven rounding
    bound, and the exact keys of the pairs that bound leaves undecided.
    Other metrics go through the engine's exact ``full=True`` path
    (:class:`CrossSimilarity`).
    """
    if is_blas_metric(metric, metric_params):
        return _blas_distances(query_frames, frames, blas_metric(metric))
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
    D = xsim.fit(query_frames).transform(frames)
    return CrossDistances(D, 0.0, lambda rows, cols: D[rows, cols])


def _blas_distances(query_frames, frames, metric) -> CrossDistances:
    # The engine's key: squared distance (scaled by a power of two for
    # frames near float64's limits) or the squared chord of unit vectors.
    pairs = PairDistances(frames, metric)
    dtype = np.result_type(frames.dtype, query_frames.dtype)
    R = np.asarray(frames, dtype=np.float64)
    Q = np.asarray(query_frames, dtype=np.float64)
    if metric == "cosine":
        q_norms = row_norms(Q)
        R = pairs.unit(R, pairs.norms_)
        Q = pairs.unit(Q, q_norms)
    else:
        # Centred: the rounding of the norm expansion grows with the norms,
        # and chroma sits far from the origin.
        center = R.mean(axis=0)
        R = (R - center) / pairs.scale_
        Q = (Q - center) / pairs.scale_
    reach = float(np.max(row_norms(R), initial=0.0)) + float(
        np.max(row_norms(Q), initial=0.0)
    )
    R = R.astype(dtype)
    Q = Q.astype(dtype)
    D = R @ Q.T
    D *= -2
    D += np.einsum("ij,ij->i", R, R)[:, None]
    D += np.einsum("ij,ij->i", Q, Q)[None, :]
    if metric == "cosine":
        # scikit-learn's convention, as the keys: a zero vector has cosine
        # similarity 0 with everything (key 2).
        D[pairs.norms_ == 0] = 2
        D[:, q_norms == 0] = 2
    # |D - key| for every pair: the rounding of both factors to ``dtype``
    # and of the (d + 2)-term sum, any order, with or without FMA (Higham's
    # gamma bound on the terms' magnitudes, at most reach**2), with room.
    d = R.shape[1]
    u = np.finfo(dtype).eps / 2
    margin = 4.0 * (d + 8) * u * reach * reach

    def key(rows, cols):
        return pairs.keys(query_frames, cols, rows)

    return CrossDistances(D, margin, key)


def _k_smallest(D: np.ndarray, k, axis: int, margin: float, key) -> np.ndarray:
    """Boolean mask of the ``k`` smallest entries along ``axis`` of ``D``.

    ``D`` approximates the exact keys ``key(rows, cols)`` to within
    ``margin``.  Exactly ``k`` per line, ordered by (exact key, index): among
    equal distances at the k-th place the lower indices are kept, as
    :class:`CrossSimilarity` keeps the lower columns.
    """
    kth = np.partition(D, k - 1, axis=axis).take(k - 1, axis=axis)
    across = (None, slice(None)) if axis == 0 else (slice(None), None)
    # An order statistic moves by at most the margin, so a pair more than
    # twice the margin below (above) the approximate k-th value is among
    # (outside) the exact k nearest; the pairs between are decided on their
    # exact keys.  With margin 0 these are the pairs tied at the k-th value.
    # (In float64: a float32 threshold would round.)
    kth = kth.astype(np.float64)
    reach = 2 * margin
    mask = D < (kth - reach)[across]
    band = D <= (kth + reach)[across]
    band &= ~mask
    room = k - np.count_nonzero(mask, axis=axis)
    rows, cols = np.nonzero(band)
    lines, index = (cols, rows) if axis == 0 else (rows, cols)
    keys = key(rows, cols)
    order = np.lexsort((index, keys, lines))
    lines_sorted = lines[order]
    first = np.searchsorted(lines_sorted, lines_sorted, side="left")
    kept = np.arange(order.size) - first < room[lines_sorted]
    mask[rows[order[kept]], cols[order[kept]]] = True
    return mask


def mutual_knn(distances: CrossDistances, bounds, k) -> np.ndarray:
    """Mutual k-NN of the query (columns) and each reference.

    ``distances`` holds the distances of reference frames (rows; the
    references one after another, ``bounds`` their row ranges) to the query
    frames.  A pair is linked when the reference frame is among the query
    frame's ``k`` nearest in that reference and the query frame among the
    reference frame's ``k`` nearest in the query.
    """
    D, margin, key = distances.approx, distances.margin, distances.key
    bounds = list(bounds)
    S_T = _k_smallest(D, neighbour_count(k, D.shape[1]), 1, margin, key)
    for lo, hi in bounds:
        S_T[lo:hi] &= _k_smallest(
            D[lo:hi],
            neighbour_count(k, hi - lo),
            0,
            margin,
            lambda rows, cols, lo=lo: key(rows + lo, cols),
        )
    outside = np.ones(len(D), dtype=bool)
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
    distances = pair_distances(query, reference, metric, metric_params)
    S_T = mutual_knn(distances, [(0, reference.shape[0])], k)
    return sp.csr_matrix(S_T.T, dtype=np.float64)
