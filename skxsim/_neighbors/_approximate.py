"""Approximate neighbour backends: HNSW (hnswlib) and NN-descent (pynndescent).

Both are optional extras.  Their libraries are imported when an index is
built or loaded, never when skxsim is imported, so registering the backends
costs nothing and a missing library is an ``ImportError`` that names the
extra to install.

An approximate index only proposes the ``k`` neighbours of a query frame.
What leaves it is finished here, the same way for both libraries:

- the distances of the proposed pairs are recomputed from the frames in the
  input dtype, so they are the true metric distances (hnswlib returns squared
  euclidean distances in float32; an exact match is exactly 0 here);
- a row with fewer than ``k`` distinct neighbours (possible in approximate
  search: a disconnected region of the graph, a too small ``ef``) is
  completed by an exact search of that row, never returned short;
- each row comes in ascending reference-index order, the CSR row order.

Orientation: scikit-learn (rows are frames).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import pickle
import threading

import numpy as np
from joblib import cpu_count

from .._output_size import check_output_size
from ._exact import exact_index, merge_rows, row_of_scores
from ._float32 import Float32Frames, warn_if_unresolved
from ._parallel import n_threads_for
from ._select import choose_k

# Metrics each library computes, by their scikit-learn names.
HNSW_METRICS = ("euclidean", "l2", "sqeuclidean", "cosine")
NNDESCENT_METRICS = (
    "euclidean",
    "l2",
    "sqeuclidean",
    "cosine",
    "manhattan",
    "cityblock",
    "l1",
    "chebyshev",
    "minkowski",
)

# The seed used when ``algorithm_params`` gives no ``random_state``: a fixed
# one, so that the same reference always gives the same index.
DEFAULT_RANDOM_STATE = 0


def _import_extra(module: str, extra: str):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"algorithm={extra!r} needs the {module} package, which is not "
            f'installed: pip install "skxsim[{extra}]"'
        ) from exc


class ApproximateIndex:
    """Common finishing of an approximate index's answers.

    Subclasses implement ``_candidates(X, n) -> indices`` of shape
    ``(len(X), n)``, with ``-1`` (or a repeated index) where the library
    found fewer than ``n`` neighbours, and the persistence of their library
    object.  Distances come from the exact index of the same reference, so
    they are the metric's exact values, bit for bit those of exact search.
    """

    exact = False
    uses_blas = False

    def __init__(self, reference, metric, metric_params) -> None:
        self.reference_ = reference
        self.metric = metric
        self.metric_params = dict(metric_params or {})
        self.n_samples_fit_, self.n_features_in_ = reference.shape
        self.exact_ = exact_index(reference, metric, self.metric_params)
        self._frames = Float32Frames(reference, metric)

    def distances_block(self, X: np.ndarray) -> np.ndarray:
        return self.exact_.distances_block(X)

    row_bytes = row_of_scores

    # Persistence: the library's index travels as the bytes it serialised to
    # when it was built, with their digest.  Bytes are checked before the
    # library reads them: a damaged file is an error here, not a crash in
    # C++ code.

    def _keep_library_index(self, index) -> None:
        self._library_bytes = pickle.dumps(index, protocol=4)
        self._library_digest = hashlib.blake2b(self._library_bytes).hexdigest()
        self._restore(index)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_index", None)
        state.pop("_lock", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if hashlib.blake2b(self._library_bytes).hexdigest() != self._library_digest:
            raise ValueError(
                f"the serialised {self._LIBRARY[0]} index is damaged (its digest "
                "does not match)."
            )
        _import_extra(*self._LIBRARY)
        self._restore(pickle.loads(self._library_bytes))

    def kneighbors_block(self, X: np.ndarray, k: int, band=None, values=True):
        """The (approximate) k nearest reference frames of each row of ``X``.

        ``k`` distinct neighbours per row (fewer only where a band leaves
        fewer frames), in ascending column order, with their exact metric
        distances.  A row the library answers short is searched exactly.
        """
        X = np.asarray(X, dtype=self.reference_.dtype)
        b, m = X.shape[0], self.n_samples_fit_
        extra = 2 * band[1] - 1 if band is not None else 0
        frames = self._frames(X)
        # A frame float32 cannot hold is searched exactly.
        unheld = ~np.all(np.isfinite(frames), axis=1)
        frames[unheld] = 0
        indices = self._candidates(frames, min(m, k + extra)).astype(np.intp)
        indices = np.sort(indices, axis=1)
        short = (indices[:, 0] < 0) | np.any(indices[:, 1:] == indices[:, :-1], axis=1)
        short |= unheld
        allowed = ~short[:, None] & (indices >= 0)
        if band is not None:
            allowed &= np.abs(indices - band[0][:, None]) >= band[1]
        rows = np.nonzero(allowed)[0]
        cols = indices[allowed]
        dist = self.exact_.pair_distances(X, rows, cols)
        counts, cols, dist = choose_k(rows, cols, dist, k, b)
        # A band can leave a row fewer than k proposals: search it exactly too.
        short |= counts < min(k, m - extra)
        if not np.any(short):
            return counts, cols, dist
        keep = ~short[np.repeat(np.arange(b), counts)]
        counts, cols, dist = np.where(short, 0, counts), cols[keep], dist[keep]
        todo = np.flatnonzero(short)
        sub_band = None if band is None else (band[0][todo], band[1])
        sub = self.exact_.kneighbors_block(X[todo], k, sub_band)
        return merge_rows(counts, cols, dist, todo, sub)


class HNSWIndex(ApproximateIndex):
    """A hierarchical navigable small world graph (hnswlib) of the reference.

    Parameters
    ----------
    reference : ndarray of shape (n_ref, n_features)
        Reference frames, rows are frames.
    metric : {"euclidean", "l2", "sqeuclidean", "cosine"}
        The distance.
    M : int, default=16
        Graph degree; larger is more accurate, slower and bigger.
    ef_construction : int, default=200
        Candidate list size while building.
    ef : int, default=64
        Candidate list size while searching; hnswlib raises it to ``k``
        when smaller.
    random_state : int, default=0
        Seed of the level assignment.
    n_jobs : int, default=1
        Threads of the build.  More is faster but the graph then depends on
        the thread schedule; 1 makes the index reproducible.
    """

    PARAMS = {"M": 16, "ef_construction": 200, "ef": 64, "random_state": 0, "n_jobs": 1}

    def __init__(self, reference, metric, metric_params=None, **params) -> None:
        if metric_params:
            raise ValueError(
                f"algorithm='hnsw' takes no metric_params; got {metric_params!r}."
            )
        hnswlib = _import_extra("hnswlib", "hnsw")
        super().__init__(reference, metric, None)
        params = {**self.PARAMS, **params}
        if params["random_state"] is None:
            params["random_state"] = DEFAULT_RANDOM_STATE
        self.params = params
        n_ref, n_features = reference.shape
        M = int(params["M"])
        # hnswlib allocates every node's level-0 links (2 M ids), its frame
        # (float32) and label at once; the pickled copy kept for persistence
        # doubles that.
        check_output_size(
            2 * n_ref * (8 * M + 4 * n_features + 16),
            f"the hnsw index of {n_ref} frames with M={M}",
            "Use a smaller M (algorithm_params) or an exact algorithm.",
        )
        space = "cosine" if metric == "cosine" else "l2"
        index = hnswlib.Index(space=space, dim=n_features)
        index.init_index(
            max_elements=n_ref,
            M=M,
            # Beyond n_ref a candidate list holds every frame already.
            ef_construction=min(int(params["ef_construction"]), n_ref),
            random_seed=int(params["random_state"]),
        )
        frames = self._frames(reference)
        # joblib's n_jobs; threads beyond the cores would only wait.
        threads = min(n_threads_for(params["n_jobs"]), cpu_count())
        index.add_items(frames, np.arange(n_ref), num_threads=threads)
        self._keep_library_index(index)
        warn_if_unresolved(self.exact_, self._frames, frames, self._LIBRARY[0])

    _LIBRARY = ("hnswlib", "hnsw")

    def _restore(self, index) -> None:
        # hnswlib searches with max(ef, k) candidates: ef below k is raised,
        # and beyond n_ref a candidate list holds every frame already.
        index.set_ef(min(int(self.params["ef"]), self.n_samples_fit_))
        self._index = index

    def _candidates(self, X, k):
        try:
            # One thread per call: skxsim's n_jobs already spreads the blocks
            # (hnswlib queries are thread-safe and release the GIL).
            labels, _ = self._index.knn_query(X, k=k, num_threads=1)
        except RuntimeError:
            # hnswlib refuses a batch when it cannot find k neighbours for some
            # row; every row is then marked short and searched exactly.
            return np.full((X.shape[0], k), -1, dtype=np.intp)
        return labels.astype(np.intp)


class NNDescentIndex(ApproximateIndex):
    """A nearest-neighbour-descent search graph (pynndescent) of the reference.

    Parameters
    ----------
    reference : ndarray of shape (n_ref, n_features)
        Reference frames, rows are frames.
    metric : str
        One of ``NNDESCENT_METRICS``; ``"minkowski"`` takes ``p`` in
        ``metric_params``.
    epsilon : float, default=0.1
        Search breadth of queries; larger is more accurate and slower.
    random_state : int, default=0
        Seed of the build and of the query initialisation.
    n_jobs : int or None, default=None
        Threads of the build (numba; ``None``: all).  pynndescent's parallel
        build gives the same graph for any number of threads.
    search_tree_leaf_budget : int, default=8
        Search-tree leaves a query starts from (pynndescent >= 0.7 only).
    **params
        Any other parameter of :class:`pynndescent.NNDescent`, e.g.
        ``n_neighbors`` (default 30).
    """

    QUERY_PARAMS = {"epsilon": 0.1}
    BUILD_PARAMS = {"n_neighbors": 30, "random_state": 0, "n_jobs": None}
    _NAMES = {"l2": "euclidean", "cityblock": "manhattan", "l1": "manhattan"}

    def __init__(self, reference, metric, metric_params=None, **params) -> None:
        metric_params = dict(metric_params or {})
        if metric_params and (metric != "minkowski" or set(metric_params) != {"p"}):
            raise ValueError(
                "algorithm='nndescent' takes metric_params only as {'p': value} "
                f"with metric='minkowski'; got metric={metric!r}, "
                f"metric_params={metric_params!r}."
            )
        pynndescent = _import_extra("pynndescent", "nndescent")
        super().__init__(reference, metric, metric_params)
        accepted = set(inspect.signature(pynndescent.NNDescent).parameters)
        accepted -= {"data", "metric", "metric_kwds", "verbose"}
        defaults = {**self.BUILD_PARAMS, **self.QUERY_PARAMS}
        if "search_tree_leaf_budget" in accepted:
            # Clusters far apart are disconnected in the k-NN graph: a query
            # routed by the search tree into the wrong cluster cannot walk
            # out of it.  Starting from several leaves fixes that (recall
            # 0.93 -> 0.98 in benchmarks/bench_approximate.py).
            defaults["search_tree_leaf_budget"] = 8
        params = {**defaults, **params}
        if params["random_state"] is None:
            params["random_state"] = DEFAULT_RANDOM_STATE
        self.params = params
        n_ref, n_features = reference.shape
        build = {key: v for key, v in params.items() if key not in self.QUERY_PARAMS}
        # Beyond n_ref a frame has no more neighbours to keep.
        build["n_neighbors"] = n_neighbors = min(build["n_neighbors"], n_ref)
        # joblib's n_jobs, as numba counts threads (it refuses more than it has).
        if build["n_jobs"] is not None:
            import numba

            threads = n_threads_for(build["n_jobs"])
            build["n_jobs"] = min(threads, numba.config.NUMBA_NUM_THREADS)
        # The graph's heaps (ids, distances, flags), its candidates and the
        # search graph, about 32 bytes per neighbour; doubled by the pickled
        # copy kept for persistence.
        check_output_size(
            2 * n_ref * (32 * n_neighbors + 4 * n_features),
            f"the nndescent index of {n_ref} frames with n_neighbors={n_neighbors}",
            "Use a smaller n_neighbors (algorithm_params) or an exact algorithm.",
        )
        frames = self._frames(reference)
        index = pynndescent.NNDescent(
            frames,
            metric=self._NAMES.get(metric, metric),
            metric_kwds=metric_params or None,
            **build,
        )
        # Build the search graph now: fit pays for it, and it is what pickles.
        index.prepare()
        self._keep_library_index(index)
        warn_if_unresolved(self.exact_, self._frames, frames, self._LIBRARY[0])

    _LIBRARY = ("pynndescent", "nndescent")

    def _restore(self, index) -> None:
        self._index = index
        self._lock = threading.Lock()

    def _candidates(self, X, k):
        # pynndescent's query reuses one result buffer (and one visited-node
        # array) across calls: concurrent blocks (n_jobs > 1) would read each
        # other's answers.  Queries are therefore serialised, and the answer
        # copied out of the buffer before the next query may run.
        with self._lock:
            indices, _ = self._index.query(X, k=k, epsilon=self.params["epsilon"])
            return np.array(indices, dtype=np.intp)


def build_hnsw(reference, metric, metric_params, algorithm_params) -> HNSWIndex:
    """Builder of the ``"hnsw"`` backend (see :class:`HNSWIndex`)."""
    return HNSWIndex(reference, metric, metric_params, **algorithm_params)


def build_nndescent(
    reference, metric, metric_params, algorithm_params
) -> NNDescentIndex:
    """Builder of the ``"nndescent"`` backend (see :class:`NNDescentIndex`)."""
    return NNDescentIndex(reference, metric, metric_params, **algorithm_params)
