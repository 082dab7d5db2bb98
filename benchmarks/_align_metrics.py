"""The alignment and matching metrics, defined once for every method.

A *path* is an ``(n_steps, 2)`` int array of (query frame, reference frame)
pairs (skxsim's orientation; every method's output is converted to it).

* **MAE** (ms): for each query frame with a true reference time, the
  path's predicted reference time is the mean of the reference frames the
  path pairs with it, times ``hop / sr``; the MAE is the mean absolute
  difference to the truth over those frames.  Frames without a truth (B's
  lead-ins and tails, see ``_align_data``) are left out; a query frame the
  path never visits counts as an error (the path is then reported invalid).
* **path cost**: librosa's accumulated cost of the path under skxsim's
  default cost (``COST_METRIC``, ``COST_WEIGHTS``): the chord distance
  between unit-length frames, ``sqrt(2 * cosine distance)`` (a zero frame
  at cosine distance 1), ``C[0, 0] + sum of weight(step) * C[cell]`` with
  weights 1 (diagonal), 1.5, 1.5, computed here in float64 from the
  frames.  Its ratio to full DTW's optimum under the same cost
  (``librosa.sequence.dtw(C=C, weights_mul=COST_WEIGHTS)`` ``D[-1, -1]``,
  computed separately) is 1 for an optimal path; every method's path is
  measured with it, whatever cost the method minimised.
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


COST_METRIC = "chord"
COST_WEIGHTS = (1.0, 1.5, 1.5)  # steps (1, 1), (0, 1), (1, 0)


def _unit(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = X.astype(np.float64)
    norms = np.linalg.norm(X, axis=1)
    return X / np.where(norms == 0, 1, norms)[:, None], norms == 0


def chord_costs(query, reference, rows, cols) -> np.ndarray:
    """The chord distance of the pairs ``(query[rows], reference[cols])``."""
    q, q_zero = _unit(query)
    r, r_zero = _unit(reference)
    out = np.empty(len(rows))
    for start in range(0, len(rows), 1 << 20):
        part = slice(start, start + (1 << 20))
        diff = q[rows[part]] - r[cols[part]]
        out[part] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    zero = q_zero[rows] | r_zero[cols]
    out[zero] = np.sqrt(2.0)
    return out


def chord_matrix(query, reference) -> np.ndarray:
    """Every chord distance ``(n, n_ref)`` (full DTW's ``C``)."""
    q, q_zero = _unit(query)
    r, r_zero = _unit(reference)
    C = np.sqrt(np.maximum(2.0 - 2.0 * (q @ r.T), 0.0))
    C[q_zero] = np.sqrt(2.0)
    C[:, r_zero] = np.sqrt(2.0)
    return C


def path_cost(path: np.ndarray, query: np.ndarray, reference: np.ndarray) -> float:
    """librosa's accumulated cost of ``path`` under the default cost."""
    path = np.asarray(path)
    cells = chord_costs(query, reference, path[:, 0], path[:, 1])
    steps = np.diff(path, axis=0)
    w_diag, w_ref, w_query = COST_WEIGHTS
    weights = np.where(
        (steps[:, 0] == 1) & (steps[:, 1] == 1),
        w_diag,
        np.where(steps[:, 0] == 0, w_ref, w_query),
    )
    return float(cells[0] + np.sum(weights * cells[1:]))


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
