"""``cross_similarity``: a drop-in for ``librosa.segment.cross_similarity``.

A thin adapter over the estimator's machinery: librosa orientation in and
out, the same index, blocked search and graph assembly in between; the
output is written straight into its final layout and dtype.
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import validate_params

from .._graph import bandwidth_rule
from .._neighbors import fit_index, reference_statistics
from .._validation import (
    BANDWIDTH,
    METRIC,
    MODE,
    K,
    as_frames,
    check_bandwidth_matrix,
    check_bandwidth_value,
    check_leading_shapes,
    check_same_width,
    resolve_k,
)
from ..exceptions import librosa_errors
from ._core import cross_similarity_graph


@overload
def cross_similarity(
    data: np.ndarray,
    data_ref: np.ndarray,
    *,
    k: int | None = ...,
    metric: str = ...,
    sparse: Literal[False] = ...,
    mode: str = ...,
    bandwidth: float | str | np.ndarray | None = ...,
    full: bool = ...,
) -> np.ndarray: ...


@overload
def cross_similarity(
    data: np.ndarray,
    data_ref: np.ndarray,
    *,
    k: int | None = ...,
    metric: str = ...,
    sparse: Literal[True] = ...,
    mode: str = ...,
    bandwidth: float | str | np.ndarray | None = ...,
    full: bool = ...,
) -> sp.csc_matrix: ...


@librosa_errors
@validate_params(
    {
        "data": ["array-like", "sparse matrix"],
        "data_ref": ["array-like", "sparse matrix"],
        "k": K,
        "metric": METRIC,
        "sparse": ["boolean"],
        "mode": MODE,
        "bandwidth": BANDWIDTH + [np.ndarray],
        "full": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def cross_similarity(
    data: np.ndarray,
    data_ref: np.ndarray,
    *,
    k: int | None = None,
    metric: str = "euclidean",
    sparse: bool = False,
    mode: str = "connectivity",
    bandwidth: float | str | np.ndarray | None = None,
    full: bool = False,
) -> np.ndarray | sp.csc_matrix:
    """Cross-similarity of a sequence to a reference, librosa orientation.

    A drop-in for ``librosa.segment.cross_similarity`` (librosa 0.11): the
    same arguments, shapes and values wherever librosa is correct, computed
    by skxsim's blocked engine.  ``xsim[i, j]`` is non-zero when reference
    frame ``data_ref[..., i]`` is among the ``k`` nearest neighbours of query
    frame ``data[..., j]``.

    Parameters
    ----------
    data : ndarray of shape (..., d, n)
        The query sequence; frames are the last axis.  Leading axes are
        flattened into features as librosa does (``(2, d, n)`` becomes
        ``(2 * d, n)``).
    data_ref : ndarray of shape (..., d, n_ref)
        The reference sequence, with the same leading shape as ``data``.
    k : int >= 1 or None, default=None
        Neighbours per query frame.  ``None`` means
        ``min(n_ref, 2 * ceil(sqrt(n_ref)))``; larger values are clipped to
        ``n_ref``.
    metric : str or callable, default="euclidean"
        Any metric :class:`sklearn.neighbors.NearestNeighbors` accepts.
        euclidean, sqeuclidean and cosine run on the BLAS engine.
    sparse : bool, default=False
        Return a ``scipy.sparse.csc_matrix`` instead of an ndarray.
    mode : {"connectivity", "distance", "affinity"}, default="connectivity"
        ``connectivity``: True at the neighbours (bool).  ``distance``: the
        distance there.  ``affinity``: ``exp(-distance / bandwidth)`` there.
    bandwidth : float > 0, str, ndarray of shape (n, n_ref) or None
        Affinity bandwidth.  ``None`` or ``"med_k_scalar"``: median over the
        query frames of the distance to their k-th neighbour (librosa).
        ``"mean_k"``, ``"gmean_k"``: per pair, arithmetic / geometric mean of
        the query frame's k-th neighbour distance and the reference frame's
        k-th neighbour distance within the reference (itself excluded).
        ``"mean_k_avg"``, ``"gmean_k_avg"``: the same with the mean distance
        to the first k neighbours.  ``"mean_k_avg_and_pair"``: the mean of
        the two averages and the pair's distance.  An ndarray gives each
        ``[query, reference]`` pair its own bandwidth.
    full : bool, default=False
        With ``distance`` or ``affinity``: every entry of the matrix, ``k``
        being used for the bandwidth only.

    Returns
    -------
    xsim : ndarray or scipy.sparse.csc_matrix of shape (n_ref, n)
        bool for connectivity; float32 when both inputs are float32, float64
        otherwise.

    See Also
    --------
    CrossSimilarity : the same computation as a scikit-learn estimator.

    Notes
    -----
    Deliberate differences from librosa 0.11: a reference frame at distance
    exactly 0 is kept (librosa drops it, losing the best match); ``full=True``
    is full also when ``n < n_ref``; the per-pair bandwidths use the
    definitions above for any ``n`` and ``n_ref`` (librosa mixes query and
    reference indices and fails when ``n_ref > n``).

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim import cross_similarity
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.standard_normal((12, 50))   # 12 features, 50 frames
    >>> query = ref[:, 10:40] + 0.01 * rng.standard_normal((12, 30))
    >>> xsim = cross_similarity(query, ref, k=3)
    >>> xsim.shape, xsim.dtype
    ((50, 30), dtype('bool'))
    >>> bool(xsim[10:40].diagonal().all())   # each query frame finds its source
    True
    """
    check_leading_shapes(data, data_ref)
    X = as_frames(data, "data")
    R = as_frames(data_ref, "data_ref")
    check_same_width(X, "data", R, "data_ref")
    if X.dtype != R.dtype:
        X, R = X.astype(np.float64), R.astype(np.float64)
    n, n_ref = X.shape[0], R.shape[0]
    k = resolve_k(k, n_ref)
    check_bandwidth_value(bandwidth)
    if isinstance(bandwidth, np.ndarray) and mode == "affinity":
        check_bandwidth_matrix(bandwidth, n, n_ref)
    _, index = fit_index(R, metric=metric, k=k)
    dtype = np.dtype(bool) if mode == "connectivity" else X.dtype
    per_pair = mode == "affinity" and bandwidth_rule(bandwidth)[0] == "pair"
    return cross_similarity_graph(
        index,
        X,
        k=k,
        mode=mode,
        bandwidth=bandwidth,
        full=full,
        sparse=sparse,
        dtype=dtype,
        transpose=True,
        reference_statistics=(
            reference_statistics(index, R, k, dtype=dtype) if per_pair else None
        ),
    )
