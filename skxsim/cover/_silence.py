"""Silence: a frame with no sound takes no part in a cover-song comparison.

A frame is *silent* when every one of its values is 0 (chroma of digital
silence, a rest in every voice, the zero padding of a time-delay stack whose
whole window is silent).  It carries no harmony, so it matches nothing:

- OTI-binary (:func:`~skxsim.cover.oti_binary_similarity`): a pair with a silent
  frame is not similar (its dot products are 0 under every rotation, which
  essentia reads as "best at rotation 0", a match with everything);
- mutual k-NN (:func:`~skxsim.cover.cross_recurrence`), under every metric: silent
  frames are taken out before the k nearest are counted, so they have no
  neighbours, are nobody's neighbour and take no neighbour's place (under
  euclidean a zero frame is near every quiet frame; under cosine it is at
  distance 1 from everything, scikit-learn's rule), and a ``k`` given as a
  fraction counts the sounding frames only.

Their rows and columns of the cross-recurrence stay, empty: the alignment
crosses a pause as a gap.  Orientation: rows are frames.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_sequences


def sounding(frames: np.ndarray) -> np.ndarray:
    """Per frame (row): True when any value is non-zero."""
    return np.any(frames != 0, axis=1)


def check_sound(sequence: np.ndarray, name: str) -> None:
    """A recording must have sound somewhere: silence has no version."""
    if not sounding(sequence).any():
        raise ValueError(
            f"{name} has no sound: all of its {len(sequence)} frames are 0. "
            "A silent recording matches nothing and has no rank; leave it out."
        )


def check_recordings(X, name: str, n_features=None) -> list[np.ndarray]:
    """A list of recordings (``check_sequences``), each with sound."""
    sequences = check_sequences(X, name, n_features)
    for i, sequence in enumerate(sequences):
        check_sound(sequence, f"{name}[{i}]")
    return sequences
