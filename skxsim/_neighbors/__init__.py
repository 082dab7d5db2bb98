"""The neighbour engine: everything the workflows need to find neighbours.

Data flows one way through it: a validated reference is indexed
(``_auto.fit_index``, the one entry point, which checks every parameter
it receives against the declarations of ``_params``, over the backends of
``_backends``: the BLAS engine of
``_exact`` on the certified product of ``_product``, the trees of ``_tree``,
the approximate indexes of ``_approximate`` on the float32 frames of
``_float32``; ``_scaling`` keeps every exact path exact from 1e-300 to
1e308), then the blocked search of
``_search`` runs every query row against the index on the threads of
``_parallel``, each row keeping its k smallest by the one rule of
``_select``.  ``_metrics`` is the metric registry, ``_cache`` the
``memory=`` cache of index builds.

Nothing here imports an estimator or a workflow.  Orientation: scikit-learn
(rows are frames).
"""

from ._auto import fit_index
from ._backends import public_algorithms
from ._metrics import ALL_METRICS, blas_metric, check_metric_params, is_blas_metric
from ._parallel import n_threads_for, single_threaded_blas
from ._params import (
    ALGORITHM,
    BACKEND_PARAMS,
    METRIC,
    check_backend_params,
    check_index_params,
)
from ._product import ApproxKeys, BlasScores, PairDistances
from ._scaling import (
    as_output_dtype,
    divided,
    pow2_peak,
    pow2_scale,
    row_norms,
    scaled_apply,
    unit_factors,
    unit_rows,
)
from ._search import (
    Neighbors,
    all_distances,
    full_row_statistics,
    kneighbors,
    reference_statistics,
)
from ._select import k_smallest_mask

__all__ = [
    "ALGORITHM",
    "ALL_METRICS",
    "BACKEND_PARAMS",
    "METRIC",
    "ApproxKeys",
    "BlasScores",
    "Neighbors",
    "PairDistances",
    "all_distances",
    "blas_metric",
    "as_output_dtype",
    "check_backend_params",
    "check_index_params",
    "check_metric_params",
    "divided",
    "fit_index",
    "full_row_statistics",
    "is_blas_metric",
    "k_smallest_mask",
    "kneighbors",
    "n_threads_for",
    "public_algorithms",
    "reference_statistics",
    "pow2_peak",
    "pow2_scale",
    "unit_factors",
    "row_norms",
    "scaled_apply",
    "single_threaded_blas",
    "unit_rows",
]
