"""Every bad input gets a clear error naming what is wrong."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skxsim import CrossSimilarity, cross_similarity


@pytest.fixture
def pair(rng):
    return rng.standard_normal((5, 20)), rng.standard_normal((5, 30))  # (d, n)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("which", ["data", "data_ref"])
def test_function_rejects_non_finite(pair, bad, which):
    data, data_ref = pair
    (data if which == "data" else data_ref)[2, 3] = bad
    with pytest.raises(ValueError, match=f"Input {which} contains (NaN|infinity)"):
        cross_similarity(data, data_ref)


@pytest.mark.parametrize("shape", [(5, 0), (0, 7)])
def test_function_rejects_empty(pair, shape):
    with pytest.raises(ValueError, match=r"0 (sample|feature)\(s\)"):
        cross_similarity(np.zeros(shape), pair[1] if shape[0] else np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"0 (sample|feature)\(s\)"):
        cross_similarity(pair[0] if shape[0] else np.zeros((0, 3)), np.zeros(shape))


def test_function_feature_mismatch_names_both_shapes(rng):
    with pytest.raises(
        ValueError, match=r"data.shape=\(5, 20\) and data_ref.shape=\(6, 30\)"
    ):
        cross_similarity(rng.standard_normal((5, 20)), rng.standard_normal((6, 30)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"k": 0}, "'k' parameter of cross_similarity must be an int in the range"),
        ({"k": -3}, "'k' parameter .* Got -3"),
        ({"k": 2.5}, "'k' parameter .* Got 2.5"),
        ({"mode": "affinty"}, "'mode' parameter .* Got 'affinty'"),
        ({"metric": "euclidian"}, "'metric' parameter .* Got 'euclidian'"),
        ({"metric": "precomputed"}, "'metric' parameter .* Got 'precomputed'"),
        ({"mode": "affinity", "bandwidth": 0}, "'bandwidth' parameter .* Got 0"),
        ({"mode": "affinity", "bandwidth": -1.0}, "'bandwidth' parameter .* Got -1.0"),
        ({"mode": "affinity", "bandwidth": np.inf}, "range \\(0.0, inf\\)"),
        ({"mode": "affinity", "bandwidth": "median"}, "'bandwidth' parameter"),
        (
            {"mode": "affinity", "bandwidth": np.ones((30, 20))},
            r"must be \(n, n_ref\) = \(20, 30\)",
        ),
        ({"mode": "affinity", "bandwidth": np.zeros((20, 30))}, "finite and > 0"),
    ],
)
def test_function_bad_parameters(pair, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cross_similarity(*pair, **kwargs)


def test_estimator_transform_before_fit(rng):
    with pytest.raises(NotFittedError):
        CrossSimilarity().transform(rng.standard_normal((3, 4)))


def test_estimator_feature_mismatch_names_both_counts(rng):
    est = CrossSimilarity().fit(rng.standard_normal((10, 5)))
    with pytest.raises(
        ValueError, match="X has 3 features, but CrossSimilarity is expecting 5"
    ):
        est.transform(rng.standard_normal((4, 3)))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_estimator_rejects_non_finite(rng, bad):
    X = rng.standard_normal((10, 4))
    X[1, 1] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        CrossSimilarity().fit(X)
    est = CrossSimilarity().fit(rng.standard_normal((10, 4)))
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        est.transform(X)


def test_estimator_rejects_empty(rng):
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        CrossSimilarity().fit(np.zeros((0, 4)))
    est = CrossSimilarity().fit(rng.standard_normal((10, 4)))
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        est.transform(np.zeros((0, 4)))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"k": 0}, "'k' parameter"),
        ({"mode": "nope"}, "'mode' parameter"),
        ({"metric": "euclidian"}, "'metric' parameter"),
        ({"algorithm": "annoy"}, "'algorithm' parameter"),
        ({"bandwidth": 0.0, "mode": "affinity"}, "'bandwidth' parameter"),
        ({"bandwidth": "median", "mode": "affinity"}, "'bandwidth' parameter"),
        ({"bandwidth": np.ones((3, 10)), "mode": "affinity"}, "cannot be an ndarray"),
    ],
)
def test_estimator_bad_parameters(rng, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        CrossSimilarity(**params).fit(rng.standard_normal((10, 4)))


def test_metric_not_supported_by_tree(rng):
    with pytest.raises(
        ValueError, match="metric='braycurtis' is not supported by algorithm='kd_tree'"
    ):
        CrossSimilarity(metric="braycurtis", algorithm="kd_tree").fit(
            rng.standard_normal((10, 4))
        )


def test_one_frame_reference_with_learned_bandwidth(rng):
    with pytest.raises(ValueError, match=r"at least 2 frames \(n_samples = 1\)"):
        CrossSimilarity(mode="affinity").fit(rng.standard_normal((1, 4)))
    with pytest.raises(ValueError, match="at least 2 frames"):
        cross_similarity(
            rng.standard_normal((4, 6)),
            rng.standard_normal((4, 1)),
            mode="affinity",
            bandwidth="mean_k",
        )
    # A fixed bandwidth needs no neighbours within the reference.
    CrossSimilarity(mode="affinity", bandwidth=1.0).fit(rng.standard_normal((1, 4)))


def test_zero_estimated_bandwidth_is_an_error():
    X_ref = np.repeat(np.eye(3), 4, axis=0)  # each frame has 3 exact duplicates
    with pytest.raises(
        ValueError, match="bandwidth estimated from the reference frames"
    ):
        CrossSimilarity(k=2, mode="affinity").fit(X_ref)
