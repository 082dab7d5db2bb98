"""Key invariance for chroma: the optimal transposition index (OTI).

A transposed performance of a piece has its chroma rotated: every pitch
class moves by the same number of bins.  The OTI of Serrà, Gómez and Herrera
(2008) is the rotation that best aligns the *global* chroma profiles of two
recordings, so it is a property of a pair of whole sequences, never of a
single frame: it lives here and in the pair-level and catalogue functions of
:mod:`skxsim.cover`, not in the row-level :class:`~skxsim.CrossSimilarity`.

Orientation: scikit-learn (rows are frames, columns chroma bins).
"""

from __future__ import annotations

import numpy as np
from sklearn.utils._param_validation import validate_params

from .._neighbors import pow2_scale
from .._output_size import check_output_size
from .._validation import INT, N_BINS, N_SHIFTS, check_pair, check_recording
from ._silence import sounding

__all__ = [
    "global_chroma_profile",
    "optimal_transposition_index",
    "oti_binary_similarity",
    "transpose_chroma",
]


def global_chroma_profile(chroma) -> np.ndarray:
    """The global chroma profile of a sequence: its frames summed, max-scaled.

    Parameters
    ----------
    chroma : array-like of shape (n_frames, n_bins)
        Chroma frames as rows.

    Returns
    -------
    profile : ndarray of shape (n_bins,)
        ``chroma.sum(axis=0)`` divided by its maximum, as essentia's
        ``ChromaCrossSimilarity`` computes it (by its largest absolute value
        for features with negative sums; left as is when all are 0).

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim.cover import global_chroma_profile
    >>> global_chroma_profile([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    array([1. , 0.5, 0. ])
    """
    chroma = check_recording(chroma, "chroma")
    return profiles(chroma[None])[0]


def _scaled(X):
    """``X`` divided by a power of two if its values are beyond 2**+-400."""
    scale = pow2_scale(X)
    return np.asarray(X) if scale == 1.0 else np.asarray(X) / scale


def profiles(sequences) -> np.ndarray:
    """Max-scaled global profiles, one row per sequence.

    Scaled by the largest absolute value, the maximum for chroma: a
    negative peak (features that are not chroma) would flip the profile's
    sign and turn the OTI's best rotation into its worst.  A sequence of
    extreme values is summed divided by a power of two: the sum of frames
    near 1e308 would overflow, and the scaling cancels the (exact) division.
    """
    sums = np.stack([_scaled(s).sum(axis=0, dtype=np.float64) for s in sequences])
    peak = np.abs(sums).max(axis=1, keepdims=True)
    return sums / np.where(peak == 0, 1, peak)


def _candidate_shifts(n_shifts: int, n_bins: int) -> np.ndarray:
    """Query rotations tried, in essentia's order (its ties go to the first).

    essentia rotates the *reference* up by ``i = 0, 1, ..., noti`` bins and
    keeps the first best ``i``; rotating the query by ``-i`` instead gives the
    same comparison with the reference left alone.
    """
    return (-np.arange(n_shifts + 1)) % n_bins


def best_shifts(query_profile, reference_profiles, n_shifts: int) -> np.ndarray:
    """OTI of one query profile to each of many reference profiles."""
    n_bins = query_profile.shape[0]
    shifts = _candidate_shifts(n_shifts, n_bins)
    # Row s of `rolled` is the query profile rotated by shifts[s].
    rolled = np.stack([np.roll(query_profile, s) for s in shifts])
    scores = rolled @ np.asarray(reference_profiles).T  # (n_shifts + 1, n_refs)
    return shifts[np.argmax(scores, axis=0)]


