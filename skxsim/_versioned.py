"""Pickles that remember the skxsim version that wrote them.

A fitted estimator holds arrays laid out by this version of skxsim (indexes,
stacked catalogues).  Its pickle carries the version, and loading it under
another version warns, so that a stale model is refitted, not trusted.
"""

from __future__ import annotations

import warnings

from ._version import __version__


class SkxsimVersionWarning(UserWarning):
    """A model pickled by another skxsim version was loaded."""


class VersionedPickleMixin:
    """Stamp the pickle with skxsim's version; warn when another loads it.

    ``_stale_state`` names what may be invalid after a version change (for
    the message).  Put it before :class:`~sklearn.base.BaseEstimator` in the
    bases, so that scikit-learn's own version check still runs.
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
