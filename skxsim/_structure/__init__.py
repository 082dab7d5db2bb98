"""Structure: path enhancement and segmentation of similarity matrices."""

from ._clustering import agglomerative, subsegment
from ._enhance import path_enhance
from ._transformer import PathEnhance

__all__ = [
    "PathEnhance",
    "agglomerative",
    "path_enhance",
    "subsegment",
]
