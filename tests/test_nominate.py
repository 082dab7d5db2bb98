"""The compiled nomination pass (``_nominate.pyx``) against brute force.

Each row's answer is checked on its own against numpy: the k-th smallest
score and every column within the margin of it, in column order, on rows
made to break a running threshold (descending scores, ties, excluded +inf
columns, fewer finite columns than k, margins that round in float32).
"""

import numpy as np
import pytest
from _brute import cdist, knn

from skxsim import CrossSimilarity
from skxsim._neighbors._nominate import row_candidates


def brute_candidates(S, k, margin):
    counts, cols, kth, doubt, seen = [], [], [], [], 0
    for row, slack in zip(S, margin, strict=True):
        finite = np.isfinite(row)
        t = np.partition(row, k - 1)[k - 1] if finite.sum() >= k else np.inf
        within = finite & (row.astype(np.float64) <= np.float64(t) + slack)
        counts.append(within.sum())
        cols.append(np.flatnonzero(within))
        kth.append(t)
        if counts[-1] > k:  # not certainly among the k: not below t - slack
            values = row[within].astype(np.float64)
            doubt.append(seen + np.flatnonzero(values >= np.float64(t) - slack))
        seen += counts[-1]
    return (
        np.array(counts),
        np.concatenate(cols),
        np.array(kth, dtype=S.dtype),
        np.concatenate(doubt + [np.empty(0, np.intp)]),
    )


