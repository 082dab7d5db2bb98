"""Structure: time-lag filtering, Laplacian segmentation and its scores."""

from ._timelag import timelag_filter

__all__ = [
    "timelag_filter",
]
