"""The cover-song dissimilarity of one pair of recordings."""

from __future__ import annotations

from .._validation import check_pair
from ._estimator import CoverSongIndex
from ._silence import check_sound


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
        ``sqrt(n_ref) / score``, ``n_ref`` the reference's number of sounding
        stacks (silent ones match nothing and do not count); ``inf`` when
        nothing aligns.  Smaller is more likely a cover.

    Raises
    ------
    ValueError
        If a recording has no sound (every frame 0), or a parameter is not
        one of :class:`CoverSongIndex`'s.

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
    unknown = sorted(set(params) - set(CoverSongIndex().get_params()))
    if unknown:
        raise ValueError(
            f"{unknown} are not parameters of the cover-song pipeline; it "
            f"takes {sorted(CoverSongIndex().get_params())}."
        )
    query, reference = check_pair(query, reference)
    check_sound(query, "query")
    check_sound(reference, "reference")
    index = CoverSongIndex(**params).fit([reference])
    return float(index._dissimilarities(index._check_queries([query]))[0, 0])
