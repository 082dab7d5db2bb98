"""Graph assembly: modes and bandwidths, into CSR, CSC or dense output.

The one home of the bandwidth rules (:func:`bandwidth_rule` says what a
``bandwidth`` parameter asks for, :func:`resolve_bandwidth` turns it into a
value from the neighbour statistics) and of the graph itself: a pure
function of what the search found (neighbour columns and distances, or every
distance) and a resolved bandwidth.  Orientation: rows are query
frames; ``transpose=True`` gives librosa's ``(n_ref, n)`` layout without a
copy: the CSR arrays of the graph are the CSC arrays of its transpose, and a
dense output is filled row by row and returned as its transposed (F-ordered,
as librosa's) view.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real

import numpy as np
import scipy.sparse as sp

from ._neighbors import Neighbors, as_output_dtype, scaled_apply

MODES = ("connectivity", "distance", "affinity")
PER_PAIR_BANDWIDTHS = (
    "mean_k",
    "gmean_k",
    "mean_k_avg",
    "gmean_k_avg",
    "mean_k_avg_and_pair",
)
BANDWIDTH_NAMES = ("med_k_scalar",) + PER_PAIR_BANDWIDTHS

# Rows of a full matrix processed at once when a per-pair bandwidth is built.
_FULL_CHUNK = 2**20


def median_bandwidth(kth: np.ndarray, what: str) -> float:
    """The median k-th neighbour distance, checked to be usable."""
    kth = kth[np.isfinite(kth)]
    value = float(scaled_apply(np.median, kth)) if kth.size else float("nan")
    if not value > 0:
        raise ValueError(
            f"the bandwidth estimated from {what} (median distance to the k-th "
            f"neighbour) is {value}: most frames have at least k exact "
            "duplicates. Pass a float bandwidth or a larger k."
        )
    return value


@dataclass(frozen=True)
class PairBandwidth:
    """A per-pair bandwidth rule with the statistics it combines.

    ``query`` and ``reference`` are ``(kth, mean)`` per frame: the distance
    to the k-th nearest neighbour and the mean distance to the k nearest.
    """

    name: str
    query: tuple[np.ndarray, np.ndarray]
    reference: tuple[np.ndarray, np.ndarray]

    def values(self, rows, cols, dist) -> np.ndarray:
        (q_kth, q_mean), (r_kth, r_mean) = self.query, self.reference
        if self.name == "mean_k":
            return scaled_apply(_mean_of_two, q_kth[rows], r_kth[cols])
        if self.name == "gmean_k":
            return scaled_apply(_gmean_of_two, q_kth[rows], r_kth[cols])
        if self.name == "mean_k_avg":
            return scaled_apply(_mean_of_two, q_mean[rows], r_mean[cols])
        if self.name == "gmean_k_avg":
            return scaled_apply(_gmean_of_two, q_mean[rows], r_mean[cols])
        return scaled_apply(_mean_of_three, q_mean[rows], r_mean[cols], dist)


# The per-pair rules, each of degree 1 (see _neighbors.scaled_apply).
def _mean_of_two(a, b):
    return (a + b) / 2


def _gmean_of_two(a, b):
    return np.sqrt(a * b)


def _mean_of_three(a, b, c):
    return (a + b + c) / 3


def bandwidth_rule(bandwidth) -> tuple[str, object]:
    """What a (validated) ``bandwidth`` parameter asks for.

    ``("fixed", float)`` for any real number, Python's or numpy's;
    ``("median", None)`` for ``None`` and ``"med_k_scalar"``;
    ``("pair", name)`` for the per-pair names; ``("matrix", ndarray)`` for
    an array (its shape is checked by ``_validation.check_bandwidth_matrix``).
    """
    if bandwidth is None or (
        isinstance(bandwidth, str) and bandwidth == "med_k_scalar"
    ):
        return "median", None
    if isinstance(bandwidth, str):
        return "pair", bandwidth
    if isinstance(bandwidth, np.ndarray):
        return "matrix", bandwidth
    if isinstance(bandwidth, Real) and not isinstance(bandwidth, bool):
        return "fixed", float(bandwidth)
    raise TypeError(f"bandwidth={bandwidth!r} is not a bandwidth")


def resolve_bandwidth(
    bandwidth,
    mode: str,
    query_statistics,
    *,
    reference_statistics=None,
    median: float | None = None,
    what: str = "the query frames",
):
    """The bandwidth a graph is assembled with (``None`` unless affinity).

    ``query_statistics()`` gives the query frames' ``(kth, mean)`` neighbour
    distances (called only when a rule needs them); ``reference_statistics``
    are the reference frames' (per-pair rules).  The median rule uses
    ``median`` when one was learned (the estimator's ``bandwidth_``), else
    the median over ``what`` of the query frames' k-th distances (librosa).
    """
    if mode != "affinity":
        return None
    kind, value = bandwidth_rule(bandwidth)
    if kind in ("fixed", "matrix"):
        return value
    if kind == "pair":
        return PairBandwidth(value, query_statistics(), reference_statistics)
    if median is not None:
        return median
    return median_bandwidth(query_statistics()[0], what)


def affinity(dist: np.ndarray, bandwidth) -> np.ndarray:
    """``exp(-dist / bandwidth)``; a zero bandwidth takes the limit.

    A per-pair bandwidth of 0 (frames with k exact duplicates) gives
    affinity 1 for distance 0 and 0 otherwise, the limit as it goes to 0.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = dist / bandwidth
    ratio[dist == 0] = 0
    return np.exp(-ratio, out=ratio)


def _values(mode, dist, bandwidth, rows, cols):
    if mode == "distance":
        return dist
    if isinstance(bandwidth, PairBandwidth):
        bandwidth = bandwidth.values(rows(), cols(), dist)
    elif isinstance(bandwidth, np.ndarray):
        bandwidth = bandwidth[rows(), cols()]
    return affinity(dist, bandwidth)


def neighbor_graph(
    neighbors: Neighbors,
    n_ref: int,
    *,
    mode: str,
    bandwidth=None,
    dtype=np.float64,
    sparse: bool = True,
    transpose: bool = False,
):
    """The k-NN graph of the query rows.

    ``bandwidth`` (affinity only): a float, a :class:`PairBandwidth` or an
    ndarray ``(n, n_ref)`` indexed ``[query, reference]``.  Returns CSR
    ``(n, n_ref)`` (CSC ``(n_ref, n)`` with ``transpose``) or a dense array
    of that shape, in ``dtype``; connectivity is 1 (``True`` for bool).
    """
    indptr, cols = neighbors.indptr, neighbors.indices
    n = indptr.size - 1

    def rows():
        return np.repeat(np.arange(n), np.diff(indptr))

    if mode == "connectivity":
        values = np.ones(cols.size, dtype=dtype)
    else:
        # Affinities from the distances as the output dtype holds them, as
        # with full=True, whose distances are stored in the output first.
        dist = as_output_dtype(neighbors.distances, dtype).astype(np.float64)
        values = _values(mode, dist, bandwidth, rows, lambda: cols)
        values = values.astype(dtype, copy=False)
    if sparse:
        if transpose:
            graph = sp.csc_matrix((values, cols, indptr), shape=(n_ref, n))
        else:
            graph = sp.csr_matrix((values, cols, indptr), shape=(n, n_ref))
        graph.has_sorted_indices = True
        return graph
    # Written row by row (query by query); the transposed output is a view,
    # F-ordered as librosa's own.
    out = np.zeros((n, n_ref), dtype=dtype)
    out[rows(), cols] = values
    return out.T if transpose else out


def full_graph(
    D: np.ndarray,
    *,
    mode: str,
    bandwidth=None,
    sparse: bool = True,
    transpose: bool = False,
):
    """Every entry: the distances ``D`` ``(n, n_ref)``, C-ordered, or their
    affinities (computed in place).

    Returns ``D`` itself when dense (its transposed view with ``transpose``,
    F-ordered as librosa's output), else a CSR matrix (CSC of the transpose)
    on ``D``'s memory that stores every entry, zeros included.
    """
    n, n_ref = D.shape
    if mode == "affinity":
        step = max(1, _FULL_CHUNK // max(n_ref, 1))
        cols = np.arange(n_ref)[None, :]
        for start in range(0, n, step):
            part = slice(start, min(start + step, n))
            rows = np.arange(part.start, part.stop)[:, None]
            dist = D[part].astype(np.float64)
            D[part] = _values(mode, dist, bandwidth, lambda r=rows: r, lambda: cols)
    if not sparse:
        return D.T if transpose else D
    indices = np.tile(np.arange(n_ref), n)
    indptr = np.arange(0, n * n_ref + 1, n_ref)
    if transpose:
        graph = sp.csc_matrix((D.ravel(), indices, indptr), shape=(n_ref, n))
    else:
        graph = sp.csr_matrix((D.ravel(), indices, indptr), shape=(n, n_ref))
    graph.has_sorted_indices = True
    return graph


# ------------------------------------------------------------- square graphs
# Operations on the k-NN graph of a sequence with itself (rows and columns
# are the same frames), as CSR arrays; rows stay in ascending column order.


def mutual_neighbors(neighbors: Neighbors) -> Neighbors:
    """Keep the pairs (i, j) whose transpose (j, i) is also in the graph.

    The sparse intersection of the graph with its transpose, each kept pair
    carrying the smaller of its two distances (equal for a symmetric metric).
    """
    indptr, cols = neighbors.indptr, neighbors.indices
    n = indptr.size - 1
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    # CSR order is the order of the keys row * n + col.
    keys = rows * n + cols
    # The transpose in CSR order (scipy's counting sort), each entry holding
    # its position in the graph: its keys ascend, so searching them is a
    # cache-friendly sweep rather than random probes.
    position = np.arange(cols.size, dtype=np.int64)
    transposed = sp.csr_matrix((position, cols, indptr), shape=(n, n)).tocsc()
    t_rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(transposed.indptr))
    t_keys = t_rows * n + transposed.indices
    at = np.minimum(np.searchsorted(keys, t_keys), max(keys.size - 1, 0))
    found = keys[at] == t_keys if keys.size else np.zeros(0, dtype=bool)
    # A pair found from both sides is kept once, at its place in the graph.
    kept = at[found]
    new_indptr = np.zeros(n + 1, dtype=indptr.dtype)
    np.cumsum(np.bincount(rows[kept], minlength=n), out=new_indptr[1:])
    distances = neighbors.distances
    if distances is not None:
        distances = np.minimum(distances[kept], distances[transposed.data[found]])
    return Neighbors(new_indptr, cols[kept], distances)


def with_self_links(neighbors: Neighbors) -> Neighbors:
    """Add each frame to its own row (the diagonal), at distance 0.

    Rows must not hold their own frame yet.
    """
    indptr, cols = neighbors.indptr, neighbors.indices
    n = indptr.size - 1
    frames = np.arange(n)
    rows = np.repeat(frames, np.diff(indptr))
    before = np.bincount(rows[cols < rows], minlength=n)
    diagonal = indptr[:-1] + frames + before  # where each self-link goes
    others = np.ones(cols.size + n, dtype=bool)
    others[diagonal] = False
    new_cols = np.empty(cols.size + n, dtype=cols.dtype)
    new_cols[others] = cols
    new_cols[diagonal] = frames
    distances = neighbors.distances
    if distances is not None:
        new_distances = np.zeros(cols.size + n, dtype=distances.dtype)
        new_distances[others] = distances
        distances = new_distances
    return Neighbors(indptr + np.arange(n + 1), new_cols, distances)
