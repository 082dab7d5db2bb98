"""The alignment and matching metrics, defined once for every method.

A *path* is an ``(n_steps, 2)`` int array of (query frame, reference frame)
pairs (skxsim's orientation; every method's output is converted to it).

* **MAE** (ms): for each query frame with a true reference time, the
  path's predicted reference time is the mean of the reference frames the
  path pairs with it, times ``hop / sr``; the MAE is the mean absolute
  difference to the truth over those frames.  Frames without a truth (B's
  lead-ins and tails, see ``_align_data``) are left out; a query frame the
  path never visits counts as an error (the path is then reported invalid).
* **path cost**: librosa's accumulated cost of the path with unit weights,
  i.e. the sum of the cosine distances ``1 - <x, y> / (|x| |y|)`` over the
  path's cells, computed here in float64 from the frames.  Its ratio to
  full DTW's optimum (``librosa.sequence.dtw(X.T, Y.T, metric="cosine")``
  ``D[-1, -1]``, computed separately) is 1 for an optimal path.
* **valid**: the path starts at (0, 0), ends at (n - 1, n_ref - 1) and
  moves by (1, 0), (0, 1) or (1, 1) only.
* **matching**: a predicted match (start, end reference frames, inclusive)
  is correct when both ``start * hop / sr`` and ``end * hop / sr`` are
  within 1 s of the true start and end.
"""

from __future__ import annotations

import numpy as np

TOLERANCE_S = 1.0
STEPS = {(1, 0), (0, 1), (1, 1)}


def predicted_frames(path: np.ndarray, n: int) -> np.ndarray:
    """Mean reference frame paired with each of the ``n`` query frames (NaN if none)."""
    path = np.asarray(path)
    counts = np.bincount(path[:, 0], minlength=n)[:n]
    sums = np.bincount(path[:, 0], weights=path[:, 1], minlength=n)[:n]
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def mae_ms(path: np.ndarray, truth: np.ndarray, fps: float) -> float:
    """Mean absolute error (ms) of the path's reference times over true frames."""
    predicted = predicted_frames(path, len(truth)) / fps
    known = np.isfinite(truth)
    error = np.abs(predicted[known] - truth[known])
    # a frame the path skips is as wrong as it can be: the whole reference
    error[~np.isfinite(error)] = np.nanmax(truth)
    return float(1000 * error.mean())


def check_path(path: np.ndarray, n: int, n_ref: int) -> str:
    """ "" when the path is a valid global path, else what is wrong with it."""
    path = np.asarray(path)
    if path.ndim != 2 or path.shape[1] != 2 or len(path) == 0:
        return f"shape {path.shape}"
    if tuple(path[0]) != (0, 0):
        return f"starts at {tuple(int(x) for x in path[0])}"
    if tuple(path[-1]) != (n - 1, n_ref - 1):
        return f"ends at {tuple(int(x) for x in path[-1])}, not {(n - 1, n_ref - 1)}"
    steps = {tuple(s) for s in np.unique(np.diff(path, axis=0), axis=0).tolist()}
    if not steps <= STEPS:
        return f"steps {sorted(steps - STEPS)}"
    return ""


def path_cost(path: np.ndarray, query: np.ndarray, reference: np.ndarray) -> float:
    """Sum of cosine distances over the path's cells (float64), in blocks."""
    path = np.asarray(path)
    q = query.astype(np.float64)
    r = reference.astype(np.float64)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    r /= np.linalg.norm(r, axis=1, keepdims=True)
    total = 0.0
    for start in range(0, len(path), 1 << 20):
        block = path[start : start + (1 << 20)]
        total += float(
            np.sum(1.0 - np.einsum("ij,ij->i", q[block[:, 0]], r[block[:, 1]]))
        )
    return total


def match_correct(
    start: int, end: int, true_start: float, true_end: float, fps: float
) -> bool:
    return bool(
        abs(start / fps - true_start) <= TOLERANCE_S
        and abs(end / fps - true_end) <= TOLERANCE_S
    )


def summary(values) -> dict:
    """min, median, 90th percentile, max and count of a list of numbers."""
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    if v.size == 0:
        return {"n": 0}
    return {
        "n": int(v.size),
        "min": float(v.min()),
        "median": float(np.median(v)),
        "p90": float(np.percentile(v, 90)),
        "max": float(v.max()),
    }
