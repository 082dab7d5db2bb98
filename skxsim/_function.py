"""``cross_similarity``: a drop-in for ``librosa.segment.cross_similarity``.

A thin adapter over the estimator's machinery: librosa orientation in and
out, the same index, blocked search and graph assembly in between; the
output is written straight into its final layout and dtype.
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array
from sklearn.utils._param_validation import validate_params

from . import _params
from ._backends import build_index, candidate_backends, choose_exact
from ._errors import WAYS_OUT, check_output_size, librosa_errors, output_bytes
from ._graph import (
    PER_PAIR_BANDWIDTHS,
    PairBandwidth,
    full_graph,
    median_bandwidth,
    neighbor_graph,
)
from ._metrics import check_metric_params
from ._search import (
    all_distances,
    full_row_statistics,
    kneighbors,
    reference_statistics,
)


def as_frames(data, name: str) -> np.ndarray:
    """``(..., d, n)`` to C-ordered frames as rows ``(n, d * prod(...))``.

    librosa swaps the frame axis to the front and flattens the rest in
    Fortran order, so channel c of feature f lands at column f * C + c.
    """
    if sp.issparse(data):
        raise ValueError(
            f"{name} is a scipy.sparse matrix; cross_similarity needs a dense "
            f"array of features by frames: pass {name}.toarray()."
        )
    data = np.atleast_2d(np.asarray(data))
    frames = np.swapaxes(data, -1, 0)
    n_features = int(np.prod(data.shape[:-1]))
    frames = frames.reshape((frames.shape[0], n_features), order="F")
    return check_array(
        frames,
        dtype=[np.float64, np.float32],
        order="C",
        ensure_min_samples=1,
        ensure_min_features=1,
        input_name=name,
    )


def check_leading_shapes(data, data_ref) -> None:
    """Query and reference must agree on every axis but the last (frames)."""
    shapes = [np.shape(a) if not sp.issparse(a) else a.shape for a in (data, data_ref)]
    if len(shapes[0]) >= 2 and len(shapes[1]) >= 2 and shapes[0][:-1] != shapes[1][:-1]:
        raise ValueError(
            f"data.shape={shapes[0]} and data_ref.shape={shapes[1]} do not match "
            "on leading dimension(s) (features): only the last axis (frames) "
            "may differ."
        )


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
        "k": _params.K,
        "metric": _params.METRIC,
        "sparse": ["boolean"],
        "mode": _params.MODE,
        "bandwidth": _params.BANDWIDTH + [np.ndarray],
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
    if X.shape[1] != R.shape[1]:
        raise ValueError(
            f"data has {X.shape[1]} features per frame and data_ref has "
            f"{R.shape[1]}: they must match."
        )
    if X.dtype != R.dtype:
        X, R = X.astype(np.float64), R.astype(np.float64)
    n, n_ref = X.shape[0], R.shape[0]
    k = _params.resolve_k(k, n_ref)
    metric_params = check_metric_params(metric, None, R.shape[1])
    _params.check_bandwidth_value(bandwidth)
    if isinstance(bandwidth, np.ndarray) and mode == "affinity":
        _params.check_bandwidth_matrix(bandwidth, n, n_ref)
    full = full and mode != "connectivity"
    dtype = np.dtype(bool) if mode == "connectivity" else X.dtype
    check_output_size(
        output_bytes(n, n_ref, k, full, sparse, dtype),
        f"the cross-similarity of {n} query frames to {n_ref} reference frames",
        WAYS_OUT,
    )

    def build(name):
        return build_index(R, metric, metric_params, name)

    candidates = candidate_backends("auto", metric, metric_params)
    _, index = choose_exact(candidates, R, k, build)
    per_pair = mode == "affinity" and isinstance(bandwidth, str)
    per_pair = per_pair and bandwidth in PER_PAIR_BANDWIDTHS
    reference_stats = (
        reference_statistics(index, R, k, dtype=dtype) if per_pair else None
    )

    def resolve(query_stats):
        """librosa's bandwidths: the data-driven ones from the query frames."""
        if mode != "affinity" or isinstance(bandwidth, (float, int, np.ndarray)):
            return bandwidth
        if per_pair:
            return PairBandwidth(bandwidth, query_stats(), reference_stats)
        return median_bandwidth(query_stats()[0], "the query frames")

    if full:
        D = np.empty((n, n_ref), dtype)  # the output's own buffer
        all_distances(index, X, D)
        bw = resolve(lambda: full_row_statistics(D, k))
        return full_graph(D, mode=mode, bandwidth=bw, sparse=sparse, transpose=True)
    neighbors = kneighbors(index, X, k, values=mode != "connectivity")
    bw = resolve(lambda: neighbors.row_statistics(dtype))
    return neighbor_graph(
        neighbors,
        n_ref,
        mode=mode,
        bandwidth=bw,
        dtype=dtype,
        sparse=sparse,
        transpose=True,
    )
