"""Every backend and face at extreme scales (issue 16).

Data at scale s, 1e-300 to 1e300 and 1e307-1e308 at float64's top, gives
the answer of the same data at scale 1: the same neighbours and recurrences,
distances times s (s**2 for sqeuclidean, 1 for the scale-free metrics),
the same affinities and cover-song distances.  The oracle is scipy's cdist
on the data at scale 1.  Where the answer itself leaves float64's range
(squared distances of frames near 1e300), the refusal is checked instead.
"""

import _brute as brute
import numpy as np
import pytest
import scipy.sparse as sp

from skxsim import (
    CoverSongIndex,
    CrossSimilarity,
    RecurrenceMatrix,
    cross_similarity,
    recurrence_matrix,
)
from skxsim._neighbors._backends import BACKENDS
from skxsim.cover import cross_recurrence
from skxsim.datasets import make_cover_pair

SCALES = [1e-300, 1e-200, 1e-30, 1e30, 1e200, 1e300, 1e307, 1e308]
K = 4
# (metric, metric_params, degree of the distance in the scale)
METRICS = [
    ("euclidean", None, 1),
    ("sqeuclidean", None, 2),
    ("cosine", None, 0),
    ("manhattan", None, 1),
    ("chebyshev", None, 1),
    ("minkowski", {"p": 3}, 1),
    ("minkowski", {"p": 0.5}, 1),
    ("seuclidean", {"V": np.array([1.0, 2.0, 0.5, 4.0])}, 1),
    ("mahalanobis", {"VI": np.diag([1.0, 2.0, 0.5, 4.0])}, 1),
    ("canberra", None, 0),
    ("braycurtis", None, 0),
    ("correlation", None, 0),
]


def data(seed=0, n=15, n_ref=50):
    """Query and reference at scale 1, small enough for 1e308 times them
    (and their distances) to stay finite."""
    rng = np.random.default_rng(seed)
    return rng.random((n, 4)) / 4, rng.random((n_ref, 4)) / 4


def scipy_params(metric, params):
    params = dict(params or {})
    if metric == "mahalanobis":
        return {"VI": params["VI"]}
    return params


def representable(values, scale, degree):
    """Whether ``values * scale**degree`` are normal float64 numbers."""
    with np.errstate(over="ignore", under="ignore"):
        factor = np.float64(scale) ** degree
        out = values * factor
    positive = values[values > 0]
    return bool(
        np.isfinite(factor)
        and np.all(np.isfinite(out))
        and (positive.size == 0 or np.min(positive * factor) >= np.finfo(float).tiny)
    )


def knn_distances(D):
    return D[np.arange(len(D))[:, None], brute.knn(D, K)]


def assert_graph(graph, D, scale, degree):
    """CSR (n, n_ref) k-NN distance graph == cdist's, scaled."""
    np.testing.assert_array_equal(graph.indices.reshape(-1, K), brute.knn(D, K))
    expected = knn_distances(D) * scale**degree
    np.testing.assert_allclose(graph.data.reshape(-1, K), expected, rtol=1e-9)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("metric, params, degree", METRICS, ids=repr)
@pytest.mark.parametrize("algorithm", ["auto", "brute", "kd_tree", "ball_tree"])
def test_exact_backends(algorithm, metric, params, degree, scale):
    if algorithm != "auto" and metric not in BACKENDS[algorithm].metrics:
        pytest.skip(f"{algorithm} does not search {metric}")
    if algorithm != "auto" and "tree" in algorithm and params and "p" in params:
        if params["p"] < 1:
            pytest.skip("trees refuse p < 1")
    X, R = data()
    D = brute.cdist(X, R, metric, **scipy_params(metric, params))
    est = CrossSimilarity(
        k=K, metric=metric, metric_params=params, mode="distance", algorithm=algorithm
    )
    if not representable(knn_distances(D), scale, degree):
        with pytest.raises(ValueError, match="leave float64's range"):
            est.fit(R * scale).transform(X * scale)
        return
    assert_graph(est.fit(R * scale).transform(X * scale), D, scale, degree)


