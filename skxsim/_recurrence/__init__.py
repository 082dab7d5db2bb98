"""Self-similarity: the recurrence matrix, its two faces, and the lag views."""

from ._estimator import RecurrenceMatrix
from ._function import recurrence_matrix
from ._lag import lag_to_recurrence, recurrence_to_lag

__all__ = [
    "RecurrenceMatrix",
    "lag_to_recurrence",
    "recurrence_matrix",
    "recurrence_to_lag",
]
