"""Structure: path enhancement, time-lag filtering, temporal clustering,
Laplacian segmentation and the segmentation scores MIR papers report, the
rest of ``librosa.segment`` on skxsim's engine.

The estimators and librosa drop-ins are also importable from :mod:`skxsim`;
the scores live here.
"""

from ._structure import (
    LaplacianSegmentation,
    PathEnhance,
    agglomerative,
    boundary_scores,
    entropy_scores,
    pairwise_scores,
    path_enhance,
    segmentation_scores,
    subsegment,
    timelag_filter,
)

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
