"""Structure: path enhancement, time-lag filtering, temporal clustering,
Laplacian segmentation and its scores."""

from ._clustering import agglomerative, subsegment
from ._enhance import path_enhance
from ._scores import (
    boundary_scores,
    entropy_scores,
    pairwise_scores,
    segmentation_scores,
)
from ._segmenter import LaplacianSegmentation
from ._timelag import timelag_filter
from ._transformer import PathEnhance

__all__ = [
    "LaplacianSegmentation",
    "PathEnhance",
    "agglomerative",
    "boundary_scores",
    "entropy_scores",
    "pairwise_scores",
    "path_enhance",
    "segmentation_scores",
    "subsegment",
    "timelag_filter",
]
