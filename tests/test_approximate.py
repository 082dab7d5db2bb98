"""Approximate backends (hnsw, nndescent): same graphs as the exact engine on
easy data, persistence across processes, the index cache, short neighbour
lists, and the errors of a missing extra."""

import contextlib
import pickle
import subprocess
import sys
import textwrap
import threading
import warnings

import _brute as brute
import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.metrics import pairwise_distances

from skxsim import CrossSimilarity
from skxsim._neighbors._approximate import NNDESCENT_METRICS, HNSWIndex
from skxsim._neighbors._exact import exact_index

LIBRARY = {"hnsw": "hnswlib", "nndescent": "pynndescent"}
BACKENDS = list(LIBRARY)
# The distances of the proposed pairs are computed from the frames'
# difference in float64, as the exact engine's: cdist's to rounding (measured
# 3e-16 relative), then rounded to float32 for float32 data.
RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-6}


def needs(backend):
    # The first pynndescent build of a process compiles its nn_descent with
    # numba (cache=False upstream): 25-90 s, whatever the data size. It is
    # paid once per run, by whichever nndescent test comes first.
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


def assert_same_graph(got, expected):
    rtol = RTOL[expected.dtype]
    assert sp.issparse(got) == sp.issparse(expected)
    if sp.issparse(got):
        assert got.format == "csr" and got.dtype == expected.dtype
        np.testing.assert_array_equal(got.indptr, expected.indptr)
        np.testing.assert_array_equal(got.indices, expected.indices)
        np.testing.assert_allclose(got.data, expected.data, rtol=rtol, atol=0)
    else:
        np.testing.assert_array_equal(got != 0, expected != 0)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=0)


def assert_true_distances(graph, query, reference, metric="euclidean"):
    """Each stored distance is the metric's, from an independent cdist."""
    rows = np.repeat(np.arange(graph.shape[0]), np.diff(graph.indptr))
    full = brute.cdist(query.astype(np.float64), reference.astype(np.float64), metric)
    expected = full[rows, graph.indices]
    atol = 0
    if metric == "cosine":
        # cdist's 1 - cos is exact to a few ulps of 1, not of a small
        # distance; ours, half the squared chord between unit vectors rounded
        # in the input dtype, to a few ulps times the chord.
        eps = np.finfo(graph.dtype).eps
        atol = 4 * np.finfo(np.float64).eps + 4 * eps * np.sqrt(2 * expected)
    error = np.abs(graph.data - expected)
    bound = RTOL[graph.dtype] * expected + atol
    worst = np.argmax(error - bound)
    assert error[worst] <= bound[worst], (graph.data[worst], expected[worst])


