"""The metric registry: every metric scikit-learn's NearestNeighbors accepts
works in both faces, with one definition of its distances whatever the path;
metric parameters are checked; huge values are computed or refused."""

import warnings

import numpy as np
import pytest
from _brute import cdist, knn
from sklearn.neighbors import VALID_METRICS, NearestNeighbors

from skxsim import CrossSimilarity, cross_similarity
from skxsim._neighbors import ALL_METRICS

PARAMS = {
    "seuclidean": lambda d, rng: {"V": rng.random(d) + 0.5},
    "mahalanobis": lambda d, rng: {"VI": np.eye(d) + 0.1},
    "minkowski": lambda d, rng: {"p": 3},
    "p": lambda d, rng: {"p": 1.5},
}
NEEDS_PARAMS = {"seuclidean", "mahalanobis"}


def frames(rng, n, metric):
    d = 2 if metric == "haversine" else 5
    X = rng.random((n, d))
    if metric not in ("haversine",):
        X[rng.random((n, d)) < 0.3] = 0  # boolean metrics see the zeros
    return X


def sklearn_knn(X, R, k, metric, params):
    """scikit-learn's k smallest distances per row (the definition)."""
    algorithm = "brute" if metric in VALID_METRICS["brute"] else "ball_tree"
    params = dict(params)
    p = params.pop("p", 2)
    if metric == "p":  # NearestNeighbors ignores its own p for metric="p"
        metric, algorithm = "minkowski", "brute"
    nn = NearestNeighbors(
        n_neighbors=k, algorithm=algorithm, metric=metric, p=p, metric_params=params
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # boolean metrics convert floats
        return np.sort(nn.fit(R).kneighbors(X)[0], axis=1)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataConversionWarning")
@pytest.mark.parametrize("metric", ALL_METRICS)
def test_every_metric_in_both_faces(rng, metric):
    X, R = frames(rng, 12, metric), frames(rng, 40, metric)
    params = PARAMS.get(metric, lambda d, rng: {})(X.shape[1], rng)
    k = 4
    est = CrossSimilarity(k=k, metric=metric, metric_params=params, mode="distance")
    out = est.fit(R).transform(X)
    assert np.all(np.diff(out.indptr) == k)
    got = np.sort(out.data.reshape(len(X), k), axis=1)
    np.testing.assert_allclose(got, sklearn_knn(X, R, k, metric, params), rtol=1e-9)
    # full=True gives the same values on the k-NN entries.
    full = CrossSimilarity(
        k=k, metric=metric, metric_params=params, mode="distance", full=True
    )
    dense = full.fit(R).transform(X).toarray()
    rows = np.repeat(np.arange(len(X)), k)
    np.testing.assert_array_equal(dense[rows, out.indices], out.data)
    if metric in NEEDS_PARAMS:
        with pytest.raises(ValueError, match=f"metric={metric!r} needs"):
            cross_similarity(X.T, R.T, k=k, metric=metric)
        return
    if metric in PARAMS:
        return  # the function has no metric_params (librosa's signature)
    xsim = cross_similarity(X.T, R.T, k=k, metric=metric, mode="distance")
    np.testing.assert_array_equal(xsim, out.toarray().T)
    pattern = out.copy()
    pattern.data[:] = 1  # distances may be exactly 0
    assert np.array_equal(
        cross_similarity(X.T, R.T, k=k, metric=metric), pattern.toarray().T != 0
    )


def test_braycurtis_full_matches_knn_and_librosa():
    librosa = pytest.importorskip("librosa")
    rng = np.random.default_rng(1)
    data, ref = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    full = cross_similarity(
        data, ref, k=2, metric="braycurtis", mode="distance", full=True
    )
    knn = cross_similarity(data, ref, k=2, metric="braycurtis", mode="distance")
    np.testing.assert_array_equal(full, knn)  # k = n_ref: every entry
    u, v = data.T[:, None, :], ref.T[None, :, :]
    expected = np.abs(u - v).sum(-1) / (np.abs(u) + np.abs(v)).sum(-1)
    np.testing.assert_allclose(full, expected.T, rtol=1e-12)
    theirs = librosa.segment.cross_similarity(
        data, ref, k=2, metric="braycurtis", mode="distance"
    )
    np.testing.assert_allclose(full, theirs, rtol=1e-12)


@pytest.mark.parametrize(
    "metric, params, match",
    [
        ("mahalanobis", {"VI": np.eye(3)}, r"'VI'.* shape \(6, 6\) for 6 features"),
        ("mahalanobis", {}, "exactly one of metric_params\\['VI'\\]"),
        ("seuclidean", None, r"needs metric_params\['V'\], an array of shape \(6,\)"),
        ("seuclidean", {"V": np.ones(4)}, r"shape \(6,\)"),
        ("seuclidean", {"V": -np.ones(6)}, "must be > 0"),
        ("euclidean", {"p": 3}, r"\['p'\] are not parameters of metric='euclidean'"),
        ("minkowski", {"p": 0}, "must be a number > 0"),
        ("minkowski", {"q": 2}, r"\['q'\] are not parameters"),
        ("haversine", None, "2 features"),
        # Singular, indefinite, ragged, complex, non-numeric: named, never a
        # LinAlgError or numpy's own message (issue 16).
        ("mahalanobis", {"V": np.ones((6, 6))}, r"\['V'\].* it is singular"),
        ("mahalanobis", {"V": np.zeros((6, 6))}, r"\['V'\].* it is singular"),
        ("mahalanobis", {"V": -np.eye(6)}, r"\['V'\].* it is indefinite"),
        ("mahalanobis", {"VI": np.diag([1, 1, 1, 1, 1, -1])}, r"\['VI'\].*semi-def"),
        ("mahalanobis", {"V": [[1, 2], [3]]}, r"\['V'\].*finite real numbers"),
        ("mahalanobis", {"VI": 1j * np.eye(6)}, r"\['VI'\].*finite real numbers"),
        ("seuclidean", {"V": "abc"}, r"\['V'\].*finite real numbers"),
        ("minkowski", {"w": [1, 2, 3, 4, 5, np.inf]}, r"\['w'\].*finite real"),
    ],
)
def test_metric_params_are_checked(rng, metric, params, match):
    with pytest.raises(ValueError, match=match) as info:
        CrossSimilarity(metric=metric, metric_params=params).fit(
            rng.standard_normal((20, 6))
        )
    assert not isinstance(info.value, np.linalg.LinAlgError)


@pytest.mark.parametrize(
    "metric", ["euclidean", "cosine", "manhattan", "chebyshev", "minkowski"]
)
def test_huge_values_are_computed(rng, metric):
    R, X = rng.standard_normal((40, 4)), rng.standard_normal((9, 4))
    scale = 1e160
    est = CrossSimilarity(k=3, metric=metric, mode="distance")
    small = est.fit(R).transform(X)
    big = est.fit(R * scale).transform(X * scale)
    np.testing.assert_array_equal(big.indices, small.indices)
    factor = 1.0 if metric == "cosine" else scale
    np.testing.assert_allclose(big.data, small.data * factor, rtol=1e-12)
    tiny = est.fit(R / scale).transform(X / scale)
    np.testing.assert_array_equal(tiny.indices, small.indices)


def test_overflowing_values_are_refused(rng):
    R = rng.standard_normal((40, 4)) * 1e160
    with pytest.raises(ValueError, match="leave float64.s range"):
        CrossSimilarity(k=3, metric="sqeuclidean", mode="distance").fit(R).transform(R)
    est32 = CrossSimilarity(k=3).fit(rng.standard_normal((40, 4)).astype(np.float32))
    with pytest.raises(ValueError, match="too large for float32"):
        est32.transform(np.full((2, 4), 1e39))


# Every (algorithm, metric, metric_params) scikit-learn's NearestNeighbors
# refuses is refused too, or shown equal to brute force (our extensions:
# cosine and sqeuclidean on trees, as euclidean trees; mahalanobis with V).
def _combinations(d, rng):
    for metric in ALL_METRICS:
        if metric == "haversine":
            continue  # 2 features only; covered by the registry tests
        options = [{}] if metric not in NEEDS_PARAMS else []
        if metric in ("minkowski", "p"):
            options = [
                {},
                {"p": 3},
                {"p": 0.5},
                {"p": 2, "w": rng.random(d) * 2},  # some weights below 1
                {"p": 1, "w": rng.random(d) + 0.5},
            ]
        elif metric == "seuclidean":
            options = [{"V": rng.random(d) + 0.5}]
        elif metric == "mahalanobis":
            options = [{"VI": np.eye(d) + 0.1}, {"V": np.eye(d) + 0.2}]
        for params in options:
            yield metric, params


def _sklearn_refuses(algorithm, metric, params, R, X) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nn = NearestNeighbors(
                n_neighbors=4, algorithm=algorithm, metric=metric, metric_params=params
            )
            nn.fit(R).kneighbors(X)
    except ValueError:
        return True
    return False


@pytest.mark.parametrize("algorithm", ["brute", "kd_tree", "ball_tree"])
def test_what_scikit_learn_refuses_is_refused_or_exact(rng, algorithm):
    d = 3
    R0 = rng.standard_normal((300, d))
    X = rng.standard_normal((40, d))
    checked = 0
    for metric, params in _combinations(d, rng):
        R = R0.copy()
        if metric != "correlation":  # undefined for constant frames (refused)
            R[:3] = 0  # zero frames for the boolean and cosine metrics
        refused = _sklearn_refuses(algorithm, metric, params or None, R, X)
        xsim = CrossSimilarity(
            k=4, metric=metric, metric_params=params or None, algorithm=algorithm
        )
        try:
            got = xsim.set_params(mode="distance").fit(R).transform(X)
        except ValueError as exc:
            assert algorithm in str(exc) or metric in str(exc)
            # scikit-learn refuses p < 1 and weights on its trees for
            # "minkowski" but not for its alias "p" (as wrong there): we
            # refuse both.
            alias_refused = metric == "p" and _sklearn_refuses(
                algorithm, "minkowski", params or None, R, X
            )
            assert refused or alias_refused, (algorithm, metric, params)
            continue
        brute = CrossSimilarity(
            k=4, metric=metric, metric_params=params or None, algorithm="brute"
        )
        expected = brute.set_params(mode="distance").fit(R).transform(X)
        assert np.array_equal(got.indices, expected.indices), (algorithm, metric)
        if algorithm == "brute" or metric in ("euclidean", "sqeuclidean", "cosine"):
            assert np.array_equal(got.data, expected.data), (algorithm, metric)
        else:
            # Other metrics' tree distances are the tree's own (DistanceMetric,
            # summed in another order than its pairwise): within a few ulps.
            np.testing.assert_allclose(got.data, expected.data, rtol=1e-14)
        checked += refused
    assert algorithm == "brute" or checked > 0  # our extensions were compared


def test_weighted_minkowski_on_a_kd_tree_is_refused(rng):
    # scikit-learn's KD-tree bounds ignore w: skxsim returned wrong neighbours
    # in most rows (5000 frames, d = 3, some weights below 1) without a word.
    w = np.array([0.2, 1.0, 3.0])
    xsim = CrossSimilarity(
        metric="minkowski", metric_params={"p": 2, "w": w}, algorithm="kd_tree"
    )
    with pytest.raises(ValueError, match="ignore the weights"):
        xsim.fit(rng.random((500, 3)))
    ball = CrossSimilarity(
        k=5, metric="minkowski", metric_params={"p": 2, "w": w}, algorithm="ball_tree"
    )
    R, X = rng.random((2000, 3)), rng.random((100, 3))
    expected = knn(cdist(X, R, "minkowski", p=2, w=w), 5)
    got = ball.fit(R).transform(X)
    np.testing.assert_array_equal(got.indices.reshape(100, 5), expected)
