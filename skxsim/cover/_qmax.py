"""Local alignment scores of a cross-recurrence matrix: Qmax and Dmax.

Qmax (Serrà, Serra and Andrzejak 2009) is a Smith-Waterman-style recurrence
over a binary (or non-negative) cross-recurrence matrix ``S``: a path of
recurrences grows by one along the diagonal or a knight move, a gap costs
``gap_onset`` when it opens (the cell it leaves is a recurrence) and
``gap_extend`` while it lasts.  Dmax (Chen, Li and Xiao 2017) adds longer
knight moves that collect the recurrences they pass over.  The best score in
the matrix says how much of one recording follows the other.

Both recurrences are computed one row at a time, every row as a handful of
vectorised numpy operations over all its columns: no Python loop over cells.
Only the last rows of scores are kept, so a sparse ``S`` is read row by row
and never made dense, and many matrices side by side (one query against a
whole catalogue, see :mod:`skxsim.cover`) go through in one pass.

Orientation: rows are query frames, columns reference frames (scikit-learn,
as :class:`~skxsim.CrossSimilarity` returns them).  Both scores are the same
for ``S`` and ``S.T``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import StrOptions, validate_params

from .._output_size import check_output_size
from .._validation import GAP_COST

__all__ = ["dmax", "qmax", "score_matrix"]

METHODS = ("qmax", "dmax")
# Columns of zeros left of every matrix: the longest move looks this far back.
PAD = {"qmax": 2, "dmax": 3}


def _check_similarity(similarity, method: str):
    """A float64 ndarray or canonical CSR matrix, non-negative and finite."""
    S = similarity
    if not sp.issparse(S):
        try:
            S = np.asarray(S)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"similarity is not a rectangular array: {exc}") from None
    if S.ndim != 2 or 0 in S.shape:
        raise ValueError(
            f"similarity must be a non-empty 2-d matrix; got shape {S.shape}."
        )
    if S.dtype.kind not in "biuf":
        raise ValueError(f"similarity must hold real numbers; got {S.dtype}.")
    if sp.issparse(S):
        S = sp.csr_matrix(S, dtype=np.float64, copy=True)
        S.sum_duplicates()  # duplicates mean their sum, as in scipy's toarray
        values = S.data
    else:
        S = values = S.astype(np.float64, copy=False)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("similarity must be finite and non-negative.")
    if method == "dmax":
        # Dmax is defined on binary matrices (essentia rejects anything else);
        # any positive entry is a recurrence.
        S = (S > 0).astype(np.float64)
        if sp.issparse(S):
            S = sp.csr_matrix(S)
    return S


def _rows(S):
    """The rows of a dense or CSR matrix as dense 1-d arrays, one at a time."""
    if not sp.issparse(S):
        yield from S
        return
    row = np.zeros(S.shape[1])
    previous = np.empty(0, dtype=np.intp)
    for i in range(S.shape[0]):
        lo, hi = S.indptr[i], S.indptr[i + 1]
        row[previous] = 0
        previous = S.indices[lo:hi]
        row[previous] = S.data[lo:hi]
        yield row


def recurrence_column_max(
    rows,
    n_cols: int,
    *,
    method: str = "qmax",
    gap_onset: float = 0.5,
    gap_extend: float = 0.5,
    knight_moves: bool = True,
    keep=None,
    dtype=np.float64,
    store=None,
) -> np.ndarray:
    """Run the Qmax or Dmax recurrence over ``rows``; best score per column.

    Parameters
    ----------
    rows : iterable of 1-d arrays of length n_cols
        The rows of ``S`` in order (bool or non-negative numbers).
    keep : ndarray of shape (n_cols,) or None
        0/1 per column; scores of columns with 0 are forced to 0 after every
        row.  Several matrices laid side by side, each preceded by ``PAD``
        such columns, are then computed exactly as if each were alone.
    store : ndarray of shape (n_rows, n_cols) or None
        If given, receives every row of scores.

    Returns
    -------
    column_max : ndarray of shape (n_cols,)
        The best score in each column (0 for an empty ``rows``).
    """
    pad = PAD[method]
    width = n_cols + pad
    new = slice(pad, width)
    # Score and "score minus the gap cost of leaving this cell" of the last
    # rows, each with `pad` zero columns on the left (cells outside the matrix).
    onset, extend = dtype(gap_onset), dtype(gap_extend)
    # A cell outside the matrix has score 0 and no recurrence, so leaving it
    # costs gap_extend (Dmax's moves add recurrences they pass to that).
    Q = [np.zeros(width, dtype) for _ in range(pad + 1)]
    P = [np.full(width, -extend, dtype) for _ in range(pad + 1)]
    S = [np.zeros(width, dtype) for _ in range(pad + 1)]
    column_max = np.zeros(n_cols, dtype)
    A = np.empty(n_cols, dtype)
    B = np.empty(n_cols, dtype)

    def back(X, rows_up: int, cols_left: int):
        return X[rows_up][pad - cols_left : width - cols_left]

    for i, row in enumerate(rows):
        # Rotate the row buffers: index 1 is the previous row, 2 the one before.
        Q.insert(0, Q.pop())
        P.insert(0, P.pop())
        S.insert(0, S.pop())
        s = S[0][new]
        s[:] = row
        hit = s > 0
        if method == "qmax":
            np.copyto(A, back(Q, 1, 1))
            np.copyto(B, back(P, 1, 1))
            if knight_moves:
                np.maximum(A, back(Q, 2, 1), out=A)
                np.maximum(A, back(Q, 1, 2), out=A)
                np.maximum(B, back(P, 2, 1), out=B)
                np.maximum(B, back(P, 1, 2), out=B)
            np.add(A, s, out=A)
        else:
            _dmax_terms(Q, P, S, back, A, B)
            np.add(A, 1, out=A)
        q = Q[0][new]
        np.maximum(B, 0, out=q)
        np.copyto(q, A, where=hit)
        if keep is not None:
            np.multiply(q, keep, out=q)
        p = P[0][new]
        # P = Q - gap_onset where the cell is a recurrence, else Q - gap_extend.
        np.subtract(q, extend, out=p)
        if onset != extend:
            np.subtract(q, onset, out=p, where=hit)
        np.maximum(column_max, q, out=column_max)
        if store is not None:
            store[i] = q
    return column_max


def _dmax_terms(Q, P, S, back, A, B):
    """Chen 2017's five moves, scored (A) and gap-penalised (B)."""
    # Moves (rows up, cols left) and the recurrences each one passes over.
    s_up1, s_up2 = back(S, 1, 0), back(S, 2, 0)
    s_left1, s_left2 = back(S, 0, 1), back(S, 0, 2)
    passed = [
        (1, 1, None),
        (2, 1, s_up1),
        (1, 2, s_left1),
        (3, 1, s_up2 + s_up1),
        (1, 3, s_left2 + s_left1),
    ]
    for n, (up, left, bonus) in enumerate(passed):
        a, b = back(Q, up, left), back(P, up, left)
        if bonus is not None:
            a, b = a + bonus, b + bonus
        if n == 0:
            np.copyto(A, a)
            np.copyto(B, b)
        else:
            np.maximum(A, a, out=A)
            np.maximum(B, b, out=B)


