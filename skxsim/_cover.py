"""Cover-song identification: binarisation, the pair-level distance and a catalogue.

The pipeline of Serrà et al. (2008, 2009), as essentia's
``ChromaCrossSimilarity`` + ``CoverSongSimilarity`` run it on a pair of
chroma sequences:

1. key invariance: the query is transposed by the optimal transposition
   index (:mod:`skxsim._transposition`);
2. time-delay embedding: every frame stacked with the ``n_steps - 1`` before
   it (the first ones padded with zeros, or dropped);
3. binarisation: query frame ``i`` and reference frame ``j`` recur when each
   is among the other's ``k`` nearest (the mutual k-NN cross-recurrence);
4. local alignment: Qmax or Dmax (:mod:`skxsim._qmax`), turned into the
   dissimilarity ``sqrt(n_ref) / score``.

:class:`CoverSongIndex` runs it for one query against a whole catalogue at
once: one distance computation against the catalogue's frames (grouped by
transposition), the thresholds of every candidate from its slice of that
matrix, and one alignment recurrence over all candidates' columns side by
side.  Per-pair overhead, not arithmetic, dominates recordings of a few
hundred frames; batching removes it.

Orientation: scikit-learn.  A recording is an ``(n_frames, n_bins)`` array,
frames as rows; cross-recurrence matrices have query frames as rows.
"""

from __future__ import annotations

import hashlib
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn import get_config
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_array
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
)
from sklearn.utils.validation import check_is_fitted

from ._cross_recurrence import (
    K_CONSTRAINT,
    METRIC_CONSTRAINT,
    mutual_knn,
    pair_distances,
)
from ._embedding import TimeDelayEmbedding
from ._parallel import single_threaded_blas
from ._qmax import PAD, recurrence_column_max
from ._transposition import _best_shifts, _oti_binary, _profiles, _rotate_blocks
from ._versioned import VersionedPickleMixin

__all__ = ["CoverSongIndex", "average_precision", "cover_song_distance"]

# Zero frames ahead of every catalogue recording: the alignment recurrence
# looks back up to this many columns, and must see nothing of the previous
# recording (3 for Dmax's longest move).
_GAP = max(PAD.values())


def _check_sequences(X, name: str, n_features=None) -> list[np.ndarray]:
    """A list of 2-d float arrays (recordings), frames as rows."""
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim != 3:
            raise ValueError(
                f"{name} must be a list of 2-d arrays (one recording each, frames "
                f"as rows); got an array of shape {X.shape}."
            )
    try:
        items = list(X)
    except TypeError:
        raise ValueError(
            f"{name} must be a list of 2-d arrays (one recording each, frames as "
            f"rows); got {type(X).__name__}."
        ) from None
    if not items:
        raise ValueError(f"{name} is empty: it needs at least one recording.")
    sequences = []
    for i, item in enumerate(items):
        seq = check_array(
            item, dtype=[np.float64, np.float32], input_name=f"{name}[{i}]"
        )
        if n_features is not None and seq.shape[1] != n_features:
            raise ValueError(
                f"{name}[{i}] has {seq.shape[1]} features per frame; the catalogue "
                f"was fitted with {n_features}."
            )
        n_features = seq.shape[1]
        sequences.append(seq)
    return sequences


def _digest(sequence: np.ndarray) -> bytes:
    data = np.ascontiguousarray(sequence, dtype=np.float64)
    return hashlib.sha1(repr(data.shape).encode() + data.tobytes()).digest()


