"""Exact k-nearest-neighbour search on a matrix product, row-exact.

Per block of query rows, one matrix product against a prepared reference
gives a *score* per (query, reference) pair whose order is the order of the
distances.  The product only nominates candidates: its rounding depends on
the block, the thread count and the CPU's BLAS kernel.  Every reference frame
whose score lies within a proven rounding margin of the row's k-th score is a
candidate; the candidates' distances are then computed directly from the
frames' difference, in float64, and the row keeps the k smallest by (exact
distance, column).  A row's answer is therefore bit-identical whatever batch,
block size, thread count or BLAS kernel produced it.

Orientation: scikit-learn (rows are frames).
"""

from __future__ import annotations

import numpy as np

# The product runs in float32 whatever the input dtype: it only nominates
# candidates, and the margin below accounts for float32 rounding.  A block
# whose float32 margin lets too many candidates through (data whose
# neighbours are much closer than float32 resolves at its norms) is redone in
# float64.
_SCORE_DTYPE = np.dtype(np.float32)
_UNIT_ROUNDOFF = {np.dtype(np.float32): 2.0**-24, np.dtype(np.float64): 2.0**-53}

# Number of (pair x feature) float64 differences built at once when exact
# distances are computed: small enough to stay in a core's cache through the
# subtraction, squaring and sum (8x faster than 8 MB chunks for full=True).
_PAIR_CHUNK = 2**15


def pow2_scale(values: np.ndarray) -> float:
    """1.0, or for values beyond 2**+-400 a power of two close to their peak.

    Dividing by a power of two is exact, so scaling by it changes no bit of a
    result that neither overflows nor underflows; it keeps the squares of
    frames near 1e160 (or 1e-160) representable.  Ordinary data is not
    scaled at all (the same bits, one pass fewer).
    """
    peak = float(np.max(np.abs(values), initial=0.0))
    if not np.isfinite(peak) or 2.0**-400 <= peak <= 2.0**400 or peak == 0:
        return 1.0
    return float(np.ldexp(1.0, int(np.frexp(peak)[1])))


def row_norms(X: np.ndarray) -> np.ndarray:
    """Euclidean norm of each row, in float64, without overflow or underflow.

    The summation order is fixed (numpy's pairwise sum along a contiguous
    row), so a row's norm does not depend on the other rows.
    """
    X = np.asarray(X, dtype=np.float64)
    peak = np.max(np.abs(X), axis=1, initial=0.0)
    scale = np.ldexp(1.0, np.frexp(peak)[1])
    scaled = X / scale[:, None]
    np.square(scaled, out=scaled)
    return np.sqrt(scaled.sum(axis=1)) * scale


