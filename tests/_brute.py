"""Brute-force reference for the semantics of DESIGN.md, from cdist."""

import numpy as np
from scipy.spatial.distance import cdist as _scipy_cdist

_SCIPY_NAMES = {"manhattan": "cityblock", "l2": "euclidean", "l1": "cityblock"}


def cdist(X, Y, metric="euclidean", **kwargs):
    """scipy's cdist, under scikit-learn's metric names."""
    return _scipy_cdist(X, Y, _SCIPY_NAMES.get(metric, metric), **kwargs)


def knn(dist, k):
    """Per row, the k smallest columns (ties to the lower column), sorted."""
    cols = np.broadcast_to(np.arange(dist.shape[1]), dist.shape)
    order = np.lexsort((cols, dist), axis=-1)
    return np.sort(order[:, :k], axis=1)


def kth_and_mean(dist, k):
    smallest = np.sort(dist, axis=1)[:, :k]
    return smallest[:, -1], smallest.mean(axis=1)


def reference_stats(R, k, metric="euclidean"):
    """k-th neighbour distance and mean of the k nearest, itself excluded."""
    D = cdist(R, R, metric)
    n_ref = len(R)
    off_diag = D[~np.eye(n_ref, dtype=bool)].reshape(n_ref, n_ref - 1)
    return kth_and_mean(off_diag, min(k, n_ref - 1))


def pair_bandwidth(name, D, q_stats, r_stats):
    (q_kth, q_mean), (r_kth, r_mean) = q_stats, r_stats
    return {
        "mean_k": (q_kth[:, None] + r_kth[None, :]) / 2,
        "gmean_k": np.sqrt(q_kth[:, None] * r_kth[None, :]),
        "mean_k_avg": (q_mean[:, None] + r_mean[None, :]) / 2,
        "gmean_k_avg": np.sqrt(q_mean[:, None] * r_mean[None, :]),
        "mean_k_avg_and_pair": (q_mean[:, None] + r_mean[None, :] + D) / 3,
    }[name]


def graph(D, k, mode, bandwidth=None):
    """Dense (n, n_ref) cross-similarity from the full distance matrix D."""
    out = np.zeros_like(D)
    cols = knn(D, k)
    rows = np.arange(len(D))[:, None]
    if mode == "connectivity":
        out[rows, cols] = 1
    elif mode == "distance":
        out[rows, cols] = D[rows, cols]
    else:
        bw = bandwidth if np.ndim(bandwidth) == 0 else bandwidth[rows, cols]
        out[rows, cols] = np.exp(-D[rows, cols] / bw)
    return out
