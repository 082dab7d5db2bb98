"""The exact engine: a row's answer never depends on its batch, block size,
thread count or BLAS kernel; the exact methods agree bit for bit; threads are
used safely; ``algorithm="auto"`` picks an exact method on either side of its
thresholds."""

import threading

import _brute as brute
import numpy as np
import pytest
from sklearn import config_context
from threadpoolctl import threadpool_info

import skxsim._neighbors._auto as backends
from skxsim import CrossSimilarity, cross_similarity
from skxsim._neighbors import BlasScores, PairDistances
from skxsim._neighbors._backends import build_index

# "brute" is the BLAS engine for the BLAS metrics, scikit-learn's otherwise.
EXACT = ["brute", "kd_tree", "ball_tree", "ckd_tree"]
MODES = [
    dict(mode="connectivity"),
    dict(mode="distance"),
    dict(mode="affinity", bandwidth="mean_k"),
]


def tied_data(rng, n_ref=300, n=120, d=3):
    """Integer-valued frames: many exact ties and duplicates."""
    R = rng.integers(0, 4, (n_ref, d)).astype(float)
    X = rng.integers(0, 4, (n, d)).astype(float)
    return X, R


def rows_alone(est, X):
    """Each row of X transformed on its own, stacked."""
    import scipy.sparse as sp

    return sp.vstack([est.transform(X[i : i + 1]) for i in range(len(X))]).tocsr()


def assert_identical(a, b):
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.data, b.data)  # bit for bit


# ------------------------------------------------------ row exactness
def test_issue_example_ties_go_to_the_lowest_column():
    R = np.array([[0.0], [0.0], [0.0], [0.0], [2.0], [0.0]])
    X = np.array([[1.0], [2.0]])
    est = CrossSimilarity(k=1).fit(R)
    np.testing.assert_array_equal(est.transform(X)[0].indices, [0])
    np.testing.assert_array_equal(est.transform(X[:1]).indices, [0])
    np.testing.assert_array_equal(est.transform(X)[1].indices, [4])


