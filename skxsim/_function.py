"""``cross_similarity``: a drop-in for ``librosa.segment.cross_similarity``.

A thin adapter over the estimator's machinery: librosa orientation in and
out, the same blocked engine in between.
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array

from ._backends import ALL_METRICS, build_index, resolve_algorithm
from ._graph import (
    MODES,
    PER_PAIR_BANDWIDTHS,
    check_bandwidth_spec,
    cross_graph,
    reference_statistics,
    resolve_k,
)


def _frames(data, name: str) -> np.ndarray:
    """``(..., d, n)`` to frames as rows ``(n, d * prod(...))``, as librosa."""
    data = np.atleast_2d(np.asarray(data))
    # librosa swaps the frame axis to the front and flattens the rest in
    # Fortran order, so channel c of feature f lands at column f * C + c.
    frames = np.swapaxes(data, -1, 0)
    n_features = int(np.prod(data.shape[:-1]))
    frames = frames.reshape((frames.shape[0], n_features), order="F")
    return check_array(
        frames,
        dtype=[np.float64, np.float32],
        ensure_min_samples=1,
        ensure_min_features=1,
        input_name=name,
    )


def _check_metric(metric) -> None:
    if callable(metric):
        return
    if not isinstance(metric, str) or metric not in ALL_METRICS:
        raise ValueError(
            f"metric={metric!r} is not supported; use a callable or one of "
            f"{ALL_METRICS}."
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
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not one of {list(MODES)}.")
    _check_metric(metric)
    check_bandwidth_spec(bandwidth)
    data_arr, ref_arr = (
        np.atleast_2d(np.asarray(data)),
        np.atleast_2d(np.asarray(data_ref)),
    )
    if data_arr.shape[:-1] != ref_arr.shape[:-1]:
        raise ValueError(
            f"data.shape={data_arr.shape} and data_ref.shape={ref_arr.shape} "
            "do not match on leading dimension(s) (features): only the last "
            "axis (frames) may differ."
        )
    X = _frames(data_arr, "data")
    R = _frames(ref_arr, "data_ref")
    if X.dtype != R.dtype:
        X, R = X.astype(np.float64), R.astype(np.float64)
    n, n_ref = X.shape[0], R.shape[0]
    k = resolve_k(k, n_ref)

    if isinstance(bandwidth, np.ndarray) and mode == "affinity":
        if bandwidth.shape != (n, n_ref):
            raise ValueError(
                f"bandwidth ndarray has shape {bandwidth.shape}; it must be "
                f"(n, n_ref) = ({n}, {n_ref}), indexed [query, reference]."
            )
        if not (np.all(np.isfinite(bandwidth)) and np.all(bandwidth > 0)):
            raise ValueError("every entry of the bandwidth ndarray must be > 0.")

    algorithm = resolve_algorithm("auto", metric, None)
    index = build_index(R, metric, None, algorithm)

    reference_stats = None
    bw = bandwidth
    if mode == "affinity":
        if bandwidth is None or (
            isinstance(bandwidth, str) and bandwidth == "med_k_scalar"
        ):
            bw = "med_k_query"
        elif isinstance(bandwidth, str) and bandwidth in PER_PAIR_BANDWIDTHS:
            reference_stats = reference_statistics(index, R, k)

    xsim = cross_graph(
        index,
        X,
        k=k,
        mode=mode,
        bandwidth=bw,
        full=full,
        sparse=sparse,
        reference_stats=reference_stats,
        metric=metric,
    )
    if mode == "connectivity":
        xsim = xsim.astype(bool)
    if sparse:
        return sp.csc_matrix(xsim.T)
    return np.ascontiguousarray(xsim.T)