# float32 data (float32 output): powers of two, so that the float32 frames at
# scale 1 are exactly the scaled ones divided back.
SCALES_32 = [2.0**-120, 2.0**-100, 2.0**-50, 2.0**50, 2.0**100, 2.0**120]


@pytest.mark.parametrize("scale", SCALES_32)
@pytest.mark.parametrize("metric, params, degree", METRICS[:6], ids=repr)
def test_float32_data(metric, params, degree, scale):
    X, R = (a.astype(np.float32) for a in data(4))
    D = brute.cdist(X.astype(float), R.astype(float), metric, **(params or {}))
    est = CrossSimilarity(k=K, metric=metric, metric_params=params, mode="distance")
    Xs, Rs = X * np.float32(scale), R * np.float32(scale)
    with np.errstate(over="ignore", under="ignore"):
        expected = (knn_distances(D) * scale**degree).astype(np.float32)
    finfo = np.finfo(np.float32)
    if np.any(np.isinf(expected)) or np.any(expected < finfo.tiny):
        # The output (float32, the data's dtype) cannot hold these distances.
        with pytest.raises(ValueError, match="leave float32's range"):
            est.fit(Rs).transform(Xs)
        return
    graph = est.fit(Rs).transform(Xs)
    assert graph.dtype == np.float32
    np.testing.assert_array_equal(graph.indices.reshape(-1, K), brute.knn(D, K))
    np.testing.assert_allclose(graph.data.reshape(-1, K), expected, rtol=1e-6)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize(
    "bandwidth", [None, "mean_k", "gmean_k_avg", "mean_k_avg_and_pair"]
)
@pytest.mark.parametrize("full", [False, True])
def test_affinity_faces(metric, bandwidth, full, scale):
    # Affinities exp(-d / bandwidth) do not depend on the scale: every
    # statistic (means of k distances, geometric means, medians) scales.
    X, R = data(1)
    params = dict(k=K, metric=metric, mode="affinity", bandwidth=bandwidth, full=full)
    expected = CrossSimilarity(sparse=False, **params).fit(R).transform(X)
    got = CrossSimilarity(sparse=False, **params).fit(R * scale).transform(X * scale)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-300)
    expected = cross_similarity(X.T, R.T, **params)
    got = cross_similarity(X.T * scale, R.T * scale, **params)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("metric, params, degree", METRICS[:6], ids=repr)
def test_recurrence_faces(metric, params, degree, scale):
    X, _ = data(2, n=40)
    D = brute.cdist(X, X, metric, **scipy_params(metric, params))
    np.fill_diagonal(D, np.inf)  # width=1: a frame is not its own neighbour
    if not representable(knn_distances(D), scale, degree):
        pytest.skip("the distances leave float64's range (test_exact_backends)")
    est = RecurrenceMatrix(k=K, metric=metric, metric_params=params, mode="distance")
    assert_graph(est.fit_transform(X * scale), D, scale, degree)
    if params is None:
        rec = recurrence_matrix(X.T * scale, k=K, metric=metric, mode="distance")
        assert_graph(sp.csr_matrix(rec.T), D, scale, degree)


def mutual_knn(D, k):
    """Boolean (n, n_ref) mutual k-NN from a distance matrix (no ties)."""
    rows = np.zeros(D.shape, dtype=bool)
    rows[np.arange(len(D))[:, None], brute.knn(D, k)] = True
    cols = np.zeros(D.shape, dtype=bool)
    cols[brute.knn(D.T, k), np.arange(D.shape[1])[:, None]] = True
    return rows & cols


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan"])
def test_cross_recurrence(metric, scale):
    X, R = data(3, n=30, n_ref=40)
    expected = mutual_knn(brute.cdist(X, R, metric), 5)
    got = cross_recurrence(X * scale, R * scale, k=5, metric=metric)
    np.testing.assert_array_equal(got.toarray() == 1, expected)
    assert expected.sum() > 0


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("similarity", ["mutual_knn", "oti_binary"])
def test_cover_song_index(similarity, scale):
    # The cover-song distances depend on binary recurrences only.
    pairs = [make_cover_pair(n_chords=6, random_state=seed) for seed in range(3)]
    catalogue = [p.reference / 4 for p in pairs]
    queries = [np.roll(p.cover, 2, axis=1) / 4 for p in pairs]
    index = CoverSongIndex(similarity=similarity, n_steps=3)
    expected = index.fit(catalogue, [0, 1, 2]).kneighbors(queries)
    got = index.fit([c * scale for c in catalogue], [0, 1, 2]).kneighbors(
        [q * scale for q in queries]
    )
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(
        index.predict([q * scale for q in queries]), [0, 1, 2]
    )


