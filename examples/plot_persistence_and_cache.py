"""
Saving a fitted model, and caching the reference index
======================================================

A fitted :class:`~skxsim.CrossSimilarity` carries its reference and its
neighbour index. :func:`joblib.dump` writes it; :func:`joblib.load` with
``mmap_mode="r"`` maps the large arrays from disk instead of reading them,
so several processes can share one copy.

Independently, ``memory=`` caches the index build on disk. The cache key is
the reference content, ``metric``, ``metric_params``, ``algorithm`` and
``algorithm_params``; not ``k``, ``mode`` or ``bandwidth``. A refit with
another ``k`` or ``mode`` (for instance inside a grid search), or a fit in
another process, reuses the index instead of rebuilding it.
"""

# %%
import shutil
import tempfile
import time
from pathlib import Path

import joblib
import matplotlib.pyplot as plt

from skxsim import CrossSimilarity
from skxsim.datasets import make_cover_pair
from skxsim.plot import show_cross_similarity

workdir = Path(tempfile.mkdtemp(prefix="skxsim-example-"))
pair = make_cover_pair(n_chords=40, random_state=2)
print("reference", pair.reference.shape, "query", pair.cover.shape)

# %%
# Save and load a fitted model
# ----------------------------
model = CrossSimilarity(k=10, metric="cosine", mode="affinity").fit(pair.reference)
path = workdir / "xsim.joblib"
joblib.dump(model, path)
print(f"saved {path.name}: {path.stat().st_size / 1024:.0f} KiB")

loaded = joblib.load(path, mmap_mode="r")
before = model.transform(pair.cover)
after = loaded.transform(pair.cover)
assert (before != after).nnz == 0
print("loaded model gives the same matrix; k_ =", loaded.k_)

# %%
# Cache the index across refits
# -----------------------------
# The first fit builds the index and stores it in ``memory``; the refits
# with other ``k`` and ``mode`` load it.
memory = joblib.Memory(workdir / "cache", verbose=0)
for k, mode in [(10, "connectivity"), (20, "connectivity"), (20, "affinity")]:
    start = time.perf_counter()
    CrossSimilarity(k=k, mode=mode, memory=memory).fit(pair.reference)
    elapsed = (time.perf_counter() - start) * 1000
    n_cached = sum(1 for _ in (workdir / "cache").rglob("output.pkl"))
    print(f"fit k={k:>2} mode={mode:<12} {elapsed:6.1f} ms, cached indexes: {n_cached}")

# %%
# Only a different reference or metric adds an entry to the cache:
CrossSimilarity(metric="cosine", memory=memory).fit(pair.reference)
print("after a cosine fit:", sum(1 for _ in (workdir / "cache").rglob("output.pkl")))

# %%
# The loaded model in a picture
# -----------------------------
fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
show_cross_similarity(after, ax=ax, title="affinity from the loaded model")
plt.show()

shutil.rmtree(workdir)