@validate_params(
    {
        "query": ["array-like"],
        "reference": ["array-like"],
        "n_shifts": N_SHIFTS,
    },
    prefer_skip_nested_validation=True,
)
def optimal_transposition_index(query, reference, *, n_shifts: int = 12) -> int:
    """The rotation of the query's chroma that best matches the reference's key.

    The OTI of Serrà, Gómez and Herrera (2008): the circular shift ``s`` that
    maximises the dot product of the query's global profile, rotated by
    ``s`` bins, with the reference's global profile
    (:func:`global_chroma_profile`).  ``transpose_chroma(query, s)`` is then
    the query in the reference's key.

    Parameters
    ----------
    query : array-like of shape (n_frames, n_bins)
        Query chroma, frames as rows.
    reference : array-like of shape (n_frames_ref, n_bins)
        Reference chroma, frames as rows.
    n_shifts : int, default=12
        essentia's ``noti``: the rotations tried are ``0, -1, ..., -n_shifts``
        bins (modulo ``n_bins``), i.e. the query moved down by up to
        ``n_shifts`` bins, which for 12-bin chroma covers every key.  Among
        equally good rotations the first in that order wins, as in essentia.

    Returns
    -------
    oti : int
        The shift in ``[0, n_bins)``: ``np.roll(query, oti, axis=1)`` is the
        transposed query.  essentia reports the opposite rotation (it moves
        the reference up by ``(-oti) % n_bins``); the distances between the
        two transposed sequences are the same.

    See Also
    --------
    transpose_chroma : apply the shift.
    cover_song_distance : the whole pair-level pipeline, OTI included.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim.cover import optimal_transposition_index, transpose_chroma
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.random((40, 12))
    >>> query = np.roll(reference, 3, axis=1)  # three semitones up
    >>> optimal_transposition_index(query, reference)
    9
    >>> bool(np.allclose(transpose_chroma(query, 9), reference))
    True
    """
    query, reference = check_pair(query, reference, "chroma bins")
    both = profiles([query, reference])
    return int(best_shifts(both[0], both[1:], n_shifts)[0])


@validate_params(
    {"chroma": ["array-like"], "shift": INT, "n_bins": N_BINS},
    prefer_skip_nested_validation=True,
)
def transpose_chroma(chroma, shift: int, *, n_bins: int | None = None) -> np.ndarray:
    """Rotate every frame's chroma by ``shift`` bins.

    Parameters
    ----------
    chroma : array-like of shape (n_frames, n_features)
        Chroma frames as rows.  With ``n_bins`` smaller than ``n_features``
        each frame is a stack of ``n_features // n_bins`` chroma vectors
        (as :class:`TimeDelayEmbedding` makes) and each is rotated on its own.
    shift : int
        Bins to move up (``np.roll`` direction); negative moves down.
    n_bins : int or None, default=None
        Bins per chroma vector; ``None`` means ``n_features``.

    Returns
    -------
    transposed : ndarray of shape (n_frames, n_features)

    Examples
    --------
    >>> from skxsim.cover import transpose_chroma
    >>> transpose_chroma([[1.0, 0.0, 0.0, 0.5]], 1)
    array([[0.5, 1. , 0. , 0. ]])
    >>> transpose_chroma([[1.0, 0.0, 0.0, 0.5]], 1, n_bins=2)
    array([[0. , 1. , 0.5, 0. ]])
    """
    chroma = check_recording(chroma, "chroma")
    n_bins = chroma.shape[1] if n_bins is None else int(n_bins)
    return rotate_blocks(chroma, int(shift), n_bins)


