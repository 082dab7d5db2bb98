"""Segmentation scores on per-frame labels, as mir_eval defines them.

mir_eval scores intervals in seconds; a segmentation here is a label per
frame, and ``frame_duration`` (seconds per frame) gives the times.  For the
intervals that such labels describe (segment ``[start, stop)`` frames, times
``start * frame_duration``), the values are mir_eval's
``segment.detection``, ``segment.pairwise`` (``frame_size=frame_duration``)
and ``segment.nce``.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_bipartite_matching
from scipy.stats import entropy
from sklearn.metrics.cluster import contingency_matrix, mutual_info_score
from sklearn.utils._param_validation import validate_params

from .._validation import Number
from ._laplacian import segment_starts


def _check_labels(labels_true, labels_pred):
    labels_true, labels_pred = np.asarray(labels_true), np.asarray(labels_pred)
    for name, labels in (("labels_true", labels_true), ("labels_pred", labels_pred)):
        if labels.ndim != 1 or labels.shape[0] == 0:
            raise ValueError(
                f"{name} must be a non-empty 1-d array of labels, one per "
                f"frame; got shape {labels.shape}."
            )
    if labels_true.shape != labels_pred.shape:
        raise ValueError(
            "labels_true and labels_pred must label the same frames; got "
            f"{labels_true.shape[0]} and {labels_pred.shape[0]} frames."
        )
    _, true = np.unique(labels_true, return_inverse=True)
    _, pred = np.unique(labels_pred, return_inverse=True)
    return true.ravel(), pred.ravel()


def _f_measure(precision: float, recall: float, beta: float) -> float:
    if precision == 0 and recall == 0:
        return 0.0
    return (1 + beta**2) * precision * recall / (beta**2 * precision + recall)


def labels_to_intervals(labels, frame_duration: float = 1.0):
    """``(intervals, segment_labels)`` of per-frame labels, mir_eval style.

    Each run of one label is a segment ``[start, stop) * frame_duration``
    seconds; ``intervals`` has shape ``(n_segments, 2)``.
    """
    labels = np.asarray(labels)
    starts = segment_starts(labels)
    edges = np.append(starts, len(labels)) * float(frame_duration)
    return np.column_stack([edges[:-1], edges[1:]]), labels[starts]


_BETA = [Number(Real, 0, None, closed="neither")]


@validate_params(
    {
        "labels_true": ["array-like"],
        "labels_pred": ["array-like"],
        "frame_duration": [Number(Real, 0, None, closed="neither")],
        "window": [Number(Real, 0, None, closed="left")],
        "trim": ["boolean"],
        "beta": _BETA,
    },
    prefer_skip_nested_validation=True,
)
def boundary_scores(
    labels_true,
    labels_pred,
    *,
    frame_duration: float = 1.0,
    window: float = 0.5,
    trim: bool = False,
    beta: float = 1.0,
):
    """Boundary hit rate: precision, recall and F-measure within a window.

    mir_eval's ``segment.detection``: the boundaries are the segment starts
    and the end of the last segment, in seconds; an estimated boundary hits
    a reference boundary at most ``window`` seconds away, each matched at
    most once (a maximum bipartite matching).

    Parameters
    ----------
    labels_true, labels_pred : array-like of shape (n_frames,)
        The reference and the estimated label of every frame.
    frame_duration : float > 0, default=1.0
        Seconds per frame (``hop_length / sr`` for audio frames).
    window : float >= 0, default=0.5
        Seconds; 0.5 and 3.0 are the usual windows.
    trim : bool, default=False
        Ignore the first and the last boundary (start and end of the
        sequence, which always hit).
    beta : float > 0, default=1.0
        Weight of recall in the F-measure.

    Returns
    -------
    precision, recall, f_measure : float
        0.0 each when either side has no boundary (after ``trim``).

    See Also
    --------
    pairwise_scores : frame-clustering agreement, boundaries aside.

    Examples
    --------
    >>> from skxsim.structure import boundary_scores
    >>> truth = [0, 0, 0, 0, 1, 1, 1, 1, 0, 0]
    >>> guess = [0, 0, 0, 1, 1, 1, 1, 1, 1, 0]
    >>> boundary_scores(truth, guess, frame_duration=0.5, window=0.5, trim=True)
    (1.0, 1.0, 1.0)
    >>> boundary_scores(truth, guess, frame_duration=0.5, window=0.25, trim=True)
    (0.0, 0.0, 0.0)
    >>> boundary_scores(truth, guess, frame_duration=0.5, window=0.25)  # + ends
    (0.5, 0.5, 0.5)
    """
    true, pred = _check_labels(labels_true, labels_pred)
    n = len(true)
    reference = np.append(segment_starts(true), n) * float(frame_duration)
    estimated = np.append(segment_starts(pred), n) * float(frame_duration)
    if trim:
        reference, estimated = reference[1:-1], estimated[1:-1]
    if len(reference) == 0 or len(estimated) == 0:
        return 0.0, 0.0, 0.0
    hits = sp.csr_matrix(np.abs(reference[:, None] - estimated[None, :]) <= window)
    n_matched = int(np.count_nonzero(maximum_bipartite_matching(hits) >= 0))
    precision = n_matched / len(estimated)
    recall = n_matched / len(reference)
    return precision, recall, _f_measure(precision, recall, float(beta))


@validate_params(
    {"labels_true": ["array-like"], "labels_pred": ["array-like"], "beta": _BETA},
    prefer_skip_nested_validation=True,
)
def pairwise_scores(labels_true, labels_pred, *, beta: float = 1.0):
    """Pairwise frame-clustering precision, recall and F-measure.

    mir_eval's ``segment.pairwise`` on frames: precision is the fraction of
    the pairs of frames labelled alike in ``labels_pred`` that are alike in
    ``labels_true``, recall the converse.  Label names do not matter, only
    which frames share one.

    Parameters
    ----------
    labels_true, labels_pred : array-like of shape (n_frames,)
        The reference and the estimated label of every frame.
    beta : float > 0, default=1.0
        Weight of recall in the F-measure.

    Returns
    -------
    precision, recall, f_measure : float
        A side with no pair of like frames (every label distinct) gives 0
        where mir_eval gives NaN.

    See Also
    --------
    boundary_scores, entropy_scores

    Examples
    --------
    >>> from skxsim.structure import pairwise_scores
    >>> pairwise_scores(["a", "a", "b", "b"], [1, 1, 1, 2])
    (0.3333333333333333, 0.5, 0.4)
    """
    true, pred = _check_labels(labels_true, labels_pred)
    table = contingency_matrix(true, pred, sparse=True).data.astype(np.float64)
    same_both = np.sum(table * (table - 1)) / 2
    same_true = _pairs(np.bincount(true))
    same_pred = _pairs(np.bincount(pred))
    precision = float(same_both / same_pred) if same_pred else 0.0
    recall = float(same_both / same_true) if same_true else 0.0
    return precision, recall, _f_measure(precision, recall, float(beta))


def _pairs(counts: np.ndarray) -> float:
    counts = counts.astype(np.float64)
    return float(np.sum(counts * (counts - 1)) / 2)


@validate_params(
    {"labels_true": ["array-like"], "labels_pred": ["array-like"], "beta": _BETA},
    prefer_skip_nested_validation=True,
)
def entropy_scores(labels_true, labels_pred, *, beta: float = 1.0):
    """Normalised conditional entropies: over-, under-segmentation and F.

    mir_eval's ``segment.nce`` (``marginal=False``) on frames:
    ``over = 1 - H(pred | true) / log2(n_pred_labels)`` (low when the
    estimate splits reference sections), ``under = 1 - H(true | pred) /
    log2(n_true_labels)`` (low when it merges them); a single label on the
    normalising side scores 0.

    Parameters
    ----------
    labels_true, labels_pred : array-like of shape (n_frames,)
        The reference and the estimated label of every frame.
    beta : float > 0, default=1.0
        Weight of under-segmentation in the F-measure.

    Returns
    -------
    over, under, f_measure : float

    Examples
    --------
    >>> from skxsim.structure import entropy_scores
    >>> entropy_scores([0, 0, 1, 1], [0, 0, 1, 1])
    (1.0, 1.0, 1.0)
    """
    true, pred = _check_labels(labels_true, labels_pred)
    information = mutual_info_score(true, pred) / np.log(2)
    h_true = entropy(np.bincount(true), base=2)
    h_pred = entropy(np.bincount(pred), base=2)
    n_true, n_pred = true.max() + 1, pred.max() + 1
    under = 1.0 - (h_true - information) / np.log2(n_true) if n_true > 1 else 0.0
    over = 1.0 - (h_pred - information) / np.log2(n_pred) if n_pred > 1 else 0.0
    over, under = float(over), float(under)
    return over, under, _f_measure(over, under, float(beta))


@validate_params(
    {
        "labels_true": ["array-like"],
        "labels_pred": ["array-like"],
        "frame_duration": _BETA,
    },
    prefer_skip_nested_validation=True,
)
def segmentation_scores(labels_true, labels_pred, *, frame_duration: float = 1.0):
    """The usual report: boundary F at 0.5 s and 3 s, pairwise and entropy F.

    Parameters
    ----------
    labels_true, labels_pred : array-like of shape (n_frames,)
        The reference and the estimated label of every frame.
    frame_duration : float > 0, default=1.0
        Seconds per frame.

    Returns
    -------
    scores : dict
        ``"boundary_f_0.5"``, ``"boundary_f_3"`` (untrimmed, mir_eval's
        default, and ``..._trim`` without the start and end), ``"pairwise_f"``
        and ``"entropy_f"``.

    Examples
    --------
    >>> from skxsim.structure import segmentation_scores
    >>> segmentation_scores([0, 0, 1, 1], [0, 0, 1, 1])["pairwise_f"]
    1.0
    """
    scores = {}
    for window in (0.5, 3):
        for trim in (False, True):
            name = f"boundary_f_{window}" + ("_trim" if trim else "")
            scores[name] = boundary_scores(
                labels_true,
                labels_pred,
                frame_duration=frame_duration,
                window=window,
                trim=trim,
            )[2]
    scores["pairwise_f"] = pairwise_scores(labels_true, labels_pred)[2]
    scores["entropy_f"] = entropy_scores(labels_true, labels_pred)[2]
    return scores
