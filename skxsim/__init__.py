"""skxsim: k-nearest-neighbour cross-similarity as a scikit-learn estimator.

Five workflows over one neighbour engine, in scikit-learn's orientation
(rows are frames) with librosa-compatible drop-ins:

- **Cross-similarity**: :class:`CrossSimilarity` (``fit`` indexes a
  reference sequence, ``transform`` gives each query frame's similarity to
  it, ``(n_queries, n_ref)``), :func:`cross_similarity` (a drop-in for
  ``librosa.segment.cross_similarity``: features by frames in,
  ``(n_ref, n)`` out) and :func:`transform_many` (batches through joblib,
  hence Dask).
- **Self-similarity** (:mod:`skxsim.recurrence`): :class:`RecurrenceMatrix`
  and :func:`recurrence_matrix` (drop-in for
  ``librosa.segment.recurrence_matrix``); the lag views there.
- **Cover songs** (:mod:`skxsim.cover`): :class:`CoverSongIndex`, a catalogue
  of recordings ranked by cover-song similarity and scored by mean average
  precision, and the pair-level :func:`cover_song_distance`; the pipeline's
  steps (cross-recurrence, Qmax / Dmax, the optimal transposition index,
  average precision) there.
- **Alignment and matching** (:mod:`skxsim.alignment`): :class:`Aligner`
  and :func:`align` (dynamic time warping from end to end, memory linear
  in the lengths), :class:`Matcher` (where short queries sit in a long
  reference, through the fitted neighbour index) and
  :class:`ReferenceQuerySplit` (grid search on annotated alignments).
- **Structure** (:mod:`skxsim.structure`): :func:`path_enhance` and
  :class:`PathEnhance` (multi-angle smoothing that makes repeated paths
  stand out), :func:`agglomerative` and :func:`subsegment` (drop-ins for
  ``librosa.segment``'s temporal clustering), :class:`LaplacianSegmentation`
  (sections of one recording: labels per frame, boundaries),
  :func:`timelag_filter`; mir_eval's segmentation scores there.
- Preprocessing: :class:`TimeDelayEmbedding`.  Data: :mod:`skxsim.datasets`;
  pictures: :mod:`skxsim.plot`; exceptions: :mod:`skxsim.exceptions`.
"""

from . import alignment as alignment  # the namespaces, as attributes
from . import recurrence as recurrence
from . import structure as structure
from ._alignment import Aligner, Matcher, ReferenceQuerySplit, align
from ._cross_similarity import CrossSimilarity, cross_similarity, transform_many
from ._embedding import TimeDelayEmbedding
from ._recurrence import RecurrenceMatrix, recurrence_matrix
from ._structure import (
    LaplacianSegmentation,
    PathEnhance,
    agglomerative,
    path_enhance,
    subsegment,
    timelag_filter,
)
from ._version import __version__
from .cover import CoverSongIndex, cover_song_distance
from .exceptions import CacheWarning, OutputTooLargeError, SkxsimVersionWarning

__all__ = [
    "Aligner",
    "CacheWarning",
    "CoverSongIndex",
    "CrossSimilarity",
    "LaplacianSegmentation",
    "Matcher",
    "OutputTooLargeError",
    "PathEnhance",
    "RecurrenceMatrix",
    "ReferenceQuerySplit",
    "SkxsimVersionWarning",
    "TimeDelayEmbedding",
    "__version__",
    "agglomerative",
    "align",
    "cover_song_distance",
    "cross_similarity",
    "path_enhance",
    "recurrence_matrix",
    "subsegment",
    "timelag_filter",
    "transform_many",
]