CONFIGS = [
    dict(mode="connectivity"),
    dict(mode="distance"),
    dict(mode="affinity"),
    dict(mode="affinity", bandwidth="mean_k"),  # the query's k-th distances
    dict(mode="affinity", bandwidth="mean_k_avg_and_pair"),  # their means
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
    if exact.bandwidth_ is not None:
        rtol = RTOL[np.dtype(dtype)]
        assert approx.bandwidth_ == pytest.approx(exact.bandwidth_, rel=rtol, abs=0)
    got = approx.transform(query)
    assert got.dtype == dtype
    assert_same_graph(got, exact.transform(query))
    if params["mode"] == "distance":
        assert_true_distances(got, query, reference, params.get("metric", "euclidean"))


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
    assert xsim._fit_method in ("blas", "ckd_tree")
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
    assert_same_graph(got, exact.transform(query))


def hard_data(seed=0):
    """Random data on which small indexes are visibly approximate."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((600, 12)), rng.standard_normal((80, 12))


# Deliberately weak indexes (recall about 0.6 for hnsw, 0.85 for nndescent
# on hard_data): small and fast, and answers that depend on the index.
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

    joblib.dump(xsim, tmp_path / "model.joblib")
    np.save(tmp_path / "reference.npy", reference)
    np.save(tmp_path / "query.npy", query)
    refit = "hnsw" == backend  # a pynndescent build compiles for ~20 s
    out = run_python(
        f"""
        import joblib, numpy as np, scipy.sparse as sp
        from skxsim import CrossSimilarity
        tmp = {str(tmp_path)!r}
        query = np.load(tmp + "/query.npy")
        model = joblib.load(tmp + "/model.joblib")
        # The library's own index came back, not a substitute.
        print(type(model.index_._index).__module__.split(".")[0])
        sp.save_npz(tmp + "/loaded.npz", model.transform(query))
        mapped = joblib.load(tmp + "/model.joblib", mmap_mode="r")
        sp.save_npz(tmp + "/mapped.npz", mapped.transform(query))
        if {refit}:
            fresh = CrossSimilarity(**model.get_params())
            fresh.fit(np.load(tmp + "/reference.npy"))
            sp.save_npz(tmp + "/refit.npz", fresh.transform(query))
        """
    )
    assert out.strip() == LIBRARY[backend]
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
def test_memory_cache_reuses_the_approximate_index(tmp_path, backend, index_builds):
    needs(backend)
    builds = index_builds
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
        xsim = CrossSimilarity(
            k=20, mode="distance", algorithm="hnsw", algorithm_params=params
        )
        xsim.fit(reference)
        assert xsim.index_._index.ef == ef  # the library searches with it
        return xsim.transform(query)

    low = graph(2)
    np.testing.assert_array_equal(np.diff(low.indptr), 20)
    assert (low != graph(20)).nnz == 0  # searched with max(ef, k)
    assert_true_distances(graph(80), query, reference)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backend", BACKENDS)
def test_what_an_approximate_search_guarantees(backend, dtype):
    # Whatever the library finds: exactly k distinct neighbours per row, in
    # ascending column order, with their true distances; and, with the
    # default parameters, most of the true k nearest (measured: recall 1.0
    # for hnsw, 0.985 for nndescent; the floor leaves room for the
    # libraries' versions).
    needs(backend)
    reference, query = (a.astype(dtype) for a in hard_data(6))
    k = 10
    xsim = CrossSimilarity(k=k, mode="distance", algorithm=backend)
    graph = xsim.fit(reference).transform(query)
    np.testing.assert_array_equal(np.diff(graph.indptr), k)
    found = graph.indices.reshape(-1, k)
    assert (np.diff(found, axis=1) > 0).all()
    assert_true_distances(graph, query, reference)
    truth = brute.knn(brute.cdist(query, reference), k)
    recall = np.mean(
        [np.intersect1d(f, t).size / k for f, t in zip(found, truth, strict=True)]
    )
    assert recall >= 0.95


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
    assert_same_graph(got, expected)


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
    assert_same_graph(xsim.transform(query), expected)


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


@pytest.mark.parametrize("locked", [True, False])
def test_nndescent_queries_are_serialised(monkeypatch, clusters, locked):
    # pynndescent's query writes into one buffer kept on the index: two
    # threads must never be inside it at once. Two blocks are made to reach
    # the index together; the first to enter the library's query then waits
    # there for the other, which only the index's lock keeps out. With the
    # lock taken away (locked=False) the same check must see both inside.
    needs("nndescent")
    reference, _ = clusters
    query = np.tile(reference, (8, 1))
    xsim = CrossSimilarity(k=5, algorithm="nndescent", n_jobs=2).fit(reference)
    index = xsim.index_
    if not locked:
        monkeypatch.setattr(index, "_lock", contextlib.nullcontext())

    arrivals = threading.Barrier(2, timeout=60)
    state = threading.Lock()
    calls, entries, inside, most = [0], [0], [0], [0]
    other_inside = threading.Event()
    serial = threading.Lock()  # the library runs one query at a time anyway
    kneighbors_block, library_query = index.kneighbors_block, index._index.query

    def arrive_together(*args, **kwargs):
        with state:
            calls[0] += 1
            first_two = calls[0] <= 2
        if first_two:
            arrivals.wait()  # a broken barrier: the blocks never overlapped
        return kneighbors_block(*args, **kwargs)

    def watched(*args, **kwargs):
        with state:
            entries[0] += 1
            first = entries[0] == 1
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            if inside[0] > 1:
                other_inside.set()
        try:
            if first:  # the other block is at the lock: give it time to enter
                other_inside.wait(timeout=1.0)
            with serial:
                return library_query(*args, **kwargs)
        finally:
            with state:
                inside[0] -= 1

    monkeypatch.setattr(index, "kneighbors_block", arrive_together)
    monkeypatch.setattr(index._index, "query", watched)
    with sklearn.config_context(working_memory=0.1):  # several blocks
        graph = xsim.transform(query)
    assert most[0] == (1 if locked else 2)
    expected = CrossSimilarity(k=5).fit(reference).transform(query)
    assert (graph != expected).nnz == 0
