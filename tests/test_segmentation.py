"""LaplacianSegmentation: each step against a dense oracle (librosa's
gallery recipe), structure recovered, scikit-learn's checks, the errors."""

import io
import pickle

import joblib
import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
from scipy.ndimage import median_filter
from scipy.sparse.csgraph import laplacian
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skxsim import LaplacianSegmentation, RecurrenceMatrix, timelag_filter
from skxsim._structure._laplacian import diagonal_median
from skxsim.structure import pairwise_scores


def song(rng, order, length=40, d=12, noise=0.1):
    """Frames of sections in ``order`` (one random walk per section type)."""
    types = rng.standard_normal((max(order) + 1, length, d)).cumsum(axis=1) * 0.3
    X = np.concatenate([types[t] for t in order])
    return X + noise * rng.standard_normal(X.shape), np.repeat(order, length)


@pytest.mark.parametrize("n", [1, 2, 5, 31, 80])
@pytest.mark.parametrize("density", [0.05, 0.4, 0.95])
@pytest.mark.parametrize("size", [1, 3, 7, 9])
def test_diagonal_median_is_the_dense_timelag_median(rng, n, density, size):
    rec = sp.random(n, n, density=density, random_state=rng, format="csr")
    rec.data += 0.01  # no stored zeros
    expected = timelag_filter(median_filter)(
        rec.toarray(), size=(1, size), mode="constant"
    )
    ours = diagonal_median(rec, size)
    assert sp.issparse(ours) and ours.shape == (n, n)
    np.testing.assert_array_equal(ours.toarray(), expected)


def test_diagonal_median_on_stripes(rng):
    # long diagonals with gaps: the case the filter exists for
    n = 120
    rec = sp.lil_matrix((n, n))
    for lag in (20, 45):
        for t in range(n - lag):
            if rng.random() < 0.7:
                rec[t + lag, t] = rec[t, t + lag] = rng.random() + 0.1
    rec = rec.tocsr()
    expected = timelag_filter(median_filter)(
        rec.toarray(), size=(1, 7), mode="constant"
    )
    np.testing.assert_array_equal(diagonal_median(rec, 7).toarray(), expected)


def dense_recipe(X, rec, n_components, size=7, smooth=9):
    """librosa's gallery recipe, dense, on a given recurrence affinity."""
    Rf = timelag_filter(median_filter)(rec, size=(1, size), mode="constant")
    path_distance = np.sum(np.diff(X, axis=0) ** 2, axis=1)
    path_sim = np.exp(-path_distance / np.median(path_distance))
    R_path = np.diag(path_sim, k=1) + np.diag(path_sim, k=-1)
    deg_path, deg_rec = R_path.sum(axis=1), Rf.sum(axis=1)
    mu = deg_path.dot(deg_path + deg_rec) / np.sum((deg_path + deg_rec) ** 2)
    A = mu * Rf + (1 - mu) * R_path
    evals, evecs = scipy.linalg.eigh(laplacian(A, normed=True))
    evecs = median_filter(evecs, size=(smooth, 1), mode="nearest")
    return mu, evals[:n_components], evecs


