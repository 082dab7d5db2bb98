"""``LaplacianSegmentation``: structural segmentation of one sequence."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import ClusterMixin, _fit_context
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions

from .._base import SkxsimEstimator
from .._recurrence import RecurrenceMatrix
from .._validation import (
    BANDWIDTH,
    METRIC,
    N_JOBS,
    POSITIVE_INT,
    RANDOM_STATE,
    WIDTH,
    K,
    Number,
)
from ._laplacian import (
    combined_graph,
    cumulative_norm_features,
    diagonal_median,
    eigengap_clusters,
    path_affinity,
    segment_starts,
    spectral_embedding,
)
from ._scores import pairwise_scores

_ODD_SIZE = [Number(Integral, 1, None, closed="left")]


class LaplacianSegmentation(ClusterMixin, SkxsimEstimator):
    """Structural segmentation by spectral clustering of the recurrence graph.

    McFee & Ellis's Laplacian segmentation, on skxsim's neighbour engine:
    the sparse k-nearest-neighbour recurrence affinity of the frames
    (:class:`RecurrenceMatrix`, mutual neighbours), median-filtered along
    its diagonals (a time-lag filter, so that repeated passages stand out
    and isolated matches go), plus the path graph linking each frame to the
    next by the similarity of their features, in the balance ``mu``; then
    the first eigenvectors of the normalised graph Laplacian (scipy's
    sparse eigensolver), smoothed in time, their rows normalised, and
    k-means.  Frames of one label form one *type* of section (a verse, a
    refrain), which may occur several times; a segment is a run of frames
    of one label.

    The method is transductive, like
    :class:`~sklearn.cluster.SpectralClustering`: ``fit(X)`` segments the
    sequence ``X`` (rows are frames, ``(n_frames, n_features)``, in time
    order) and stores ``labels_`` and ``boundaries_``; ``fit_predict(X)``
    returns the labels.  There is no ``predict``: another sequence is
    segmented by fitting on it.

    Parameters
    ----------
    n_clusters : int >= 1 or "auto", default=5
        Number of section types (distinct labels); 5 as in librosa's
        gallery recipe.  ``"auto"``: the largest relative gap among the
        first ``max_clusters + 1`` Laplacian eigenvalues (weaker than a
        fixed 5 on the project's benchmark).
    max_clusters : int >= 2, default=10
        Upper bound of the ``"auto"`` choice.
    k : int >= 1 or None, default=None
        Recurrence neighbours per frame, as in :class:`RecurrenceMatrix`
        (``None``: ``2 * ceil(sqrt(n_frames - 2 * width + 1))``).
    width : int >= 1, default=3
        Frames closer than ``width`` are never recurrence neighbours.
    metric : str or callable, default="euclidean"
        Recurrence metric, any that :class:`RecurrenceMatrix` accepts.
    bandwidth : float > 0, str or None, default=None
        Recurrence affinity bandwidth, as in :class:`RecurrenceMatrix`.
    mu : float in [0, 1] or "balanced", default="balanced"
        Weight of the recurrence graph against the path graph
        (``1 - mu``).  ``"balanced"``: the paper's choice, which makes a
        random walk as likely to take a recurrence edge as a path edge.
    median_size : int >= 1, default=15
        Frames of the median filter along the diagonals of the recurrence
        (odd; 1 disables it).
    smooth_size : int >= 1, default=21
        Frames of the median filter over time on the eigenvectors (1
        disables it).

        The defaults of ``median_size`` and ``smooth_size`` suit frames of
        about a quarter of a second (beat-synchronous features, or audio
        frames averaged in blocks), about 3.5 s and 5 s; scale them with
        the frame rate.  librosa's gallery uses 7 and 9 on beats.
    n_init : int >= 1, default=1
        k-means restarts (k-means++ seeding; more restarts changed nothing
        on the project's benchmark and cost most of the time of a long
        sequence).
    random_state : int, RandomState or None, default=None
        Seeds the eigensolver's start vector and k-means.
    n_jobs : int or None, default=None
        Threads of the neighbour search.

    Attributes
    ----------
    labels_ : ndarray of shape (n_frames,)
        Section type of every frame, ``0 .. n_clusters_ - 1``.
    boundaries_ : ndarray of shape (n_segments,)
        First frame of every segment, ``0`` first, increasing.
    n_clusters_ : int
        Number of section types used.
    mu_ : float
        Weight of the recurrence graph used.
    eigenvalues_ : ndarray of shape (n_components,)
        The smallest eigenvalues of the normalised Laplacian, ascending.
    embedding_ : ndarray of shape (n_frames, `n_clusters_`)
        The normalised spectral features clustered by k-means.
    n_features_in_ : int
        Features per frame.

    See Also
    --------
    RecurrenceMatrix : the recurrence affinity.
    timelag_filter : filters along the diagonals of a recurrence matrix.
    boundary_scores, pairwise_scores : evaluate a segmentation.

    Notes
    -----
    B. McFee and D. P. W. Ellis, "Analyzing song structure with spectral
    clustering", ISMIR 2014.  The diagonal median treats frames beyond the
    ends of the sequence as zeros (``mode="constant"``); librosa's gallery
    recipe uses :func:`scipy.ndimage.median_filter`'s default reflection
    on a dense matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim import LaplacianSegmentation
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.standard_normal((2, 12))
    >>> song = np.repeat([a, b, a, b], 40, axis=0)    # ABAB, 40 frames each
    >>> song += 0.1 * rng.standard_normal(song.shape)
    >>> seg = LaplacianSegmentation(n_clusters=2, random_state=0).fit(song)
    >>> seg.boundaries_
    array([  0,  40,  80, 120])
    >>> bool(seg.labels_[0] == seg.labels_[80] != seg.labels_[40])
    True
    """

    _stale_state = "its segmentation"

    _parameter_constraints: dict = {
        "n_clusters": [*POSITIVE_INT, StrOptions({"auto"})],
        "max_clusters": [Number(Integral, 2, None, closed="left")],
        "k": K,
        "width": WIDTH,
        "metric": METRIC,
        "bandwidth": BANDWIDTH,
        "mu": [Number(Real, 0, 1, closed="both"), StrOptions({"balanced"})],
        "median_size": _ODD_SIZE,
        "smooth_size": POSITIVE_INT,
        "n_init": POSITIVE_INT,
        "random_state": RANDOM_STATE,
        "n_jobs": N_JOBS,
    }

    def __init__(
        self,
        *,
        n_clusters: int | str = 5,
        max_clusters: int = 10,
        k: int | None = None,
        width: int = 3,
        metric="euclidean",
        bandwidth: float | str | None = None,
        mu: float | str = "balanced",
        median_size: int = 15,
        smooth_size: int = 21,
        n_init: int = 1,
        random_state=None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.max_clusters = max_clusters
        self.k = k
        self.width = width
        self.metric = metric
        self.bandwidth = bandwidth
        self.mu = mu
        self.median_size = median_size
        self.smooth_size = smooth_size
        self.n_init = n_init
        self.random_state = random_state
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None) -> LaplacianSegmentation:
        """Segment the sequence ``X``.

        Parameters
        ----------
        X : array-like of shape (n_frames, n_features)
            One sequence, rows are frames in time order.
        y : None
            Ignored.

        Returns
        -------
        self : LaplacianSegmentation
            With ``labels_`` and ``boundaries_``.
        """
        if self.median_size % 2 == 0:
            raise ValueError(
                f"median_size={self.median_size!r} must be odd (a window "
                "centred on its frame)."
            )
        X = self._validate_sequence(X, "X", reset=True)
        self._segment(X)
        return self

    def _segment(self, X: np.ndarray) -> None:
        n = X.shape[0]
        random_state = check_random_state(self.random_state)
        if n == 1:
            rec = RecurrenceMatrix().fit_transform(X) * 0
        else:
            rec = RecurrenceMatrix(
                k=self.k,
                width=min(self.width, max(n - 1, 1)),
                metric=self.metric,
                mode="affinity",
                bandwidth=self.bandwidth,
                sym=True,
                n_jobs=self.n_jobs,
            ).fit_transform(X)
        rec = diagonal_median(rec.astype(np.float64), int(self.median_size))
        graph, self.mu_ = combined_graph(rec, path_affinity(X), self.mu)
        fixed = not isinstance(self.n_clusters, str)
        n_components = int(self.n_clusters if fixed else self.max_clusters + 1)
        values, vectors = spectral_embedding(
            graph, n_components, int(self.smooth_size), random_state
        )
        n_clusters = (
            self.n_clusters
            if fixed
            else eigengap_clusters(values, int(self.max_clusters))
        )
        self.n_clusters_ = int(min(n_clusters, n))
        self.eigenvalues_ = values
        self.embedding_ = cumulative_norm_features(vectors, self.n_clusters_)
        kmeans = KMeans(
            n_clusters=self.n_clusters_,
            n_init=int(self.n_init),
            random_state=random_state,
        )
        self.labels_ = kmeans.fit_predict(self.embedding_).astype(np.intp)
        self.boundaries_ = segment_starts(self.labels_)

    def score(self, X, y) -> float:
        """Pairwise frame-clustering F-measure of the segmentation of ``X``.

        mir_eval's ``segment.pairwise`` F-measure (see
        :func:`~skxsim.structure.pairwise_scores`): ``X`` is segmented with this estimator's
        parameters (without changing its fitted state) and compared to
        ``y``.  Boundaries in seconds need the frame rate: use
        :func:`~skxsim.structure.boundary_scores` on ``labels_`` for those.

        Parameters
        ----------
        X : array-like of shape (n_frames, n_features)
            A sequence, rows are frames.
        y : array-like of shape (n_frames,)
            Its reference section labels (any hashable values).

        Returns
        -------
        score : float
            In ``[0, 1]``, higher is better.
        """
        self._check_usable()
        X = self._validate_sequence(X, "X", reset=False)
        probe = _unfitted_copy(self)
        probe._segment(X)
        return pairwise_scores(y, probe.labels_)[2]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


def _unfitted_copy(estimator):
    from sklearn.base import clone

    return clone(estimator)
