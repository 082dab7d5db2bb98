"""The steps of Laplacian structural segmentation (McFee & Ellis, 2014).

Recurrence affinity -> median along its diagonals -> plus the path
(sequence) graph, balanced -> normalised Laplacian -> its first
eigenvectors, smoothed in time -> cumulative-norm embedding -> k-means.
Everything stays sparse: the only dense arrays are ``(n_frames,
n_components)``, so a long song costs its neighbour graph, not ``n**2``.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.ndimage import median_filter
from scipy.sparse.csgraph import laplacian
from scipy.sparse.linalg import ArpackNoConvergence, eigsh

from .._recurrence import lag_to_recurrence, recurrence_to_lag

# Below this many frames a dense eigendecomposition is cheaper than ARPACK.
DENSE_EIGH_FRAMES = 500


def diagonal_median(rec, size: int):
    """Median over ``size`` frames along every diagonal of a sparse matrix.

    Equals ``timelag_filter(median_filter)(rec.toarray(), size=(1, size),
    mode="constant")`` for a non-negative ``rec`` and an odd ``size``,
    without densifying: in the (padded) lag view, a window of ``size =
    2h + 1`` frames has a non-zero median only when it holds at least
    ``h + 1`` stored entries, so the candidates are the windows covered by
    ``h + 1`` consecutive entries of a lag row spanning at most ``2h``
    frames, and each candidate's median is read off its few sorted
    entries.  Returns CSR of ``rec``'s shape.
    """
    rec = sp.csr_matrix(rec, copy=True)
    rec.eliminate_zeros()
    h = size // 2
    if h == 0 or rec.nnz == 0:
        return rec
    n = rec.shape[0]
    lag = recurrence_to_lag(rec.tocoo(), pad=True)
    key = lag.row.astype(np.int64) * n + lag.col
    order = np.argsort(key, kind="stable")
    key, values = key[order], lag.data[order]
    row, col = key // n, key % n

    first = np.arange(len(key) - h)
    last = first + h
    runs = first[(row[last] == row[first]) & (col[last] - col[first] <= 2 * h)]
    start = np.maximum(col[runs + h] - h, 0)
    stop = np.minimum(col[runs] + h, n - 1)  # inclusive
    # Within a row both ends increase with the run, so clipping each start
    # past the previous stop leaves disjoint intervals in key order.
    same_row = np.zeros(len(runs), dtype=bool)
    same_row[1:] = row[runs[1:]] == row[runs[:-1]]
    start[same_row] = np.maximum(start[same_row], stop[:-1][same_row[1:]] + 1)
    lengths = np.maximum(stop - start + 1, 0)
    offsets = np.arange(lengths.sum()) - np.repeat(
        np.cumsum(lengths) - lengths, lengths
    )
    candidates = np.repeat(row[runs] * n + start, lengths) + offsets
    cand_row, cand_col = candidates // n, candidates % n
    lo = np.searchsorted(key, cand_row * n + np.maximum(cand_col - h, 0), "left")
    hi = np.searchsorted(key, cand_row * n + np.minimum(cand_col + h, n - 1), "right")
    count = hi - lo
    window = lo[:, None] + np.arange(size)
    inside = window < hi[:, None]
    gathered = np.where(inside, values[np.minimum(window, len(values) - 1)], np.inf)
    gathered.sort(axis=1)
    # size - count zeros come first in the sorted window; the median is
    # entry h of it, so entry count - h - 1 of the stored values.
    medians = gathered[np.arange(len(candidates)), count - h - 1]
    filtered = sp.coo_matrix((medians, (cand_row, cand_col)), shape=lag.shape)
    return lag_to_recurrence(filtered).tocsr()


def path_affinity(X: np.ndarray) -> np.ndarray:
    """``exp(-d_i / median(d))`` for ``d_i = ||x_{i+1} - x_i||^2``.

    The similarity of each frame to the next (McFee & Ellis's sequence
    graph).  A median of 0 (most frames repeat the previous one) falls
    back to the mean, then to 1.
    """
    steps = np.diff(X.astype(np.float64, copy=False), axis=0)
    distance = np.einsum("ij,ij->i", steps, steps)
    sigma = np.median(distance) if len(distance) else 1.0
    if not sigma > 0:
        sigma = distance.mean() if len(distance) and distance.mean() > 0 else 1.0
    return np.exp(-distance / sigma)


def combined_graph(rec, path: np.ndarray, mu):
    """``mu * rec + (1 - mu) * path graph``; ``mu="balanced"`` as the paper.

    The balanced ``mu`` makes a random walk equally likely to follow a
    recurrence edge as a path edge (McFee & Ellis, eq. 7).  Returns the
    symmetric CSR graph and the ``mu`` used.
    """
    n = rec.shape[0]
    path_graph = sp.diags([path, path], [1, -1], shape=(n, n), format="csr")
    if isinstance(mu, str):
        deg_path = np.asarray(path_graph.sum(axis=1)).ravel()
        deg_rec = np.asarray(rec.sum(axis=1)).ravel()
        total = deg_path + deg_rec
        denominator = total @ total
        mu = float(deg_path @ total / denominator) if denominator > 0 else 0.5
    mu = float(mu)
    graph = (mu * rec + (1 - mu) * path_graph).tocsr()
    return graph, float(mu)


def spectral_embedding(graph, n_components: int, smooth: int, random_state):
    """The first ``n_components`` eigenpairs of the normalised Laplacian.

    Returns ``(eigenvalues, eigenvectors)``, ascending, the eigenvectors
    median-filtered over ``smooth`` frames in time (the paper's step that
    removes short blips).  Dense ``eigh`` for short sequences, else
    ARPACK's Lanczos on the shifted Laplacian ``2 I - L`` (largest
    eigenvalues converge fast), dense again if ARPACK does not converge.
    """
    n = graph.shape[0]
    lap = laplacian(graph, normed=True)
    n_components = min(n_components, n)
    if n <= DENSE_EIGH_FRAMES or n_components >= n - 1:
        values, vectors = _dense_eigh(lap, n_components)
    else:
        shifted = (2 * sp.identity(n, format="csr") - lap).tocsr()
        v0 = random_state.uniform(-1, 1, n)
        try:
            values, vectors = eigsh(
                shifted,
                k=n_components,
                which="LA",
                v0=v0,
                tol=1e-6,
                ncv=min(n, max(2 * n_components + 1, 40)),
            )
            values = 2 - values
            order = np.argsort(values)
            values, vectors = values[order], vectors[:, order]
        except ArpackNoConvergence:
            values, vectors = _dense_eigh(lap, n_components)
    if smooth > 1:
        vectors = median_filter(vectors, size=(smooth, 1), mode="nearest")
    return values, vectors


def _dense_eigh(lap, n_components):
    dense = lap.toarray() if sp.issparse(lap) else np.asarray(lap)
    return scipy.linalg.eigh(dense, subset_by_index=[0, n_components - 1])


def cumulative_norm_features(vectors: np.ndarray, n_clusters: int) -> np.ndarray:
    """The first ``n_clusters`` eigenvectors, rows scaled by their norm.

    McFee & Ellis's embedding: ``Y[i] = V[i, :k] / ||V[i, :k]||`` (a zero
    row stays zero).
    """
    features = vectors[:, :n_clusters]
    norm = np.linalg.norm(features, axis=1, keepdims=True)
    return np.divide(features, norm, out=np.zeros_like(features), where=norm > 0)


def eigengap_clusters(values: np.ndarray, max_clusters: int) -> int:
    """The number of clusters at the largest relative gap of the spectrum.

    ``argmax_k lambda_k / lambda_{k-1}`` over ``2 <= k <= max_clusters``:
    ``k`` nearly disconnected groups of frames give ``k`` eigenvalues near
    0, then a jump.  The ratio, not the difference, because the path graph
    keeps every eigenvalue of a long sequence small, and the differences
    grow with the index on any graph.
    """
    top = min(max_clusters, len(values) - 1)
    if top < 2:
        return 1
    values = np.maximum(values[: top + 1], np.finfo(np.float64).tiny)
    ratios = values[2:] / values[1:-1]  # ratios[k - 2] = lambda_k / lambda_{k-1}
    return int(np.argmax(ratios) + 2)


def segment_starts(labels: np.ndarray) -> np.ndarray:
    """First frame of every segment (a run of one label), 0 first."""
    return np.concatenate([[0], np.flatnonzero(labels[1:] != labels[:-1]) + 1])
