"""Coarse-to-fine DTW: exact at the coarsest level, banded above it.

Both sequences are pooled by 2 per level until each has at most
``coarse_frames`` frames (:func:`._frames.pyramid`); at that size full DTW
is cheap (at most ``coarse_frames**2`` cells, a fixed amount).  Its path is
projected on the next finer level, where each coarse cell covers up to 2 x 2
fine cells, and dilated by ``radius`` frames in both directions; banded DTW
there gives the next path, and so on to full resolution.  The band holds
``O((n + m) * radius)`` cells per level, so time and memory are linear in
the lengths.

Two guards against a band that misses the optimum:

- where the optimal path inside a band runs along the band's edge (not the
  matrix's), a better path may lie outside; the band is widened around
  those cells and the level recomputed, a few times at most;
- a coarse level can prefer another route than the finer ones where two
  routes cost nearly the same (a section unrelated to the other sequence, a
  repeat): at every coarse level a backward pass finds the cells that lie
  on a path within ``slack`` of the level's optimum, and the next band
  covers them too, with the widest slack that at most doubles the band.

On pairs small enough for full DTW, the test suite checks the result
against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._dtw import banded_dtw
from ._frames import METRIC_CODES, Level

# Rounds of widening at one level before the path is accepted as it is.
MAX_ROUNDS = 6
# Near-optimal regions are computed at these fractions of the slack, the
# widest one that fits the growth budget taken.
SLACK_STEPS = np.array([1 / 64, 1 / 16, 1 / 4, 1.0])


@dataclass(frozen=True)
class DTWParams:
    """What the kernel and the driver need besides the frames."""

    metric: str = "cosine"
    step_weights: tuple[float, float, float] = (1.0, 1.0, 1.0)
    radius: int = 16
    # Near-optimal regions: paths within this fraction of a coarse level's
    # optimum, as long as the band at most grows by ``growth``.  0.01 missed
    # the optimum by 0.9% on a cover pair with a replaced section where 0.05
    # found it (40 pairs, radius 8).
    slack: float = 0.05
    growth: float = 2.0
    # Multiplier of the start cell's cost: 1 (librosa), or the power of two
    # the step weights were divided by, inverted (``_frames.scaled_weights``).
    start_weight: float = 1.0

    def kernel_args(self):
        w_diag, w_ref, w_query = (float(w) for w in self.step_weights)
        return METRIC_CODES[self.metric], w_diag, w_ref, w_query


def full_band(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Every column on every row."""
    return np.zeros(n, dtype=np.intp), np.full(n, m - 1, dtype=np.intp)


def project_extents(coarse_lo, coarse_hi, f_query: int, f_ref: int, n: int, m: int):
    """Per fine row, the columns that the coarse cells ``[coarse_lo,
    coarse_hi]`` (per coarse row) cover.

    ``f_query`` and ``f_ref`` (1 or 2) are the pooling factors from the fine
    to the coarse level; fine row ``i`` lies in coarse row ``i // f_query``.
    """
    coarse_row = np.arange(n) // f_query
    lo = coarse_lo[coarse_row] * f_ref
    hi = np.minimum(coarse_hi[coarse_row] * f_ref + f_ref - 1, m - 1)
    return lo.astype(np.intp), hi.astype(np.intp)


def dilate(lo: np.ndarray, hi: np.ndarray, radius: int, m: int):
    """The band within ``radius`` rows and columns of the cells ``[lo, hi]``.

    ``lo`` and ``hi`` are non-decreasing, so the smallest ``lo`` within
    ``radius`` rows is ``radius`` rows up and the largest ``hi`` ``radius``
    rows down.
    """
    n = lo.size
    up = np.maximum(np.arange(n) - radius, 0)
    down = np.minimum(np.arange(n) + radius, n - 1)
    return np.maximum(lo[up] - radius, 0), np.minimum(hi[down] + radius, m - 1)


def edge_touches(path: np.ndarray, lo: np.ndarray, hi: np.ndarray, m: int):
    """Path rows on the band's left edge and on its right edge (where the
    band could extend: not the matrix's own edges)."""
    i, j = path[:, 0], path[:, 1]
    left = (j == lo[i]) & (lo[i] > 0)
    right = (j == hi[i]) & (hi[i] < m - 1)
    return i[left], i[right]


def widen(lo, hi, left_rows, right_rows, amount: int, m: int):
    """The band extended by ``amount`` columns within ``amount`` rows of the
    touched rows, kept monotone."""
    n = lo.size
    lo, hi = lo.copy(), hi.copy()
    for rows, side in ((left_rows, lo), (right_rows, hi)):
        if rows.size == 0:
            continue
        mark = np.zeros(n + 1, dtype=np.intp)
        np.add.at(mark, np.maximum(rows - amount, 0), 1)
        np.add.at(mark, np.minimum(rows + amount + 1, n), -1)
        near = np.cumsum(mark[:n]) > 0
        if side is lo:
            side[near] = np.maximum(side[near] - amount, 0)
        else:
            side[near] = np.minimum(side[near] + amount, m - 1)
    # Monotone again: lo non-decreasing (running minimum from the end), hi
    # non-decreasing (running maximum from the start).
    lo = np.minimum.accumulate(lo[::-1])[::-1]
    hi = np.maximum.accumulate(hi)
    return lo, hi


