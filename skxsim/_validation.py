"""Validation shared by every face: parameters, orientation, output size.

One declaration per parameter (scikit-learn's constraint objects), used by
the estimators' ``_parameter_constraints`` and by ``validate_params`` on the
functions, so that every entry point accepts and rejects the same values:
Python and numpy scalars alike, never a bool for a number, never ``0`` for
``n_jobs`` (joblib's rule).  Also here: the defaults of ``k``, the checks a
constraint cannot express, librosa's orientation of the drop-ins' inputs
(features by frames) turned into skxsim's (frames as rows), lists of
recordings, and the guard that refuses an output too large for memory
before anything is allocated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)

from ._graph import BANDWIDTH_NAMES, MODES
from ._neighbors import ALL_METRICS, public_algorithms

# ------------------------------------------------------------ declarations


class Number(Interval):
    """scikit-learn's ``Interval``, but a bool is not a number.

    scikit-learn 1.9's ``Interval(Integral, ...)`` takes Python's ``True`` as
    1 (``bool`` subclasses ``int``) and refuses numpy's ``np.True_``; skxsim
    refuses both, so that a Python scalar and its numpy twin are always
    treated alike.  Everything else (numpy scalars accepted, 0-d arrays
    refused, NaN refused, the message) is scikit-learn's.
    """

    def is_satisfied_by(self, val):
        return not isinstance(val, bool) and super().is_satisfied_by(val)


class NonZeroInt(Number):
    """joblib's ``n_jobs``: any int but 0 (``-1`` is every core)."""

    def __init__(self):
        super().__init__(Integral, None, None, closed="neither")

    def is_satisfied_by(self, val):
        return super().is_satisfied_by(val) and val != 0

    def __str__(self):
        return "a non-zero int (joblib's rule: -1 means all cores)"


POSITIVE_INT = [Number(Integral, 1, None, closed="left")]
K = [*POSITIVE_INT, None]
# A count of neighbours, or a fraction of the other sequence's length
# (essentia's binarizePercentile): the cover songs' k.
K_OR_FRACTION = [*POSITIVE_INT, Number(Real, 0, 1, closed="right")]
WIDTH = POSITIVE_INT
N_STEPS = POSITIVE_INT
N_BINS = [*POSITIVE_INT, None]
# A time-delay embedding's step: frames into the past (> 0) or future (< 0).
DELAY = [
    Number(Integral, None, -1, closed="right"),
    Number(Integral, 1, None, closed="left"),
]
INT = [Number(Integral, None, None, closed="neither")]
AXIS = INT
POSITIVE_REAL = [Number(Real, 0, None, closed="neither")]
METRIC = [StrOptions(set(ALL_METRICS)), callable]
MODE = [StrOptions(set(MODES))]
BANDWIDTH = [*POSITIVE_REAL, StrOptions(set(BANDWIDTH_NAMES)), None]
ALGORITHM = [StrOptions(set(public_algorithms()))]
N_JOBS = [NonZeroInt(), None]
MEMORY = [None, str, HasMethods(["cache"])]
GAP_COST = [Number(Real, 0, np.inf, closed="both")]
N_SHIFTS = [Number(Integral, 0, None, closed="left")]
# scikit-learn's "random_state" (a seed, a RandomState or None) without bools.
SEED = Number(Integral, 0, 2**32 - 1, closed="both")
RANDOM_STATE = [SEED, np.random.RandomState, None]

# The parameters every neighbour-graph estimator shares.
NEIGHBOR_GRAPH_CONSTRAINTS: dict = {
    "k": K,
    "metric": METRIC,
    "metric_params": [dict, None],
    "mode": MODE,
    "bandwidth": BANDWIDTH,
    "full": ["boolean"],
    "sparse": ["boolean"],
    "algorithm": ALGORITHM,
    "algorithm_params": [dict, None],
    "n_jobs": N_JOBS,
}

# The approximate backends' algorithm_params, checked in fit before the
# library sees a value: outside these ranges hnswlib crashes the interpreter
# (M=0), fails to allocate (M=1), raises pybind11's TypeError (a negative
# seed) or truncates (M=2.5), and pynndescent raises numba's TypingError
# (n_neighbors=2.5).  Each library's defaults are in ``_neighbors._approximate``.
_SEED = [SEED, None]
_COUNT_OR_AUTO = [*POSITIVE_INT, None]
BACKEND_PARAMS: dict[str, dict] = {
    "hnsw": {
        # hnswlib caps M at 10000 (with a message on stderr); 1 cannot link.
        "M": [Number(Integral, 2, 10_000, closed="both")],
        "ef_construction": POSITIVE_INT,
        "ef": POSITIVE_INT,
        "random_state": _SEED,
        "n_jobs": N_JOBS,
    },
    "nndescent": {
        "n_neighbors": POSITIVE_INT,
        "n_trees": [Number(Integral, 0, None, closed="left"), None],
        "leaf_size": _COUNT_OR_AUTO,
        "pruning_degree_multiplier": POSITIVE_REAL,
        "diversify_prob": [Number(Real, 0, 1, closed="both")],
        "diversify_method": [StrOptions({"standard", "degree_aware"})],
        "degree_prune_aggressiveness": [Number(Real, 0, None, closed="left")],
        "search_tree_leaf_size": _COUNT_OR_AUTO,
        "max_search_tree_depth": _COUNT_OR_AUTO,
        "tree_init": ["boolean"],
        "random_state": _SEED,
        "low_memory": ["boolean"],
        "max_candidates": _COUNT_OR_AUTO,
        "max_rptree_depth": POSITIVE_INT,
        "n_iters": _COUNT_OR_AUTO,
        "delta": [Number(Real, 0, 1, closed="both")],
        "n_jobs": N_JOBS,
        "parallel_batch_queries": ["boolean"],
        "search_tree_leaf_budget": POSITIVE_INT,
        "epsilon": [Number(Real, 0, None, closed="left")],
    },
}


