"""``Matcher``: the best subsequences of a long reference for short queries."""

from __future__ import annotations

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import _fit_context

from .._base import SkxsimEstimator
from .._constraints import OrderedPair
from .._validation import (
    ALGORITHM,
    MEMORY,
    N_JOBS,
    N_STEPS,
    POSITIVE_INT,
    as_items,
    parallel_n_jobs,
)
from ._candidates import VoteParams
from ._frames import DTW_CONSTRAINTS, as_weights, band_radius
from ._matching import Archive, match_query
from ._multiscale import DTWParams

# Candidate positions are binned by this many pooled frames (see
# _candidates.bin_scores).
BIN_WIDTH = 16
# Reference frames per query frame: beyond 16 times faster or slower a
# performance is not the same music, and the ratio grid (and the votes'
# memory) grows with log(high / low).
TEMPO_RANGE = [OrderedPair(1 / 16, 16)]


class Matcher(SkxsimEstimator):
    """Find where short queries sit inside a long reference (an archive).

    ``fit`` indexes a long reference sequence once (an archive of many
    recordings one after another); ``match`` returns, for a query, the best
    ``n_matches`` subsequences of the reference, each as ``(start, end,
    cost)``: the reference frames ``start .. end`` (inclusive) that a
    subsequence DTW aligns the whole query to, and its cost per query
    frame.  Orientation is scikit-learn's: rows are frames.

    Candidates come from the fitted neighbour index: the query's frames,
    pooled and stacked into short excerpts at every pooling phase, look up
    their nearest archive excerpts, and each position and tempo ratio is
    scored by how close its excerpts come to the query's; the best windows
    are ranked by a coarse DTW, the best refined, and each match kept is
    solved exactly (subsequence DTW, proven optimal within a window around
    it).  The work per query is one k-NN search of its excerpts plus a few
    small DTWs, so it grows with the archive only through the search.  A
    query too short to have an excerpt at every pooling phase (fewer than
    ``pool * (n_steps + 2)`` frames), or whose DTW against the whole
    archive is small (a few million cells), is aligned against all of it
    exactly.

    Parameters
    ----------
    metric : {"chord", "cosine", "euclidean", "sqeuclidean"}, default="chord"
        Local cost of the DTW (see :class:`Aligner`), and distance of the
        neighbour search (cosine for chord, euclidean for sqeuclidean).  A
        zero frame is at cosine distance 1 from every frame.
    step_weights : array-like of 3 floats > 0, default=(1.0, 3.0, 3.0)
        librosa's ``weights_mul``: multipliers of the steps (1, 1), (0, 1),
        (1, 0) in (query, reference) order.  The default favours the
        diagonal: with weaker weights a subsequence path shrinks where the
        query's last (or first) seconds resemble an earlier passage, and the
        match ends early (measured in the user guide's alignment chapter).
    radius : int >= 1, default=8
        Band half-width of the coarse-to-fine DTW that compares the best
        windows (see :class:`Aligner`).  Narrower than the aligner's 16:
        that DTW only chooses the matches, whose exact optimum is then
        computed around each.
    coarse_frames : int >= 2, default=128
        The query is pooled by 2 until at most this many frames, and each
        window as many times; the windows are ranked by their DTW cost at
        that level, and only the best are refined to full resolution.
        Smaller than the aligner's 2000: up to ``n_candidates`` windows per
        query are aligned in full at that level.
    pool : int >= 1, default=10
        Frames averaged into one before indexing (smaller index, tempo
        jitter smoothed).
    n_steps : int >= 1, default=8
        Pooled frames stacked into one indexed excerpt.  The default
        excerpt (80 frames, 1.9 s of chroma at 43 frames per second) is
        long enough to tell a passage from the many others that share its
        chord: with 16-frame excerpts, on 10 hours of other instruments
        and 20 dB noise, the true position of some queries was among none
        of their excerpts' 100 nearest.  A query of fewer than ``pool *
        (n_steps + 2)`` frames (100) is aligned against the whole reference
        (exact, but slower on long references): for such queries,
        ``pool=4, n_steps=4``.
    n_neighbors : int >= 1, default=100
        Nearest archive excerpts per query excerpt: in hours of similar
        music the true position of a query is not always among its
        excerpts' few nearest.  Any value works, up to the number of
        excerpts (more is the same): a position's score charges each query
        excerpt its distance to the nearest hit there, or the
        ``(n_neighbors + 1)``-th distance without one, so more neighbours
        sharpen the scores (at more work per query).
    tempo_range : (float, float), default=(0.7, 1.4)
        Reference frames per query frame considered, low and high, within
        ``[1/16, 16]``: 1.4 finds a query played 1.4 times faster than the
        reference.
    n_candidates : int >= 1, default=48
        Windows aligned per query at the coarsest level (the best scored
        positions); only the cheapest, and the best scored, are refined.
    algorithm : {"auto", "brute", "kd_tree", "ball_tree", "hnsw", \
"nndescent"}, default="auto"
        Neighbour search of the archive's excerpts, as in
        :class:`CrossSimilarity`: ``"auto"`` is exact; ``"hnsw"`` and
        ``"nndescent"`` are approximate, for long archives.
    algorithm_params : dict or None, default=None
        Parameters of an approximate backend's index.
    memory : None, str or joblib.Memory, default=None
        Cache of the index build (keyed on the excerpts and the backend).
    n_jobs : int or None, default=None
        Cores of :meth:`match_many`, as joblib workers (``-1``: all;
        ``None``: the cores this process may use, unless a
        :func:`joblib.parallel_config` sets ``n_jobs``); inside
        ``joblib.parallel_config(backend="dask")`` they run on a Dask
        cluster.

    Attributes
    ----------
    n_features_in_ : int
        Features per frame.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when the reference has string column names.
    n_samples_fit_ : int
        Reference frames ``n_ref``.
    pool_, n_steps_ : int
        ``pool`` and ``n_steps``, reduced for a reference shorter than one
        excerpt.
    index_ : object
        The neighbour index of the reference's excerpts.

    See Also
    --------
    Aligner : global alignment of a whole query to a whole reference.

    Notes
    -----
    A match's cost is the subsequence DTW's accumulated cost (librosa's
    ``dtw(..., subseq=True)``: ``D[-1, end]`` with the window as ``Y``)
    divided by the number of query frames, so that costs of queries of
    different lengths compare.  It is the exact optimum within a window
    around the match (widened while the optimal path runs to its edge), so
    the true DTW cost of the returned span (librosa's ``D[-1, -1]`` with
    the span as ``Y``), and the match starts and ends where librosa's
    subsequence DTW over that window would.  Matches overlapping a cheaper
    one by more than half of the shorter are dropped, so fewer than
    ``n_matches`` may come back.

    Exact copies of archive passages are found at their span with cost 0
    whatever ``n_neighbors``, for any ``tempo_range`` holding 1 (the ratio
    grid holds 1 then).  On random archives, with queries of 40-320 frames
    at tempo 0.8-1.25 and noise, the top match is the optimum of
    subsequence DTW over the whole archive in 300 of 300 queries (gaussian
    noise of 0.1 on frames uniform in [0, 1]; 146 of 150 at 0.25;
    ``benchmarks/bench_matching_optimal.py``).

    Frames are divided by a power of two where their squares would leave
    float64's range (the euclidean metrics; chord and cosine are
    scale-free), as in the engine's exact paths: an archive and queries
    scaled by ``1e200`` give the same matches, and euclidean costs scaled
    by as much.

    The defaults (``step_weights``, ``n_neighbors``, ``n_candidates``)
    were chosen with ``benchmarks/bench_alignment.py``; the measurements
    are in the alignment chapter of the user guide.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim import Matcher
    >>> rng = np.random.default_rng(0)
    >>> archive = rng.random((3000, 12))
    >>> query = np.repeat(archive[1200:1500], 4, axis=0)[::5]  # 1.25x faster
    >>> matcher = Matcher().fit(archive)
    >>> starts, ends, costs = matcher.match(query)
    >>> int(starts[0]), int(ends[0])
    (1200, 1498)
    """

    _stale_state = "its index"
    # What the index was built for.
    _fit_params = ("metric", "pool", "n_steps", "algorithm", "algorithm_params")

    _parameter_constraints: dict = {
        **DTW_CONSTRAINTS,
        "pool": POSITIVE_INT,
        "n_steps": N_STEPS,
        "n_neighbors": POSITIVE_INT,
        "tempo_range": TEMPO_RANGE,
        "n_candidates": POSITIVE_INT,
        "algorithm": ALGORITHM,
        "algorithm_params": [dict, None],
        "memory": MEMORY,
        "n_jobs": N_JOBS,
    }

    def __init__(
        self,
        *,
        metric: str = "chord",
        step_weights=(1.0, 3.0, 3.0),
        radius: int = 8,
        coarse_frames: int = 128,
        pool: int = 10,
        n_steps: int = 8,
        n_neighbors: int = 100,
        tempo_range=(0.7, 1.4),
        n_candidates: int = 48,
        algorithm: str = "auto",
        algorithm_params: dict | None = None,
        memory=None,
        n_jobs: int | None = None,
    ) -> None:
        self.metric = metric
        self.step_weights = step_weights
        self.radius = radius
        self.coarse_frames = coarse_frames
        self.pool = pool
        self.n_steps = n_steps
        self.n_neighbors = n_neighbors
        self.tempo_range = tempo_range
        self.n_candidates = n_candidates
        self.algorithm = algorithm
        self.algorithm_params = algorithm_params
        self.memory = memory
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None) -> Matcher:
        """Index the reference sequence (the archive).

        Parameters
        ----------
        X : array-like of shape (n_ref, n_features)
            Reference frames, rows are frames, at least 2.
        y : None
            Ignored.

        Returns
        -------
        self : Matcher
            The fitted matcher.
        """
        X = self._validate_sequence(X, "the reference X", reset=True, min_frames=2)
        n_ref = X.shape[0]
        self.n_samples_fit_ = n_ref
        # An excerpt must fit in the reference (numpy scalars as Python's:
        # int8 arithmetic overflows).
        pool, n_steps = int(self.pool), int(self.n_steps)
        self.n_steps_ = min(n_steps, max(1, n_ref // pool))
        self.pool_ = min(pool, n_ref // self.n_steps_)
        self._archive = Archive.build(
            X,
            self.metric,
            self.pool_,
            self.n_steps_,
            algorithm=self.algorithm,
            algorithm_params=self.algorithm_params,
            memory=self.memory,
            k=self.n_neighbors,
        )
        self._fit_method, self.index_ = self._archive.method, self._archive.index
        self._remember_fit_params()
        return self

    def _search_params(self) -> tuple[VoteParams, DTWParams, int]:
        """What a query's search reads, from parameters checked at use."""
        votes = VoteParams(
            n_neighbors=int(self.n_neighbors),
            tempo_range=tuple(float(v) for v in self.tempo_range),
            bin_width=BIN_WIDTH * self.pool_,
            n_candidates=int(self.n_candidates),
        )
        dtw = DTWParams(
            metric=self.metric,
            step_weights=as_weights(self.step_weights),
            radius=band_radius(self.radius, self.n_samples_fit_),
        )
        return votes, dtw, int(self.coarse_frames)

    def _query(self, X, name="the query X") -> np.ndarray:
        query = self._validate_sequence(X, name, reset=False, min_frames=2)
        if query.shape[0] > self.n_samples_fit_:
            raise ValueError(
                f"{name} has {query.shape[0]} frames, more than the "
                f"{self.n_samples_fit_} of the reference: a match is a part "
                "of the reference (use Aligner for a whole-to-whole alignment)."
            )
        return np.ascontiguousarray(query, dtype=np.float64)

    def match(self, X, n_matches: int = 1):
        """The best subsequences of the reference for one query.

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Query frames, rows are frames; at least 2 (any length: a query
            of fewer than ``pool_ * (n_steps_ + 2)`` frames is aligned
            against the whole reference), and at most ``n_samples_fit_``.
        n_matches : int >= 1, default=1
            Matches to return.

        Returns
        -------
        starts, ends : ndarray of shape (n_found,), int64
            First and last reference frame of each match, best first
            (``n_found <= n_matches``).
        costs : ndarray of shape (n_found,), float64
            Subsequence DTW cost per query frame, ascending.
        """
        self._check_usable()
        self._check_call_params("match", _N_MATCHES, n_matches=n_matches)
        return match_query(
            self._query(X), self._archive, *self._search_params(), int(n_matches)
        )

    def match_many(self, queries, n_matches: int = 1, n_jobs=None):
        """:meth:`match` for many queries, through joblib.

        Parameters
        ----------
        queries : iterable of array-like of shape (n_i, n_features)
            Query sequences.
        n_matches : int >= 1, default=1
            Matches per query.
        n_jobs : int or None, default=None
            Cores, as joblib workers; ``None``: the estimator's ``n_jobs``.  Inside
            ``joblib.parallel_config(backend="dask")`` they run on a Dask
            cluster.

        Returns
        -------
        results : list of (starts, ends, costs)
            One per query, as :meth:`match` returns them.
        """
        self._check_usable()
        self._check_call_params(
            "match_many",
            {**_N_MATCHES, "n_jobs": N_JOBS},
            n_matches=n_matches,
            n_jobs=n_jobs,
        )
        queries = [
            self._query(q, f"queries[{i}]")
            for i, q in enumerate(as_items(queries, "queries", "2-d arrays"))
        ]
        search = (*self._search_params(), int(n_matches))
        n_jobs = parallel_n_jobs(self.n_jobs if n_jobs is None else n_jobs)
        workers = effective_n_jobs(n_jobs)
        n_chunks = max(1, min(len(queries), 1 if workers == 1 else 4 * workers))
        chunks = np.array_split(np.arange(len(queries)), n_chunks)
        parts = Parallel(n_jobs=n_jobs)(
            delayed(_match_chunk)(self._archive, [queries[i] for i in chunk], search)
            for chunk in chunks
            if len(chunk)
        )
        return [result for part in parts for result in part]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags


_N_MATCHES = {"n_matches": POSITIVE_INT}


def _match_chunk(archive, queries, search):
    """Some queries' matches (one joblib task)."""
    return [match_query(query, archive, *search) for query in queries]
