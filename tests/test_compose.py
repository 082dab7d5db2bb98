"""CrossSimilarity in Pipeline, FeatureUnion, GridSearchCV and clone."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler

from skxsim import CrossSimilarity


def labelled_frames(rng, n_per_class=40, n_classes=3, d=8, centers=None):
    if centers is None:
        centers = np.random.default_rng(0).standard_normal((n_classes, d)) * 3
    y = np.repeat(np.arange(n_classes), n_per_class)
    X = centers[y] + rng.standard_normal((len(y), d))
    groups = np.tile(np.arange(4), len(y) // 4)
    return X, y, groups


@pytest.mark.parametrize("memory", [None, "cache"])
def test_pipeline(tmp_path, rng, memory):
    X, y, _ = labelled_frames(rng)
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("xsim", CrossSimilarity(k=5, mode="affinity")),
            ("clf", LogisticRegression()),
        ],
        memory=None if memory is None else str(tmp_path / memory),
    )
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.9
    # The transform step sees the scaled frames and indexes all of them.
    xsim = pipe[:-1].transform(X)
    assert xsim.shape == (len(X), len(X))
    expected = CrossSimilarity(k=5, mode="affinity").fit(
        StandardScaler().fit_transform(X)
    )
    assert (xsim != expected.transform(StandardScaler().fit(X).transform(X))).nnz == 0
    if memory is not None:
        again = clone(pipe).fit(X, y)  # fitted transformers come from the cache
        assert (again[:-1].transform(X) != xsim).nnz == 0


def test_feature_union(rng):
    X, y, _ = labelled_frames(rng)
    union = FeatureUnion(
        [
            ("euc", CrossSimilarity(k=3)),
            ("cos", CrossSimilarity(k=4, metric="cosine", mode="distance")),
        ]
    )
    out = union.fit(X).transform(X)
    assert out.shape == (len(X), 2 * len(X))
    left = CrossSimilarity(k=3).fit(X).transform(X)
    right = CrossSimilarity(k=4, metric="cosine", mode="distance").fit(X).transform(X)
    out = out.tocsr()
    assert (out[:, : len(X)] != left).nnz == 0
    assert (out[:, len(X) :] != right).nnz == 0
    names = union.get_feature_names_out()
    assert (
        names[0] == "euc__crosssimilarity0"
        and names[-1] == f"cos__crosssimilarity{len(X) - 1}"
    )


def test_grid_search_over_k_and_metric(tmp_path, rng):
    X, y, groups = labelled_frames(rng)
    pipe = Pipeline(
        [
            ("xsim", CrossSimilarity(memory=str(tmp_path / "idx"))),
            ("clf", LogisticRegression()),
        ]
    )
    grid = GridSearchCV(
        pipe,
        {
            "xsim__k": [1, 5, 15],
            "xsim__metric": ["euclidean", "cosine", "manhattan"],
            "xsim__mode": ["connectivity", "affinity"],
        },
        cv=GroupKFold(n_splits=4),
        n_jobs=2,
    )
    grid.fit(X, y, groups=groups)
    assert len(grid.cv_results_["params"]) == 18
    assert grid.best_score_ > 0.9
    assert grid.best_estimator_["xsim"].k_ == grid.best_params_["xsim__k"]
    # Labels transfer to new frames from the same classes.
    X_new, y_new, _ = labelled_frames(np.random.default_rng(7))
    assert grid.score(X_new, y_new) > 0.5


def test_clone_of_a_fitted_estimator_refits_identically(rng):
    R, X = rng.standard_normal((60, 5)), rng.standard_normal((10, 5))
    est = CrossSimilarity(k=7, metric="cosine", mode="affinity", bandwidth="gmean_k")
    fitted = est.fit(R).transform(X)
    copy = clone(est)
    with pytest.raises(NotFittedError):
        copy.transform(X)  # clone carries no fitted state (no shared index)
    assert copy.get_params() == est.get_params()
    assert (copy.fit(R).transform(X) != fitted).nnz == 0
    assert copy.index_ is not est.index_


def test_dataframe_feature_names(rng):
    pd = pytest.importorskip("pandas")
    columns = [f"chroma_{i}" for i in range(8)]
    reference = pd.DataFrame(rng.standard_normal((30, 8)), columns=columns)
    est = CrossSimilarity(k=3).fit(reference)
    np.testing.assert_array_equal(est.feature_names_in_, columns)
    query = pd.DataFrame(rng.standard_normal((5, 8)), columns=columns)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        as_array = est.transform(query.to_numpy())
    assert (est.transform(query) != as_array).nnz == 0
    with pytest.raises(ValueError, match="feature names should match"):
        est.transform(query[columns[::-1]])
