"""Reading feature sequences from files (frames as rows)."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import validate_params

from .._validation import POSITIVE_INT, POSITIVE_REAL

__all__ = ["load_features", "AUDIO_EXTENSIONS"]

AUDIO_EXTENSIONS = frozenset(
    {".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac", ".aiff", ".aif", ".opus"}
)


def _load_npy(path: Path) -> np.ndarray:
    try:
        loaded = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"not a valid NumPy .npy file of numbers ({exc})") from exc
    if isinstance(loaded, np.lib.npyio.NpzFile):
        # np.load reads by content, not by name: an archive of arrays.
        names = loaded.files
        loaded.close()
        raise ValueError(
            f"this is a .npz archive (of {names}), not a .npy array; rename it "
            "to .npz and take one array out: np.load(path)[name]"
        )
    return loaded


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _holds_number(field: str) -> bool:
    # "1 2 3" is not a number but is not a column name either: a file
    # separated by spaces or semicolons must not lose its first frame.
    return any(_is_number(token) for token in re.split(r"[\s;]+", field))


def _load_csv(path: Path) -> tuple[np.ndarray, str | None]:
    """Numbers of a CSV file and the header line it skipped, if any.

    Only a first line in which no field holds a number is a header: a first
    line such as ``1,2,x`` is a frame with a typo, reported as an error
    rather than dropped.
    """
    # utf-8-sig: spreadsheet programs start their CSV files with a BOM.
    text = path.read_text(encoding="utf-8-sig")
    rows, line_numbers = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()  # np.savetxt writes "# header"
        if content:
            rows.append(content)
            line_numbers.append(number)
    header = None
    if rows and not any(_holds_number(field) for field in rows[0].split(",")):
        header = f"line {line_numbers[0]}: {rows[0]!r}"
        rows, line_numbers = rows[1:], line_numbers[1:]
    if not rows:
        return np.empty((0, 0)), header
    try:
        return np.loadtxt(rows, delimiter=",", ndmin=2, comments=None), header
    except ValueError as exc:
        problem = _csv_problem(rows, line_numbers, after_header=header is not None)
        raise ValueError(problem or str(exc)) from exc


def _csv_problem(
    rows: list[str], line_numbers: list[int], *, after_header: bool
) -> str | None:
    """The first line and column that np.loadtxt could not read, in words."""
    n_columns = len(rows[0].split(","))
    for row, number in zip(rows, line_numbers, strict=True):
        fields = row.split(",")
        for column, field in enumerate(fields, start=1):
            if not _is_number(field):
                tokens = re.split(r"[\s;]+", field.strip())
                hint = ""
                if len(tokens) > 1 and all(map(_is_number, tokens)):
                    hint = " (fields must be separated by commas)"
                elif number == line_numbers[0] and not after_header:
                    hint = (
                        " (a first line is skipped as a header only when none "
                        "of its fields holds a number)"
                    )
                return (
                    f"line {number}, column {column}: {field.strip()!r} is not "
                    f"a number{hint}"
                )
        if len(fields) != n_columns:
            return (
                f"line {number} has {len(fields)} value(s), line "
                f"{line_numbers[0]} has {n_columns}: every frame needs the "
                "same number of features"
            )
    return None


def _load_audio(path: Path, *, sr, hop_length: int) -> np.ndarray:
    try:
        import librosa
    except ImportError as exc:
        raise ImportError(
            f"reading audio file {str(path)!r} needs librosa: "
            'pip install "skxsim[audio]"'
        ) from exc
    with warnings.catch_warnings():
        # librosa falls back from soundfile to audioread with two warnings;
        # a file that neither reads is reported below, in one line.
        warnings.filterwarnings("ignore", "PySoundFile failed", UserWarning)
        warnings.filterwarnings("ignore", ".*__audioread_load", FutureWarning)
        try:
            y, sr = librosa.load(path, sr=sr)
        except Exception as exc:  # soundfile, audioread and codecs raise anything
            raise ValueError(
                f"not a readable audio file ({_first_error(exc)})"
            ) from exc
    try:
        chroma = librosa.feature.chroma_cqt(y=y, sr=sr, hop_length=hop_length)
    except Exception as exc:  # librosa.ParameterError, e.g. for no samples
        raise ValueError(f"cannot compute chroma ({_first_error(exc)})") from exc
    return np.ascontiguousarray(chroma.T)


def _first_error(exc: BaseException) -> str:
    """The most telling message of a chain of exceptions.

    librosa reports soundfile's failure ("Format not recognised") as the
    context of audioread's, which often has no message at all.
    """
    chain = []
    while exc is not None and len(chain) < 10:
        chain.append(exc)
        exc = exc.__context__
    for error in reversed(chain):
        if str(error).strip():
            return f"{type(error).__name__}: {str(error).strip()}"
    return type(chain[0]).__name__


@validate_params(
    {
        "path": [str, os.PathLike],
        "sr": [*POSITIVE_REAL, None],
        "hop_length": POSITIVE_INT,
    },
    prefer_skip_nested_validation=True,
)
def load_features(
    path: str | os.PathLike, *, sr: float | None = 22050, hop_length: int = 512
) -> np.ndarray:
    """Read a feature sequence from a file, frames as rows.

    Parameters
    ----------
    path : str or path-like
        - ``.npy``: a 2-D array ``(n_frames, n_features)``; a 1-D array is one
          feature per frame.
        - ``.csv`` (or ``.txt``): comma-separated numbers, one frame per
          line; blank lines and ``#`` comments are ignored. A first line in
          which no field holds a number (column names) is a header and is
          skipped; any other value that is not a number is an error naming
          its line and column.
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
    sr = None if sr is None else float(sr)  # numpy scalars as Python's
    return read_features(path, sr=sr, hop_length=int(hop_length))[0]


def read_features(
    path: str | os.PathLike, *, sr: float | None = 22050, hop_length: int = 512
) -> tuple[np.ndarray, str | None]:
    """:func:`load_features`, and the header line it skipped (or None)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a directory, not a feature file")
    suffix = path.suffix.lower()
    header = None
    if suffix not in (".npy", ".csv", ".txt") and suffix not in AUDIO_EXTENSIONS:
        raise ValueError(
            f"cannot read {str(path)!r}: unknown extension {suffix!r} "
            "(expected .npy, .csv or an audio file such as .wav)"
        )
    try:
        if suffix == ".npy":
            features = _load_npy(path)
        elif suffix in (".csv", ".txt"):
            features, header = _load_csv(path)
        else:
            features = _load_audio(path, sr=sr, hop_length=hop_length)
    except (ValueError, OSError, EOFError) as exc:
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
    return features, header
