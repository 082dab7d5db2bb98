"""recurrence_matrix against librosa 0.11 wherever librosa is right.

The grid: n (frames) in {5, 20, 200}, d in {1, 12}, k in {None, 1, 5, > n},
width in {1, 3}, six metrics, three modes, sym, self, sparse and dense.
librosa takes 5 ms (n = 20) to 90 ms (n = 200) a call, so the product is
sampled: every (n, d, metric) cell runs, and within it skxsim runs every
(k, width, sym, self) for n <= 20 and a quarter of them for n = 200 (the
sparse and dense outputs alternating over the modes), each compared with the
cdist oracle; librosa runs on a half fraction of them for n = 20 (one in
which every pair of factors still meets in all its combinations), a quarter
for n = 5 and one per cell for n = 200.  Where librosa is wrong the oracle alone
decides (the deliberate differences, tested on their own in
test_recurrence.py).
"""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from _recurrence_oracle import recurrence as oracle
from threadpoolctl import threadpool_limits

from skxsim import recurrence_matrix

librosa = pytest.importorskip("librosa")


def lr(data, **kwargs):
    """librosa's recurrence_matrix on one thread: on tiny inputs scikit-learn
    spends most of its time starting OpenMP threads."""
    with threadpool_limits(1):
        return librosa.segment.recurrence_matrix(data, **kwargs)


METRICS = [
    "euclidean",
    "cosine",
    "sqeuclidean",
    "manhattan",
    "chebyshev",
    "correlation",
]
MODES = ["connectivity", "distance", "affinity"]
KS = [None, 1, 5, "more"]  # "more": n + 3
WIDTHS = [1, 3]
CELLS = list(itertools.product([5, 20, 200], [1, 12], METRICS))


def combos(n, case):
    """The (k, width, sym, self) combinations of a cell, each with whether
    librosa runs on it too."""
    every = list(
        itertools.product(range(len(KS)), range(2), [False, True], [False, True])
    )
    # A half fraction in which every pair of factors meets in all its
    # combinations; the other half goes to the cell's neighbour.
    half = [c for c in every if (c[0] + c[1] + c[2] + c[3]) % 2 == case % 2]
    if n <= 20:
        with_librosa = half if n == 20 else half[case % 2 :: 2]
        return [(c, c in with_librosa) for c in every]
    quarter = half[case % 2 :: 2]
    return [(c, i == case % len(quarter)) for i, c in enumerate(quarter)]


def stored(matrix):
    coo = matrix.tocoo()
    return set(zip(coo.row.tolist(), coo.col.tolist(), strict=True))


def check_output(ours, mode, sparse, n, dtype):
    if sparse:
        assert type(ours) is sp.csc_matrix
    else:
        assert type(ours) is np.ndarray
    assert ours.shape == (n, n)
    assert ours.dtype == (np.dtype(bool) if mode == "connectivity" else dtype)


@pytest.mark.parametrize("n, d, metric", CELLS)
def test_parity_grid(n, d, metric):
    case = CELLS.index((n, d, metric))
    rng = np.random.default_rng([n, d, case])
    data = rng.standard_normal((d, n))
    for (i_k, i_w, sym, self), with_librosa in combos(n, case):
        k = n + 3 if KS[i_k] == "more" else KS[i_k]
        width = WIDTHS[i_w]
        kwargs = dict(k=k, width=width, metric=metric, sym=sym, self=self)
        if width >= (n - 1) // 2:
            with pytest.raises(librosa.ParameterError, match="width"):
                recurrence_matrix(data, **kwargs)
            if with_librosa:
                with pytest.raises(librosa.ParameterError):
                    lr(data, **kwargs)
            continue
        if metric == "correlation" and d == 1:
            # Undefined for one feature (librosa returns NaN distances).
            with pytest.raises(ValueError, match="correlation"):
                recurrence_matrix(data, **kwargs)
            continue
        ours = {}
        for i_mode, mode in enumerate(MODES):
            sparse = bool((i_k + i_w + sym + self + i_mode) % 2)
            try:
                expected, entries = oracle(
                    data.T,
                    mode=mode,
                    k=k,
                    width=width,
                    metric=metric,
                    sym=sym,
                    include_self=self,
                )
            except ValueError:  # a median bandwidth of 0 (cosine, d = 1)
                with pytest.raises(ValueError, match="bandwidth"):
                    recurrence_matrix(data, mode=mode, sparse=sparse, **kwargs)
                continue
            out = recurrence_matrix(data, mode=mode, sparse=sparse, **kwargs)
            check_output(out, mode, sparse, n, data.dtype)
            dense = out.toarray() if sparse else out
            np.testing.assert_allclose(dense.T, expected, rtol=1e-9, atol=1e-12)
            if sparse:
                assert stored(out) == set(zip(*np.nonzero(entries.T), strict=True))
            ours[mode] = (out, sparse)
        # cosine of 1-feature frames is 0 or 2: ties everywhere and exact
        # matches, which librosa breaks arbitrarily and drops.
        if with_librosa and not (metric == "cosine" and d == 1):
            compare_with_librosa(data, ours, kwargs, n)


