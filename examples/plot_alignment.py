"""
Aligning a cover to its reference, and finding an excerpt in an archive
=======================================================================

A cover plays the reference's music at its own, changing tempo.
:class:`~skxsim.Aligner` finds the optimal monotone path of the cover's
frames through the reference's (dynamic time warping, coarse to fine, in
time and memory linear in the lengths); ``predict`` turns the path into the
reference position of every cover frame. On the k-NN cross-similarity of
the pair, the path follows the rising diagonal, and where the cover plays
something else (its replaced section) it takes the cheapest way across.

:class:`~skxsim.Matcher` answers the other question: where in a long
reference does a short excerpt sit?

Orientation: rows are frames. A path holds ``(query frame, reference
frame)`` pairs; librosa's ``wp`` is the same pairs end to start, so
``path == wp[::-1]``.
"""

# %%
# A reference and a cover of it
# -----------------------------
# :func:`~skxsim.datasets.make_cover_pair` gives chroma-like frames of a
# chord progression and a cover 1.25 times as long with a wavering tempo,
# one section of it replaced by other chords; ``alignment`` is the truth
# (-1 in the replaced section).
import matplotlib.pyplot as plt
import numpy as np

from skxsim import Aligner, CrossSimilarity, Matcher
from skxsim.datasets import make_cover_pair
from skxsim.plot import show_cross_similarity

pair = make_cover_pair(n_chords=24, random_state=3)
reference, cover = pair.reference, pair.cover
print(f"reference {reference.shape}, cover {cover.shape}")

# %%
# Align
# -----
# ``fit`` takes the reference and, optionally, a position per reference
# frame (here the frame index); ``align`` returns the path and its cost
# (librosa's accumulated cost ``D[-1, -1]``).
aligner = Aligner(metric="cosine").fit(reference)
path, cost = aligner.align(cover)
positions = aligner.predict(cover)
faithful = ~pair.changed
error = np.abs(positions[faithful] - pair.alignment[faithful])
print(f"path of {len(path)} steps, cost {cost:.2f}")
print(f"mean error outside the replaced section: {error.mean():.2f} frames")
# score is minus the mean absolute error; the replaced section has no truth
# (NaN), so it does not count.
truth = np.where(faithful, pair.alignment, np.nan)
print(f"score: {aligner.score(cover, truth):.2f}")

# %%
# The path on the cross-similarity
# --------------------------------
# The cross-similarity (each cover frame's 10 nearest reference frames) is
# only drawn here; the alignment never builds it. The replaced section of the
# cover is shaded: the path crosses it where it costs least.
xsim = CrossSimilarity(k=10, metric="cosine", mode="affinity").fit(reference)
fig, ax = plt.subplots(figsize=(6, 5))
show_cross_similarity(xsim.transform(cover), ax=ax, colorbar=False)
ax.plot(path[:, 0], path[:, 1], color="tab:blue", lw=1.5, label="DTW path")
ax.plot(truth, ".", color="tab:green", ms=2, label="truth")
changed = np.flatnonzero(pair.changed)
ax.axvspan(changed[0], changed[-1], color="tab:orange", alpha=0.15, label="replaced")
ax.legend(loc="upper left")
ax.set_title("cover aligned to the reference")
fig.tight_layout()

# %%
# Find an excerpt in an archive
# -----------------------------
# Ten references one after another form an archive. An excerpt of one of
# them, played 1.2 times as fast, is located by :class:`~skxsim.Matcher`:
# its frames look up their nearest archive frames, which vote for where it
# sits; the winning windows are aligned by subsequence DTW.
pieces = [make_cover_pair(n_chords=24, random_state=s).reference for s in range(10)]
archive = np.vstack(pieces)
start = sum(len(p) for p in pieces[:6]) + 40  # inside the 7th piece
excerpt = archive[start : start + 180][np.arange(0, 180, 1.2).astype(int)]
matcher = Matcher().fit(archive)
starts, ends, costs = matcher.match(excerpt, n_matches=3)
print(f"excerpt played from frame {start} to {start + 179}")
for s, e, c in zip(starts, ends, costs, strict=True):
    print(f"  match {s:5d} .. {e:5d}   cost per frame {c:.3f}")

plt.show()
