"""Global alignment (``align``, ``Aligner``) against a cell-by-cell oracle,
librosa, and known synthetic warps."""

import pickle
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from _dtw_oracle import accumulate, local_costs, path_cost
from _dtw_oracle import dtw as oracle_dtw
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skxsim import Aligner, align
from skxsim._alignment._dtw import banded_dtw, subsequence_cost
from skxsim._alignment._frames import METRIC_CODES, prepare
from skxsim.alignment import ReferenceQuerySplit

METRICS = ["chord", "cosine", "euclidean", "sqeuclidean"]
WEIGHTS = [(1.0, 1.0, 1.0), (2.0, 1.0, 1.0), (1.0, 2.0, 3.0)]


def smooth_sequence(rng, n, d=12):
    """Frames that change smoothly: a random walk, low-pass filtered."""
    walk = np.cumsum(rng.standard_normal((n + 20, d)), axis=0)
    kernel = np.hanning(9) / np.hanning(9).sum()
    smooth = np.stack([np.convolve(walk[:, f], kernel, "valid") for f in range(d)], 1)
    return smooth[:n] - smooth[:n].mean(axis=0) + 3.0


def warped_copy(rng, reference, n, wiggle=0.3, noise=0.05):
    """``reference`` played along a smooth monotone time map, with noise.

    Returns the query and, per query frame, the (fractional) reference
    position it plays.
    """
    m = reference.shape[0]
    u = np.linspace(0, 1, n)
    phase = rng.uniform(0, 2 * np.pi)
    w = u + wiggle * (np.sin(2 * np.pi * u + phase) - np.sin(phase)) / (2 * np.pi)
    truth = (w - w[0]) / (w[-1] - w[0]) * (m - 1)
    query = np.stack(
        [
            np.interp(truth, np.arange(m), reference[:, f])
            for f in range(reference.shape[1])
        ],
        axis=1,
    )
    return query + noise * rng.standard_normal(query.shape), truth


def check_path(path, n, m):
    assert path.dtype == np.int64 and path.ndim == 2 and path.shape[1] == 2
    assert path[0].tolist() == [0, 0] and path[-1].tolist() == [n - 1, m - 1]
    steps = {tuple(s) for s in np.diff(path, axis=0)}
    assert steps <= {(1, 0), (0, 1), (1, 1)}


# -- the cost definition ------------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("weights", WEIGHTS)
def test_full_dtw_equals_oracle(rng, metric, weights):
    query, reference = rng.random((23, 5)), rng.random((31, 5))
    path, cost = align(query, reference, metric=metric, step_weights=weights)
    expected_path, expected_cost = oracle_dtw(query, reference, metric, weights)
    np.testing.assert_array_equal(path, expected_path)
    assert cost == pytest.approx(expected_cost, rel=1e-12)
    assert cost == pytest.approx(path_cost(query, reference, path, metric, weights))


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("weights", WEIGHTS)
def test_subsequence_cost_and_its_abandoning(rng, metric, weights):
    # The cost-only kernel (the matcher's ranking): the oracle's smallest
    # last-row cost, banded_dtw's over the full band bit for bit; asked to
    # abandon below the cost, a lower bound above the limit and no cost.
    # 43 reference frames: the kernel's tiles of eight columns and a rest.
    query, reference = rng.random((17, 5)), rng.random((43, 5))
    query[3] = 0.0  # a zero frame
    Q, R = prepare(query, metric), prepare(reference, metric)
    args = (Q.frames, R.frames, Q.zero, R.zero, METRIC_CODES[metric], *weights)
    D, _ = accumulate(local_costs(query, reference, metric), weights, True)
    cost, bound = subsequence_cost(*args)
    assert cost == bound == pytest.approx(D[-1].min(), rel=1e-12)
    lo, hi = np.zeros(17, dtype=np.intp), np.full(17, 42, dtype=np.intp)
    assert cost == banded_dtw(*args[:2], lo, hi, *args[2:], True)[1]
    rows = D.min(axis=1)  # non-decreasing: the bound of each row
    # Limits clear of the rounding: 0, between two row minima, below the cost.
    k = 5 + int(np.argmax(np.diff(rows[5:]) > 1e-9 * rows[6:]))
    for limit in (0.0, (rows[k] + rows[k + 1]) / 2, cost * (1 - 1e-9)):
        abandoned, bound = subsequence_cost(*args, abandon=limit)
        assert abandoned == np.inf and limit < bound <= cost
        assert bound == pytest.approx(rows[np.argmax(rows > limit)], rel=1e-12)
    assert subsequence_cost(*args, abandon=cost) == (cost, cost)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("weights", WEIGHTS)
