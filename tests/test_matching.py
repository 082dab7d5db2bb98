"""Matching (``Matcher``): planted subsequences found, subsequence DTW
against the oracle and librosa, backends, Dask, errors."""

import pickle

import numpy as np
import pytest
from _dtw_oracle import dtw as oracle_dtw
from sklearn.base import clone

from skxsim import Matcher
from skxsim._alignment._frames import pyramid
from skxsim._alignment._multiscale import DTWParams, multiscale_dtw


def chord_archive(rng, n_chords, frames_per_chord=12, d=12):
    """Chroma-like frames: chords from a small vocabulary (so that the same
    frames recur all over the archive), a melody note every few frames."""
    vocabulary = rng.random((24, d)) ** 3
    chords = vocabulary[rng.integers(0, 24, n_chords)]
    frames = np.repeat(chords, frames_per_chord, axis=0)
    melody = rng.integers(0, d, len(frames) // 4 + 1)
    frames[np.arange(len(frames)), np.repeat(melody, 4)[: len(frames)]] += 0.8
    return frames + 0.05 * rng.random(frames.shape)


def played(rng, archive, start, n_ref_frames, ratio, noise=0.05):
    """``archive[start : start + n_ref_frames]`` played ``ratio`` times as
    fast (``ratio`` reference frames per query frame), with noise."""
    n = int(round(n_ref_frames / ratio))
    positions = start + np.arange(n) * ratio
    frames = archive[np.minimum(np.rint(positions).astype(int), len(archive) - 1)]
    return frames + noise * rng.random(frames.shape)


@pytest.fixture(scope="module")
def archive():
    return chord_archive(np.random.default_rng(0), 1500)  # 18000 frames


@pytest.fixture(scope="module")
def matcher(archive):
    return Matcher().fit(archive)


@pytest.mark.parametrize("ratio", [0.75, 1.0, 1.3])
@pytest.mark.parametrize("seed", range(3))
def test_finds_planted_subsequences(archive, matcher, ratio, seed):
    rng = np.random.default_rng(seed)
    start = int(rng.integers(0, len(archive) - 1000))
    length = int(rng.integers(500, 900))
    query = played(rng, archive, start, length, ratio)
    starts, ends, costs = matcher.match(query, n_matches=3)
    assert abs(starts[0] - start) <= 2
    assert abs(ends[0] - (start + length - 1)) <= 3
    assert np.all(np.diff(costs) >= 0) and len(starts) == len(ends) == len(costs)


def test_several_matches_best_first(archive):
    rng = np.random.default_rng(5)
    # The same passage twice in the archive, the second copy noisier.
    passage = archive[3000:3600]
    doubled = archive.copy()
    doubled[12000:12600] = passage + 0.15 * rng.random(passage.shape)
    query = played(rng, doubled, 3000, 600, 1.1)
    starts, ends, costs = Matcher().fit(doubled).match(query, n_matches=2)
    assert abs(starts[0] - 3000) <= 2 and abs(starts[1] - 12000) <= 2
    assert costs[0] < costs[1]


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "sqeuclidean"])
@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0), (1.0, 2.0, 2.0)])
def test_subsequence_dtw_equals_oracle_and_librosa(rng, metric, weights):
    reference, query = rng.random((45, 6)), rng.random((17, 6))
    levels = [pyramid(x, metric, 10**6) for x in (query, reference)]
    params = DTWParams(metric=metric, step_weights=weights)
    path, cost = multiscale_dtw(*levels, params, subsequence=True)
    expected_path, expected_cost = oracle_dtw(query, reference, metric, weights, True)
    np.testing.assert_array_equal(path, expected_path)
    assert cost == pytest.approx(expected_cost, rel=1e-12)
    librosa = pytest.importorskip("librosa")
    D, wp = librosa.sequence.dtw(
        X=query.T,
        Y=reference.T,
        metric=metric,
        weights_mul=np.array(weights),
        subseq=True,
    )
    np.testing.assert_array_equal(path, wp[::-1])
    assert cost == pytest.approx(D[-1].min(), rel=1e-12)


