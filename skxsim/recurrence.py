"""Self-similarity: the recurrence matrix, its two faces, and the lag views.

:class:`RecurrenceMatrix` (scikit-learn orientation) and
:func:`recurrence_matrix` (a drop-in for librosa's) are also importable
from :mod:`skxsim`; :func:`recurrence_to_lag` and :func:`lag_to_recurrence`
(librosa's, with its defects fixed) live here.
"""

from ._recurrence import (
    RecurrenceMatrix,
    lag_to_recurrence,
    recurrence_matrix,
    recurrence_to_lag,
)

__all__ = [
    "RecurrenceMatrix",
    "lag_to_recurrence",
    "recurrence_matrix",
    "recurrence_to_lag",
]
