"""Selection of the k smallest: the one rule of which neighbours a row keeps.

Each row keeps its k smallest by (exact value, column): among equal values
at the k-th place the lowest columns win.  :func:`nominate` finds the
candidates of a row of scores cheaply and exactly (an upper bound on the
k-th smallest from column-group minima); :func:`keep_k` decides among
candidates; :func:`within_margin` gives a block's candidates, in one
compiled pass per row (``_nominate.pyx``).  Scores that only approximate
the exact values (see ``_product``) are settled by :func:`settle` and
:func:`k_smallest_mask`: what lies more than the slack from the k-th value
is decided by the scores, the rest by the exact values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._nominate import row_candidates


def strided_group_minima(S: np.ndarray, groups: int) -> np.ndarray:
    """Minimum of each strided column group (column c in group c % groups).

    Groups are strided because the close frames of a sequence are neighbours
    in time: contiguous groups would put a whole run of near neighbours into
    one group and loosen the bound drawn from these minima.  The columns
    past the last full group fold into the first groups, which keeps the
    groups disjoint.
    """
    b, m = S.shape
    n_full = (m // groups) * groups
    mins = S[:, :n_full].reshape(b, m // groups, groups).min(axis=1)
    rest = m - n_full
    if rest:
        np.minimum(mins[:, :rest], S[:, n_full:], out=mins[:, :rest])
    return mins


def nominate(S: np.ndarray, k: int, margin: np.ndarray):
    """Candidate (row, column) pairs: every column within ``margin`` of the
    row's k-th smallest score, and then some.

    The k-th smallest of the minima of at least k disjoint column groups is
    an upper bound on the row's k-th smallest score (each minimum is a
    distinct entry), so the columns at or below bound + margin include all
    within the margin of the k-th.  Excluded columns (+inf) never qualify.

    Returns ``(flat, rows, cols)``: flat indices into ``S`` and their rows
    and columns, in row-major order (columns ascending within a row).
    """
    b, m = S.shape
    # 4k groups keep the bound tight; for small k, at least m / 8 (up to
    # 2048) keeps the reduction's inner loops long enough to run at memory
    # speed.  More groups than 4k for large k cost more than they save: their
    # minima are partitioned, and a stride that is a multiple of the music's
    # period (sections repeat) puts a frame's repeats in one group and
    # loosens the bound (benchmarks/bench_cross_similarity.py, chroma_cens
    # 8000 x 8000, k = 180: 1000 groups nominate 370 columns a row, 720
    # groups 200; 1.8x faster).
    groups = 4 * k if 4 * k >= 256 else max(4 * k, min(2048, m // 8))
    if m < 2 * groups:
        return _below(S, _kth_bound(S, k, margin))
    mins = strided_group_minima(S, groups)
    threshold = _kth_bound(mins, k, margin)
    # A column can qualify only in a group whose minimum does: with long
    # groups (long references) reading just those groups beats a full pass.
    qualify = mins <= threshold[:, None]
    per_group = m // groups
    if np.count_nonzero(qualify) * per_group * 8 > S.size:
        return _below(S, threshold)
    q_rows, q_groups = np.nonzero(qualify)
    cols = q_groups[:, None] + groups * np.arange(per_group)
    rest = q_groups[q_groups < m - per_group * groups] + per_group * groups
    rows = np.concatenate([np.repeat(q_rows, per_group), q_rows[q_groups < m % groups]])
    cols = np.concatenate([cols.ravel(), rest])
    flat = rows * m + cols
    flat = np.sort(flat[S.reshape(-1)[flat] <= threshold[rows]])
    rows, cols = np.divmod(flat, m)
    return flat, rows, cols


@dataclass
class Candidates:
    """A block's candidates (:func:`within_margin`), row-major, columns
    ascending within a row.

    A row with at most k candidates keeps them all; ``doubt`` holds the
    positions of the candidates of the other rows whose score is not below
    the row's k-th score minus the margin: those not certainly among the
    row's k nearest (:func:`settle`).
    """

    counts: np.ndarray
    cols: np.ndarray
    doubt: np.ndarray

    @property
    def rows(self) -> np.ndarray:
        return np.repeat(np.arange(self.counts.size), self.counts)


def within_margin(
    S: np.ndarray, k: int, margin: np.ndarray, limit: int | None = None
) -> Candidates | None:
    """Per row of scores ``S``: every column within ``margin`` of the row's
    k-th smallest score (:class:`Candidates`), by the compiled pass
    (``_nominate.pyx``).

    With ``limit``, None when there are more than ``limit`` candidates: the
    scores cannot resolve the block.
    """
    found = row_candidates(S, k, margin, -1 if limit is None else limit)
    if found is None:
        return None
    counts, cols, _, _, doubt = found
    return Candidates(counts, cols, doubt)


def _kth_bound(values: np.ndarray, k: int, margin: np.ndarray) -> np.ndarray:
    """Per row: the k-th smallest of ``values`` plus the margin."""
    kk = min(k, values.shape[1]) - 1
    bound = np.partition(values, kk, axis=1)[:, kk]
    return np.minimum(bound + margin, np.finfo(values.dtype).max).astype(values.dtype)


def _below(S: np.ndarray, threshold: np.ndarray):
    flat = np.flatnonzero(S <= threshold[:, None])
    rows, cols = np.divmod(flat, S.shape[1])
    return flat, rows, cols


def kth_smallest(rows, values, counts, k, b) -> np.ndarray:
    """Per row, the k-th smallest of its flat ``values`` (rows in order;
    +inf for a row with fewer than k).  ``k`` is an int or one per row."""
    starts = np.zeros(b + 1, dtype=np.intp)
    np.cumsum(counts, out=starts[1:])
    k = np.asarray(k, dtype=np.intp)
    width = max(int(counts.max(initial=0)), int(k.max(initial=1)), 1)
    padded = np.full((b, width), np.inf, dtype=values.dtype)
    padded[rows, np.arange(rows.size) - starts[rows]] = values
    if k.ndim == 0:
        return np.partition(padded, k - 1, axis=1)[:, k - 1]
    padded.sort(axis=1)
    kth = np.take_along_axis(padded, np.maximum(k, 1)[:, None] - 1, axis=1)[:, 0]
    return np.where(k > 0, kth, -np.inf)


def keep_k(rows: np.ndarray, keys: np.ndarray, k, b: int) -> np.ndarray:
    """Mask of the entries kept when each row keeps its k smallest keys,
    ties going to the earliest entries (the lowest columns).

    ``rows``/``keys`` are flat and row-major; ``k`` is an int or one count
    per row.  A row with fewer entries keeps them all.
    """
    counts = np.bincount(rows, minlength=b)
    over = counts > k
    if not np.any(over):
        return np.ones(rows.size, dtype=bool)
    kth = np.where(over, kth_smallest(rows, keys, counts, k, b), np.inf)
    kth_of = kth[rows]
    keep = keys < kth_of
    tie = keys == kth_of
    if np.any(tie & over[rows]):
        missing = k - np.bincount(rows, weights=keep, minlength=b).astype(np.intp)
        ties_before = np.zeros(b + 1, dtype=np.intp)
        np.cumsum(
            np.bincount(rows, weights=tie, minlength=b).astype(np.intp),
            out=ties_before[1:],
        )
        tie_rank = np.cumsum(tie) - ties_before[rows]
        keep |= tie & (tie_rank <= missing[rows])
    return keep


def choose_k(rows: np.ndarray, cols: np.ndarray, keys: np.ndarray, k, b: int):
    """Per row, the k smallest candidates by (key, column), in column order.

    Returns ``(counts, cols, keys)`` of the kept entries (see :func:`keep_k`).
    """
    keep = keep_k(rows, keys, k, b)
    return np.bincount(rows[keep], minlength=b), cols[keep], keys[keep]


def settle(found: Candidates, k: int, exact):
    """Each row's ``k`` nearest among its candidates ``found``: the certain
    ones (below the k-th score minus the margin), and among the doubtful ones
    (``found.doubt``) those decided on ``exact(rows, cols)`` (their exact
    keys), ties to the lowest column.

    Returns ``(counts, cols)``, row-major.
    """
    doubt, counts = found.doubt, found.counts
    if doubt.size == 0:
        return counts, found.cols
    b = counts.size
    d_rows = np.searchsorted(np.cumsum(counts), doubt, side="right")
    d_counts = np.bincount(d_rows, minlength=b)
    need = k - (counts - d_counts)  # room left by the certain ones
    kept = keep_k(d_rows, exact(d_rows, found.cols[doubt]), need, b)
    dropped = doubt[~kept]
    return counts - np.bincount(d_rows[~kept], minlength=b), np.delete(
        found.cols, dropped
    )


def select_exact(D: np.ndarray, k: int, excluded=None):
    """The k smallest entries of each row of ``D`` by (value, column);
    ``excluded`` (``(rows, cols)``) entries never qualify (``D`` is
    modified)."""
    if excluded is not None:
        D[excluded] = np.inf
    flat, rows, cols = nominate(D, k, np.zeros(D.shape[0]))
    return choose_k(rows, cols, D.reshape(-1)[flat], k, D.shape[0])


def k_smallest_mask(keys, k: int, axis: int) -> np.ndarray:
    """Boolean mask of the ``k`` smallest entries along ``axis``.

    ``keys`` is an :class:`~skxsim._neighbors._product.ApproxKeys`.  Exactly
    ``k`` per line (row for ``axis=1``, column for ``axis=0``), ordered by
    (exact key, index): among equal keys at the k-th place the lower indices
    are kept, as :func:`keep_k` keeps the lower columns.
    """
    D = keys.approx
    kth = np.partition(D, k - 1, axis=axis).take(k - 1, axis=axis)
    across = (None, slice(None)) if axis == 0 else (slice(None), None)
    # In float64: a float32 threshold would round.
    kth = kth.astype(np.float64)
    reach = 2 * keys.slack
    mask = D < (kth - reach)[across]
    band = D <= (kth + reach)[across]
    band &= ~mask
    room = k - np.count_nonzero(mask, axis=axis)
    # Candidates line by line, index ascending within a line: keep_k's order.
    if axis == 1:
        rows, cols = np.nonzero(band)
        lines = rows
    else:
        cols, rows = np.nonzero(band.T)
        lines = cols
    kept = keep_k(lines, keys.key(rows, cols), room, D.shape[1 - axis])
    mask[rows[kept], cols[kept]] = True
    return mask
