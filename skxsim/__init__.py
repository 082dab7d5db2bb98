"""skxsim: k-nearest-neighbour cross-similarity as a scikit-learn estimator.

Two faces over one engine:

- :class:`CrossSimilarity`, scikit-learn orientation (rows are frames):
  ``fit`` indexes a reference sequence, ``transform`` gives the
  cross-similarity ``(n_queries, n_ref)`` of query frames to it.
- :func:`cross_similarity`, a drop-in for
  ``librosa.segment.cross_similarity`` (librosa orientation: features by
  frames in, ``(n_ref, n)`` out).
- Self-similarity on the same engine: :class:`RecurrenceMatrix` and
  :func:`recurrence_matrix` (drop-in for ``librosa.segment.recurrence_matrix``),
  with :func:`recurrence_to_lag` / :func:`lag_to_recurrence`.
- Alignment on the same frames: :class:`Aligner` and :func:`align`
  (dynamic time warping, linear in the lengths).
"""

from ._alignment import Aligner, Matcher, ReferenceQuerySplit, align
from ._batch import transform_many
from ._cache import CacheWarning
from ._cover import CoverSongIndex, cover_song_distance
from ._cross_recurrence import cross_recurrence
from ._embedding import TimeDelayEmbedding
from ._errors import OutputTooLargeError
from ._estimator import CrossSimilarity
from ._function import cross_similarity
from ._lag import lag_to_recurrence, recurrence_to_lag
from ._qmax import alignment_scores, dmax, qmax
from ._recurrence_estimator import RecurrenceMatrix
from ._recurrence_function import recurrence_matrix
from ._transposition import (
    global_chroma_profile,
    optimal_transposition_index,
    oti_binary_similarity,
    transpose_chroma,
)
from ._version import __version__
from ._versioned import SkxsimVersionWarning

__all__ = [
    "Aligner",
    "CacheWarning",
    "CoverSongIndex",
    "CrossSimilarity",
    "Matcher",
    "OutputTooLargeError",
    "RecurrenceMatrix",
    "ReferenceQuerySplit",
    "SkxsimVersionWarning",
    "TimeDelayEmbedding",
    "__version__",
    "align",
    "alignment_scores",
    "cover_song_distance",
    "cross_recurrence",
    "cross_similarity",
    "dmax",
    "global_chroma_profile",
    "lag_to_recurrence",
    "optimal_transposition_index",
    "oti_binary_similarity",
    "qmax",
    "recurrence_matrix",
    "recurrence_to_lag",
    "transform_many",
    "transpose_chroma",
]
