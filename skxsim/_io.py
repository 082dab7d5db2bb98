"""Reading feature sequences from files (frames as rows)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["load_features", "AUDIO_EXTENSIONS"]

AUDIO_EXTENSIONS = frozenset(
    {".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac", ".aiff", ".aif", ".opus"}
)


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"not a valid NumPy .npy file of numbers ({exc})") from exc


def _load_csv(path: Path) -> np.ndarray:
    try:
        return np.loadtxt(path, delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError:
        # One header line of column names is common; anything else is an error.
        return np.loadtxt(path, delimiter=",", ndmin=2, dtype=np.float64, skiprows=1)


def _load_audio(path: Path, *, sr, hop_length: int) -> np.ndarray:
    try:
        import librosa
    except ImportError as exc:
        raise ImportError(
            f"reading audio file {str(path)!r} needs librosa: "
            'pip install "skxsim[audio]"'
        ) from exc
    y, sr = librosa.load(path, sr=sr)
    chroma = librosa.feature.chroma_cqt(y=y, sr=sr, hop_length=hop_length)
    return np.ascontiguousarray(chroma.T)


def load_features(
    path: str | os.PathLike, *, sr: float | None = 22050, hop_length: int = 512
) -> np.ndarray:
    """Read a feature sequence from a file, frames as rows.

    Parameters
    ----------
    path : str or path-like
        - ``.npy``: a 2-D array ``(n_frames, n_features)``; a 1-D array is one
          feature per frame.
        - ``.csv``: comma-separated numbers, one frame per line, optionally
          one header line.
        - an audio file (``.wav``, ``.flac``, ``.ogg``, ``.mp3``, ...): chroma
          features computed with ``librosa.feature.chroma_cqt`` (needs the
          ``audio`` extra: ``pip install "skxsim[audio]"``).
    sr : float or None, default=22050
        Audio only: sample rate to resample to (``None`` keeps the file's).
    hop_length : int, default=512
        Audio only: hop length of the chroma frames, in samples.

    Returns
    -------
    features : ndarray of shape (n_frames, n_features)
        float64 (or float32 if a ``.npy`` file holds float32), frames as rows.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file cannot be parsed, is empty, is not 1-D or 2-D, or holds
        NaN or infinite values.
    ImportError
        For audio files when librosa is not installed.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skxsim.datasets import load_features
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "chroma.csv")
    ...     np.savetxt(path, np.eye(3), delimiter=",", header="a,b,c", comments="")
    ...     load_features(path).shape
    (3, 3)
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a directory, not a feature file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            features = _load_npy(path)
        elif suffix in (".csv", ".txt"):
            features = _load_csv(path)
        elif suffix in AUDIO_EXTENSIONS:
            return _load_audio(path, sr=sr, hop_length=hop_length)
        else:
            raise ValueError(
                f"cannot read {str(path)!r}: unknown extension {suffix!r} "
                "(expected .npy, .csv or an audio file such as .wav)"
            )
    except (ValueError, OSError, EOFError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith("cannot read"):
            raise
        raise ValueError(f"cannot read {str(path)!r}: {exc}") from exc

    if not np.issubdtype(features.dtype, np.number) or np.iscomplexobj(features):
        raise ValueError(
            f"{str(path)!r} holds {features.dtype} values, expected real numbers"
        )
    if features.ndim == 1:
        features = features[:, np.newaxis]
    if features.ndim != 2:
        raise ValueError(
            f"{str(path)!r} holds an array of shape {features.shape}; expected "
            "(n_frames, n_features), frames as rows"
        )
    if features.shape[0] == 0 or features.shape[1] == 0:
        raise ValueError(f"{str(path)!r} holds no frames (shape {features.shape})")
    if features.dtype != np.float32:
        features = features.astype(np.float64)
    if not np.isfinite(features).all():
        raise ValueError(f"{str(path)!r} contains NaN or infinite values")
    return features