def rotate_blocks(X: np.ndarray, shift: int, n_bins: int) -> np.ndarray:
    n_frames, n_features = X.shape
    if n_features % n_bins:
        raise ValueError(
            f"n_features={n_features} is not a multiple of n_bins={n_bins}."
        )
    if shift % n_bins == 0:
        return X
    blocks = X.reshape(n_frames, n_features // n_bins, n_bins)
    return np.roll(blocks, shift, axis=2).reshape(n_frames, n_features)


def oti_binary(query: np.ndarray, reference: np.ndarray, n_bins: int, n_shifts: int):
    """Boolean (n_query, n_ref): is each frame pair's own OTI 0 or 1?

    A pair with a silent frame is not (``_silence``): its dot products are 0
    under every rotation, which would read as "best at rotation 0".
    """
    # The dot products of frames near 1e200 overflow, near 1e-200 they
    # underflow to ties: each side is divided by a power of two (exact, and
    # the same for every rotation of a pair, so no comparison changes).
    query, reference = _scaled(query), _scaled(reference)
    shifts = np.arange(n_shifts + 1)
    # Dot products of every pair under reference rotations 0, 1, ..., n_shifts;
    # the pair matches when the first best rotation is 0 or 1 (essentia's
    # argmax keeps the first of equal values).
    best_near = None
    best_far = None
    for i in shifts:
        scores = query @ rotate_blocks(reference, int(i), n_bins).T
        if i <= 1:
            best_near = scores if best_near is None else np.maximum(best_near, scores)
        else:
            best_far = scores if best_far is None else np.maximum(best_far, scores)
    similar = np.ones(best_near.shape, dtype=bool)
    if best_far is not None:
        similar = best_near >= best_far
    similar &= sounding(query)[:, None]
    similar &= sounding(reference)[None, :]
    return similar


@validate_params(
    {
        "query": ["array-like"],
        "reference": ["array-like"],
        "n_bins": N_BINS,
        "n_shifts": N_SHIFTS,
    },
    prefer_skip_nested_validation=True,
)
def oti_binary_similarity(
    query, reference, *, n_bins: int | None = 12, n_shifts: int = 12
) -> np.ndarray:
    """essentia's OTI-based binary similarity of every pair of frames.

    Serrà et al. (2008): frames ``i`` of the query and ``j`` of the reference
    are similar when their own OTI is 0 or 1, i.e. when rotating reference
    frame ``j`` up by 0 or 1 bins matches query frame ``i`` at least as well
    as any larger rotation up to ``n_shifts`` (the first best rotation
    wins, as in essentia's ``ChromaCrossSimilarity(otiBinary=True)``).

    Parameters
    ----------
    query : array-like of shape (n, n_features)
        Query frames as rows: chroma, or stacks of chroma vectors.
    reference : array-like of shape (n_ref, n_features)
        Reference frames as rows.
    n_bins : int or None, default=12
        Bins per chroma vector.  Each chroma vector of a stacked frame is
        rotated on its own; ``None`` rotates the whole frame (essentia's
        behaviour, which for stacked frames moves bins into the neighbouring
        frame's vector).
    n_shifts : int, default=12
        essentia's ``noti``: rotations ``0, 1, ..., n_shifts`` are compared.

    Returns
    -------
    similarity : ndarray of shape (n, n_ref), bool
        False wherever either frame is silent (all zeros): silence matches
        nothing.  essentia marks those pairs True (every rotation scores 0,
        a tie its argmax gives to rotation 0).

    See Also
    --------
    cross_recurrence : the mutual nearest-neighbour binarisation.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim.cover import oti_binary_similarity
    >>> frames = np.eye(12)[[0, 4, 7]]           # C, E and G
    >>> oti_binary_similarity(frames, frames).astype(int)
    array([[1, 0, 0],
           [0, 1, 0],
           [0, 0, 1]])
    """
    query, reference = check_pair(query, reference)
    n_bins = query.shape[1] if n_bins is None else int(n_bins)
    if query.shape[1] % n_bins:
        raise ValueError(
            f"n_features={query.shape[1]} is not a multiple of n_bins={n_bins}."
        )
    # Three score matrices (this rotation's, the best near and far) and the
    # boolean output, for every pair at once.
    check_output_size(
        len(query) * len(reference) * (3 * np.dtype(np.float64).itemsize + 1),
        f"the OTI-binary similarity of {len(query)} x {len(reference)} frames",
        "Compare shorter sequences, or use CoverSongIndex, which scores a "
        "catalogue in blocks of scikit-learn's working_memory.",
    )
    return oti_binary(query, reference, n_bins, n_shifts)
