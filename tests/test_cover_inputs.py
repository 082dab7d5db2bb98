"""Hostile inputs to the cover-song workflow: each a ValueError naming it.

Recordings of the wrong dimensionality, ragged, sparse, complex or empty;
work ids that are missing, mixed or of the wrong shape; rankings that are
not rankings.  None may crash inside numpy, scipy or scikit-learn with a
message that does not say which argument is wrong, or pass silently.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils._param_validation import InvalidParameterError
from test_cover import chroma_catalogue

from skxsim import CoverSongIndex, cover_song_distance
from skxsim.cover import average_precision, cross_recurrence, qmax


@pytest.fixture(scope="module")
def catalogue():
    X, y = chroma_catalogue(np.random.default_rng(0), n_works=2, versions=2)
    return X, y, CoverSongIndex().fit(X, y)


BAD_RECORDINGS = [
    (lambda x: np.ones(12), r"X\[1\] must be a 2-d array"),
    (lambda x: np.ones((2, 3, 12)), r"X\[1\] must be a 2-d array"),
    (lambda x: [[1.0] * 12, [1.0] * 11], r"X\[1\] is not a rectangular"),
    (lambda x: sp.csr_matrix(x), r"X\[1\] is a scipy.sparse matrix"),
    (lambda x: x * 1j, r"X\[1\] holds complex values"),
    (lambda x: x[:0], r"X\[1\]: Found array with 0 sample"),
    (lambda x: np.full(x.shape, "a"), r"X\[1\]: could not convert"),
    (lambda x: "recording", r"X\[1\] is a str"),
    (lambda x: np.where(x > 0.5, np.nan, x), r"X\[1\] contains NaN"),
]


@pytest.mark.parametrize("make, match", BAD_RECORDINGS)
def test_bad_recordings_are_named(catalogue, make, match):
    X, y, index = catalogue
    bad = [X[0], make(X[1])]
    with pytest.raises(ValueError, match=match):
        CoverSongIndex().fit(bad)
    with pytest.raises(ValueError, match=match):
        index.kneighbors(bad)
    name = match.replace(r"X\[1\]", "query")
    with pytest.raises(ValueError, match=name):
        cover_song_distance(make(X[1]), X[0])


@pytest.mark.parametrize(
    "X, match",
    [
        ("abc", "got str"),
        ({"a": np.ones((4, 12))}, "got dict"),
        (sp.csr_matrix(np.ones((4, 12))), "got csr_matrix"),
        (np.ones((4, 12)), "got an array of shape"),
        (5, "got int"),
        ([], "empty"),
    ],
)
def test_bad_lists_of_recordings(catalogue, X, match):
    with pytest.raises(ValueError, match=f"X .*{match}|X is {match}"):
        catalogue[2].kneighbors(X)


@pytest.mark.parametrize(
    "y, match",
    [
        (["a", None, "b", "b"], r"y\[1\] is None"),
        ([1.0, np.nan, 2.0, 2.0], r"y\[1\] is NaN"),
        (["a", 1, "b", "b"], "mix of strings and numbers"),
        ([["a"], ["a"], ["b"], ["b"]], r"shape \(4, 1\)"),
        ("abab", "a single str"),
        ("a", "a single str"),
        (None, "one work id per recording"),
    ],
)
def test_bad_work_ids_are_named(catalogue, y, match):
    X, _, index = catalogue
    if y is not None:
        with pytest.raises(ValueError, match=match):
            CoverSongIndex().fit(X, y)
    with pytest.raises(ValueError, match=match):
        index.score(X, y)


def test_numeric_work_ids_keep_their_type(catalogue):
    X, _, _ = catalogue
    index = CoverSongIndex().fit(X, [10, 10, 20, 20])
    assert index.predict(X[:1]).tolist() in ([10], [20])
    assert isinstance(index.classes_[0].item(), int)


def test_return_distance_is_a_bool(catalogue):
    X, _, index = catalogue
    with pytest.raises(ValueError, match="return_distance"):
        index.kneighbors(X[:1], return_distance="no")


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: cross_recurrence(np.eye(3), np.eye(3), k=True), "'k'"),
        (lambda: qmax(np.eye(3), gap_onset=True), "'gap_onset'"),
        (lambda: CoverSongIndex(n_shifts=True).fit([np.eye(3)]), "'n_shifts'"),
    ],
)
def test_a_bool_is_not_a_number(call, match):
    with pytest.raises(InvalidParameterError, match=match):
        call()


GOOD = dict(
    order=np.array([[1, 0, 2]]),
    excluded=np.zeros((1, 3), dtype=bool),
    catalogue_works=["a", "b", "a"],
    query_works=["a"],
)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"order": np.array([1, 0, 2])}, "order must be a 2-d"),
        ({"order": np.array([[0.0, 1.0, 2.0]])}, "order must hold integers"),
        ({"order": np.array([[0, 1, 5]])}, r"order\[0\] is not a permutation"),
        ({"order": np.array([[0, 0, 1]])}, r"order\[0\] is not a permutation"),
        ({"excluded": np.zeros((1, 2), dtype=bool)}, "excluded must have shape"),
        ({"excluded": np.zeros((1, 3))}, "excluded must be boolean"),
        ({"catalogue_works": ["a", "b"]}, "catalogue_works must hold 3"),
        ({"query_works": ["a", "b"]}, "query_works must hold 1"),
    ],
)
def test_average_precision_checks_its_arguments(change, match):
    with pytest.raises(ValueError, match=match):
        average_precision(**{**GOOD, **change})
    # Lists are array-likes too.
    assert average_precision(
        [[1, 0, 2]], [[False] * 3], ["a", "b", "a"], ["a"]
    ) == pytest.approx([7 / 12])


def test_outputs_too_large_are_refused_before_the_work(rng, monkeypatch):
    # Each pair-level function holds every pair at once; the catalogue holds
    # every stacked frame.  With 1 MiB to spare, 1000 x 1000 frames or
    # stacks of 50 frames do not fit: refused before anything is allocated.
    import skxsim._output_size
    from skxsim.cover import oti_binary_similarity, score_matrix
    from skxsim.exceptions import OutputTooLargeError

    monkeypatch.setattr(skxsim._output_size, "available_memory", lambda: 2**20)
    long = rng.random((1000, 12))
    for call in (
        lambda: cross_recurrence(long, long),
        lambda: oti_binary_similarity(long, long),
        lambda: score_matrix(sp.eye(1000, format="csr")),
    ):
        with pytest.raises(OutputTooLargeError, match="1000 x 1000"):
            call()
    X = [rng.random((100, 12)) for _ in range(3)]
    CoverSongIndex().fit(X)  # 0.5 MiB of stacks
    with pytest.raises(OutputTooLargeError, match="n_steps=50"):
        CoverSongIndex(n_steps=50).fit(X)
