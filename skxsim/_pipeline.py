"""The one graph pipeline of cross- and self-similarity.

Both workflows run the same steps on the engine (after the output-size
guard, ``_output_size.check_graph_size``): search each query row's ``k``
neighbours (outside a band, for self-similarity), resolve the bandwidth
from what the search found, and assemble the graph.  The workflows differ only in what they do
between the search and the assembly (self-similarity's mutual neighbours
and self links), which they pass in as ``finish``.

Orientation: scikit-learn (rows are query frames); ``transpose=True`` gives
librosa's layout.
"""

from __future__ import annotations

from ._graph import neighbor_graph
from ._neighbors import kneighbors


def knn_graph(
    index,
    X,
    *,
    n_cols: int,
    k: int,
    mode: str,
    resolve,
    dtype,
    sparse: bool,
    transpose: bool,
    n_jobs=None,
    band=None,
    finish=None,
):
    """The k-NN graph of query frames ``X`` against ``index``.

    ``resolve(statistics)`` turns the rows' neighbour statistics (a function,
    called only when the bandwidth needs them) into the bandwidth;
    ``finish(neighbors)`` may change the neighbours after that (mutual
    neighbours, self links).
    """
    neighbors = kneighbors(
        index, X, k, n_jobs=n_jobs, band=band, values=mode != "connectivity"
    )
    bandwidth = resolve(lambda: neighbors.row_statistics(dtype))
    if finish is not None:
        neighbors = finish(neighbors)
    return neighbor_graph(
        neighbors,
        n_cols,
        mode=mode,
        bandwidth=bandwidth,
        dtype=dtype,
        sparse=sparse,
        transpose=transpose,
    )
