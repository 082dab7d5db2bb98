"""
Cover-song identification: grid-searching the pipeline on Bach's chorales
=========================================================================

Bach harmonised many chorale tunes more than once, often in another key: the
chorales that share a tune are *versions* of one work, a small cover-song
set with exact ground truth. :func:`~skxsim.datasets.load_bach_chorales`
builds chroma from the scores music21 ships (``pip install
"skxsim[datasets]"``).

:class:`~skxsim.CoverSongIndex` is a catalogue: ``fit`` stores recordings
with their work ids, ``kneighbors`` ranks the catalogue for a query
recording (transposed to each candidate's key, time-delay embedded,
binarised by mutual nearest neighbours, aligned by Qmax), and ``score`` is
the mean average precision (MAP) of those rankings. Samples are whole
recordings, so :class:`~sklearn.model_selection.GridSearchCV` tunes the
pipeline directly.

One rule for the split: every work needs versions on both sides, so the
folds are stratified on the work id (``cv=<int>`` does that for this
classifier). Splitting *by* work would leave the queries nothing to find.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skxsim import CoverSongIndex, TimeDelayEmbedding
from skxsim.cover import (
    cross_recurrence,
    optimal_transposition_index,
    qmax,
    transpose_chroma,
)
from skxsim.datasets import load_bach_chorales

# %%
# The data
# --------
# To keep this example fast, only the tunes Bach set at least four times: a
# few dozen chorales, each a chroma sequence on an eighth-note grid. The
# chroma is parsed once and cached on disk.
chorales = load_bach_chorales(min_versions=4, n_jobs=2)
X, y = chorales.data, chorales.target
lengths = [len(x) for x in X]
print(
    f"{len(X)} chorales of {len(set(y))} tunes, "
    f"{min(lengths)} to {max(lengths)} frames each"
)

# %%
# Two versions of one tune
# ------------------------
# The binary cross-recurrence of two harmonisations of one tune (after the
# transposition and the time-delay embedding the index applies) shows
# diagonal stripes: phrases that follow each other. Qmax scores the longest
# such path, gaps allowed.
work = y[0]
first, second = np.flatnonzero(y == work)[:2]
other = np.flatnonzero(y != work)[0]


def recurrence(query, reference):
    shift = optimal_transposition_index(query, reference)
    embed = TimeDelayEmbedding(n_steps=9).fit_transform
    return cross_recurrence(
        embed(transpose_chroma(query, shift))[8:], embed(reference)[8:]
    )


fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), layout="constrained")
for ax, j, label in [(axes[0], second, "same tune"), (axes[1], other, "another tune")]:
    R = recurrence(X[first], X[j])
    ax.imshow(R.toarray().T, origin="lower", cmap="gray_r", aspect="auto")
    ax.set(
        xlabel=f"query: {chorales.score[first]} (frames)",
        ylabel=f"{chorales.score[j]} (frames)",
        title=f"{label}: Qmax = {qmax(R):.1f}",
    )
fig.suptitle(f"Cross-recurrence of {chorales.title[first]!r} with two chorales")
plt.show()

# %%
# Grid search
# -----------
# ``k`` is the number of mutual nearest neighbours of a frame: an int counts
# them, a float is a fraction of the other recording's length (essentia's
# ``binarizePercentile``, default 0.095). The metric compares stacked chroma
# frames.
grid = {
    "k": [5, 10, 0.05, 0.095, 0.2],
    "metric": ["euclidean", "cosine"],
}
cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
search = GridSearchCV(CoverSongIndex(), grid, cv=cv, n_jobs=2).fit(X, y)

results = search.cv_results_
metrics = grid["metric"]
table = np.array(
    [
        [
            results["mean_test_score"][
                [p == {"k": k, "metric": m} for p in results["params"]]
            ][0]
            for m in metrics
        ]
        for k in grid["k"]
    ]
)
print("k       " + "".join(f"{m:>11}" for m in metrics))
for k, row in zip(grid["k"], table, strict=True):
    print(f"{k!s:<8}" + "".join(f"{v:11.3f}" for v in row))
print(f"best: {search.best_params_}, MAP {search.best_score_:.3f}")

# %%
# MAP per setting
# ---------------
fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
positions = np.arange(len(grid["k"]))
for offset, metric, column in zip((-0.2, 0.2), metrics, table.T, strict=True):
    bars = ax.bar(positions + offset, column, width=0.4, label=metric)
    ax.bar_label(bars, fmt="%.3f", fontsize="small")
ax.set_xticks(positions, [f"k={k}" for k in grid["k"]])
ax.set(
    ylabel="mean average precision (3-fold)",
    ylim=(max(0, table.min() - 0.1), 1),
    title="CoverSongIndex on Bach's chorales",
)
ax.legend(title="metric", loc="lower right")
plt.show()

# %%
# The tuned catalogue
# -------------------
# ``best_estimator_`` is refitted on every chorale. A query that is itself
# in the catalogue is left out of its own ranking (``kneighbors()`` without
# queries does that for every chorale, the usual cover-song evaluation).
best = search.best_estimator_
dist, ind = best.kneighbors(X[:3], n_neighbors=3)
for q in range(3):
    print(
        f"{chorales.score[q]:>14} ({y[q]}): "
        + ", ".join(f"{chorales.score[i]} ({y[i]})" for i in ind[q])
    )
