"""The metric registry: every metric skxsim accepts, in one place.

For each name it answers: its canonical form (aliases resolved), which
engine computes it (skxsim's BLAS engine or a scikit-learn distance), which
``metric_params`` it takes and of which shape, and, through
:func:`metric_distances`, the one definition of its distance values that
every path (k-NN, ``full=True``, trees, approximate indexes) uses.

Orientation: scikit-learn (rows are frames).
"""

from __future__ import annotations

import itertools
from numbers import Real

import numpy as np
from sklearn.metrics import DistanceMetric, pairwise_distances
from sklearn.neighbors import VALID_METRICS

from ._scaling import pow2_peak, pow2_scale

# Every metric scikit-learn's NearestNeighbors accepts, whatever the algorithm,
# but "precomputed" (no meaning for a query and a reference given as
# features) and "pyfunc" (scikit-learn's internal name for a callable).
ALL_METRICS: tuple[str, ...] = tuple(
    sorted(
        set(itertools.chain.from_iterable(VALID_METRICS.values()))
        - {"precomputed", "pyfunc"}
    )
)

# Names that mean the same distance.
ALIASES = {
    "l2": "euclidean",
    "l1": "manhattan",
    "cityblock": "manhattan",
    "infinity": "chebyshev",
    "p": "minkowski",
}

# Metrics skxsim's BLAS engine computes (exactly: see ``_product``).
BLAS_METRICS = ("euclidean", "sqeuclidean", "cosine")

# Distances scikit-learn's DistanceMetric does not know: their definition is
# scikit-learn's ``pairwise_distances`` (SciPy's cdist for these), which is
# what NearestNeighbors uses for them.
_PAIRWISE_ONLY = ("correlation", "nan_euclidean", "yule", "sqeuclidean", "cosine")

# The metric_params each metric takes: name -> ("vector" | "matrix" |
# "positive", required).  Anything else is rejected.
_PARAMS = {
    "minkowski": {"p": ("positive", False), "w": ("vector", False)},
    "seuclidean": {"V": ("vector", True)},
    "mahalanobis": {"VI": ("matrix", False), "V": ("matrix", False)},
}

# Trees compute these metrics (scikit-learn's VALID_METRICS, canonical names).
KD_TREE_METRICS = frozenset(ALIASES.get(m, m) for m in VALID_METRICS["kd_tree"])
BALL_TREE_METRICS = frozenset(
    ALIASES.get(m, m) for m in VALID_METRICS["ball_tree"] if m != "pyfunc"
)
BRUTE_METRICS = frozenset(
    ALIASES.get(m, m) for m in VALID_METRICS["brute"] if m != "precomputed"
)
# SciPy's cKDTree computes the p-norms, p >= 1 (see :func:`p_norm`).
CKD_TREE_METRICS = frozenset({"euclidean", "manhattan", "chebyshev", "minkowski"})

# Distances of the frames' difference alone, homogeneous of degree 1
# (d(x / s, y / s) = d(x, y) / s): frames far beyond 1 or far below it are
# measured divided by a power of two (exact), and a pair's distance is the
# distance of its difference to the origin.
DIFFERENCE_METRICS = frozenset(
    {"manhattan", "chebyshev", "minkowski", "seuclidean", "mahalanobis"}
)


# How distances change when every frame is divided by s: d(X/s, Y/s) ==
# d(X, Y) / s**degree.  These metrics are computed on frames divided by a
# power of two near their peak when the frames are too large or too small
# for the powers they raise them to (1e-200 cubed underflows, 1e300 cubed
# overflows): dividing by a power of two is exact, so such data gets the
# distances of ordinary data, times s**degree.  Other metrics (haversine's
# radians, the boolean ones, callables) see the frames as given.
_DEGREE = {
    "manhattan": 1,
    "chebyshev": 1,
    "minkowski": 1,
    "seuclidean": 1,
    "mahalanobis": 1,
    "euclidean": 1,
    "nan_euclidean": 1,
    "canberra": 0,
    "braycurtis": 0,
    "correlation": 0,
}


