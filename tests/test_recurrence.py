"""Recurrence matrices: the deliberate differences from librosa 0.11, the
estimator, its backends and pipelines, and the errors; checked against the
cdist oracle of _recurrence_oracle."""

import numpy as np
import pytest
import scipy.sparse as sp
from _recurrence_oracle import recurrence as oracle
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from skxsim import RecurrenceMatrix, TimeDelayEmbedding, recurrence_matrix

try:
    import librosa
except ImportError:  # the differences are still checked against the oracle
    librosa = None

# librosa's behaviour is asserted only for the version whose defects the
# CHANGELOG documents.
LIBROSA_011 = librosa is not None and librosa.__version__.startswith("0.11")


def assert_matches(ours, expected, entries, rtol=1e-9):
    """Function output (librosa orientation) against the oracle (rows)."""
    dense = ours.toarray() if sp.issparse(ours) else ours
    np.testing.assert_allclose(dense.T, expected, rtol=rtol, atol=1e-12)
    if sp.issparse(ours):
        coo = ours.tocoo()
        got = set(zip(coo.col.tolist(), coo.row.tolist(), strict=True))
        assert got == set(zip(*np.nonzero(entries), strict=True))


def walk(rng, n, d):
    """Smooth frames, like audio features: a random walk."""
    return np.cumsum(rng.standard_normal((n, d)), axis=0)


# ------------------------------------------------ deliberate differences


@pytest.mark.parametrize("kwargs", [{}, {"k": 3}, {"k": 3, "width": 3}])
def test_connectivity_keeps_the_true_nearest_neighbours(kwargs):
    X = np.random.default_rng(0).standard_normal((3, 40))  # the data
    expected, entries = oracle(X.T, **kwargs)
    ours = recurrence_matrix(X, **kwargs)
    assert_matches(ours, expected, entries)
    # The connectivity is the pattern of the distance output.
    np.testing.assert_array_equal(
        ours, recurrence_matrix(X, mode="distance", **kwargs) != 0
    )
    if LIBROSA_011:  # librosa keeps the lowest-numbered candidates
        theirs = librosa.segment.recurrence_matrix(X, **kwargs)
        assert (theirs != ours).any(axis=0).sum() > 10


@pytest.mark.parametrize("mode", ["connectivity", "distance", "affinity"])
@pytest.mark.parametrize("sparse", [False, True])
def test_exact_matches_are_kept(rng, mode, sparse):
    verse = rng.standard_normal((6, 10))
    data = np.concatenate([verse, rng.standard_normal((6, 15)), verse], axis=1)
    kwargs = dict(k=2, mode=mode, sparse=sparse, bandwidth=None)
    expected, entries = oracle(data.T, k=2, mode=mode)
    ours = recurrence_matrix(data, **kwargs)
    assert_matches(ours, expected, entries)
    # Frame j of the verse and its repeat j + 25 are neighbours at distance 0.
    repeats = (np.arange(25, 35), np.arange(10))
    value = {"connectivity": True, "distance": 0.0, "affinity": 1.0}[mode]
    dense = ours.toarray() if sparse else ours
    assert np.all(dense[repeats] == value)
    if sparse:  # stored, zeros included
        assert np.all(_stored(ours)[repeats])
    if LIBROSA_011 and mode == "distance" and sparse:  # eliminated zeros
        theirs = librosa.segment.recurrence_matrix(data, **kwargs).tocoo()
        assert not set(zip(*repeats, strict=True)) & set(
            zip(theirs.row.tolist(), theirs.col.tolist(), strict=True)
        )


def test_full_leaves_connectivity_unchanged(rng):
    X = rng.standard_normal((3, 40))
    kwargs = dict(k=3, width=3)
    expected, entries = oracle(X.T, **kwargs)
    ours = recurrence_matrix(X, full=True, **kwargs)
    assert_matches(ours, expected, entries)
    np.testing.assert_array_equal(ours.sum(axis=0), 3)
    if LIBROSA_011:  # librosa keeps k + 2 * width neighbours, band included
        theirs = librosa.segment.recurrence_matrix(X, full=True, **kwargs)
        np.testing.assert_array_equal(theirs.sum(axis=0), 9)