class CoverSongIndex(VersionedPickleMixin, ClassifierMixin, BaseEstimator):
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
    is ``sqrt(n_ref) / Qmax``, ``n_ref`` the reference's number of stacks
    (``inf`` when nothing aligns).  :func:`cover_song_distance` computes one
    pair the same way.

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
        joblib workers for the queries (``-1``: all cores).  The work goes
        through :class:`joblib.Parallel`, so inside
        ``joblib.parallel_config(backend="dask")`` it runs on a Dask cluster.
    memory : None, str or joblib.Memory, default=None
        Index cache of the :class:`CrossSimilarity` that indexes a query's
        frames when ``metric`` is not euclidean, sqeuclidean or cosine (those
        take one BLAS product and no index).  Exact indexes are cheap to
        build, so it rarely pays; it is there for costly metrics queried
        again (a grid search scores the same test recordings at every
        setting).

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

    See Also
    --------
    cover_song_distance : the same dissimilarity for one pair.
    cross_recurrence : the mutual k-NN binarisation.
    qmax, dmax : the alignment scores.

    Notes
    -----
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
        "n_shifts": [Interval(Integral, 0, None, closed="left")],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "delay": [Interval(Integral, 1, None, closed="left")],
        "complete_stacks": ["boolean"],
        "similarity": [StrOptions({"mutual_knn", "oti_binary"})],
        "k": list(K_CONSTRAINT),
        "metric": list(METRIC_CONSTRAINT),
        "metric_params": [dict, None],
        "alignment": [StrOptions({"qmax", "dmax"})],
        "gap_onset": [Interval(Real, 0, np.inf, closed="both")],
        "gap_extend": [Interval(Real, 0, np.inf, closed="both")],
        "n_jobs": [Integral, None],
        "memory": [None, str, HasMethods(["cache"])],
    }

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
        memory=None,
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
        self.memory = memory

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
        sequences = _check_sequences(X, "X")
        self.n_features_in_ = sequences[0].shape[1]
        self.n_samples_fit_ = len(sequences)
        if y is not None:
            y = np.asarray(y)
            if y.ndim != 1 or len(y) != len(sequences):
                raise ValueError(
                    f"y must hold one work id per recording: got shape {y.shape} "
                    f"for {len(sequences)} recordings."
                )
            self.classes_ = np.unique(y)
            self.work_ids_ = y
        else:
            self.work_ids_ = None
        self._dtype = (
            np.float32 if all(s.dtype == np.float32 for s in sequences) else np.float64
        )
        sequences = [s.astype(self._dtype, copy=False) for s in sequences]
        self.embedding_ = TimeDelayEmbedding(n_steps=self.n_steps, delay=self.delay)
        self.embedding_.fit(sequences[0])
        embedded = [self._embed(s, f"X[{i}]") for i, s in enumerate(sequences)]
        self.n_frames_ = np.array([len(e) for e in embedded], dtype=np.intp)
        self.profiles_ = _profiles(sequences)
        # Recordings one after another, each after _GAP rows of zeros, so
        # that one alignment pass over many of them keeps them apart.
        lengths = self.n_frames_ + _GAP
        self._starts = np.concatenate([[0], np.cumsum(lengths)])[:-1] + _GAP
        frames = np.zeros((int(lengths.sum()), embedded[0].shape[1]), self._dtype)
        for start, e in zip(self._starts, embedded, strict=True):
            frames[start : start + len(e)] = e
        self._frames = frames
        self._sequences = sequences
        self._digests = {}
        for i, s in enumerate(sequences):
            self._digests.setdefault(_digest(s), []).append(i)
        return self

    def _embed(self, sequence: np.ndarray, name: str) -> np.ndarray:
        """The stacked frames: one per frame, or the complete stacks only."""
        if not self.complete_stacks:
            return self.embedding_.transform(sequence)
        span = (self.n_steps - 1) * self.delay
        if len(sequence) <= span:
            raise ValueError(
                f"{name} has {len(sequence)} frames; a complete stack of "
                f"n_steps={self.n_steps} frames delay={self.delay} apart needs "
                f"at least {span + 1}."
            )
        return self.embedding_.transform(sequence)[span:]

    # -- the all-pairs work --------------------------------------------------

    def _check_queries(self, X) -> list[np.ndarray]:
        check_is_fitted(self)
        queries = _check_sequences(X, "X", self.n_features_in_)
        return [q.astype(self._dtype, copy=False) for q in queries]

    def _dissimilarities(self, queries) -> np.ndarray:
        """``(n_queries, n_samples_fit_)`` dissimilarities, nothing excluded."""
        n_jobs = effective_n_jobs(self.n_jobs)
        n_chunks = min(len(queries), 1 if n_jobs == 1 else 4 * n_jobs)
        chunks = np.array_split(np.arange(len(queries)), n_chunks)
        results = Parallel(n_jobs=self.n_jobs)(
            delayed(_score_queries)(self, [queries[i] for i in chunk])
            for chunk in chunks
        )
        return np.vstack(results)

    def _excluded(self, queries) -> np.ndarray:
        """(n_queries, n_samples_fit_) bool: catalogue recordings equal to a query."""
        excluded = np.zeros((len(queries), self.n_samples_fit_), dtype=bool)
        for q, query in enumerate(queries):
            for i in self._digests.get(_digest(query), []):
                excluded[q, i] = True
        return excluded

    def _queries_and_exclusions(self, X):
        if X is None:
            check_is_fitted(self)
            queries = self._sequences
            excluded = self._excluded(queries)
            excluded[np.arange(len(queries)), np.arange(len(queries))] = True
            return queries, excluded
        queries = self._check_queries(X)
        return queries, self._excluded(queries)

    def _ranking(self, X):
        queries, excluded = self._queries_and_exclusions(X)
        dist = self._dissimilarities(queries)
        # Excluded recordings last, then by dissimilarity, ties to the lower
        # catalogue index (lexsort is stable).
        order = np.lexsort((dist, excluded), axis=1)
        return dist, order, excluded

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
        dist, order, excluded = self._ranking(X)
        available = self.n_samples_fit_ - int(excluded.sum(axis=1).max())
        if n_neighbors is None:
            n_neighbors = available
        elif (
            isinstance(n_neighbors, bool)
            or not isinstance(n_neighbors, Integral)
            or not 1 <= n_neighbors <= available
        ):
            raise ValueError(
                f"n_neighbors={n_neighbors!r} must be an int in [1, {available}] "
                f"(the catalogue has {self.n_samples_fit_} recordings"
                + (
                    ", minus the query itself)."
                    if available < self.n_samples_fit_
                    else ")."
                )
            )
        ind = order[:, :n_neighbors]
        if return_distance:
            return np.take_along_axis(dist, ind, axis=1), ind
        return ind

    def _check_labelled(self):
        check_is_fitted(self)
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
        y = np.asarray(y)
        dist, order, excluded = self._ranking(X)
        if len(y) != len(order):
            raise ValueError(
                f"y has {len(y)} work ids for {len(order)} query recordings."
            )
        ap = average_precision(order, excluded, self.work_ids_, y)
        counted = ~np.isnan(ap)
        if not counted.any():
            warnings.warn(
                "no query has a version of its work in the catalogue; the mean "
                "average precision is undefined (NaN). Split stratified on the "
                "work id, not by work.",
                UserWarning,
                stacklevel=2,
            )
            return float("nan")
        return float(np.mean(ap[counted]))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Samples are recordings: a list of 2-d arrays of different lengths.
        tags.input_tags.two_d_array = False
        tags.target_tags.required = False
        return tags