def band_cells(lo: np.ndarray, hi: np.ndarray) -> int:
    return int(np.sum(hi - lo + 1))


def run_kernel(Q: Level, R: Level, lo, hi, params: DTWParams, subsequence, slack=None):
    metric, w_diag, w_ref, w_query = params.kernel_args()
    return banded_dtw(
        Q.frames,
        R.frames,
        np.ascontiguousarray(lo, dtype=np.intp),
        np.ascontiguousarray(hi, dtype=np.intp),
        Q.zero,
        R.zero,
        metric,
        w_diag,
        w_ref,
        w_query,
        subsequence,
        slack,
        params.start_weight,
    )


def path_extents(path: np.ndarray):
    """Per row, the first and last columns of the path."""
    rows = path[:, 0]
    first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    last = np.r_[first[1:] - 1, rows.size - 1]
    return path[first, 1], path[last, 1]


def next_band(extents, f_query, f_ref, n, m, radius):
    """The band at the finer level around coarse per-row ``extents``."""
    lo, hi = project_extents(*extents, f_query, f_ref, n, m)
    # Extents of a union of monotone paths are monotone; the float32
    # rounding of the near-optimal test could break that by a cell.
    lo = np.minimum.accumulate(lo[::-1])[::-1]
    hi = np.maximum.accumulate(hi)
    return dilate(lo, hi, radius, m)


def level(Q, R, lo, hi, params: DTWParams, subsequence, slack):
    """Banded DTW at one level, widening where the path runs along the band.

    With ``slack`` (not at the finest level), also the extents per row of
    the near-optimal region at each slack value.
    """
    m = len(R)
    amount = max(params.radius, 1)
    for _ in range(MAX_ROUNDS):
        out = run_kernel(Q, R, lo, hi, params, subsequence, slack)
        left, right = edge_touches(out[0], lo, hi, m)
        if left.size == 0 and right.size == 0:
            break
        lo, hi = widen(lo, hi, left, right, amount, m)
        amount *= 2
    return out


class Multiscale:
    """One coarse-to-fine search of ``query`` through ``reference``
    (pyramids, finest first), started at the coarsest level on creation.

    The sequences may have different numbers of levels: the shorter pyramid
    repeats its coarsest level (pooling factor 1 there).  ``cost`` is the
    cost at the level reached, ``costs`` per level reached; :meth:`finish`
    refines to full resolution.
    """

    def __init__(
        self, query, reference, params: DTWParams, subsequence=False, rank_only=False
    ):
        self.query, self.reference = query, reference
        self.params, self.subsequence = params, subsequence
        self.slack = params.slack * SLACK_STEPS if params.slack > 0 else None
        self.level = max(len(query), len(reference)) - 1
        # The path's cost at each level reached (an upper bound there).
        self.costs: dict[int, float] = {}
        # rank_only: the coarsest cost is wanted first (to rank many
        # searches), the near-optimal regions only if the search goes on.
        Q, R = self._at(self.level)
        self._run(Q, R, *full_band(len(Q), len(R)), regions=not rank_only)

    def _at(self, lev):
        return (
            self.query[min(lev, len(self.query) - 1)],
            self.reference[min(lev, len(self.reference) - 1)],
        )

    def _run(self, Q, R, lo, hi, regions=True):
        # The finest level needs only the path.
        slack = self.slack if self.level and regions else None
        out = level(Q, R, lo, hi, self.params, self.subsequence, slack)
        self.path, self.cost = out[0], out[1]
        self.costs[self.level] = self.cost
        self.regions = [path_extents(out[0])]
        if len(out) == 4:
            self.regions += list(zip(out[2], out[3], strict=True))
        self._has_regions = slack is not None or not self.level

    def finish(self) -> tuple[np.ndarray, float]:
        """The path and cost at full resolution."""
        if not self._has_regions and self.slack is not None:
            Q, R = self._at(self.level)
            self._run(Q, R, *full_band(len(Q), len(R)))
        while self.level > 0:
            self.level -= 1
            Q, R = self._at(self.level)
            f_query = 2 if self.level + 1 < len(self.query) else 1
            f_ref = 2 if self.level + 1 < len(self.reference) else 1
            band = choose_band(
                self.regions, f_query, f_ref, len(Q), len(R), self.params
            )
            self._run(Q, R, *band)
        return self.path, self.cost


def multiscale_dtw(query, reference, params: DTWParams, subsequence=False):
    """The path and cost of ``query`` through ``reference`` (pyramids, finest
    first), coarse to fine."""
    return Multiscale(query, reference, params, subsequence).finish()


def choose_band(regions, f_query, f_ref, n, m, params):
    """The band around the widest near-optimal region that keeps the band
    within ``params.growth`` times the band around the path alone.

    ``regions[0]`` is the path's extents, then the regions by increasing
    slack.
    """
    lo, hi = next_band(regions[0], f_query, f_ref, n, m, params.radius)
    budget = params.growth * band_cells(lo, hi)
    for extents in regions[1:]:
        wider = next_band(extents, f_query, f_ref, n, m, params.radius)
        if band_cells(*wider) > budget:
            break
        lo, hi = wider
    return lo, hi