@pytest.mark.parametrize(
    "bandwidth",
    [
        None,
        "med_k_scalar",
        "mean_k",
        "gmean_k",
        "mean_k_avg",
        "gmean_k_avg",
        "mean_k_avg_and_pair",
    ],
)
def test_sym_bandwidth_from_each_frames_own_neighbours(rng, bandwidth):
    X = walk(rng, 200, 12)
    X[[50, 120]] += 30 * rng.standard_normal((2, 12))  # two transients
    kwargs = dict(mode="affinity", bandwidth=bandwidth, sym=True, width=3)
    expected, entries = oracle(X, **kwargs)
    ours = recurrence_matrix(X.T, sparse=True, **kwargs)
    assert_matches(ours, expected, entries)
    # The same bandwidth as without sym, on the mutual pairs.
    one_sided = recurrence_matrix(X.T, **{**kwargs, "sym": False})
    mutual = ours.toarray() != 0
    np.testing.assert_allclose(ours.toarray()[mutual], one_sided[mutual], rtol=1e-12)
    # The transients have no mutual neighbours: no entries, no trouble.
    assert ours[:, [50, 120]].nnz == 0
    if LIBROSA_011 and bandwidth not in (None, "med_k_scalar"):
        with pytest.raises(librosa.ParameterError, match="has no neighbors"):
            librosa.segment.recurrence_matrix(X.T, **kwargs)


@pytest.mark.parametrize("sparse", [False, True])
def test_ndarray_bandwidth_with_self(rng, sparse):
    X = rng.standard_normal((40, 4))
    bandwidth = rng.uniform(0.5, 2.0, size=(40, 40))
    kwargs = dict(k=4, mode="affinity", bandwidth=bandwidth)
    expected, entries = oracle(X, include_self=True, **kwargs)
    ours = recurrence_matrix(X.T, self=True, sparse=sparse, **kwargs)
    assert_matches(ours, expected, entries)
    np.testing.assert_array_equal(np.diag(expected), 1.0)
    if LIBROSA_011:
        with pytest.raises(ValueError, match="broadcast"):
            librosa.segment.recurrence_matrix(X.T, self=True, **kwargs)


def test_self_links_in_sparse_distance_are_stored_zeros(rng):
    X = rng.standard_normal((4, 30))
    ours = recurrence_matrix(X, k=3, mode="distance", self=True, sparse=True)
    assert ours.nnz == 30 * 4
    np.testing.assert_array_equal(ours.tocsr()[np.arange(30), np.arange(30)].A1, 0)
    expected, entries = oracle(X.T, k=3, mode="distance", include_self=True)
    assert_matches(ours, expected, entries)


@pytest.mark.parametrize("mode", ["distance", "affinity"])
@pytest.mark.parametrize("sym", [False, True])
@pytest.mark.parametrize("self", [False, True])
def test_full_against_the_oracle(rng, mode, sym, self):
    X = rng.standard_normal((25, 3))
    X[20] = X[3]  # an exact match inside the full matrix
    kwargs = dict(k=4, width=3, mode=mode, sym=sym)
    expected, entries = oracle(X, include_self=self, full=True, **kwargs)
    for sparse in (False, True):
        ours = recurrence_matrix(X.T, self=self, full=True, sparse=sparse, **kwargs)
        assert_matches(ours, expected, entries)


def lopsided(u, v):
    """A distance that is not symmetric: it costs more to go up than down."""
    return float(np.abs(u - v).sum() + 0.5 * max(v.sum() - u.sum(), 0.0))


@pytest.mark.parametrize("full", [False, True])
def test_sym_keeps_the_smaller_of_two_asymmetric_distances(rng, full):
    X = rng.standard_normal((25, 2))
    kwargs = dict(k=5, mode="distance", sym=True, full=full)
    expected, entries = oracle(X, metric=lopsided, **kwargs)
    ours = recurrence_matrix(X.T, metric=lopsided, sparse=True, **kwargs)
    assert_matches(ours, expected, entries)
    dense = ours.toarray()
    np.testing.assert_array_equal(dense, dense.T)


@pytest.mark.parametrize("mode", ["distance", "affinity"])
def test_float32_stays_float32(rng, mode):
    X = walk(rng, 120, 12).astype(np.float32)
    expected, entries = oracle(X.astype(np.float64), k=5, mode=mode)
    ours = recurrence_matrix(X.T, k=5, mode=mode, sparse=True)
    assert ours.dtype == np.float32
    assert_matches(ours, expected, entries, rtol=1e-5)
    est = RecurrenceMatrix(k=5, mode=mode).fit_transform(X)
    assert est.dtype == np.float32


# ------------------------------------------------------------ estimator

IDENTITY_PARAMS = [
    {},
    {"k": 4, "width": 3, "mode": "distance"},
    {"mode": "affinity", "bandwidth": "gmean_k", "sym": True},
    {"mode": "affinity", "bandwidth": 0.5, "include_self": True, "width": 2},
    {"mode": "distance", "full": True, "sym": True},
    {"metric": "manhattan", "mode": "affinity", "include_self": True},
]


