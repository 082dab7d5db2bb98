"""Matching: where do short queries sit inside a long reference (an archive)?

Per query:

1. **Candidates** (:mod:`._candidates`).  The archive's excerpts (pooled,
   stacked frames) are indexed once, in ``fit``, by skxsim's engine (any
   backend; approximate ones for long archives).  The query's excerpts, at
   every pooling phase, look up their nearest archive excerpts, and each
   (tempo ratio, position) is scored by how well its hits explain the
   query: the best positions are the candidate windows.
2. **Ranking.**  Each window gets a subsequence DTW of the query at the
   coarsest level of the pyramids (:mod:`._multiscale`): a cheap estimate
   of its cost (stopped once the window is known to rank below the best
   ``n_matches + 1``, finished only if the ranking reaches it).
3. **Refinement.**  The windows cheapest there, until ``n_matches`` distinct
   matches and one more are in (one match asked: not the next when the
   best by score and by rank leads it by ``CLEAR_LEAD``), are searched
   coarse to fine; each match kept gets the exact subsequence DTW of
   :func:`._proof.proven_dtw` (the optimum within the window, proven),
   started from that path; a window whose optimal path starts or ends at
   its edge is widened and solved again.  A match's cost is the true
   subsequence DTW cost of its span, per query frame.

A query with at most as many excerpts as pooling phases (``pool *
ARCHIVE_STRIDE``: a copy of an archive passage needs an excerpt at every
phase to have one made of an indexed excerpt's frames), or whose DTW
against the whole archive is small (``SCAN_CELLS``), is aligned against it
instead (exact, in chunks).  Frames are divided by the power of two of the
engine's exact paths (:func:`._frames.frame_scale`) before any cost is
computed, and costs are given back in the data's units.

:class:`Archive` is the fitted state and :func:`match_query` the work of
one query, given everything it reads as arguments;
:class:`~._matcher.Matcher` is the estimator face over them.

Orientation: scikit-learn, rows are frames.
"""

from __future__ import annotations

import bisect
import heapq
from dataclasses import dataclass, field

import numpy as np

from .._neighbors import divided, fit_index, kneighbors, pow2_peak
from ._aligner import DEFAULT_BUDGET
from ._candidates import (
    ARCHIVE_STRIDE,
    VoteParams,
    candidate_windows,
    gains,
    index_features,
    query_features,
    query_offsets,
)
from ._dtw import subsequence_cost
from ._frames import (
    Level,
    frame_scale,
    pool,
    prepare,
    pyramid,
    scaled_weights,
    unscaled_cost,
)
from ._multiscale import DTWParams, Multiscale
from ._proof import proven_dtw

# The metric of the neighbour index for each DTW metric (sqeuclidean has
# the euclidean distance's neighbours).
INDEX_METRIC = {
    "chord": "cosine",
    "cosine": "cosine",
    "euclidean": "euclidean",
    "sqeuclidean": "euclidean",
}
# A query whose DTW against the whole archive has at most this many cells
# is aligned against all of it (about 20 ms).
SCAN_CELLS = 1 << 22
# Cells of one exact DTW of a scan (one byte each).
SCAN_CHUNK_CELLS = 1 << 24
# Without candidates, a reference at most this many times the query's
# length is searched whole.
WHOLE_REFERENCE = 8
# Two matches overlapping by more than this fraction of the shorter are one.
MAX_OVERLAP = 0.5
# The best window by score and by rank is not checked against the next by
# rank when that ranks this fraction worse (on held-out renders the next
# never won when it ranked worse at all).
CLEAR_LEAD = 0.1
# A span is refined in a window widened by 1 / REFINE_MARGIN of the query
# on each side.
REFINE_MARGIN = 8
# Widenings of a window whose optimal path runs to its edge.
EDGE_ROUNDS = 4


