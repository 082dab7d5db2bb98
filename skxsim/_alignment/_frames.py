"""Frames for the DTW kernel: validation, the metric codes, the pyramid.

The DTW parameters the aligner and the matcher share are declared here
once (:data:`DTW_CONSTRAINTS`, on the package's rule for numbers).  A
sequence is validated once (2-d, at least two frames, finite), cast to
float64 (so float32 input gives exactly the result of its float64 cast),
and pooled by 2 per level, mean of consecutive frame pairs, until it has at
most ``coarse_frames`` frames.  Every level is *prepared* for the kernel:
for cosine and chord, frames are divided by their norms after pooling, so a
coarse frame is the direction of the mean of its fine frames.

Orientation: scikit-learn, rows are frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import StrOptions

from .. import _validation
from .._constraints import Number, Numbers
from .._neighbors import pow2_peak, pow2_scale, unit_factors

# The metrics the kernel computes, and their codes there.
METRIC_CODES = {"sqeuclidean": 0, "euclidean": 1, "cosine": 2, "chord": 3}
METRICS = tuple(METRIC_CODES)

# Three finite weights > 0: (diagonal, reference step, query step).
STEP_WEIGHTS = [
    Numbers(
        3,
        Number(Real, 0, np.finfo(np.float64).max, closed="right"),
        "three finite numbers > 0, the weights of the steps (1, 1), (0, 1) "
        "and (1, 0) in (query, reference) order (librosa's weights_mul)",
    )
]
# A band wider than the sequences is the full matrix (``band_radius`` clips
# it to their lengths at use); the bound keeps the value an int64.
RADIUS = [Number(Integral, 1, np.iinfo(np.int64).max, closed="both")]
# The parameters the aligner and the matcher share.
DTW_CONSTRAINTS: dict = {
    "metric": [StrOptions(set(METRICS))],
    "step_weights": STEP_WEIGHTS,
    "radius": RADIUS,
    "coarse_frames": [Number(Integral, 2, None, closed="left")],
}


@dataclass
class Level:
    """One level of a pyramid, as the kernel reads it."""

    frames: np.ndarray  # (n, d) float64, C-contiguous
    zero: np.ndarray  # (n,) uint8: 1 where the frame is all zeros (cosine, chord)

    def __len__(self) -> int:
        return self.frames.shape[0]


def check_sequence(X, name: str, n_features: int | None = None) -> np.ndarray:
    """A finite 2-d array of at least two frames (rows), as C-ordered
    float64 (:func:`skxsim._validation.check_sequence`: every message names
    ``name``)."""
    X = _validation.check_sequence(X, name, n_features=n_features, min_frames=2)
    return np.ascontiguousarray(X, dtype=np.float64)


def band_radius(radius, *lengths: int) -> int:
    """``radius`` as a Python int, at most the longest of ``lengths`` (a wider
    band is the same band): no arithmetic on it overflows."""
    return int(min(int(radius), max(lengths)))


def as_weights(step_weights) -> tuple[float, float, float]:
    """Validated step weights (:data:`STEP_WEIGHTS`) as Python floats."""
    return tuple(float(w) for w in step_weights)


def pool_pairs(X: np.ndarray) -> np.ndarray:
    """Mean of frames (0, 1), (2, 3), ...; an odd last frame stays alone."""
    n = X.shape[0]
    half = n // 2
    out = np.empty(((n + 1) // 2, X.shape[1]))
    # Halves first (exact): no overflow for frames near float64's maximum.
    np.multiply(X[0 : 2 * half : 2], 0.5, out=out[:half])
    out[:half] += 0.5 * X[1 : 2 * half : 2]
    if n % 2:
        out[half] = X[-1]
    return out


def pool(X: np.ndarray, factor: int) -> np.ndarray:
    """Mean of consecutive groups of ``factor`` frames (the last may be short),
    summed in frame order."""
    if factor == 1:
        return X
    n = X.shape[0]
    n_out = -(-n // factor)
    out = np.zeros((n_out, X.shape[1]))
    for offset in range(factor):
        part = X[offset::factor]
        out[: part.shape[0]] += part
    counts = np.full(n_out, float(factor))
    counts[-1] = n - (n_out - 1) * factor
    return out / counts[:, None]


def prepare(X: np.ndarray, metric: str) -> Level:
    """One level from float64 frames.

    Cosine and chord: each frame divided by its norm, computed without
    overflow or underflow at any scale (the engine's ``unit_factors``), so
    a frame of zeros, and only that, is flagged as silence.  The other
    metrics: the frames as they are (divided by :func:`frame_scale`).
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    if metric not in ("cosine", "chord"):
        return Level(X, np.zeros(X.shape[0], dtype=np.uint8))
    scale, norm = unit_factors(X)
    frames = X / scale[:, None]
    frames /= np.where(norm == 0, 1.0, norm)[:, None]
    return Level(np.ascontiguousarray(frames), (norm == 0).astype(np.uint8))


def frame_scale(metric: str, *sequences: np.ndarray) -> float:
    """The power of two the frames are divided by before the kernel: 1 for
    cosine and chord (scale-free: :func:`prepare` makes unit vectors), the
    engine's :func:`pow2_scale` of all the frames for the euclidean metrics
    (1 for ordinary data)."""
    if metric in ("cosine", "chord"):
        return 1.0
    return pow2_scale(*sequences)


def scaled_weights(step_weights) -> tuple[tuple[float, float, float], float]:
    """The step weights divided by a power of two to below 1 (exact) when
    any is above 1, and that power (else 1): no sum of local costs overflows
    for the weights' sake.  The start cell's cost is then weighted by its
    inverse (``DTWParams.start_weight``)."""
    w_scale = max(pow2_peak(np.asarray(step_weights, dtype=np.float64)), 1.0)
    return tuple(float(w) / w_scale for w in step_weights), w_scale


def unscaled_cost(cost: float, metric: str, scale: float, w_scale: float) -> float:
    """A cost of the scaled problem in the units of the data (times the
    weights' power of two, and the frames' for the euclidean metrics), or a
    ``ValueError`` where float64 cannot hold it."""
    powers = {"euclidean": 1, "sqeuclidean": 2}.get(metric, 0)
    out = float(cost) * w_scale
    with np.errstate(over="ignore", under="ignore"):
        for _ in range(powers):
            out *= scale
    if not np.isfinite(out) or (cost > 0 and out < np.finfo(np.float64).tiny):
        raise ValueError(
            f"the {metric} cost of this alignment ({cost!r} for the frames "
            f"divided by {scale!r}) leaves float64's range; rescale the features"
            + (" or use metric='euclidean'." if metric == "sqeuclidean" else ".")
        )
    return float(out)


def depth(n: int, coarse_frames: int) -> int:
    """Levels of a sequence of ``n`` frames pooled by 2 until at most
    ``coarse_frames`` (or 2) frames."""
    levels = 1
    while n > coarse_frames and n > 2:
        n = (n + 1) // 2
        levels += 1
    return levels


def pyramid(
    X: np.ndarray, metric: str, coarse_frames: int, n_levels: int | None = None
) -> list[Level]:
    """The levels of ``X``, finest first, pooled by 2 until at most
    ``coarse_frames`` frames, or into exactly ``n_levels`` levels (fewer if
    it reaches 2 frames first)."""
    levels = [prepare(X, metric)]
    while (
        X.shape[0] > coarse_frames if n_levels is None else len(levels) < n_levels
    ) and X.shape[0] > 2:
        X = pool_pairs(X)
        levels.append(prepare(X, metric))
    return levels
