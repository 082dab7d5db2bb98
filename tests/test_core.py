"""Semantics against brute force (cdist), where skxsim deliberately differs
from librosa or librosa has no counterpart; engine accuracy and invariants."""

import _brute as brute
import numpy as np
import pytest
import scipy.sparse as sp
from _brute import cdist
from sklearn import config_context

from skxsim import CrossSimilarity, cross_similarity
from skxsim._neighbors._select import select_exact

PER_PAIR = ["mean_k", "gmean_k", "mean_k_avg", "gmean_k_avg", "mean_k_avg_and_pair"]


def sequences(rng, n, n_ref, d=6):
    return rng.standard_normal((n, d)), rng.standard_normal((n_ref, d))


# ----------------------------------------------------------------- selection
@pytest.mark.parametrize(
    "b, m, k",
    [
        (5, 10, 3),
        (40, 1000, 7),
        (30, 3000, 141),
        (8, 300, 299),
        (8, 300, 300),
        (3, 5000, 1),
    ],
)
def test_select_exact_matches_lexsort_with_ties(rng, b, m, k):
    S = rng.integers(0, 40, size=(b, m)).astype(float)  # many ties
    counts, cols, values = select_exact(S.copy(), k)
    kk = min(k, m)
    np.testing.assert_array_equal(counts, kk)
    cols = cols.reshape(b, kk)
    np.testing.assert_array_equal(cols, brute.knn(S, kk))
    np.testing.assert_array_equal(
        values.reshape(b, kk), np.take_along_axis(S, cols, axis=1)
    )


# ------------------------------------------------------------ exact matches
@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cosine", "manhattan"])
def test_exact_matches_are_kept(rng, metric):
    X_ref = rng.standard_normal((30, 5))
    X = np.vstack([X_ref[[3, 17, 29]], rng.standard_normal((4, 5))])
    k = 4
    D = cdist(X, X_ref, metric)
    expected = brute.graph(D, k, "distance")

    dist = CrossSimilarity(k=k, metric=metric, mode="distance").fit(X_ref).transform(X)
    for row, col in enumerate([3, 17, 29]):
        # An explicitly stored 0, as scikit-learn's neighbour graphs do.
        assert col in dist.indices[dist.indptr[row] : dist.indptr[row + 1]]
        assert dist[row, col] == 0.0
    assert dist.nnz == len(X) * k
    np.testing.assert_allclose(dist.toarray(), expected, atol=1e-12)

    conn = CrossSimilarity(k=k, metric=metric).fit(X_ref).transform(X)
    assert conn[0, 3] == conn[1, 17] == conn[2, 29] == 1
    aff = CrossSimilarity(k=k, metric=metric, mode="affinity", bandwidth=1.0)
    aff = aff.fit(X_ref).transform(X)
    assert aff[0, 3] == aff[1, 17] == aff[2, 29] == 1.0

    # The librosa-compatible face keeps them too (transposed).
    xsim = cross_similarity(
        X.T, X_ref.T, k=k, metric=metric, mode="distance", sparse=True
    )
    assert xsim.nnz == len(X) * k
    assert xsim.format == "csc" and 3 in xsim.indices[xsim.indptr[0] : xsim.indptr[1]]
    assert xsim[3, 0] == 0


# ------------------------------------------------------------------ full
@pytest.mark.parametrize("n, n_ref", [(5, 40), (40, 5)])
@pytest.mark.parametrize("metric", ["euclidean", "cosine", "chebyshev"])
def test_full_is_full_for_any_n(rng, n, n_ref, metric):
    X, X_ref = sequences(rng, n, n_ref)
    D = cdist(X, X_ref, metric)
    out = cross_similarity(X.T, X_ref.T, k=3, metric=metric, mode="distance", full=True)
    np.testing.assert_allclose(out, D.T, rtol=1e-10, atol=1e-12)

    sigma = np.median(brute.kth_and_mean(D, 3)[0])
    aff = cross_similarity(
        X.T, X_ref.T, k=3, metric=metric, mode="affinity", full=True, sparse=True
    )
    assert aff.nnz == n * n_ref
    np.testing.assert_allclose(aff.toarray(), np.exp(-D / sigma).T, rtol=1e-10)

    est = CrossSimilarity(k=3, metric=metric, mode="distance", full=True).fit(X_ref)
    full = est.transform(X)
    assert sp.issparse(full) and full.nnz == n * n_ref
    np.testing.assert_allclose(full.toarray(), D, rtol=1e-10, atol=1e-12)