def best_matches(found, n_matches: int):
    """The ``n_matches`` cheapest of ``(start, end, cost)``, dropping one that
    overlaps a cheaper match by more than half of the shorter."""
    kept = []
    for start, end, cost in sorted(found, key=lambda m: (m[2], m[0], m[1])):
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
    excerpts (every ``ARCHIVE_STRIDE``-th), their count, the frames the
    windows are cut from (in the input dtype, converted to float64 a window
    at a time), their peak ``|value|``, the power of two the euclidean
    metrics' excerpts were divided by, and the archive pooled by powers of
    two (computed at first use: the windows' ranking cuts them)."""

    frames: np.ndarray
    metric: str
    pool: int
    n_steps: int
    n_excerpts: int
    method: str
    index: object
    peak: float
    index_scale: float
    pooled: dict = field(default_factory=dict)

    @classmethod
    def build(
        cls, X, metric, pool_by, n_steps, *, algorithm, algorithm_params, memory, k
    ):
        """Index ``X`` (validated, at least one excerpt long); ``"auto"``
        resolves to the fastest exact backend for ``k + 1`` neighbours, and
        the engine checks ``algorithm`` and ``algorithm_params``."""
        X = np.ascontiguousarray(X)
        peak = max(float(np.max(X)), -float(np.min(X)))  # no |X| temporary
        index_scale = 1.0 if metric in ("cosine", "chord") else pow2_peak(X)
        features = index_features(X, metric, pool_by, n_steps, index_scale)
        method, index = fit_index(
            features[::ARCHIVE_STRIDE],
            metric=INDEX_METRIC[metric],
            k=k + 1,
            algorithm=algorithm,
            algorithm_params=algorithm_params,
            memory=memory,
        )
        return cls(
            X,
            metric,
            pool_by,
            n_steps,
            features.shape[0],
            method,
            index,
            peak,
            index_scale,
        )

    def pooled_by(self, depth: int, scale: float) -> Level:
        """The frames pooled by ``2**depth`` from frame 0, divided by
        ``scale`` and prepared for the metric (row by row: a slice of it is
        the slice prepared)."""
        key = (depth, scale)
        if key not in self.pooled:
            pooled = divided(pool(self.frames, 1 << depth), scale)
            self.pooled[key] = prepare(pooled, self.metric)
        return self.pooled[key]


class Solver:
    """The subsequence DTWs of one query against parts of the archive, on
    frames divided by the power of two of both (as :class:`Aligner`'s)."""

    def __init__(self, query, archive: Archive, dtw: DTWParams, coarse_frames: int):
        self.archive, self.n = archive, query.shape[0]
        self.n_ref = archive.frames.shape[0]
        self.metric = dtw.metric
        self.scale = frame_scale(self.metric, query, np.array([archive.peak]))
        weights, self.w_scale = scaled_weights(dtw.step_weights)
        self.params = DTWParams(
            metric=self.metric,
            step_weights=weights,
            radius=dtw.radius,
            start_weight=1.0 / self.w_scale,
        )
        self.levels = pyramid(divided(query, self.scale), self.metric, coarse_frames)
        self.paths = {}  # (start, end): the cheapest coarse-to-fine path found

    def window(self, lo, hi, n_levels):
        frames = divided(self.archive.frames[lo:hi], self.scale)
        return pyramid(frames, self.metric, 0, n_levels=n_levels)

    def rank(self, lo, hi, abandon=np.inf) -> tuple[float, float]:
        """A window's cost at the coarsest level of the query (subsequence
        DTW through the archive pooled as much, from frame 0): its rank; as
        ``(inf, lower bound)`` once it is known to exceed ``abandon``."""
        depth = len(self.levels) - 1
        coarse = self.archive.pooled_by(depth, self.scale)
        rows = slice(lo >> depth, ((hi - 1) >> depth) + 1)
        Q = self.levels[-1]
        frames = (Q.frames, coarse.frames[rows], Q.zero, coarse.zero[rows])
        weights = (*self.params.kernel_args(), self.params.start_weight)
        return subsequence_cost(*frames, *weights, abandon)

    def ranked(self, bounds, n_best):
        """The windows ``(lo, hi, rank)`` by increasing rank (ties: by ``lo``,
        ``hi``), lazily.  The search of a window stops once it is known to
        rank below ``n_best`` windows already ranked; it is finished only
        if the windows ranked above it run out."""
        heap, costs = [], []
        for lo, hi in bounds:
            limit = costs[n_best - 1] if len(costs) >= n_best else np.inf
            cost, bound = self.rank(lo, hi, limit)
            # At one value, a bound (0) comes out before a cost (1).
            heap.append((bound, int(np.isfinite(cost)), lo, hi))
            if np.isfinite(cost):
                bisect.insort(costs, cost)
        heapq.heapify(heap)
        while heap:
            value, known, lo, hi = heapq.heappop(heap)
            if known:
                yield lo, hi, value
            else:
                heapq.heappush(heap, (self.rank(lo, hi)[0], 1, lo, hi))

    def multiscale(self, lo, hi):
        """``(start, end)`` of the coarse-to-fine subsequence path in
        ``[lo, hi)``, and its cost (an upper bound of the window's optimum)."""
        levels = self.window(lo, hi, len(self.levels))
        path, cost = Multiscale(self.levels, levels, self.params, True).finish()
        path = path + np.array([0, lo])
        span = int(path[0, 1]), int(path[-1, 1])
        # Kept for the refinement: an upper bound of any window holding it.
        if span not in self.paths or cost < self.paths[span][1]:
            self.paths[span] = (path, cost)
        return *span, cost

    def exact(self, lo, hi, full=False, known=None):
        """``(start, end, cost per query frame)`` of the optimal subsequence
        path in archive frames ``[lo, hi)``: with ``full`` (a scan's chunk,
        at most ``SCAN_CHUNK_CELLS`` cells) full DTW, else the proven pruned
        search (cheaper around a near-optimal path), from ``known`` (a path
        in the window, archive frames, and its cost) if given."""
        if full:
            query, levels = self.levels[:1], self.window(lo, hi, 1)
        else:
            query, levels = self.levels, self.window(lo, hi, len(self.levels))
        if known is not None:
            known = (known[0] - np.array([0, lo]), known[1])
        path, cost, _ = proven_dtw(
            query, levels, self.params, True, DEFAULT_BUDGET, known
        )
        cost = unscaled_cost(cost, self.metric, self.scale, self.w_scale)
        return lo + int(path[0, 1]), lo + int(path[-1, 1]), cost / self.n

    def refine(self, start, end):
        """:meth:`exact` around a span, the window widened while the optimal
        path runs to its edge."""
        margin = max(self.n // REFINE_MARGIN, 16)
        lo, hi = max(0, start - margin), min(self.n_ref, end + margin + 1)
        known = self.paths.get((start, end))
        for _ in range(EDGE_ROUNDS):
            start, end, cost = self.exact(lo, hi, known=known)
            known = None
            grow = max(self.n // 2, (hi - lo) // 2)
            new_lo = max(0, lo - grow) if start == lo else lo
            new_hi = min(self.n_ref, hi + grow) if end == hi - 1 else hi
            if (new_lo, new_hi) == (lo, hi):
                break
            lo, hi = new_lo, new_hi
        return start, end, cost

    def scan(self, lo, hi, span):
        """The best match in ``[lo, hi)`` by full DTW, in chunks of at most
        ``SCAN_CHUNK_CELLS`` cells overlapping by ``span`` frames (a match
        no longer than that lies in one of them)."""
        length = max(SCAN_CHUNK_CELLS // self.n, 2 * span)
        best = None
        for a in range(lo, hi, max(length - span, 1)):
            b = min(a + length, hi)
            if b - a >= 2:
                found = self.exact(a, b, full=True)
                if best is None or found[2] < best[2]:
                    best = found
            if b == hi:
                break
        return best

    def scan_all(self, n_matches, span):
        """The ``n_matches`` best disjoint matches of the whole archive."""
        pieces = {(0, self.n_ref): None}
        found = []
        while len(found) < n_matches and pieces:
            for piece, best in pieces.items():
                if best is None:
                    pieces[piece] = self.scan(*piece, span) or (0, 0, np.inf)
            piece = min(pieces, key=lambda p: (pieces[p][2], p))
            start, end, cost = pieces.pop(piece)
            if not np.isfinite(cost):
                break
            found.append((start, end, cost))
            for part in ((piece[0], start), (end + 1, piece[1])):
                if part[1] - part[0] >= 2:
                    pieces[part] = None
        return found


def match_query(
    query,
    archive: Archive,
    votes: VoteParams,
    dtw: DTWParams,
    coarse_frames: int,
    n_matches: int,
):
    """``(starts, ends, costs)`` of one validated float64 query."""
    solver = Solver(query, archive, dtw, coarse_frames)
    n_query, n_ref = query.shape[0], archive.frames.shape[0]
    excerpt = archive.pool * archive.n_steps
    n_phases = archive.pool * ARCHIVE_STRIDE
    if n_query < excerpt + n_phases or n_query * n_ref <= SCAN_CELLS:
        span = int(np.ceil(2 * votes.tempo_range[1] * n_query)) + 2
        return best_matches(solver.scan_all(n_matches, span), n_matches)
    bounds = windows(query, archive, votes)
    if not bounds and n_ref <= WHOLE_REFERENCE * n_query:
        # Too few excerpts to vote (a reference a few times the query):
        # search all of it.
        bounds = [(0, n_ref)]
    # Coarse to fine in the best windows by their candidates' score and in
    # the windows cheapest at the coarsest level, until n_matches distinct
    # matches and one more are in (pooling frames loses a match where the
    # frames vary fast, a score where the music repeats); then the exact
    # optimum around each match kept.
    first = bounds[:n_matches]
    found = [solver.multiscale(lo, hi) for lo, hi in first]
    ranked = solver.ranked(bounds, n_matches + 1)
    lead = None  # the rank of the best window, when it is also the first
    while not (
        len(found) > n_matches and len(best_matches(found, n_matches)[0]) == n_matches
    ):
        lo, hi, rank = next(ranked, (None, None, None))
        if lo is None:
            break
        if (lo, hi) in first:
            if len(found) == 1:
                lead = rank
            continue
        if lead is not None and rank > (1 + CLEAR_LEAD) * lead:
            # One match asked, and the best window both by its candidates'
            # score and by rank leads the next clearly: its match stands.
            break
        found.append(solver.multiscale(lo, hi))
    starts, ends, _ = best_matches(found, n_matches)
    exact = [solver.refine(s, e) for s, e in zip(starts, ends, strict=True)]
    return best_matches(exact, n_matches)


def windows(query, archive: Archive, votes: VoteParams):
    """The candidate windows ``[lo, hi)`` of a query, best first."""
    metric, pool_by, n_steps = archive.metric, archive.pool, archive.n_steps
    excerpt = pool_by * n_steps
    period = pool_by * ARCHIVE_STRIDE
    offsets = query_offsets(query.shape[0] - excerpt + 1, period)
    features = query_features(
        query, offsets, metric, pool_by, n_steps, archive.index_scale
    )
    n_index = archive.index.n_samples_fit_
    k = min(votes.n_neighbors, n_index)
    found = kneighbors(archive.index, features, min(k + 1, n_index), n_jobs=1)
    hits = found.indices.reshape(offsets.size, -1)
    gain, order = gains(found.distances.reshape(offsets.size, -1), k)
    return candidate_windows(
        np.take_along_axis(hits, order, axis=1),
        gain,
        offsets,
        query.shape[0],
        archive.frames.shape[0],
        (period, excerpt),
        votes,
    )
