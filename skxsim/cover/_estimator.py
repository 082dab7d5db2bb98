"""``CoverSongIndex``: a catalogue of recordings ranked by cover-song similarity.

The pipeline of Serrà et al. (2008, 2009), as essentia's
``ChromaCrossSimilarity`` + ``CoverSongSimilarity`` run it on a pair of
chroma sequences: key invariance by the optimal transposition index
(``_transposition``), time-delay embedding, binarisation by mutual nearest
neighbours (``_cross_recurrence``), local alignment by Qmax or Dmax
(``_qmax``), turned into the dissimilarity ``sqrt(n_ref) / score``.  The
catalogue's layout is ``_catalogue``'s, the batched scoring ``_scoring``'s.

Orientation: scikit-learn.  A recording is an ``(n_frames, n_bins)`` array,
frames as rows; cross-recurrence matrices have query frames as rows.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import StrOptions

from .._base import SkxsimEstimator
from .._embedding import TimeDelayEmbedding
from .._validation import (
    GAP_COST,
    K_OR_FRACTION,
    METRIC,
    N_JOBS,
    N_SHIFTS,
    N_STEPS,
    POSITIVE_INT,
    check_n_jobs,
    check_work_ids,
    python_scalar,
)
from ._catalogue import Catalogue
from ._evaluation import check_n_neighbors, mean_average_precision
from ._scoring import CoverPipeline, dissimilarities
from ._silence import check_recordings
from ._transposition import profiles

__all__ = ["CoverSongIndex"]


class CoverSongIndex(ClassifierMixin, SkxsimEstimator):
    """A catalogue of recordings, ranked by cover-song similarity to a query.

    ``fit`` stores a catalogue of recordings (each an ``(n_frames, n_bins)``
    chroma array, frames as rows) and their work ids; ``kneighbors`` ranks the
    catalogue for query recordings, most likely versions first, as
    :meth:`sklearn.neighbors.NearestNeighbors.kneighbors` does;
    ``predict`` names the work of the best match; ``score`` is the mean
    average precision.  Samples are recordings, so ``GridSearchCV`` tunes
    the pipeline on a list of recordings with work ids as labels.

    For every (query, reference) pair the pipeline is Serrà et al.'s
    (essentia's defaults): the query is transposed to the reference's key
    (OTI), both are time-delay embedded (``n_steps`` frames), binarised by
    mutual nearest neighbours (``k``) and aligned (Qmax); the dissimilarity
    is ``sqrt(n_ref) / Qmax``, ``n_ref`` the reference's number of sounding
    stacks (``inf`` when nothing aligns).  :func:`cover_song_distance`
    computes one pair the same way.

    Parameters
    ----------
    transposition : {"oti"} or None, default="oti"
        ``"oti"``: transpose the query to each reference's key by the optimal
        transposition index (the features must be chroma).  ``None``: no key
        invariance (any features).
    n_shifts : int, default=12
        Transpositions tried by the OTI (essentia's ``noti``).
    n_steps : int, default=9
        Frames per time-delay stack (essentia's ``frameStackSize``).
    delay : int, default=1
        Frames between stacked frames (essentia's ``frameStackStride``).
    complete_stacks : bool, default=False
        ``False``: one stack per frame, the first ``(n_steps - 1) * delay``
        padded with zeros (:class:`TimeDelayEmbedding`, librosa's
        ``stack_memory``); the opening of a piece then counts fully (on
        Bach's chorales, MAP 0.793 against 0.773).  ``True``: complete stacks
        only, as essentia (which also drops the last one).
    similarity : {"mutual_knn", "oti_binary"}, default="mutual_knn"
        Binarisation: mutual k-NN of the stacked frames under ``metric``
        (Serrà 2009; essentia's default), or essentia's OTI-binary frame
        similarity (Serrà 2008; ``k`` and ``metric`` unused).
    k : int >= 1 or float in (0, 1], default=0.095
        Mutual k-NN: a count, or a fraction of the other recording's length
        (essentia's ``binarizePercentile``); see :func:`cross_recurrence`.
    metric : str or callable, default="euclidean"
        Distance between stacked frames; any metric
        :class:`CrossSimilarity` accepts.
    metric_params : dict or None, default=None
        Keyword arguments of the metric.
    alignment : {"qmax", "dmax"}, default="qmax"
        Local alignment score (:func:`qmax`, Serrà 2009, or :func:`dmax`,
        Chen 2017).
    gap_onset, gap_extend : float >= 0, default=0.5
        Gap costs of the alignment (essentia's ``disOnset`` and
        ``disExtension``).
    n_jobs : int or None, default=None
        Cores for the queries, as joblib workers (``-1``: all; ``None``:
        the cores this process may use, unless a
        :func:`joblib.parallel_config` sets ``n_jobs``).  Inside
        ``joblib.parallel_config(backend="dask")`` they run on a Dask cluster.
    Attributes
    ----------
    n_features_in_ : int
        Chroma bins (features) per frame.
    n_samples_fit_ : int
        Recordings in the catalogue.
    classes_ : ndarray
        The distinct work ids (when ``y`` was given to ``fit``).
    work_ids_ : ndarray of shape (`n_samples_fit_`,) or None
        The work id of each catalogue recording.
    n_frames_ : ndarray of shape (`n_samples_fit_`,)
        Stacked frames of each catalogue recording (its length, or fewer
        with ``complete_stacks=True``).
    profiles_ : ndarray of shape (`n_samples_fit_`, `n_features_in_`)
        Global chroma profile of each recording (for the OTI).
    embedding_ : TimeDelayEmbedding
        The fitted embedding.
    catalogue_ : object
        The recordings' stacked frames, laid out for batched scoring.

    See Also
    --------
    cover_song_distance : the same dissimilarity for one pair.
    cross_recurrence : the mutual k-NN binarisation.
    qmax, dmax : the alignment scores.

    Notes
    -----
    **Silence.** A stacked frame of zeros matches nothing, under either
    similarity (see :func:`cross_recurrence`, :func:`oti_binary_similarity`),
    and ``n_ref`` counts sounding stacks, so a silent intro changes no
    distance.  A recording with no sound is a ``ValueError`` naming it.

    **A query that is a catalogue recording.** A recording is not a version
    of itself: when a query is identical (same values) to catalogue
    recordings, those are left out of its ranking, its prediction and its
    average precision.  ``kneighbors()`` without queries ranks every catalogue
    recording against all the others, the usual cover-song evaluation.  When
    a query matches a catalogue recording, at most ``n_samples_fit_ - 1``
    neighbours can be asked for (all rows have the same length).  So
    ``GridSearchCV(return_train_score=True)`` scores training recordings
    against the *other* training recordings.

    **Splitting.** Cross-validate with :class:`~sklearn.model_selection.
    StratifiedKFold` on the work ids (what ``cv=<int>`` does for this
    classifier): every work with enough versions then has versions on both
    sides.  A split *by* work (``GroupKFold`` with works as groups) leaves the
    queries nothing to find.  Queries whose work has no version in the
    catalogue do not count in ``score``.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim import CoverSongIndex
    >>> from skxsim.datasets import make_cover_pair
    >>> pairs = [make_cover_pair(random_state=seed) for seed in range(3)]
    >>> catalogue = [p.reference for p in pairs]
    >>> queries = [np.roll(p.cover, 5, axis=1) for p in pairs]  # in other keys
    >>> index = CoverSongIndex().fit(catalogue, ["a", "b", "c"])
    >>> dist, ind = index.kneighbors(queries)
    >>> ind[:, 0]
    array([0, 1, 2])
    >>> index.predict(queries)
    array(['a', 'b', 'c'], dtype='<U1')
    >>> index.score(queries, ["a", "b", "c"])
    1.0
    """

    _stale_state = "its stored catalogue"

    _parameter_constraints: dict = {
        "transposition": [StrOptions({"oti"}), None],
        "n_shifts": N_SHIFTS,
        "n_steps": N_STEPS,
        "delay": POSITIVE_INT,
        "complete_stacks": ["boolean"],
        "similarity": [StrOptions({"mutual_knn", "oti_binary"})],
        "k": K_OR_FRACTION,
        "metric": METRIC,
        "metric_params": [dict, None],
        "alignment": [StrOptions({"qmax", "dmax"})],
        "gap_onset": GAP_COST,
        "gap_extend": GAP_COST,
        "n_jobs": N_JOBS,
    }
    # The catalogue is embedded, transposed and scored with all but n_jobs.
    _fit_params = tuple(sorted(set(_parameter_constraints) - {"n_jobs"}))

    def __init__(
        self,
        *,
        transposition: str | None = "oti",
        n_shifts: int = 12,
        n_steps: int = 9,
        delay: int = 1,
        complete_stacks: bool = False,
        similarity: str = "mutual_knn",
        k: int | float = 0.095,
        metric="euclidean",
        metric_params: dict | None = None,
        alignment: str = "qmax",
        gap_onset: float = 0.5,
        gap_extend: float = 0.5,
        n_jobs: int | None = None,
    ) -> None:
        self.transposition = transposition
        self.n_shifts = n_shifts
        self.n_steps = n_steps
        self.delay = delay
        self.complete_stacks = complete_stacks
        self.similarity = similarity
        self.k = k
        self.metric = metric
        self.metric_params = metric_params
        self.alignment = alignment
        self.gap_onset = gap_onset
        self.gap_extend = gap_extend
        self.n_jobs = n_jobs

    # -- fit ---------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None) -> CoverSongIndex:
        """Embed and store the catalogue.

        Parameters
        ----------
        X : list of array-like of shape (n_frames_i, n_features)
            Catalogue recordings (chroma, frames as rows); lengths may
            differ, the number of features may not.
        y : array-like of shape (n_recordings,) or None, default=None
            Work id of each recording (any hashable labels).  Needed for
            ``predict`` and ``score``.

        Returns
        -------
        self : CoverSongIndex
            The fitted catalogue.
        """
        check_n_jobs(self.n_jobs)
        sequences = check_recordings(X, "X")
        self.n_features_in_ = sequences[0].shape[1]
        self.n_samples_fit_ = len(sequences)
        self.work_ids_ = None
        if y is not None:
            self.work_ids_ = check_work_ids(y, len(sequences), "y")
            self.classes_ = np.unique(self.work_ids_)
        self._dtype = (
            np.float32 if all(s.dtype == np.float32 for s in sequences) else np.float64
        )
        sequences = [s.astype(self._dtype, copy=False) for s in sequences]
        self.embedding_ = TimeDelayEmbedding(
            n_steps=python_scalar(self.n_steps), delay=python_scalar(self.delay)
        )
        self.embedding_.fit(sequences[0])
        self._pipeline = CoverPipeline.from_params(self.get_params(), self.embedding_)
        self._pipeline.check_memory(sequences)
        embedded = [self._pipeline.embed(s, f"X[{i}]") for i, s in enumerate(sequences)]
        self.catalogue_ = Catalogue(sequences, embedded)
        self.n_frames_ = self.catalogue_.n_frames
        self.profiles_ = profiles(sequences)
        self._remember_fit_params()
        return self

    # -- the all-pairs work --------------------------------------------------

    def _check_queries(self, X) -> list[np.ndarray]:
        self._check_usable()
        queries = check_recordings(X, "X", self.n_features_in_)
        return [q.astype(self._dtype, copy=False) for q in queries]

    def _dissimilarities(self, queries) -> np.ndarray:
        """``(n_queries, n_samples_fit_)`` dissimilarities, nothing excluded."""
        return dissimilarities(
            self.catalogue_, self._pipeline, self.profiles_, queries, self.n_jobs
        )

    def _queries_and_exclusions(self, X):
        if X is None:
            self._check_usable()
            queries = self.catalogue_.sequences
            excluded = self.catalogue_.equal_to(queries)
            excluded[np.arange(len(queries)), np.arange(len(queries))] = True
            return queries, excluded
        queries = self._check_queries(X)
        return queries, self.catalogue_.equal_to(queries)

    def _ranking(self, queries, excluded):
        dist = self._dissimilarities(queries)
        # Excluded recordings last, then by dissimilarity, ties to the lower
        # catalogue index (lexsort is stable).
        return dist, np.lexsort((dist, excluded), axis=1)

    # -- public queries ---------------------------------------------------

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """Rank the catalogue for each query recording.

        Parameters
        ----------
        X : list of array-like of shape (n_frames_i, n_features) or None
            Query recordings (chroma, frames as rows).  ``None``: every
            catalogue recording against all the others (itself excluded).
        n_neighbors : int or None, default=None
            Recordings to return per query; ``None``: all there are
            (``n_samples_fit_``, or one fewer when a query is itself in the
            catalogue, see the Notes of the class).
        return_distance : bool, default=True
            Also return the dissimilarities.

        Returns
        -------
        neigh_dist : ndarray of shape (n_queries, n_neighbors)
            Dissimilarities ``sqrt(n_ref) / score``, ascending (``inf``: no
            alignment at all).  Only with ``return_distance=True``.
        neigh_ind : ndarray of shape (n_queries, n_neighbors)
            Catalogue indices, most similar first; ties keep catalogue order.
        """
        self._check_call_params(
            "kneighbors",
            {"n_neighbors": [*POSITIVE_INT, None], "return_distance": ["boolean"]},
            n_neighbors=n_neighbors,
            return_distance=return_distance,
        )
        queries, excluded = self._queries_and_exclusions(X)
        dist, order = self._ranking(queries, excluded)
        available = self.n_samples_fit_ - int(excluded.sum(axis=1).max())
        if n_neighbors is None:
            n_neighbors = available
        check_n_neighbors(n_neighbors, available, self.n_samples_fit_)
        ind = order[:, :n_neighbors]
        if return_distance:
            return np.take_along_axis(dist, ind, axis=1), ind
        return ind

    def _check_labelled(self):
        self._check_usable()
        if self.work_ids_ is None:
            raise ValueError(
                "this CoverSongIndex was fitted without work ids (y=None); "
                "predict and score need them: fit(X, y)."
            )

    def predict(self, X):
        """The work id of each query's best match in the catalogue.

        Parameters
        ----------
        X : list of array-like of shape (n_frames_i, n_features)
            Query recordings.

        Returns
        -------
        works : ndarray of shape (n_queries,)
            ``work_ids_`` of the top-ranked catalogue recording.
        """
        self._check_labelled()
        ind = self.kneighbors(X, n_neighbors=1, return_distance=False)
        return self.work_ids_[ind[:, 0]]

    def score(self, X, y):
        """Mean average precision of the rankings of query recordings.

        The relevant recordings of a query are the catalogue recordings of
        its work (``y``), itself excepted.  Queries without any relevant
        recording in the catalogue do not count.

        Parameters
        ----------
        X : list of array-like of shape (n_frames_i, n_features)
            Query recordings.
        y : array-like of shape (n_queries,)
            Their work ids.

        Returns
        -------
        map : float
            Mean average precision in [0, 1]; NaN (with a warning) when no
            query has a relevant recording in the catalogue.
        """
        self._check_labelled()
        queries, excluded = self._queries_and_exclusions(X)
        y = check_work_ids(y, len(queries), "y")
        order = self._ranking(queries, excluded)[1]
        return mean_average_precision(order, excluded, self.work_ids_, y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Samples are recordings: a list of 2-d arrays of different lengths.
        tags.input_tags.two_d_array = False
        tags.target_tags.required = False
        return tags
