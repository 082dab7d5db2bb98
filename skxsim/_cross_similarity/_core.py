"""The cross-similarity core: a fitted index and query frames in, a graph out.

Shared by :class:`~skxsim.CrossSimilarity` (``transform``) and
:func:`~skxsim.cross_similarity` (librosa's drop-in), so that the output
size guard, the search, the bandwidth rules and the graph's dtype and layout
exist once.  The faces differ only in where the data-driven statistics come
from (learned in ``fit``, or from the query frames as librosa does) and in
orientation (``transpose=True`` writes librosa's ``(n_ref, n)`` layout).

Orientation: scikit-learn (rows are query frames).
"""

from __future__ import annotations

import numpy as np

from .._graph import bandwidth_rule, full_graph, resolve_bandwidth
from .._neighbors import all_distances, full_row_statistics, n_threads_for
from .._output_size import check_graph_size, entry_kind, ways_out
from .._pipeline import knn_graph


def cross_similarity_graph(
    index,
    X: np.ndarray,
    *,
    k: int,
    mode: str,
    bandwidth,
    full: bool,
    sparse: bool,
    dtype,
    n_jobs=None,
    transpose: bool = False,
    reference_statistics=None,
    median: float | None = None,
):
    """The cross-similarity of query frames ``X`` to the indexed reference.

    ``k`` is resolved (at most ``n_ref``); ``bandwidth`` is the parameter
    as given (see ``_graph.bandwidth_rule``), with ``median`` the learned
    median bandwidth (``None``: the query frames' median, as librosa) and
    ``reference_statistics`` the reference frames' ``(kth, mean)`` for the
    per-pair rules.  ``dtype`` is the output's (bool for librosa's
    connectivity).  Returns CSR ``(n, n_ref)`` (CSC ``(n_ref, n)`` with
    ``transpose``) or a dense array.
    """
    n, n_ref = X.shape[0], index.n_samples_fit_
    full = full and mode != "connectivity"
    check_graph_size(
        n,
        n_ref,
        k=None if full else k,
        sparse=sparse,
        dtype=dtype,
        kind=entry_kind(mode, bandwidth_rule(bandwidth)[0] == "pair"),
        n_threads=n_threads_for(n_jobs),
        what=f"the cross-similarity of {n} query frames to {n_ref} reference frames",
        ways=ways_out(blocks=True),
    )

    def resolve(query_statistics):
        return resolve_bandwidth(
            bandwidth,
            mode,
            query_statistics,
            reference_statistics=reference_statistics,
            median=median,
        )

    if full:
        D = np.empty((n, n_ref), dtype)  # the output's own buffer
        all_distances(index, X, D, n_jobs=n_jobs)
        bw = resolve(lambda: full_row_statistics(D, k))
        return full_graph(
            D, mode=mode, bandwidth=bw, sparse=sparse, transpose=transpose
        )
    return knn_graph(
        index,
        X,
        n_cols=n_ref,
        k=k,
        mode=mode,
        resolve=resolve,
        dtype=dtype,
        sparse=sparse,
        transpose=transpose,
        n_jobs=n_jobs,
    )
