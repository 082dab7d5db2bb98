"""Structure: path enhancement, time-lag filtering, temporal clustering and
segmentation, the rest of ``librosa.segment`` on skxsim's engine.

Every name here is also importable from :mod:`skxsim`.
"""

from ._structure import PathEnhance, agglomerative, path_enhance, subsegment

__all__ = [
    "PathEnhance",
    "agglomerative",
    "path_enhance",
    "subsegment",
]
