"""``Aligner`` and ``align``: global alignment of a query to a reference."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils import check_array, column_or_1d

from .._base import SkxsimEstimator
from .._neighbors import divided
from .._validation import POSITIVE_INT
from ._frames import (
    DTW_CONSTRAINTS,
    as_weights,
    band_radius,
    depth,
    frame_scale,
    pyramid,
    scaled_weights,
    unscaled_cost,
)
from ._multiscale import DTWParams
from ._proof import proven_dtw, warn_unproven

# Cells the exact pruned search may explore by default: 1 byte each.
DEFAULT_BUDGET = 200_000_000

# The arguments of ``align`` (the method).
ALIGN_CONSTRAINTS: dict = {"subseq": ["boolean"], "return_info": ["boolean"]}


def mean_positions(path: np.ndarray, positions: np.ndarray, n: int) -> np.ndarray:
    """Per query frame, the mean of ``positions`` over its reference frames."""
    counts = np.bincount(path[:, 0], minlength=n)
    sums = np.bincount(path[:, 0], weights=positions[path[:, 1]], minlength=n)
    return sums / counts


class Aligner(RegressorMixin, SkxsimEstimator):
    """Align query sequences to a fitted reference by dynamic time warping.

    ``fit`` stores the reference sequence (and the positions of its frames,
    e.g. their times in seconds); ``align`` gives the optimal monotone path
    of a query through it from first frames to last frames, with its cost;
    ``predict`` turns the path into a position per query frame, ``score``
    compares those to annotated positions (minus the mean absolute error).
    Orientation is scikit-learn's: rows are frames, ``(n_frames,
    n_features)``.

    The path is the optimum, and proven so.  A coarse-to-fine search
    (multiscale DTW: both sequences pooled by 2 per level, the same number
    of times, until at most ``coarse_frames`` frames, aligned exactly there
    and refined level by level inside a band) gives a path whose cost
    bounds the optimum from above; each frame's nearest neighbour in the
    other sequence bounds from below what any path must still pay; an exact
    DTW over only the cells that can still beat the upper bound then finds
    the optimum.  Local costs are computed from the frames on the fly:
    nothing of size ``n x n_ref`` is allocated unless the proof needs
    that many cells (``budget`` bounds them).

    Parameters
    ----------
    metric : {"chord", "cosine", "euclidean", "sqeuclidean"}, default="chord"
        Local cost between a query frame and a reference frame.
        ``"chord"`` is the euclidean distance between the frames scaled to
        unit length, ``sqrt(2 * cosine distance)``: like cosine it ignores
        loudness, and it is the one that aligned rendered performances of
        Bach's chorales best (``benchmarks/bench_alignment.py``: 73 ms mean
        absolute error on single chorales against 131 ms for cosine with
        unit weights, librosa's default).  Under chord and cosine, a frame of
        zeros (silence) is at cosine distance 1 from every frame, itself
        included (scikit-learn's convention): chord ``sqrt(2)``.
    step_weights : array-like of 3 floats > 0, default=(1.0, 1.5, 1.5)
        Multipliers of the local cost for the steps (1, 1), (0, 1) and
        (1, 0) in (query, reference) order: librosa's ``weights_mul`` for its
        default ``step_sizes_sigma`` with the query as ``X``.  The default
        makes a horizontal or vertical step cost 1.5 times a diagonal one,
        so the path follows a steady tempo through held notes; ``(2, 1, 1)``
        is the symmetric weighting that does not favour the diagonal,
        ``(1, 1, 1)`` librosa's.
    radius : int >= 1, default=16
        Half-width, in frames of each level, of the band around the
        projected coarser paths (a band wider than the sequences is the
        whole matrix).  Within ``budget`` the path is the proven optimum
        whatever the radius: it decides how close the coarse-to-fine upper
        bound comes, so how few cells the proof explores (from 8 up, that
        bound is full DTW's optimum on all the tests' pairs).
    coarse_frames : int >= 2, default=2000
        Sequences are pooled until they have at most this many frames; a
        pair no longer than this is aligned by exact full DTW (at most
        ``coarse_frames**2`` cells, once per query).
    budget : int >= 1 or None, default=200_000_000
        Most cells the exact pruned search that proves the optimum may
        explore; ``None``: no limit (at most ``n * n_ref``).  A cell costs
        two bits of memory and about 25 ns; its lower bounds take one pass
        over every cell (about 2 ns a cell) and tables of at most ``budget
        / 4`` bytes, so the proof holds at most ``budget / 2`` bytes.  The
        default, 100 MB and some 5 s of search at most, proves the
        benchmark's 10-minute chorale pair (131 million cells; 5 minutes:
        38 million).  Where the proof would need more, the coarse-to-fine
        path is returned with an :class:`~skxsim.exceptions.AlignmentWarning`
        stating the proven bound ``cost <= (1 + gap) * optimum`` (also in
        ``align(..., return_info=True)``); pairs of more than 12 times
        ``budget`` cells skip the proof (``gap`` inf: its bounds' pass alone
        would take longer than the whole budget's search), and so do pairs
        of more than 1.5 times ``budget`` cells whose proof, run first on
        the sequences pooled (up to 8 frames into 1, both at least 512
        frames long), is predicted to explore more than 1.5 times
        ``budget`` (``gap`` inf, the prediction in the warning and in
        ``predicted_cells``): the 15-minute chorale pair takes 0.7 s of CPU
        instead of paying 9 s for a proof that would not finish.

    Attributes
    ----------
    n_features_in_ : int
        Features per frame.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when the reference has string column names.
    n_samples_fit_ : int
        Reference frames ``n_ref``.
    positions_ : ndarray of shape (`n_samples_fit_`,)
        Position of each reference frame: ``y`` of ``fit``, or the frame
        indices.
    n_levels_ : int
        Levels of the reference's pyramid (1: never pooled).

    See Also
    --------
    align : the same alignment as a function.
    Matcher : find a short query inside a long reference.

    Notes
    -----
    :class:`Matcher` shares ``metric``, ``step_weights``, ``radius`` and
    ``coarse_frames`` with other defaults, for another task: its paths have
    a free start and end (which weaker step weights let fold onto an
    earlier passage), it ranks dozens of windows per query at the coarsest
    level (so that level is small, and a narrower band is only cheaper),
    and it solves only the windows of the matches it keeps exactly.  An ``Aligner`` aligns one
    whole pair, with fixed ends, and proves the optimum.

    The path is an ``(n_steps, 2)`` int64 array of ``(query frame,
    reference frame)`` pairs from ``(0, 0)`` to ``(n - 1, n_ref - 1)``, each
    step (1, 0), (0, 1) or (1, 1).  Its cost is librosa's accumulated cost:
    ``C[0, 0] + sum of weight(step) * C[cell reached]``.
    ``librosa.sequence.dtw(X=query.T, Y=reference.T, metric=metric,
    weights_mul=step_weights)`` (for chord: ``metric="euclidean"`` on
    frames scaled to unit length) returns the same pairs as ``wp``,
    end to start: ``wp[::-1]`` is our path (up to ties between equally
    cheap paths once the search is pruned), and its ``D[-1, -1]`` our cost,
    whenever the optimum is proven (``return_info=True``: ``optimal``;
    otherwise an :class:`~skxsim.exceptions.AlignmentWarning` says so).

    Costs are computed in float64 from the frames in a fixed order, so
    float32 input gives exactly the result of its float64 cast, whatever
    the machine, thread or call order.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim import Aligner
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.random((40, 12))
    >>> query = np.repeat(reference, 2, axis=0)   # twice as slow
    >>> aligner = Aligner().fit(reference, y=np.arange(40) * 0.5)  # seconds
    >>> path, cost = aligner.align(query)
    >>> path[:4].tolist(), round(cost, 6)
    ([[0, 0], [1, 0], [2, 1], [3, 1]], 0.0)
    >>> aligner.predict(query)[:4]
    array([0. , 0. , 0.5, 0.5])
    >>> aligner.score(query, np.repeat(np.arange(40) * 0.5, 2))
    -0.0
    """

    _stale_state = "its stored reference"
    # What the stored pyramid of the reference was built for.
    _fit_params = ("metric", "coarse_frames")

    _parameter_constraints: dict = {
        **DTW_CONSTRAINTS,
        "budget": [*POSITIVE_INT, None],
    }

    def __init__(
        self,
        *,
        metric: str = "chord",
        step_weights=(1.0, 1.5, 1.5),
        radius: int = 16,
        coarse_frames: int = 2000,
        budget: int | None = DEFAULT_BUDGET,
    ) -> None:
        self.metric = metric
        self.step_weights = step_weights
        self.radius = radius
        self.coarse_frames = coarse_frames
        self.budget = budget

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None) -> Aligner:
        """Store the reference sequence and the positions of its frames.

        Parameters
        ----------
        X : array-like of shape (n_ref, n_features)
            Reference frames, rows are frames, at least 2.
        y : array-like of shape (n_ref,) or None, default=None
            Position of each reference frame (e.g. its time in seconds, or
            any per-frame annotation to transfer); ``None``: the frame
            indices ``0 .. n_ref - 1``.

        Returns
        -------
        self : Aligner
            The fitted aligner.
        """
        X = self._validate_sequence(X, "the reference X", reset=True, min_frames=2)
        if y is None:
            positions = np.arange(X.shape[0], dtype=np.float64)
        else:
            positions = column_or_1d(
                check_array(y, ensure_2d=False, dtype=np.float64, input_name="y"),
                warn=True,
            )
            if positions.shape[0] != X.shape[0]:
                raise ValueError(
                    f"y has {positions.shape[0]} positions and the reference X "
                    f"{X.shape[0]} frames: y holds one position per frame."
                )
        reference = np.ascontiguousarray(X, dtype=np.float64)
        self.n_samples_fit_ = reference.shape[0]
        self.positions_ = positions
        self._reference = reference
        self._scale = frame_scale(self.metric, reference)
        self._levels = pyramid(
            divided(reference, self._scale), self.metric, self.coarse_frames
        )
        self.n_levels_ = len(self._levels)
        self._remember_fit_params()
        return self

    def _query(self, X) -> np.ndarray:
        self._check_usable()
        X = self._validate_sequence(X, "the query X", reset=False, min_frames=2)
        return np.ascontiguousarray(X, dtype=np.float64)

    def _solve(self, query: np.ndarray, subseq: bool):
        """Path, cost (in the data's units) and proof of a validated query."""
        metric, coarse = self.metric, self.coarse_frames
        scale = frame_scale(metric, query, self._reference)
        n_levels = max(depth(len(query), coarse), len(self._levels))
        reference = self._levels
        if scale != self._scale or n_levels != len(reference):
            reference = pyramid(
                divided(self._reference, scale), metric, 0, n_levels=n_levels
            )
        levels = pyramid(divided(query, scale), metric, 0, n_levels=n_levels)
        weights, w_scale = scaled_weights(as_weights(self.step_weights))
        params = DTWParams(
            metric=metric,
            step_weights=weights,
            radius=band_radius(self.radius, len(query), self.n_samples_fit_),
            start_weight=1.0 / w_scale,
        )
        path, cost, info = proven_dtw(levels, reference, params, subseq, self.budget)
        cost = unscaled_cost(cost, metric, scale, w_scale)
        info["lower_bound"] = unscaled_cost(info["lower_bound"], metric, scale, w_scale)
        info["cells"] = len(query) * self.n_samples_fit_
        warn_unproven(info, cost, self.budget)
        return path, cost, info

    def align(self, X, *, subseq: bool = False, return_info: bool = False):
        """The optimal path of a query through the reference, and its cost.

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Query frames, rows are frames, at least 2.
        subseq : bool, default=False
            Subsequence alignment (librosa's ``subseq=True``): the path may
            start and end at any reference frame (the whole query against
            the best-matching stretch of the reference).
        return_info : bool, default=False
            Also return what was proven about the path (see Returns).

        Returns
        -------
        path : ndarray of shape (n_steps, 2), int64
            ``(query frame, reference frame)`` pairs from ``(0, 0)`` to
            ``(n - 1, n_ref - 1)`` (subsequence: from ``(0, start)`` to
            ``(n - 1, end)``).
        cost : float
            Accumulated cost of the path.
        info : dict
            Only with ``return_info``: ``optimal`` (bool: the cost is
            proven to be the optimum), ``gap`` (float: proven ``cost <= (1
            + gap) * optimum``; 0 when optimal), ``lower_bound`` (the
            proven lower bound on the optimum), ``explored_cells`` (cells
            of the exact search), ``predicted_cells`` (the cells the proof
            was predicted to need, from the sequences pooled, where it could
            have run out of budget; ``None`` where no prediction was made;
            ``explored_cells`` is 0 where the prediction, over 1.5 x
            ``budget``, stopped it) and ``cells`` (``n * n_ref``).
        """
        query = self._query(X)
        self._check_call_params(
            "align", ALIGN_CONSTRAINTS, subseq=subseq, return_info=return_info
        )
        path, cost, info = self._solve(query, bool(subseq))
        return (path, cost, info) if return_info else (path, cost)

    def predict(self, X) -> np.ndarray:
        """Where each query frame lands in the reference, in ``y``'s units.

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Query frames.

        Returns
        -------
        positions : ndarray of shape (n,)
            Per query frame, the mean position (``positions_``) of the
            reference frames the path pairs it with.
        """
        self._check_usable()
        path, _ = self.align(X)
        return mean_positions(path, self.positions_, path[-1, 0] + 1)

    def score(self, X, y) -> float:
        """Minus the mean absolute error of the predicted positions.

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Query frames.
        y : array-like of shape (n,)
            True position of each query frame, in ``y``'s units of ``fit``;
            NaN where a frame has none (a section the reference lacks): those
            frames are left out of the mean.

        Returns
        -------
        score : float
            ``-mean(|predict(X) - y|)`` over the frames with a true
            position: 0 is perfect, higher is better.
        """
        self._check_usable()
        predicted = self.predict(X)
        y = np.asarray(y, dtype=np.float64)
        if y.shape != predicted.shape:
            raise ValueError(
                f"y has shape {y.shape}; it needs one true position per query "
                f"frame, shape {predicted.shape}."
            )
        known = ~np.isnan(y)
        if not known.any() or not np.all(np.isfinite(y[known])):
            raise ValueError(
                "y must hold finite true positions (NaN for frames without "
                "one), and at least one."
            )
        return -float(np.mean(np.abs(predicted[known] - y[known])))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # score is -MAE in y's units, never near 1 like R^2.
        tags.regressor_tags.poor_score = True
        tags.target_tags.required = False
        return tags
