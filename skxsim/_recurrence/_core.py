"""Self-similarity: the recurrence matrix of a sequence, on the k-NN engine.

Shared by :func:`skxsim.recurrence_matrix` (librosa orientation) and
:class:`skxsim.RecurrenceMatrix` (scikit-learn orientation).  The sequence is
its own reference: row ``i`` holds frame ``i``'s ``k`` nearest frames ``j``
with ``|i - j| >= width``.  The band is excluded inside the blocked search
(see ``_search.kneighbors``), ``sym`` is the sparse intersection of the graph
with its transpose, and data-driven bandwidths are computed from every
frame's own neighbours before the intersection.

Orientation: scikit-learn (rows are frames); ``transpose=True`` writes
librosa's layout (column ``i`` holds frame ``i``'s neighbours).
"""

from __future__ import annotations

import numpy as np

from .._graph import (
    bandwidth_rule,
    full_graph,
    mutual_neighbors,
    resolve_bandwidth,
    with_self_links,
)
from .._neighbors import (
    all_distances,
    fit_index,
    full_row_statistics,
    n_threads_for,
)
from .._output_size import check_graph_size, entry_kind, ways_out
from .._pipeline import knn_graph

# Rows of a full matrix symmetrised at once.
_SYM_BLOCK = 512


def recurrence(
    X: np.ndarray,
    *,
    k: int,
    width: int,
    metric,
    metric_params: dict | None,
    mode: str,
    bandwidth,
    sym: bool,
    include_self: bool,
    full: bool,
    sparse: bool,
    dtype,
    algorithm: str = "auto",
    algorithm_params: dict | None = None,
    n_jobs=None,
    transpose: bool = False,
):
    """The recurrence matrix ``(n, n)`` of frames ``X`` ``(n, d)``.

    ``k`` is the number of neighbours per frame (rows near the band's edges
    of a short sequence may have fewer); it is also the rank of the
    neighbour whose distance the data-driven bandwidths use.  ``bandwidth``
    is a float, a name, ``None`` or an ndarray ``(n, n)`` indexed
    ``[frame, neighbour]``.  ``full`` applies to distance and affinity only.
    Returns CSR (CSC with ``transpose``) or a dense array in ``dtype``.
    """
    n = X.shape[0]
    k, width = int(k), int(width)  # numpy scalars as Python's (no int8 overflow)
    full = full and mode != "connectivity"
    check_graph_size(
        n,
        n,
        k=None if full else min(k, n) + include_self,
        sparse=sparse,
        dtype=dtype,
        kind=entry_kind(mode, bandwidth_rule(bandwidth)[0] == "pair", sym),
        n_threads=n_threads_for(n_jobs),
        what=f"the recurrence matrix of {n} frames",
        ways=ways_out(blocks=False),
    )
    _, index = fit_index(
        X,
        metric=metric,
        metric_params=metric_params,
        k=k,
        algorithm=algorithm,
        algorithm_params=algorithm_params,
    )

    def resolve(statistics):
        """The bandwidth, from every frame's own neighbour statistics (the
        sequence is its own reference) when the rule needs them."""
        if mode != "affinity" or bandwidth_rule(bandwidth)[0] in ("fixed", "matrix"):
            return resolve_bandwidth(bandwidth, mode, None)
        if n < 2:
            raise ValueError(
                "a data-driven bandwidth needs each frame's neighbours, so the "
                "sequence needs at least 2 frames; pass a float bandwidth."
            )
        if not full and width >= n:
            raise ValueError(
                f"a data-driven bandwidth needs each frame's neighbours, and "
                f"width={width} leaves none: each of the {n} frames is within "
                "the band |i - j| < width of every other. Pass a float "
                f"bandwidth, or a width below {n}."
            )
        stats = statistics()
        return resolve_bandwidth(
            bandwidth,
            mode,
            lambda: stats,
            reference_statistics=stats,
            what="the frames",
        )

    if full:
        # The output's own buffer; rows of `rows_view` are frames' rows.
        if transpose:
            out = np.empty((n, n), dtype).T if sparse else np.empty((n, n), dtype)
            rows_view = out.T
        else:
            out = rows_view = np.empty((n, n), dtype)
        all_distances(index, X, rows_view, n_jobs=n_jobs)

        def statistics():
            # Each frame's k nearest other frames (full ignores the band).
            np.fill_diagonal(rows_view, np.inf)
            return full_row_statistics(rows_view, min(k, n - 1))

        bw = resolve(statistics)
        # A frame is at distance 0 from itself (also a zero vector under
        # cosine, whose distance to everything else is 1).
        np.fill_diagonal(rows_view, 0)
        if sym:
            symmetrize_min(rows_view)
        graph = full_graph(
            out, mode=mode, bandwidth=bw, sparse=sparse, transpose=transpose
        )
        if include_self:
            return graph  # distance 0 on the diagonal: affinity 1
        if sparse:
            return drop_full_diagonal(graph)
        np.fill_diagonal(graph, 0)
        return graph

    def finish(neighbors):
        if sym:
            neighbors = mutual_neighbors(neighbors)
        return with_self_links(neighbors) if include_self else neighbors

    return knn_graph(
        index,
        X,
        n_cols=n,
        k=k,
        mode=mode,
        resolve=resolve,
        dtype=dtype,
        sparse=sparse,
        transpose=transpose,
        n_jobs=n_jobs,
        band=(np.arange(n), width),
        finish=finish,
    )


def symmetrize_min(D: np.ndarray) -> None:
    """``D = minimum(D, D.T)`` in place, a block of rows at a time.

    Exact distances of a symmetric metric are already symmetric; this keeps
    ``sym=True`` meaningful for a callable metric that is not.
    """
    n = D.shape[0]
    for start in range(0, n, _SYM_BLOCK):
        stop = min(start + _SYM_BLOCK, n)
        lower = np.minimum(D[start:stop, :stop], D[:stop, start:stop].T)
        D[start:stop, :stop] = lower
        D[:stop, start:stop] = lower.T


def drop_full_diagonal(graph):
    """A full CSR/CSC matrix (every entry stored, rows in column order)
    without its diagonal entries."""
    n = graph.shape[0]
    keep = np.ones(graph.nnz, dtype=bool)
    keep[np.arange(n) * (n + 1)] = False  # entry i of row i
    indptr = np.arange(n + 1) * (n - 1)
    out = type(graph)(
        (graph.data[keep], graph.indices[keep], indptr), shape=graph.shape
    )
    out.has_sorted_indices = True
    return out
