"""transform_many: a batch of query sequences, locally and on a Dask cluster."""

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from skxsim import CrossSimilarity, transform_many


@pytest.fixture
def reference(rng):
    return rng.standard_normal((60, 8))


@pytest.fixture
def sequences(rng, reference):
    # Lengths differ, and one sequence contains reference frames exactly.
    return [rng.standard_normal((n, 8)) for n in (5, 17, 1, 30)] + [reference[10:25]]


def assert_same(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert type(g) is type(e) and g.shape == e.shape and g.dtype == e.dtype
        if sp.issparse(e):
            np.testing.assert_array_equal(g.indptr, e.indptr)
            np.testing.assert_array_equal(g.indices, e.indices)
            np.testing.assert_array_equal(g.data, e.data)
        else:
            np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize(
    "params",
    [
        dict(k=4),
        dict(k=6, mode="affinity", bandwidth="mean_k", sparse=False),
        dict(k=3, metric="manhattan", mode="distance"),
    ],
)
@pytest.mark.parametrize("n_jobs", [None, 2])
def test_local_equals_one_by_one(reference, sequences, params, n_jobs):
    xsim = CrossSimilarity(**params).fit(reference)
    expected = [xsim.transform(s) for s in sequences]
    with joblib.parallel_config(backend="threading"):
        assert_same(transform_many(xsim, sequences, n_jobs=n_jobs), expected)


def test_processes_and_generators(reference, sequences):
    xsim = CrossSimilarity(k=5, mode="distance").fit(reference)
    expected = [xsim.transform(s) for s in sequences]
    got = transform_many(xsim, (s for s in sequences), n_jobs=2)  # loky
    assert_same(got, expected)
    assert transform_many(xsim, [], n_jobs=2) == []


def test_not_fitted(sequences):
    with pytest.raises(NotFittedError):
        transform_many(CrossSimilarity(), sequences)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.ones((4, 5)), "8 features"),
        (np.ones(8), "2D array"),
        (np.full((3, 8), np.nan), "NaN"),
    ],
)
def test_errors_name_the_sequence(reference, sequences, bad, match):
    xsim = CrossSimilarity(k=3).fit(reference)
    batch = [*sequences[:2], bad, *sequences[2:]]
    with pytest.raises(ValueError, match=rf"^sequences\[2\]: .*{match}"):
        transform_many(xsim, batch)


def test_errors_name_the_sequence_across_processes(reference, sequences):
    xsim = CrossSimilarity(k=3).fit(reference)
    batch = [*sequences, np.ones((4, 5))]
    with pytest.raises(ValueError, match=r"^sequences\[5\]: .*8 features"):
        transform_many(xsim, batch, n_jobs=2)  # loky


@pytest.mark.parametrize(
    "params",
    [
        dict(k=5, mode="affinity"),
        # An approximate index crosses to the worker processes as bytes.
        dict(k=5, mode="distance", algorithm="hnsw"),
    ],
)
def test_dask_round_trip(dask_client, reference, sequences, params):
    from distributed import get_task_stream

    if params.get("algorithm") == "hnsw":
        pytest.importorskip("hnswlib")
    xsim = CrossSimilarity(**params).fit(reference)
    expected = transform_many(xsim, sequences)
    with get_task_stream(dask_client) as stream:
        with joblib.parallel_config(backend="dask"):
            got = transform_many(xsim, sequences)
    assert_same(got, expected)
    # The calls really ran on the cluster's worker processes.
    workers = set(dask_client.scheduler_info()["workers"])
    ran_on = {task["worker"] for task in stream.data}
    assert ran_on and ran_on <= workers