def check_backend_params(algorithm: str, algorithm_params) -> dict:
    """``algorithm_params`` checked against :data:`BACKEND_PARAMS`.

    Returns them with numpy scalars as Python's (the same index, the same
    ``memory=`` cache entry).  An unknown key or a value outside its
    declaration is an ``InvalidParameterError`` naming both.
    """
    params = dict(algorithm_params or {})
    declared = BACKEND_PARAMS.get(algorithm)
    if declared is None:
        return params
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise InvalidParameterError(
            f"algorithm_params {unknown} are not parameters of "
            f"algorithm={algorithm!r}; it accepts {sorted(declared)}."
        )
    validate_parameter_constraints(
        declared, params, caller_name=f"algorithm={algorithm!r} (algorithm_params)"
    )
    return {name: python_scalar(value) for name, value in params.items()}


def python_scalar(value):
    """A numpy number or bool as the equal Python one; anything else as is."""
    return value.item() if isinstance(value, np.generic) else value


# --------------------------------------------------------------- k defaults


def default_k_cross(n_ref: int) -> int:
    """librosa's cross-similarity default: ``min(n_ref, 2 * ceil(sqrt(n_ref)))``."""
    return int(min(n_ref, 2 * math.ceil(math.sqrt(n_ref))))


def default_k_recurrence(n_frames: int, width: int) -> int:
    """librosa's recurrence default ``2 * ceil(sqrt(n_frames - 2 * width + 1))``.

    Where that is undefined (``n_frames <= 2 * width``, which the function
    refuses) it is 2, as librosa's docstring says.
    """
    return 2 * math.ceil(math.sqrt(max(n_frames - 2 * width + 1, 1)))


def resolve_k(k: int | None, n_ref: int) -> int:
    """``k`` for a reference of ``n_ref`` frames: the default, or clipped."""
    return default_k_cross(n_ref) if k is None else int(min(k, n_ref))


def check_width(width: int, n_frames: int, axis) -> None:
    """librosa's bound on a recurrence band: ``1 <= width < (n_frames - 1) // 2``."""
    limit = (n_frames - 1) // 2
    if width >= limit:
        raise ValueError(
            f"width={width} must be at least 1 and less than "
            f"(data.shape[{axis}] - 1) // 2 = {limit} for {n_frames} frames "
            "(librosa's bound)."
        )


def check_n_jobs(n_jobs, caller: str = "skxsim") -> None:
    """The one rule of ``n_jobs`` (:data:`N_JOBS`: joblib's, 0 has no meaning),
    for callers that do not declare their parameters."""
    validate_parameter_constraints(
        {"n_jobs": N_JOBS}, {"n_jobs": n_jobs}, caller_name=caller
    )


# ---------------------------------------------------------------- bandwidth


def check_bandwidth_value(bandwidth) -> None:
    """A finite positive number (a float bandwidth that passed validation)."""
    if isinstance(bandwidth, Real) and not math.isfinite(bandwidth):
        raise ValueError(f"bandwidth must be a finite float > 0; got {bandwidth!r}.")


def check_bandwidth_matrix(bandwidth: np.ndarray, n: int, n_ref: int) -> None:
    """An ndarray bandwidth ``(n, n_ref)`` indexed ``[query, reference]``, > 0."""
    if bandwidth.ndim == 0:
        raise ValueError(
            f"bandwidth is a 0-d array ({bandwidth!r}); a scalar bandwidth is a "
            "float: pass float(bandwidth). An array bandwidth has shape "
            f"(n, n_ref) = ({n}, {n_ref})."
        )
    if bandwidth.shape != (n, n_ref):
        raise ValueError(
            f"bandwidth ndarray has shape {bandwidth.shape}; it must be "
            f"(n, n_ref) = ({n}, {n_ref}), indexed [query, reference]."
        )
    if not (np.all(np.isfinite(bandwidth)) and np.all(bandwidth > 0)):
        raise ValueError("every entry of the bandwidth ndarray must be finite and > 0.")


def reject_bandwidth_matrix(bandwidth, estimator: str, function: str, why: str):
    """Estimators take no ndarray bandwidth (their drop-in functions do)."""
    if isinstance(bandwidth, np.ndarray):
        raise InvalidParameterError(
            f"The 'bandwidth' parameter of {estimator} cannot be an ndarray: "
            f"{why}. Use a float > 0, None or one of {list(BANDWIDTH_NAMES)}; "
            f"{function}() accepts a matrix."
        )


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
        message = str(exc)
        raise ValueError(message if name in message else f"{name}: {message}") from None


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


def check_sequences(X, name: str, n_features=None) -> list[np.ndarray]:
    """A list of 2-d float arrays (recordings, frames as rows)."""
    list_of_arrays = (
        f"{name} must be a list of 2-d arrays (one recording each, frames as rows)"
    )
    if isinstance(X, np.ndarray) and X.dtype != object and X.ndim != 3:
        raise ValueError(f"{list_of_arrays}; got an array of shape {X.shape}.")
    if isinstance(X, str | bytes | Mapping) or sp.issparse(X):
        raise ValueError(f"{list_of_arrays}; got {type(X).__name__}.")
    try:
        items = list(X)
    except TypeError:
        raise ValueError(f"{list_of_arrays}; got {type(X).__name__}.") from None
    if not items:
        raise ValueError(f"{name} is empty: it needs at least one recording.")
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
