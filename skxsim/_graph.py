"""Graph assembly: k, modes, bandwidths and ``full``, into CSR or dense.

Orientation: scikit-learn.  Rows are query frames, columns reference frames;
the librosa-compatible function transposes at its boundary.
"""

from __future__ import annotations

import math
import warnings
from numbers import Real

import numpy as np
import scipy.sparse as sp

from ._search import exact_index_for, kneighbors, pairwise

MODES = ("connectivity", "distance", "affinity")
PER_PAIR_BANDWIDTHS = (
    "mean_k",
    "gmean_k",
    "mean_k_avg",
    "gmean_k_avg",
    "mean_k_avg_and_pair",
)
BANDWIDTH_NAMES = ("med_k_scalar",) + PER_PAIR_BANDWIDTHS


def default_k(n_ref: int) -> int:
    """librosa's default: ``min(n_ref, 2 * ceil(sqrt(n_ref)))``."""
    return int(min(n_ref, 2 * math.ceil(math.sqrt(n_ref))))


def resolve_k(k, n_ref: int) -> int:
    """``k`` for a reference of ``n_ref`` frames: default, checked, clipped."""
    if k is None:
        return default_k(n_ref)
    if isinstance(k, bool) or not isinstance(k, Real) or k != int(k):
        raise ValueError(f"k must be a positive integer or None; got k={k!r}.")
    if k < 1:
        raise ValueError(f"k must be >= 1; got k={k!r}.")
    return int(min(int(k), n_ref))


def check_bandwidth_spec(bandwidth) -> None:
    """Reject a bandwidth that is no positive number and no known name."""
    if bandwidth is None or isinstance(bandwidth, np.ndarray):
        return
    if isinstance(bandwidth, str):
        if bandwidth not in BANDWIDTH_NAMES:
            raise ValueError(
                f"bandwidth={bandwidth!r} is not a known bandwidth; use a "
                f"float > 0, None or one of {list(BANDWIDTH_NAMES)}."
            )
        return
    if isinstance(bandwidth, bool) or not isinstance(bandwidth, Real):
        raise ValueError(
            f"bandwidth must be a float > 0, None, a name or an ndarray; "
            f"got {bandwidth!r}."
        )
    if not (bandwidth > 0 and math.isfinite(bandwidth)):
        raise ValueError(f"bandwidth must be a finite float > 0; got {bandwidth!r}.")


def reference_statistics(index, reference, k: int, *, n_jobs=None):
    """Each reference frame's k-NN statistics within the reference.

    The frame itself is excluded, and ``min(k, n_ref - 1)`` neighbours are
    used.  Returns ``(kth, mean_k)``: distance to the k-th neighbour and mean
    distance to the k nearest.
    """
    n_ref = reference.shape[0]
    if n_ref < 2:
        raise ValueError(
            "a data-driven bandwidth needs the neighbours of each reference "
            "frame within the reference, so the reference needs at least 2 "
            "frames (n_samples = 1); pass a float bandwidth."
        )
    k_self = min(k, n_ref - 1)
    dist, _ = kneighbors(index, reference, k_self + 1, n_jobs=n_jobs)
    # The frame itself is at distance 0, the smallest: dropping each row's
    # smallest distance drops it (or an exact duplicate, same value).
    dist = np.sort(dist, axis=1)[:, 1:]
    return dist[:, -1].copy(), dist.mean(axis=1)


def median_bandwidth(kth: np.ndarray, what: str) -> float:
    """The median k-th neighbour distance, checked to be usable."""
    value = float(np.median(kth))
    if not value > 0:
        raise ValueError(
            f"the bandwidth estimated from {what} (median distance to the k-th "
            f"neighbour) is {value}: most frames have at least k exact "
            "duplicates. Pass a float bandwidth or a larger k."
        )
    return value


