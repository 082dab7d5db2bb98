"""Parameter validation shared by the estimators and the librosa drop-ins.

One declaration per parameter (scikit-learn's constraint objects), used both
by the estimators' ``_parameter_constraints`` and by ``validate_params`` on
the functions, so the two faces accept and reject the same values.
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
)

from ._backends import public_algorithms
from ._graph import BANDWIDTH_NAMES, MODES
from ._metrics import ALL_METRICS

K = [Interval(Integral, 1, None, closed="left"), None]
METRIC = [StrOptions(set(ALL_METRICS)), callable]
MODE = [StrOptions(set(MODES))]
BANDWIDTH = [
    Interval(Real, 0, None, closed="neither"),
    StrOptions(set(BANDWIDTH_NAMES)),
    None,
]
ALGORITHM = [StrOptions(set(public_algorithms()))]
N_JOBS = [Integral, None]
MEMORY = [None, str, HasMethods(["cache"])]


def default_k(n_ref: int) -> int:
    """librosa's default: ``min(n_ref, 2 * ceil(sqrt(n_ref)))``."""
    return int(min(n_ref, 2 * math.ceil(math.sqrt(n_ref))))


def resolve_k(k: int | None, n_ref: int) -> int:
    """``k`` for a reference of ``n_ref`` frames: the default, or clipped."""
    return default_k(n_ref) if k is None else int(min(k, n_ref))


def check_bandwidth_value(bandwidth) -> None:
    """A finite positive number (a float bandwidth that passed validation)."""
    if isinstance(bandwidth, Real) and not math.isfinite(bandwidth):
        raise ValueError(f"bandwidth must be a finite float > 0; got {bandwidth!r}.")


def check_bandwidth_matrix(bandwidth: np.ndarray, n: int, n_ref: int) -> None:
    """An ndarray bandwidth ``(n, n_ref)`` indexed ``[query, reference]``, > 0."""
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
