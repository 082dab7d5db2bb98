"""Qmax / Dmax against a cell-by-cell oracle, librosa's rqa and essentia."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from skxsim.cover import dmax, qmax, score_matrix


def oracle_scores(S, method="qmax", gap_onset=0.5, gap_extend=0.5, knight=True):
    """The recurrences as written in the docstrings, one cell at a time.

    Cells outside the matrix have score 0 and similarity 0.
    """
    n, m = S.shape
    Q = np.zeros((n, m))

    def q(i, j):
        return Q[i, j] if i >= 0 and j >= 0 else 0.0

    def s(i, j):
        return S[i, j] if i >= 0 and j >= 0 else 0.0

    def gap(i, j):
        return gap_onset if s(i, j) > 0 else gap_extend

    for i in range(n):
        for j in range(m):
            if method == "qmax":
                moves = [(1, 1, 0.0)]
                if knight:
                    moves += [(2, 1, 0.0), (1, 2, 0.0)]
            else:
                moves = [
                    (1, 1, 0.0),
                    (2, 1, s(i - 1, j)),
                    (1, 2, s(i, j - 1)),
                    (3, 1, s(i - 2, j) + s(i - 1, j)),
                    (1, 3, s(i, j - 2) + s(i, j - 1)),
                ]
            if S[i, j] > 0:
                gain = S[i, j] if method == "qmax" else 1.0
                Q[i, j] = max(q(i - a, j - b) + bonus for a, b, bonus in moves) + gain
            else:
                Q[i, j] = max(
                    [0.0]
                    + [
                        q(i - a, j - b) + bonus - gap(i - a, j - b)
                        for a, b, bonus in moves
                    ]
                )
    return Q


def random_recurrence(rng, n, m, density=0.3, weighted=False):
    S = (rng.random((n, m)) < density).astype(float)
    if weighted:
        S *= rng.random((n, m))
    return S


@pytest.mark.parametrize("method", ["qmax", "dmax"])
@pytest.mark.parametrize("gaps", [(0.5, 0.5), (1.0, 0.25), (0.0, 2.0), (np.inf, 1.0)])
def test_matches_cell_by_cell_oracle(rng, method, gaps):
    for _ in range(5):
        n, m = rng.integers(1, 25, size=2)
        S = random_recurrence(rng, n, m, density=rng.uniform(0.05, 0.6))
        expected = oracle_scores(S, method, *gaps)
        got = score_matrix(S, method=method, gap_onset=gaps[0], gap_extend=gaps[1])
        np.testing.assert_allclose(got, expected)
        score = (
            qmax(S, gap_onset=gaps[0], gap_extend=gaps[1])
            if method == "qmax"
            else (dmax(S, gap_onset=gaps[0], gap_extend=gaps[1]))
        )
        assert score == expected.max()


def test_weighted_and_without_knight_moves(rng):
    S = random_recurrence(rng, 17, 23, weighted=True)
    for knight in (True, False):
        np.testing.assert_allclose(
            score_matrix(S, knight_moves=knight, gap_onset=1.5, gap_extend=0.5),
            oracle_scores(S, "qmax", 1.5, 0.5, knight),
        )


@pytest.mark.parametrize("method", ["qmax", "dmax"])
def test_sparse_input_is_read_without_densifying(rng, method, monkeypatch):
    S = random_recurrence(rng, 40, 60, density=0.1)
    dense = score_matrix(S, method=method)
    # A sparse matrix is consumed row by row: toarray/todense are never used.
    for name in ("toarray", "todense"):
        monkeypatch.setattr(sp.csr_matrix, name, None, raising=False)
        monkeypatch.setattr(sp.csr_array, name, None, raising=False)
    for sparse in (sp.csr_matrix(S), sp.csc_matrix(S), sp.coo_array(S)):
        np.testing.assert_allclose(score_matrix(sparse, method=method), dense)
        score = qmax(sparse) if method == "qmax" else dmax(sparse)
        assert score == dense.max()


@pytest.mark.parametrize("method", ["qmax", "dmax"])
def test_transpose_invariant(rng, method):
    S = random_recurrence(rng, 30, 19, density=0.2)
    f = qmax if method == "qmax" else dmax
    assert f(S) == f(S.T)
    np.testing.assert_allclose(
        score_matrix(S, method=method).T, score_matrix(S.T, method=method)
    )


def test_dmax_binarises(rng):
    S = random_recurrence(rng, 15, 15, weighted=True)
    assert dmax(S) == dmax(S > 0)


def test_empty_recurrence_scores_zero():
    assert qmax(np.zeros((4, 5))) == 0.0
    assert dmax(sp.csr_matrix((4, 5))) == 0.0


@pytest.mark.parametrize("method", ["qmax", "dmax"])
def test_duplicate_sparse_entries_are_summed(rng, method):
    # A CSR matrix with duplicate entries means their sum (scipy's toarray,
    # @, sum_duplicates); reading only the last one gave 1.0 for 2.0.
    S = sp.csr_matrix((np.array([1.0, 1.0]), np.array([0, 0]), np.array([0, 2])))
    assert qmax(S) == qmax(S.toarray()) == 2.0
    S = random_recurrence(rng, 12, 15, weighted=True)
    rows, cols = np.nonzero(S)
    values = S[rows, cols]
    half = rng.random(len(values)) * values
    order = rng.permutation(2 * len(values))
    data = np.concatenate([half, values - half])[order]
    row_of = np.tile(rows, 2)[order]
    by_row = np.argsort(row_of, kind="stable")  # rows in order, columns not
    indptr = np.searchsorted(row_of[by_row], np.arange(S.shape[0] + 1))
    split = sp.csr_matrix(
        (data[by_row], np.tile(cols, 2)[order][by_row], indptr), shape=S.shape
    )
    assert not split.has_canonical_format
    np.testing.assert_allclose(split.toarray(), S)
    assert score_matrix(split, method=method) == pytest.approx(
        score_matrix(S, method=method)
    )
    score = qmax if method == "qmax" else dmax
    assert score(split) == pytest.approx(score(S))
    assert split.nnz == 2 * len(values)  # the caller's matrix is left alone


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array([[0.0, -1.0]]), "non-negative"),
        (np.array([[np.nan, 1.0]]), "finite"),
        (np.zeros((0, 3)), "non-empty"),
        (np.zeros(4), "2-d"),
        (np.eye(2) * 1j, "complex"),
        ([[1.0, 0.0], [1.0]], "similarity is not a rectangular"),
        (np.array([["a", "b"]], dtype=object), "similarity"),
        (sp.coo_array(np.ones(3)), "2-d"),
        (sp.csr_matrix((np.array([-1.0, 2.0]), [0, 1], [0, 2]), shape=(1, 2)), "non"),
    ],
)
def test_bad_matrices(bad, match):
    for score in (qmax, dmax, score_matrix):
        with pytest.raises(ValueError, match=match):
            score(bad)


def test_bad_gap():
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="gap_onset"):
        qmax(np.eye(3), gap_onset=-1)


def test_parity_with_librosa_rqa(rng):
    librosa = pytest.importorskip("librosa")
    for trial in range(30):
        n, m = rng.integers(2, 30, size=2)
        S = random_recurrence(rng, n, m, weighted=bool(trial % 2))
        # librosa's rqa turns an infinite gap_extend into 0 * inf = NaN
        # (documented difference); an infinite onset works.
        onset = rng.choice([0.0, 0.5, 1.0, 3.0, np.inf])
        extend = rng.choice([0.0, 0.5, 1.0, 3.0])
        knight = bool(trial % 3)
        theirs = librosa.sequence.rqa(
            S, gap_onset=onset, gap_extend=extend, knight_moves=knight, backtrack=False
        )
        ours = score_matrix(S, gap_onset=onset, gap_extend=extend, knight_moves=knight)
        np.testing.assert_allclose(ours, theirs)


@pytest.mark.parametrize(
    "method, essentia_name", [("qmax", "serra09"), ("dmax", "chen17")]
)
def test_parity_with_essentia(rng, method, essentia_name):
    essentia = pytest.importorskip("essentia")
    essentia.log.infoActive = False
    import essentia.standard as es

    margin = {"qmax": 2, "dmax": 3}[method]
    for _ in range(10):
        n, m = rng.integers(margin + 1, 40, size=2)
        S = random_recurrence(rng, n, m, density=rng.uniform(0.05, 0.5))
        # essentia leaves its first 2 (Qmax) or 3 (Dmax) rows and columns at
        # 0; with those cells empty the two definitions agree everywhere.
        S[:margin] = 0
        S[:, :margin] = 0
        onset, extend = (float(v) for v in rng.choice([0.0, 0.5, 1.0, 2.0], size=2))
        theirs, distance = es.CoverSongSimilarity(
            disOnset=onset,
            disExtension=extend,
            alignmentType=essentia_name,
            distanceType="asymmetric",
        )(S.astype(np.float32))
        ours = score_matrix(S, method=method, gap_onset=onset, gap_extend=extend)
        np.testing.assert_allclose(ours, theirs)
        best = ours.max()
        expected = math.sqrt(m) / best if best > 0 else math.inf
        assert distance == pytest.approx(expected, rel=1e-6)


def test_essentia_ignores_the_first_rows_we_do_not(rng):
    essentia = pytest.importorskip("essentia")
    essentia.log.infoActive = False
    import essentia.standard as es

    S = np.zeros((6, 6), dtype=np.float32)
    S[[0, 1], [0, 1]] = 1  # a path in essentia's untouched margin
    theirs, _ = es.CoverSongSimilarity()(S)
    assert theirs.max() == 0
    assert qmax(S) == 2.0
