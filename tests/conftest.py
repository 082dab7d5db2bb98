import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def index_builds(monkeypatch):
    """The algorithms of the index builds that really run (not cache loads)."""
    import skxsim._neighbors._cache

    seen = []
    build = skxsim._neighbors._cache.build_index

    def counting(*args, **kwargs):
        seen.append(args[3])
        return build(*args, **kwargs)

    monkeypatch.setattr(skxsim._neighbors._cache, "build_index", counting)
    return seen


@pytest.fixture(scope="module")
def dask_client():
    """A local Dask cluster of two worker processes, one per test module."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client