@pytest.mark.parametrize("algorithm", EXACT)
@pytest.mark.parametrize("params", MODES)
@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cosine"])
def test_each_row_alone_equals_the_batch(rng, algorithm, params, metric):
    X, R = tied_data(rng)
    X[:10] = R[:10]  # exact matches
    est = CrossSimilarity(k=7, metric=metric, algorithm=algorithm, **params).fit(R)
    batch = est.transform(X)
    assert_identical(rows_alone(est, X), batch)


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan"])
def test_all_exact_methods_agree_bit_for_bit(rng, metric):
    X, R = tied_data(rng, d=4)
    X = X + 0.5 * rng.standard_normal(X.shape)
    graphs = [
        CrossSimilarity(k=9, metric=metric, mode="distance", algorithm=a)
        .fit(R)
        .transform(X)
        for a in EXACT
    ]
    for other in graphs[1:]:
        assert_identical(other, graphs[0])
    # Against cdist: the same k smallest distances (near-ties of parallel
    # integer vectors may be ordered differently by cdist's own rounding).
    D = brute.cdist(X, R, metric)
    got = np.sort(graphs[0].data.reshape(len(X), 9), axis=1)
    np.testing.assert_allclose(got, np.sort(D, axis=1)[:, :9], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("algorithm", ["auto", "ckd_tree"])
@pytest.mark.parametrize("metric", ["euclidean", "cosine", "cityblock"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blocks_threads_and_batches_do_not_change_the_result(
    rng, algorithm, metric, dtype
):
    X, R = tied_data(rng, n_ref=500, n=300, d=8)
    X = (X + rng.standard_normal(X.shape) * (rng.random((300, 1)) < 0.5)).astype(dtype)
    R = R.astype(dtype)
    est = CrossSimilarity(k=7, metric=metric, mode="distance", algorithm=algorithm)
    est.fit(R)
    one = est.transform(X)
    with config_context(working_memory=0.05):  # a few rows per block
        many = est.set_params(n_jobs=2).transform(X)
    assert_identical(one, many)
    assert_identical(est.transform(X[::-1])[::-1], one)


@pytest.mark.parametrize("algorithm", EXACT)
@pytest.mark.parametrize("k", [1, 40])
def test_ties_beyond_the_first_proposals(rng, algorithm, k):
    # Four distinct frames, each repeated: every boundary is a tie, which the
    # trees settle on more proposals or on the whole row, ties to the lowest
    # column.
    R = np.repeat(rng.integers(0, 3, (4, 2)).astype(float), 1000, axis=0)
    R = R[rng.permutation(len(R))]
    X = np.vstack([R[:20], R[:20] + 0.25])
    est = CrossSimilarity(k=k, mode="distance", algorithm=algorithm).fit(R)
    out = est.transform(X)
    D = brute.cdist(X, R)
    np.testing.assert_array_equal(out.indices.reshape(len(X), k), brute.knn(D, k))
    assert_identical(rows_alone(est, X), out)


@pytest.mark.parametrize("algorithm", EXACT)
def test_cosine_zero_vectors_on_the_trees(rng, algorithm):
    # A zero vector is at cosine distance 1 from everything (scikit-learn),
    # but a tree of unit vectors sees it at chord 1, nearer than frames at
    # 80 degrees (chord 1.29, cosine distance 0.83): the trees must not
    # take its tree distance for its key.
    angle = np.deg2rad(80)
    far = np.array([np.cos(angle), np.sin(angle)]) * np.arange(1, 6)[:, None]
    R = np.vstack([np.zeros((3, 2)), far, -far[:2]])
    X = np.vstack([[1.0, 0.0], [0.0, 0.0], [2.0, 0.1], rng.standard_normal((20, 2))])
    params = dict(k=3, metric="cosine", mode="distance")
    expected = CrossSimilarity(algorithm="brute", **params).fit(R).transform(X)
    np.testing.assert_array_equal(expected.indices[:9], [3, 4, 5, 0, 1, 2, 3, 4, 5])
    got = CrossSimilarity(algorithm=algorithm, **params).fit(R).transform(X)
    assert_identical(got, expected)


@pytest.mark.parametrize("algorithm", EXACT)
@pytest.mark.parametrize(
    "metric, params",
    [("manhattan", None), ("chebyshev", None), ("minkowski", {"p": 3})],
)
@pytest.mark.parametrize("exponent", [-997, -500, 0, 500, 997])
def test_p_norms_at_any_scale(rng, algorithm, metric, params, exponent):
    # Frames near 1e-300 .. 1e300 (a power of two times ordinary frames): the
    # neighbours of ordinary frames, the distances scaled (their powers
    # would under- or overflow unscaled).
    R, X = rng.standard_normal((400, 5)), rng.standard_normal((40, 5))
    params = dict(k=4, metric=metric, metric_params=params, mode="distance")
    expected = CrossSimilarity(algorithm="brute", **params).fit(R).transform(X)
    scale = np.ldexp(1.0, exponent)
    est = CrossSimilarity(algorithm=algorithm, **params).fit(R * scale)
    got = est.transform(X * scale)
    np.testing.assert_array_equal(got.indices, expected.indices)
    np.testing.assert_allclose(got.data, expected.data * scale, rtol=1e-13)


def test_margin_keeps_near_duplicates_at_large_norms(rng):
    # Float32 scores of frames far from the origin, 1e-6 apart: the product
    # cannot order them; the answer must still be the exact one.
    base = 1e4 + rng.standard_normal((400, 16))
    R = np.vstack([base, base[:100] + 1e-6 * rng.standard_normal((100, 16))])
    X = base[:50] + 1e-7 * rng.standard_normal((50, 16))
    out = CrossSimilarity(k=2, mode="distance").fit(R).transform(X)
    D = brute.cdist(X, R)
    np.testing.assert_array_equal(out.indices.reshape(50, 2), brute.knn(D, 2))
    np.testing.assert_allclose(out.data, np.sort(D, axis=1)[:, :2].ravel(), rtol=1e-9)


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cosine"])
def test_float32_output_is_rounded_exact_distance(rng, metric):
    R = (1e3 + rng.standard_normal((300, 10))).astype(np.float32)
    X = (R[:60] + 1e-3 * rng.standard_normal((60, 10))).astype(np.float32)
    out = CrossSimilarity(k=4, metric=metric, mode="distance").fit(R).transform(X)
    assert out.dtype == np.float32
    # The oracle in extended precision (cdist's 1 - cos cancels here).
    Xl, Rl = X.astype(np.longdouble), R.astype(np.longdouble)
    if metric == "cosine":
        Xl /= np.sqrt((Xl**2).sum(axis=1, keepdims=True))
        Rl /= np.sqrt((Rl**2).sum(axis=1, keepdims=True))
    D = ((Xl[:, None, :] - Rl[None, :, :]) ** 2).sum(axis=2)
    D = {"euclidean": np.sqrt(D), "sqeuclidean": D, "cosine": D / 2}[metric]
    expected = brute.graph(D.astype(np.float64), 4, "distance")
    got = out.toarray()
    np.testing.assert_array_equal(got != 0, expected != 0)
    np.testing.assert_array_max_ulp(got, expected.astype(np.float32), maxulp=1)


def test_margin_bounds_the_score_error(rng):
    # The product's rounding (float32 and float64) stays within the margin.
    for d in (3, 12, 120):
        R = 5 + rng.standard_normal((200, d))
        X = 5 + rng.standard_normal((50, d))
        pairs = PairDistances(R, "euclidean")
        scorer = BlasScores(R, "euclidean", pairs)
        left, q_norms = scorer.left(X)
        rows = np.repeat(np.arange(50), 200)
        cols = np.tile(np.arange(200), 50)
        # Scores are in the product's unit, the keys' divided by unit_.
        keys = pairs.keys(X, rows, cols).reshape(50, 200) / scorer.unit_
        exact = (keys - q_norms[:, None] ** 2) / 2
        for dtype in (np.float32, np.float64):
            S = scorer.scores(left, np.dtype(dtype)).astype(np.float64)
            half_margin = scorer.margin(q_norms, np.dtype(dtype)) / 2
            assert np.all(np.abs(S - exact) <= half_margin[:, None])


# ------------------------------------------------------------- threads
def test_concurrent_transforms_leave_thread_limits_alone(rng):
    X, R = rng.standard_normal((3000, 12)), rng.standard_normal((2000, 12))
    estimators = [
        CrossSimilarity(k=5).fit(R),
        CrossSimilarity(k=8, metric="cosine", mode="distance", n_jobs=2).fit(R),
    ]
    expected = [est.transform(X) for est in estimators]
    before = [(p["filepath"], p["num_threads"]) for p in threadpool_info()]
    results, errors = {}, []

    def work(i):
        try:
            for _ in range(3):
                results[i] = estimators[i % 2].transform(X)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for i in range(4):
        assert_identical(results[i], expected[i % 2])
    assert [(p["filepath"], p["num_threads"]) for p in threadpool_info()] == before


def test_single_thread_hold_restores_the_limit(rng):
    before = [p["num_threads"] for p in threadpool_info()]
    CrossSimilarity(k=3, n_jobs=1).fit(rng.standard_normal((500, 8))).transform(
        rng.standard_normal((500, 8))
    )
    assert [p["num_threads"] for p in threadpool_info()] == before


# ---------------------------------------------------------- cost model
def sheet(rng, n, d=12):
    """Frames on a smooth 2-D sheet in d dimensions (one sheet per d): low
    intrinsic dimension, as chroma of tonal music has, which trees prune."""
    shape = np.random.default_rng(d)
    W, phase = shape.standard_normal((2, d)), 6 * shape.random(d)
    return np.abs(np.sin(6 * rng.random((n, 2)) @ W + phase)) + 0.01 * rng.random(
        (n, d)
    )


def gaussian(rng, n, d=12):
    """Frames that fill their space: a KD-tree prunes little."""
    return rng.standard_normal((n, d))


@pytest.mark.parametrize(
    "data, d, n_ref, k, metric, expected",
    [
        # long reference, small k, low intrinsic dimension: the tree
        (sheet, 12, 100000, 3, "euclidean", "ckd_tree"),
        (sheet, 12, 100000, 3, "cosine", "ckd_tree"),
        # large k for the reference's length: one product is cheaper
        (sheet, 12, 3000, 120, "euclidean", "blas"),
        # the same shape, but the frames fill 12 dimensions: the probe vetoes
        (gaussian, 12, 100000, 3, "euclidean", "blas"),
        # too many features to consider a tree
        (sheet, backends.TREE_MAX_FEATURES + 1, 100000, 3, "euclidean", "blas"),
    ],
)
def test_auto_choice_is_exact_on_both_sides(rng, data, d, n_ref, k, metric, expected):
    R = data(rng, n_ref, d).astype(np.float32)
    X = data(rng, 200, d).astype(np.float32)
    params = dict(k=k, metric=metric, mode="distance")
    auto = CrossSimilarity(**params).fit(R)
    assert auto._fit_method == expected
    brute_force = CrossSimilarity(algorithm="brute", **params).fit(R)
    assert brute_force._fit_method == "blas"
    assert_identical(auto.transform(X), brute_force.transform(X))
    np.testing.assert_array_equal(
        cross_similarity(X.T, R.T, k=k, metric=metric),
        brute_force.transform(X).toarray().T != 0,
    )


def test_probe_measures_the_intrinsic_dimension(rng):
    sheet_m = backends.probe_dimension(
        build_index(sheet(rng, 20000), "euclidean", {}, "ckd_tree")
    )
    noise_m = backends.probe_dimension(
        build_index(gaussian(rng, 20000, 8), "euclidean", {}, "ckd_tree")
    )
    assert 1.0 < sheet_m < 4.0
    assert 6.0 < noise_m < 10.0


def test_cost_model_decides_on_the_shape_then_the_probe(rng, monkeypatch, index_builds):
    R = sheet(rng, 100000)
    assert CrossSimilarity(k=3).fit(R)._fit_method == "ckd_tree"
    assert index_builds == ["ckd_tree"]
    # A dimension limit below the sheet's: the probe vetoes the tree.
    monkeypatch.setattr(backends, "TREE_MAX_DIMENSION", 1.0)
    assert CrossSimilarity(k=3).fit(R)._fit_method == "blas"
    # A tree predicted dear is not even built.
    monkeypatch.setattr(backends, "TREE_NS", (1e9, 0.0))
    index_builds.clear()
    assert CrossSimilarity(k=3).fit(R)._fit_method == "blas"
    assert index_builds == ["blas"]


# -------------------------------------------------------------- memory
def _output_bytes(out):
    if hasattr(out, "indptr"):
        return out.data.nbytes + out.indices.nbytes + out.indptr.nbytes
    return out.nbytes


@pytest.mark.parametrize(
    "face, params",
    [
        ("estimator", dict(k=100)),
        ("estimator", dict(k=100, mode="distance", sparse=False)),
        ("function", dict(k=100)),
        ("function", dict(k=100, mode="affinity")),
        ("function", dict(mode="distance", full=True)),
    ],
)
def test_peak_memory_is_the_output_plus_a_block(rng, face, params):
    import tracemalloc

    R, X = rng.standard_normal((3000, 20)), rng.standard_normal((3000, 20))
    if face == "estimator":
        est = CrossSimilarity(**params).fit(R)

        def run():
            return est.transform(X)
    else:

        def run():
            return cross_similarity(X.T, R.T, **params)

    run()
    tracemalloc.start()
    try:
        out = run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # No n x n_ref temporary beyond the output: what remains is a few blocks.
    assert peak - _output_bytes(out) < 40e6


def test_same_bits_on_every_blas_kernel():
    # OpenBLAS picks its kernel at run time; OPENBLAS_CORETYPE forces one.
    # The products round differently on each, the output must not (d = 70:
    # the compiled nomination).
    import os
    import subprocess
    import sys

    code = (
        "import hashlib, numpy as np\n"
        "from skxsim import CrossSimilarity, cross_similarity\n"
        "rng = np.random.default_rng(7)\n"
        "h = hashlib.sha256()\n"
        "for dtype, d in [(t, d) for t in (np.float64, np.float32) for d in (37, 70)]:\n"
        "    R = (3 + rng.standard_normal((700, d))).astype(dtype)\n"
        "    X = np.vstack([R[:50] + 1e-4 * rng.standard_normal((50, d)),\n"
        "                   rng.standard_normal((150, d)) + 3]).astype(dtype)\n"
        "    for metric in ('euclidean', 'cosine'):\n"
        "        out = CrossSimilarity(k=9, metric=metric, mode='distance')\n"
        "        out = out.fit(R).transform(X)\n"
        "        h.update(out.indices.tobytes()); h.update(out.data.tobytes())\n"
        "        h.update(cross_similarity(X.T, R.T, k=9).tobytes())\n"
        "print(h.hexdigest())\n"
    )
    digests = set()
    for coretype in (None, "Haswell", "Sandybridge"):
        env = dict(os.environ)
        env.pop("OPENBLAS_CORETYPE", None)
        if coretype:
            env["OPENBLAS_CORETYPE"] = coretype
        run = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        digests.add(run.stdout.strip())
    assert len(digests) == 1, digests


@pytest.mark.parametrize("bandwidth", [0.7, None, "gmean_k"])
def test_full_and_knn_affinities_agree_bit_for_bit(rng, bandwidth):
    R = rng.standard_normal((300, 12)).astype(np.float32)
    X = rng.standard_normal((40, 12)).astype(np.float32)
    params = dict(k=6, mode="affinity", bandwidth=bandwidth)
    knn = CrossSimilarity(**params).fit(R).transform(X)
    full = CrossSimilarity(**params, full=True).fit(R).transform(X).toarray()
    rows = np.repeat(np.arange(len(X)), 6)
    np.testing.assert_array_equal(full[rows, knn.indices], knn.data)
    fn_knn = cross_similarity(X.T, R.T, **params)
    fn_full = cross_similarity(X.T, R.T, **params, full=True)
    np.testing.assert_array_equal(fn_full[knn.indices, rows], fn_knn[knn.indices, rows])
