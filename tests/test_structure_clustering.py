"""agglomerative and subsegment against librosa 0.11, and where librosa raises.

librosa's own tests for subsegment (its tests/test_segment.py) are ported
on random features and beats instead of a chirp's MFCCs: the properties
they check do not depend on the audio.
"""

import numpy as np
import pytest
import sklearn.cluster

from skxsim import agglomerative, subsegment

librosa = pytest.importorskip("librosa")


@pytest.fixture
def mfcc(rng):
    # 20 coefficients, 215 frames, slowly drifting so that segments exist
    return np.cumsum(rng.standard_normal((20, 215)), axis=1)


@pytest.fixture
def beats(rng):
    return np.sort(rng.choice(np.arange(5, 210), size=18, replace=False))


@pytest.mark.parametrize("k", [1, 2, 7, 40])
@pytest.mark.parametrize("axis", [-1, 0, 1, 2])
def test_agglomerative_matches_librosa(rng, k, axis):
    data = np.moveaxis(rng.standard_normal((2, 5, 60)), -1, axis)
    expected = librosa.segment.agglomerative(data, k, axis=axis)
    actual = agglomerative(data, k, axis=axis)
    np.testing.assert_array_equal(actual, expected)
    assert actual.dtype == np.int64 and len(actual) == k


def test_agglomerative_one_dimensional_and_every_frame(rng):
    data = rng.standard_normal(12)
    np.testing.assert_array_equal(
        agglomerative(data, 4), librosa.segment.agglomerative(data, 4)
    )
    np.testing.assert_array_equal(agglomerative(data, 12), np.arange(12))


def test_agglomerative_custom_clusterer(rng):
    data = rng.standard_normal((4, 50))
    ours = sklearn.cluster.AgglomerativeClustering(n_clusters=5, linkage="average")
    theirs = sklearn.cluster.AgglomerativeClustering(n_clusters=5, linkage="average")
    np.testing.assert_array_equal(
        agglomerative(data, 3, clusterer=ours),
        librosa.segment.agglomerative(data, 3, clusterer=theirs),
    )


def test_agglomerative_one_frame_is_one_segment(rng):
    np.testing.assert_array_equal(agglomerative(rng.standard_normal((3, 1)), 1), [0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(k=0), "'k'"),
        (dict(k=2.0), "'k'"),
        (dict(k=True), "'k'"),
        (dict(k=11), "k=11"),
        (dict(k=2, axis=3), "axis"),
        (dict(k=2, clusterer="ward"), "clusterer"),
    ],
)
def test_agglomerative_errors(rng, kwargs, match):
    with pytest.raises(ValueError, match=match):
        agglomerative(rng.standard_normal((3, 10)), **kwargs)


@pytest.mark.parametrize("n_segments", [1, 2, 3, 4, 100])
def test_subsegment_matches_librosa(mfcc, beats, n_segments):
    spread = beats[np.diff(beats, prepend=-10) > 1]  # no one-frame segment
    expected = librosa.segment.subsegment(mfcc, spread, n_segments=n_segments)
    np.testing.assert_array_equal(
        subsegment(mfcc, spread, n_segments=n_segments), expected
    )


def test_subsegment_one_frame_segments_stay_whole(mfcc):
    """librosa raises (scikit-learn clusters >= 2 samples); the oracle is
    librosa on every longer interval and the lone frame kept whole."""
    frames = np.array([10, 11, 40, 41, 42, 100, 214])
    edges = [0, *frames, 215]
    expected = []
    for start, stop in zip(edges[:-1], edges[1:], strict=True):
        if stop - start == 1:
            expected.append([start])
        else:
            part = mfcc[:, start:stop]
            k = min(stop - start, 3)
            expected.append(start + librosa.segment.agglomerative(part, k))
    with pytest.raises(ValueError):
        librosa.segment.subsegment(mfcc, frames, n_segments=3)
    np.testing.assert_array_equal(
        subsegment(mfcc, frames, n_segments=3), np.concatenate(expected)
    )


def test_subsegment_frames_out_of_range_and_unsorted(mfcc):
    frames = [300, 50, 50, 20.0]
    np.testing.assert_array_equal(
        subsegment(mfcc, frames, n_segments=2),
        librosa.segment.subsegment(mfcc, frames, n_segments=2),
    )


@pytest.mark.parametrize(
    "frames, n_segments, match",
    [
        ([-1, 5], 2, "negative"),
        ([2.5], 2, "whole"),
        ([[1, 2]], 2, "1-D"),
        ([3], 0, "n_segments"),
        ([3], -1, "n_segments"),
        ([3], 2.0, "n_segments"),
    ],
)
def test_subsegment_errors(mfcc, frames, n_segments, match):
    with pytest.raises(ValueError, match=match):
        subsegment(mfcc, frames, n_segments=n_segments)


# librosa's tests/test_segment.py, ported
@pytest.mark.parametrize("n_segments", [1, 2, 3, 4, 100])
def test_subsegment(mfcc, beats, n_segments):
    subseg = subsegment(mfcc, beats, n_segments=n_segments, axis=-1)
    assert subseg.min() >= 0
    assert subseg.max() <= mfcc.shape[-1]
    for b in beats:
        assert b in subseg
    assert 0 in subseg
    assert len(subseg) <= n_segments * (len(beats) + 2)
    ss2 = subsegment(mfcc.T, beats, n_segments=n_segments, axis=0)
    np.testing.assert_array_equal(subseg, ss2)


@pytest.mark.parametrize("n_segments", [-1, 0])
def test_subsegment_badn(mfcc, beats, n_segments):
    with pytest.raises(librosa.ParameterError):
        subsegment(mfcc, beats, n_segments=n_segments, axis=-1)
