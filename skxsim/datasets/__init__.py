"""Feature sequences for demos, examples, tests and benchmarks.

- :func:`make_cover_pair`: a synthetic song and its cover, with the
  alignment between them;
- :func:`load_bach_chorales`: chroma of Bach's chorales grouped into works
  (a cover-song set with exact ground truth; needs ``skxsim[datasets]``);
- :func:`load_features`: a feature file (``.npy``, ``.npz``, ``.csv`` or
  audio through librosa).

All sequences use the scikit-learn orientation: frames as rows,
``X.shape == (n_frames, n_features)``.
"""

from ._chorales import load_bach_chorales
from ._io import load_features
from ._synthetic import make_cover_pair

__all__ = ["load_bach_chorales", "load_features", "make_cover_pair"]
