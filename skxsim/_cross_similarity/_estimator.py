"""``CrossSimilarity``: the cross-similarity estimator, scikit-learn orientation."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import (
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils.validation import validate_data

from .._base import NeighborGraphMixin, SkxsimEstimator
from .._graph import bandwidth_rule, median_bandwidth
from .._neighbors import fit_index, reference_statistics
from .._validation import (
    MEMORY,
    NEIGHBOR_GRAPH_CONSTRAINTS,
    as_fit_dtype,
    resolve_k,
)
from ._core import cross_similarity_graph


class CrossSimilarity(
    NeighborGraphMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    SkxsimEstimator,
):
    """k-nearest-neighbour cross-similarity to a reference sequence.

    ``fit`` stores and indexes a reference sequence; ``transform`` gives, for
    every query frame, its similarity to each reference frame: non-zero at
    its ``k`` nearest reference frames.  Orientation is scikit-learn's: rows
    are frames, ``X.shape == (n_frames, n_features)``, and the output has
    shape ``(n_queries, n_ref)``.  ``transform`` of a row never depends on
    the other rows: every data-driven statistic is learned in ``fit``.

    Parameters
    ----------
    k : int >= 1 or None, default=None
        Neighbours per query frame.  ``None`` means
        ``min(n_ref, 2 * ceil(sqrt(n_ref)))`` (librosa's default); values
        above ``n_ref`` are clipped.  Resolved in ``fit`` as ``k_``.
    metric : str or callable, default="euclidean"
        Any metric :class:`sklearn.neighbors.NearestNeighbors` accepts.
        euclidean, sqeuclidean and cosine run on skxsim's BLAS engine.
    metric_params : dict or None, default=None
        Keyword arguments of the metric.
    mode : {"connectivity", "distance", "affinity"}, default="connectivity"
        ``connectivity``: 1 at the neighbours.  ``distance``: the distance
        there (an exact match is an explicitly stored 0).  ``affinity``:
        ``exp(-distance / bandwidth)`` there.
    bandwidth : float > 0, str or None, default=None
        Affinity bandwidth.  ``None`` or ``"med_k_scalar"``: the median over
        reference frames of the distance to their k-th neighbour within the
        reference (itself excluded), learned in ``fit`` as ``bandwidth_``.
        ``"mean_k"``, ``"gmean_k"``, ``"mean_k_avg"``, ``"gmean_k_avg"``,
        ``"mean_k_avg_and_pair"``: per pair, as in :func:`cross_similarity`.
    full : bool, default=False
        With ``distance`` or ``affinity``: every entry, ``k`` being used for
        the bandwidth only.
    sparse : bool, default=True
        Return a ``scipy.sparse.csr_matrix`` (else an ndarray).
    algorithm : {"auto", "brute", "kd_tree", "ball_tree", "ckd_tree", "hnsw", \
"nndescent"}, default="auto"
        Neighbour search.  ``"auto"`` is always exact: for euclidean,
        sqeuclidean and cosine it chooses, by a cost model, between the
        exact BLAS engine (what ``"brute"`` uses) and ``"ckd_tree"``
        (SciPy's cKDTree: long references, few features, small ``k``); other
        metrics go to scikit-learn's brute force.  ``"kd_tree"`` and
        ``"ball_tree"`` are scikit-learn's trees; ``"ckd_tree"`` computes the
        p-norms (euclidean, manhattan, chebyshev, minkowski with p >= 1 and
        no weights).  Every exact backend returns the same bits.
        ``"hnsw"`` (hnswlib; euclidean, sqeuclidean, cosine) and
        ``"nndescent"`` (pynndescent; also manhattan, chebyshev, minkowski)
        are approximate graph searches, optional extras
        (``pip install "skxsim[hnsw]"`` / ``"skxsim[nndescent]"``), for long
        references: every mode and bandwidth works as with exact search,
        distances are recomputed exactly, each row has exactly ``k``
        neighbours (a short list is completed by exact search), and
        ``full=True`` computes all distances exactly (with a warning).
    algorithm_params : dict or None, default=None
        Parameters of the backend's index, part of the ``memory=`` cache key.
        ``"hnsw"``: ``M`` (16), ``ef_construction`` (200), ``ef`` (64, the
        search breadth, raised to ``k`` when smaller), ``random_state`` (0),
        ``n_jobs`` (1 build thread, which keeps the index reproducible).
        ``"nndescent"``: ``epsilon`` (0.1, search breadth),
        ``search_tree_leaf_budget`` (8), ``n_neighbors`` (30),
        ``random_state`` (0), ``n_jobs`` (None: all build threads) and
        most :class:`pynndescent.NNDescent` parameters.  Every value is
        checked in ``fit`` before the library sees it; the exact backends
        refuse it.
    n_jobs : int or None, default=None
        Cores for the search, as threads (``-1``: all; ``None``: the cores
        this process may use).
    memory : None, str or joblib.Memory, default=None
        Cache of the index build, keyed on the reference content, ``metric``,
        ``metric_params``, ``algorithm`` and ``algorithm_params`` only, so a
        refit with another ``k``, ``mode`` or ``bandwidth`` or in another
        process reuses it.  The trees of scikit-learn (``"kd_tree"``,
        ``"ball_tree"``) and the approximate indexes are cached; the BLAS
        engine, ``"brute"`` and ``"ckd_tree"`` build faster than an index
        loads, and are built every time.

    Attributes
    ----------
    n_features_in_ : int
        Features per frame.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.
    n_samples_fit_ : int
        Reference frames ``n_ref``.
    k_ : int
        The resolved number of neighbours.
    bandwidth_ : float or None
        The scalar affinity bandwidth; ``None`` for the per-pair bandwidths
        and for other modes.
    reference_kth_distance_ : ndarray of shape (n_ref,) or None
        Per-pair bandwidths only: each reference frame's distance to its k-th
        neighbour within the reference.
    reference_mean_distance_ : ndarray of shape (n_ref,) or None
        Per-pair bandwidths only: its mean distance to its k nearest.
    index_ : object
        The neighbour index of the reference.

    See Also
    --------
    cross_similarity : librosa-compatible function (librosa orientation).
    sklearn.neighbors.KNeighborsTransformer : k-NN graph of a sample to itself.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim import CrossSimilarity
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.standard_normal((50, 12))   # 50 frames, 12 features
    >>> query = reference[10:40] + 0.01 * rng.standard_normal((30, 12))
    >>> xsim = CrossSimilarity(k=3).fit(reference).transform(query)
    >>> xsim.shape, xsim.format, xsim.nnz
    ((30, 50), 'csr', 90)
    >>> bool(np.all(xsim[:, 10:40].diagonal() == 1))
    True
    """

    _stale_state = "its index"
    # What shapes the fitted index and statistics: a change needs a refit.
    _fit_params = ("k", "metric", "metric_params", "algorithm", "algorithm_params")
    _function_face = "cross_similarity"
    _no_matrix_bandwidth = (
        "a per-pair matrix would make a row's output depend on the other rows"
    )

    _parameter_constraints: dict = {**NEIGHBOR_GRAPH_CONSTRAINTS, "memory": MEMORY}

    def __init__(
        self,
        *,
        k: int | None = None,
        metric="euclidean",
        metric_params: dict | None = None,
        mode: str = "connectivity",
        bandwidth: float | str | None = None,
        full: bool = False,
        sparse: bool = True,
        algorithm: str = "auto",
        algorithm_params: dict | None = None,
        n_jobs: int | None = None,
        memory=None,
    ) -> None:
        self.k = k
        self.metric = metric
        self.metric_params = metric_params
        self.mode = mode
        self.bandwidth = bandwidth
        self.full = full
        self.sparse = sparse
        self.algorithm = algorithm
        self.algorithm_params = algorithm_params
        self.n_jobs = n_jobs
        self.memory = memory

    def fit(self, X, y=None) -> CrossSimilarity:
        """Validate, store and index the reference sequence.

        Parameters
        ----------
        X : array-like of shape (n_ref, n_features)
            Reference frames, rows are frames.
        y : None
            Ignored.

        Returns
        -------
        self : CrossSimilarity
            The fitted estimator.
        """
        self._refuse_bandwidth_matrix()
        return self._fit(X)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X):
        X, metric_params, algorithm_params = self._validate_graph_params(X)
        n_ref = X.shape[0]
        self.n_samples_fit_ = n_ref
        self._fit_dtype = X.dtype
        self.k_ = resolve_k(self.k, n_ref)
        self._remember_fit_params()
        self._fitted_affinity = (self.mode, self.bandwidth)
        self._fit_method, self.index_ = fit_index(
            X,
            metric=self.metric,
            metric_params=metric_params,
            k=self.k_,
            algorithm=self.algorithm,
            algorithm_params=algorithm_params,
            memory=self.memory,
        )
        if self.full and self.mode != "connectivity" and not self.index_.exact:
            warnings.warn(
                "full=True computes every distance exactly; the approximate "
                f"{self._fit_method!r} index is used only for the bandwidth "
                "statistics.",
                UserWarning,
                stacklevel=3,
            )
        self._learn_bandwidth(X)
        return self

    def _learn_bandwidth(self, X):
        """Statistics of the reference frames' neighbours within the reference."""
        self.bandwidth_ = None
        self.reference_kth_distance_ = None
        self.reference_mean_distance_ = None
        if self.mode != "affinity":
            return
        kind, value = bandwidth_rule(self.bandwidth)
        if kind == "fixed":
            self.bandwidth_ = value
            return
        kth, mean = reference_statistics(
            self.index_, X, self.k_, n_jobs=self.n_jobs, dtype=self._fit_dtype
        )
        if kind == "pair":
            self.reference_kth_distance_ = kth
            self.reference_mean_distance_ = mean
        else:
            self.bandwidth_ = median_bandwidth(kth, "the reference frames")

    def _check_fitted_statistics(self) -> None:
        """A data-driven bandwidth needs the statistics fit learned for it."""
        if self.mode != "affinity":
            return
        rule = bandwidth_rule(self.bandwidth)
        if rule[0] == "fixed":
            return
        fitted_mode, fitted_bandwidth = self._fitted_affinity
        if fitted_mode != "affinity" or bandwidth_rule(fitted_bandwidth) != rule:
            raise ValueError(
                f"mode='affinity' with bandwidth={self.bandwidth!r} needs "
                "statistics of the reference learned in fit, and this estimator "
                f"was fitted with mode={fitted_mode!r}, "
                f"bandwidth={fitted_bandwidth!r}: fit it again."
            )

    def transform(self, X):
        """Cross-similarity of the query frames to the reference.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query frames, rows are frames.

        Returns
        -------
        xsim : scipy.sparse.csr_matrix or ndarray of shape (n_queries, n_ref)
            Row ``i`` holds query frame ``i``'s similarity to every reference
            frame; float32 for a float32 reference, float64 otherwise.
        """
        self._check_graph_usable()
        self._check_fitted_statistics()
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        X = as_fit_dtype(X, self._fit_dtype)
        return cross_similarity_graph(
            self.index_,
            X,
            k=self.k_,
            mode=self.mode,
            bandwidth=self.bandwidth,
            full=self.full,
            sparse=self.sparse,
            dtype=self._fit_dtype,
            n_jobs=self.n_jobs,
            reference_statistics=(
                self.reference_kth_distance_,
                self.reference_mean_distance_,
            ),
            median=self.bandwidth_,
        )

    @property
    def _n_features_out(self) -> int:
        return self.n_samples_fit_
