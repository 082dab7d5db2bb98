"""The engine's parameters, declared and checked where every caller passes.

:func:`check_index_params` is what :func:`~._auto.fit_index` runs before any
backend sees a value: the metric, its ``metric_params``, the algorithm and
its ``algorithm_params``, each against one declaration.  Outside these
declarations hnswlib crashes the interpreter (``M=0``), fails to allocate
(``M=1``), raises pybind11's TypeError (a negative seed) or truncates
(``M=2.5``), and pynndescent aborts (``leaf_size=0``) or raises numba's
TypingError (``n_neighbors=2.5``).  Each library's defaults are in
``_approximate``.
"""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import (
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)

from .._constraints import (
    N_JOBS,
    POSITIVE_INT,
    POSITIVE_REAL,
    SEED,
    Number,
    python_scalar,
)
from ._backends import (
    check_algorithm_metric,
    check_algorithm_params,
    public_algorithms,
)
from ._metrics import ALL_METRICS, check_metric_params

METRIC = [StrOptions(set(ALL_METRICS)), callable]
ALGORITHM = [StrOptions(set(public_algorithms()))]

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
    ``memory=`` cache entry).  An exact backend takes none; an unknown key or
    a value outside its declaration is an ``InvalidParameterError`` naming
    both.
    """
    check_algorithm_params(algorithm, algorithm_params)
    if algorithm_params is not None and not isinstance(algorithm_params, dict):
        raise InvalidParameterError(
            f"algorithm_params must be a dict or None; got {algorithm_params!r}."
        )
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


def check_index_params(
    n_features: int, metric, metric_params, algorithm: str, algorithm_params
) -> tuple[dict, dict]:
    """Every parameter of an index build, checked: ``(metric_params,
    algorithm_params)`` as the backends take them.

    ``metric`` and ``algorithm`` against :data:`METRIC` and
    :data:`ALGORITHM`, whether the algorithm computes the metric, the
    metric's parameters for ``n_features`` features, and the backend's.
    """
    validate_parameter_constraints(
        {"metric": METRIC, "algorithm": ALGORITHM, "metric_params": [dict, None]},
        {"metric": metric, "algorithm": algorithm, "metric_params": metric_params},
        caller_name="the neighbour index",
    )
    check_algorithm_metric(algorithm, metric)
    algorithm_params = check_backend_params(algorithm, algorithm_params)
    metric_params = check_metric_params(metric, metric_params, n_features)
    check_algorithm_metric(algorithm, metric, metric_params)
    return metric_params, algorithm_params
