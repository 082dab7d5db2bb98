"""``algorithm="auto"``: the fastest exact backend for a reference, by a cost model.

Resolved in ``fit`` (:func:`fit_index`), never in ``__init__``: the model
predicts the BLAS engine's cost from the shape and measures how much a
KD-tree prunes on this very reference.  The constants are calibrated by
``benchmarks/calibrate_auto.py``.
"""

from __future__ import annotations

import numpy as np

from ._backends import candidate_backends
from ._cache import cached_build
from ._tree import TreeIndex

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
    tree.tree_.query(tree.exact_.tree_points(sample), k=min(n_ref, k + _PROBE_EXTRA))
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


def fit_index(
    reference,
    *,
    metric,
    metric_params,
    k: int,
    algorithm: str = "auto",
    algorithm_params=None,
    memory=None,
):
    """Build the index of a validated reference: ``(backend name, index)``.

    ``"auto"`` (and ``"brute"``) resolve to a concrete backend here; with
    ``memory`` every build goes through the ``memory=`` cache.
    """
    candidates = candidate_backends(algorithm, metric, metric_params)

    def build(name):
        return cached_build(
            memory, reference, metric, metric_params, name, algorithm_params
        )

    return choose_exact(candidates, reference, k, build)
