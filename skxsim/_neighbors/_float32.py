"""Frames as the float32 libraries (hnswlib, pynndescent) see them.

The approximate libraries search in float32.  Handed raw frames they fail
silently: at 1e30 float32 squares overflow, at 1e-30 they underflow, and
1000 + 1e-4 noise has no bits left (they found 1% of the true neighbours on
the first two, 24-70% on the last).  So frames reach them as values near 1
whatever their scale: unit vectors for cosine; otherwise divided by a power
of two near their peak (exact), centred on the reference's mean (every
other metric of theirs ignores a translation: features such as chroma sit
far from the origin) and divided by a power of two again.  Where even that
leaves float32 unable to tell the nearest frames apart,
:func:`warn_if_unresolved` says so.

The libraries only propose neighbours: distances are recomputed exactly from
the frames (``_approximate``), so this mapping changes which candidates are
found, never a returned value.  Orientation: scikit-learn (rows are frames).
"""

from __future__ import annotations

import warnings

import numpy as np

from ._scaling import pow2_peak, unit_rows

# A sample of reference frames checks the resolution, and float32 rounding
# within this factor of a frame's nearest distance makes it unresolved.
_SAMPLE_ROWS = 128
_RESOLUTION_FACTOR = 16


class Float32Frames:
    """The map of frames to the float32 values a library indexes, learned
    from the reference; calling it maps frames (a reference's or a query's).

    Parameters
    ----------
    reference : ndarray of shape (n_ref, n_features)
        Reference frames, rows are frames.
    metric : str
        The metric: ``"cosine"`` maps to unit vectors, the others (all
        translation invariant) are scaled and centred.
    """

    def __init__(self, reference: np.ndarray, metric: str) -> None:
        self.affine_ = None
        if metric != "cosine":
            first = pow2_peak(reference)
            scaled = np.asarray(reference, dtype=np.float64) / first
            center = scaled.mean(axis=0)
            scaled -= center
            self.affine_ = (first, center, pow2_peak(scaled))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Frames as the library sees them (float32; inf where a query frame
        lies far outside the reference's range)."""
        if self.affine_ is None:
            frames = unit_rows(X)
        else:
            first, center, second = self.affine_
            frames = np.asarray(X, dtype=np.float64) / first
            frames -= center
            frames /= second
        with np.errstate(over="ignore"):
            return frames.astype(np.float32)

    @property
    def unit(self) -> float:
        """Original units per unit of the mapped frames."""
        return 1.0 if self.affine_ is None else self.affine_[0] * self.affine_[2]


def warn_if_unresolved(exact, frames_map, frames, library: str) -> None:
    """Warn when float32 cannot tell apart the reference's nearest frames.

    On a sample of reference frames, the distance to the nearest other,
    distinct frame (from the ``exact`` index) is compared with how far
    float32 rounding moves a mapped frame, in the metric's units: within
    :data:`_RESOLUTION_FACTOR` of it for a tenth of the sample, the
    library's neighbours are mostly noise.
    """
    n_ref = exact.n_samples_fit_
    if n_ref < 2:
        return
    rows = np.linspace(0, n_ref - 1, min(n_ref, _SAMPLE_ROWS)).astype(np.intp)
    sample = np.unique(rows)
    k = min(n_ref - 1, 16)
    _, _, dist = exact.kneighbors_block(exact.reference_[sample], k, band=(sample, 1))
    dist = np.where(dist > 0, dist, np.inf).reshape(len(sample), k).min(axis=1)
    dist = dist[np.isfinite(dist)]
    if exact.metric == "sqeuclidean":
        dist = np.sqrt(dist)
    elif exact.metric == "cosine":
        dist = np.sqrt(2 * dist)  # the chord between unit vectors
    size = float(np.max(np.linalg.norm(frames.astype(np.float64), axis=1)))
    resolution = 2.0**-24 * size * frames_map.unit * _RESOLUTION_FACTOR
    if dist.size and np.mean(dist < resolution) > 0.1:
        warnings.warn(
            f"float32, in which {library} searches, cannot resolve the nearest "
            "frames of this reference (their distances are within about "
            f"{resolution:.1e} of float32's rounding, even centred and scaled): "
            "the approximate neighbours will be mostly wrong. Use an exact "
            "algorithm.",
            UserWarning,
            stacklevel=4,
        )