@pytest.mark.parametrize("n_sections", [4, 16])  # 160 (dense) and 640 (eigsh)
def test_spectrum_matches_the_dense_recipe(rng, n_sections):
    order = list(rng.integers(0, 3, n_sections))
    X, _ = song(rng, order)
    seg = LaplacianSegmentation(n_clusters=4, median_size=7, random_state=0).fit(X)
    rec = RecurrenceMatrix(width=3, mode="affinity", sym=True).fit_transform(X)
    mu, evals, _ = dense_recipe(X, rec.toarray(), 4)
    assert seg.mu_ == pytest.approx(mu, rel=1e-12)
    np.testing.assert_allclose(seg.eigenvalues_, evals, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("order", [[0, 1, 0, 1], [0, 1, 0, 2, 0, 1], [2, 0, 1, 1, 0]])
def test_recovers_known_structure(rng, order):
    X, y = song(rng, order)
    seg = LaplacianSegmentation(n_clusters=len(set(order)), random_state=0)
    labels = seg.fit_predict(X)
    assert pairwise_scores(y, labels)[2] > 0.95
    truth = np.flatnonzero(np.diff(y)) + 1
    starts = seg.boundaries_[1:]
    assert len(starts) == len(truth)
    assert np.max(np.abs(starts - truth)) <= 3
    assert seg.boundaries_[0] == 0
    np.testing.assert_array_equal(seg.labels_, labels)
    assert labels.dtype == np.intp


def test_auto_finds_the_number_of_section_types(rng):
    X, y = song(rng, [0, 1, 2, 0, 1, 2, 0], noise=0.05)
    seg = LaplacianSegmentation(n_clusters="auto", random_state=0).fit(X)
    assert seg.n_clusters_ == 3
    assert pairwise_scores(y, seg.labels_)[2] > 0.95


def test_score_is_pairwise_f_and_leaves_the_fit(rng):
    X, y = song(rng, [0, 1, 0, 1])
    X2, y2 = song(rng, [0, 1, 1, 0, 2])
    seg = LaplacianSegmentation(n_clusters=3, random_state=0).fit(X)
    labels = seg.labels_.copy()
    expected = pairwise_scores(y2, clone(seg).fit_predict(X2))[2]
    assert seg.score(X2, y2) == pytest.approx(expected)
    np.testing.assert_array_equal(seg.labels_, labels)


def test_seeded_runs_agree_and_pickle(rng):
    X, _ = song(rng, [0, 1, 0, 2])
    a = LaplacianSegmentation(random_state=3).fit(X)
    b = LaplacianSegmentation(random_state=3).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    buffer = io.BytesIO()
    joblib.dump(a, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    np.testing.assert_array_equal(loaded.labels_, a.labels_)
    assert "_skxsim_version" in a.__getstate__()
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(a)).boundaries_, a.boundaries_
    )


@pytest.mark.parametrize("n", [1, 2, 3, 10])
def test_short_sequences(rng, n):
    X = rng.standard_normal((n, 4))
    seg = LaplacianSegmentation(n_clusters=2, random_state=0).fit(X)
    assert seg.labels_.shape == (n,)
    assert seg.n_clusters_ <= n
    assert seg.boundaries_[0] == 0


def test_float32_and_constant_input(rng):
    X, y = song(rng, [0, 1, 0, 1])
    labels = LaplacianSegmentation(n_clusters=2, random_state=0).fit_predict(
        X.astype(np.float32)
    )
    assert pairwise_scores(y, labels)[2] > 0.95
    with pytest.raises(ValueError, match="bandwidth"):  # what to cluster?
        LaplacianSegmentation(n_clusters=2).fit(np.ones((30, 3)))
    flat = LaplacianSegmentation(n_clusters=2, bandwidth=1.0, random_state=0)
    assert flat.fit(np.ones((30, 3))).labels_.shape == (30,)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_clusters": 0}, "n_clusters"),
        ({"n_clusters": True}, "n_clusters"),
        ({"n_clusters": "many"}, "n_clusters"),
        ({"median_size": 4}, "median_size"),
        ({"median_size": 0}, "median_size"),
        ({"mu": 1.5}, "mu"),
        ({"mu": "even"}, "mu"),
        ({"max_clusters": 1}, "max_clusters"),
        ({"k": 0}, "k"),
        ({"bandwidth": -1.0}, "bandwidth"),
        ({"smooth_size": 0}, "smooth_size"),
    ],
)
def test_bad_parameters(rng, params, match):
    X, _ = song(rng, [0, 1])
    with pytest.raises(ValueError, match=match):
        LaplacianSegmentation(**params).fit(X)


def test_numpy_scalars_are_parameters(rng):
    X, y = song(rng, [0, 1, 0])
    seg = LaplacianSegmentation(
        n_clusters=np.int64(2), mu=np.float32(0.5), median_size=np.int32(5)
    )
    assert pairwise_scores(y, seg.fit_predict(X))[2] > 0.9


def test_bad_data(rng):
    with pytest.raises(ValueError, match="NaN|infinity"):
        LaplacianSegmentation().fit(np.full((10, 2), np.nan))
    seg = LaplacianSegmentation(n_clusters=2).fit(rng.standard_normal((20, 3)))
    with pytest.raises(ValueError, match="features"):
        seg.score(rng.standard_normal((20, 4)), np.zeros(20))


_NOT_A_SEQUENCE = (
    "shuffled blobs are not a sequence: the path graph and the median filters "
    "over time assume frames in time order"
)


@parametrize_with_checks(
    [
        LaplacianSegmentation(n_clusters=3, random_state=0),
        LaplacianSegmentation(random_state=0, mu=0.5, median_size=1),
    ],
    expected_failed_checks=lambda est: {"check_clustering": _NOT_A_SEQUENCE},
)
def test_scikit_learn_checks(estimator, check):
    check(estimator)
