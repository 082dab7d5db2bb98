"""
Song structure from a recurrence matrix and its lag representation
==================================================================

A song repeats itself: a verse comes back, a chorus comes back. Its
*recurrence matrix* (self-similarity) links every frame to the frames most
like it elsewhere in the song, and repetitions show up as diagonal stripes.
Shearing it into the *lag representation* turns each stripe into a
horizontal line at the lag of the repetition, and where the set of lines
changes, the song's structure changes (Serra et al., 2014).

This example builds chroma-like frames of a synthetic song in the form
A B A B C A B, computes its recurrence matrix with a scikit-learn
:class:`~sklearn.pipeline.Pipeline` (:class:`~skxsim.TimeDelayEmbedding`,
then :class:`~skxsim.RecurrenceMatrix`), converts it with
:func:`~skxsim.recurrence.recurrence_to_lag`, and finds the repeated lags and the
boundaries of the repetition structure.

Orientation: the estimator takes frames as rows and returns row ``i`` =
frame ``i``'s neighbours; the librosa-style functions
(:func:`~skxsim.recurrence_matrix`, :func:`~skxsim.recurrence.recurrence_to_lag`) keep
librosa's layout, column ``i`` = frame ``i``, so the estimator's output is
transposed before the lag.
"""

# %%
# A song in the form A B A B C A B
# --------------------------------
# Each section is four chords of twelve frames, with a melody note that
# changes every four frames and a little noise, max-normalised like chroma.
import matplotlib.pyplot as plt
import numpy as np
from scipy.ndimage import gaussian_filter, maximum_filter1d
from sklearn.pipeline import Pipeline

from skxsim import RecurrenceMatrix, TimeDelayEmbedding, recurrence_matrix
from skxsim.recurrence import recurrence_to_lag

rng = np.random.default_rng(0)
FORM, FRAMES_PER_CHORD = "ABABCAB", 12


def chord(root, minor):
    chroma = np.zeros(12)
    chroma[[root, (root + (3 if minor else 4)) % 12, (root + 7) % 12]] = 1.0
    chroma[root] = 1.2
    return chroma


progressions = {
    name: np.array(
        [chord(int(rng.integers(12)), bool(rng.integers(2))) for _ in range(4)]
    )
    for name in "ABC"
}
sections = []
for name in FORM:
    frames = np.repeat(progressions[name], FRAMES_PER_CHORD, axis=0)
    melody = rng.integers(0, 12, len(frames) // 4).repeat(4)
    frames[np.arange(len(frames)), melody] += 0.6
    sections.append(frames)
chroma = np.concatenate(sections)
chroma += 0.15 * np.abs(rng.standard_normal(chroma.shape))
chroma /= chroma.max(axis=1, keepdims=True)
boundaries = np.cumsum([len(s) for s in sections])[:-1]
print("frames:", chroma.shape, "section boundaries:", boundaries)

# %%
# The recurrence matrix
# ---------------------
# Each frame is stacked with three earlier frames (so a frame carries its
# recent past), then linked to its nearest frames by cosine distance,
# keeping mutual neighbours only (``sym=True``) and ignoring the frames
# within ``width=3`` of itself, which are similar merely for being adjacent.
# This is the affinity librosa's Laplacian segmentation starts from.
model = Pipeline(
    [
        ("embed", TimeDelayEmbedding(n_steps=4, delay=2)),
        ("rec", RecurrenceMatrix(width=3, metric="cosine", mode="affinity", sym=True)),
    ]
)
rec = model.fit_transform(chroma)  # (n_frames, n_frames) CSR, row i = frame i
print("recurrence:", rec.shape, rec.format, "stored pairs:", rec.nnz)

# The librosa-style function gives the same matrix in librosa's layout.
embedded = model["embed"].transform(chroma)
same = recurrence_matrix(
    embedded.T, width=3, metric="cosine", mode="affinity", sym=True
)
print("same as recurrence_matrix:", np.allclose(same, rec.T.toarray()))

# %%
# The lag representation
# ----------------------
# ``lag[l, t]`` is the similarity of frame ``t`` to frame ``t + l``.
# With ``pad=True`` the lags run over ``2 n`` rows: the first ``n`` look
# ahead, the last ``n`` look back (row ``2 n - l`` is ``l`` frames back).
# Sparse in, sparse out: nothing is densified.
lag = recurrence_to_lag(rec.T.tocsc(), pad=True)
n = rec.shape[0]
print("lag:", lag.shape, lag.format)

# The repeated lags: where the lag matrix is heaviest, away from the
# adjacent frames.
profile = np.asarray(lag.sum(axis=1)).ravel()[:n]
profile[:10] = 0
repeats = sorted(int(lag_) for lag_ in np.argsort(profile)[::-1][:2])
print("the song repeats itself", repeats, "frames later")

# %%
# Where the repetition structure changes
# --------------------------------------
# Smoothed along time, the lag columns ("structure features") change where
# the set of repetitions changes: the novelty between consecutive columns
# peaks there. A section boundary that leaves the repetitions unchanged
# (A to B inside the first A B A B, whose every frame repeats 96 frames
# later) is invisible to it.
features = gaussian_filter(lag.toarray(), sigma=(1, 12))
novelty = np.r_[0.0, np.linalg.norm(np.diff(features, axis=1), axis=0)]
is_peak = novelty == maximum_filter1d(novelty, 33)
peaks = np.flatnonzero(is_peak & (novelty > novelty.mean() + 0.5 * novelty.std()))
print("novelty peaks:", peaks)

# %%
# Plot
# ----
fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), constrained_layout=True)
axes[0].imshow(rec.toarray(), origin="lower", cmap="magma_r", interpolation="nearest")
axes[0].set(title="Recurrence (affinity)", xlabel="frame", ylabel="frame")
axes[1].imshow(
    lag.toarray(),
    origin="lower",
    aspect="auto",
    cmap="magma_r",
    interpolation="nearest",
)
axes[1].set(title="Lag (padded)", xlabel="frame", ylabel="lag")
axes[2].plot(novelty, color="k", lw=1)
axes[2].plot(peaks, novelty[peaks], "o", color="tab:red")
for b in boundaries:
    for ax in axes:
        ax.axvline(b, color="tab:blue", lw=0.6, alpha=0.6)
axes[2].set(title="Structure novelty (dots: peaks)", xlabel="frame")
for start, name in zip(np.r_[0, boundaries], FORM, strict=True):
    axes[2].text(start + 20, novelty.max() * 1.02, name, ha="center")
plt.show()
