"""``RecurrenceMatrix``: the recurrence matrix as a scikit-learn transformer."""

from __future__ import annotations

import numpy as np
from sklearn.base import TransformerMixin, _fit_context
from sklearn.utils.validation import validate_data

from .._base import NeighborGraphMixin, SkxsimEstimator
from .._validation import (
    NEIGHBOR_GRAPH_CONSTRAINTS,
    WIDTH,
    default_k_recurrence,
)
from ._core import recurrence


class RecurrenceMatrix(NeighborGraphMixin, TransformerMixin, SkxsimEstimator):
    """k-nearest-neighbour recurrence (self-similarity) matrix of a sequence.

    Each call to ``transform(X)`` returns the recurrence matrix of the
    sequence ``X``: row ``i`` is non-zero at frame ``i``'s ``k`` nearest
    frames ``j`` with ``|i - j| >= width``.  Orientation is scikit-learn's:
    rows are frames, ``X.shape == (n_frames, n_features)``, and the output
    has shape ``(n_frames, n_frames)``, CSR by default.  Like
    :class:`~sklearn.preprocessing.FunctionTransformer`, the transformer
    learns nothing: ``fit`` validates the parameters and the number of
    features only, and ``transform`` treats its input as one whole sequence
    in time order (a subset or permutation of the rows is another sequence).

    ``RecurrenceMatrix(**p).fit_transform(X)`` equals
    ``recurrence_matrix(X.T, **p).T`` (the function's ``self`` is
    ``include_self`` here), up to dtype and format, wherever the function
    accepts ``width``.

    Parameters
    ----------
    k : int >= 1 or None, default=None
        Neighbours per frame.  ``None`` means
        ``2 * ceil(sqrt(n_frames - 2 * width + 1))`` (librosa's default; 2
        when that is undefined).  A frame with fewer than ``k`` frames
        outside its band has them all.
    width : int >= 1, default=1
        Frames ``j`` with ``|i - j| < width`` are never neighbours of frame
        ``i``; ``width=1`` excludes the frame itself only.
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
        the frames of ``X`` of the distance to their k-th neighbour.
        ``"mean_k"``, ``"gmean_k"``, ``"mean_k_avg"``, ``"gmean_k_avg"``,
        ``"mean_k_avg_and_pair"``: per pair, as in :func:`recurrence_matrix`.
        The statistics are those of the sequence being transformed, taken
        before ``sym``.
    sym : bool, default=False
        Keep only mutual neighbours; the output is then symmetric.
    include_self : bool, default=False
        Link every frame to itself (librosa's ``self``): a diagonal of 1
        (connectivity, affinity) or of stored zeros (distance).
    full : bool, default=False
        With ``distance`` or ``affinity``: every pair of frames (band
        included), ``k`` being used for the bandwidth only.
    sparse : bool, default=True
        Return a ``scipy.sparse.csr_matrix`` (else an ndarray).
    algorithm : {"auto", "brute", "kd_tree", "ball_tree", "ckd_tree", "hnsw", \
"nndescent"}, default="auto"
        Neighbour search, as in :class:`CrossSimilarity`.  ``"auto"`` is the
        fastest exact method for the data; ``"hnsw"`` and ``"nndescent"``
        are approximate (optional extras).
    algorithm_params : dict or None, default=None
        Parameters of the approximate backends' indexes, as in
        :class:`CrossSimilarity`.
    n_jobs : int or None, default=None
        Cores for the search, as threads (``-1``: all; ``None``: the cores
        this process may use).

    Attributes
    ----------
    n_features_in_ : int
        Features per frame.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    recurrence_matrix : librosa-compatible function (librosa orientation).
    CrossSimilarity : neighbours in a fitted reference sequence.
    TimeDelayEmbedding : stack each frame with its recent past first.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim import RecurrenceMatrix
    >>> rng = np.random.default_rng(0)
    >>> verse = rng.standard_normal((20, 12))      # 20 frames, 12 features
    >>> song = np.concatenate([verse, rng.standard_normal((10, 12)), verse])
    >>> rec = RecurrenceMatrix(k=1).fit_transform(song)
    >>> rec.shape, rec.format, rec.nnz
    ((50, 50), 'csr', 50)
    >>> bool(np.all(rec[0:20, 30:50].diagonal() == 1))   # the repeated verse
    True
    """

    _function_face = "recurrence_matrix"
    _no_matrix_bandwidth = "its shape would depend on the sequence transformed"

    _parameter_constraints: dict = {
        **NEIGHBOR_GRAPH_CONSTRAINTS,
        "width": WIDTH,
        "sym": ["boolean"],
        "include_self": ["boolean"],
    }

    def __init__(
        self,
        *,
        k: int | None = None,
        width: int = 1,
        metric="euclidean",
        metric_params: dict | None = None,
        mode: str = "connectivity",
        bandwidth: float | str | None = None,
        sym: bool = False,
        include_self: bool = False,
        full: bool = False,
        sparse: bool = True,
        algorithm: str = "auto",
        algorithm_params: dict | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.k = k
        self.width = width
        self.metric = metric
        self.metric_params = metric_params
        self.mode = mode
        self.bandwidth = bandwidth
        self.sym = sym
        self.include_self = include_self
        self.full = full
        self.sparse = sparse
        self.algorithm = algorithm
        self.algorithm_params = algorithm_params
        self.n_jobs = n_jobs

    def fit(self, X, y=None) -> RecurrenceMatrix:
        """Validate the parameters and the number of features; learn nothing.

        Parameters
        ----------
        X : array-like of shape (n_frames, n_features)
            A sequence, rows are frames.
        y : None
            Ignored.

        Returns
        -------
        self : RecurrenceMatrix
            The fitted transformer.
        """
        self._refuse_bandwidth_matrix()
        return self._fit(X)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X):
        self._validate_graph_params(X)
        return self

    def transform(self, X):
        """The recurrence matrix of the sequence ``X``.

        Parameters
        ----------
        X : array-like of shape (n_frames, n_features)
            A sequence, rows are frames in time order.

        Returns
        -------
        rec : scipy.sparse.csr_matrix or ndarray of shape (n_frames, n_frames)
            Row ``i`` holds frame ``i``'s similarity to its neighbours;
            float32 for float32 ``X``, float64 otherwise (connectivity 0/1).
        """
        self._check_graph_usable()
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        n = X.shape[0]
        k = default_k_recurrence(n, self.width) if self.k is None else self.k
        return recurrence(
            X,
            k=k,
            width=self.width,
            metric=self.metric,
            metric_params=self.metric_params,
            mode=self.mode,
            bandwidth=self.bandwidth,
            sym=self.sym,
            include_self=self.include_self,
            full=self.full,
            sparse=self.sparse,
            dtype=X.dtype,
            algorithm=self.algorithm,
            algorithm_params=self.algorithm_params,
            n_jobs=self.n_jobs,
        )
