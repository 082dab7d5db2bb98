"""Cross-similarity: the estimator, librosa's drop-in and batches, on one core."""

from ._batch import transform_many
from ._estimator import CrossSimilarity
from ._function import cross_similarity

__all__ = ["CrossSimilarity", "cross_similarity", "transform_many"]
