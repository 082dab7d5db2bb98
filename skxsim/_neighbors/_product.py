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


def pow2_scale(values: np.ndarray, limit: int = 400) -> float:
    """1.0, or for values beyond 2**+-limit a power of two close to their peak.

    Dividing by a power of two is exact, so scaling by it changes no bit of a
    result that neither overflows nor underflows; it keeps the squares of
    frames near 1e160 (or 1e-160) representable (a smaller ``limit`` does
    the same for higher powers).  Ordinary data is not scaled at all (the
    same bits, one pass fewer).
    """
    peak = float(np.max(np.abs(values), initial=0.0))
    if not np.isfinite(peak) or 2.0**-limit <= peak <= 2.0**limit or peak == 0:
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
    of those pairs) by at most ``slack``; with ``slack == 0`` it is exact.
    Selections take what lies more than twice the slack from a boundary from
    ``approx`` alone and settle the rest on the exact keys.
    """

    def __init__(self, approx: np.ndarray, slack: float, key) -> None:
        self.approx = approx
        self.slack = float(slack)
        self.key = key


class BlasScores:
    """A reference prepared for scoring query blocks with one matrix product.

    For euclidean metrics the reference is centred on its mean and scaled by
    a power of two, and ``[R, |R|^2 / 2]`` is stored so that
    ``[-Q, 1] @ prepared.T == |R|^2 / 2 - Q R^T``: per row, the order of the
    squared distances.  Centring matters: the rounding of this norm
    expansion grows with the norms, and features such as chroma sit far from
    the origin.  For cosine the reference is unit-normalised and the score
    is ``-cos``.  The product runs in ``dtype`` (float32 for the k-NN
    engine, which redoes a block in float64 when float32 cannot resolve it).
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
        R = np.asarray(reference, dtype=np.float64)
        self.center_ = None if metric == "cosine" else R.mean(axis=0)
        prepared = self._prepare(R)
        self.max_norm_ = (
            1.0 if metric == "cosine" else float(np.sqrt(2 * prepared[:, -1].max()))
        )
        self.scale_ = pairs.scale_
        self.prepared_ = np.ascontiguousarray(prepared, dtype=dtype)

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
        raise ValueError(
            f"query frames are about {reach:.1e} times larger than the "
            "reference's scale: their squared distances overflow float64."
        )

    def scores(self, left: np.ndarray, dtype, transposed: bool = False) -> np.ndarray:
        """Scores of a block in ``dtype``: ``(b, n_ref)``, or ``(n_ref, b)``
        computed as such with ``transposed``."""
        if dtype == self.prepared_.dtype:
            right = self.prepared_
        else:
            # Rare (see BlasIndex): rebuilt from the frames, since the stored
            # copy has the rounding of its dtype.
            right = self._prepare(np.asarray(self.pairs_.reference_, np.float64))
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

        ``approx`` is ``2 * score + c`` in the product's dtype, ``c`` being
        ``|q|^2`` (euclidean) or 2 (cosine), ``(n, n_ref)`` or
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
            zero_ref = self.pairs_.norms_ == 0
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

        return ApproxKeys(S, slack, key)