def rows_to_break(rng, dtype):
    """(S, k, margin) cases, each (b, m) C-contiguous in ``dtype``."""
    S = rng.standard_normal((30, 500))
    yield S, 7, np.zeros(30)
    yield S, 7, np.full(30, 0.3)  # wide margins: many candidates
    yield np.sort(S, axis=1)[:, ::-1].copy(), 20, np.full(30, 1e-3)  # descending
    yield np.sort(S, axis=1).copy(), 20, np.full(30, 1e-3)
    ties = np.round(S * 2) / 2
    yield ties, 11, np.zeros(30)
    yield ties, 60, np.full(30, 0.5)
    excluded = S.copy()
    excluded[rng.random(S.shape) < 0.9] = np.inf  # about 50 finite a row
    yield excluded, 45, np.full(30, 1e-2)
    yield excluded, 80, np.zeros(30)  # fewer finite columns than k
    yield S[:, :40].copy(), 9, np.full(30, 1e-2)  # too short for a group bound
    yield S, 500, np.zeros(30)  # k = m
    yield S, 1, rng.random(30)
    # Neighbours late in the row (a sequence's own time): the bound first.
    late = np.linspace(10, 0, 500)[None, :] + 0.01 * rng.standard_normal((30, 500))
    yield late, 25, np.full(30, 1e-3)
    # The selections by histogram (the group bound, each compaction's k-th):
    # an outlier that makes every bucket wide, values across sixty decades,
    # a group of columns all excluded (+inf minimum), a row all equal.
    wide = S.copy()
    wide[:, 5], wide[:, 17] = 1e30, -1e30
    yield wide, 7, np.full(30, 1e-3)
    spread = np.sign(S) * 10.0 ** rng.uniform(-30, 30, S.shape)
    yield spread, 7, np.zeros(30)
    yield spread, 20, np.full(30, 1e-20)
    group = S.copy()
    group[:, 3::14] = np.inf
    yield group, 7, np.full(30, 1e-2)
    yield np.ones((3, 500)), 7, np.zeros(3)
    # Many candidates near the k-th, a few far below: compactions select
    # inside one bucket.
    near = 1 + 1e-6 * rng.standard_normal((30, 500))
    near[:, ::50] = -5.0
    yield near, 40, np.full(30, 1e-6)
    # Scores one float32 ulp apart at the margin's edge.
    edge = np.full((4, 300), 2.0)
    edge[:, ::3] = np.nextafter(np.float32(2), np.float32(3))
    edge[:, 7] = 1.0
    yield edge, 1, np.full(4, 1.0)
    yield edge, 2, np.full(4, 2.0**-23)
    # Long rows read once in chunks of 32 (lengths off the chunk and at the
    # edges of the group bound's use), neighbours clustered in a few chunks
    # or late in the row.
    for m, k in [(5003, 180), (1440, 180), (1439, 180), (64, 7), (65, 8), (997, 1)]:
        long = rng.standard_normal((8, m))
        long[:, ::7] += 3
        yield long, k, np.full(8, 1e-3)
        yield np.linspace(10, 0, m)[None, :] + 0.01 * long, k, np.full(8, 1e-3)
        clustered = 5 + long
        clustered[:, m // 3 : m // 3 + k] -= 5
        yield clustered, k, np.full(8, 1e-2)
    # Ranges the float32 histogram cannot bucket in float32 (wider than
    # 1e38, narrower than 1e-30): bucketed in float64.
    yield S * 3e37, 7, np.zeros(30)
    yield 1 + S * 1e-36, 7, np.zeros(30)
    yield S * 1e-34, 7, np.zeros(30)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_candidates_match_brute_force(rng, dtype):
    for S, k, margin in rows_to_break(rng, dtype):
        S = np.ascontiguousarray(S, dtype=dtype)
        counts, cols, scores, kth, doubt = row_candidates(S, k, margin)
        want_counts, want_cols, want_kth, want_doubt = brute_candidates(S, k, margin)
        np.testing.assert_array_equal(counts, want_counts)
        np.testing.assert_array_equal(cols, want_cols)
        np.testing.assert_array_equal(kth, want_kth)
        np.testing.assert_array_equal(doubt, want_doubt)
        rows = np.repeat(np.arange(S.shape[0]), counts)
        np.testing.assert_array_equal(scores, S[rows, cols])
        assert scores.dtype == kth.dtype == dtype
        # Over the limit: None, never a partial answer.
        if cols.size:
            assert row_candidates(S, k, margin, cols.size - 1) is None
            assert row_candidates(S, k, margin, cols.size)[1].size == cols.size


def test_row_candidates_refuse_bad_arguments():
    S = np.zeros((3, 5))
    with pytest.raises(ValueError, match="k must be at least 1"):
        row_candidates(S, 0, np.zeros(3))
    with pytest.raises(ValueError, match="one margin per row"):
        row_candidates(S, 1, np.zeros(2))
    counts, cols, _, kth, doubt = row_candidates(np.zeros((0, 5)), 2, np.zeros(0))
    assert counts.size == cols.size == kth.size == doubt.size == 0


@pytest.mark.parametrize("d", [12, 70])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_engine_neighbours_match_brute_force(rng, dtype, d):
    """Every block goes through the compiled pass (chroma-like and wide
    frames): the neighbours are cdist's k smallest, ties to the lower
    column, on data with repeated, near-repeated and zero frames (and, for
    euclidean, frames on a grid: many exact ties between distinct frames;
    for cosine those would tie only before the frames are normalised)."""
    for metric in ("euclidean", "cosine"):
        R = rng.standard_normal((600, d))
        if metric == "euclidean":
            R = np.round(R * 2) / 2
        R[::9] = R[4]
        R[::13] = 0
        X = np.vstack([R[:40] + 1e-6 * rng.standard_normal((40, d)), R[100:160]])
        R, X = R.astype(dtype), X.astype(dtype)
        D = cdist(X.astype(np.float64), R.astype(np.float64), metric)
        if metric == "cosine":  # a zero frame: at distance 1 from every frame
            D[np.isnan(D)] = 1.0
        for k in (1, 12, 90):
            graph = CrossSimilarity(k=k, metric=metric).fit(R).transform(X)
            got = np.split(graph.indices, graph.indptr[1:-1])
            np.testing.assert_array_equal(np.array(got), knn(D, k))