def frame_scale(metric, metric_params, reference) -> tuple[float, int]:
    """``(s, degree)``: the power of two the frames are divided by before
    :func:`metric_distances` (1.0 for ordinary data) and the degree that
    turns distances back (``d * s**degree``)."""
    name = canonical(metric)
    if callable(name) or name not in _DEGREE:
        return 1.0, 0
    params = metric_params or {}
    # The largest power a frame's value is raised to in the sum.
    power = float(params.get("p", 2)) if name == "minkowski" else 2.0
    if name in ("manhattan", "chebyshev", "canberra", "braycurtis"):
        power = 1.0
    return pow2_scale(reference, limit=2.0 ** (400 / max(power, 1.0))), _DEGREE[name]


def canonical(metric):
    """The canonical name of ``metric`` (a callable is returned as is)."""
    if callable(metric):
        return metric
    return ALIASES.get(metric, metric)


def is_blas_metric(metric, metric_params) -> bool:
    """Whether the BLAS engine computes ``metric`` (with these params)."""
    name = canonical(metric)
    if name == "minkowski":
        # minkowski with p=2 and no weights is the euclidean distance.
        params = metric_params or {}
        return set(params) <= {"p"} and float(params.get("p", 2)) == 2.0
    return isinstance(name, str) and name in BLAS_METRICS and not metric_params


def p_norm(metric, metric_params) -> float | None:
    """The p of a metric that is an unweighted Minkowski p-norm with p >= 1
    (euclidean 2, manhattan 1, chebyshev inf), else None."""
    name = canonical(metric)
    params = metric_params or {}
    if name in ("euclidean", "manhattan", "chebyshev") and not params:
        return {"euclidean": 2.0, "manhattan": 1.0, "chebyshev": np.inf}[name]
    if name == "minkowski" and set(params) <= {"p"}:
        p = float(params.get("p", 2.0))
        return p if p >= 1 else None
    return None


def blas_metric(metric) -> str:
    """The BLAS engine's name for a metric :func:`is_blas_metric` accepts."""
    name = canonical(metric)
    return "euclidean" if name == "minkowski" else name


def check_metric_params(metric, metric_params, n_features: int) -> dict:
    """Validate ``metric_params`` for ``metric`` and ``n_features`` features.

    Returns the parameters as a new dict with arrays as float64 ndarrays.
    A key the metric does not take, a missing required array or an array of
    the wrong shape is a ``ValueError`` that names the parameter and the
    expected shape.
    """
    params = dict(metric_params or {})
    if callable(metric):
        return params
    name = canonical(metric)
    spec = _PARAMS.get(name, {})
    unknown = sorted(set(params) - set(spec))
    if unknown:
        accepted = sorted(spec) or "none"
        raise ValueError(
            f"metric_params {unknown} are not parameters of metric={metric!r}; "
            f"it accepts: {accepted}."
        )
    for key, (kind, required) in spec.items():
        if key not in params:
            if required:
                raise ValueError(
                    f"metric={metric!r} needs metric_params[{key!r}], an array "
                    f"of shape ({n_features},) (one variance per feature)."
                )
            continue
        value = params[key]
        if kind == "positive":
            if isinstance(value, bool) or not isinstance(value, Real) or not value > 0:
                raise ValueError(
                    f"metric_params[{key!r}] must be a number > 0; got {value!r}."
                )
            params[key] = float(value)
            continue
        shape = (n_features,) if kind == "vector" else (n_features, n_features)
        array = _real_array(value, f"metric_params[{key!r}] of metric={metric!r}")
        if array.shape != shape:
            raise ValueError(
                f"metric_params[{key!r}] of metric={metric!r} must be an array "
                f"of shape {shape} for {n_features} features; got shape "
                f"{array.shape}."
            )
        if key in ("V", "w") and kind == "vector" and not np.all(array > 0):
            raise ValueError(f"metric_params[{key!r}] must be > 0 everywhere.")
        params[key] = array
    if name == "mahalanobis":
        if ("V" in params) == ("VI" in params):
            raise ValueError(
                "metric='mahalanobis' needs exactly one of metric_params['VI'] "
                f"(inverse covariance) or metric_params['V'], of shape "
                f"({n_features}, {n_features})."
            )
        params = {"VI": _inverse_covariance(params)}
    if name == "haversine" and n_features != 2:
        raise ValueError(
            "metric='haversine' takes frames of 2 features (latitude, longitude "
            f"in radians); got {n_features}."
        )
    return params


