"""scikit-learn's estimator checks for RecurrenceMatrix."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skxsim import RecurrenceMatrix

# The output's columns are the input's frames, and the band |i - j| < width
# is a window in time: a recurrence matrix is a property of the whole
# sequence in its order, which is exactly what these two checks forbid.
_WHOLE_SEQUENCE = {
    "check_methods_subset_invariance": (
        "the recurrence matrix of a subset of frames is that of another sequence"
    ),
    "check_methods_sample_order_invariance": (
        "the recurrence matrix depends on the order of the frames (time)"
    ),
}

ESTIMATORS = [
    RecurrenceMatrix(),
    RecurrenceMatrix(mode="affinity", sparse=False, width=3),
    RecurrenceMatrix(mode="distance", metric="manhattan", sym=True),
    RecurrenceMatrix(mode="affinity", metric="cosine", bandwidth="mean_k"),
    RecurrenceMatrix(mode="distance", full=True, sparse=False, include_self=True),
    RecurrenceMatrix(algorithm="kd_tree", mode="distance", k=2, include_self=True),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda e: _WHOLE_SEQUENCE)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
