"""Approximate backends (hnsw, nndescent): same graphs as the exact engine on
easy data, persistence across processes, the index cache, short neighbour
lists, and the errors of a missing extra."""

import pickle
import subprocess
import sys
import textwrap
import time
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import pairwise_distances

import skxsim._cache
from skxsim import CrossSimilarity
from skxsim._approximate import NNDESCENT_METRICS, HNSWIndex
from skxsim._index import exact_index

LIBRARY = {"hnsw": "hnswlib", "nndescent": "pynndescent"}
BACKENDS = list(LIBRARY)


def needs(backend):
    pytest.importorskip(LIBRARY[backend])


def run_python(code):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def clusters(rng):
    """Easy data: 12 far-apart clusters of K + 1 = 6 frames each.

    Every query frame's 5 nearest reference frames, and every reference
    frame's 6 nearest within the reference, lie in its own cluster, which
    both graphs link completely: an approximate search finds them all.
    """
    centers = 100 * rng.standard_normal((12, 5))
    reference = np.repeat(centers, 6, axis=0) + rng.standard_normal((72, 5))
    query = centers[rng.integers(0, 12, 30)] + rng.standard_normal((30, 5))
    return reference, query


def assert_same_graph(got, expected, rtol):
    assert sp.issparse(got) == sp.issparse(expected)
    if sp.issparse(got):
        assert got.format == "csr" and got.dtype == expected.dtype
        np.testing.assert_array_equal(got.indptr, expected.indptr)
        np.testing.assert_array_equal(got.indices, expected.indices)
        np.testing.assert_allclose(got.data, expected.data, rtol=rtol, atol=1e-6)
    else:
        np.testing.assert_array_equal(got != 0, expected != 0)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-6)


CONFIGS = [
    dict(mode="connectivity"),
    dict(mode="distance"),
    dict(mode="affinity"),
    dict(mode="affinity", bandwidth="mean_k"),
    dict(mode="affinity", bandwidth="gmean_k_avg"),
    dict(mode="affinity", bandwidth="mean_k_avg_and_pair"),
    dict(mode="affinity", bandwidth=50.0, sparse=False),
]
# Every other metric makes pynndescent compile for 10-20 s: the metrics are
# checked on hnsw, and the distance recomputation of each nndescent metric
# in test_pair_distances_are_the_metric.
OTHER_METRICS = [
    dict(mode="distance", metric="sqeuclidean"),
    dict(mode="distance", metric="cosine"),
    dict(mode="affinity", metric="cosine", bandwidth="mean_k_avg"),
]
CASES = [(b, c) for b in BACKENDS for c in CONFIGS] + [
    ("hnsw", c) for c in OTHER_METRICS
]


