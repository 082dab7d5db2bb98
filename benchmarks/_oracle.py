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


def true_knn(X, R, k):
    """(distances, columns), each (n, k): every query frame's k nearest.

    Distances are sorted per row; columns are the neighbours chosen by
    (distance, column), sorted by column (for comparing sets).
    """
    n, n_ref = X.shape[0], R.shape[0]
    X64 = np.ascontiguousarray(X, dtype=np.float64)
    R64 = np.ascontiguousarray(R, dtype=np.float64)
    r2 = np.einsum("ij,ij->i", R64, R64)
    x2 = np.einsum("ij,ij->i", X64, X64)
    margin = 1e-9 * (x2.max() + r2.max()) + 1e-300
    distances = np.empty((n, k))
    columns = np.empty((n, k), dtype=np.int64)
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
        order = np.lexsort((cols, dist, rows))
        rows, cols, dist = rows[order], cols[order], dist[order]
        starts = np.searchsorted(rows, np.arange(stop - start))
        first_k = (np.arange(rows.size) - starts[rows]) < k
        distances[start:stop] = dist[first_k].reshape(stop - start, k)
        columns[start:stop] = np.sort(cols[first_k].reshape(stop - start, k), axis=1)
    return distances, columns


def oracle_path(x_path, r_path, dtype, k):
    text = f"{os.path.basename(x_path)}|{os.path.basename(r_path)}|{dtype}|{k}"
    digest = hashlib.sha1(text.encode()).hexdigest()[:16]
    return os.path.join(_features.CACHE_DIR, f"oracle-{digest}.npz")


def oracle(X, R, k, x_path, r_path):
    """The cached (or freshly computed) true k-NN (distances, columns)."""
    path = oracle_path(x_path, r_path, str(X.dtype), k)
    if os.path.exists(path):
        with np.load(path) as stored:
            return stored["distances"], stored["columns"]
    distances, columns = true_knn(X, R, k)
    tmp = f"{path}.{os.getpid()}.tmp.npz"
    np.savez(tmp, distances=distances, columns=columns)
    os.replace(tmp, path)
    return distances, columns


def check(X, R, truth, counts, cols):
    """Fraction of exact rows, and the worst relative excess of a k-th distance.

    A row with the oracle's columns is exact; any other row with k
    neighbours is exact if their direct distances are the oracle's (a tie
    broken otherwise), which is computed for those rows only.
    """
    distances, columns = truth
    n, k = distances.shape
    full = counts == k
    found = np.full((n, k), -1, dtype=np.int64)
    keep = np.repeat(full, counts)
    found[full] = np.sort(cols[keep].reshape(-1, k), axis=1)
    exact = full & np.all(found == columns, axis=1)
    other = np.flatnonzero(full & ~exact)
    worst = 0.0 if (~full).sum() == 0 else np.inf
    if other.size:
        dist = pair_distances(X, R, np.repeat(other, k), found[other].ravel())
        dist = np.sort(dist.reshape(-1, k), axis=1)
        true = distances[other]
        exact[other] = np.all(np.abs(dist - true) <= 1e-12 * true, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            excess = (dist[:, -1] - true[:, -1]) / true[:, -1]
        if np.isfinite(worst):
            worst = max(worst, float(np.nanmax(excess)))
    return {
        "exact_rows": float(exact.mean()) if n else 1.0,
        "rows_without_k": int((~full).sum()),
        "worst_kth_excess": worst,
    }
