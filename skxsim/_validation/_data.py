"""Data: librosa's orientation turned into skxsim's, arrays of numbers,
recordings and lists of them.

The librosa drop-ins take features by frames (``(..., d, n)``); everything
inside skxsim has frames as rows.  Every check names the argument.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array

# -------------------------------------------------------------- orientation


def as_numbers(data, name: str) -> np.ndarray:
    """``np.asarray(data)``, refusing ragged nesting and complex values by
    ``name`` (numpy and scikit-learn name neither)."""
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} is not a rectangular array: {exc}") from None
    if array.dtype.kind == "c":
        raise ValueError(f"{name} holds complex values; features are real numbers.")
    return array


def as_frames(data, name: str) -> np.ndarray:
    """librosa's ``(..., d, n)`` to C-ordered frames as rows ``(n, d * prod(...))``.

    librosa swaps the frame axis to the front and flattens the rest in
    Fortran order, so channel c of feature f lands at column f * C + c.
    """
    if sp.issparse(data):
        raise ValueError(
            f"{name} is a scipy.sparse matrix; a dense array of features by "
            f"frames is needed: pass {name}.toarray()."
        )
    data = np.atleast_2d(as_numbers(data, name))
    frames = np.swapaxes(data, -1, 0)
    n_features = int(np.prod(data.shape[:-1]))
    frames = frames.reshape((frames.shape[0], n_features), order="F")
    return check_array(
        frames,
        dtype=[np.float64, np.float32],
        order="C",
        ensure_min_samples=1,
        ensure_min_features=1,
        input_name=name,
    )


def frames_along(data, axis, name: str = "data") -> np.ndarray:
    """Frames along ``axis`` as rows ``(n, n_features)``, as librosa does.

    librosa swaps ``axis`` to the front and flattens the rest in Fortran
    order; :func:`as_frames` does the same for the last axis.
    """
    if sp.issparse(data):
        return as_frames(data, name)  # the error it raises
    data = np.atleast_2d(as_numbers(data, name))
    if not -data.ndim <= axis < data.ndim:
        raise ValueError(
            f"axis={axis} is out of bounds for {name} of shape {data.shape}."
        )
    # Two swaps put librosa's front axis last, where as_frames expects it.
    return as_frames(np.swapaxes(np.swapaxes(data, axis, 0), 0, -1), name)


def check_leading_shapes(data, data_ref) -> None:
    """Query and reference must agree on every axis but the last (frames)."""
    shapes = [np.shape(a) if not sp.issparse(a) else a.shape for a in (data, data_ref)]
    if len(shapes[0]) >= 2 and len(shapes[1]) >= 2 and shapes[0][:-1] != shapes[1][:-1]:
        raise ValueError(
            f"data.shape={shapes[0]} and data_ref.shape={shapes[1]} do not match "
            "on leading dimension(s) (features): only the last axis (frames) "
            "may differ."
        )


def as_fit_dtype(X: np.ndarray, dtype) -> np.ndarray:
    """``X`` cast to the fitted dtype, still finite after the cast."""
    if X.dtype == dtype:
        return X
    with np.errstate(over="ignore"):
        cast = X.astype(dtype)
    if not np.all(np.isfinite(cast)):
        raise ValueError(
            f"X holds values too large for {np.dtype(dtype).name}, the dtype "
            "of the reference this estimator was fitted on (they overflow to "
            "inf). Fit on float64 data or rescale the features."
        )
    return cast


def check_recording(X, name: str) -> np.ndarray:
    """One recording: a non-empty, finite 2-d float array, frames as rows.

    Every refusal is a ``ValueError`` that starts with ``name``.
    """
    if sp.issparse(X):
        raise ValueError(
            f"{name} is a scipy.sparse matrix; a recording is a dense "
            f"(n_frames, n_features) array: pass {name}.toarray()."
        )
    if isinstance(X, str | bytes):
        raise ValueError(f"{name} is a {type(X).__name__}, not an array of frames.")
    array = as_numbers(X, name)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-d array (n_frames, n_features), frames as "
            f"rows; got shape {array.shape}."
        )
    try:
        return check_array(array, dtype=[np.float64, np.float32], input_name=name)
    except (ValueError, TypeError) as exc:
        raise ValueError(str(naming(exc, name))) from None


def naming(exc: Exception, name: str) -> Exception:
    """``exc`` (a ``ValueError`` or ``TypeError`` of numpy or scikit-learn),
    of the same type, its message naming the argument ``name``."""
    message = str(exc)
    return type(exc)(message if name in message else f"{name}: {message}")


def check_frame_count(X: np.ndarray, name: str, min_frames: int) -> None:
    """At least ``min_frames`` frames (rows) in the sequence ``name``."""
    if X.shape[0] < min_frames:
        raise ValueError(
            f"{name} has {X.shape[0]} frame(s) (n_samples = {X.shape[0]}); it "
            f"needs at least {min_frames} frames."
        )


def check_sequence(X, name: str, *, n_features=None, min_frames: int = 1):
    """One sequence, frames as rows: :func:`check_recording`, at least
    ``min_frames`` frames and, when given, ``n_features`` features; every
    message names ``name``.  float64 or float32, as given."""
    X = check_recording(X, name)
    check_frame_count(X, name, min_frames)
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features per frame; {n_features} are "
            "expected (the reference's)."
        )
    return X


def check_pair(query, reference, unit: str = "features") -> tuple[np.ndarray, ...]:
    """Two recordings (:func:`check_recording`) with as many ``unit`` per
    frame."""
    query = check_recording(query, "query")
    reference = check_recording(reference, "reference")
    check_same_width(query, "query", reference, "reference", unit)
    return query, reference


def check_same_width(a, name_a: str, b, name_b: str, unit: str = "features") -> None:
    """Two sequences (frames as rows) with as many ``unit`` per frame."""
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{name_a} has {a.shape[1]} {unit} per frame and {name_b} has "
            f"{b.shape[1]}; they must match."
        )


def as_items(
    X, name: str, what: str = "2-d arrays", *, item: str = "recording"
) -> list:
    """The items of a collection ``name`` (by default of sequences, one
    ``item`` each, frames as rows) as a non-empty list; ``None``, a string,
    a mapping, a sparse matrix or an array that is not a stack of items (of
    one dimension fewer) is a ``ValueError`` naming ``name``."""
    item_ndim = 2 if item == "recording" else 1
    each = " (one recording each, frames as rows)" if item_ndim == 2 else ""
    list_of = f"{name} must be a list of {what}{each}"
    if isinstance(X, np.ndarray) and X.dtype != object and X.ndim != item_ndim + 1:
        raise ValueError(f"{list_of}; got an array of shape {X.shape}.")
    if X is None or isinstance(X, str | bytes | Mapping) or sp.issparse(X):
        raise ValueError(f"{list_of}; got {type(X).__name__}.")
    try:
        items = list(X)
    except TypeError:
        raise ValueError(f"{list_of}; got {type(X).__name__}.") from None
    if not items:
        raise ValueError(f"{name} is empty: it needs at least one {item}.")
    return items


def check_sequences(X, name: str, n_features=None) -> list[np.ndarray]:
    """A list of 2-d float arrays (recordings, frames as rows)."""
    items = as_items(X, name)
    fitted = n_features is not None
    sequences = []
    for i, item in enumerate(items):
        seq = check_recording(item, f"{name}[{i}]")
        if n_features is not None and seq.shape[1] != n_features:
            whose = "the estimator was fitted with" if fitted else f"{name}[0] has"
            raise ValueError(
                f"{name}[{i}] has {seq.shape[1]} features per frame; {whose} "
                f"{n_features}."
            )
        n_features = seq.shape[1]
        sequences.append(seq)
    return sequences


def check_work_ids(y, n: int, name: str) -> np.ndarray:
    """One label per recording, a 1-d array of sortable labels, none missing.

    Labels are all strings or all numbers (numpy would turn ``["a", 1]``
    into ``["a", "1"]``, and ``predict`` would return ``"1"`` for ``1``).
    """
    if isinstance(y, str | bytes):
        raise ValueError(
            f"{name} is a single {type(y).__name__} {y!r}; it must hold one work "
            f"id per recording ({n})."
        )
    per_recording = f"{name} must hold one work id per recording"
    if y is None or sp.issparse(y):
        raise ValueError(f"{per_recording}; got {type(y).__name__}.")
    labels = np.asarray(y, dtype=object)
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(
            f"{per_recording}: got shape {labels.shape} for {n} recordings."
        )
    for i, label in enumerate(labels):
        if label is None or (isinstance(label, Real) and math.isnan(label)):
            missing = "None" if label is None else "NaN"
            raise ValueError(
                f"{name}[{i}] is {missing}: every recording needs a work id."
            )
    kinds = {isinstance(label, str) for label in labels}
    if len(kinds) > 1:
        raise ValueError(
            f"{name} holds a mix of strings and numbers; work ids must be all "
            "of one kind."
        )
    return np.asarray(y)
