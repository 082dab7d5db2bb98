"""Silence in the cover-song workflow: a frame with no sound matches nothing.

A frame is silent when every value is 0.  Each similarity leaves it out:
OTI-binary marks no pair with a silent frame (essentia marks every one), the
mutual k-NN takes silent frames out of the pool before the k nearest are
counted (under euclidean a zero frame is near every quiet frame, under
scikit-learn's cosine it is at distance 1 from everything).  A recording
with no sound at all is an error naming it.
"""

import numpy as np
import pytest
from test_cover import brute_mutual, chroma_catalogue, composed_distance
from test_transposition import brute_oti_binary

from skxsim import CoverSongIndex, cover_song_distance
from skxsim.cover import cross_recurrence, oti_binary_similarity


def with_silence(rng, X, n_silent):
    """``X`` with ``n_silent`` zero frames put at random places."""
    out = X.copy()
    out[rng.choice(len(X), size=n_silent, replace=False)] = 0
    return out


def test_oti_binary_silent_frames_match_nothing(rng):
    query = with_silence(rng, rng.random((9, 12)), 3)
    reference = with_silence(rng, rng.random((11, 12)), 4)
    got = oti_binary_similarity(query, reference)
    q, r = query.any(axis=1), reference.any(axis=1)
    assert not got[~q].any() and not got[:, ~r].any()
    np.testing.assert_array_equal(
        got[np.ix_(q, r)], brute_oti_binary(query[q], reference[r])
    )
    assert not oti_binary_similarity(np.zeros((4, 12)), reference).any()


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan"])
@pytest.mark.parametrize("k", [1, 3, 0.095, 0.5])
def test_mutual_knn_leaves_silent_frames_out(rng, metric, k):
    query = with_silence(rng, rng.random((25, 6)), 5)
    reference = with_silence(rng, rng.random((30, 6)), 7)
    got = cross_recurrence(query, reference, k=k, metric=metric).toarray()
    q, r = query.any(axis=1), reference.any(axis=1)
    assert not got[~q].any() and not got[:, ~r].any()
    # The sounding frames recur as if the silent ones were not there: a
    # fraction k counts the sounding frames only.
    np.testing.assert_array_equal(
        got[np.ix_(q, r)].astype(bool),
        brute_mutual(query[q], reference[r], k, metric),
    )
    np.testing.assert_array_equal(
        got.astype(bool), brute_mutual(query, reference, k, metric)
    )


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_a_silent_sequence_recurs_nowhere(rng, metric):
    reference = rng.random((20, 6))
    assert cross_recurrence(np.zeros((10, 6)), reference, metric=metric).nnz == 0
    assert cross_recurrence(reference, np.zeros((10, 6)), metric=metric).nnz == 0


SIMILARITIES = [
    {},
    {"metric": "cosine", "k": 5},
    {"similarity": "oti_binary"},
    {"alignment": "dmax", "metric": "manhattan"},
]


@pytest.mark.parametrize("params", SIMILARITIES)
def test_a_silent_intro_changes_nothing(rng, params):
    # The padded stacks of a silent intro are silent, so the recording
    # compares as if the intro were cut, on either side.
    X, _ = chroma_catalogue(rng, n_works=1, versions=2)
    query, reference = X
    intro = np.zeros((13, 12))
    expected = cover_song_distance(query, reference, **params)
    assert np.isfinite(expected)
    for q, r in [
        (np.vstack([intro, query]), reference),
        (query, np.vstack([intro, reference])),
    ]:
        assert cover_song_distance(q, r, **params) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("params", SIMILARITIES)
def test_index_with_silences_equals_the_composed_pipeline(rng, params):
    X, y = chroma_catalogue(rng, n_works=3, versions=2)
    gap = np.zeros((12, 12))
    # Silent intros, outros and pauses longer than a stack.
    X = [np.vstack([gap, X[0]]), np.vstack([X[1], gap]), *X[2:]]
    X[2] = np.vstack([X[2][:20], gap, X[2][20:]])
    queries = [np.vstack([gap[:5], X[3]]), X[4], X[0][::-1].copy()]
    index = CoverSongIndex(**params).fit(X, y)
    got = index._dissimilarities(index._check_queries(queries))
    expected = np.array(
        [[composed_distance(q, r, **params) for r in X] for q in queries]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize("similarity", ["mutual_knn", "oti_binary"])
def test_a_recording_without_sound_is_an_error(rng, similarity):
    X, y = chroma_catalogue(rng, n_works=2, versions=2)
    silent = np.zeros((40, 12))
    index = CoverSongIndex(similarity=similarity)
    with pytest.raises(ValueError, match=r"X\[2\] has no sound"):
        index.fit([*X[:2], silent, *X[2:]])
    index.fit(X, y)
    for call in (index.kneighbors, index.predict):
        with pytest.raises(ValueError, match=r"X\[1\] has no sound"):
            call([X[0], silent])
    with pytest.raises(ValueError, match=r"X\[0\] has no sound"):
        index.score([silent], ["work0"])
    with pytest.raises(ValueError, match="query has no sound"):
        cover_song_distance(silent, X[0], similarity=similarity)
    with pytest.raises(ValueError, match="reference has no sound"):
        cover_song_distance(X[0], silent, similarity=similarity)


def test_essentia_marks_silent_frames_as_matches(rng):
    """The deliberate difference: essentia's OTI-binary marks every pair with
    a silent frame; the sounding pairs agree."""
    essentia = pytest.importorskip("essentia")
    essentia.log.infoActive = False
    import essentia.standard as es

    query = with_silence(rng, rng.random((30, 12)), 6).astype(np.float32)
    reference = with_silence(rng, rng.random((22, 12)), 4).astype(np.float32)
    theirs = es.ChromaCrossSimilarity(otiBinary=True, frameStackSize=1)(
        query, reference
    ).astype(bool)
    ours = oti_binary_similarity(query, reference)
    q, r = query.any(axis=1), reference.any(axis=1)
    assert theirs[~q].all() and theirs[:, ~r].all()
    np.testing.assert_array_equal(ours[np.ix_(q, r)], theirs[np.ix_(q, r)])
