"""Tests for TimeDelayEmbedding: parity with librosa and scikit-learn conventions."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skxsim import TimeDelayEmbedding

# Output row i depends on its neighbours in time: that is the point of the
# transformer, and exactly what these two checks forbid.
_ORDER_DEPENDENT = {
    "check_methods_subset_invariance": (
        "a time-delay embedding of a row depends on the preceding rows"
    ),
    "check_methods_sample_order_invariance": (
        "a time-delay embedding depends on the order of the rows (time)"
    ),
}


def _expected_failed_checks(estimator):
    if estimator.n_steps > 1:
        return _ORDER_DEPENDENT
    return {}


@parametrize_with_checks(
    [
        TimeDelayEmbedding(),
        TimeDelayEmbedding(n_steps=1),
        TimeDelayEmbedding(n_steps=3, delay=-2, mode="edge"),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture
def rng():
    return np.random.default_rng(20240611)


PAD_CONFIGS = [
    ("constant", None),
    ("constant", {"constant_values": 0.5}),
    ("edge", None),
    ("reflect", None),
    ("symmetric", None),
    ("wrap", None),
    ("mean", None),
    ("linear_ramp", {"end_values": -1.0}),
]


def _stack_memory_cases(seed=20240611):
    """A sample of the (n_steps, delay, padding, n_frames) grid.

    Every padding with both delay signs, the other parameters drawn from a
    seeded generator, plus the edge cases by hand: the full grid is 480
    cases of one formula.
    """
    rng = np.random.default_rng(seed)
    cases = [
        (1, 1, "constant", None, 17),  # no history: the input itself
        (4, 3, "edge", None, 1),  # one frame, all padding
        (5, -3, "reflect", None, 4),  # span (12 frames) beyond the sequence
        (3, 2, "wrap", None, 4),
        (2, -1, "linear_ramp", {"end_values": -1.0}, 17),
    ]
    for mode, pad_params in PAD_CONFIGS:
        for sign in (1, -1):
            n_steps = int(rng.choice([2, 3, 5]))  # 1 ignores the delay
            delay = sign * int(rng.choice([1, 2, 3]))
            n_frames = int(rng.choice([1, 4, 17]))
            cases.append((n_steps, delay, mode, pad_params, n_frames))
    return [
        pytest.param(
            *case,
            id=f"steps{case[0]}-delay{case[1]}-{case[2]}"
            f"{'-' + str(case[3]) if case[3] else ''}-frames{case[4]}",
        )
        for case in cases
    ]


@pytest.mark.parametrize(
    "n_steps, delay, mode, pad_params, n_frames", _stack_memory_cases()
)
def test_parity_with_librosa_stack_memory(
    rng, n_steps, delay, mode, pad_params, n_frames
):
    librosa = pytest.importorskip("librosa")
    X = rng.standard_normal((n_frames, 3))
    ours = TimeDelayEmbedding(
        n_steps=n_steps, delay=delay, mode=mode, pad_params=pad_params
    ).fit_transform(X)
    theirs = librosa.feature.stack_memory(
        X.T, n_steps=n_steps, delay=delay, mode=mode, **(pad_params or {})
    ).T
    assert ours.shape == (n_frames, 3 * n_steps)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=0)


def test_blocks_are_delayed_copies(rng):
    X = rng.standard_normal((10, 2))
    Y = TimeDelayEmbedding(n_steps=3, delay=2).fit_transform(X)
    np.testing.assert_array_equal(Y[:, :2], X)
    np.testing.assert_array_equal(Y[2:, 2:4], X[:-2])
    np.testing.assert_array_equal(Y[4:, 4:6], X[:-4])
    # zero padding before the start
    np.testing.assert_array_equal(Y[:2, 2:4], 0.0)
    np.testing.assert_array_equal(Y[:4, 4:6], 0.0)


def test_negative_delay_looks_ahead(rng):
    X = rng.standard_normal((6, 2))
    Y = TimeDelayEmbedding(n_steps=2, delay=-1, mode="edge").fit_transform(X)
    np.testing.assert_array_equal(Y[:-1, 2:], X[1:])
    np.testing.assert_array_equal(Y[-1, 2:], X[-1])


def test_float32_preserved(rng):
    X = rng.standard_normal((8, 4)).astype(np.float32)
    assert TimeDelayEmbedding(n_steps=3).fit_transform(X).dtype == np.float32
    X64 = rng.integers(0, 5, size=(8, 4))
    assert TimeDelayEmbedding(n_steps=3).fit_transform(X64).dtype == np.float64


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_steps": 0}, "n_steps"),
        ({"delay": 0}, "delay"),
        ({"mode": "empty"}, "mode"),
        ({"mode": "bogus"}, "mode"),
        ({"pad_params": [1]}, "pad_params"),
    ],
)
def test_invalid_parameters(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        TimeDelayEmbedding(**params).fit(np.ones((3, 2)))


def test_feature_count_mismatch():
    est = TimeDelayEmbedding().fit(np.ones((5, 3)))
    with pytest.raises(ValueError, match="3 features"):
        est.transform(np.ones((5, 4)))


def test_feature_names_out():
    est = TimeDelayEmbedding(n_steps=3, delay=2).fit(np.ones((4, 2)))
    assert list(est.get_feature_names_out()) == [
        "x0_t",
        "x1_t",
        "x0_t-2",
        "x1_t-2",
        "x0_t-4",
        "x1_t-4",
    ]
    est = clone(est).set_params(delay=-1, n_steps=2).fit(np.ones((4, 2)))
    assert list(est.get_feature_names_out(["a", "b"])) == [
        "a_t",
        "b_t",
        "a_t+1",
        "b_t+1",
    ]


def test_parameters_are_keyword_only():
    # scikit-learn convention: TimeDelayEmbedding(10, 3) would read as
    # n_steps=10, delay=3 to some readers and delay=10 to others.
    with pytest.raises(TypeError, match="positional"):
        TimeDelayEmbedding(10, 3)
    assert TimeDelayEmbedding(n_steps=10, delay=3).get_params()["delay"] == 3
