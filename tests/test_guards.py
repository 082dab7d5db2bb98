"""Guards by construction (issue 23): parameters checked at fit and again at
use, one changed-since-fit guard, every message naming its argument, and no
range that can blow up memory or overflow."""

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skxsim import CrossSimilarity, Matcher


@pytest.fixture(scope="module")
def archive():
    return np.random.default_rng(0).random((600, 12))


@pytest.fixture(scope="module")
def fitted(archive):
    return Matcher().fit(archive)


def _refitted(fitted, **params):
    from sklearn.base import clone

    matcher = clone(fitted).fit(fitted._archive.frames)
    return matcher.set_params(**params)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"n_neighbors": 0}, "n_neighbors"),
        ({"n_candidates": 0}, "n_candidates"),
        ({"n_neighbors": True}, "n_neighbors"),
        ({"tempo_range": (1e-100, 1e100)}, "tempo_range"),
        ({"coarse_frames": "128"}, "coarse_frames"),
    ],
)
def test_matcher_checks_parameters_set_after_fit(fitted, archive, params, name):
    matcher = _refitted(fitted, **params)
    with pytest.raises(InvalidParameterError, match=name):
        matcher.match(archive[100:200])
    with pytest.raises(InvalidParameterError, match=name):
        matcher.match_many([archive[100:200]])


@pytest.mark.parametrize(
    "tempo_range",
    [(1e-300, 1e300), (1e-100, 1e100), (True, 2), ("1", "2"), (0.5,), (2, 1)],
)
def test_matcher_tempo_range_is_bounded_and_numeric(archive, tempo_range):
    with pytest.raises(InvalidParameterError, match="tempo_range"):
        Matcher(tempo_range=tempo_range).fit(archive)


def test_matcher_accepts_numpy_tempo_range(archive):
    numpy = Matcher(tempo_range=(np.float32(0.75), np.int64(2))).fit(archive)
    python = Matcher(tempo_range=(0.75, 2.0)).fit(archive)
    for got, expected in zip(
        numpy.match(archive[200:300]), python.match(archive[200:300]), strict=True
    ):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", ["pool", "n_steps", "metric", "algorithm"])
def test_matcher_refuses_what_changed_since_fit(fitted, archive, name):
    value = {"pool": 2, "n_steps": 2, "metric": "euclidean", "algorithm": "brute"}
    matcher = _refitted(fitted, **{name: value[name]})
    with pytest.raises(ValueError, match=f"{name}=.* differs"):
        matcher.match(archive[100:200])


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_jobs": "2"}, "n_jobs"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"n_matches": 0}, "n_matches"),
        ({"n_matches": True}, "n_matches"),
    ],
)
def test_match_many_checks_its_arguments(fitted, archive, kwargs, name):
    with pytest.raises(InvalidParameterError, match=name):
        fitted.match_many([archive[100:200]], **kwargs)


@pytest.mark.parametrize("queries", [None, "abc", 3, []])
def test_match_many_names_queries(fitted, queries):
    with pytest.raises(ValueError, match="queries"):
        fitted.match_many(queries)


def test_match_many_names_the_bad_query(fitted, archive):
    with pytest.raises(ValueError, match=r"queries\[1\].*5 features"):
        fitted.match_many([archive[:100], archive[:100, :5]])
    bad = archive[:100].copy()
    bad[3, 3] = np.nan
    with pytest.raises(ValueError, match=r"queries\[1\].*NaN"):
        fitted.match_many([archive[:100], bad])


def test_cross_similarity_checks_parameters_set_after_fit(archive):
    xsim = CrossSimilarity(k=3).fit(archive)
    xsim.set_params(mode="nope")
    with pytest.raises(InvalidParameterError, match="mode"):
        xsim.transform(archive[:5])


def test_n_jobs_beyond_the_rows_is_no_memory_error():
    # Issue 23: n_jobs=1000 on 50 x 80 asked for "70.3 GiB of work".
    rng = np.random.default_rng(0)
    R, X = rng.random((80, 5)), rng.random((50, 5))
    expected = CrossSimilarity(k=4).fit(R).transform(X).toarray()
    got = CrossSimilarity(k=4, n_jobs=1000).fit(R).transform(X).toarray()
    np.testing.assert_array_equal(got, expected)


def test_the_output_size_guard_names_n_jobs(monkeypatch):
    import skxsim._output_size as guard
    from skxsim.exceptions import OutputTooLargeError

    monkeypatch.setattr(guard, "available_memory", lambda: 3 * guard.THREAD_BYTES)
    rng = np.random.default_rng(0)
    xsim = CrossSimilarity(k=4, n_jobs=8).fit(rng.random((80, 5)))
    with pytest.raises(OutputTooLargeError, match="8 threads of n_jobs"):
        xsim.transform(rng.random((50, 5)))


def test_n_jobs_none_is_every_core_unless_joblib_says():
    import joblib

    from skxsim._neighbors import n_threads_for
    from skxsim._validation import parallel_n_jobs

    assert parallel_n_jobs(None) == n_threads_for(None) >= 1
    assert parallel_n_jobs(2) == 2
    with joblib.parallel_config(n_jobs=3):
        assert parallel_n_jobs(None) is None  # joblib's config decides


def test_match_many_gives_the_same_answer_for_any_n_jobs(fitted, archive):
    queries = [archive[100:200], archive[300:420], archive[50:130]]
    expected = [fitted.match(q) for q in queries]
    for n_jobs in (None, 1, 2):
        got = fitted.match_many(queries, n_jobs=n_jobs)
        for g, e in zip(got, expected, strict=True):
            for a, b in zip(g, e, strict=True):
                np.testing.assert_array_equal(a, b)


def test_ckd_tree_answers_a_huge_minkowski_p_as_the_other_backends():
    # Issue 23: scikit-learn's "Found array with 0 sample(s)" from ckd_tree.
    rng = np.random.default_rng(0)
    R, X = rng.random((80, 5)), rng.random((50, 5))
    params = dict(k=3, metric="minkowski", metric_params={"p": 1e5}, mode="distance")
    expected = CrossSimilarity(algorithm="brute", **params).fit(R).transform(X)
    got = CrossSimilarity(algorithm="ckd_tree", **params).fit(R).transform(X)
    np.testing.assert_array_equal(got.toarray(), expected.toarray())
    np.testing.assert_array_equal(got.indices, expected.indices)
