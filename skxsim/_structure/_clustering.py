"""Temporal clustering: drop-ins for ``librosa.segment.agglomerative`` and
``subsegment``.

Frames are taken along ``axis`` and flattened as librosa does
(:func:`~skxsim._validation.frames_along`); contiguous segments come from
scikit-learn's Ward clustering constrained to a chain of neighbouring
frames.  Where librosa raises (a one-frame segment, which scikit-learn's
clustering refuses), the segment stays whole.
"""

from __future__ import annotations

import numpy as np
import sklearn.cluster
from sklearn.feature_extraction.image import grid_to_graph
from sklearn.utils._param_validation import HasMethods, validate_parameter_constraints

from .._validation import AXIS, POSITIVE_INT, as_numbers, frames_along
from ..exceptions import librosa_errors


def _boundaries(labels: np.ndarray) -> np.ndarray:
    """Left boundaries of the runs of equal labels, 0 first."""
    changes = np.flatnonzero(np.diff(labels)) + 1
    return np.concatenate([[0], changes]).astype(np.int64)


def _cluster(frames: np.ndarray, k: int, clusterer) -> np.ndarray:
    n = frames.shape[0]
    if n == 1:
        return np.zeros(1, dtype=np.int64)  # one frame is one segment
    if clusterer is None:
        if k > n:
            raise ValueError(f"k={k} segments cannot be made from {n} frames.")
        chain = grid_to_graph(n_x=n, n_y=1, n_z=1)
        clusterer = sklearn.cluster.AgglomerativeClustering(
            n_clusters=int(k), connectivity=chain
        )
    clusterer.fit(frames)
    return _boundaries(np.asarray(clusterer.labels_))


@librosa_errors
def agglomerative(data, k: int, *, clusterer=None, axis: int = -1) -> np.ndarray:
    """Bottom-up temporal segmentation into ``k`` contiguous segments.

    A drop-in for ``librosa.segment.agglomerative`` (librosa 0.11): Ward
    agglomerative clustering of the frames, constrained so that only
    neighbouring frames merge, and the segments' left boundaries.

    Orientation: librosa's, frames along ``axis`` (the last by default);
    the other axes are flattened into features.

    Parameters
    ----------
    data : array-like of shape (..., n_frames) (frames along ``axis``)
        The features to cluster.
    k : int >= 1
        The number of segments, at most the number of frames (ignored when
        ``clusterer`` is given).
    clusterer : object with ``fit`` and ``labels_``, default=None
        A clustering to use instead (e.g. a configured
        ``sklearn.cluster.AgglomerativeClustering``); it is fitted on the
        frames as rows.
    axis : int, default=-1
        The frame axis.

    Returns
    -------
    boundaries : ndarray of int64
        The first frame of each segment, starting with 0.  One frame is one
        segment (librosa raises).

    See Also
    --------
    subsegment : divide each interval of a segmentation.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim import agglomerative
    >>> data = np.repeat([[0.0, 5.0, 1.0]], [4, 3, 5], axis=1)  # 3 plateaus
    >>> agglomerative(data, 3)
    array([0, 4, 7])
    """
    validate_parameter_constraints(
        {"k": POSITIVE_INT, "clusterer": [HasMethods(["fit"]), None], "axis": AXIS},
        {"k": k, "clusterer": clusterer, "axis": axis},
        caller_name="agglomerative",
    )
    frames = frames_along(data, axis)
    return _cluster(frames, int(k), clusterer)


def _check_frames(frames, n_frames: int) -> np.ndarray:
    """librosa's ``util.fix_frames(frames, x_min=0, x_max=n_frames,
    pad=True)``: sorted unique boundaries, clipped, with 0 and the end."""
    frames = as_numbers(frames, "frames")
    if frames.ndim != 1 or frames.dtype.kind not in "iuf":
        raise ValueError("frames must be a 1-D array of frame indices.")
    if not np.all(np.isfinite(frames)) or np.any(frames != np.round(frames)):
        raise ValueError("frames must hold whole frame indices.")
    if np.any(frames < 0):
        raise ValueError("frames holds a negative frame index.")
    clipped = np.clip(frames, 0, n_frames).astype(np.int64)
    return np.unique(np.concatenate([[0, n_frames], clipped]))


@librosa_errors
def subsegment(data, frames, *, n_segments: int = 4, axis: int = -1) -> np.ndarray:
    """Sub-divide each interval of a segmentation by feature clustering.

    A drop-in for ``librosa.segment.subsegment`` (librosa 0.11): each
    interval between successive ``frames`` (with 0 and the end added) is
    cut into ``min(n_segments, its length)`` contiguous parts by
    :func:`agglomerative`.  A one-frame interval stays whole (librosa
    raises).

    Orientation: librosa's, frames along ``axis`` (the last by default).

    Parameters
    ----------
    data : array-like of shape (..., n_frames) (frames along ``axis``)
        The features to cluster.
    frames : array-like of int
        Segment or beat boundaries (frame indices >= 0; those past the end
        are clipped to it).
    n_segments : int >= 1, default=4
        The most parts each interval is cut into.
    axis : int, default=-1
        The frame axis.

    Returns
    -------
    boundaries : ndarray of int64
        The first frame of every part, in increasing order; ``frames``
        (within range) and 0 are among them.

    See Also
    --------
    agglomerative : the clustering of one interval.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim import subsegment
    >>> data = np.repeat([[0.0, 5.0, 1.0, 7.0]], [3, 3, 2, 2], axis=1)
    >>> subsegment(data, [6], n_segments=2)
    array([0, 3, 6, 8])
    """
    validate_parameter_constraints(
        {"n_segments": POSITIVE_INT, "axis": AXIS},
        {"n_segments": n_segments, "axis": axis},
        caller_name="subsegment",
    )
    rows = frames_along(data, axis)
    edges = _check_frames(frames, rows.shape[0])
    parts = [
        start + _cluster(rows[start:stop], min(stop - start, int(n_segments)), None)
        for start, stop in zip(edges[:-1], edges[1:], strict=True)
    ]
    if not parts:
        raise ValueError("data has no frames.")
    return np.concatenate(parts)