def compare_with_librosa(data, ours, kwargs, n):
    """librosa's distance output is right (no exact matches here); its
    connectivity is not (see test_recurrence.py), so its pattern is the
    pattern of its distances.  Its affinity is right without sym."""
    sym, self = kwargs["sym"], kwargs["self"]
    theirs = lr(data, mode="distance", sparse=True, **kwargs)
    pattern = stored(theirs)
    if self:  # librosa's self-links at distance 0 are eliminated zeros
        pattern |= {(i, i) for i in range(n)}
    out, sparse = ours["distance"]
    if sparse:
        assert stored(out) == pattern
        out = out.toarray()
    np.testing.assert_allclose(out, theirs.toarray(), rtol=1e-9, atol=1e-12)
    out, sparse = ours["connectivity"]
    expected = np.zeros((n, n), dtype=bool)
    expected[tuple(np.array(sorted(pattern)).T)] = True
    np.testing.assert_array_equal(out.toarray() if sparse else out, expected)
    if sym:
        return
    theirs = lr(data, mode="affinity", sparse=True, **kwargs)
    out, sparse = ours["affinity"]
    if sparse:
        assert stored(out) == stored(theirs)
        out = out.toarray()
    np.testing.assert_allclose(out, theirs.toarray(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "bandwidth",
    [
        0.7,
        "med_k_scalar",
        "mean_k",
        "gmean_k",
        "mean_k_avg",
        "gmean_k_avg",
        "mean_k_avg_and_pair",
    ],
)
@pytest.mark.parametrize("width", [1, 4])
def test_parity_bandwidths(rng, bandwidth, width):
    data = rng.standard_normal((6, 60))
    kwargs = dict(k=6, width=width, mode="affinity", bandwidth=bandwidth, sparse=True)
    ours = recurrence_matrix(data, **kwargs)
    theirs = lr(data, **kwargs)
    assert stored(ours) == stored(theirs)
    np.testing.assert_allclose(ours.toarray(), theirs.toarray(), rtol=1e-9)


def test_parity_ndarray_bandwidth(rng):
    data = rng.standard_normal((4, 50))
    bandwidth = rng.uniform(0.5, 2.0, size=(50, 50))
    kwargs = dict(k=5, width=2, mode="affinity", bandwidth=bandwidth, sparse=True)
    ours = recurrence_matrix(data, **kwargs)
    theirs = lr(data, **kwargs)
    assert stored(ours) == stored(theirs)
    np.testing.assert_allclose(ours.toarray(), theirs.toarray(), rtol=1e-12)


@pytest.mark.parametrize("mode", ["distance", "affinity"])
@pytest.mark.parametrize("sym", [False, True])
@pytest.mark.parametrize("self", [False, True])
@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan"])
def test_parity_full(rng, mode, sym, self, metric):
    data = rng.standard_normal((5, 30))
    kwargs = dict(k=4, width=3, mode=mode, sym=sym, self=self, metric=metric, full=True)
    ours = recurrence_matrix(data, **kwargs)
    theirs = lr(data, **kwargs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_parity_multichannel_and_axis(rng, mode):
    """(channels, d, n) with frames last, and frames along other axes."""
    data = rng.standard_normal((2, 4, 33))
    kwargs = dict(k=5, width=2, mode=mode, sparse=True)
    ours = recurrence_matrix(data, **kwargs)
    expected = lr(data, mode="distance", sparse=True, k=5, width=2)
    assert stored(ours) == stored(expected)
    if mode != "connectivity":
        np.testing.assert_allclose(ours.toarray(), lr(data, **kwargs).toarray())
    for axis, moved in [(0, np.moveaxis(data, -1, 0)), (1, np.moveaxis(data, -1, 1))]:
        ours_axis = recurrence_matrix(moved, axis=axis, **kwargs)
        assert stored(ours_axis) == stored(
            lr(moved, axis=axis, mode="distance", sparse=True, k=5, width=2)
        )
        # Same frames, features in another order: the same up to rounding.
        np.testing.assert_allclose(ours_axis.toarray(), ours.toarray(), rtol=1e-12)


def test_parity_float32(rng):
    data = rng.standard_normal((8, 50)).astype(np.float32)
    ours = recurrence_matrix(data, k=6, mode="distance")
    theirs = lr(data, k=6, mode="distance")
    assert ours.dtype == np.float32  # librosa returns float64
    np.testing.assert_array_equal(ours != 0, theirs != 0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_parity_on_librosas_documented_pipeline(rng):
    chroma = np.abs(rng.standard_normal((12, 150)))
    stacked = librosa.feature.stack_memory(chroma, n_steps=10, delay=3)
    for kwargs in [
        {"k": 5},
        {"width": 7, "mode": "distance"},
        {"metric": "cosine", "mode": "distance"},
        {"metric": "cosine", "mode": "affinity"},
        {"sym": True, "mode": "distance"},
    ]:
        ours = recurrence_matrix(stacked, **kwargs)
        theirs = lr(stacked, **{**kwargs, "mode": kwargs.get("mode", "distance")})
        if ours.dtype == bool:
            theirs = theirs != 0  # librosa's connectivity is wrong; its pattern is not
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