@pytest.mark.parametrize("params", IDENTITY_PARAMS)
@pytest.mark.parametrize("sparse", [False, True])
def test_estimator_is_the_function_transposed(rng, params, sparse):
    X = walk(rng, 60, 5)
    ours = RecurrenceMatrix(sparse=sparse, **params).fit_transform(X)
    function_params = {
        ("self" if key == "include_self" else key): value
        for key, value in params.items()
    }
    theirs = recurrence_matrix(X.T, sparse=sparse, **function_params).T
    if sparse:
        assert ours.format == "csr"
        np.testing.assert_array_equal(ours.indptr, theirs.tocsr().indptr)
        ours, theirs = ours.toarray(), theirs.toarray()
    np.testing.assert_array_equal(ours, theirs.astype(ours.dtype))


@pytest.mark.parametrize(
    "algorithm", ["auto", "brute", "kd_tree", "ball_tree", "ckd_tree"]
)
@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan"])
@pytest.mark.parametrize("width", [1, 4])
def test_every_exact_algorithm_against_the_oracle(rng, algorithm, metric, width):
    X = walk(rng, 80, 3)
    X[50:60] = X[10:20]  # exact matches, and ties among them
    est = RecurrenceMatrix(
        k=6, width=width, metric=metric, mode="distance", algorithm=algorithm
    )
    ours = est.fit_transform(X)
    expected, entries = oracle(X, k=6, width=width, metric=metric, mode="distance")
    np.testing.assert_array_equal(_stored(ours), entries)
    np.testing.assert_allclose(ours.toarray(), expected, rtol=1e-9, atol=1e-12)


def _stored(matrix):
    mask = np.zeros(matrix.shape, dtype=bool)
    coo = matrix.tocoo()
    mask[coo.row, coo.col] = True
    return mask


# nndescent shares the band filter of the approximate indexes; its numba
# compilation would take most of a minute here.
@pytest.mark.parametrize("algorithm", ["hnsw"])
def test_approximate_algorithms_respect_the_band(rng, algorithm):
    pytest.importorskip("hnswlib")
    # Far-apart clusters of 8 frames: every frame's 5 nearest outside a
    # band of 2 lie in its cluster, which an approximate search finds.
    centers = 100 * rng.standard_normal((10, 4))
    X = np.repeat(centers, 8, axis=0) + rng.standard_normal((80, 4))
    est = RecurrenceMatrix(k=5, width=2, mode="distance", algorithm=algorithm)
    ours = est.fit_transform(X)
    expected, entries = oracle(X, k=5, width=2, mode="distance")
    np.testing.assert_array_equal(_stored(ours), entries)
    np.testing.assert_allclose(ours.toarray(), expected, rtol=1e-9)


def test_threads_give_the_same_matrix(rng):
    X = walk(rng, 3000, 12)
    one = RecurrenceMatrix(mode="distance", n_jobs=1).fit_transform(X)
    two = RecurrenceMatrix(mode="distance", n_jobs=2).fit_transform(X)
    assert (one != two).nnz == 0
    np.testing.assert_array_equal(one.indices, two.indices)


@pytest.mark.parametrize("n", [1, 2, 3, 6])
@pytest.mark.parametrize("width", [1, 2, 5])
def test_short_sequences_and_wide_bands(rng, n, width):
    """Rows with fewer than k frames outside the band keep them all."""
    X = rng.standard_normal((n, 2))
    for mode in ["connectivity", "distance"]:
        ours = RecurrenceMatrix(mode=mode, width=width).fit_transform(X)
        expected, entries = oracle(X, mode=mode, width=width)
        np.testing.assert_array_equal(_stored(ours), entries)
        np.testing.assert_allclose(ours.toarray(), expected)


def test_pipeline_after_time_delay_embedding(rng):
    X = walk(rng, 150, 4)
    model = Pipeline(
        [
            ("embed", TimeDelayEmbedding(n_steps=3, delay=2)),
            ("rec", RecurrenceMatrix(k=5, width=3, mode="affinity", sym=True)),
        ]
    )
    ours = model.fit(X).transform(X)
    # The embedding, by hand: each frame with the frames 2 and 4 before it
    # (zeros before the start).
    padded = np.concatenate([np.zeros((4, 4)), X])
    stacked = np.concatenate([padded[4:], padded[2:-2], padded[:-4]], axis=1)
    expected, entries = oracle(stacked, k=5, width=3, mode="affinity", sym=True)
    np.testing.assert_array_equal(_stored(ours), entries)
    np.testing.assert_allclose(ours.toarray(), expected, rtol=1e-9)
    assert clone(model).fit_transform(X).nnz == ours.nnz


