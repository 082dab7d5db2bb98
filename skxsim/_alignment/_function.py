"""``align``: the function face of :class:`Aligner`."""

from __future__ import annotations

from sklearn.utils._param_validation import validate_parameter_constraints

from ._aligner import ALIGN_CONSTRAINTS, DEFAULT_BUDGET, Aligner
from ._frames import check_sequence


def align(
    query,
    reference,
    *,
    metric: str = "chord",
    step_weights=(1.0, 1.5, 1.5),
    subseq: bool = False,
    radius: int = 16,
    coarse_frames: int = 2000,
    budget: int | None = DEFAULT_BUDGET,
    return_info: bool = False,
):
    """Align a query sequence to a reference sequence by dynamic time warping.

    The optimal monotone path from the first frames of both to their last
    frames (steps (1, 0), (0, 1), (1, 1)), proven optimal (see
    :class:`Aligner`, whose ``align`` this is).  Orientation: scikit-learn,
    rows are frames.

    Parameters
    ----------
    query : array-like of shape (n, n_features)
        Query frames (librosa's ``X`` transposed), at least 2.
    reference : array-like of shape (n_ref, n_features)
        Reference frames (librosa's ``Y`` transposed), at least 2.
    metric : {"chord", "cosine", "euclidean", "sqeuclidean"}, default="chord"
        Local cost (see :class:`Aligner`); chord is the euclidean distance
        between unit vectors, a zero frame at cosine distance 1 from every
        frame.
    step_weights : array-like of 3 floats > 0, default=(1.0, 1.5, 1.5)
        librosa's ``weights_mul``: multipliers of the steps (1, 1), (0, 1),
        (1, 0) in (query, reference) order.
    subseq : bool, default=False
        librosa's ``subseq=True``: free start and end in the reference.
    radius : int >= 1, default=16
        Band half-width around the projected coarser paths, per level.
    coarse_frames : int >= 2, default=2000
        Length below which a sequence is not pooled; pairs this short are
        aligned by exact full DTW.
    budget : int >= 1 or None, default=200_000_000
        Most cells the exact search that proves the optimum may explore
        (two bits each, :class:`Aligner`); beyond it, the best path found with an
        :class:`~skxsim.exceptions.AlignmentWarning` stating the proven
        bound, or, where the proof was predicted (from the sequences pooled)
        to need more than 1.5 times ``budget`` and not attempted, the
        prediction.  ``None``: no limit, no prediction.
    return_info : bool, default=False
        Also return what was proven (:meth:`Aligner.align`).

    Returns
    -------
    path : ndarray of shape (n_steps, 2), int64
        ``(query frame, reference frame)`` pairs from ``(0, 0)`` to
        ``(n - 1, n_ref - 1)``: librosa's ``wp[::-1]`` (subsequence: from
        the first query frame to the last, anywhere in the reference).
    cost : float
        Accumulated cost: librosa's ``D[-1, -1]`` (subsequence: the
        smallest ``D[-1, :]``).
    info : dict
        Only with ``return_info``: ``optimal``, ``gap``, ``lower_bound``,
        ``explored_cells``, ``predicted_cells``, ``cells``
        (:meth:`Aligner.align`).

    See Also
    --------
    Aligner : the estimator: fit a reference once, align many queries.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim import align
    >>> reference = np.eye(3)[[0, 1, 2, 0]]      # 4 frames
    >>> query = np.eye(3)[[0, 0, 1, 2, 2, 0]]    # the same, with holds
    >>> path, cost = align(query, reference)
    >>> path.tolist()
    [[0, 0], [1, 0], [2, 1], [3, 2], [4, 2], [5, 3]]
    >>> cost
    0.0
    >>> path, cost = align(np.eye(3)[[1, 2]], reference, subseq=True)
    >>> path.tolist(), cost
    ([[0, 1], [1, 2]], 0.0)
    """
    params = {
        "metric": metric,
        "step_weights": step_weights,
        "radius": radius,
        "coarse_frames": coarse_frames,
        "budget": budget,
    }
    # Named here, as this function's: the aligner would say "Aligner", "the
    # query X" and "the reference X".
    validate_parameter_constraints(
        {**Aligner._parameter_constraints, **ALIGN_CONSTRAINTS},
        {**params, "subseq": subseq, "return_info": return_info},
        caller_name="align",
    )
    reference = check_sequence(reference, "reference")
    query = check_sequence(query, "query", reference.shape[1])
    aligner = Aligner(**params)
    return aligner.fit(reference).align(query, subseq=subseq, return_info=return_info)
