"""
Sparse or dense output, and the three modes
===========================================

:class:`~skxsim.CrossSimilarity` stores, for each query frame, a value at its
``k`` nearest reference frames only:

- ``mode="connectivity"``: 1,
- ``mode="distance"``: the distance,
- ``mode="affinity"``: ``exp(-distance / bandwidth)``.

With ``sparse=True`` (the default) the result is a CSR matrix holding
``n_queries * k`` values; with ``sparse=False`` it is a dense array with
zeros elsewhere. In distance mode a stored 0 means an *exact match* and is
kept explicitly in the sparse output (librosa drops it); in a dense array it
cannot be told apart from "not a neighbour", which is one reason to stay
sparse.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from skxsim import CrossSimilarity, TimeDelayEmbedding
from skxsim.datasets import make_cover_pair
from skxsim.plot import show_cross_similarity

pair = make_cover_pair(n_chords=8, random_state=1)
embed = TimeDelayEmbedding(n_steps=4, delay=2)
reference = embed.fit_transform(pair.reference)
# Reuse ten reference frames verbatim in the query: exact matches.
query = np.vstack([embed.transform(pair.cover), reference[:10]])

# %%
# Compute every mode, sparse and dense
# ------------------------------------
results = {}
for mode in ("connectivity", "distance", "affinity"):
    for sparse in (True, False):
        model = CrossSimilarity(k=6, mode=mode, sparse=sparse).fit(reference)
        results[mode, sparse] = model.transform(query)

for mode in ("connectivity", "distance", "affinity"):
    sparse_result, dense_result = results[mode, True], results[mode, False]
    assert np.allclose(sparse_result.toarray(), dense_result)
    print(
        f"{mode:>12}: sparse {sparse_result.format} with {sparse_result.nnz} "
        f"stored values; dense {dense_result.shape} = {dense_result.size} values"
    )

# %%
# Exact matches survive in the sparse distance output
# ---------------------------------------------------
# The last ten query rows are reference frames 0..9: their nearest neighbour
# is at distance 0, stored explicitly.
last_rows = results["distance", True][-10:].tocoo()
zero_at = last_rows.col[last_rows.data == 0]
print("reference frames stored with distance 0:", zero_at)
assert np.array_equal(np.sort(zero_at), np.arange(10))

# %%
# Side by side
# ------------
# Top row sparse (non-neighbours blank), bottom row dense (non-neighbours 0).
fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), layout="constrained")
for col, mode in enumerate(("connectivity", "distance", "affinity")):
    for row, sparse in enumerate((True, False)):
        kind = "sparse" if sparse else "dense"
        show_cross_similarity(
            results[mode, sparse], ax=axes[row, col], title=f"{mode}, {kind}"
        )
plt.show()