def test_fit_learns_nothing_but_the_feature_count(rng):
    est = RecurrenceMatrix(k=3).fit(rng.standard_normal((10, 4)))
    X = rng.standard_normal((30, 4))
    np.testing.assert_array_equal(
        est.transform(X).toarray(), RecurrenceMatrix(k=3).fit_transform(X).toarray()
    )
    assert est.n_features_in_ == 4
    with pytest.raises(ValueError, match="features"):
        est.transform(rng.standard_normal((30, 5)))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"width": 0}, "width"),
        ({"k": 0}, "'k'"),
        ({"mode": "nope"}, "mode"),
        ({"bandwidth": -1.0}, "bandwidth"),
        ({"bandwidth": np.ones((5, 5))}, "ndarray"),
        ({"algorithm": "kd_tree", "metric": "correlation"}, "not supported"),
        ({"metric": "minkowski", "metric_params": {"q": 1}}, "metric_params"),
    ],
)
def test_estimator_errors(rng, params, match):
    with pytest.raises(ValueError, match=match):
        RecurrenceMatrix(**params).fit(rng.standard_normal((10, 3)))


@pytest.mark.parametrize("bandwidth", [None, "med_k_scalar", "mean_k", "gmean_k_avg"])
@pytest.mark.parametrize("width", [10, 25])
def test_a_band_that_leaves_no_neighbour_is_named(rng, bandwidth, width):
    # Every frame within `width` of every other: no frame has a neighbour to
    # estimate a bandwidth from.  The error blamed exact duplicates.
    X = rng.standard_normal((10, 3))
    model = RecurrenceMatrix(width=width, mode="affinity", bandwidth=bandwidth)
    with pytest.raises(ValueError, match=f"width={width}") as error:
        model.fit_transform(X)
    assert "duplicate" not in str(error.value)
    # A fixed bandwidth needs no neighbours: the matrix is empty.
    fixed = RecurrenceMatrix(width=width, mode="affinity", bandwidth=1.0)
    assert fixed.fit_transform(X).nnz == 0


def test_data_driven_bandwidth_of_duplicates_is_an_error():
    with pytest.raises(ValueError, match="bandwidth"):
        RecurrenceMatrix(mode="affinity").fit_transform(np.zeros((10, 3)))


# -------------------------------------------------------- function errors


@pytest.mark.parametrize(
    "data, match",
    [
        ([[1.0, 2.0, 3.0], [1.0, 2.0]], "data is not a rectangular array"),
        (np.ones((3, 30)) * 1j, "data holds complex values"),
    ],
)
def test_data_that_is_not_an_array_of_numbers_is_named(data, match):
    # numpy's "inhomogeneous shape" and scikit-learn's "Complex data not
    # supported" (with the whole array) named nothing.
    with pytest.raises(ValueError, match=match):
        recurrence_matrix(data)


@pytest.mark.parametrize("width", [-1, 0, 4, 11])
def test_width_bounds(width):
    data = np.random.default_rng(0).standard_normal((3, 10))
    with pytest.raises(ValueError, match="width"):
        recurrence_matrix(data, width=width)
    recurrence_matrix(data, width=3)  # (10 - 1) // 2 = 4 is the first refused
    if librosa is not None:
        with pytest.raises(librosa.ParameterError):
            recurrence_matrix(data, width=width)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"mode": "NOT A MODE"}, "mode"),
        ({"bandwidth": -2, "mode": "affinity"}, "bandwidth"),
        ({"bandwidth": "FAKE", "mode": "affinity"}, "bandwidth"),
        ({"bandwidth": np.ones((2, 5)), "mode": "affinity"}, "shape"),
        ({"bandwidth": -np.ones((30, 30)), "mode": "affinity"}, "> 0"),
        ({"self": "yes"}, "self"),
        ({"axis": 2}, "axis"),
        ({"k": 0}, "'k'"),
    ],
)
def test_function_errors(kwargs, match):
    data = np.random.default_rng(0).standard_normal((3, 30))
    with pytest.raises(ValueError, match=match):
        recurrence_matrix(data, **kwargs)
    if librosa is not None:
        with pytest.raises(librosa.ParameterError):
            recurrence_matrix(data, **kwargs)


@pytest.mark.parametrize(
    "data, match",
    [
        (sp.csr_matrix(np.ones((3, 30))), "toarray"),
        (np.ones((3, 0)), "0 sample"),
        (np.full((3, 30), np.nan), "NaN"),
    ],
)
def test_function_bad_data(data, match):
    with pytest.raises(ValueError, match=match):
        recurrence_matrix(data)


def test_zero_frames_all_alike():
    # Every frame the same: the median bandwidth is 0 (librosa: NaN).
    with pytest.raises(ValueError, match="bandwidth"):
        recurrence_matrix(np.zeros((10, 10)), mode="affinity")
    data = np.zeros((10, 10))
    data[0, 5] = 1
    # Per-pair bandwidths of 0 take the limit: affinity 1 at distance 0.
    rec = recurrence_matrix(data, mode="affinity", bandwidth="mean_k")
    expected, _ = oracle(data.T, mode="affinity", bandwidth="mean_k")
    np.testing.assert_allclose(rec.T, expected)
