"""Independent exactness check: is what a method found the true k-NN?

The oracle is computed here, not by any method under test: per query frame,
the k smallest euclidean distances to the reference frames, each distance
computed directly from the difference of the two frames in float64 (from the
values of the frames in the dtype the methods see).  Candidates are
nominated by a float64 product with a generous margin above the k-th score,
then decided on the direct distances, so rounding in the product cannot
change the answer.

A method's row is *exact* when it holds k neighbours whose direct distances,
sorted, are the oracle's k smallest.  Ties at the k-th distance may be broken
differently by different methods and still be exact.  Cached on disk next to
the data, keyed on the two datasets, the dtype and k.
"""

from __future__ import annotations

import hashlib
import os

import _features
import numpy as np

BLOCK_BYTES = 128 * 2**20  # scores of one block of query rows


def pair_distances(X, R, rows, cols, chunk=1 << 18):
    """Direct float64 euclidean distances of the pairs (X[rows], R[cols])."""
    out = np.empty(rows.size, dtype=np.float64)
    for start in range(0, rows.size, chunk):
        stop = min(start + chunk, rows.size)
        diff = X[rows[start:stop]].astype(np.float64)
        diff -= R[cols[start:stop]]
        diff *= diff
        # A row reduction along a contiguous axis sums the same way whatever
        # the number of rows, so equal pairs give equal bits here and below.
        np.sqrt(diff.sum(axis=1), out=out[start:stop])
    return out


def true_knn_distances(X, R, k):
    """(n, k) sorted exact distances of every query frame's k nearest."""
    n, n_ref = X.shape[0], R.shape[0]
    X64 = np.ascontiguousarray(X, dtype=np.float64)
    R64 = np.ascontiguousarray(R, dtype=np.float64)
    r2 = np.einsum("ij,ij->i", R64, R64)
    x2 = np.einsum("ij,ij->i", X64, X64)
    margin = 1e-9 * (x2.max() + r2.max()) + 1e-300
    result = np.empty((n, k))
    block = max(1, BLOCK_BYTES // (8 * n_ref))
    for start in range(0, n, block):
        stop = min(start + block, n)
        scores = X64[start:stop] @ R64.T
        scores *= -2.0
        scores += r2
        scores += x2[start:stop, None]
        kth = np.partition(scores, k - 1, axis=1)[:, k - 1]
        rows, cols = np.nonzero(scores <= (kth + margin)[:, None])
        dist = pair_distances(X64, R64, rows + start, cols)
        order = np.lexsort((dist, rows))
        rows, dist = rows[order], dist[order]
        starts = np.searchsorted(rows, np.arange(stop - start))
        rank = np.arange(rows.size) - starts[rows]
        result[start:stop] = dist[rank < k].reshape(stop - start, k)
    return result


def oracle_path(x_path, r_path, dtype, k):
    text = f"{os.path.basename(x_path)}|{os.path.basename(r_path)}|{dtype}|{k}"
    digest = hashlib.sha1(text.encode()).hexdigest()[:16]
    return os.path.join(_features.CACHE_DIR, f"oracle-{digest}.npy")


def oracle(X, R, k, x_path, r_path):
    """The cached (or freshly computed) true k-NN distances."""
    path = oracle_path(x_path, r_path, str(X.dtype), k)
    if os.path.exists(path):
        return np.load(path)
    result = true_knn_distances(X, R, k)
    tmp = f"{path}.{os.getpid()}.tmp.npy"
    np.save(tmp, result)
    os.replace(tmp, path)
    return result


def check(X, R, truth, counts, cols):
    """Fraction of exact rows, and the worst relative excess of a k-th distance."""
    n, k = truth.shape
    full = counts == k
    rows = np.repeat(np.arange(n), counts)
    dist = pair_distances(X, R, rows, cols)
    found = np.full((n, k), np.inf)
    keep = full[rows]
    found[full] = np.sort(dist[keep].reshape(-1, k), axis=1)
    exact = full & np.all(
        np.abs(found - truth) <= 1e-12 * np.maximum(truth, 1e-300), axis=1
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        excess = np.where(full, (found[:, -1] - truth[:, -1]) / truth[:, -1], np.inf)
    worst = float(np.nanmax(excess)) if n else 0.0
    return {
        "exact_rows": float(exact.mean()) if n else 1.0,
        "rows_without_k": int((~full).sum()),
        "worst_kth_excess": worst,
    }
