"""The mutual k-nearest-neighbour cross-recurrence of two sequences.

Serrà et al. (2008): query frame ``i`` and reference frame ``j`` recur when
each is among the other's ``k`` nearest.  Both sequences are used whole, so
this is a pair-level computation (the row-level
:class:`~skxsim.CrossSimilarity` is its one-sided half);
:class:`~skxsim.CoverSongIndex` runs it for one query against many
references at once (:func:`mutual_knn`).

Orientation: scikit-learn (rows are frames); inside, key blocks are ``D_T``
of shape ``(n_reference_frames, n_query_frames)``.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import validate_params

from .._neighbors import (
    ApproxKeys,
    BlasScores,
    PairDistances,
    all_distances,
    blas_metric,
    check_metric_params,
    fit_index,
    is_blas_metric,
    k_smallest_mask,
)
from .._output_size import check_output_size
from .._validation import K_OR_FRACTION, METRIC, check_pair
from ._silence import sounding


def neighbour_count(k, n: int) -> int:
    """Neighbours among ``n`` frames for ``k`` given as a count or a fraction.

    An int is a count (clipped to ``n``).  A float in (0, 1] is a fraction:
    the number of values at or below the ``k``-quantile (numpy's linear
    interpolation) of ``n`` distinct values, ``floor(k * (n - 1)) + 1`` --
    what essentia's ``binarizePercentile`` threshold keeps.
    """
    if isinstance(k, Integral):
        return int(min(k, n))
    # In float64 whatever k's type: float16 arithmetic rounds the count.
    return int(min(n, math.floor(float(k) * (n - 1)) + 1))


def pair_keys(query_frames, frames, metric, metric_params) -> ApproxKeys:
    """Ranking keys of ``frames`` (rows) to ``query_frames`` (columns).

    The thresholds of the mutual k-NN compare a pair's distance with the
    distances of the same matrix, so they need the whole matrix, fast.  For
    the engine's BLAS metrics (euclidean, sqeuclidean, cosine) it is the
    engine's certified product, in the frames' dtype, with its rounding
    bound; the pairs that bound leaves undecided are settled on the exact
    keys.  Other metrics get every exact distance from the engine's exact
    index (in the frames' dtype).
    """
    if is_blas_metric(metric, metric_params):
        name = blas_metric(metric)
        dtype = np.result_type(frames.dtype, query_frames.dtype)
        pairs = PairDistances(frames, name)
        scores = BlasScores(frames, name, pairs, dtype=dtype)
        return scores.approximate_keys(query_frames, transposed=True)
    _, index = fit_index(
        query_frames,
        metric=metric,
        metric_params=metric_params,
        k=1,
        algorithm="brute",
    )
    D = np.empty((len(frames), len(query_frames)), dtype=query_frames.dtype)
    all_distances(index, frames, D, n_jobs=1)
    return ApproxKeys(D, 0.0, lambda rows, cols: D[rows, cols])


def mutual_knn(keys: ApproxKeys, bounds, k) -> np.ndarray:
    """Mutual k-NN of the query (columns) and each reference.

    ``keys`` holds the keys of reference frames (rows; the references one
    after another, ``bounds`` their row ranges) to the query frames.  A pair
    is linked when the reference frame is among the query frame's ``k``
    nearest in that reference and the query frame among the reference
    frame's ``k`` nearest in the query.
    """
    D = keys.approx
    bounds = list(bounds)
    S_T = k_smallest_mask(keys, neighbour_count(k, D.shape[1]), axis=1)
    for lo, hi in bounds:
        if hi == lo:
            continue
        part = ApproxKeys(
            D[lo:hi],
            keys.slack,
            lambda rows, cols, lo=lo: keys.key(rows + lo, cols),
            keys.unit,
        )
        S_T[lo:hi] &= k_smallest_mask(part, neighbour_count(k, hi - lo), axis=0)
    outside = np.ones(len(D), dtype=bool)
    for lo, hi in bounds:
        outside[lo:hi] = False
    S_T[outside] = False
    return S_T


@validate_params(
    {
        "query": ["array-like"],
        "reference": ["array-like"],
        "k": K_OR_FRACTION,
        "metric": METRIC,
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

    A silent frame (all zeros) matches nothing, under every metric: silent
    frames are left out before the neighbours are counted (they have none,
    are nobody's, and ``k`` as a fraction counts the sounding frames), and
    their rows and columns are empty.

    Parameters
    ----------
    query : array-like of shape (n, n_features)
        Query frames as rows (e.g. time-delay embedded chroma).
    reference : array-like of shape (n_ref, n_features)
        Reference frames as rows.
    k : int >= 1 or float in (0, 1], default=0.095
        Neighbours of each frame: an int is a count (clipped to the other
        sequence's number of sounding frames); a float is a fraction of
        them, ``floor(k * (n_other - 1)) + 1`` neighbours, which is the
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
    >>> from skxsim.cover import cross_recurrence
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.random((60, 12))
    >>> query = reference[10:50] + 0.01 * rng.random((40, 12))
    >>> R = cross_recurrence(query, reference, k=3)
    >>> R.shape, R.format
    ((40, 60), 'csr')
    >>> bool(np.all(R[:, 10:50].diagonal() == 1))   # each frame finds its source
    True
    """
    query, reference = check_pair(query, reference)
    metric_params = check_metric_params(metric, metric_params, query.shape[1])
    # Every pair's distance at once, and two masks.
    check_output_size(
        len(query) * len(reference) * (np.result_type(query, reference).itemsize + 2),
        f"the mutual k-NN of {len(query)} x {len(reference)} frames",
        "Compare shorter sequences, or use CoverSongIndex, which scores a "
        "catalogue in blocks of scikit-learn's working_memory.",
    )
    live_query, live_reference = sounding(query), sounding(reference)
    S = np.zeros((len(query), len(reference)), dtype=bool)
    if live_query.any() and live_reference.any():
        keys = pair_keys(
            query[live_query], reference[live_reference], metric, metric_params
        )
        S_T = mutual_knn(keys, [(0, int(live_reference.sum()))], k)
        S[np.ix_(live_query, live_reference)] = S_T.T
    return sp.csr_matrix(S, dtype=np.float64)