def test_librosa_parity(rng, metric, weights):
    librosa = pytest.importorskip("librosa")
    query, reference = rng.random((40, 12)), rng.random((33, 12))
    path, cost = align(query, reference, metric=metric, step_weights=weights)
    X, Y = query.T, reference.T
    if metric == "chord":  # librosa's euclidean on unit vectors
        X, Y, metric = (
            X / np.linalg.norm(X, axis=0),
            Y / np.linalg.norm(Y, axis=0),
            "euclidean",
        )
    D, wp = librosa.sequence.dtw(X=X, Y=Y, metric=metric, weights_mul=np.array(weights))
    np.testing.assert_array_equal(path, wp[::-1])
    assert cost == pytest.approx(D[-1, -1], rel=1e-12)


@pytest.mark.parametrize("metric, unit", [("cosine", 1.0), ("chord", np.sqrt(2))])
def test_zero_frames_are_at_cosine_distance_one(metric, unit):
    reference = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    query = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 2.0]])
    path, cost = align(query, reference, metric=metric, step_weights=(1, 1, 1))
    # Every zero frame costs 1 (chord: sqrt(2)), even against another zero
    # frame: the two silent query frames cost that wherever they go.
    assert cost == 2.0 * unit
    np.testing.assert_array_equal(path, oracle_dtw(query, reference, metric)[0])


