"""timelag_filter: librosa's values on random inputs (dense and sparse),
librosa's own tests, the wrapped function's identity, and the errors."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.ndimage import gaussian_filter, median_filter
from test_lag import lag_by_definition

from skxsim import timelag_filter
from skxsim.recurrence import lag_to_recurrence, recurrence_to_lag

librosa = pytest.importorskip("librosa")


def rec_by_definition(lag):
    T, n = lag.shape
    rec = np.zeros((n, n), dtype=lag.dtype)
    for t in range(n):
        for r in range(n):
            rec[r, t] = lag[(r - t) % T, t]
    return rec


# librosa's tests/test_segment.py: the identity filter at positions 0 and 1.
def test_identity_filter(rng):
    X = rng.standard_normal(size=(15, 15))
    np.testing.assert_allclose(timelag_filter(lambda X: X)(X), X)


def test_identity_filter_index_1(rng):
    X = rng.standard_normal(size=(15, 15))
    f = timelag_filter(lambda _, X: X, index=1)
    np.testing.assert_allclose(f(None, X), X)


@pytest.mark.parametrize("n", [1, 2, 9, 30])
@pytest.mark.parametrize("pad", [True, False])
@pytest.mark.parametrize(
    "function, kwargs",
    [
        (median_filter, {"size": (1, 7)}),
        (median_filter, {"size": (3, 5), "mode": "mirror"}),
        (gaussian_filter, {"sigma": (0.0, 2.0)}),
        (np.cumsum, {"axis": 1}),
    ],
)
def test_librosa_parity(rng, n, pad, function, kwargs):
    rec = rng.random((n, n)) * (rng.random((n, n)) < 0.4)
    ours = timelag_filter(function, pad=pad)(rec, **kwargs)
    theirs = librosa.segment.timelag_filter(function, pad=pad)(rec, **kwargs)
    assert ours.shape == theirs.shape == (n, n)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
    # and by the definition, through loops rather than the strided shear
    expected = rec_by_definition(function(lag_by_definition(rec, pad, -1), **kwargs))
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_index_and_other_arguments_pass_through(rng, index):
    rec = rng.random((8, 8))
    seen = {}

    def spy(*args, **kwargs):
        seen["args"], seen["kwargs"] = args, kwargs
        return args[index]

    args = ["a", "b", "c"]
    args[index] = rec
    out = timelag_filter(spy, index=index)(*args, scale=3)
    assert seen["kwargs"] == {"scale": 3}
    for i, a in enumerate(seen["args"]):
        if i == index:
            np.testing.assert_array_equal(a, recurrence_to_lag(rec, pad=True))
        else:
            assert a == args[i]
    np.testing.assert_array_equal(out, rec)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("pad", [True, False])
def test_sparse_stays_sparse(rng, fmt, pad):
    rec = sp.random(20, 20, density=0.2, format=fmt, random_state=0)

    def double(lag):
        assert sp.issparse(lag) and lag.format == fmt
        return 2 * lag

    out = timelag_filter(double, pad=pad)(rec)
    assert sp.issparse(out)
    np.testing.assert_allclose(out.toarray(), 2 * rec.toarray())
    # librosa (which fails on COO) on the CSR copy
    theirs = librosa.segment.timelag_filter(lambda L: 2 * L, pad=pad)(rec.tocsr())
    np.testing.assert_allclose(out.toarray(), theirs.toarray())


def test_keeps_name_and_doc():
    f = timelag_filter(median_filter)
    assert f.__name__ == "median_filter"
    assert f.__doc__ == median_filter.__doc__


def test_lag_round_trip_of_the_wrapped_result(rng):
    rec = rng.random((6, 6))
    f = timelag_filter(lambda L: L[:, :], pad=False)
    np.testing.assert_array_equal(
        f(rec), lag_to_recurrence(recurrence_to_lag(rec, pad=False))
    )


@pytest.mark.parametrize("index", [-1, 1.0, True, "0"])
def test_bad_index(index):
    with pytest.raises(ValueError, match="index"):
        timelag_filter(median_filter, index=index)


@pytest.mark.parametrize("pad", [1, "yes", None])
def test_bad_pad(pad):
    with pytest.raises(ValueError, match="pad"):
        timelag_filter(median_filter, pad=pad)


def test_not_callable():
    with pytest.raises(TypeError, match="callable"):
        timelag_filter(np.zeros(3))


def test_missing_positional_argument(rng):
    f = timelag_filter(lambda _, X: X, index=1)
    with pytest.raises(ValueError, match="positional argument 1"):
        f(rng.random((3, 3)))
