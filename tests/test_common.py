"""scikit-learn's estimator checks over several configurations."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skxsim import Aligner, CrossSimilarity, Matcher, PathEnhance

ESTIMATORS = [
    CrossSimilarity(),
    CrossSimilarity(mode="affinity", sparse=False),
    CrossSimilarity(mode="distance", metric="manhattan"),
    CrossSimilarity(mode="affinity", metric="cosine", bandwidth="mean_k"),
    CrossSimilarity(mode="distance", full=True, sparse=False, k=3),
    CrossSimilarity(algorithm="kd_tree", mode="distance", k=2),
    CrossSimilarity(algorithm="ckd_tree", mode="distance", k=2),
]


# A query is one sequence in time order: its path, hence each frame's
# predicted position, depends on the other frames.
_SEQUENCE_CHECKS = {
    "check_methods_sample_order_invariance": (
        "predict aligns X as one sequence: shuffled rows are another query, "
        "with another path"
    ),
    "check_methods_subset_invariance": (
        "predict aligns X as one sequence: a subset of its rows is another "
        "query, aligned end to end on its own"
    ),
}

ALIGNERS = [
    Aligner(),
    Aligner(metric="euclidean", step_weights=(2, 1, 1), radius=2, coarse_frames=8),
]


@parametrize_with_checks(
    ESTIMATORS + [Matcher(), Matcher(metric="euclidean", pool=2, n_steps=2)]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@parametrize_with_checks(ALIGNERS, expected_failed_checks=lambda est: _SEQUENCE_CHECKS)
def test_sklearn_compatible_aligner(estimator, check):
    check(estimator)


# A similarity matrix's rows are frames of one sequence: a filter along its
# diagonals reads the neighbouring rows, so a row's output depends on them.
_MATRIX_CHECKS = {
    "check_methods_sample_order_invariance": (
        "transform smooths along paths through neighbouring rows (frames): "
        "shuffled rows are another matrix"
    ),
    "check_methods_subset_invariance": (
        "transform smooths along paths through neighbouring rows (frames): "
        "a subset of the rows is another matrix"
    ),
}


@parametrize_with_checks(
    [
        PathEnhance(),
        PathEnhance(n=5, zero_mean=True, clip=False, mode="constant", cval=0.5),
    ],
    expected_failed_checks=lambda est: _MATRIX_CHECKS,
)
def test_sklearn_compatible_path_enhance(estimator, check):
    check(estimator)
