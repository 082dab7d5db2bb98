"""The certified BLAS product: one matrix product that nominates neighbours.

Per block of query rows, one matrix product against a prepared reference
gives a *score* per (query, reference) pair whose order is the order of the
distances.  The product only nominates candidates: its rounding depends on
the block, the thread count and the CPU's BLAS kernel.  :func:`rounding_bound`
is the one proof of how far a score can be from the exact distance's
transform; every caller (the k-NN engine, the cover songs' mutual k-NN)
decides the pairs within that bound of a boundary on exact distances,
computed by :class:`PairDistances` from the frames' difference in float64.
A row's answer is therefore bit-identical whatever batch, block size,
thread count or BLAS kernel produced it.

Orientation: scikit-learn (rows are frames).
"""

from __future__ import annotations

import numpy as np

from . import _prepare
from ._scaling import (
    checked_distances,
    divided,
    pow2_peak,
    pow2_scale,
    query_overflow,
    row_chunks,
    row_norms,
    unit_factors,
    unit_rows,
)

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
            self.unit_factors_ = unit_factors(reference)
            self.zero_ = self.unit_factors_[1] == 0
            self.scale_ = 1.0
        else:
            self.scale_ = pow2_scale(reference)

    def prepared(self, X: np.ndarray) -> np.ndarray:
        """Query rows in the space of the keys, float64: unit vectors for
        cosine, else divided by the reference's power of two (exact)."""
        if self.metric == "cosine":
            return unit_rows(X)
        return divided(X, self.scale_)

    def prepared_reference(self, cols=None) -> np.ndarray:
        """Reference frames ``cols`` (all by default) as :meth:`prepared`
        makes them, from the stored factors."""
        R = self.reference_ if cols is None else self.reference_[cols]
        if self.metric != "cosine":
            return self.prepared(R)
        factors = self.unit_factors_
        if cols is not None:
            factors = tuple(f[cols] for f in factors)
        return unit_rows(R, factors)

    def keys(self, X: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Ranking keys of the pairs ``(X[rows[i]], reference[cols[i]])``."""
        out = np.empty(rows.size, dtype=np.float64)
        if rows.size == 0:
            return out
        d = X.shape[1]
        # Both sides are scaled before they are subtracted: the difference
        # of frames near +-1e308 would overflow.
        X64 = self.prepared(X)
        for part in row_chunks(rows.size, d, _PAIR_CHUNK):
            r, c = rows[part], cols[part]
            diff = self.prepared_reference(c)
            np.subtract(X64[r], diff, out=diff)
            np.square(diff, out=diff)
            out[part] = diff.sum(axis=1)
        _check_finite(out)
        if self.metric == "cosine":
            # scikit-learn's convention: a zero vector has cosine similarity 0
            # with everything (distance 1, key 2).
            zero = np.all(X64 == 0, axis=1)[rows] | self.zero_[cols]
            out[zero] = 2.0
        return out

    def all_keys(self, X: np.ndarray) -> np.ndarray:
        """Ranking keys of every (row of ``X``, reference frame) pair.

        The same arithmetic as :meth:`keys`, element for element, without
        gathering the reference.
        """
        X64 = self.prepared(X)
        R64 = self.prepared_reference()
        b, (m, d) = X64.shape[0], R64.shape
        out = np.empty((b, m))
        # Chunks of one query row against a slice of reference columns.
        parts = row_chunks(m, d, _PAIR_CHUNK)
        diff = np.empty((parts[0].stop if parts else 0, d))
        for i in range(b):
            for part in parts:
                chunk = diff[: part.stop - part.start]
                np.subtract(X64[i], R64[part], out=chunk)
                np.square(chunk, out=chunk)
                np.add.reduce(chunk, axis=1, out=out[i, part])
        _check_finite(out)
        if self.metric == "cosine":
            out[np.all(X64 == 0, axis=1)] = 2.0
            out[:, self.zero_] = 2.0
        return out

    def distances(self, keys: np.ndarray) -> np.ndarray:
        """Metric distances (float64) of ranking keys; a distance beyond
        float64's range is an error, never an inf or a 0."""
        if self.metric == "cosine":
            return 0.5 * keys
        with np.errstate(over="ignore", under="ignore"):
            if self.metric == "sqeuclidean":
                out = keys * np.float64(self.scale_) * np.float64(self.scale_)
            else:
                out = np.sqrt(keys) * self.scale_
        return checked_distances(out, keys, self.metric)


def _check_finite(keys: np.ndarray) -> None:
    """Keys of finite frames are finite unless the squared distance of a
    query frame far outside the reference's scale overflowed: refused, as
    a tree's proposals or an answer of such a pair would be wrong."""
    # One reduction, no temporary (keys are never NaN: finite frames).
    if keys.size and not np.max(keys) < np.inf:
        raise query_overflow(np.inf)


def rounding_bound(n_features: int, dtype, reach):
    """Bound on ``|score - exact|`` of the product in ``dtype``.

    ``exact`` is the exact transform of the pair's ranking key:
    ``(key - |q|^2) / 2`` for the euclidean metrics (key: the scaled squared
    distance of the centred frames, ``|q|`` the centred query's norm),
    ``key / 2 - 1`` for cosine (key: squared chord of the unit vectors).
    With ``reach = |q| + max|r|`` every term of the ``d + 1`` term dot
    product is at most ``reach^2`` in magnitude, so the bound is
    ``2 (d + 6) u reach^2``: the rounding of both factors to ``dtype``, the
    sum in any order, with or without FMA (Higham's gamma_{d+1}), and the
    float64 rounding of the key itself, with room.
    """
    u = _UNIT_ROUNDOFF[np.dtype(dtype)]
    return 2.0 * (n_features + 6) * u * reach * reach


class ApproxKeys:
    """Ranking keys of every (row, column) pair, within ``slack`` of exact.

    ``approx[i, j]`` differs from ``key(rows, cols)`` (the exact float64 key
    of those pairs) divided by ``unit``, a power of two, by at most
    ``slack``; with ``slack == 0`` it is exact.  Selections take what lies
    more than twice the slack from a boundary from ``approx`` alone and
    settle the rest on the exact keys (whose order alone counts).
    """

    def __init__(self, approx: np.ndarray, slack: float, key, unit=1.0) -> None:
        self.approx = approx
        self.slack = float(slack)
        self.key = key
        self.unit = unit


def _squared_norms(centred: np.ndarray) -> np.ndarray:
    """Squared row norms for the product's norm column and its margins.

    Plain float64 sums: :func:`rounding_bound` covers their rounding (any
    order, at most ``d u |r|^2``), and what they feed is only the product,
    whose undecided pairs are settled on the exact keys.  Rows whose
    squares overflow (queries far larger than the reference) take the
    scaled sums, so the caller sees how large they are.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        squared = np.einsum("ij,ij->i", centred, centred)
    if np.all(np.isfinite(squared)):
        return squared
    with np.errstate(over="ignore"):
        return np.square(row_norms(centred))


class BlasScores:
    """A reference prepared for scoring query blocks with one matrix product.

    For euclidean metrics the reference is divided by a power of two near
    its peak (exact) and centred on its mean, and ``[R, |R|^2 / 2]`` is
    stored so that ``[-Q, 1] @ prepared.T == |R|^2 / 2 - Q R^T``: per row,
    the order of the squared distances, from values near 1 whatever the
    data's scale.  Centring matters: the rounding of this norm expansion
    grows with the norms, and features such as chroma sit far from the
    origin.  For cosine the reference is unit-normalised and the score is
    ``-cos``.  The product runs in ``dtype`` (float32 for the k-NN engine,
    which redoes a block in float64 when float32 cannot resolve it).
    """

    def __init__(
        self,
        reference: np.ndarray,
        metric: str,
        pairs: PairDistances,
        dtype=_SCORE_DTYPE,
    ):
        self.metric = metric
        self.pairs_ = pairs
        n_ref, d = reference.shape
        # The frames are prepared in float64 a chunk of rows at a time, so
        # that a chunk stays in cache through its passes and no float64 copy
        # of the whole reference is made (at 20000 x 1024 float32 frames,
        # 0.40 s became 0.1 s); every value is the one the whole-array
        # arithmetic gives (row-wise operations; the mean's sum carried
        # from chunk to chunk in row order).
        chunks = row_chunks(n_ref, d)
        # The product's unit is the keys' times unit_ (the square of a power
        # of two): its values stay near 1, far from float32's limits.
        self.center_, self.rescale_ = None, 1.0
        # Float frames of a euclidean metric: both passes compiled
        # (_prepare: the same values, without the float64 temporaries).
        raw = pairs.reference_
        compiled = metric != "cosine" and raw.dtype in (np.float32, np.float64)
        if metric != "cosine" and n_ref:
            low, high, total = 0.0, 0.0, np.zeros(d)
            for part in chunks:
                if compiled:
                    rows = np.ascontiguousarray(raw[part])
                    low, high = _prepare.statistics(rows, pairs.scale_, total, low, high)
                    continue
                R = pairs.prepared_reference(part)
                low, high = min(low, float(R.min())), max(high, float(R.max()))
                total = np.add.reduce(np.concatenate([total[None], R]), axis=0)
            self.rescale_ = pow2_peak(np.array([low, high]))
            self.center_ = total / n_ref / self.rescale_
        self.unit_ = self.rescale_**2
        self.prepared_ = np.empty((n_ref, d + (metric != "cosine")), dtype=dtype)
        top = 0.0
        for part in chunks:
            if compiled:
                rows, out = np.ascontiguousarray(raw[part]), self.prepared_[part]
                args = (pairs.scale_, self.rescale_, self.center_, out)
                if (peak := _prepare.centred_rows(rows, *args)) >= 0:
                    top = max(top, peak)
                    continue
            prepared = self._prepare(pairs.prepared_reference(part))
            self.prepared_[part] = prepared
            if metric != "cosine":
                top = max(top, float(prepared[:, -1].max(initial=0.0)))
        self.max_norm_ = 1.0 if metric == "cosine" else float(np.sqrt(2 * top))

    def _centred(self, X64: np.ndarray) -> np.ndarray:
        centred = X64 / self.rescale_
        centred -= self.center_
        return centred

    def _prepare(self, R: np.ndarray) -> np.ndarray:
        """The prepared reference, in float64, from the reference frames as
        ``pairs.prepared_reference`` gives them."""
        if self.metric == "cosine":
            return R
        centred = self._centred(R)
        prepared = np.empty((R.shape[0], R.shape[1] + 1))
        prepared[:, :-1] = centred
        prepared[:, -1] = 0.5 * _squared_norms(centred)
        return prepared

    def left(self, X: np.ndarray):
        """The query block as the product's left factor, plus the norms of
        its rows (those of the unit vectors for cosine: 1, or 0 for a zero
        row)."""
        X64 = self.pairs_.prepared(X)
        if self.metric == "cosine":
            return -X64, np.any(X64 != 0, axis=1).astype(np.float64)
        centred = self._centred(X64)
        left = np.empty((X64.shape[0], X64.shape[1] + 1))
        np.negative(centred, out=left[:, :-1])
        left[:, -1] = 1.0
        return left, np.sqrt(_squared_norms(centred))

    def score_dtype(self, q_norms: np.ndarray) -> np.dtype:
        """The product's dtype unless a score could overflow it (then float64).

        Every score is bounded by ``(|q| + max|r|)^2`` in magnitude; query
        frames that large against this reference (1e19 times its scale) are
        scored in float64, and beyond float64's range the query is refused.
        """
        reach = float(np.max(q_norms, initial=0.0)) + self.max_norm_
        if reach < 1e18:
            return self.prepared_.dtype
        if reach < 1e150:
            return np.dtype(np.float64)
        raise query_overflow(reach)

    def scores(self, left: np.ndarray, dtype, transposed: bool = False) -> np.ndarray:
        """Scores of a block in ``dtype``: ``(b, n_ref)``, or ``(n_ref, b)``
        computed as such with ``transposed``."""
        if dtype == self.prepared_.dtype:
            right = self.prepared_
        else:
            # Rare (see BlasIndex): rebuilt from the frames, since the stored
            # copy has the rounding of its dtype.
            right = self._prepare(self.pairs_.prepared_reference())
        left = np.asarray(left, dtype=dtype)
        return right @ left.T if transposed else left @ right.T

    @property
    def n_features(self) -> int:
        return self.prepared_.shape[1] - (self.metric != "cosine")

    def margin(self, q_norms: np.ndarray, dtype) -> np.ndarray:
        """Per row, twice :func:`rounding_bound`.

        An order statistic of the scores moves by at most the bound M, so
        with t the k-th smallest score every frame among the exact k nearest
        has a score <= t + 2M, and every frame with a score < t - 2M is
        among them.
        """
        return 2.0 * rounding_bound(self.n_features, dtype, q_norms + self.max_norm_)

    def approximate_keys(self, X: np.ndarray, transposed: bool = False) -> ApproxKeys:
        """The ranking key of every (row of ``X``, reference frame) pair.

        ``approx`` is ``2 * score + c`` in the product's dtype and unit, ``c``
        being ``|q|^2`` (euclidean) or 2 (cosine), ``(n, n_ref)`` or
        ``(n_ref, n)`` with ``transposed``.  Its slack is twice
        :func:`rounding_bound` plus the rounding of that sum and of ``c``
        (each term at most ``reach^2``, hence ``4 u reach^2``).  Zero vectors
        under cosine get scikit-learn's key 2 exactly.
        """
        left, q_norms = self.left(X)
        dtype = self.score_dtype(q_norms)
        S = self.scores(left, dtype, transposed)
        S *= 2
        if self.metric == "cosine":
            S += 2
        else:
            offset = np.square(q_norms).astype(dtype)
            S += offset[None, :] if transposed else offset[:, None]
        reach = float(np.max(q_norms, initial=0.0)) + self.max_norm_
        u = _UNIT_ROUNDOFF[np.dtype(dtype)]
        slack = 2.0 * rounding_bound(self.n_features, dtype, reach) + 4 * u * reach**2
        if self.metric == "cosine":
            zero_ref = self.pairs_.zero_
            zero_query = q_norms == 0
            if transposed:
                S[zero_ref] = 2
                S[:, zero_query] = 2
            else:
                S[zero_query] = 2
                S[:, zero_ref] = 2

        def key(rows, cols):
            if transposed:
                rows, cols = cols, rows
            return self.pairs_.keys(X, rows, cols)

        return ApproxKeys(S, slack, key, self.unit_)
