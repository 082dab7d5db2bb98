"""The backend registry: every neighbour index skxsim can build.

A backend builds an index (see ``_exact.NeighborIndex``) of a validated
reference: ``build(reference, metric, metric_params, algorithm_params)``.
:data:`BACKENDS` lists them with the metrics they compute; the public
``algorithm`` values derive from it.  ``"auto"`` is resolved in ``fit`` into
a concrete, always exact, backend by ``_auto``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ._approximate import HNSW_METRICS, NNDESCENT_METRICS, build_hnsw, build_nndescent
from ._exact import BlasIndex, BruteIndex
from ._metrics import (
    ALL_METRICS,
    BALL_TREE_METRICS,
    BLAS_METRICS,
    BRUTE_METRICS,
    CKD_TREE_METRICS,
    KD_TREE_METRICS,
    canonical,
    is_blas_metric,
    p_norm,
)
from ._tree import TreeIndex


def _build_blas(reference, metric, metric_params, algorithm_params):
    return BlasIndex(reference, metric)


def _build_brute(reference, metric, metric_params, algorithm_params):
    return BruteIndex(reference, metric, metric_params)


def _tree_builder(kind):
    def build(reference, metric, metric_params, algorithm_params):
        return TreeIndex(reference, metric, metric_params, kind)

    return build


@dataclass(frozen=True)
class Backend:
    """A registered backend: its builder, the metrics it computes, whether it
    is exact, and the optional extra that provides it."""

    build: Callable
    metrics: frozenset
    exact: bool = True
    extra: str | None = None
    accepts_callable: bool = False


# Trees search the BLAS metrics too: euclidean trees (of unit vectors for
# cosine), with the distances recomputed by the BLAS engine's exact formula.
_BLAS_NAMES = frozenset(BLAS_METRICS)

BACKENDS: dict[str, Backend] = {
    # "blas" is what "auto" and "brute" resolve to for the BLAS metrics.
    "blas": Backend(_build_blas, _BLAS_NAMES),
    "brute": Backend(_build_brute, frozenset(ALL_METRICS), accepts_callable=True),
    "kd_tree": Backend(_tree_builder("kd_tree"), KD_TREE_METRICS | _BLAS_NAMES),
    "ball_tree": Backend(
        _tree_builder("ball_tree"),
        BALL_TREE_METRICS | _BLAS_NAMES,
        accepts_callable=True,
    ),
    # SciPy's cKDTree (a core dependency): the p-norms, p >= 1.
    "ckd_tree": Backend(_tree_builder("ckd_tree"), CKD_TREE_METRICS | _BLAS_NAMES),
    # Approximate, optional extras: their libraries load only when an index
    # is built (or unpickled).
    "hnsw": Backend(build_hnsw, frozenset(HNSW_METRICS), exact=False, extra="hnsw"),
    "nndescent": Backend(
        build_nndescent, frozenset(NNDESCENT_METRICS), exact=False, extra="nndescent"
    ),
}


def public_algorithms() -> list[str]:
    """Values users may pass as ``algorithm``: "auto" and the registry's,
    but "blas" (what "auto" and "brute" use for the BLAS metrics)."""
    return ["auto"] + [name for name in BACKENDS if name != "blas"]


def check_algorithm_params(algorithm: str, algorithm_params) -> None:
    """Exact backends take no ``algorithm_params`` (they would only enter the
    cache key); the approximate ones check theirs when they build."""
    if algorithm_params and (algorithm == "auto" or BACKENDS[algorithm].exact):
        raise ValueError(
            f"algorithm={algorithm!r} is exact and takes no algorithm_params; "
            f"got {algorithm_params!r}. They apply to 'hnsw' and 'nndescent'."
        )


def _tree_refusal(algorithm: str, name, metric, metric_params) -> str | None:
    """Why a tree cannot search ``name`` with these parameters (scikit-learn's
    NearestNeighbors refuses the same for its trees), or None."""
    params = metric_params or {}
    if algorithm == "ckd_tree":
        if is_blas_metric(metric, metric_params) or p_norm(metric, metric_params):
            return None
        return "it computes minkowski distances with p >= 1 and no weights."
    if name != "minkowski" or algorithm not in ("kd_tree", "ball_tree"):
        return None
    if algorithm == "kd_tree" and params.get("w") is not None:
        return (
            "the KD-tree's bounds ignore the weights metric_params['w'] (its "
            "answers would be wrong); use algorithm='ball_tree' or 'brute'."
        )
    if float(params.get("p", 2)) < 1:
        return (
            f"minkowski with p={params['p']} < 1 is not a metric (no triangle "
            "inequality), so a tree prunes wrongly; use algorithm='brute'."
        )
    return None


def check_algorithm_metric(algorithm: str, metric, metric_params=None) -> None:
    """A ``ValueError`` naming both when ``algorithm`` cannot compute ``metric``
    (with these validated ``metric_params``)."""
    if algorithm == "auto":
        return
    backend = BACKENDS[algorithm]
    if callable(metric):
        if not backend.accepts_callable:
            raise ValueError(
                f"algorithm={algorithm!r} does not accept a callable metric; "
                "use algorithm='brute' or 'ball_tree'."
            )
        return
    name = canonical(metric)
    if name not in backend.metrics and metric not in backend.metrics:
        raise ValueError(
            f"metric={metric!r} is not supported by algorithm={algorithm!r}; "
            f"it supports {sorted(backend.metrics)}."
        )
    refusal = _tree_refusal(algorithm, name, metric, metric_params)
    if refusal:
        raise ValueError(
            f"algorithm={algorithm!r} cannot search metric={metric!r} with "
            f"metric_params={metric_params!r}: {refusal}"
        )


def candidate_backends(algorithm: str, metric, metric_params) -> list[str]:
    """The concrete backends ``algorithm`` may resolve to, cheapest first.

    For ``"auto"``: the BLAS engine (BLAS metrics) or scikit-learn's
    distances by brute force, and SciPy's KD-tree where the cost model may
    prefer it; a metric brute force lacks goes to the tree that has it.
    """
    blas = is_blas_metric(metric, metric_params)
    if algorithm == "brute":
        return ["blas" if blas else "brute"]
    if algorithm != "auto":
        return [algorithm]
    name = canonical(metric)
    if blas:
        return ["blas", "ckd_tree"]
    if callable(name) or name in BRUTE_METRICS:
        return ["brute"]
    if name in KD_TREE_METRICS:
        return ["kd_tree"]
    return ["ball_tree"]


def build_index(reference, metric, metric_params, algorithm, algorithm_params=None):
    """Build the index of ``reference`` with the concrete ``algorithm``.

    This is the function the ``memory=`` cache wraps: its result depends only
    on the reference content and these index parameters.
    """
    return BACKENDS[algorithm].build(
        reference, metric, metric_params, algorithm_params or {}
    )