def _pair_bandwidth(name, rows, cols, dist, q_stats, r_stats):
    q_kth, q_mean = q_stats
    r_kth, r_mean = r_stats
    if name == "mean_k":
        return (q_kth[rows] + r_kth[cols]) / 2
    if name == "gmean_k":
        return np.sqrt(q_kth[rows] * r_kth[cols])
    if name == "mean_k_avg":
        return (q_mean[rows] + r_mean[cols]) / 2
    if name == "gmean_k_avg":
        return np.sqrt(q_mean[rows] * r_mean[cols])
    return (q_mean[rows] + r_mean[cols] + dist) / 3  # mean_k_avg_and_pair


def _affinity(dist, bandwidth):
    """``exp(-dist / bandwidth)``; a zero bandwidth takes the limit.

    A per-pair bandwidth of 0 (frames with k exact duplicates) gives
    affinity 1 for distance 0 and 0 otherwise, the limit as it goes to 0.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = dist / bandwidth
    ratio = np.where(dist == 0, 0, ratio)
    return np.exp(-ratio).astype(dist.dtype, copy=False)


def cross_graph(
    index,
    X: np.ndarray,
    *,
    k: int,
    mode: str,
    bandwidth=None,
    full: bool = False,
    sparse: bool = True,
    reference_stats=None,
    metric="euclidean",
    metric_params=None,
    n_jobs=None,
):
    """The cross-similarity of the query frames ``X`` to the indexed reference.

    Parameters
    ----------
    index : fitted neighbour index (see ``_backends``)
    X : ndarray of shape (n, n_features)
    k : int, already resolved (1 <= k <= n_ref)
    mode : {"connectivity", "distance", "affinity"}
    bandwidth : float, per-pair name, ``"med_k_query"`` or ndarray (n, n_ref)
        Resolved by the caller: ``"med_k_query"`` is librosa's median over
        the query frames.
    reference_stats : (kth, mean_k) of the reference, for per-pair names.

    Returns
    -------
    csr_matrix or ndarray of shape (n, n_ref), values in ``X.dtype`` (0/1
    for connectivity).
    """
    n, n_ref = X.shape[0], index.n_samples_fit_
    dtype = X.dtype
    full_rows = full and mode != "connectivity"
    if full_rows:
        if not getattr(index, "exact", True):
            warnings.warn(
                "full=True computes every distance exactly; the approximate "
                "index is not used for it.",
                UserWarning,
                stacklevel=3,
            )
        exact = exact_index_for(index, metric, metric_params)
        dist, q_kth, q_mean = pairwise(exact, X, k, n_jobs=n_jobs, dtype=dtype)
        width = n_ref
    else:
        dist, ind = kneighbors(index, X, k, n_jobs=n_jobs, dtype=dtype)
        q_kth, q_mean = dist.max(axis=1), dist.mean(axis=1)
        width = k

    def columns():
        # The column of every stored entry.  Full rows hold every column, so
        # that array is built only where an index array is really needed.
        return np.tile(np.arange(n_ref), n) if full_rows else ind.ravel()

    flat = dist.ravel()
    if mode == "connectivity":
        values = np.ones(dist.size, dtype=dtype)
    elif mode == "distance":
        values = flat
    else:
        if isinstance(bandwidth, np.ndarray):
            rows = np.repeat(np.arange(n), width)
            bw = bandwidth[rows, columns()]
        elif isinstance(bandwidth, str) and bandwidth == "med_k_query":
            bw = median_bandwidth(q_kth, "the query frames")
        elif isinstance(bandwidth, str):
            rows = np.repeat(np.arange(n), width)
            bw = _pair_bandwidth(
                bandwidth, rows, columns(), flat, (q_kth, q_mean), reference_stats
            )
        else:
            bw = float(bandwidth)
        values = _affinity(flat, bw)

    if full_rows and not sparse:
        return values.reshape(dist.shape)
    indptr = np.arange(0, n * width + 1, width)
    graph = sp.csr_matrix((values, columns(), indptr), shape=(n, n_ref), dtype=dtype)
    graph.has_sorted_indices = True
    return graph if sparse else graph.toarray()