# -- multiscale against full DTW --------------------------------------------


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("metric", ["chord", "cosine", "euclidean"])
def test_multiscale_search_returns_full_dtws_optimum(seed, metric):
    # radius=8, half the default: the coarse-to-fine path is the optimum or
    # near it, the proof makes it the optimum.
    rng = np.random.default_rng(seed)
    reference = smooth_sequence(rng, 700)
    query, _ = warped_copy(rng, reference, int(700 * rng.uniform(0.8, 1.3)), 0.5, 0.3)
    if seed % 2:
        # A section of the query unrelated to the reference: competing paths.
        query[200:320] = smooth_sequence(rng, 120)
    _, full = align(query, reference, metric=metric, coarse_frames=2000)
    path, cost = align(query, reference, metric=metric, coarse_frames=40, radius=8)
    check_path(path, len(query), len(reference))
    assert cost == pytest.approx(full, rel=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_recovers_a_known_warp(seed):
    rng = np.random.default_rng(seed)
    reference = smooth_sequence(rng, 1500)
    query, truth = warped_copy(rng, reference, 1800, wiggle=0.6)
    aligner = Aligner(metric="euclidean", coarse_frames=100).fit(reference)
    assert aligner.n_levels_ == 5
    path, _ = aligner.align(query)
    check_path(path, 1800, 1500)
    error = np.abs(aligner.predict(query) - truth)
    assert error.max() <= 2 and error.mean() <= 0.5
    assert aligner.score(query, truth) == pytest.approx(-error.mean())


def test_score_leaves_out_frames_without_truth(rng):
    reference = smooth_sequence(rng, 300)
    query, truth = warped_copy(rng, reference, 320)
    aligner = Aligner().fit(reference)
    error = np.abs(aligner.predict(query) - truth)
    partial = truth.copy()
    partial[100:150] = np.nan
    keep = ~np.isnan(partial)
    assert aligner.score(query, partial) == pytest.approx(-error[keep].mean())
    with pytest.raises(ValueError, match="one true position per query frame"):
        aligner.score(query, truth[:-1])
    with pytest.raises(ValueError, match="finite"):
        aligner.score(query, np.full(320, np.nan))


def test_slopes_far_from_one():
    rng = np.random.default_rng(7)
    reference = smooth_sequence(rng, 3000)
    query, truth = warped_copy(rng, reference, 90, wiggle=0.0, noise=0.0)
    path, _ = align(query, reference, metric="euclidean", coarse_frames=64)
    check_path(path, 90, 3000)
    _, full = align(query, reference, metric="euclidean", coarse_frames=5000)
    path_t, cost_t = align(reference, query, metric="euclidean", coarse_frames=64)
    check_path(path_t, 3000, 90)
    assert cost_t == pytest.approx(full, rel=1e-9)


def test_near_optimal_region_matches_oracle(rng):
    """The kernel's near-optimal region: cells on a path within the slack."""
    from _dtw_oracle import accumulate, local_costs

    query, reference = rng.random((17, 3)), rng.random((21, 3))
    C = local_costs(query, reference, "sqeuclidean")
    forward, _ = accumulate(C)
    backward, _ = accumulate(C[::-1, ::-1])
    # Best path through a cell: forward to it plus backward from it, whose
    # own cost both include once.
    through = forward + backward[::-1, ::-1] - C
    slack = np.array([0.02, 0.1, 0.5])
    frames = [
        (level.frames, level.zero)
        for level in (prepare(x, "sqeuclidean") for x in (query, reference))
    ]
    n, m = C.shape
    _, cost, lo, hi = banded_dtw(
        frames[0][0],
        frames[1][0],
        np.zeros(n, np.intp),
        np.full(n, m - 1, np.intp),
        frames[0][1],
        frames[1][1],
        METRIC_CODES["sqeuclidean"],
        1.0,
        1.0,
        1.0,
        False,
        slack,
    )
    assert cost == pytest.approx(through.min())
    for k, s in enumerate(slack):
        inside = through <= cost * (1 + s)
        assert lo[k].tolist() == [np.flatnonzero(r)[0] for r in inside]
        assert hi[k].tolist() == [np.flatnonzero(r)[-1] for r in inside]


# -- determinism --------------------------------------------------------------


def test_float32_gives_the_result_of_its_float64_cast(rng):
    reference = smooth_sequence(rng, 600).astype(np.float32)
    query, _ = warped_copy(rng, reference.astype(np.float64), 500)
    query = query.astype(np.float32)
    a = align(query, reference, coarse_frames=50)
    b = align(query.astype(np.float64), reference.astype(np.float64), coarse_frames=50)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]


def test_threads_and_call_order_do_not_change_results(rng):
    reference = smooth_sequence(rng, 800)
    queries = [warped_copy(rng, reference, n)[0] for n in (500, 700, 900, 1100)]
    aligner = Aligner(coarse_frames=64).fit(reference)
    alone = [aligner.align(q) for q in queries]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(aligner.align, queries[::-1]))[::-1]
    for (p, c), (p2, c2) in zip(alone, threaded, strict=True):
        np.testing.assert_array_equal(p, p2)
        assert c == c2


# -- errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, reference, match",
    [
        (np.ones((1, 3)), np.ones((5, 3)), "at least 2 frames"),
        (np.ones((5, 3)), np.ones((1, 3)), "at least 2 frames"),
        (np.ones((5, 3)), np.ones((6, 4)), "features"),
        (np.full((5, 3), np.nan), np.ones((6, 3)), "NaN"),
        (np.ones((5, 3)), np.full((6, 3), np.inf), "infinity"),
        (np.ones((0, 3)), np.ones((6, 3)), "0 sample"),
    ],
)
def test_bad_sequences(query, reference, match):
    with pytest.raises(ValueError, match=match):
        align(query, reference)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"metric": "manhattan"}, "metric"),
        ({"radius": 0}, "radius"),
        ({"step_weights": (1, 1)}, "step_weights"),
        ({"step_weights": (1, 0, 1)}, "step_weights"),
        ({"step_weights": "abc"}, "step_weights"),
        ({"coarse_frames": 1}, "coarse_frames"),
    ],
)
def test_bad_parameters(rng, params, match):
    with pytest.raises(ValueError, match=match):
        Aligner(**params).fit(rng.random((10, 3)))


