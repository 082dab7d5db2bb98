"""Parameters: one declaration each, the defaults of ``k``, and the checks
a constraint cannot express.

One declaration per parameter (scikit-learn's constraint objects), used by
the estimators' ``_parameter_constraints`` and by ``validate_params`` on the
functions, so that every entry point accepts and rejects the same values:
Python and numpy scalars alike, never a bool for a number, never ``0`` for
``n_jobs`` (joblib's rule).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)

from .._graph import BANDWIDTH_NAMES, MODES
from .._neighbors import ALL_METRICS, public_algorithms

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