_PARAMS = {
    "similarity": ["array-like", "sparse matrix"],
    "gap_onset": GAP_COST,
    "gap_extend": GAP_COST,
}


@validate_params(
    {**_PARAMS, "knight_moves": ["boolean"]}, prefer_skip_nested_validation=True
)
def qmax(
    similarity,
    *,
    gap_onset: float = 0.5,
    gap_extend: float = 0.5,
    knight_moves: bool = True,
) -> float:
    """Qmax of Serrà, Serra and Andrzejak (2009): the best local alignment.

    The recurrence, over a cross-recurrence matrix ``S`` (cells outside the
    matrix count as 0)::

        Q[i, j] = max(Q[i-1, j-1], Q[i-2, j-1], Q[i-1, j-2]) + S[i, j]   if S[i, j] > 0
        Q[i, j] = max(0, Q[i-1, j-1] - g(i-1, j-1),
                         Q[i-2, j-1] - g(i-2, j-1),
                         Q[i-1, j-2] - g(i-1, j-2))                      otherwise

    where ``g`` is ``gap_onset`` at a recurrence (a gap opens) and
    ``gap_extend`` elsewhere (a gap goes on).  Qmax is the largest ``Q``.

    Parameters
    ----------
    similarity : array-like or sparse matrix of shape (n, n_ref)
        Non-negative; binary for the classical Qmax (a weighted matrix adds
        its values instead of 1, as ``librosa.sequence.rqa``).  A sparse
        matrix is read row by row, never made dense.
    gap_onset : float >= 0, default=0.5
        Cost of opening a gap (essentia's ``disOnset``; ``np.inf`` forbids
        gaps).
    gap_extend : float >= 0, default=0.5
        Cost of every further step of a gap (essentia's ``disExtension``).
    knight_moves : bool, default=True
        Allow the moves ``(i-2, j-1)`` and ``(i-1, j-2)`` besides the
        diagonal (tempo deviations).

    Returns
    -------
    score : float
        The best alignment score, 0 when ``S`` has no recurrence.

    See Also
    --------
    score_matrix : the whole score matrix.
    dmax : Chen 2017's variant.

    Notes
    -----
    ``score_matrix(S).max()``: the same value as
    ``librosa.sequence.rqa(S, gap_onset=..., gap_extend=...,
    knight_moves=..., backtrack=False).max()``.  essentia's
    ``CoverSongSimilarity`` leaves the first two rows and columns of its
    score matrix at 0; here they take part like every other cell.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim.cover import qmax
    >>> S = np.eye(6)
    >>> S[3, 3] = 0                     # one missing recurrence on the path
    >>> qmax(S)                         # 3, a gap (-0.5), then 2 more
    4.5
    >>> qmax(S, gap_onset=np.inf)       # no gaps: the longest run wins
    3.0
    """
    S = _check_similarity(similarity, "qmax")
    column_max = recurrence_column_max(
        _rows(S),
        S.shape[1],
        method="qmax",
        gap_onset=gap_onset,
        gap_extend=gap_extend,
        knight_moves=knight_moves,
    )
    return float(column_max.max())


