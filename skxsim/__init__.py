"""skxsim: k-nearest-neighbour cross-similarity as a scikit-learn estimator.

Four workflows over one neighbour engine, in scikit-learn's orientation
(rows are frames) with librosa-compatible drop-ins:

- **Cross-similarity**: :class:`CrossSimilarity` (``fit`` indexes a
  reference sequence, ``transform`` gives each query frame's similarity to
  it, ``(n_queries, n_ref)``), :func:`cross_similarity` (a drop-in for
  ``librosa.segment.cross_similarity``: features by frames in,
  ``(n_ref, n)`` out) and :func:`transform_many` (batches through joblib,
  hence Dask).
- **Self-similarity**: :class:`RecurrenceMatrix` and
  :func:`recurrence_matrix` (drop-in for ``librosa.segment.recurrence_matrix``),
  with :func:`recurrence_to_lag` / :func:`lag_to_recurrence`.
- **Cover songs** (:mod:`skxsim.cover`): :class:`CoverSongIndex`, a catalogue
  of recordings ranked by cover-song similarity and scored by mean average
  precision; the pair-level :func:`cover_song_distance`,
  :func:`cross_recurrence`, :func:`qmax` / :func:`dmax` and the optimal
  transposition index.
- **Alignment and matching**: :class:`Aligner` and :func:`align` (dynamic
  time warping from end to end, memory linear in the lengths),
  :class:`Matcher` (where short queries sit in a long reference, through
  the fitted neighbour index) and :class:`ReferenceQuerySplit` (grid search
  on annotated alignments).
- **Structure**: :class:`LaplacianSegmentation` (sections of one recording:
  labels per frame, boundaries), :func:`timelag_filter` (librosa's
  drop-in) and mir_eval's segmentation scores (:func:`boundary_scores`,
  :func:`pairwise_scores`, :func:`entropy_scores`).
- Preprocessing: :class:`TimeDelayEmbedding`.  Data: :mod:`skxsim.datasets`;
  pictures: :mod:`skxsim.plot`; exceptions: :mod:`skxsim.exceptions`.
"""

from ._alignment import Aligner, Matcher, ReferenceQuerySplit, align
from ._cross_similarity import CrossSimilarity, cross_similarity, transform_many
from ._embedding import TimeDelayEmbedding
from ._recurrence import (
    RecurrenceMatrix,
    lag_to_recurrence,
    recurrence_matrix,
    recurrence_to_lag,
)
from ._structure import (
    LaplacianSegmentation,
    boundary_scores,
    entropy_scores,
    pairwise_scores,
    segmentation_scores,
    timelag_filter,
)
from ._version import __version__
from .cover import (
    CoverSongIndex,
    alignment_scores,
    cover_song_distance,
    cross_recurrence,
    dmax,
    global_chroma_profile,
    optimal_transposition_index,
    oti_binary_similarity,
    qmax,
    transpose_chroma,
)
from .exceptions import CacheWarning, OutputTooLargeError, SkxsimVersionWarning

__all__ = [
    "Aligner",
    "CacheWarning",
    "CoverSongIndex",
    "CrossSimilarity",
    "LaplacianSegmentation",
    "Matcher",
    "OutputTooLargeError",
    "RecurrenceMatrix",
    "ReferenceQuerySplit",
    "SkxsimVersionWarning",
    "TimeDelayEmbedding",
    "__version__",
    "align",
    "alignment_scores",
    "boundary_scores",
    "cover_song_distance",
    "cross_recurrence",
    "cross_similarity",
    "dmax",
    "entropy_scores",
    "global_chroma_profile",
    "lag_to_recurrence",
    "optimal_transposition_index",
    "oti_binary_similarity",
    "pairwise_scores",
    "qmax",
    "recurrence_matrix",
    "recurrence_to_lag",
    "segmentation_scores",
    "timelag_filter",
    "transform_many",
    "transpose_chroma",
]
