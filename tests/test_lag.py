"""recurrence_to_lag / lag_to_recurrence: the definition, librosa's values,
every sparse format and class kept, no densifying, and the errors."""

import numpy as np
import pytest
import scipy.sparse as sp

from skxsim import recurrence_matrix
from skxsim.recurrence import lag_to_recurrence, recurrence_to_lag

try:
    import librosa
except ImportError:
    librosa = None

FORMATS = ["csc", "csr", "coo", "lil", "bsr", "dia", "dok"]


def lag_by_definition(rec, pad, axis):
    """lag[l, t] = rec[(t + l) mod T, t], time along columns (axis=-1)."""
    rec = rec if axis in (1, -1) else rec.T
    n = rec.shape[0]
    T = 2 * n if pad else n
    padded = np.concatenate([rec, np.zeros_like(rec)]) if pad else rec
    lag = np.zeros((T, n), dtype=rec.dtype)
    for t in range(n):
        for lag_ in range(T):
            lag[lag_, t] = padded[(t + lag_) % T, t]
    return lag if axis in (1, -1) else lag.T


@pytest.mark.parametrize("n", [1, 2, 7, 40])
@pytest.mark.parametrize("pad", [False, True])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("dtype", [bool, np.float32, np.float64])
def test_dense_definition_and_round_trip(rng, n, pad, axis, dtype):
    rec = (rng.random((n, n)) * (rng.random((n, n)) < 0.3)).astype(dtype)
    lag = recurrence_to_lag(rec, pad=pad, axis=axis)
    assert lag.dtype == rec.dtype
    np.testing.assert_array_equal(lag, lag_by_definition(rec, pad, axis))
    np.testing.assert_array_equal(lag_to_recurrence(lag, axis=axis), rec)
    # librosa compiles its shear with numba for each dtype: one is enough.
    if librosa is not None and dtype is np.float64:
        np.testing.assert_array_equal(
            lag, librosa.segment.recurrence_to_lag(rec, pad=pad, axis=axis)
        )
        np.testing.assert_array_equal(
            lag_to_recurrence(lag, axis=axis),
            librosa.segment.lag_to_recurrence(lag, axis=axis),
        )


def test_dense_shear_in_several_blocks(rng, monkeypatch):
    """Columns sheared a block at a time give the same as one block."""
    rec = rng.random((50, 50))
    whole = recurrence_to_lag(rec)
    monkeypatch.setattr("skxsim._recurrence._lag._SHEAR_BLOCK_BYTES", 3 * 2 * 100 * 8)
    np.testing.assert_array_equal(recurrence_to_lag(rec), whole)
    np.testing.assert_array_equal(lag_to_recurrence(whole), rec)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", [sp.csr_matrix, sp.csr_array])
@pytest.mark.parametrize("pad", [False, True])
@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.filterwarnings("ignore:Constructing a DIA")
def test_sparse_stays_sparse_in_its_format_and_class(rng, fmt, kind, pad, axis):
    dense = recurrence_matrix(rng.standard_normal((3, 30)), mode="distance", self=True)
    rec = kind(dense)
    rec = rec.asformat(fmt)
    lag = recurrence_to_lag(rec, pad=pad, axis=axis)
    assert type(lag) is type(rec) and lag.format == fmt and lag.dtype == rec.dtype
    np.testing.assert_array_equal(lag.toarray(), lag_by_definition(dense, pad, axis))
    back = lag_to_recurrence(lag, axis=axis)
    assert type(back) is type(rec) and back.format == fmt
    np.testing.assert_array_equal(back.toarray(), dense)


def test_explicit_zeros_survive(rng):
    """A self-link at distance 0 is a stored entry and stays one."""
    rec = recurrence_matrix(
        rng.standard_normal((3, 20)), mode="distance", self=True, sparse=True
    )
    lag = recurrence_to_lag(rec)
    assert lag.nnz == rec.nnz
    # Self-links sit at lag 0.
    np.testing.assert_array_equal(lag.tocsr()[0].indices, np.arange(20))
    assert lag_to_recurrence(lag).nnz == rec.nnz


@pytest.mark.parametrize("kind", [sp.coo_matrix, sp.csc_array])
def test_librosas_failures_work_here(rng, kind):
    """librosa 0.11 fails on lag_to_recurrence of COO and on sparse arrays."""
    dense = rng.random((15, 15)) < 0.2
    lag = recurrence_to_lag(kind(dense))
    rec = lag_to_recurrence(lag)
    assert type(rec) is kind
    np.testing.assert_array_equal(rec.toarray(), dense)


def test_huge_sparse_is_never_densified(monkeypatch):
    """A million frames: the dense matrix would take a terabyte."""

    def refuse(*args, **kwargs):
        raise AssertionError("densified")

    monkeypatch.setattr(sp._base._spbase, "toarray", refuse)
    monkeypatch.setattr(sp._base._spbase, "todense", refuse)
    n = 10**6
    frames = np.arange(0, n - 5, 1000)
    rec = sp.csc_matrix(
        (np.ones(frames.size), (frames + 5, frames)), shape=(n, n)
    )  # frame t repeats at t + 5
    lag = recurrence_to_lag(rec, pad=True)
    assert lag.shape == (2 * n, n) and lag.format == "csc"
    np.testing.assert_array_equal(lag.tocoo().row, 5)
    back = lag_to_recurrence(lag)
    assert back.shape == (n, n) and (back != rec).nnz == 0


@pytest.mark.parametrize("shape", [(17,), (17, 34), (17, 17, 17)])
def test_recurrence_to_lag_needs_a_square(shape):
    with pytest.raises(ValueError, match="square"):
        recurrence_to_lag(np.zeros(shape))
    if librosa is not None:
        with pytest.raises(librosa.ParameterError):
            recurrence_to_lag(np.zeros(shape))


@pytest.mark.parametrize("shape", [(17,), (17, 35), (17, 17, 17)])
def test_lag_to_recurrence_needs_a_lag_shape(shape):
    with pytest.raises(ValueError, match="shape"):
        lag_to_recurrence(np.zeros(shape))


@pytest.mark.parametrize("pad", ["yes", 1, None, np.array(True)])
def test_pad_must_be_a_bool(pad):
    with pytest.raises(ValueError, match="pad"):
        recurrence_to_lag(np.eye(4), pad=pad)


def test_numpy_bool_pad_is_the_python_bool():
    rec = np.eye(4)
    for pad in (True, False):
        np.testing.assert_array_equal(
            recurrence_to_lag(rec, pad=np.bool_(pad)), recurrence_to_lag(rec, pad=pad)
        )


@pytest.mark.parametrize("axis", [2, -2, 1.0, True])
def test_axis_must_be_0_1_or_minus_1(axis):
    rec = sp.csr_matrix(np.eye(4))
    with pytest.raises(ValueError, match="axis"):
        recurrence_to_lag(rec, axis=axis)
    with pytest.raises(ValueError, match="axis"):
        lag_to_recurrence(recurrence_to_lag(rec), axis=axis)
