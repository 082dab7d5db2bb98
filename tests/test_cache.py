"""The ``memory=`` index cache: a damaged or stale entry is never trusted."""

import inspect
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import skxsim._neighbors._cache
from skxsim import CrossSimilarity
from skxsim._neighbors._cache import build_and_checksum
from skxsim.exceptions import CacheWarning


def cached_outputs(location):
    """The output.pkl files joblib wrote under ``location``."""
    found = []
    for root, _, files in os.walk(location):
        found += [os.path.join(root, f) for f in files if f == "output.pkl"]
    return found


def damage(path, how):
    size = os.path.getsize(path)
    if how == "truncate":
        with open(path, "r+b") as f:
            f.truncate(size // 2)
    else:
        with open(path, "r+b") as f:
            f.seek(size // 2)
            f.write(b"\x07" * 64)


def flip_bit(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x10]))


@pytest.mark.parametrize("how", ["overwrite", "truncate"])
@pytest.mark.parametrize("algorithm", ["ball_tree", "kd_tree"])
def test_damaged_entry_is_rebuilt_with_one_warning(tmp_path, rng, how, algorithm):
    R, X = rng.standard_normal((3000, 40)), rng.standard_normal((30, 40))
    params = dict(k=5, mode="distance", algorithm=algorithm)
    expected = CrossSimilarity(**params).fit(R).transform(X)
    CrossSimilarity(memory=str(tmp_path), **params).fit(R)
    (output,) = cached_outputs(tmp_path)
    damage(output, how)
    with pytest.warns(CacheWarning, match="rebuilding it") as record:
        est = CrossSimilarity(memory=str(tmp_path), **params).fit(R)
    assert len(record) == 1 and "\n" not in str(record[0].message)
    assert (est.transform(X) != expected).nnz == 0
    # The rebuilt entry is sound: the next fit loads it silently.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = CrossSimilarity(memory=str(tmp_path), **params).fit(R)
    assert (again.transform(X) != expected).nnz == 0