def test_full_ignored_for_connectivity(rng):
    X, X_ref = sequences(rng, 10, 20)
    a = cross_similarity(X.T, X_ref.T, k=3, full=True)
    b = cross_similarity(X.T, X_ref.T, k=3)
    np.testing.assert_array_equal(a, b)
    assert a.sum() == 10 * 3


# ------------------------------------------------------------ bandwidths
@pytest.mark.parametrize("n, n_ref", [(8, 25), (25, 8), (12, 12)])
@pytest.mark.parametrize("name", PER_PAIR)
@pytest.mark.parametrize("full", [False, True])
def test_per_pair_bandwidths_function(rng, n, n_ref, name, full):
    X, X_ref = sequences(rng, n, n_ref)
    k = 4
    D = cdist(X, X_ref)
    bw = brute.pair_bandwidth(
        name, D, brute.kth_and_mean(D, k), brute.reference_stats(X_ref, k)
    )
    if full:
        expected = np.exp(-D / bw)
    else:
        expected = brute.graph(D, k, "affinity", bandwidth=bw)
    ours = cross_similarity(
        X.T, X_ref.T, k=k, mode="affinity", bandwidth=name, full=full
    )
    np.testing.assert_allclose(ours, expected.T, rtol=1e-10)


@pytest.mark.parametrize("name", PER_PAIR)
def test_per_pair_bandwidths_estimator(rng, name):
    X, X_ref = sequences(rng, 9, 30)
    k = 5
    D = cdist(X, X_ref)
    r_stats = brute.reference_stats(X_ref, k)
    bw = brute.pair_bandwidth(name, D, brute.kth_and_mean(D, k), r_stats)
    est = CrossSimilarity(k=k, mode="affinity", bandwidth=name, sparse=False).fit(X_ref)
    np.testing.assert_allclose(est.reference_kth_distance_, r_stats[0], rtol=1e-12)
    np.testing.assert_allclose(est.reference_mean_distance_, r_stats[1], rtol=1e-12)
    assert est.bandwidth_ is None
    np.testing.assert_allclose(
        est.transform(X), brute.graph(D, k, "affinity", bw), rtol=1e-10
    )


@pytest.mark.parametrize("bandwidth", [None, "med_k_scalar"])
def test_estimator_median_bandwidth_is_learned_from_reference(rng, bandwidth):
    X, X_ref = sequences(rng, 15, 40)
    k = 6
    est = CrossSimilarity(k=k, mode="affinity", bandwidth=bandwidth).fit(X_ref)
    expected_bw = np.median(brute.reference_stats(X_ref, k)[0])
    assert est.bandwidth_ == pytest.approx(expected_bw, rel=1e-12)
    D = cdist(X, X_ref)
    np.testing.assert_allclose(
        est.transform(X).toarray(),
        brute.graph(D, k, "affinity", expected_bw),
        rtol=1e-10,
    )
    # A row's output does not depend on the other rows.
    np.testing.assert_allclose(
        est.transform(X[4:6]).toarray(), est.transform(X).toarray()[4:6]
    )


def test_median_bandwidth_counts_exact_matches(rng):
    # librosa would drop the zero distances before taking the k-th; we keep them.
    X_ref = rng.standard_normal((20, 4))
    X = np.vstack([X_ref[:6], rng.standard_normal((3, 4))])
    D = cdist(X, X_ref)
    sigma = np.median(brute.kth_and_mean(D, 2)[0])
    out = cross_similarity(X.T, X_ref.T, k=2, mode="affinity")
    np.testing.assert_allclose(out, brute.graph(D, 2, "affinity", sigma).T, rtol=1e-10)


