"""Structure: path enhancement and segmentation of similarity matrices."""

from ._enhance import path_enhance

__all__ = [
    "path_enhance",
]
