"""Brute-force recurrence matrices from cdist: the semantics skxsim documents.

Rows are frames (scikit-learn orientation).  Independent of skxsim's code:
a full distance matrix, a per-row sort, numpy masks.
"""

import numpy as np
from _brute import cdist

PER_PAIR = ("mean_k", "gmean_k", "mean_k_avg", "gmean_k_avg", "mean_k_avg_and_pair")


def default_k(n, width):
    return int(2 * np.ceil(np.sqrt(max(n - 2 * width + 1, 1))))


def neighbours(D, k, width):
    """Per frame, its k nearest frames outside the band |i - j| < width,
    ties to the lower column: a boolean (n, n) mask."""
    n = len(D)
    i, j = np.indices((n, n))
    allowed = np.abs(i - j) >= width
    mask = np.zeros((n, n), dtype=bool)
    for row in range(n):
        cols = np.flatnonzero(allowed[row])
        order = cols[np.lexsort((cols, D[row, cols]))]
        mask[row, order[:k]] = True
    return mask


def statistics(D, mask):
    """Per row: the largest distance among its masked entries (the k-th
    neighbour) and their mean."""
    kth = np.array([D[r, m].max() if m.any() else np.nan for r, m in enumerate(mask)])
    mean = np.array([D[r, m].mean() if m.any() else np.nan for r, m in enumerate(mask)])
    return kth, mean


def full_neighbours(D, k):
    """The k nearest other frames of each frame, band ignored (for full=True)."""
    n = len(D)
    return neighbours(D, min(k, n - 1), 1)


def recurrence(
    X,
    *,
    k=None,
    width=1,
    metric="euclidean",
    mode="connectivity",
    bandwidth=None,
    sym=False,
    include_self=False,
    full=False,
):
    """``(dense, stored)``: the recurrence matrix and its stored entries.

    ``bandwidth`` may also be an (n, n) ndarray indexed [frame, neighbour].
    """
    X = np.asarray(X, dtype=np.float64)
    n = len(X)
    k = default_k(n, width) if k is None else k
    D = cdist(X, X, metric)
    np.fill_diagonal(D, 0.0)
    full = full and mode != "connectivity"
    knn = full_neighbours(D, k) if full else neighbours(D, k, width)
    stored = ~np.eye(n, dtype=bool) if full else knn.copy()
    kth, mean = statistics(D, knn)  # before sym
    if sym:
        stored &= stored.T
        D = np.minimum(D, D.T)
    if include_self:
        stored |= np.eye(n, dtype=bool)
    if mode == "connectivity":
        return stored.astype(float), stored
    if mode == "distance":
        return np.where(stored, D, 0.0), stored
    if isinstance(bandwidth, np.ndarray):
        bw = bandwidth
    elif bandwidth is None or bandwidth == "med_k_scalar":
        bw = np.median(kth)
        if not bw > 0:
            raise ValueError("the median k-th neighbour distance is 0")
    elif bandwidth in PER_PAIR:
        bw = {
            "mean_k": (kth[:, None] + kth[None, :]) / 2,
            "gmean_k": np.sqrt(kth[:, None] * kth[None, :]),
            "mean_k_avg": (mean[:, None] + mean[None, :]) / 2,
            "gmean_k_avg": np.sqrt(mean[:, None] * mean[None, :]),
            "mean_k_avg_and_pair": (mean[:, None] + mean[None, :] + D) / 3,
        }[bandwidth]
    else:
        bw = float(bandwidth)
    with np.errstate(divide="ignore", invalid="ignore"):
        aff = np.where(D == 0, 1.0, np.exp(-D / bw))
    return np.where(stored, aff, 0.0), stored
