"""Matching: where do short queries sit inside a long reference (an archive)?

Three steps per query, each linear in what it reads:

1. **Index features.**  The archive and the query are pooled by ``pool``
   frames (mean), prepared for the metric (cosine: unit frames) and
   time-delay stacked by ``n_steps`` pooled frames: a feature describes
   ``pool * n_steps`` frames of music, far more distinctive than one frame
   when an archive repeats the same chords thousands of times.  The
   archive's features are indexed once, in ``fit``, by skxsim's engine (any
   backend; approximate ones for long archives).
2. **Votes for windows.**  Each query feature's ``n_neighbors`` nearest
   archive features vote, for every tempo ratio ``rho`` of a geometric grid
   over ``tempo_range`` (archive frames per query frame), for the archive
   position of the query's middle that the pair implies,
   ``j - rho * (i - middle)``, in bins of ``bin_width`` pooled frames; each
   query feature votes once per bin.  Anchoring at the middle halves the
   error a ratio between two grid values makes.  Peaks (best ratio per bin,
   summed over three adjacent bins) are taken greedily, each suppressing
   the positions within half a match of it: the candidate windows.
3. **Alignment.**  Each window (the voted span, widened by a quarter of its
   length on both sides) gets a subsequence DTW of the full-resolution
   query (free start and end in the window), coarse to fine as in
   :mod:`._multiscale`.  Matches are ranked by cost per query frame.

:class:`Archive` is the fitted state (the indexed excerpts and the frames
windows are cut from) and :func:`match_query` the work of one query, given
everything it reads as arguments; :class:`~._matcher.Matcher` is the
estimator face over them.

Orientation: scikit-learn, rows are frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._neighbors import fit_index, kneighbors
from .._output_size import check_output_size
from ._frames import pool, prepare, pyramid
from ._multiscale import DTWParams, Multiscale

# The metric of the neighbour index for each DTW metric (sqeuclidean has
# the euclidean distance's neighbours).
INDEX_METRIC = {
    "chord": "cosine",
    "cosine": "cosine",
    "euclidean": "euclidean",
    "sqeuclidean": "euclidean",
}
# A window extends the voted span by this fraction of it on each side: the
# tempo may drift inside a query, and the ratio grid is coarse.
WINDOW_MARGIN = 0.25
# The archive's excerpts indexed: every ARCHIVE_STRIDE-th.
ARCHIVE_STRIDE = 2
# Ratio grid step (factor between neighbouring ratios).
RATIO_STEP = 1.04
# A peak needs this many votes (query features) to become a window.
MIN_VOTES = 2
# Without votes, a reference at most this many times the query's length is
# searched whole.
WHOLE_REFERENCE = 8
# Two matches overlapping by more than this fraction of the shorter are one.
MAX_OVERLAP = 0.5


@dataclass(frozen=True)
class VoteParams:
    n_neighbors: int
    tempo_range: tuple[float, float]
    bin_width: int
    n_candidates: int


def index_features(X: np.ndarray, metric: str, pool_by: int, n_steps: int):
    """Pooled, prepared, stacked frames: row ``t`` covers pooled frames
    ``t .. t + n_steps - 1``.  float32 (the index's dtype)."""
    pooled = prepare(pool(np.asarray(X, dtype=np.float64), pool_by), metric).frames
    n = pooled.shape[0] - n_steps + 1
    if n < 1:
        raise ValueError(
            f"a sequence of {X.shape[0]} frames is shorter than one index "
            f"feature (pool={pool_by} x n_steps={n_steps} frames)."
        )
    stacked = np.empty((n, pooled.shape[1] * n_steps), dtype=np.float32)
    d = pooled.shape[1]
    for step in range(n_steps):
        stacked[:, step * d : (step + 1) * d] = pooled[step : step + n]
    return stacked


def ratios(tempo_range) -> np.ndarray:
    """The tempo ratios voted for: geometric, both ends included."""
    low, high = tempo_range
    count = max(1, int(np.ceil(np.log(high / low) / np.log(RATIO_STEP)))) + 1
    return np.geomspace(low, high, count)


def vote_windows(
    neighbors, stride, n_query_features, n_ref_features, params: VoteParams
):
    """Candidate windows ``(center, ratio)`` in pooled frames, best first.

    ``neighbors`` holds ``n_neighbors`` archive features per query feature
    ``0, stride, 2 * stride, ...``, row after row.
    """
    k = params.n_neighbors
    rho = ratios(params.tempo_range)
    width = params.bin_width
    n_bins = n_ref_features // width + 1
    i = np.arange(0, n_query_features, stride, dtype=np.float64)
    j = np.asarray(neighbors, dtype=np.float64).reshape(i.size, k)
    middle = (n_query_features - 1) / 2
    check_output_size(
        2 * 8 * rho.size * j.size,
        f"the votes of {i.size} query excerpts x {k} neighbours at "
        f"{rho.size} tempo ratios",
        "Use a narrower tempo_range, a smaller n_neighbors or a shorter query.",
    )
    # (ratio, query feature, neighbour) -> bin of the query's middle.
    centers = j[None] - (rho[:, None] * (i - middle))[:, :, None]
    bins = np.floor(centers / width).astype(np.int64)
    # Once per query feature and bin: sorted along the neighbours, a bin
    # equal to the one before it is a repeat.
    bins.sort(axis=2)
    first = np.ones(bins.shape, dtype=bool)
    first[:, :, 1:] = bins[:, :, 1:] != bins[:, :, :-1]
    keep = first & (bins >= 0) & (bins < n_bins)
    cells = (np.arange(rho.size)[:, None, None] * n_bins + bins)[keep]
    votes = np.bincount(cells, minlength=rho.size * n_bins).reshape(rho.size, n_bins)
    smooth = votes.copy()
    smooth[:, 1:] += votes[:, :-1]
    smooth[:, :-1] += votes[:, 1:]
    best_ratio = np.argmax(smooth, axis=0)
    score = smooth[best_ratio, np.arange(n_bins)]
    windows = []
    for _ in range(params.n_candidates):
        b = int(np.argmax(score))
        if score[b] < MIN_VOTES:
            break
        r = rho[best_ratio[b]]
        windows.append(((b + 0.5) * width, r))
        half = int(np.ceil(r * n_query_features / 2 / width))
        score[max(0, b - half) : b + half + 1] = -1
    return windows


def window_bounds(center, ratio, n_query, n_ref):
    """Archive frames ``[lo, hi)`` around a voted centre: the span the query
    covers at ``ratio``, widened by ``WINDOW_MARGIN`` of it on each side."""
    half = ratio * n_query / 2
    margin = WINDOW_MARGIN * 2 * half
    lo = int(max(0, np.floor(center - half - margin)))
    hi = int(min(n_ref, np.ceil(center + half + margin) + 1))
    if hi - lo < 2:
        lo = max(0, min(lo, n_ref - 2))
        hi = lo + 2
    return lo, hi


def best_matches(found, n_matches: int):
    """The ``n_matches`` cheapest of ``(start, end, cost)``, dropping one that
    overlaps a cheaper match by more than half of the shorter."""
    kept = []
    for start, end, cost in sorted(found, key=lambda m: (m[2], m[0])):
        overlaps = any(
            min(end, e) - max(start, s) + 1 > MAX_OVERLAP * min(end - start, e - s)
            for s, e, _ in kept
        )
        if not overlaps:
            kept.append((start, end, cost))
        if len(kept) == n_matches:
            break
    starts = np.array([m[0] for m in kept], dtype=np.int64)
    ends = np.array([m[1] for m in kept], dtype=np.int64)
    costs = np.array([m[2] for m in kept], dtype=np.float64)
    return starts, ends, costs


@dataclass
class Archive:
    """The fitted state of a matcher: the neighbour index of the archive's
    excerpts (every ``ARCHIVE_STRIDE``-th), their count, and the frames the
    windows are cut from (in the input dtype, converted to float64 a window
    at a time)."""

    frames: np.ndarray
    metric: str
    pool: int
    n_steps: int
    n_excerpts: int
    method: str
    index: object

    @classmethod
    def build(
        cls, X, metric, pool_by, n_steps, *, algorithm, algorithm_params, memory, k
    ):
        """Index ``X`` (validated, at least one excerpt long); ``"auto"``
        resolves to the fastest exact backend for ``k`` neighbours, and the
        engine checks ``algorithm`` and ``algorithm_params``."""
        features = index_features(X, metric, pool_by, n_steps)
        method, index = fit_index(
            features[::ARCHIVE_STRIDE],
            metric=INDEX_METRIC[metric],
            k=k,
            algorithm=algorithm,
            algorithm_params=algorithm_params,
            memory=memory,
        )
        return cls(
            np.ascontiguousarray(X),
            metric,
            pool_by,
            n_steps,
            features.shape[0],
            method,
            index,
        )


def match_query(
    query,
    archive: Archive,
    votes: VoteParams,
    dtw: DTWParams,
    coarse_frames: int,
    n_matches: int,
):
    """``(starts, ends, costs)`` of one validated float64 query."""
    metric, pool_by, n_steps = archive.metric, archive.pool, archive.n_steps
    features = index_features(query, metric, pool_by, n_steps)
    k = min(votes.n_neighbors, archive.index.n_samples_fit_)
    # Overlapping excerpts: every other one of a long stack says little new.
    stride = max(1, n_steps)
    neighbors = kneighbors(archive.index, features[::stride], k, n_jobs=1, values=False)
    windows = vote_windows(
        neighbors.indices * ARCHIVE_STRIDE,
        stride,
        features.shape[0],
        archive.n_excerpts,
        VoteParams(**{**votes.__dict__, "n_neighbors": k}),
    )
    query_levels = pyramid(query, metric, coarse_frames)
    n_query, n_ref = query.shape[0], archive.frames.shape[0]
    # Feature t covers frames t * pool .. (t + n_steps) * pool - 1.
    bounds = [
        window_bounds((center + n_steps / 2) * pool_by, ratio, n_query, n_ref)
        for center, ratio in windows
    ]
    if not bounds and n_ref <= WHOLE_REFERENCE * n_query:
        # Too few excerpts to vote (a reference a few times the query):
        # search all of it.
        bounds = [(0, n_ref)]
    searches = []
    for lo, hi in bounds:
        window = np.asarray(archive.frames[lo:hi], dtype=np.float64)
        # Pooled as the query is, so that coarse costs compare across windows.
        levels = pyramid(window, metric, 0, n_levels=len(query_levels))
        searches.append(
            (
                lo,
                Multiscale(query_levels, levels, dtw, subsequence=True, rank_only=True),
            )
        )
    # Refine the windows cheapest at the coarsest level, until n_matches
    # distinct matches and one more window are in.
    searches.sort(key=lambda item: item[1].cost)
    found = []
    for lo, search in searches:
        if (
            len(found) > n_matches
            and len(best_matches(found, n_matches)[0]) == n_matches
        ):
            break
        path, cost = search.finish()
        found.append((lo + int(path[0, 1]), lo + int(path[-1, 1]), cost / n_query))
    return best_matches(found, n_matches)