def test_zero_per_pair_bandwidth_takes_the_limit():
    X_ref = np.repeat(np.eye(3), 3, axis=0)  # every frame has 2 exact duplicates
    X = np.array([[1.0, 0, 0], [0.5, 0.5, 0]])
    out = (
        CrossSimilarity(k=2, mode="affinity", bandwidth="gmean_k", sparse=False)
        .fit(X_ref)
        .transform(X)
    )
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out[0], [1, 1, 0, 0, 0, 0, 0, 0, 0])


# ----------------------------------------------------- two faces, one engine
@pytest.mark.parametrize(
    "mode, bandwidth", [("connectivity", None), ("distance", None), ("affinity", 0.7)]
)
@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan", "correlation"])
@pytest.mark.parametrize("full", [False, True])
def test_estimator_equals_function(rng, mode, bandwidth, metric, full):
    X, X_ref = sequences(rng, 17, 23)
    params = dict(k=4, metric=metric, mode=mode, bandwidth=bandwidth, full=full)
    est = CrossSimilarity(**params, sparse=False).fit(X_ref)
    np.testing.assert_array_equal(
        est.transform(X).T, cross_similarity(X.T, X_ref.T, **params)
    )


@pytest.mark.parametrize(
    "bandwidth", [np.float32(0.5), np.float64(0.5), np.int64(1), np.float16(2.0)]
)
@pytest.mark.parametrize("full", [False, True])
def test_numpy_scalar_bandwidth_is_that_bandwidth(rng, bandwidth, full):
    # The function face used to take any numpy scalar but float64 for "no
    # bandwidth" and silently use the median of the query frames instead.
    X, X_ref = sequences(rng, 30, 40)
    params = dict(k=5, mode="affinity", full=full)
    got = cross_similarity(X.T, X_ref.T, bandwidth=bandwidth, **params)
    D = cdist(X, X_ref)
    expected = np.exp(-D / float(bandwidth))
    if not full:
        expected = brute.graph(D, 5, "affinity", float(bandwidth))
    np.testing.assert_allclose(got.T, expected, rtol=1e-12, atol=0)
    est = CrossSimilarity(bandwidth=bandwidth, sparse=False, **params).fit(X_ref)
    np.testing.assert_array_equal(est.transform(X), got.T)


# ---------------------------------------------------------------- engine
@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cosine"])
def test_engine_accuracy_near_identical_frames(rng, metric):
    # Large norms and tiny differences: the norm expansion cancels badly here.
    X_ref = 1e3 + rng.standard_normal((200, 30))
    X = np.vstack([X_ref[:50] + 1e-6 * rng.standard_normal((50, 30)), X_ref[50:60]])
    est = CrossSimilarity(k=3, metric=metric, mode="distance", full=True, sparse=False)
    ours = est.fit(X_ref).transform(X)
    expected = cdist(X, X_ref, metric)
    if metric == "cosine":
        # cdist's own 1 - cos cancels; compare on a scale it resolves.
        np.testing.assert_allclose(ours, expected, atol=1e-13)
    else:
        np.testing.assert_allclose(ours, expected, rtol=1e-10)
    # Identical frames come out at exactly 0.
    assert np.all(ours[np.arange(50, 60), np.arange(50, 60)] == 0)
    knn = CrossSimilarity(k=3, metric=metric, mode="distance").fit(X_ref).transform(X)
    for i in range(50, 60):
        assert knn[i, i] == 0 and i in knn.indices[knn.indptr[i] : knn.indptr[i + 1]]


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan"])
def test_float32_stays_float32(rng, metric):
    X, X_ref = (a.astype(np.float32) for a in sequences(rng, 40, 60, d=10))
    for mode in ["connectivity", "distance", "affinity"]:
        out = CrossSimilarity(k=5, metric=metric, mode=mode).fit(X_ref).transform(X)
        assert out.dtype == np.float32
    out = (
        CrossSimilarity(k=5, metric=metric, mode="distance", sparse=False)
        .fit(X_ref)
        .transform(X)
    )
    D = cdist(X.astype(np.float64), X_ref.astype(np.float64), metric)
    np.testing.assert_allclose(out, brute.graph(D, 5, "distance"), rtol=2e-5, atol=1e-6)
    assert (
        cross_similarity(X.T, X_ref.T, metric=metric, mode="distance").dtype
        == np.float32
    )


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "cityblock"])
def test_blocks_and_threads_do_not_change_the_result(rng, metric):
    X, X_ref = sequences(rng, 300, 500, d=8)
    est = CrossSimilarity(k=7, metric=metric, mode="distance").fit(X_ref)
    one = est.transform(X)
    with config_context(working_memory=0.05):  # a few rows per block
        many = est.set_params(n_jobs=2).transform(X)
    assert (one != many).nnz == 0
    np.testing.assert_array_equal(one.indices, many.indices)
    D = cdist(X, X_ref, metric)
    np.testing.assert_allclose(one.toarray(), brute.graph(D, 7, "distance"), rtol=1e-10)


