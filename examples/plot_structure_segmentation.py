"""
Laplacian structural segmentation of a chorale medley
=====================================================

A medley in the form A B A C A B, its sections the opening sections of
three Bach chorales, has a structure known exactly: which frames belong to
which section, and where the sections change.  This example builds chroma
from the scores music21 ships (``pip install "skxsim[datasets]"``), stacks
each frame with its recent past (:class:`~skxsim.TimeDelayEmbedding`), and
segments the frames with :class:`~skxsim.LaplacianSegmentation` (McFee &
Ellis 2014: the recurrence graph, median-filtered along its diagonals, plus
the path from each frame to the next; the normalised Laplacian's first
eigenvectors; k-means).  The prediction is drawn beside the ground truth
and scored as mir_eval would (:func:`~skxsim.structure.segmentation_scores`).

The project's benchmark (``benchmarks/bench_segmentation.py``) does the same
on rendered audio, against librosa's recipe and MSAF.
"""

# %%
# Three sections, six occurrences
# -------------------------------
# One frame every sixteenth note: the pitch classes sounding, weighted by
# the number of voices on them; a little noise so that no two occurrences
# are identical.  Each chorale's opening section ends at its repeat sign.
import matplotlib.pyplot as plt
import numpy as np
from music21 import corpus

from skxsim import LaplacianSegmentation, RecurrenceMatrix, TimeDelayEmbedding
from skxsim.structure import segmentation_scores

STEP = 0.25  # quarter notes per frame
FORM = "ABACAB"


def opening_section(name):
    """Chroma of a bar-form chorale up to its repeat sign."""
    score = corpus.parse(name)
    end = float(score.expandRepeats().highestTime - score.highestTime)
    frames = np.zeros((int(np.ceil(end / STEP)), 12))
    for part in score.parts:
        for note in part.recurse().notes:
            start = float(note.getOffsetInHierarchy(score))
            first = int(round(start / STEP))
            last = int(round((start + float(note.quarterLength)) / STEP))
            for pitch in note.pitches:
                frames[first:last, pitch.pitchClass] += 1
    return frames


sections = {
    letter: opening_section(name)
    for letter, name in zip(
        "ABC", ["bach/bwv153.1", "bach/bwv86.6", "bach/bwv267"], strict=True
    )
}
rng = np.random.default_rng(0)
chroma = np.concatenate([sections[letter] for letter in FORM])
chroma += 0.3 * rng.random(chroma.shape)
truth = np.concatenate([np.full(len(sections[c]), "ABC".index(c)) for c in FORM])
X = TimeDelayEmbedding(n_steps=4, delay=2).fit_transform(chroma)
print(f"{len(X)} frames of {X.shape[1]} features")

# %%
# Segment
# -------
# The number of section types is the hyperparameter most worth setting;
# the median filters' sizes are in frames.
segmenter = LaplacianSegmentation(n_clusters=3, random_state=0)
labels = segmenter.fit_predict(X)
print("true boundaries:     ", np.flatnonzero(np.diff(truth)) + 1)
print("predicted boundaries:", segmenter.boundaries_[1:])
scores = segmentation_scores(truth, labels, frame_duration=0.125)  # 120 bpm
print({name: round(value, 3) for name, value in scores.items()})

# %%
# The recurrence graph, the ground truth and the prediction
# ---------------------------------------------------------
# Every return of a section is a diagonal stripe off the main diagonal.
# The strips are coloured per label: the colours of the two need not agree,
# the grouping of frames does.
rec = RecurrenceMatrix(width=3, mode="affinity", sym=True).fit_transform(X)
fig, (ax_rec, ax_lab) = plt.subplots(
    1, 2, figsize=(9, 4.5), gridspec_kw={"width_ratios": [4, 1]}, sharey=True
)
ax_rec.imshow(rec.toarray(), cmap="magma_r", origin="lower", aspect="auto")
ax_rec.set(title="Recurrence affinity", xlabel="frame", ylabel="frame")
for start in segmenter.boundaries_[1:]:
    ax_rec.axhline(start, color="tab:blue", lw=0.8)
ax_lab.imshow(
    np.column_stack([truth, labels]),
    cmap="tab10",
    origin="lower",
    aspect="auto",
    interpolation="nearest",
)
ax_lab.set_xticks([0, 1], ["score", "predicted"])
ax_lab.set_title("Sections")
fig.tight_layout()
plt.show()