def _real_array(value, what: str) -> np.ndarray:
    """``value`` as a finite float64 array, or a ``ValueError`` naming it."""
    try:
        array = np.asarray(value)
    except ValueError:  # ragged nested sequences
        array = np.asarray(None)
    if array.dtype.kind not in "iuf" or not np.all(np.isfinite(array)):
        raise ValueError(
            f"{what} must be an array of finite real numbers; got {value!r}."
        )
    return array.astype(np.float64)


def _symmetric_eigenvalues(M: np.ndarray) -> np.ndarray:
    """Eigenvalues of M's symmetric part, divided by a power of two near its
    peak (their signs are what counts; LAPACK fails near 1e308)."""
    M = M / pow2_peak(M)
    return np.linalg.eigvalsh((M + M.T) / 2)


def _inverse_covariance(params: dict) -> np.ndarray:
    """Mahalanobis's ``VI``: given, or the inverse of ``V``; checked to be
    (the inverse of) a covariance matrix, so that every distance is real."""
    if "V" in params:
        V = params["V"]
        eigenvalues = _symmetric_eigenvalues(V)
        # Positive definite, and invertible at float64's precision.
        floor = V.shape[0] * np.finfo(np.float64).eps * np.max(np.abs(eigenvalues))
        if not eigenvalues.min() > floor:
            problem = "singular" if abs(eigenvalues.min()) <= floor else "indefinite"
            raise ValueError(
                "metric_params['V'] of metric='mahalanobis' must be a covariance "
                f"matrix (symmetric positive definite); it is {problem} (smallest "
                f"eigenvalue {eigenvalues.min():.3g}). Pass metric_params['VI'] "
                "for a pseudo-inverse."
            )
        return np.linalg.inv(V)
    VI = params["VI"]
    eigenvalues = _symmetric_eigenvalues(VI)
    if eigenvalues.min() < -1e-12 * np.max(np.abs(eigenvalues)):
        raise ValueError(
            "metric_params['VI'] of metric='mahalanobis' must be positive "
            "semi-definite (an inverse covariance), or distances are not real; "
            f"its smallest eigenvalue is {eigenvalues.min():.3g}."
        )
    return VI


def metric_distances(X, Y, metric, metric_params) -> np.ndarray:
    """All distances between the rows of ``X`` and ``Y``, in float64.

    This is the definition of every non-BLAS distance in skxsim: scikit-learn's
    ``DistanceMetric`` where it knows the metric (what NearestNeighbors and
    hence librosa compute; e.g. Bray-Curtis as sum|u-v| / sum(|u|+|v|)), its
    ``pairwise_distances`` otherwise.  ``metric_params`` must have been
    validated by :func:`check_metric_params`.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    params = dict(metric_params or {})
    name = canonical(metric)
    if callable(name):
        return pairwise_distances(X, Y, metric=name, **params)
    if name in _PAIRWISE_ONLY:
        return pairwise_distances(X, Y, metric=name, **params)
    if name == "minkowski" and "p" not in params:
        params["p"] = 2.0
    return DistanceMetric.get_metric(name, **params).pairwise(X, Y)