def test_large_k_relative_to_reference(rng):
    # Exercises the selection branch without the group-minima bound.
    X, X_ref = sequences(rng, 50, 700)
    D = cdist(X, X_ref)
    for k in [1, 90, 200, 699, 700]:
        out = CrossSimilarity(k=k, mode="distance").fit(X_ref).transform(X)
        np.testing.assert_allclose(
            out.toarray(), brute.graph(D, k, "distance"), rtol=1e-10
        )


# ----------------------------------------------------------- k and backends
def test_k_default_and_clipping(rng):
    X, X_ref = sequences(rng, 5, 50)
    assert CrossSimilarity().fit(X_ref).k_ == min(50, 2 * int(np.ceil(np.sqrt(50))))
    assert CrossSimilarity(k=500).fit(X_ref).k_ == 50
    for n_ref in [1, 2, 3]:
        assert CrossSimilarity().fit(X_ref[:n_ref]).k_ == n_ref


@pytest.mark.parametrize("algorithm", ["brute", "kd_tree", "ball_tree", "ckd_tree"])
@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "chebyshev"])
def test_backends_agree(rng, algorithm, metric):
    X, X_ref = sequences(rng, 30, 80)
    auto = CrossSimilarity(k=6, metric=metric, mode="distance").fit(X_ref).transform(X)
    other = CrossSimilarity(k=6, metric=metric, mode="distance", algorithm=algorithm)
    other = other.fit(X_ref).transform(X)
    np.testing.assert_array_equal(auto.indices, other.indices)
    np.testing.assert_allclose(auto.data, other.data, rtol=1e-10)


def test_metric_params(rng):
    X, X_ref = sequences(rng, 10, 30)
    est = CrossSimilarity(
        k=4, metric="minkowski", metric_params={"p": 3}, mode="distance"
    )
    D = cdist(X, X_ref, "minkowski", p=3)
    np.testing.assert_allclose(
        est.fit(X_ref).transform(X).toarray(), brute.graph(D, 4, "distance"), rtol=1e-10
    )


def test_graph_invariants(rng):
    X, X_ref = sequences(rng, 25, 60)
    out = CrossSimilarity(k=5, mode="distance").fit(X_ref).transform(X)
    assert out.format == "csr" and out.shape == (25, 60)
    assert out.has_sorted_indices
    assert np.all(np.diff(out.indices.reshape(25, 5), axis=1) > 0)
    np.testing.assert_array_equal(out.indptr, np.arange(0, 25 * 5 + 1, 5))
    conn = CrossSimilarity(k=5, sparse=False).fit(X_ref).transform(X)
    assert conn.dtype == np.float64 and set(np.unique(conn)) == {0.0, 1.0}
    names = CrossSimilarity(k=5).fit(X_ref).get_feature_names_out()
    assert len(names) == 60 and names[0] == "crosssimilarity0"