@pytest.mark.parametrize("backend, params", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_graph_as_exact(clusters, backend, params, dtype):
    needs(backend)
    reference, query = (a.astype(dtype) for a in clusters)
    exact = CrossSimilarity(k=5, algorithm="brute", **params).fit(reference)
    approx = CrossSimilarity(k=5, algorithm=backend, **params).fit(reference)
    assert approx.index_.exact is False
    rtol = 1e-4 if dtype == np.float32 else 1e-9
    if exact.bandwidth_ is not None:
        assert approx.bandwidth_ == pytest.approx(exact.bandwidth_, rel=rtol)
    got = approx.transform(query)
    assert got.dtype == dtype
    assert_same_graph(got, exact.transform(query), rtol)


@pytest.mark.parametrize("backend", BACKENDS)
def test_exact_matches_are_kept_with_distance_zero(clusters, backend):
    needs(backend)
    reference, _ = clusters
    xsim = CrossSimilarity(k=5, mode="distance", algorithm=backend).fit(reference)
    graph = xsim.transform(reference[:10])
    # Each frame finds itself, stored explicitly at distance exactly 0.
    np.testing.assert_array_equal(graph[np.arange(10), np.arange(10)].A1, 0)
    assert graph.nnz == 50


@pytest.mark.parametrize("metric", NNDESCENT_METRICS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pair_distances_are_the_metric(rng, metric, dtype):
    X = rng.standard_normal((7, 4)).astype(dtype)
    X[0] = 0  # cosine of a zero vector: scikit-learn's convention
    reference = rng.standard_normal((20, 4)).astype(dtype)
    indices = rng.integers(0, 20, (7, 5))
    params = {"p": 3} if metric == "minkowski" else {}
    rows = np.repeat(np.arange(7), 5)
    got = exact_index(reference, metric, params).pair_distances(
        X, rows, indices.ravel()
    )
    full = pairwise_distances(
        X.astype(np.float64), reference.astype(np.float64), metric=metric, **params
    )
    np.testing.assert_allclose(
        got, np.take_along_axis(full, indices, axis=1).ravel(), rtol=1e-12, atol=1e-15
    )


def test_auto_stays_exact(clusters):
    reference, _ = clusters
    xsim = CrossSimilarity().fit(reference)
    assert xsim._fit_method in ("blas", "kd_tree")
    assert xsim.index_.exact is True


@pytest.mark.parametrize("backend", BACKENDS)
def test_full_falls_back_to_exact_with_a_warning(clusters, backend):
    needs(backend)
    reference, query = clusters
    exact = CrossSimilarity(k=5, mode="affinity", full=True).fit(reference)
    approx = CrossSimilarity(k=5, mode="affinity", full=True, algorithm=backend)
    with pytest.warns(UserWarning, match="full=True computes every distance"):
        approx.fit(reference)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once, at fit, not on every transform
        got = approx.transform(query)
    assert got.nnz == 30 * 72
    assert_same_graph(got, exact.transform(query), 1e-9)


def hard_data(seed=0):
    """Random data on which small indexes are visibly approximate."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((600, 12)), rng.standard_normal((80, 12))


# Deliberately weak indexes: their answers differ from the exact ones, so
# equal answers after loading show the index itself was restored.
WEAK = {
    "hnsw": {"M": 4, "ef_construction": 8, "ef": 4},
    "nndescent": {"n_neighbors": 4, "epsilon": 0.0},
}


@pytest.mark.parametrize("backend", BACKENDS)
def test_persistence_in_another_process(tmp_path, backend):
    needs(backend)
    reference, query = hard_data()
    params = dict(k=10, mode="distance", algorithm=backend)
    xsim = CrossSimilarity(algorithm_params=WEAK[backend], **params).fit(reference)
    expected = xsim.transform(query)
    exact = CrossSimilarity(**{**params, "algorithm": "brute"}).fit(reference)
    assert (expected != exact.transform(query)).nnz > 0  # really approximate

    joblib.dump(xsim, tmp_path / "model.joblib")
    np.save(tmp_path / "reference.npy", reference)
    np.save(tmp_path / "query.npy", query)
    refit = "hnsw" == backend  # a pynndescent build compiles for ~20 s
    run_python(
        f"""
        import joblib, numpy as np, scipy.sparse as sp
        from skxsim import CrossSimilarity
        tmp = {str(tmp_path)!r}
        query = np.load(tmp + "/query.npy")
        model = joblib.load(tmp + "/model.joblib")
        sp.save_npz(tmp + "/loaded.npz", model.transform(query))
        mapped = joblib.load(tmp + "/model.joblib", mmap_mode="r")
        sp.save_npz(tmp + "/mapped.npz", mapped.transform(query))
        if {refit}:
            fresh = CrossSimilarity(**model.get_params())
            fresh.fit(np.load(tmp + "/reference.npy"))
            sp.save_npz(tmp + "/refit.npz", fresh.transform(query))
        """
    )
    names = ["loaded", "mapped"] + (["refit"] if refit else [])
    for name in names:
        got = sp.load_npz(tmp_path / f"{name}.npz")
        np.testing.assert_array_equal(got.indices, expected.indices, err_msg=name)
        np.testing.assert_array_equal(got.data, expected.data, err_msg=name)


@pytest.mark.parametrize("backend", BACKENDS)
def test_pickle_and_rebuild_are_reproducible(backend):
    needs(backend)
    reference, query = hard_data(1)
    params = dict(k=8, algorithm=backend, algorithm_params=WEAK[backend])
    xsim = CrossSimilarity(**params).fit(reference)
    expected = xsim.transform(query)
    payload = pickle.dumps(xsim)
    assert (pickle.loads(payload).transform(query) != expected).nnz == 0
    # The default seed is fixed: another build of the same reference is the
    # same index.
    again = CrossSimilarity(**params).fit(reference).transform(query)
    assert (again != expected).nnz == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_memory_cache_reuses_the_approximate_index(monkeypatch, tmp_path, backend):
    needs(backend)
    builds = []
    build = skxsim._cache.build_index

    def counting(*args, **kwargs):
        builds.append(args[3])
        return build(*args, **kwargs)

    monkeypatch.setattr(skxsim._cache, "build_index", counting)
    reference, query = hard_data(2)
    memory = joblib.Memory(tmp_path, verbose=0)
    params = dict(algorithm=backend, algorithm_params=WEAK[backend], memory=memory)
    first = CrossSimilarity(k=6, mode="distance", **params).fit(reference)
    second = CrossSimilarity(k=9, mode="affinity", **params).fit(reference)
    assert builds == [backend]
    # The second index came back from disk (through __setstate__).
    assert second.index_ is not first.index_
    # Other index parameters are another index.
    other = {**params, "algorithm_params": {**WEAK[backend], "random_state": 7}}
    CrossSimilarity(k=6, **other).fit(reference)
    assert builds == [backend, backend]
    uncached = CrossSimilarity(k=9, mode="affinity", **{**params, "memory": None})
    expected = uncached.fit(reference).transform(query)
    assert (second.transform(query) != expected).nnz == 0
    assert second.bandwidth_ == uncached.bandwidth_


@pytest.mark.parametrize(
    "backend, module", [("hnsw", "hnswlib"), ("nndescent", "pynndescent")]
)
def test_missing_extra_names_it(monkeypatch, clusters, backend, module):
    monkeypatch.setitem(sys.modules, module, None)
    reference, _ = clusters
    with pytest.raises(ImportError, match=rf'pip install "skxsim\[{backend}\]"'):
        CrossSimilarity(algorithm=backend).fit(reference)


def test_missing_extra_on_load_names_it(monkeypatch, clusters):
    needs("hnsw")
    reference, _ = clusters
    payload = pickle.dumps(CrossSimilarity(k=3, algorithm="hnsw").fit(reference))
    monkeypatch.setitem(sys.modules, "hnswlib", None)
    with pytest.raises(ImportError, match=r'pip install "skxsim\[hnsw\]"'):
        pickle.loads(payload)


def test_importing_skxsim_does_not_import_the_extras():
    out = run_python(
        """
        import sys, skxsim
        print(sorted(m for m in ("hnswlib", "pynndescent") if m in sys.modules))
        """
    )
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    "backend, params, message",
    [
        ("hnsw", {"ef_search": 10}, r"\['ef_search'\] are not parameters"),
        ("nndescent", {"ef": 10}, r"\['ef'\] are not parameters"),
    ],
)
def test_unknown_algorithm_params(clusters, backend, params, message):
    needs(backend)
    with pytest.raises(ValueError, match=message):
        CrossSimilarity(algorithm=backend, algorithm_params=params).fit(clusters[0])


def test_unsupported_metric_names_the_backend(clusters):
    with pytest.raises(ValueError, match="metric='manhattan' is not supported by"):
        CrossSimilarity(metric="manhattan", algorithm="hnsw").fit(clusters[0])


def test_hnsw_search_breadth_is_at_least_k():
    needs("hnsw")
    reference, query = hard_data(5)
    build = {"M": 4, "ef_construction": 8}

    def graph(ef):
        params = {**build, "ef": ef}
        xsim = CrossSimilarity(k=20, algorithm="hnsw", algorithm_params=params)
        return xsim.fit(reference).transform(query)

    low = graph(2)
    np.testing.assert_array_equal(np.diff(low.indptr), 20)
    assert (low != graph(20)).nnz == 0
    assert (low != graph(80)).nnz > 0  # ef matters above k


def test_short_neighbour_lists_are_filled_exactly(monkeypatch, clusters):
    needs("hnsw")
    reference, query = clusters
    xsim = CrossSimilarity(k=5, mode="distance", algorithm="hnsw").fit(reference)
    expected = CrossSimilarity(k=5, mode="distance").fit(reference).transform(query)
    original = HNSWIndex._candidates

    def shortened(self, X, k):
        indices = original(self, X, k)
        indices[0::3, 1:] = -1  # the library found one neighbour only
        indices[1::3, :] = indices[1::3, :1]  # or the same one k times
        indices[2::3, :] = -1  # or none
        return indices

    monkeypatch.setattr(HNSWIndex, "_candidates", shortened)
    got = xsim.transform(query)
    np.testing.assert_array_equal(np.diff(got.indptr), 5)
    assert_same_graph(got, expected, 1e-9)


def test_hnsw_failed_batch_is_searched_exactly(monkeypatch, clusters):
    needs("hnsw")
    reference, query = clusters
    xsim = CrossSimilarity(k=5, mode="distance", algorithm="hnsw").fit(reference)
    expected = CrossSimilarity(k=5, mode="distance").fit(reference).transform(query)

    class Failing:
        ef = 64

        def knn_query(self, *args, **kwargs):
            raise RuntimeError("Cannot return the results in a contiguous 2D array")

    xsim.index_._index = Failing()
    assert_same_graph(xsim.transform(query), expected, 1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_give_the_same_answers(backend):
    # pynndescent's query reuses one scratch array: concurrent blocks must
    # not share it.
    needs(backend)
    reference, _ = hard_data(3)
    query = np.random.default_rng(4).standard_normal((2000, 12))
    params = WEAK[backend]
    xsim = CrossSimilarity(k=7, algorithm=backend, algorithm_params=params)
    one = xsim.fit(reference).transform(query)
    two = xsim.set_params(n_jobs=2).transform(query)
    assert (one != two).nnz == 0


def test_nndescent_queries_are_serialised(clusters):
    # pynndescent's query writes into one buffer kept on the index: two
    # threads must never be inside it at once.
    needs("nndescent")
    reference, _ = clusters
    query = np.tile(reference, (20, 1))
    xsim = CrossSimilarity(k=5, algorithm="nndescent", n_jobs=2).fit(reference)
    library_index = xsim.index_._index
    query_library = library_index.query
    active, most = [0], [0]

    def watched(*args, **kwargs):
        active[0] += 1
        most[0] = max(most[0], active[0])
        time.sleep(0.01)  # lets another thread in, were it not locked out
        try:
            return query_library(*args, **kwargs)
        finally:
            active[0] -= 1

    library_index.query = watched
    graph = xsim.transform(query)
    assert most[0] == 1
    expected = CrossSimilarity(k=5).fit(reference).transform(query)
    assert (graph != expected).nnz == 0