@validate_params(_PARAMS, prefer_skip_nested_validation=True)
def dmax(similarity, *, gap_onset: float = 0.5, gap_extend: float = 0.5) -> float:
    """Dmax of Chen, Li and Xiao (2017): Qmax with longer knight moves.

    Besides Qmax's three moves, a path may step ``(i-3, j-1)`` or
    ``(i-1, j-3)``, and the moves that skip cells collect the recurrences
    they pass over (as essentia's ``CoverSongSimilarity`` with
    ``alignmentType="chen17"``).

    Parameters
    ----------
    similarity : array-like or sparse matrix of shape (n, n_ref)
        Binary cross-recurrence (any positive entry counts as 1).  A sparse
        matrix is read row by row, never made dense.
    gap_onset : float >= 0, default=0.5
        Cost of opening a gap.
    gap_extend : float >= 0, default=0.5
        Cost of every further step of a gap.

    Returns
    -------
    score : float
        The best alignment score, 0 when ``S`` has no recurrence.

    See Also
    --------
    qmax : the recurrence this extends.

    Notes
    -----
    essentia leaves the first three rows and columns of its score matrix at
    0; here they take part like every other cell.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim.cover import dmax, qmax
    >>> S = np.zeros((8, 8))
    >>> S[[0, 3, 4, 7], [0, 1, 2, 3]] = 1   # a path stepping 3 rows at a time
    >>> qmax(S), dmax(S)
    (2.0, 4.0)
    """
    S = _check_similarity(similarity, "dmax")
    column_max = recurrence_column_max(
        _rows(S),
        S.shape[1],
        method="dmax",
        gap_onset=gap_onset,
        gap_extend=gap_extend,
    )
    return float(column_max.max())


@validate_params(
    {
        **_PARAMS,
        "method": [StrOptions(set(METHODS))],
        "knight_moves": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def score_matrix(
    similarity,
    *,
    method: str = "qmax",
    gap_onset: float = 0.5,
    gap_extend: float = 0.5,
    knight_moves: bool = True,
) -> np.ndarray:
    """The whole score matrix of the Qmax or Dmax recurrence.

    With ``method="qmax"`` this is ``librosa.sequence.rqa(similarity,
    gap_onset=gap_onset, gap_extend=gap_extend, knight_moves=knight_moves,
    backtrack=False)`` (librosa's defaults are 1 and 1; ours are essentia's
    0.5 and 0.5), computed row by row without a Python loop over cells.

    Parameters
    ----------
    similarity : array-like or sparse matrix of shape (n, n_ref)
        Non-negative cross-recurrence (binary for ``"dmax"``).
    method : {"qmax", "dmax"}, default="qmax"
        The recurrence (see :func:`qmax` and :func:`dmax`).
    gap_onset, gap_extend : float >= 0, default=0.5
        Gap costs.
    knight_moves : bool, default=True
        Qmax only: allow the knight moves.

    Returns
    -------
    scores : ndarray of shape (n, n_ref), float64
        ``scores[i, j]`` is the best alignment ending at ``(i, j)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim.cover import score_matrix
    >>> score_matrix(np.eye(3))     # the diagonal, and gaps leaving it
    array([[1. , 0. , 0. ],
           [0. , 2. , 0.5],
           [0. , 0.5, 3. ]])
    """
    S = _check_similarity(similarity, method)
    check_output_size(
        S.shape[0] * S.shape[1] * np.dtype(np.float64).itemsize,
        f"the {S.shape[0]} x {S.shape[1]} score matrix",
        "qmax and dmax keep only the last rows: use them for the best score.",
    )
    scores = np.empty(S.shape)
    recurrence_column_max(
        _rows(S),
        S.shape[1],
        method=method,
        gap_onset=gap_onset,
        gap_extend=gap_extend,
        knight_moves=knight_moves,
        store=scores,
    )
    return scores
