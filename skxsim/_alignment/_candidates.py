"""Candidate windows of a matcher: where in the archive a query may sit.

The archive's *excerpts* (``pool`` frames averaged into one, ``n_steps``
of those stacked: ``pool * n_steps`` frames of music) are indexed at every
``ARCHIVE_STRIDE``-th pooled frame, that is every ``P = pool *
ARCHIVE_STRIDE`` frames, from frame 0.  A copy of an archive passage
starting at frame ``s`` has, at query offset ``t``, an excerpt made of
exactly an indexed excerpt's frames only where ``s + t`` is a multiple of
``P``.  So the query's excerpts are taken at offsets that run through every
*phase* ``t mod P`` (every offset for short queries, a stride prime to
``P`` for long ones): some phase class of them coincides with the index.

Each query excerpt ``f`` looks up its ``k + 1`` nearest archive excerpts.
For a tempo ratio ``rho`` (archive frames per query frame) a hit at archive
excerpt ``a`` puts the query's middle at ``a * P + rho * (mid - t)``, in a
bin of ``W`` frames (two grids, the second shifted by half a bin, so that
hits spread over up to half a bin fall into one bin of one of them).  A bin
is scored by how well it explains the query: excerpt ``f`` gains ``cap_f -
d``, ``d`` its distance to its nearest hit in the bin and ``cap_f`` its
``(k + 1)``-th neighbour's (nothing not returned is nearer), 0 without a
hit; once per excerpt and bin.  ``cap_f - gain`` is a lower bound on ``f``'s
distance to the excerpts of the bin, so more neighbours make the score
sharper, not flatter.  The score of ``(rho, bin)`` is the mean of the
excerpts' mean gain and the best phase class's mean gain (an exact copy's
coinciding class gains its whole cap).  Per bin the best ratio (ties to the
ratio nearest 1), then the best bins, at least half a match apart, are the
candidate windows.

Orientation: scikit-learn, rows are frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd

import numpy as np

from .._output_size import check_output_size
from . import _votes
from ._frames import pool, prepare

# The archive's excerpts indexed: every ARCHIVE_STRIDE-th pooled frame.
ARCHIVE_STRIDE = 2
# Ratio grid step (factor between neighbouring ratios).
RATIO_STEP = 1.06
# At most about this many query excerpts are looked up (the default
# excerpts are 80 frames long: 64 of them cover any query many times).
MAX_QUERY_EXCERPTS = 64
# A window extends the span at the voted ratio by this fraction of it on
# each side (and by a bin): the tempo may drift inside a query, and the
# ratio grid is coarse.
WINDOW_MARGIN = 0.25
# What every hit gains besides its distance's gain (a fraction of the cap).
TIE_GAIN = 1e-6
# The largest value of an index feature (float32) of a query at another
# scale than the archive: its squares and sums stay finite.
FEATURE_LIMIT = 2.0**60


@dataclass(frozen=True)
class VoteParams:
    n_neighbors: int
    tempo_range: tuple[float, float]
    bin_width: int
    n_candidates: int


def stacked(pooled: np.ndarray, n_steps: int) -> np.ndarray:
    """Row ``t``: pooled frames ``t .. t + n_steps - 1`` side by side
    (float32, the index's dtype)."""
    n = pooled.shape[0] - n_steps + 1
    d = pooled.shape[1]
    out = np.empty((max(n, 0), d * n_steps), dtype=np.float32)
    for step in range(n_steps):
        out[:, step * d : (step + 1) * d] = pooled[step : step + n]
    return out


def index_features(X, metric: str, pool_by: int, n_steps: int, scale: float = 1.0):
    """The excerpts of ``X`` from frame 0: pooled, prepared for the metric
    and stacked; row ``t`` covers frames ``t * pool_by .. (t + n_steps) *
    pool_by - 1``.  The euclidean metrics' frames are divided by ``scale``
    (a power of two: the float32 features stay in range)."""
    X = np.asarray(X, dtype=np.float64)
    if scale != 1.0:
        X = X / scale
    pooled = prepare(pool(X, pool_by), metric).frames
    if metric not in ("cosine", "chord"):
        pooled = np.clip(pooled, -FEATURE_LIMIT, FEATURE_LIMIT)
    return stacked(pooled, n_steps)


def query_offsets(n_excerpts: int, period: int) -> np.ndarray:
    """Query offsets (frames) of the excerpts looked up: every one up to
    ``MAX_QUERY_EXCERPTS``, else a stride prime to ``period`` (so that
    successive excerpts run through every phase)."""
    stride = max(1, -(-n_excerpts // MAX_QUERY_EXCERPTS))
    while gcd(stride, period) != 1:
        stride += 1
    return np.arange(0, n_excerpts, stride)


def query_features(query, offsets, metric, pool_by, n_steps, scale):
    """The excerpts of the query starting at frames ``offsets``."""
    out = None
    for phase in range(pool_by):
        mine = offsets[offsets % pool_by == phase]
        if mine.size == 0:
            continue
        features = index_features(query[phase:], metric, pool_by, n_steps, scale)
        if out is None:
            out = np.empty((offsets.size, features.shape[1]), dtype=np.float32)
        out[offsets % pool_by == phase] = features[(mine - phase) // pool_by]
    return out


def ratios(tempo_range) -> np.ndarray:
    """The tempo ratios scored: powers of ``RATIO_STEP`` (1 among them when
    the range holds it) covering the range, its ends included."""
    low, high = tempo_range
    step = np.log(RATIO_STEP)
    m = np.arange(np.ceil(np.log(low) / step), np.floor(np.log(high) / step) + 1)
    grid = RATIO_STEP**m
    grid = grid[(grid > low) & (grid < high)]
    return np.unique(np.concatenate([[low], grid, [high]]))


def gains(distances: np.ndarray, k: int):
    """Per query excerpt, its ``k`` hits' gains ``cap - d`` (hits nearest
    first) and their order: ``cap`` is the ``(k + 1)``-th distance, or with
    every archive excerpt returned the largest.  Each gain is raised by
    ``TIE_GAIN`` of the cap (and the smallest normal number), so that hits
    all at one distance still count, as votes."""
    order = np.argsort(distances, axis=1, kind="stable")
    d = np.take_along_axis(distances, order, axis=1)
    cap = d[:, min(k, d.shape[1] - 1)]
    gain = cap[:, None] - d[:, :k]
    gain += TIE_GAIN * cap[:, None] + np.finfo(np.float64).tiny
    return gain, order[:, :k]


def bin_scores(hits, gain, offsets, n_query, params: VoteParams, geometry):
    """The scores ``(n_ratios, n_bins)`` of the two bin grids (bin ``b``
    centred at ``(b + 0.5) * width`` and at ``b * width``), and the ratios.
    ``geometry``: ``(period, excerpt_frames, n_bins)``.  The compiled
    kernel (``_votes.bin_scores``) places the hits and sums their gains."""
    period, excerpt, n_bins = geometry
    rho = ratios(params.tempo_range)
    n_f, k = hits.shape
    phase = offsets % period
    n_phase = np.bincount(phase, minlength=period).astype(np.float64)
    check_output_size(
        16 * rho.size * n_bins + 24 * period * n_bins + 24 * hits.size,
        f"the scores of {n_f} query excerpts x {k} neighbours at "
        f"{rho.size} tempo ratios",
        "Use a narrower tempo_range, a smaller n_neighbors or a shorter query.",
    )
    # Hits by archive position: for one ratio and excerpt the half-bins are
    # then non-decreasing, and each run of equal ones is one (excerpt,
    # half-bin), whose nearest hit has the largest gain.
    order = np.argsort(hits, axis=1, kind="stable")
    scores = _votes.bin_scores(
        np.ascontiguousarray(np.take_along_axis(hits, order, axis=1), dtype=np.int64),
        np.ascontiguousarray(np.take_along_axis(gain, order, axis=1), dtype=np.float64),
        offsets.astype(np.float64),
        phase.astype(np.int64),
        rho,
        0.5 / np.maximum(n_phase, 1),
        (n_query - excerpt) / 2,
        period,
        float(params.bin_width),
        n_bins,
    )
    return list(scores), rho


def candidate_windows(hits, gain, offsets, n_query, n_ref, excerpt, params):
    """Candidate windows ``[lo, hi)`` (archive frames), best first."""
    period, excerpt_frames = excerpt
    width = params.bin_width
    n_bins = n_ref // width + 2
    scores, rho = bin_scores(
        hits, gain, offsets, n_query, params, (period, excerpt_frames, n_bins)
    )
    # Ties between ratios go to the one nearest 1.
    by_closeness = np.argsort(np.abs(np.log(rho)), kind="stable")
    values, centers, ratio = [], [], []
    for shift, score in enumerate(scores):
        best = by_closeness[np.argmax(score[by_closeness], axis=0)]
        value = score[best, np.arange(n_bins)]
        top = np.argsort(-value, kind="stable")[: 2 * params.n_candidates]
        top = top[value[top] > 0]
        values.append(value[top])
        centers.append((top + 0.5 - shift / 2) * width)
        ratio.append(rho[best[top]])
    values, centers, ratio = map(np.concatenate, (values, centers, ratio))
    halves = ratio * (n_query / 2)
    # Best first; among equals, the ratio nearest 1, then the earliest.
    order = np.lexsort((ratio, centers, np.abs(np.log(ratio)), -values))
    centers, halves = centers[order], halves[order]
    # Greedily the best peaks at least half a match from every one chosen:
    # each choice rules out the peaks nearer than the shorter half-span.
    taken = np.zeros(centers.size, dtype=bool)
    chosen = []
    for i in range(centers.size):
        if len(chosen) == params.n_candidates:
            break
        if not taken[i]:
            chosen.append(i)
            taken |= np.abs(centers - centers[i]) < np.minimum(halves, halves[i])
    middle = (excerpt_frames - 1) / 2
    return [
        window_bounds(float(centers[i]) + middle, float(halves[i]), width, n_ref)
        for i in chosen
    ]


def window_bounds(middle, half, width, n_ref):
    """Archive frames ``[lo, hi)`` around the query's middle at ``middle``:
    the span of ``2 * half`` frames, widened by ``WINDOW_MARGIN`` of it and
    a bin on each side."""
    margin = WINDOW_MARGIN * 2 * half + width
    lo = int(max(0, np.floor(middle - half - margin)))
    hi = int(min(n_ref, np.ceil(middle + half + margin) + 1))
    if hi - lo < 2:
        lo = max(0, min(lo, n_ref - 2))
        hi = lo + 2
    return lo, hi
