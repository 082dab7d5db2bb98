"""
librosa's cross-similarity example as a scikit-learn Pipeline
=============================================================

librosa documents cross-similarity with two chroma sequences, each stacked
with ten delayed copies of itself (``stack_memory(n_steps=10, delay=3)``),
compared with the cosine metric in affinity mode. In skxsim that is a
:class:`~sklearn.pipeline.Pipeline`: a :class:`~skxsim.TimeDelayEmbedding`
followed by a :class:`~skxsim.CrossSimilarity`. The pipeline is fitted on
the reference and transforms the query ("comparison") sequence.

Orientation: the pipeline takes frames as rows and returns
``(n_queries, n_ref)``; librosa (and :func:`skxsim.cross_similarity`) take
``(n_features, n_frames)`` and return ``(n_ref, n)``.
"""

# %%
# A song and a cover of it
# ------------------------
# :func:`~skxsim.datasets.make_cover_pair` draws a chord progression as
# chroma frames and a slower "cover" of it with one section replaced.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import Pipeline

from skxsim import CrossSimilarity, TimeDelayEmbedding, cross_similarity
from skxsim.datasets import make_cover_pair
from skxsim.plot import show_cross_similarity

pair = make_cover_pair(random_state=0)
chroma_ref, chroma_comp = pair.reference, pair.cover
print("reference", chroma_ref.shape, "comparison", chroma_comp.shape)

# %%
# The pipeline
# ------------
# librosa's ``stack_memory(chroma, n_steps=10, delay=3)`` becomes
# ``TimeDelayEmbedding(n_steps=10, delay=3)``; ``cross_similarity(...,
# metric="cosine", mode="affinity")`` becomes the final step.
affinity_model = Pipeline(
    [
        ("embed", TimeDelayEmbedding(n_steps=10, delay=3)),
        ("xsim", CrossSimilarity(metric="cosine", mode="affinity")),
    ]
)
xsim_aff = affinity_model.fit(chroma_ref).transform(chroma_comp)

connectivity_model = Pipeline(
    [
        ("embed", TimeDelayEmbedding(n_steps=10, delay=3)),
        ("xsim", CrossSimilarity()),
    ]
)
xsim = connectivity_model.fit(chroma_ref).transform(chroma_comp)
print("affinity:", xsim_aff.shape, "nnz", xsim_aff.nnz)
print("learned bandwidth:", affinity_model["xsim"].bandwidth_)

# %%
# The same numbers as the librosa-style function
# ----------------------------------------------
# :func:`skxsim.cross_similarity` is the librosa drop-in: transpose the
# embedded sequences in, transpose the result out. For connectivity the two
# faces agree exactly. (In affinity mode the estimator learns its default
# bandwidth from the reference at ``fit``, so that transforming a frame never
# depends on the other query frames; the function follows librosa and uses
# the query. See the user guide.)
embed = TimeDelayEmbedding(n_steps=10, delay=3)
x_ref = embed.fit_transform(chroma_ref).T
x_comp = embed.transform(chroma_comp).T
xsim_function = cross_similarity(x_comp, x_ref)  # (n_ref, n_comp), bool
assert np.array_equal(xsim_function, xsim.T.toarray().astype(bool))
print("pipeline == cross_similarity:", True)

# %%
# Plot
# ----
# Both panels put the comparison (query) frames across and the reference
# frames up: the rising diagonal is the alignment of the cover to the song,
# broken where the cover changes section.
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), layout="constrained")
show_cross_similarity(xsim, ax=axes[0], title="Binary cross-recurrence")
show_cross_similarity(xsim_aff, ax=axes[1], title="Cross-affinity")
plt.show()
