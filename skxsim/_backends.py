"""The backend registry, and how ``algorithm="auto"`` chooses among them.

A backend builds an index (see ``_index.NeighborIndex``) of a validated
reference: ``build(reference, metric, metric_params, algorithm_params)``.
:data:`BACKENDS` lists them with the metrics they compute; the public
``algorithm`` values derive from it.  ``"auto"`` is resolved in ``fit`` into
a concrete, always exact, backend by :func:`choose_exact`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._approximate import HNSW_METRICS, NNDESCENT_METRICS, build_hnsw, build_nndescent
from ._index import BlasIndex, BruteIndex, TreeIndex
from ._metrics import (
    ALL_METRICS,
    BALL_TREE_METRICS,
    BLAS_METRICS,
    BRUTE_METRICS,
    KD_TREE_METRICS,
    canonical,
    is_blas_metric,
)


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


def check_algorithm_metric(algorithm: str, metric) -> None:
    """A ``ValueError`` naming both when ``algorithm`` cannot compute ``metric``."""
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


def candidate_backends(algorithm: str, metric, metric_params) -> list[str]:
    """The concrete backends ``algorithm`` may resolve to, cheapest first.

    For ``"auto"``: the BLAS engine (BLAS metrics) or scikit-learn's
    distances by brute force, and a KD-tree where the cost model may prefer
    one; a metric brute force lacks goes to the tree that has it.
    """
    blas = is_blas_metric(metric, metric_params)
    if algorithm == "brute":
        return ["blas" if blas else "brute"]
    if algorithm != "auto":
        return [algorithm]
    name = canonical(metric)
    if blas:
        return ["blas", "kd_tree"]
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


# ----------------------------------------------------------------- cost model
# Nanoseconds on one core, fitted by ``benchmarks/calibrate_auto.py`` on the
# benchmark's librosa features (the machine named in benchmarks/README.md):
# the BLAS engine's cost per query frame is n_ref * (a + b * d) + c * k (the
# product and the passes over the scores, then the k neighbours' handling);
# a KD-tree's is its distance evaluations times (e + f * d).
BLAS_NS = (0.88, 0.0134, 127.5)
TREE_NS_PER_CALL = (31.1, 1.15)
# The tree's cost is measured on reference frames, which may still sit
# closer to the reference than the queries will: it must win by this factor.
TREE_SAFETY = 2.0
# Beyond this many features a KD-tree prunes too little to compete, and
# below this many reference frames per neighbour it visits too many of them
# (calibrate_auto.py: at 10000 per neighbour, 100000 frames of chroma and
# k = 10, the tree takes 1.7x the BLAS engine's time): the tree is not even
# built then.
TREE_MAX_FEATURES = 24
TREE_MIN_FRAMES_PER_NEIGHBOUR = 20000
# Reference frames used to measure how much the tree prunes, and how many
# neighbours beyond k they ask for: a frame's nearest neighbours are its own
# neighbours in time, nearer than another recording's frames will be; past
# them the probe searches as far as real queries do (calibrate_auto.py: it
# under-counts real queries' evaluations 1.3-1.7x, against 1.4-5.4x at k + 1).
_PROBE_ROWS = 256
_PROBE_EXTRA = 64


def probe_calls(tree: TreeIndex, k: int) -> float:
    """The tree's distance evaluations per query, measured on an evenly spaced
    sample of reference frames (deterministic for a reference and k)."""
    n_ref = tree.n_samples_fit_
    sample = tree.reference_[:: max(1, n_ref // _PROBE_ROWS)][:_PROBE_ROWS]
    tree.tree_.reset_n_calls()
    tree.tree_.query(tree._points(sample), k=min(n_ref, k + _PROBE_EXTRA))
    return tree.tree_.get_n_calls() / max(len(sample), 1)


def predicted_costs(tree: TreeIndex, k: int) -> tuple[float, float]:
    """Predicted (blas, tree) nanoseconds per query frame for this reference."""
    n_ref, d = tree.n_samples_fit_, tree.n_features_in_
    blas = n_ref * (BLAS_NS[0] + BLAS_NS[1] * d) + BLAS_NS[2] * k
    tree_ns = probe_calls(tree, k) * (TREE_NS_PER_CALL[0] + TREE_NS_PER_CALL[1] * d)
    return blas, tree_ns


def choose_exact(candidates: list[str], reference: np.ndarray, k: int, build):
    """Resolve ``"auto"``: build the candidate indexes the cost model needs and
    return ``(name, index)`` of the cheapest.  ``build(name)`` builds one
    (through the ``memory=`` cache)."""
    if candidates == ["blas", "kd_tree"]:
        n_ref, d = reference.shape
        if d > TREE_MAX_FEATURES or n_ref < TREE_MIN_FRAMES_PER_NEIGHBOUR * k:
            return "blas", build("blas")
        tree = build("kd_tree")
        blas_ns, tree_ns = predicted_costs(tree, k)
        if TREE_SAFETY * tree_ns < blas_ns:
            return "kd_tree", tree
        return "blas", build("blas")
    return candidates[0], build(candidates[0])