class PairDistances:
    """The exact distance of (query, reference) pairs, from their difference.

    Used by every exact index of a BLAS metric, so that the BLAS engine and
    the trees rank and return identical values.

    ``keys(X, rows, cols)`` gives a float64 ranking key per pair (scaled
    squared euclidean distance, or squared chord between unit vectors), and
    ``distances(keys)`` turns keys into the metric's distances.
    """

    def __init__(self, reference: np.ndarray, metric: str) -> None:
        self.metric = metric
        self.reference_ = reference
        if metric == "cosine":
            self.norms_ = row_norms(reference)
            self.scale_ = 1.0
        else:
            self.norms_ = None
            self.scale_ = pow2_scale(reference)

    def unit(self, X: np.ndarray, norms: np.ndarray) -> np.ndarray:
        """Rows of ``X`` divided by their norms (zero rows stay zero)."""
        return np.asarray(X, dtype=np.float64) / np.where(norms == 0, 1, norms)[:, None]

    def keys(self, X: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Ranking keys of the pairs ``(X[rows[i]], reference[cols[i]])``."""
        out = np.empty(rows.size, dtype=np.float64)
        if rows.size == 0:
            return out
        d = X.shape[1]
        X64 = np.asarray(X, dtype=np.float64)
        if self.metric == "cosine":
            q_norms = row_norms(X64)
            X64 = self.unit(X64, q_norms)
        step = max(1, _PAIR_CHUNK // max(d, 1))
        inv_scale = 1.0 / self.scale_
        for start in range(0, rows.size, step):
            part = slice(start, start + step)
            r, c = rows[part], cols[part]
            ref = np.asarray(self.reference_[c], dtype=np.float64)
            if self.metric == "cosine":
                ref /= np.where(self.norms_[c] == 0, 1, self.norms_[c])[:, None]
            diff = X64[r] - ref
            if inv_scale != 1.0:
                diff *= inv_scale
            np.square(diff, out=diff)
            out[part] = diff.sum(axis=1)
        if self.metric == "cosine":
            # scikit-learn's convention: a zero vector has cosine similarity 0
            # with everything (distance 1, key 2).
            zero = (q_norms[rows] == 0) | (self.norms_[cols] == 0)
            out[zero] = 2.0
        return out

    def all_keys(self, X: np.ndarray) -> np.ndarray:
        """Ranking keys of every (row of ``X``, reference frame) pair.

        The same arithmetic as :meth:`keys`, element for element, without
        gathering the reference.
        """
        X64 = np.asarray(X, dtype=np.float64)
        R64 = np.asarray(self.reference_, dtype=np.float64)
        if self.metric == "cosine":
            q_norms = row_norms(X64)
            X64 = self.unit(X64, q_norms)
            R64 = self.unit(R64, self.norms_)
        b, (m, d) = X64.shape[0], R64.shape
        out = np.empty((b, m))
        # Chunks of one query row against a slice of reference columns.
        step = max(1, _PAIR_CHUNK // max(d, 1))
        inv_scale = 1.0 / self.scale_
        diff = np.empty((min(step, m), d))
        for i in range(b):
            for start in range(0, m, step):
                part = slice(start, min(start + step, m))
                chunk = diff[: part.stop - part.start]
                np.subtract(X64[i], R64[part], out=chunk)
                if inv_scale != 1.0:
                    chunk *= inv_scale
                np.square(chunk, out=chunk)
                np.add.reduce(chunk, axis=1, out=out[i, part])
        if self.metric == "cosine":
            out[q_norms == 0] = 2.0
            out[:, self.norms_ == 0] = 2.0
        return out

    def distances(self, keys: np.ndarray) -> np.ndarray:
        """Metric distances (float64) of ranking keys."""
        if self.metric == "cosine":
            return 0.5 * keys
        if self.metric == "sqeuclidean":
            with np.errstate(over="ignore"):
                out = keys * np.float64(self.scale_) * np.float64(self.scale_)
            if not np.all(np.isfinite(out)):
                raise ValueError(
                    "squared euclidean distances of these frames overflow "
                    "float64 (values near 1e154 or beyond); use "
                    "metric='euclidean' or rescale the features."
                )
            return out
        return np.sqrt(keys) * self.scale_


class BlasScores:
    """A reference prepared for scoring query blocks with one matrix product.

    For euclidean metrics the reference is centred on its mean and scaled by
    a power of two, and ``[R, |R|^2 / 2]`` is stored so that
    ``[-Q, 1] @ prepared.T == |R|^2 / 2 - Q R^T``: per row, the order of the
    squared distances.  Centring matters: the rounding of this norm
    expansion grows with the norms, and features such as chroma sit far from
    the origin.  For cosine the reference is unit-normalised and the score
    is ``-cos``.
    """

    def __init__(self, reference: np.ndarray, metric: str, pairs: PairDistances):
        self.metric = metric
        self.pairs_ = pairs
        R = np.asarray(reference, dtype=np.float64)
        self.center_ = None if metric == "cosine" else R.mean(axis=0)
        prepared = self._prepare(R)
        self.max_norm_ = (
            1.0 if metric == "cosine" else float(np.sqrt(2 * prepared[:, -1].max()))
        )
        self.scale_ = pairs.scale_
        self.prepared_ = np.ascontiguousarray(prepared, dtype=_SCORE_DTYPE)

    def _prepare(self, R64: np.ndarray) -> np.ndarray:
        """The prepared reference, in float64."""
        if self.metric == "cosine":
            return self.pairs_.unit(R64, self.pairs_.norms_)
        centred = (R64 - self.center_) / self.pairs_.scale_
        prepared = np.empty((R64.shape[0], R64.shape[1] + 1))
        prepared[:, :-1] = centred
        prepared[:, -1] = 0.5 * np.square(row_norms(centred))
        return prepared

    def left(self, X: np.ndarray):
        """The query block as the product's left factor, plus its row norms."""
        X64 = np.asarray(X, dtype=np.float64)
        if self.metric == "cosine":
            norms = row_norms(X64)
            return -X64 / np.where(norms == 0, 1, norms)[:, None], np.minimum(norms, 1)
        centred = (X64 - self.center_) / self.scale_
        left = np.empty((X64.shape[0], X64.shape[1] + 1))
        np.negative(centred, out=left[:, :-1])
        left[:, -1] = 1.0
        return left, row_norms(centred)

    def score_dtype(self, q_norms: np.ndarray) -> np.dtype:
        """float32 unless a score could overflow it (then float64).

        Every score is bounded by ``(|q| + max|r|)^2`` in magnitude; query
        frames that large against this reference (1e19 times its scale) are
        scored in float64, and beyond float64's range the query is refused.
        """
        reach = float(np.max(q_norms, initial=0.0)) + self.max_norm_
        if reach < 1e18:
            return _SCORE_DTYPE
        if reach < 1e150:
            return np.dtype(np.float64)
        raise ValueError(
            f"query frames are about {reach:.1e} times larger than the "
            "reference's scale: their squared distances overflow float64."
        )

    def scores(self, left: np.ndarray, dtype) -> np.ndarray:
        """Scores of a block in ``dtype`` (float32, or float64 when redone)."""
        if dtype == self.prepared_.dtype:
            right = self.prepared_
        else:
            # Rare (see blas_kneighbors): rebuilt from the frames, since the
            # stored float32 copy has float32 rounding.
            right = self._prepare(np.asarray(self.pairs_.reference_, np.float64))
        return np.asarray(left, dtype=dtype) @ right.T

    def margin(self, q_norms: np.ndarray, dtype) -> np.ndarray:
        """Per row, twice the bound on |score - exact key transform|.

        The score of reference frame j differs from ``(key_j - |q|^2) / 2``
        (euclidean; ``key_j / 2 - 1`` for cosine) by at most
        ``M = 2 (d + 6) u (|q| + max|r|)^2``: the rounding of both factors to
        the score dtype, the d + 1 term dot product (Higham's gamma_{d+1}
        bound, any summation order, with or without FMA), and the float64
        rounding of the key itself.  With t the k-th smallest score, every
        frame among the exact k nearest has a score <= t + 2M.
        """
        d = self.prepared_.shape[1] - (self.metric != "cosine")
        u = _UNIT_ROUNDOFF[np.dtype(dtype)]
        reach = q_norms + self.max_norm_
        return 4.0 * (d + 6) * u * reach * reach


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
    # 4k groups keep the bound tight; at least m / 8 (up to 2048) keeps the
    # reduction's inner loops long enough to run at memory speed.
    groups = max(4 * k, min(2048, m // 8))
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


def blas_kneighbors(
    scorer: BlasScores, pairs: PairDistances, X, k, exclude=None, values=True
):
    """The k nearest reference frames of a block of query rows, row-exact.

    ``exclude(S)`` may set excluded scores to +inf in place (a band around
    the diagonal for self-similarity).  With ``values=False`` only the set
    of neighbours is decided, and exact distances are computed only for the
    pairs whose scores lie within the rounding margin of the row's k-th
    (typically none); the keys returned are then ``None``.  Returns
    ``(counts, cols, keys)`` as :func:`choose_k`.
    """
    b = X.shape[0]
    m = scorer.prepared_.shape[0]
    left, q_norms = scorer.left(X)
    dtype = scorer.score_dtype(q_norms)
    while True:
        S = scorer.scores(left, dtype)
        if exclude is not None:
            exclude(S)
        margin = scorer.margin(q_norms, dtype)
        flat, rows, cols = nominate(S, k, margin)
        # Far more candidates than k: float32 could not resolve this block's
        # neighbours at its norms.  The answer would be the same, but float64
        # scores nominate far fewer pairs.
        if dtype == np.float64 or rows.size <= b * (2 * k + 32) or k >= m:
            break
        dtype = np.dtype(np.float64)
    counts = np.bincount(rows, minlength=b)
    short = counts <= k  # rows whose every candidate is a neighbour
    if np.all(short):
        keys = pairs.keys(X, rows, cols) if values else None
        return counts, cols, keys
    scores = S.reshape(-1)[flat]
    kth = np.where(short, np.inf, kth_smallest(rows, scores, counts, k, b))
    reach = (kth + margin)[rows]
    kept = scores <= reach  # a score above t + 2M is never among the k
    rows, cols, scores = rows[kept], cols[kept], scores[kept]
    if values:
        keys = pairs.keys(X, rows, cols)
        return choose_k(rows, cols, keys, k, b)
    # Below t - 2M a pair is certainly among the k; only the pairs within the
    # margin of t need their exact distance to be decided.
    certain = scores < (kth - margin)[rows]
    doubt = ~certain
    need = k - np.bincount(rows[certain], minlength=b)
    d_rows = rows[doubt]
    keep = certain
    keep[doubt] = keep_k(d_rows, pairs.keys(X, d_rows, cols[doubt]), need, b)
    return np.bincount(rows[keep], minlength=b), cols[keep], None