def average_precision(order, excluded, catalogue_works, query_works) -> np.ndarray:
    """Average precision of each ranking; NaN where nothing is relevant.

    ``order[q]`` is the catalogue ranked for query ``q`` (excluded recordings
    anywhere: they are skipped).
    """
    ranked_works = np.asarray(catalogue_works)[order]
    kept = ~np.take_along_axis(excluded, order, axis=1)
    relevant = (ranked_works == np.asarray(query_works)[:, None]) & kept
    ranks = np.cumsum(kept, axis=1)  # 1-based rank among kept recordings
    hits = np.cumsum(relevant, axis=1)
    n_relevant = relevant.sum(axis=1)
    precision_sum = np.where(relevant, hits / np.maximum(ranks, 1), 0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_relevant > 0, precision_sum / n_relevant, np.nan)


def _chunk_bounds(n_frames_with_gaps: np.ndarray, max_width: int):
    """Consecutive recordings grouped so that each group is at most max_width
    columns wide (a longer recording forms a group alone)."""
    bounds, start, width = [], 0, 0
    for i, w in enumerate(n_frames_with_gaps):
        if width and width + w > max_width:
            bounds.append((start, i))
            start, width = i, 0
        width += w
    bounds.append((start, len(n_frames_with_gaps)))
    return bounds


def _score_queries(index: CoverSongIndex, queries) -> np.ndarray:
    """Dissimilarities of some queries to the whole catalogue (one joblib task).

    Parallelism comes from the queries (``n_jobs`` joblib workers).  The
    products here are a few hundred query frames against a catalogue slice;
    a multi-threaded BLAS on them gained nothing on an idle 2-core machine
    and cost 2.3x when other processes were running, so BLAS runs on one
    thread, where that disturbs no other thread (``single_threaded_blas``).
    """
    out = np.empty((len(queries), index.n_samples_fit_))
    with single_threaded_blas():
        for q, query in enumerate(queries):
            out[q] = _score_query(index, query)
    return out


