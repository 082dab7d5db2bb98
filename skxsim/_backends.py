"""Neighbour-search backends behind one small interface, and their registry.

A backend turns a validated reference (rows are frames) into an *index*: a
picklable object with

- ``n_samples_fit_`` and ``n_features_in_``;
- ``kneighbors_block(X, k) -> (distances, indices)``, both of shape
  ``(len(X), k)``, each row's neighbours in ascending reference-index order
  (the order of a CSR row) and exactly ``k`` of them;
- ``exact`` (bool): whether the answers are exact.

Backends register a builder ``build(reference, metric, metric_params,
algorithm_params) -> index`` in :data:`BACKENDS` together with the metrics
they accept.  ``algorithm="auto"`` is resolved by :func:`resolve_algorithm`
into a concrete, always exact, choice.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.neighbors import VALID_METRICS, NearestNeighbors

from ._approximate import HNSW_METRICS, NNDESCENT_METRICS, build_hnsw, build_nndescent
from ._engine import FAST_METRICS, ExactIndex

# Every metric scikit-learn's NearestNeighbors accepts, but "precomputed",
# which has no meaning for a reference/query pair given as features.
ALL_METRICS = sorted(
    set(itertools.chain.from_iterable(VALID_METRICS.values())) - {"precomputed"}
)


class SklearnIndex:
    """A fitted :class:`sklearn.neighbors.NearestNeighbors` used as an index."""

    exact = True

    def __init__(self, reference, metric, metric_params, algorithm):
        self.reference_ = reference
        params = dict(metric_params or {})
        # NearestNeighbors takes minkowski's p as its own argument (and warns
        # when it comes through metric_params).
        p = params.pop("p", 2)
        self.nn_ = NearestNeighbors(
            algorithm=algorithm, metric=metric, p=p, metric_params=params or None
        ).fit(reference)
        self.n_samples_fit_, self.n_features_in_ = reference.shape

    def kneighbors_block(self, X, k):
        dist, ind = self.nn_.kneighbors(X, n_neighbors=k)
        # scikit-learn orders neighbours by distance; CSR rows want columns.
        order = np.argsort(ind, axis=1, kind="stable")
        return (
            np.take_along_axis(dist, order, axis=1),
            np.take_along_axis(ind, order, axis=1),
        )


class BLASIndex(ExactIndex):
    """The exact BLAS engine as a backend."""

    exact = True


def _build_exact(reference, metric, metric_params, algorithm_params):
    return BLASIndex(reference, metric)


def _sklearn_builder(algorithm):
    def build(reference, metric, metric_params, algorithm_params):
        return SklearnIndex(reference, metric, metric_params, algorithm)

    return build


@dataclass(frozen=True)
class Backend:
    """A registered backend: its builder and the metrics it accepts."""

    build: Callable
    metrics: tuple
    extra: str | None = None  # the optional extra that provides it


BACKENDS: dict[str, Backend] = {
    "exact": Backend(_build_exact, FAST_METRICS),
    "brute": Backend(_sklearn_builder("brute"), tuple(ALL_METRICS)),
    "kd_tree": Backend(_sklearn_builder("kd_tree"), tuple(VALID_METRICS["kd_tree"])),
    "ball_tree": Backend(
        _sklearn_builder("ball_tree"), tuple(VALID_METRICS["ball_tree"])
    ),
    # Approximate, optional extras: their libraries load only when an index
    # is built (or unpickled).
    "hnsw": Backend(build_hnsw, HNSW_METRICS, extra="hnsw"),
    "nndescent": Backend(build_nndescent, NNDESCENT_METRICS, extra="nndescent"),
}


def public_algorithms() -> list[str]:
    """Values users may pass as ``algorithm``: "auto" and the registry.

    "exact" is internal: it is what "auto" and "brute" resolve to for the
    metrics the BLAS engine computes.
    """
    return ["auto"] + [name for name in BACKENDS if name != "exact"]


def uses_fast_engine(metric, metric_params) -> bool:
    return isinstance(metric, str) and metric in FAST_METRICS and not metric_params


def resolve_algorithm(algorithm: str, metric, metric_params) -> str:
    """The concrete backend for ``algorithm`` and ``metric``.

    ``"auto"`` and ``"brute"`` use the BLAS engine where it computes the
    metric, scikit-learn's brute force otherwise.  A metric a backend does
    not accept is a ``ValueError`` naming both.
    """
    if algorithm in ("auto", "brute"):
        return "exact" if uses_fast_engine(metric, metric_params) else "brute"
    backend = BACKENDS[algorithm]
    if callable(metric) and algorithm in ("kd_tree", "ball_tree"):
        if algorithm == "kd_tree":
            raise ValueError(
                "algorithm='kd_tree' does not accept a callable metric; "
                "use algorithm='ball_tree' or 'brute'."
            )
        return algorithm
    if metric not in backend.metrics:
        raise ValueError(
            f"metric={metric!r} is not supported by algorithm={algorithm!r}; "
            f"it supports {sorted(backend.metrics)}."
        )
    return algorithm


def build_index(reference, metric, metric_params, algorithm, algorithm_params=None):
    """Build the index of ``reference`` with the resolved ``algorithm``.

    This is the function the ``memory=`` cache wraps: its result depends only
    on the reference content and these index parameters.
    """
    BUILD_COUNTER["builds"] += 1
    return BACKENDS[algorithm].build(
        reference, metric, metric_params, algorithm_params or {}
    )


# Incremented on every real (uncached) index build; tests read it to check
# that the cache is used.
BUILD_COUNTER = {"builds": 0}
