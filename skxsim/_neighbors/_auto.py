"""``algorithm="auto"``: the fastest exact backend for a reference, by a cost model.

Resolved in ``fit`` (:func:`fit_index`), never in ``__init__``, between the
BLAS engine and SciPy's cKDTree (``"ckd_tree"``) for the BLAS metrics.  The
model predicts each one's cost per query frame from the shape (reference
length, features, k); where it favours the tree, the tree is built and a
probe measures the reference's intrinsic dimension, which vetoes the tree
for data that fill their space (a KD-tree then visits most frames).  The
constants are calibrated by ``benchmarks/calibrate_auto.py``.
"""

from __future__ import annotations

import numpy as np

from ._backends import candidate_backends
from ._cache import cached_build
from ._params import check_index_params
from ._tree import TreeIndex

# Nanoseconds per query frame on one core, fitted by
# ``benchmarks/calibrate_auto.py`` on the benchmark's librosa features (the
# machine named in benchmarks/README.md).  The BLAS engine's cost is
# n_ref * (a + b * d) + c * k: the product and the passes over the scores,
# then the k neighbours' handling.
BLAS_NS = (1.08, 0.0306, 94.4)
# cKDTree's is (n_ref / 1e4) ** e * (a + b * k) * exp(g * (d - 12)), measured
# on queries from another recording than the reference (a cover against its
# song or a catalogue), which lie farther from the reference's frames than
# its own frames do and cost the tree several times more.
TREE_NS = (1.19e4, 218.0)
TREE_EXPONENTS = (0.338, 0.206)
# The tree must be predicted this much cheaper (the model's error across the
# calibration's features is up to about this factor either way).
TREE_SAFETY = 1.0
# Beyond this many features the tree is not even considered.
TREE_MAX_FEATURES = 32
# Beyond this intrinsic dimension (measured by the probe) a KD-tree prunes
# too little.  Measured here at 100000 frames: chroma 2-3, MFCC 4.5;
# Gaussian noise in 6 dimensions 6 (cKDTree 3-7x faster than the BLAS
# engine at k = 3-30), in 8 dimensions 7.8 (2x faster to 1.05x slower), in
# 12 dimensions 11 (3.5-5x slower).
TREE_MAX_DIMENSION = 8.0
# Reference frames the probe queries (about 1 ms at 100000 frames), and the
# neighbour counts between which it measures how the distance grows:
# N(r) ~ r ** m.
_PROBE_ROWS = 32
_PROBE_NEIGHBOURS = (8, 64)


def blas_ns(n_ref: int, d: int, k: int) -> float:
    """Predicted nanoseconds per query frame of the BLAS engine, one core."""
    return n_ref * (BLAS_NS[0] + BLAS_NS[1] * d) + BLAS_NS[2] * k


def tree_ns(n_ref: int, d: int, k: int) -> float:
    """Predicted nanoseconds per query frame of cKDTree, one core."""
    exponent, growth = TREE_EXPONENTS
    return (
        (n_ref / 1e4) ** exponent
        * (TREE_NS[0] + TREE_NS[1] * k)
        * np.exp(growth * (d - 12))
    )


def probe_dimension(tree: TreeIndex) -> float:
    """The reference's intrinsic dimension m, as its frames' neighbours see it.

    On an evenly spaced sample of reference frames (deterministic for a
    reference): the median over the sample of ``log(j2 / j1) / log(r_j2 /
    r_j1)``, ``r_j`` being a frame's distance to its j-th nearest other frame.
    0 for a reference too short to measure.
    """
    j1, j2 = _PROBE_NEIGHBOURS
    n_ref = tree.n_samples_fit_
    if n_ref <= j2:
        return 0.0
    sample = tree.reference_[:: max(1, n_ref // _PROBE_ROWS)][:_PROBE_ROWS]
    dist, _ = tree.engine_.query(tree.exact_.tree_points(sample), j2 + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.log(dist[:, j2]) - np.log(dist[:, j1])
    growth = np.where(np.isfinite(growth), growth, np.inf)  # duplicates: r = 0
    return float(np.log(j2 / j1) / np.median(growth))


def choose_exact(candidates: list[str], reference: np.ndarray, k: int, build):
    """Resolve ``"auto"``: build the candidate indexes the cost model needs and
    return ``(name, index)`` of the cheapest.  ``build(name)`` builds one
    (through the ``memory=`` cache)."""
    if candidates == ["blas", "ckd_tree"]:
        n_ref, d = reference.shape
        if d > TREE_MAX_FEATURES or TREE_SAFETY * tree_ns(n_ref, d, k) >= blas_ns(
            n_ref, d, k
        ):
            return "blas", build("blas")
        tree = build("ckd_tree")
        if probe_dimension(tree) > TREE_MAX_DIMENSION:
            return "blas", build("blas")
        return "ckd_tree", tree
    return candidates[0], build(candidates[0])


def fit_index(
    reference,
    *,
    metric,
    metric_params=None,
    k: int,
    algorithm: str = "auto",
    algorithm_params=None,
    memory=None,
):
    """Build the index of a validated reference: ``(backend name, index)``.

    The engine's one entry point: every index skxsim builds comes from here,
    so the metric, ``metric_params``, ``algorithm`` and ``algorithm_params``
    are checked here (:func:`~._params.check_index_params`) before any
    backend sees a value, whichever estimator or function calls.
    ``"auto"`` (and ``"brute"``) resolve to a concrete backend here; with
    ``memory`` every build goes through the ``memory=`` cache.
    """
    metric_params, algorithm_params = check_index_params(
        reference.shape[1], metric, metric_params, algorithm, algorithm_params
    )
    candidates = candidate_backends(algorithm, metric, metric_params)

    def build(name):
        return cached_build(
            memory, reference, metric, metric_params, name, algorithm_params
        )

    return choose_exact(candidates, reference, k, build)
