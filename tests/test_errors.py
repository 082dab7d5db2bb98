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


@pytest.mark.parametrize(
    "metric, metric_params",
    [
        ("braycurtis", None),
        ("minkowski", {"p": 3, "w": np.ones(4)}),
        ("minkowski", {"p": 0.5}),
        ("seuclidean", {"V": np.ones(4)}),
    ],
)
def test_metric_not_computed_by_ckd_tree(rng, metric, metric_params):
    est = CrossSimilarity(
        metric=metric, metric_params=metric_params, algorithm="ckd_tree"
    )
    names = f"(?=.*metric={metric!r})(?=.*algorithm='ckd_tree')"
    with pytest.raises(ValueError, match=names):
        est.fit(rng.standard_normal((10, 4)))


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


# ------------------------------------------------- parameters changed after fit
@pytest.mark.parametrize(
    "change",
    [
        dict(k=5),
        dict(metric="cosine"),
        dict(metric_params={"p": 3}),
        dict(algorithm="ball_tree"),
    ],
)
def test_index_parameter_changed_after_fit(rng, change):
    est = CrossSimilarity(k=3, metric="minkowski").fit(rng.standard_normal((20, 4)))
    name = next(iter(change))
    with pytest.raises(
        ValueError, match=f"{name}=.* differs from {name}=.* used in fit"
    ):
        est.set_params(**change).transform(rng.standard_normal((3, 4)))


def test_mode_changed_after_fit_uses_what_fit_learned(rng):
    R, X = rng.standard_normal((30, 4)), rng.standard_normal((5, 4))
    est = CrossSimilarity(k=3).fit(R)
    # Modes that need nothing learned work right away.
    distance = est.set_params(mode="distance").transform(X)
    assert (
        distance != CrossSimilarity(k=3, mode="distance").fit(R).transform(X)
    ).nnz == 0
    fixed = est.set_params(mode="affinity", bandwidth=2.0).transform(X)
    expected = CrossSimilarity(k=3, mode="affinity", bandwidth=2.0).fit(R)
    assert (fixed != expected.transform(X)).nnz == 0
    # A data-driven bandwidth needs statistics of the reference from fit.
    with pytest.raises(ValueError, match="was fitted with mode='connectivity'"):
        est.set_params(mode="affinity", bandwidth=None).transform(X)
    learned = CrossSimilarity(k=3, mode="affinity", bandwidth="mean_k").fit(R)
    with pytest.raises(ValueError, match="bandwidth='mean_k'"):
        learned.set_params(bandwidth="gmean_k").transform(X)


# ----------------------------------------------------------- output size
def test_output_that_cannot_fit_is_refused_before_allocating(rng, monkeypatch):
    import skxsim._output_size

    monkeypatch.setattr(skxsim._output_size, "available_memory", lambda: 10_000)
    # Outputs alone here: the blocks' and threads' room is tests/test_output_size's.
    monkeypatch.setattr(skxsim._output_size, "THREAD_BYTES", 0)
    monkeypatch.setattr(skxsim._output_size, "BASE_BYTES", 0)
    R = rng.standard_normal((200, 3))
    est = CrossSimilarity(k=150, mode="distance", sparse=False).fit(R)
    with pytest.raises(MemoryError, match=r"would take .* GiB.*sparse=True"):
        est.transform(R)
    with pytest.raises(skxsim.exceptions.OutputTooLargeError, match="smaller k"):
        cross_similarity(R.T, R.T, mode="distance", full=True)
    # Small outputs go through.
    assert est.set_params(sparse=True, k=1).fit(R).transform(R[:5]).nnz == 5


# ----------------------------------------------------- librosa's errors
def test_function_errors_are_librosa_parameter_errors(pair):
    librosa = pytest.importorskip("librosa")
    with pytest.raises(librosa.ParameterError, match="'k' parameter"):
        cross_similarity(*pair, k=0)
    with pytest.raises(librosa.ParameterError, match="do not match"):
        cross_similarity(pair[0], pair[1][:3])
    # Still the same classes as without librosa.
    with pytest.raises(InvalidParameterError):
        cross_similarity(*pair, mode="nope")
    with pytest.raises(ValueError):
        cross_similarity(*pair, metric="cosine", mode="affinity", bandwidth=np.ones(3))


def test_librosa_is_not_imported_for_errors(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, skxsim\n"
        "try:\n"
        "    skxsim.cross_similarity(np.ones((2, 3)), np.ones((2, 3)), k=0)\n"
        "except ValueError:\n"
        "    pass\n"
        "print('librosa' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_sparse_input_names_the_problem(pair):
    import scipy.sparse as sp

    with pytest.raises(ValueError, match=r"data is a scipy.sparse matrix.*toarray"):
        cross_similarity(sp.csr_matrix(pair[0]), pair[1])
    with pytest.raises(ValueError, match=r"data_ref is a scipy.sparse matrix"):
        cross_similarity(pair[0], sp.csr_matrix(pair[1]))


def test_exact_algorithms_take_no_algorithm_params(rng):
    with pytest.raises(ValueError, match="is exact and takes no algorithm_params"):
        CrossSimilarity(algorithm_params={"M": 8}).fit(rng.standard_normal((10, 3)))
