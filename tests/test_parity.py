"""Same values as librosa 0.11 wherever librosa is right (random inputs)."""

import itertools

import numpy as np
import pytest

from skxsim import cross_similarity

librosa = pytest.importorskip("librosa")

SHAPES = [(6, 20), (30, 8), (7, 1), (7, 2), (7, 3)]  # (n, n_ref)
KS = [None, 1, 5, 50]
METRICS = [
    "euclidean",
    "cosine",
    "sqeuclidean",
    "manhattan",
    "chebyshev",
    "correlation",
]
MODES = ["connectivity", "distance", "affinity"]


def assert_same(ours, theirs):
    assert type(ours) is type(theirs)
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype
    if hasattr(theirs, "toarray"):
        assert ours.format == theirs.format == "csc"
        # Same stored entries, not merely the same dense picture.
        ours, theirs = ours.tocoo(), theirs.tocoo()
        assert set(zip(ours.row, ours.col, strict=True)) == set(
            zip(theirs.row, theirs.col, strict=True)
        )
        ours, theirs = ours.toarray(), theirs.toarray()
    if ours.dtype == bool:
        np.testing.assert_array_equal(ours, theirs)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("n, n_ref", SHAPES)
@pytest.mark.parametrize("metric", METRICS)
def test_parity_with_librosa(n, n_ref, metric):
    rng = np.random.default_rng(n * 100 + n_ref)
    data = rng.standard_normal((9, n))
    data_ref = rng.standard_normal((9, n_ref))
    for k, mode, sparse in itertools.product(KS, MODES, [False, True]):
        kwargs = dict(k=k, metric=metric, mode=mode, sparse=sparse)
        ours = cross_similarity(data, data_ref, **kwargs)
        theirs = librosa.segment.cross_similarity(data, data_ref, **kwargs)
        assert_same(ours, theirs)


@pytest.mark.parametrize("bandwidth", [0.5, 3, None, "med_k_scalar"])
@pytest.mark.parametrize("k", [None, 3])
def test_parity_affinity_bandwidths(rng, bandwidth, k):
    data, data_ref = rng.standard_normal((5, 40)), rng.standard_normal((5, 30))
    kwargs = dict(k=k, mode="affinity", bandwidth=bandwidth)
    assert_same(
        cross_similarity(data, data_ref, **kwargs),
        librosa.segment.cross_similarity(data, data_ref, **kwargs),
    )


def test_parity_ndarray_bandwidth(rng):
    data, data_ref = rng.standard_normal((5, 25)), rng.standard_normal((5, 15))
    bandwidth = rng.uniform(0.5, 2.0, size=(25, 15))
    kwargs = dict(k=4, mode="affinity", bandwidth=bandwidth, sparse=True)
    assert_same(
        cross_similarity(data, data_ref, **kwargs),
        librosa.segment.cross_similarity(data, data_ref, **kwargs),
    )


@pytest.mark.parametrize("mode", ["distance", "affinity"])
@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan"])
def test_parity_full_when_n_at_least_n_ref(rng, mode, metric):
    data, data_ref = rng.standard_normal((6, 30)), rng.standard_normal((6, 12))
    kwargs = dict(k=4, mode=mode, metric=metric, full=True)
    assert_same(
        cross_similarity(data, data_ref, **kwargs),
        librosa.segment.cross_similarity(data, data_ref, **kwargs),
    )


@pytest.mark.parametrize("mode", MODES)
def test_parity_multichannel(rng, mode):
    data, data_ref = rng.standard_normal((2, 4, 33)), rng.standard_normal((2, 4, 21))
    kwargs = dict(k=5, mode=mode, sparse=True)
    assert_same(
        cross_similarity(data, data_ref, **kwargs),
        librosa.segment.cross_similarity(data, data_ref, **kwargs),
    )


def test_parity_float32(rng):
    data = rng.standard_normal((8, 50)).astype(np.float32)
    data_ref = rng.standard_normal((8, 40)).astype(np.float32)
    ours = cross_similarity(data, data_ref, k=6, mode="distance")
    theirs = librosa.segment.cross_similarity(data, data_ref, k=6, mode="distance")
    assert ours.dtype == np.float32
    assert np.array_equal(ours != 0, theirs != 0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_parity_on_librosas_documented_pipeline(rng):
    chroma_ref = np.abs(rng.standard_normal((12, 120)))
    chroma_comp = np.abs(rng.standard_normal((12, 90)))
    x_ref = librosa.feature.stack_memory(chroma_ref, n_steps=10, delay=3)
    x_comp = librosa.feature.stack_memory(chroma_comp, n_steps=10, delay=3)
    for kwargs in [
        {},
        {"k": 5},
        {"metric": "cosine"},
        {"metric": "cosine", "mode": "affinity"},
    ]:
        assert_same(
            cross_similarity(x_comp, x_ref, **kwargs),
            librosa.segment.cross_similarity(x_comp, x_ref, **kwargs),
        )
