"""The package's rule for numbers, as scikit-learn constraint objects.

The lowest layer of validation: the engine declares its backend parameters
with these, and ``_validation`` every other parameter, so that every entry
point accepts and rejects the same values: Python and numpy scalars alike,
never a bool for a number, never ``0`` for ``n_jobs`` (joblib's rule).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval


class Number(Interval):
    """scikit-learn's ``Interval``, but a bool is not a number.

    scikit-learn 1.9's ``Interval(Integral, ...)`` takes Python's ``True`` as
    1 (``bool`` subclasses ``int``) and refuses numpy's ``np.True_``; skxsim
    refuses both, so that a Python scalar and its numpy twin are always
    treated alike.  Everything else (numpy scalars accepted, 0-d arrays
    refused, NaN refused, the message) is scikit-learn's.
    """

    def is_satisfied_by(self, val):
        return not isinstance(val, bool | np.bool_) and super().is_satisfied_by(val)


class NonZeroInt(Number):
    """joblib's ``n_jobs``: any int but 0 (``-1`` is every core)."""

    def __init__(self):
        super().__init__(Integral, None, None, closed="neither")

    def is_satisfied_by(self, val):
        return super().is_satisfied_by(val) and val != 0

    def __str__(self):
        return "a non-zero int (joblib's rule: -1 means all cores)"


POSITIVE_INT = [Number(Integral, 1, None, closed="left")]
POSITIVE_REAL = [Number(Real, 0, None, closed="neither")]
N_JOBS = [NonZeroInt(), None]
# scikit-learn's "random_state" (a seed, a RandomState or None) without bools.
SEED = Number(Integral, 0, 2**32 - 1, closed="both")
RANDOM_STATE = [SEED, np.random.RandomState, None]


def python_scalar(value):
    """A numpy number or bool as the equal Python one; anything else as is."""
    return value.item() if isinstance(value, np.generic) else value


class Numbers(HasMethods):
    """``length`` numbers, each satisfying the :class:`Number` ``number``: a
    tuple, a list or a 1-d array of them (numpy scalars accepted, bools and
    strings refused, as for one number).  ``what`` describes them in the
    message (default: the length and ``number``).

    (A ``HasMethods`` of no methods only because scikit-learn's validation
    takes no other constraint class.)
    """

    def __init__(self, length: int, number: Number, what: str | None = None):
        super().__init__([])
        self.length, self.number, self.what = length, number, what

    def is_satisfied_by(self, val):
        if not isinstance(val, tuple | list | np.ndarray) or np.ndim(val) != 1:
            return False
        return len(val) == self.length and all(map(self.number.is_satisfied_by, val))

    def __str__(self):
        return self.what or f"{self.length} numbers, each {self.number}"


class OrderedPair(Numbers):
    """A pair ``(low, high)`` of numbers (:class:`Number`) within
    ``[lower, upper]``, ``low <= high``: a tuple, a list or an array of two."""

    def __init__(self, lower: float, upper: float):
        super().__init__(2, Number(Real, lower, upper, closed="both"))
        self.lower, self.upper = lower, upper

    def is_satisfied_by(self, val):
        return super().is_satisfied_by(val) and val[0] <= val[1]

    def __str__(self):
        return (
            f"a pair (low, high) of numbers with {self.lower} <= low <= high "
            f"<= {self.upper}"
        )