def test_feature_mismatch_and_refit_needed(rng):
    aligner = Aligner().fit(rng.random((10, 3)))
    with pytest.raises(ValueError, match="3 features"):
        aligner.align(rng.random((10, 4)))
    aligner.set_params(metric="euclidean")
    with pytest.raises(ValueError, match="(?i)fit again"):
        aligner.align(rng.random((10, 3)))


# -- the estimator in scikit-learn ------------------------------------------------


def test_pickle_round_trip_in_another_process(tmp_path, rng):
    reference = smooth_sequence(rng, 400)
    query, _ = warped_copy(rng, reference, 450)
    aligner = Aligner(coarse_frames=50).fit(reference, y=np.arange(400) / 43.0)
    expected = aligner.predict(query)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(aligner))
    np.save(tmp_path / "query.npy", query)
    code = f"""
        import pickle, joblib, numpy as np
        model = pickle.loads(open({str(tmp_path / "model.pkl")!r}, "rb").read())
        joblib.dump(model, {str(tmp_path / "model.joblib")!r})
        mapped = joblib.load({str(tmp_path / "model.joblib")!r}, mmap_mode="r")
        query = np.load({str(tmp_path / "query.npy")!r})
        np.save({str(tmp_path / "out.npy")!r}, np.stack(
            [model.predict(query), mapped.predict(query)]))
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    out = np.load(tmp_path / "out.npy")
    np.testing.assert_array_equal(out[0], expected)
    np.testing.assert_array_equal(out[1], expected)


def test_clone_keeps_parameters_and_drops_the_fit(rng):
    aligner = Aligner(metric="euclidean", radius=3, step_weights=(2, 1, 1))
    aligner.fit(rng.random((10, 3)))
    copy = clone(aligner)
    assert copy.get_params() == aligner.get_params()
    assert not hasattr(copy, "n_samples_fit_")


def test_grid_search_over_pairs():
    """GridSearchCV picks the metric that aligns the pairs best."""
    rng = np.random.default_rng(3)
    X, y, lengths = [], [], []
    for _ in range(3):
        reference = smooth_sequence(rng, 200)
        query, truth = warped_copy(rng, reference, 260, wiggle=0.5, noise=0.2)
        # A gain change: cosine ignores it, the euclidean distance does not.
        query *= np.linspace(0.3, 3.0, len(query))[:, None]
        X += [reference, query]
        y += [np.arange(200) / 10.0, truth / 10.0]  # positions in seconds
        lengths.append((200, 260))
    X, y = np.vstack(X), np.concatenate(y)
    search = GridSearchCV(
        Aligner(),
        {"metric": ["euclidean", "cosine"], "radius": [2, 8]},
        cv=ReferenceQuerySplit(lengths),
    ).fit(X, y)
    assert search.best_params_["metric"] == "cosine"
    assert -0.1 < search.best_score_ <= 0
    euclidean = search.cv_results_["mean_test_score"][:2]
    assert np.all(euclidean < search.best_score_)


def test_reference_query_split_checks_lengths():
    with pytest.raises(ValueError, match="rows"):
        list(ReferenceQuerySplit([(3, 4)]).split(np.ones((8, 2))))
    with pytest.raises(ValueError, match="lengths"):
        ReferenceQuerySplit([(3, 0)]).get_n_splits()
    assert ReferenceQuerySplit([(3, 4), (2, 2)]).get_n_splits() == 2