def test_multiscale_subsequence_close_to_full(rng):
    archive = chord_archive(rng, 150)
    query = played(rng, archive, 400, 700, 1.2, noise=0.2)
    params = DTWParams(metric="cosine")
    full = multiscale_dtw(
        *[pyramid(x, "cosine", 10**6) for x in (query, archive)], params, True
    )
    fast = multiscale_dtw(
        *[pyramid(x, "cosine", 40) for x in (query, archive)], params, True
    )
    assert full[1] <= fast[1] <= 1.005 * full[1]


@pytest.mark.parametrize("algorithm", ["hnsw", "kd_tree"])
def test_every_backend_finds_the_match(archive, algorithm):
    if algorithm != "kd_tree":
        pytest.importorskip({"hnsw": "hnswlib", "nndescent": "pynndescent"}[algorithm])
    rng = np.random.default_rng(11)
    query = played(rng, archive, 7000, 700, 0.9)
    matcher = Matcher(algorithm=algorithm).fit(archive)
    assert matcher._fit_method == algorithm
    starts, ends, _ = matcher.match(query)
    assert abs(starts[0] - 7000) <= 2 and abs(ends[0] - 7699) <= 3


def test_match_many_equals_match_and_runs_on_dask(archive, matcher, dask_client):
    import joblib

    rng = np.random.default_rng(2)
    queries = [
        played(rng, archive, int(s), 600, r)
        for s, r in zip(
            rng.integers(0, 17000, 5), [0.8, 1.0, 1.2, 0.9, 1.3], strict=True
        )
    ]
    one_by_one = [matcher.match(q, n_matches=2) for q in queries]
    local = matcher.match_many(queries, n_matches=2)
    with joblib.parallel_config(backend="dask"):
        on_dask = matcher.match_many(queries, n_matches=2, n_jobs=2)
    for expected, a, b in zip(one_by_one, local, on_dask, strict=True):
        for e, x, y in zip(expected, a, b, strict=True):
            np.testing.assert_array_equal(x, e)
            np.testing.assert_array_equal(y, e)


def test_float32_archive_gives_the_float64_result(archive):
    rng = np.random.default_rng(4)
    query = played(rng, archive, 2000, 500, 1.1)
    a = Matcher().fit(archive.astype(np.float32)).match(query.astype(np.float32))
    b = (
        Matcher()
        .fit(archive.astype(np.float32).astype(np.float64))
        .match(query.astype(np.float32).astype(np.float64))
    )
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_pickle_and_clone(archive, matcher):
    query = played(np.random.default_rng(3), archive, 500, 400, 1.0)
    copy = pickle.loads(pickle.dumps(matcher))
    for x, y in zip(copy.match(query), matcher.match(query), strict=True):
        np.testing.assert_array_equal(x, y)
    assert clone(matcher).get_params() == matcher.get_params()


# -- errors -------------------------------------------------------------------


def test_bad_queries(archive, matcher):
    with pytest.raises(ValueError, match="more than the 18000"):
        matcher.match(np.vstack([archive, archive[:5]]))
    with pytest.raises(ValueError, match="at least 2 frames"):
        matcher.match(archive[:1])
    with pytest.raises(ValueError, match="features"):
        matcher.match(archive[:100, :5])
    with pytest.raises(ValueError, match="NaN"):
        matcher.match(np.full((100, 12), np.nan))
    with pytest.raises(ValueError, match="n_matches"):
        matcher.match(archive[:100], n_matches=0)
    with pytest.raises(ValueError, match=r"queries\[1\]"):
        matcher.match_many([archive[:100], archive[:1]])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"tempo_range": (1.4, 0.7)}, "tempo_range"),
        ({"tempo_range": (0, 1)}, "tempo_range"),
        ({"pool": 0}, "pool"),
        ({"metric": "manhattan"}, "metric"),
        ({"algorithm": "kd_tree", "algorithm_params": {"M": 4}}, "algorithm_params"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        Matcher(**params).fit(np.random.default_rng(0).random((100, 12)))


def test_short_reference_reduces_the_excerpt():
    matcher = Matcher(pool=4, n_steps=4).fit(np.random.default_rng(0).random((6, 3)))
    assert (matcher.pool_, matcher.n_steps_) == (4, 1)
    starts, ends, _ = matcher.match(np.random.default_rng(1).random((4, 3)))
    assert 0 <= starts[0] <= ends[0] < 6
