"""``CrossSimilarity``: the cross-similarity estimator, scikit-learn orientation."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from ._backends import ALL_METRICS, public_algorithms, resolve_algorithm
from ._cache import cached_build_index
from ._graph import (
    BANDWIDTH_NAMES,
    MODES,
    PER_PAIR_BANDWIDTHS,
    cross_graph,
    median_bandwidth,
    reference_statistics,
    resolve_k,
)
from ._version import __version__


class SkxsimVersionWarning(UserWarning):
    """A model pickled by another skxsim version was loaded."""


class CrossSimilarity(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
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
    algorithm : {"auto", "brute", "kd_tree", "ball_tree", "hnsw", "nndescent"}, \
default="auto"
        Neighbour search.  ``"auto"`` is always exact: it and ``"brute"`` use
        the exact BLAS engine for euclidean, sqeuclidean and cosine and
        scikit-learn's brute force otherwise; the trees are scikit-learn's.
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
        ``random_state`` (0), ``n_jobs`` (None: all build threads) and any
        other :class:`pynndescent.NNDescent` parameter.  The exact backends
        ignore it.
    n_jobs : int or None, default=None
        Threads for the search (``-1``: all cores).
    memory : None, str or joblib.Memory, default=None
        Cache of the index build, keyed on the reference content, ``metric``,
        ``metric_params``, ``algorithm`` and ``algorithm_params`` only, so a
        refit with another ``k``, ``mode`` or ``bandwidth`` or in another
        process reuses it.

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

    _parameter_constraints: dict = {
        "k": [Interval(Integral, 1, None, closed="left"), None],
        "metric": [StrOptions(set(ALL_METRICS)), callable],
        "metric_params": [dict, None],
        "mode": [StrOptions(set(MODES))],
        "bandwidth": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions(set(BANDWIDTH_NAMES)),
            None,
        ],
        "full": ["boolean"],
        "sparse": ["boolean"],
        "algorithm": [StrOptions(set(public_algorithms()))],
        "algorithm_params": [dict, None],
        "n_jobs": [Integral, None],
        "memory": [None, str, HasMethods(["cache"])],
    }

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
        if isinstance(self.bandwidth, np.ndarray):
            raise InvalidParameterError(
                "The 'bandwidth' parameter of CrossSimilarity cannot be an "
                "ndarray: a per-pair matrix would make a row's output depend "
                "on the other rows. Use a float > 0, None or one of "
                f"{list(BANDWIDTH_NAMES)}; cross_similarity() accepts a "
                "matrix."
            )
        return self._fit(X)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X):
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        n_ref = X.shape[0]
        self.n_samples_fit_ = n_ref
        self._fit_dtype = X.dtype
        self.k_ = resolve_k(self.k, n_ref)
        self._fit_method = resolve_algorithm(
            self.algorithm, self.metric, self.metric_params
        )
        build = cached_build_index(self.memory)
        self.index_ = build(
            X, self.metric, self.metric_params, self._fit_method, self.algorithm_params
        )
        self.bandwidth_ = None
        self.reference_kth_distance_ = None
        self.reference_mean_distance_ = None
        if self.mode == "affinity":
            if isinstance(self.bandwidth, Real):
                self.bandwidth_ = float(self.bandwidth)
            else:
                kth, mean_k = reference_statistics(
                    self.index_, X, self.k_, n_jobs=self.n_jobs
                )
                if self.bandwidth in PER_PAIR_BANDWIDTHS:
                    self.reference_kth_distance_ = kth
                    self.reference_mean_distance_ = mean_k
                else:
                    self.bandwidth_ = median_bandwidth(kth, "the reference frames")
        return self

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
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        X = X.astype(self._fit_dtype, copy=False)
        if self.mode != "affinity":
            bandwidth = None
        elif self.bandwidth_ is not None:
            bandwidth = self.bandwidth_
        else:
            bandwidth = self.bandwidth
        return cross_graph(
            self.index_,
            X,
            k=self.k_,
            mode=self.mode,
            bandwidth=bandwidth,
            full=self.full,
            sparse=self.sparse,
            reference_stats=(
                self.reference_kth_distance_,
                self.reference_mean_distance_,
            ),
            metric=self.metric,
            metric_params=self.metric_params,
            n_jobs=self.n_jobs,
        )

    @property
    def _n_features_out(self) -> int:
        return self.n_samples_fit_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def __getstate__(self):
        state = super().__getstate__()
        state["_skxsim_version"] = __version__
        return state

    def __setstate__(self, state):
        version = state.pop("_skxsim_version", "unknown (pre-0.1)")
        if version != __version__:
            warnings.warn(
                f"This CrossSimilarity was saved by skxsim {version} and is "
                f"loaded by skxsim {__version__}; its index may be invalid. "
                "Refit it with this version.",
                SkxsimVersionWarning,
                stacklevel=2,
            )
        super().__setstate__(state)
