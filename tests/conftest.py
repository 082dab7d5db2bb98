import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def index_builds(monkeypatch):
    """The algorithms of the index builds that really run (not cache loads)."""
    import skxsim._cache

    seen = []
    build = skxsim._cache.build_index

    def counting(*args, **kwargs):
        seen.append(args[3])
        return build(*args, **kwargs)

    monkeypatch.setattr(skxsim._cache, "build_index", counting)
    return seen
