"""``recurrence_matrix``: a drop-in for ``librosa.segment.recurrence_matrix``.

A thin adapter over ``_recurrence``: librosa's arguments and orientation in
and out, skxsim's blocked engine in between.
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import (
    validate_parameter_constraints,
    validate_params,
)

from .._validation import (
    AXIS,
    BANDWIDTH,
    METRIC,
    MODE,
    WIDTH,
    K,
    check_bandwidth_matrix,
    check_bandwidth_value,
    check_width,
    default_k_recurrence,
    frames_along,
)
from ..exceptions import librosa_errors
from ._core import recurrence


@overload
def recurrence_matrix(
    data: np.ndarray,
    *,
    k: int | None = ...,
    width: int = ...,
    metric: str = ...,
    sym: bool = ...,
    sparse: Literal[False] = ...,
    mode: str = ...,
    bandwidth: float | str | np.ndarray | None = ...,
    self: bool = ...,
    axis: int = ...,
    full: bool = ...,
) -> np.ndarray: ...


@overload
def recurrence_matrix(
    data: np.ndarray,
    *,
    k: int | None = ...,
    width: int = ...,
    metric: str = ...,
    sym: bool = ...,
    sparse: Literal[True] = ...,
    mode: str = ...,
    bandwidth: float | str | np.ndarray | None = ...,
    self: bool = ...,
    axis: int = ...,
    full: bool = ...,
) -> sp.csc_matrix: ...


@librosa_errors
@validate_params(
    {
        "data": ["array-like", "sparse matrix"],
        "k": K,
        "width": WIDTH,
        "metric": METRIC,
        "sym": ["boolean"],
        "sparse": ["boolean"],
        "mode": MODE,
        "bandwidth": BANDWIDTH + [np.ndarray],
        "axis": AXIS,
        "full": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def recurrence_matrix(
    data: np.ndarray,
    *,
    k: int | None = None,
    width: int = 1,
    metric: str = "euclidean",
    sym: bool = False,
    sparse: bool = False,
    mode: str = "connectivity",
    bandwidth: float | str | np.ndarray | None = None,
    self: bool = False,
    axis: int = -1,
    full: bool = False,
) -> np.ndarray | sp.csc_matrix:
    """Recurrence (self-similarity) matrix of a sequence, librosa orientation.

    A drop-in for ``librosa.segment.recurrence_matrix`` (librosa 0.11): the
    same arguments, shapes and values wherever librosa is correct, computed
    by skxsim's blocked engine.  ``rec[i, j]`` is non-zero when frame ``i``
    is among the ``k`` nearest neighbours of frame ``j`` and
    ``|i - j| >= width``: column ``j`` holds frame ``j``'s neighbours.

    Parameters
    ----------
    data : ndarray of shape (..., d, n)
        The sequence; frames lie along ``axis``.  The other axes are
        flattened into features as librosa does (``(2, d, n)`` becomes
        ``(2 * d, n)``).
    k : int >= 1 or None, default=None
        Neighbours per frame.  ``None`` means
        ``2 * ceil(sqrt(n - 2 * width + 1))``.  A frame with fewer than ``k``
        frames outside its band has them all.
    width : int >= 1, default=1
        Frames ``j`` with ``|i - j| < width`` are never neighbours of frame
        ``i``.  Must be less than ``(n - 1) // 2`` (librosa's bound).
    metric : str or callable, default="euclidean"
        Any metric :class:`sklearn.neighbors.NearestNeighbors` accepts.
        euclidean, sqeuclidean and cosine run on the BLAS engine.
    sym : bool, default=False
        Keep only mutual neighbours: ``rec[i, j]`` where frame ``i`` is among
        ``j``'s neighbours and ``j`` among ``i``'s.
    sparse : bool, default=False
        Return a ``scipy.sparse.csc_matrix`` instead of an ndarray.
    mode : {"connectivity", "distance", "affinity"}, default="connectivity"
        ``connectivity``: True at the neighbours (bool).  ``distance``: the
        distance there.  ``affinity``: ``exp(-distance / bandwidth)`` there.
    bandwidth : float > 0, str, ndarray of shape (n, n) or None
        Affinity bandwidth.  ``None`` or ``"med_k_scalar"``: the median over
        frames of the distance to their k-th neighbour.  ``"mean_k"``,
        ``"gmean_k"``: per pair (i, j), the arithmetic / geometric mean of
        the two frames' k-th neighbour distances.  ``"mean_k_avg"``,
        ``"gmean_k_avg"``: the same with the mean distance to the k nearest.
        ``"mean_k_avg_and_pair"``: the mean of the two averages and the
        pair's distance.  A frame's neighbours for these statistics are its
        ``k`` nearest outside the band (every other frame with ``full``),
        before ``sym``.  An ndarray gives each pair its own bandwidth,
        indexed ``[i, j]`` for frame ``i``'s neighbour ``j``.
    self : bool, default=False
        Link every frame to itself: a diagonal of 1 (connectivity,
        affinity) or of stored zeros (distance).
    axis : int, default=-1
        The axis of ``data`` along which the frames lie.
    full : bool, default=False
        With ``distance`` or ``affinity``: every pair of frames (band
        included), ``k`` being used for the bandwidth only.  No effect on
        connectivity.

    Returns
    -------
    rec : ndarray or scipy.sparse.csc_matrix of shape (n, n)
        bool for connectivity; float32 for float32 data, float64 otherwise.

    See Also
    --------
    RecurrenceMatrix : the same computation as a scikit-learn transformer.
    recurrence_to_lag : the lag representation of a recurrence matrix.
    cross_similarity : neighbours in another sequence.

    Notes
    -----
    Deliberate differences from librosa 0.11: connectivity marks the true
    ``k`` nearest frames (librosa keeps the lowest-numbered among its
    candidates); a frame at distance exactly 0 is a neighbour (librosa drops
    it); ``full=True`` leaves connectivity unchanged; the data-driven
    bandwidths use every frame's own neighbours, before ``sym``; an ndarray
    bandwidth works with ``self=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim import recurrence_matrix
    >>> rng = np.random.default_rng(0)
    >>> verse = rng.standard_normal((12, 20))     # 12 features, 20 frames
    >>> song = np.concatenate([verse, rng.standard_normal((12, 10)), verse], axis=1)
    >>> rec = recurrence_matrix(song, k=1)
    >>> rec.shape, rec.dtype
    ((50, 50), dtype('bool'))
    >>> bool(rec[30:50, 0:20].diagonal().all())   # the repeated verse
    True
    """
    validate_parameter_constraints(
        {"self": ["boolean"]}, {"self": self}, caller_name="recurrence_matrix"
    )
    X = frames_along(data, axis)
    n = X.shape[0]
    check_width(width, n, axis)
    k = default_k_recurrence(n, width) if k is None else k
    check_bandwidth_value(bandwidth)
    if isinstance(bandwidth, np.ndarray) and mode == "affinity":
        check_bandwidth_matrix(bandwidth, n, n)
    return recurrence(
        X,
        k=k,
        width=width,
        metric=metric,
        metric_params=None,
        mode=mode,
        bandwidth=bandwidth,
        sym=sym,
        include_self=self,
        full=full,
        sparse=sparse,
        dtype=np.dtype(bool) if mode == "connectivity" else X.dtype,
        transpose=True,
    )
