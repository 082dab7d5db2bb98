"""Dynamic time warping written out cell by cell: the oracle of the tests.

Full matrices (small pairs only), the recurrence exactly as the docs state
it, no banding, no pooling.  Orientation: rows are query frames.
"""

import numpy as np
from scipy.spatial.distance import cdist


def local_costs(query, reference, metric):
    """The ``(n, m)`` local cost matrix; zero frames at cosine distance 1
    (chord: the euclidean distance of unit vectors, ``sqrt(2)`` there)."""
    query = np.asarray(query, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if metric == "chord":
        # The euclidean distance of unit vectors (sqrt(2 - 2 cos) cancels
        # near equal directions); zero frames at sqrt(2) from everything.
        q_norm = np.linalg.norm(query, axis=1, keepdims=True)
        r_norm = np.linalg.norm(reference, axis=1, keepdims=True)
        C = cdist(
            query / np.where(q_norm == 0, 1, q_norm),
            reference / np.where(r_norm == 0, 1, r_norm),
        )
        C[(q_norm == 0)[:, 0][:, None] | (r_norm == 0)[:, 0][None, :]] = np.sqrt(2)
        return C
    if metric != "cosine":
        return cdist(query, reference, metric)
    q_norm = np.linalg.norm(query, axis=1)
    r_norm = np.linalg.norm(reference, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        C = 1 - (query @ reference.T) / np.outer(q_norm, r_norm)
    C[(q_norm == 0)[:, None] | (r_norm == 0)[None, :]] = 1.0
    return C


def accumulate(C, weights=(1.0, 1.0, 1.0), subsequence=False):
    """Forward accumulated costs ``D`` and the step taken into each cell
    (0 diagonal, 1 reference step, 2 query step, 3 start)."""
    w_diag, w_ref, w_query = weights
    n, m = C.shape
    D = np.full((n, m), np.inf)
    step = np.full((n, m), -1)
    for i in range(n):
        for j in range(m):
            if i == 0 and (subsequence or j == 0):
                D[i, j], step[i, j] = C[i, j], 3
            moves = [
                (i - 1, j - 1, w_diag, 0),
                (i, j - 1, w_ref, 1),
                (i - 1, j, w_query, 2),
            ]
            for a, b, w, s in moves:
                if a >= 0 and b >= 0 and D[a, b] + w * C[i, j] < D[i, j]:
                    D[i, j], step[i, j] = D[a, b] + w * C[i, j], s
    return D, step


def dtw(
    query, reference, metric="euclidean", weights=(1.0, 1.0, 1.0), subsequence=False
):
    """``(path, cost)`` of full DTW (subsequence: free start and end in the
    reference, ending at the first column of the smallest cost)."""
    C = local_costs(query, reference, metric)
    D, step = accumulate(C, weights, subsequence)
    n, m = C.shape
    end = int(np.argmin(D[-1])) if subsequence else m - 1
    i, j, path = n - 1, end, []
    while True:
        path.append((i, j))
        s = step[i, j]
        if s == 3:
            break
        i, j = (i - 1, j - 1) if s == 0 else (i, j - 1) if s == 1 else (i - 1, j)
    return np.array(path[::-1]), float(D[n - 1, end])


def path_cost(query, reference, path, metric="euclidean", weights=(1.0, 1.0, 1.0)):
    """The cost of a given path, step by step."""
    C = local_costs(query, reference, metric)
    w = {(1, 1): weights[0], (0, 1): weights[1], (1, 0): weights[2]}
    total = C[tuple(path[0])]
    for a, b in zip(path[:-1], path[1:], strict=True):
        total += w[tuple(b - a)] * C[tuple(b)]
    return float(total)


def dtw_cost(
    query, reference, metric="euclidean", weights=(1.0, 1.0, 1.0), subsequence=False
):
    """The cost of :func:`dtw`, anti-diagonal by anti-diagonal (vectorised,
    for pairs too large for the cell-by-cell loop): the same recurrence and
    sums, and the same ``n x m`` matrix in memory."""
    C = local_costs(query, reference, metric)
    w_diag, w_ref, w_query = weights
    n, m = C.shape
    D = np.full((n + 1, m + 1), np.inf)  # cell (i, j) at D[i + 1, j + 1]
    for s in range(n + m - 1):
        i = np.arange(max(0, s - m + 1), min(n, s + 1))
        j = s - i
        c = C[i, j]
        best = np.minimum(D[i, j] + w_diag * c, D[i + 1, j] + w_ref * c)
        best = np.minimum(best, D[i, j + 1] + w_query * c)
        start = (i == 0) & ((j == 0) | subsequence)
        best[start] = np.minimum(best[start], c[start])
        D[i + 1, j + 1] = best
    return float(D[n, 1:].min() if subsequence else D[n, m])