# ------------------------------------------------------------ approximate
def recall(graph, D, k):
    found = graph.indices.reshape(-1, k)
    truth = brute.knn(D, k)
    return np.mean(
        [np.intersect1d(f, t).size / k for f, t in zip(found, truth, strict=True)]
    )


def clusters(seed=0):
    """Far-apart clusters (an approximate search finds every neighbour),
    at scale 1 and small enough for 1e308 times them."""
    rng = np.random.default_rng(seed)
    centers = 100 * rng.standard_normal((12, 5))
    reference = np.repeat(centers, 6, axis=0) + rng.standard_normal((72, 5))
    query = centers[rng.integers(0, 12, 30)] + rng.standard_normal((30, 5))
    peak = 4 * max(np.abs(reference).max(), np.abs(query).max())
    return query / peak, reference / peak


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize(
    "backend, metric",
    # pynndescent compiles each metric for 10-20 s: cosine is checked on hnsw.
    [("hnsw", "euclidean"), ("hnsw", "cosine"), ("nndescent", "euclidean")],
)
def test_approximate_backends(backend, metric, scale):
    # The libraries search float32: at 1e30 its squares overflow, at 1e-30
    # they underflow (recall 0.01 before frames were scaled for them).
    pytest.importorskip({"hnsw": "hnswlib", "nndescent": "pynndescent"}[backend])
    X, R = clusters()
    D = brute.cdist(X, R, metric)
    degree = 0 if metric == "cosine" else 1
    est = CrossSimilarity(k=K, metric=metric, mode="distance", algorithm=backend)
    assert_graph(est.fit(R * scale).transform(X * scale), D, scale, degree)


@pytest.mark.parametrize("backend", ["hnsw", "nndescent"])
@pytest.mark.parametrize(
    "shift, scale, dtype",
    [
        (1000.0, 1e-4, np.float64),  # recall 0.24-0.70 before centring
        (1e12, 1.0, np.float64),
        (0.0, 1e-30, np.float32),
        (0.0, 1e30, np.float32),
    ],
)
def test_approximate_recall_off_the_origin(backend, shift, scale, dtype):
    pytest.importorskip({"hnsw": "hnswlib", "nndescent": "pynndescent"}[backend])
    rng = np.random.default_rng(6)
    R, X = rng.standard_normal((600, 12)), rng.standard_normal((80, 12))
    D = brute.cdist(X, R)
    R, X = (shift + scale * a for a in (R, X))
    est = CrossSimilarity(k=10, algorithm=backend)
    graph = est.fit(R.astype(dtype)).transform(X.astype(dtype))
    assert recall(graph, D, 10) >= 0.95


@pytest.mark.parametrize("backend", ["hnsw", "nndescent"])
def test_approximate_warns_when_float32_cannot_resolve(backend, recwarn):
    pytest.importorskip({"hnsw": "hnswlib", "nndescent": "pynndescent"}[backend])
    rng = np.random.default_rng(0)
    # Clusters 1e10 apart, their frames 1e-3 apart: 1e-13 of the spread,
    # beyond float32's 24 bits however the frames are centred and scaled.
    centers = 1e10 * rng.standard_normal((12, 5))
    R = np.repeat(centers, 50, axis=0) + 1e-3 * rng.standard_normal((600, 5))
    with pytest.warns(UserWarning, match="float32.* cannot resolve"):
        CrossSimilarity(k=5, algorithm=backend).fit(R)
    # Data it resolves fits without a word.
    CrossSimilarity(k=5, algorithm=backend).fit(R[:50])
    assert not [w for w in recwarn if "resolve" in str(w.message)]