def test_damaged_hnsw_entry_does_not_crash(tmp_path, rng):
    pytest.importorskip("hnswlib")
    R, X = rng.standard_normal((2000, 16)), rng.standard_normal((20, 16))
    np.save(tmp_path / "R.npy", R)
    np.save(tmp_path / "X.npy", X)
    script = textwrap.dedent(
        f"""
        import warnings, numpy as np
        from skxsim import CrossSimilarity
        R = np.load({str(tmp_path / "R.npy")!r})
        est = CrossSimilarity(k=5, algorithm="hnsw", memory={str(tmp_path / "c")!r})
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            est.fit(R)
        print(len([x for x in w if "rebuilding" in str(x.message)]))
        print(est.transform(np.load({str(tmp_path / "X.npy")!r})).nnz)
        """
    )
    run = lambda: subprocess.run(  # noqa: E731
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    first = run()
    assert first.returncode == 0, first.stderr
    (output,) = cached_outputs(tmp_path / "c")
    damage(output, "overwrite")
    second = run()
    assert second.returncode == 0, second.stderr  # a segfault is -11
    assert second.stdout.split() == ["1", "100"]


def test_one_flipped_bit_in_an_array_is_caught(tmp_path, rng):
    """Damage the pickle cannot notice (a bit of a stored float) is caught by
    the checksum, wherever it falls in the tree's arrays."""
    R, X = rng.standard_normal((2000, 8)), rng.standard_normal((20, 8))
    params = dict(k=4, mode="distance", algorithm="ball_tree")
    expected = CrossSimilarity(**params).fit(R).transform(X)
    CrossSimilarity(memory=str(tmp_path), **params).fit(R)
    (output,) = cached_outputs(tmp_path)
    size = os.path.getsize(output)
    for offset in (size // 3, size // 2, 2 * size // 3):
        flip_bit(output, offset)
        with pytest.warns(CacheWarning, match="rebuilding it"):
            est = CrossSimilarity(memory=str(tmp_path), **params).fit(R)
        assert (est.transform(X) != expected).nnz == 0
        (output,) = cached_outputs(tmp_path)


def test_checksum_sees_every_array_and_its_shape(rng):
    from skxsim._neighbors._cache import checksum

    a = rng.standard_normal(1000)
    state = {"x": a, "meta": ("ball_tree", 3)}
    base = checksum(state)
    assert checksum({"meta": ("ball_tree", 3), "x": a.copy()}) == base
    for changed in (
        {"x": np.concatenate([a[:500], [np.nextafter(a[500], 9)], a[501:]])},
        {"x": a[:-1]},
        {"x": a.reshape(10, 100)},
        {"x": a.astype(np.float32)},
        {"meta": ("ball_tree", 4)},
    ):
        assert checksum({**state, **changed}) != base


def test_key_is_the_reference_content(rng):
    from skxsim._neighbors._cache import reference_key

    R = rng.standard_normal((50, 6))
    key = reference_key(R)
    assert reference_key(np.asfortranarray(R)) == key  # same values
    assert reference_key(R.copy()) == key
    moved = R.copy()
    moved[49, 5] = np.nextafter(moved[49, 5], 9)
    assert reference_key(moved) != key
    assert reference_key(R.reshape(6, 50)) != key
    assert reference_key(R.astype(np.float32)) != key
    # joblib does not hash the reference itself: the key stands for it.
    assert "reference" in inspect.signature(build_and_checksum).parameters


@pytest.mark.parametrize("algorithm", ["brute", "ckd_tree", "auto"])
def test_cheap_builds_are_not_cached(tmp_path, rng, algorithm, index_builds):
    """The BLAS engine, brute force and cKDTree build faster than an index
    loads and is verified: memory= builds them, and writes nothing."""
    R, X = rng.standard_normal((300, 30)), rng.standard_normal((20, 30))
    expected = CrossSimilarity(k=3, algorithm=algorithm).fit(R).transform(X)
    for _ in range(2):
        est = CrossSimilarity(k=3, algorithm=algorithm, memory=str(tmp_path)).fit(R)
        assert (est.transform(X) != expected).nnz == 0
    assert cached_outputs(tmp_path) == []
    assert len(index_builds) == 3


def test_version_is_part_of_the_key(tmp_path, rng, monkeypatch, index_builds):
    R = rng.standard_normal((100, 30))
    builds = index_builds
    CrossSimilarity(memory=str(tmp_path), algorithm="ball_tree").fit(R)
    CrossSimilarity(memory=str(tmp_path), algorithm="ball_tree").fit(R)
    assert len(builds) == 1
    monkeypatch.setattr(skxsim._neighbors._cache, "__version__", "99.0")
    CrossSimilarity(memory=str(tmp_path), algorithm="ball_tree").fit(R)
    assert len(builds) == 2


def l1(u, v):
    """A user's metric, defined at the top level of a module."""
    return float(np.abs(u - v).sum())


def test_callable_metric_with_memory(tmp_path, rng, index_builds):
    R, X = rng.standard_normal((60, 3)), rng.standard_normal((10, 3))
    params = dict(k=3, metric=l1, mode="distance", algorithm="ball_tree")
    est = CrossSimilarity(memory=str(tmp_path), **params)
    first = est.fit(R).transform(X)
    second = CrossSimilarity(memory=str(tmp_path), **params).fit(R)
    assert len(index_builds) == 1
    assert (second.transform(X) != first).nnz == 0
    manhattan = CrossSimilarity(k=3, metric="manhattan", mode="distance").fit(R)
    np.testing.assert_allclose(first.toarray(), manhattan.transform(X).toarray())

    # A nested function cannot key a cache: a clear error, not a PicklingError.
    def nested(u, v):
        return l1(u, v)

    with pytest.raises(ValueError, match="cannot be pickled: use a function"):
        CrossSimilarity(metric=nested, algorithm="ball_tree", memory=str(tmp_path)).fit(
            R
        )
