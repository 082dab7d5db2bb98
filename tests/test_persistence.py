"""Fitted estimators survive pickle / joblib, in another process; the index
cache is reused instead of rebuilt."""

import pickle
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest

import skxsim
import skxsim._base
import skxsim._neighbors._cache
from skxsim import CrossSimilarity, SkxsimVersionWarning

CONFIGS = [
    dict(k=4),
    dict(k=5, metric="cosine", mode="affinity", bandwidth="mean_k_avg"),
    dict(k=3, metric="manhattan", algorithm="kd_tree", mode="distance"),
    dict(k=3, metric="chebyshev", algorithm="ckd_tree", mode="distance"),
    dict(mode="affinity", sparse=False),
]


# Counts real (uncached) index builds, in this process or in a script run by
# ``run_python``: the cache's build function is wrapped.
COUNT_BUILDS = """
import skxsim._neighbors._cache
BUILDS = []
_build = skxsim._neighbors._cache.build_index
def _counting(*args, **kwargs):
    BUILDS.append(args[3])
    return _build(*args, **kwargs)
skxsim._neighbors._cache.build_index = _counting
"""


def run_python(code, *args):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("params", CONFIGS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_trip_in_another_process(tmp_path, rng, params, dtype):
    X_ref = rng.standard_normal((120, 7)).astype(dtype)
    X = rng.standard_normal((40, 7)).astype(dtype)
    est = CrossSimilarity(**params).fit(X_ref)
    expected = est.transform(X)
    expected = expected.toarray() if hasattr(expected, "toarray") else expected
    with open(tmp_path / "model.pkl", "wb") as f:
        pickle.dump(est, f)
    joblib.dump(est, tmp_path / "model.joblib")
    np.save(tmp_path / "query.npy", X)
    run_python(
        f"""
        import pickle, joblib, numpy as np
        X = np.load({str(tmp_path / "query.npy")!r})
        dense = lambda a: a.toarray() if hasattr(a, "toarray") else a
        with open({str(tmp_path / "model.pkl")!r}, "rb") as f:
            a = dense(pickle.load(f).transform(X))
        b = dense(joblib.load({str(tmp_path / "model.joblib")!r}).transform(X))
        est = joblib.load({str(tmp_path / "model.joblib")!r}, mmap_mode="r")
        c = dense(est.transform(X))
        np.savez({str(tmp_path / "out.npz")!r}, a=a, b=b, c=c)
        """
    )
    out = np.load(tmp_path / "out.npz")
    for key in "abc":
        assert out[key].dtype == expected.dtype
        np.testing.assert_array_equal(out[key], expected)


def test_mmap_load_maps_the_index(tmp_path, rng):
    est = CrossSimilarity(k=3).fit(rng.standard_normal((5000, 16)))
    joblib.dump(est, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib", mmap_mode="r")
    assert isinstance(loaded.index_.reference_, np.memmap)
    assert isinstance(loaded.index_.scores_.prepared_, np.memmap)
    X = rng.standard_normal((10, 16))
    assert (loaded.transform(X) != est.transform(X)).nnz == 0


def test_other_version_warns_on_load(rng, monkeypatch):
    payload = pickle.dumps(CrossSimilarity(k=2).fit(rng.standard_normal((10, 3))))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(payload)  # same version: silent
    monkeypatch.setattr(skxsim._base, "__version__", "99.0")
    with pytest.warns(
        SkxsimVersionWarning,
        match=f"saved by skxsim {skxsim.__version__} and is loaded by skxsim 99.0",
    ):
        pickle.loads(payload)


def test_index_cache_is_keyed_on_reference_and_index_parameters(
    tmp_path, rng, index_builds
):
    builds = index_builds
    # A ball tree: the backends cheaper to build than to load are not cached.
    tree = dict(algorithm="ball_tree")
    X_ref = rng.standard_normal((200, 30))
    X = rng.standard_normal((20, 30))
    memory = str(tmp_path / "cache")
    first = CrossSimilarity(k=3, memory=memory, **tree).fit(X_ref)
    assert len(builds) == 1
    # Another k, mode or bandwidth reuses the index.
    for params in [
        dict(k=7),
        dict(k=4, mode="affinity"),
        dict(mode="distance", bandwidth=2.0),
    ]:
        est = CrossSimilarity(memory=memory, **tree, **params).fit(X_ref)
        reference = CrossSimilarity(**tree, **params).fit(X_ref)
        assert (est.transform(X) != reference.transform(X)).nnz == 0
    assert len(builds) == 1 + 3  # the 3 uncached references
    # A new reference, metric or algorithm builds.
    CrossSimilarity(memory=memory, **tree).fit(X_ref + 1)
    CrossSimilarity(memory=memory, metric="cosine", **tree).fit(X_ref)
    CrossSimilarity(memory=memory, algorithm="kd_tree").fit(X_ref)
    assert len(builds) == 1 + 3 + 3
    # joblib.Memory objects work too, and another process reuses the cache.
    CrossSimilarity(memory=joblib.Memory(memory, verbose=0), k=9, **tree).fit(X_ref)
    assert len(builds) == 7
    np.save(tmp_path / "ref.npy", X_ref)
    np.save(tmp_path / "query.npy", X)
    out = run_python(
        COUNT_BUILDS
        + f"""
import numpy as np
from skxsim import CrossSimilarity
X_ref = np.load({str(tmp_path / "ref.npy")!r})
est = CrossSimilarity(k=3, memory={memory!r}, algorithm="ball_tree").fit(X_ref)
np.save({str(tmp_path / "out.npy")!r}, est.transform(np.load({str(tmp_path / "query.npy")!r})).toarray())
print(len(BUILDS))
"""
    )
    assert int(out) == 0
    np.testing.assert_array_equal(
        np.load(tmp_path / "out.npy"), first.transform(X).toarray()
    )


def test_index_cache_survives_several_locations_in_one_process(tmp_path, rng):
    # joblib records per process that it wrote a function's code file; a
    # second cache location must still get it, or the next process clears
    # that location and rebuilds.
    np.save(tmp_path / "ref.npy", rng.standard_normal((50, 30)))
    script = (
        COUNT_BUILDS
        + f"""
import sys, numpy as np
from skxsim import CrossSimilarity
X_ref = np.load({str(tmp_path / "ref.npy")!r})
for location in sys.argv[1:]:
    CrossSimilarity(memory=location, algorithm="ball_tree").fit(X_ref)
print(len(BUILDS))
"""
    )
    first, second = str(tmp_path / "first"), str(tmp_path / "second")
    assert int(run_python(script, first, second)) == 2
    assert int(run_python(script, second)) == 0
    assert int(run_python(script, first)) == 0
