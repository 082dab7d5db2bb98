"""The one estimator base: what every skxsim estimator shares.

:class:`SkxsimEstimator` holds, once: the parameter constraints checked at
fit *and again at use* (``set_params`` after fit cannot slip a value past
them), the guard against changing after fit a parameter that shaped the
fitted state, the validation of a sequence that names the argument in every
message, and versioned pickling.  Subclasses compose their
``_parameter_constraints`` from shared dicts, as scikit-learn's neighbour
estimators build on ``NeighborsBase``; ``tests/test_layout.py`` fails when
an estimator does not derive from it.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import validate_parameter_constraints
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _validation
from ._neighbors import check_index_params
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


def same_value(a, b) -> bool:
    """Whether two parameter values are equal (dicts and arrays by content)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[key], b[key]) for key in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return a is b or a == b


class SkxsimEstimator(VersionedPickleMixin, BaseEstimator):
    """The base of every skxsim estimator.

    ``_fit_params`` names the parameters the fitted state depends on (an
    index, a catalogue): :meth:`_remember_fit_params` records them in
    ``fit``, and :meth:`_check_usable`, which every method that uses the
    fitted state calls first, refuses one changed since, validates every
    parameter again (``set_params`` runs no validation) and checks that the
    estimator is fitted.
    """

    _fit_params: tuple[str, ...] = ()

    def _remember_fit_params(self) -> None:
        self._fitted_params = {name: getattr(self, name) for name in self._fit_params}

    def _check_usable(self) -> None:
        """Fitted, its parameters valid, none that shaped the fit changed."""
        check_is_fitted(self)
        self._validate_params()
        for name, value in getattr(self, "_fitted_params", {}).items():
            current = getattr(self, name)
            if not same_value(current, value):
                raise ValueError(
                    f"{name}={current!r} differs from {name}={value!r} used in "
                    f"fit: the fitted state of this {type(self).__name__} "
                    f"depends on it. Fit again after set_params({name}=...)."
                )

    def _check_call_params(self, method: str, constraints: dict, **values) -> None:
        """A method's own arguments against their declarations, named as
        ``Estimator.method``'s."""
        validate_parameter_constraints(
            constraints, values, caller_name=f"{type(self).__name__}.{method}"
        )

    def _validate_sequence(self, X, name: str, *, reset: bool, min_frames: int = 1):
        """A sequence (frames as rows) for this estimator, float64 or float32.

        scikit-learn's ``validate_data`` (feature count and names; ``reset``
        in fit), every message naming ``name``, then
        :func:`~skxsim._validation.check_frame_count`.
        """
        try:
            X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])
        except (ValueError, TypeError) as exc:
            raise _validation.naming(exc, name) from None
        _validation.check_frame_count(X, name, min_frames)
        return X


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

    def _check_graph_usable(self) -> None:
        """At use: the base's checks, after the ones a constraint cannot
        make (whose message says why)."""
        self._refuse_bandwidth_matrix()
        _validation.check_bandwidth_value(self.bandwidth)
        self._check_usable()

    def _validate_graph_params(self, X):
        """Check what the constraints cannot, validate ``X`` (reset), the
        metric's and the backend's parameters; return ``(X, metric_params,
        algorithm_params)``."""
        _validation.check_bandwidth_value(self.bandwidth)
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        metric_params, algorithm_params = check_index_params(
            X.shape[1],
            self.metric,
            self.metric_params,
            self.algorithm,
            self.algorithm_params,
        )
        return X, metric_params, algorithm_params

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
