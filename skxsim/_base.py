"""What skxsim's estimators share: versioned pickles and the graph fit prologue."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.utils.validation import validate_data

from . import _validation
from ._neighbors import (
    check_algorithm_metric,
    check_algorithm_params,
    check_metric_params,
)
from ._version import __version__
from .exceptions import SkxsimVersionWarning


class VersionedPickleMixin:
    """Stamp the pickle with skxsim's version; warn when another loads it.

    A fitted estimator holds arrays laid out by this version of skxsim
    (indexes, stacked catalogues): loading it under another version warns,
    so that a stale model is refitted, not trusted.  ``_stale_state`` names
    what may be invalid after a version change (for the message).  Put it
    before :class:`~sklearn.base.BaseEstimator` in the bases, so that
    scikit-learn's own version check still runs.
    """

    _stale_state = "its fitted state"

    def __getstate__(self):
        state = super().__getstate__()
        state["_skxsim_version"] = __version__
        return state

    def __setstate__(self, state):
        version = state.pop("_skxsim_version", "unknown (pre-0.1)")
        if version != __version__:
            warnings.warn(
                f"This {type(self).__name__} was saved by skxsim {version} and "
                f"is loaded by skxsim {__version__}; {self._stale_state} may be "
                "invalid. Refit it with this version.",
                SkxsimVersionWarning,
                stacklevel=2,
            )
        super().__setstate__(state)


class NeighborGraphMixin:
    """The fit prologue of the estimators whose output is a neighbour graph.

    Subclasses declare :data:`~skxsim._validation.NEIGHBOR_GRAPH_CONSTRAINTS`
    among their ``_parameter_constraints`` and name their librosa-compatible
    function (``_function_face``) and why they take no ndarray bandwidth
    (``_no_matrix_bandwidth``).
    """

    _function_face: str
    _no_matrix_bandwidth: str

    def _refuse_bandwidth_matrix(self) -> None:
        """Before parameter validation, whose message would not say why."""
        _validation.reject_bandwidth_matrix(
            self.bandwidth,
            type(self).__name__,
            self._function_face,
            self._no_matrix_bandwidth,
        )

    def _validate_graph_params(self, X):
        """Check what the constraints cannot, validate ``X`` (reset) and the
        metric's parameters; return ``(X, metric_params)``."""
        _validation.check_bandwidth_value(self.bandwidth)
        _validation.check_n_jobs(self.n_jobs)
        check_algorithm_metric(self.algorithm, self.metric)
        check_algorithm_params(self.algorithm, self.algorithm_params)
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        metric_params = check_metric_params(self.metric, self.metric_params, X.shape[1])
        check_algorithm_metric(self.algorithm, self.metric, metric_params)
        return X, metric_params

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
