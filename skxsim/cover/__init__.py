"""Cover-song identification on skxsim's engine.

The pipeline of Serrà et al. (2008, 2009), as essentia's
``ChromaCrossSimilarity`` and ``CoverSongSimilarity`` run it, for a pair of
chroma recordings (:func:`cover_song_distance`) or a query against a whole
catalogue (:class:`CoverSongIndex`, samples are recordings, scored by mean
average precision): key invariance by the optimal transposition index
(:func:`optimal_transposition_index`, :func:`transpose_chroma`), time-delay
embedding, binarisation by mutual nearest neighbours
(:func:`cross_recurrence`) or OTI-binary similarity
(:func:`oti_binary_similarity`), and local alignment scores (:func:`qmax`,
:func:`dmax`, the whole matrix :func:`score_matrix`), scored by
:func:`average_precision`.  :class:`CoverSongIndex` and
:func:`cover_song_distance` are also importable from :mod:`skxsim`.

Orientation: scikit-learn.  A recording is an ``(n_frames, n_bins)`` array,
frames as rows.
"""

from ._cross_recurrence import cross_recurrence
from ._distance import cover_song_distance
from ._estimator import CoverSongIndex
from ._evaluation import average_precision
from ._qmax import dmax, qmax, score_matrix
from ._transposition import (
    global_chroma_profile,
    optimal_transposition_index,
    oti_binary_similarity,
    transpose_chroma,
)

__all__ = [
    "CoverSongIndex",
    "score_matrix",
    "average_precision",
    "cover_song_distance",
    "cross_recurrence",
    "dmax",
    "global_chroma_profile",
    "optimal_transposition_index",
    "oti_binary_similarity",
    "qmax",
    "transpose_chroma",
]
