"""Parameters: one declaration each, the defaults of ``k``, and the checks
a constraint cannot express.

One declaration per parameter (scikit-learn's constraint objects, on the
package's rule for numbers in ``skxsim._constraints``), used by the
estimators' ``_parameter_constraints`` and by ``validate_params`` on the
functions, so that every entry point accepts and rejects the same values.
The neighbour index's parameters (``metric``, ``algorithm``,
``algorithm_params``) are the engine's declarations, re-exported here.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from joblib.parallel import get_active_backend
from sklearn.utils._param_validation import (
    HasMethods,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)

from .._constraints import N_JOBS, POSITIVE_INT, POSITIVE_REAL, Number
from .._graph import BANDWIDTH_NAMES, MODES
from .._neighbors import ALGORITHM, METRIC, n_threads_for

# ------------------------------------------------------------ declarations

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
MODE = [StrOptions(set(MODES))]
BANDWIDTH = [*POSITIVE_REAL, StrOptions(set(BANDWIDTH_NAMES)), None]
MEMORY = [None, str, HasMethods(["cache"])]
GAP_COST = [Number(Real, 0, np.inf, closed="both")]
N_SHIFTS = [Number(Integral, 0, None, closed="left")]

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


def parallel_n_jobs(n_jobs):
    """``n_jobs`` for :class:`joblib.Parallel`, in skxsim's one meaning of it.

    ``n_jobs`` is how many cores a call may use, in joblib's convention
    (``-1``: all).  ``None`` is the fast default: the cores this process may
    use (as the engine's threads count them), unless an active
    :func:`joblib.parallel_config` sets ``n_jobs``, which then decides.
    """
    if n_jobs is not None:
        return n_jobs
    if get_active_backend()[1] is not None:
        return None
    return n_threads_for(None)


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
