"""Matching finds what is there (issue 26): exact copies of any length at
any ``n_neighbors`` and ``tempo_range``, copies at another tempo, the
optimum of subsequence DTW over the whole archive (librosa's, independent of
our kernel), the true cost of the returned span, scaled inputs."""

import numpy as np
import pytest

from skxsim import Matcher
from skxsim._alignment import _matching

librosa = pytest.importorskip("librosa")

WEIGHTS = (1.0, 3.0, 3.0)  # the matcher's default step weights


@pytest.fixture
def index_path(monkeypatch):
    """Every query of at least two excerpts goes through the index and the
    candidate windows, not the exact scan of the whole archive."""
    monkeypatch.setattr(_matching, "SCAN_CELLS", 0)


def unit(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def librosa_costs(query, reference, subseq):
    """librosa's accumulated costs of the chord metric (euclidean between
    unit frames) with the matcher's weights: the last row (subsequence) or
    the last cell (whole reference)."""
    D = librosa.sequence.dtw(
        X=unit(query).T,
        Y=unit(reference).T,
        metric="euclidean",
        weights_mul=np.array(WEIGHTS),
        subseq=subseq,
        backtrack=False,
    )
    return D[-1] if subseq else D[-1, -1]


def planted(rng, archive, n, rate, noise):
    """``n`` frames of ``archive`` at ``rate`` archive frames per query
    frame (nearest frame), from a random start, plus gaussian noise."""
    start = int(rng.integers(0, len(archive) - int(np.ceil(n * rate)) - 1))
    positions = np.rint(start + np.arange(n) * rate).astype(int)
    return archive[positions] + noise * rng.standard_normal((n, archive.shape[1]))


@pytest.fixture(scope="module")
def archive():
    return np.random.default_rng(0).random((6000, 12))


def copy_starts(rng, archive, n, count=2):
    """Starts off the archive's pooling phases (not multiples of 4 or 10)."""
    starts = []
    while len(starts) < count:
        s = int(rng.integers(0, len(archive) - n))
        if s % 4 and s % 10:
            starts.append(s)
    return starts


@pytest.mark.parametrize("n_neighbors", [1, 5, 100, 6000, 10**9])
@pytest.mark.parametrize("tempo_range", [(0.7, 1.4), (0.9, 1.1), (1, 1), (0.5, 2)])
@pytest.mark.parametrize(
    "excerpt, lengths",
    [
        # the defaults' 80-frame excerpts (pool 10: 20 phases), and short
        # ones (pool 4: 8 phases), from the shortest query with an excerpt
        # at every phase (excerpt + phases frames) up
        ({}, (100, 101, 257, 800)),
        ({"pool": 4, "n_steps": 4}, (24, 32, 41, 100)),
    ],
)
def test_exact_copies_through_the_index(
    archive, index_path, n_neighbors, tempo_range, excerpt, lengths
):
    matcher = Matcher(n_neighbors=n_neighbors, tempo_range=tempo_range, **excerpt)
    matcher.fit(archive)
    rng = np.random.default_rng(n_neighbors % 97)
    for n in lengths:
        for s in copy_starts(rng, archive, n):
            starts, ends, costs = matcher.match(archive[s : s + n])
            assert (starts[0], ends[0], costs[0]) == (s, s + n - 1, 0.0), (n, s)


@pytest.mark.parametrize("n", [2, 8, 9, 13, 16, 31, 40, 200])
def test_short_queries_and_small_problems_are_scanned_exactly(archive, n):
    matcher = Matcher().fit(archive)
    for s in copy_starts(np.random.default_rng(n), archive, n):
        starts, ends, costs = matcher.match(archive[s : s + n])
        assert (starts[0], ends[0], costs[0]) == (s, s + n - 1, 0.0)


def test_several_matches_of_a_short_query_are_disjoint_and_first_optimal(archive):
    query = planted(np.random.default_rng(3), archive, 12, 1.0, 0.05)
    starts, ends, costs = Matcher().fit(archive).match(query, n_matches=4)
    assert len(starts) == 4 and np.all(np.diff(costs) >= 0)
    order = np.argsort(starts)
    assert np.all(starts[order][1:] > ends[order][:-1])
    optimum = librosa_costs(query, archive, subseq=True).min() / len(query)
    assert costs[0] == pytest.approx(optimum, rel=1e-9)


@pytest.mark.parametrize("rate", [0.8, 1.25])
def test_copies_at_another_tempo(archive, index_path, rate):
    # 0.8: every archive frame held 5/4 times; 1.25: one in five skipped.
    up, down = (5, 4) if rate == 0.8 else (4, 5)
    matcher = Matcher().fit(archive)
    for s in copy_starts(np.random.default_rng(7), archive, 600, 3):
        query = np.repeat(archive[s : s + 400], up, axis=0)[::down]
        last = s + (down * (len(query) - 1)) // up
        starts, ends, costs = matcher.match(query)
        assert (starts[0], ends[0]) == (s, last)
        optimum = librosa_costs(query, archive, subseq=True).min() / len(query)
        assert costs[0] == pytest.approx(optimum, rel=1e-9, abs=1e-12)


def test_top_match_is_the_optimum_of_the_whole_archive(index_path):
    """Queries of 40-320 frames at tempo 0.8-1.25 with noise: the top
    match's cost is exact subsequence DTW's optimum over the whole archive
    in all but at most one of 30 (the issue asks 99%; the full measurement
    is benchmarks/bench_matching_optimal.py), and in every case the true
    cost of the returned span."""
    rng = np.random.default_rng(1)
    archive = rng.random((10000, 12))
    matcher = Matcher().fit(archive)
    misses = []
    for _ in range(30):
        n = int(rng.integers(40, 321))
        rate = float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
        query = planted(rng, archive, n, rate, 0.1)
        starts, ends, costs = matcher.match(query)
        span = archive[starts[0] : ends[0] + 1]
        assert costs[0] * n == pytest.approx(librosa_costs(query, span, False), 1e-9)
        optimum = librosa_costs(query, archive, subseq=True).min() / n
        assert costs[0] >= optimum * (1 - 1e-9)
        if costs[0] > optimum * (1 + 1e-9):
            misses.append((n, rate))
    assert len(misses) <= 1, misses


@pytest.mark.parametrize(
    "metric, factor",
    [
        ("chord", 1e200),
        ("chord", 1e-200),
        ("cosine", 1e250),
        ("euclidean", 1e200),
        ("euclidean", 1e-200),
        ("sqeuclidean", 1e-100),
        ("sqeuclidean", 1e100),
    ],
)
@pytest.mark.parametrize("scan", [False, True])
def test_scaled_archive_and_query(archive, monkeypatch, metric, factor, scan):
    if not scan:
        monkeypatch.setattr(_matching, "SCAN_CELLS", 0)
    query = planted(np.random.default_rng(5), archive, 150, 1.1, 0.05)
    expected = Matcher(metric=metric).fit(archive).match(query, n_matches=2)
    got = Matcher(metric=metric).fit(archive * factor).match(query * factor, 2)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    power = {"euclidean": 1, "sqeuclidean": 2}.get(metric, 0)
    np.testing.assert_allclose(got[2], expected[2] * factor**power, rtol=1e-9)


def test_a_cost_beyond_float64_is_an_error(archive):
    query = archive[100:300] + 0.1
    matcher = Matcher(metric="sqeuclidean").fit(archive * 1e200)
    with pytest.raises(ValueError, match="float64's range"):
        matcher.match(query * 1e200)


def test_query_at_another_scale_than_the_archive(archive, index_path):
    for factor in (1e200, 1e-200):
        starts, ends, costs = (
            Matcher(metric="euclidean").fit(archive).match(archive[50:250] * factor)
        )
        assert len(starts) == 1 and np.isfinite(costs[0])


def test_docstring_example_at_any_n_neighbors():
    rng = np.random.default_rng(0)
    archive = rng.random((3000, 12))
    query = np.repeat(archive[1200:1500], 4, axis=0)[::5]
    for k in (1, 10**9):
        starts, ends, _ = Matcher(n_neighbors=k).fit(archive).match(query)
        assert (starts[0], ends[0]) == (1200, 1498)
