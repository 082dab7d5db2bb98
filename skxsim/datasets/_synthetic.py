"""Synthetic song and cover pairs with a known alignment.

Orientation: scikit-learn (frames as rows).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import validate_params

from .._output_size import check_output_size
from .._validation import POSITIVE_INT, RANDOM_STATE, Number

__all__ = ["make_cover_pair"]

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

# Intervals (in semitones above the root) of the chord qualities we draw from.
_QUALITIES = {"maj": (0, 4, 7), "min": (0, 3, 7)}


def _chord_template(root: int, quality: str) -> np.ndarray:
    template = np.zeros(12)
    template[[(root + step) % 12 for step in _QUALITIES[quality]]] = 1.0
    template[root] = 1.2  # the root is usually the loudest pitch class
    return template


def _random_chords(rng, n_chords: int) -> list[tuple[int, str]]:
    roots = rng.integers(0, 12, size=n_chords)
    qualities = rng.choice(sorted(_QUALITIES), size=n_chords)
    return [(int(r), str(q)) for r, q in zip(roots, qualities, strict=True)]


def _render(chords, rng, frames_per_chord: int) -> tuple[np.ndarray, np.ndarray]:
    """Clean chroma (without noise) and per-frame labels of a chord sequence.

    A melody note that changes every few frames rides on each chord, so that
    frames inside one chord differ and alignment is finer than the chord grid.
    """
    n_frames = len(chords) * frames_per_chord
    clean = np.zeros((n_frames, 12))
    labels = np.empty(n_frames, dtype=object)
    melody_len = max(1, frames_per_chord // 3)
    for c, (root, quality) in enumerate(chords):
        span = slice(c * frames_per_chord, (c + 1) * frames_per_chord)
        clean[span] = _chord_template(root, quality)
        labels[span] = f"{PITCH_CLASSES[root]}:{quality}"
    for start in range(0, n_frames, melody_len):
        clean[start : start + melody_len, rng.integers(0, 12)] += 0.8
    return clean, labels


def _finish(clean, rng, noise: float) -> np.ndarray:
    """Add non-negative noise and max-normalise each frame, like chroma."""
    frames = clean + noise * np.abs(rng.standard_normal(clean.shape))
    return frames / frames.max(axis=1, keepdims=True)


def _check_section(section) -> tuple[float, float]:
    """``(start, end)``: two numbers with ``0 <= start < end <= 1``."""
    bounds = list(section)
    if not (
        len(bounds) == 2
        and all(isinstance(b, Real) and not isinstance(b, bool) for b in bounds)
        and 0.0 <= bounds[0] < bounds[1] <= 1.0
    ):
        raise ValueError(
            "changed_section must be (start, end) with 0 <= start < end <= 1, "
            f"got {section!r}"
        )
    return float(bounds[0]), float(bounds[1])


@validate_params(
    {
        "n_chords": [Number(Integral, 2, None, closed="left")],
        "frames_per_chord": POSITIVE_INT,
        "stretch": [Number(Real, 0.25, 4.0, closed="both")],
        "warp": [Number(Real, 0.0, 0.9, closed="both")],
        "changed_section": ["array-like", None],
        "noise": [Number(Real, 0.0, None, closed="left")],
        "random_state": RANDOM_STATE,
    },
    prefer_skip_nested_validation=True,
)
def make_cover_pair(
    n_chords: int = 16,
    frames_per_chord: int = 12,
    *,
    stretch: float = 1.25,
    warp: float = 0.3,
    changed_section: tuple[float, float] | None = (0.55, 0.7),
    noise: float = 0.15,
    random_state=0,
) -> Bunch:
    """Make a synthetic chroma-like reference and a "cover" of it.

    The reference is a random chord progression: each chord lasts
    ``frames_per_chord`` frames, with a melody note changing every few frames
    and non-negative noise, each frame max-normalised like a chroma vector.
    The cover plays the same music with a smooth, non-uniform tempo change
    (``stretch`` overall, ``warp`` local variation), fresh noise, and one
    section replaced by different chords. The ground-truth alignment maps
    each cover frame to the reference frame it plays.

    Orientation: scikit-learn, frames as rows, ``(n_frames, 12)``. Transpose
    for librosa.

    Parameters
    ----------
    n_chords : int, default=16
        Number of chords in the reference progression.
    frames_per_chord : int, default=12
        Frames per chord in the reference.
    stretch : float, default=1.25
        Cover length divided by reference length (> 1: the cover is slower).
    warp : float, default=0.3
        Amplitude of the tempo variation, in [0, 0.9]; 0 is a uniform
        stretch. The time map stays strictly increasing.
    changed_section : pair of float or None, default=(0.55, 0.7)
        Start and end of the replaced section of the cover, as fractions of
        its length; ``None`` keeps the whole cover faithful.
    noise : float, default=0.15
        Scale of the non-negative noise added before normalisation.
    random_state : int, RandomState instance or None, default=0
        Seed; the same seed gives the same pair.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With the fields:

        - ``reference``: ndarray of shape (n_ref, 12), the reference chroma.
        - ``cover``: ndarray of shape (n_cover, 12), the cover chroma.
        - ``alignment``: int ndarray of shape (n_cover,), the reference frame
          played at each cover frame, -1 inside the changed section.
        - ``reference_labels``, ``cover_labels``: object ndarrays of chord
          names (such as ``"A:min"``) per frame.
        - ``changed``: bool ndarray of shape (n_cover,), True inside the
          changed section.

    Examples
    --------
    >>> from skxsim.datasets import make_cover_pair
    >>> pair = make_cover_pair(random_state=0)
    >>> pair.reference.shape, pair.cover.shape
    ((192, 12), (240, 12))
    >>> bool(((pair.alignment >= 0) | pair.changed).all())
    True
    >>> faithful = ~pair.changed
    >>> bool((pair.cover_labels[faithful]
    ...       == pair.reference_labels[pair.alignment[faithful]]).all())
    True
    """
    # Numpy scalars as Python's: np.int8 arithmetic overflows, a float32
    # noise level would make float32 noise.
    n_chords, frames_per_chord = int(n_chords), int(frames_per_chord)
    stretch, warp, noise = float(stretch), float(warp), float(noise)
    n_ref = n_chords * frames_per_chord
    n_cover = max(2, int(round(n_ref * stretch)))
    # Per frame: the clean, noisy and normalised chroma, and a label.
    check_output_size(
        (n_ref + n_cover) * (3 * 12 + 1) * np.dtype(np.float64).itemsize,
        f"make_cover_pair(n_chords={n_chords}, frames_per_chord="
        f"{frames_per_chord}): {n_ref} + {n_cover} frames",
        "Use fewer chords or fewer frames per chord.",
    )
    rng = check_random_state(random_state)
    rng = np.random.default_rng(rng.randint(2**31 - 1))

    chords = _random_chords(rng, n_chords)
    clean_ref, labels_ref = _render(chords, rng, frames_per_chord)

    # Monotone time map u -> w(u) on [0, 1]: w'(u) = 1 + warp * cos(...) > 0.
    u = np.arange(n_cover) / (n_cover - 1)
    phase = rng.uniform(0, 2 * np.pi)
    w = u + warp * (np.sin(2 * np.pi * u + phase) - np.sin(phase)) / (2 * np.pi)
    w = (w - w[0]) / (w[-1] - w[0]) if n_cover > 1 else w
    alignment = np.clip(np.rint(w * (n_ref - 1)).astype(np.intp), 0, n_ref - 1)

    clean_cover = clean_ref[alignment].copy()
    labels_cover = labels_ref[alignment].copy()
    changed = np.zeros(n_cover, dtype=bool)
    if changed_section is not None:
        start, end = _check_section(changed_section)
        lo, hi = int(round(start * n_cover)), int(round(end * n_cover))
        if hi > lo:
            n_new = -(-(hi - lo) // frames_per_chord)
            new_clean, new_labels = _render(
                _random_chords(rng, n_new), rng, frames_per_chord
            )
            clean_cover[lo:hi] = new_clean[: hi - lo]
            labels_cover[lo:hi] = new_labels[: hi - lo]
            changed[lo:hi] = True
            alignment[lo:hi] = -1

    return Bunch(
        reference=_finish(clean_ref, rng, noise),
        cover=_finish(clean_cover, rng, noise),
        alignment=alignment,
        reference_labels=labels_ref,
        cover_labels=labels_cover,
        changed=changed,
    )
