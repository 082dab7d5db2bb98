"""scikit-learn's estimator checks over several configurations."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skxsim import CrossSimilarity

ESTIMATORS = [
    CrossSimilarity(),
    CrossSimilarity(mode="affinity", sparse=False),
    CrossSimilarity(mode="distance", metric="manhattan"),
    CrossSimilarity(mode="affinity", metric="cosine", bandwidth="mean_k"),
    CrossSimilarity(mode="distance", full=True, sparse=False, k=3),
    CrossSimilarity(algorithm="kd_tree", mode="distance", k=2),
    CrossSimilarity(algorithm="ckd_tree", mode="distance", k=2),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
