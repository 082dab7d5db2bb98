"""Structure: time-lag filtering, Laplacian segmentation and its scores."""

from ._scores import (
    boundary_scores,
    entropy_scores,
    pairwise_scores,
    segmentation_scores,
)
from ._segmenter import LaplacianSegmentation
from ._timelag import timelag_filter

__all__ = [
    "LaplacianSegmentation",
    "boundary_scores",
    "entropy_scores",
    "pairwise_scores",
    "segmentation_scores",
    "timelag_filter",
]