def _score_query(index: CoverSongIndex, query: np.ndarray) -> np.ndarray:
    n_bins = index.n_features_in_
    embedded = index._embed(query, "the query")
    n_q = len(embedded)
    if index.transposition == "oti":
        shifts = _best_shifts(_profiles([query])[0], index.profiles_, index.n_shifts)
    else:
        shifts = np.zeros(index.n_samples_fit_, dtype=np.intp)
    widths = index.n_frames_ + _GAP
    # A group's working set per column: its distances to the query, two
    # boolean copies and the recurrence's rows; keep it in working_memory.
    per_column = n_q * (np.dtype(index._dtype).itemsize + 2) + 64
    budget = get_config()["working_memory"] * 2**20
    max_width = max(1, min(budget // per_column, 1 << 16))
    scores = np.empty(index.n_samples_fit_)
    for lo, hi in _chunk_bounds(widths, max_width):
        scores[lo:hi] = _score_chunk(index, query, embedded, shifts, lo, hi, n_bins)
    with np.errstate(divide="ignore"):
        return np.sqrt(index.n_frames_) / scores


def _score_chunk(index, query, embedded, shifts, lo, hi, n_bins):
    """Best alignment score of the query with each recording lo..hi-1."""
    first = index._starts[lo] - _GAP
    last = index._starts[hi - 1] + index.n_frames_[hi - 1]
    width = last - first
    n_q = len(embedded)
    S_T = np.zeros((width, n_q), dtype=bool)
    for shift in np.unique(shifts[lo:hi]):
        members = lo + np.flatnonzero(shifts[lo:hi] == shift)
        # Rows of the group's recordings (gaps included) inside this chunk.
        starts = index._starts[members] - _GAP - first
        lengths = index.n_frames_[members] + _GAP
        rows = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(
            lengths.sum()
        )
        frames = index._frames[first + rows]
        transposed = _rotate_blocks(embedded, int(shift), n_bins)
        if index.similarity == "oti_binary":
            S_T[rows] = _oti_binary(transposed, frames, n_bins, index.n_shifts).T
            # The gap rows are zero frames, which must not recur.
            gaps = np.concatenate(
                [np.arange(s, s + _GAP) for s in np.cumsum(lengths) - lengths]
            )
            S_T[rows[gaps]] = False
        else:
            distances = pair_distances(
                transposed, frames, index.metric, index.metric_params, index.memory
            )
            local_starts = np.cumsum(lengths) - lengths + _GAP
            bounds = zip(
                local_starts, local_starts + index.n_frames_[members], strict=True
            )
            S_T[rows] = mutual_knn(distances, bounds, index.k)
    keep = np.zeros(width, dtype=np.float32)
    for i in range(lo, hi):
        keep[
            index._starts[i] - first : index._starts[i] - first + index.n_frames_[i]
        ] = 1
    column_max = recurrence_column_max(
        np.ascontiguousarray(S_T.T),
        width,
        method=index.alignment,
        gap_onset=index.gap_onset,
        gap_extend=index.gap_extend,
        keep=keep,
        dtype=np.float32,
    )
    segment_starts = index._starts[lo:hi] - first
    return np.maximum.reduceat(column_max, segment_starts).astype(np.float64)


def cover_song_distance(query, reference, **params) -> float:
    """Cover-song dissimilarity of a query recording to a reference recording.

    essentia's ``ChromaCrossSimilarity`` followed by ``CoverSongSimilarity``
    (``distanceType="asymmetric"``), with the same defaults: OTI
    transposition, stacks of 9 frames, mutual k-NN binarisation with
    ``k=0.095``, Qmax with gap costs 0.5 and 0.5, and
    ``sqrt(n_ref) / Qmax``; but every frame ends a stack (the first ones
    padded, see ``complete_stacks``).

    Parameters
    ----------
    query : array-like of shape (n_frames, n_bins)
        Query chroma, frames as rows.
    reference : array-like of shape (n_frames_ref, n_bins)
        Reference chroma, frames as rows.
    **params
        Any parameter of :class:`CoverSongIndex` (``transposition``,
        ``n_steps``, ``k``, ``metric``, ``similarity``, ``alignment``,
        ``gap_onset``, ...).

    Returns
    -------
    distance : float
        ``sqrt(n_ref) / score``, ``n_ref`` the reference's number of stacks;
        ``inf`` when nothing aligns.  Smaller is more likely a cover.

    See Also
    --------
    CoverSongIndex : the same for a query against a whole catalogue.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim import cover_song_distance
    >>> from skxsim.datasets import make_cover_pair
    >>> pair = make_cover_pair(random_state=0)
    >>> other = make_cover_pair(random_state=1)
    >>> transposed_cover = np.roll(pair.cover, 2, axis=1)
    >>> near = cover_song_distance(transposed_cover, pair.reference)
    >>> far = cover_song_distance(other.cover, pair.reference)
    >>> bool(near < far)
    True
    """
    index = CoverSongIndex(**params).fit([reference])
    return float(_score_queries(index, index._check_queries([query]))[0, 0])
