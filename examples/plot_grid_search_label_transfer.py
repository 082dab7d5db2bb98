"""
Tuning k and metric with GridSearchCV: chord-label transfer
===========================================================

An annotated reference recording carries a chord label per frame. To label a
new performance (the query), give each query frame the label that wins a
vote among its ``k`` nearest reference frames, weighted by their affinity.
That is a :class:`~sklearn.pipeline.Pipeline`: a time-delay embedding, a
:class:`~skxsim.CrossSimilarity` fitted on the annotated frames, and a tiny
classifier that turns the ``(n_queries, n_ref)`` affinities into votes.

Which ``k`` and which metric work best? :class:`~sklearn.model_selection.
GridSearchCV` answers, with one caveat: frames of one song are strongly
correlated, so a random split would leak. :class:`~sklearn.model_selection.
GroupKFold` with one group per song keeps each song entirely on one side of
every split, and the score estimates how well labels transfer to a *new*
song.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from skxsim import CrossSimilarity, TimeDelayEmbedding
from skxsim.datasets import make_cover_pair


class SimilarityVote(ClassifierMixin, BaseEstimator):
    """Label each query frame by an affinity-weighted vote of reference labels.

    ``fit(S, y)`` receives the cross-similarity of the training frames to
    the reference, which *is* the training frames, so ``y`` labels the
    columns of every later ``S``.
    """

    def fit(self, S, y):
        self.binarizer_ = LabelBinarizer(sparse_output=True).fit(y)
        self.classes_ = self.binarizer_.classes_
        self.votes_per_reference_ = self.binarizer_.transform(y)
        return self

    def predict(self, S):
        check_is_fitted(self)
        votes = S @ self.votes_per_reference_  # (n_queries, n_classes)
        return self.classes_[np.asarray(votes.argmax(axis=1)).ravel()]


# %%
# Annotated songs
# ---------------
# Six synthetic songs, each with two performances (a reference and a
# cover); chord names are shared across songs, the progressions are not.
songs = [make_cover_pair(n_chords=10, random_state=seed) for seed in range(6)]
X = np.vstack([np.vstack([s.reference, s.cover]) for s in songs])
y = np.concatenate(
    [np.concatenate([s.reference_labels, s.cover_labels]) for s in songs]
)
groups = np.concatenate(
    [np.full(len(s.reference) + len(s.cover), song) for song, s in enumerate(songs)]
)
print(f"{X.shape[0]} frames, {len(np.unique(y))} chord labels, 6 songs")

# %%
# Grid search over ``k`` and ``metric``
# -------------------------------------
model = Pipeline(
    [
        ("embed", TimeDelayEmbedding(n_steps=3, delay=1)),
        ("xsim", CrossSimilarity(mode="affinity")),
        ("vote", SimilarityVote()),
    ]
)
param_grid = {
    "xsim__k": [1, 4, 12, 36],
    "xsim__metric": ["euclidean", "cosine"],
}
search = GridSearchCV(model, param_grid, cv=GroupKFold(n_splits=3), n_jobs=1)
search.fit(X, y, groups=groups)
print("best parameters:", search.best_params_)
print(f"best grouped-CV accuracy: {search.best_score_:.3f}")

# %%
# Scores for every combination:
scores = search.cv_results_["mean_test_score"].reshape(
    len(param_grid["xsim__k"]), len(param_grid["xsim__metric"])
)
fig, ax = plt.subplots(figsize=(4, 3.5), layout="constrained")
image = ax.imshow(scores, cmap="viridis")
ax.set_xticks(range(2), param_grid["xsim__metric"])
ax.set_yticks(range(4), param_grid["xsim__k"])
ax.set_xlabel("metric")
ax.set_ylabel("k")
for (i, j), score in np.ndenumerate(scores):
    ax.text(j, i, f"{score:.2f}", ha="center", va="center", color="w")
ax.set_title("grouped-CV chord accuracy")
fig.colorbar(image, ax=ax)

# %%
# Transfer labels to a new song
# -----------------------------
# A song that took no part in the search: fit the tuned pipeline on its
# annotated reference, predict the labels of its unannotated cover.
new = make_cover_pair(n_chords=10, random_state=100)
tuned = search.best_estimator_.fit(new.reference, new.reference_labels)
predicted = tuned.predict(new.cover)
correct = predicted == new.cover_labels
print(f"label accuracy on the cover: {correct.mean():.3f}")
print(f"  outside the changed section: {correct[~new.changed].mean():.3f}")

fig, ax = plt.subplots(figsize=(8, 2), layout="constrained")
ax.plot(np.flatnonzero(correct), np.ones(correct.sum()), "|", color="tab:green")
ax.plot(np.flatnonzero(~correct), np.zeros((~correct).sum()), "|", color="tab:red")
ax.axvspan(*np.flatnonzero(new.changed)[[0, -1]], alpha=0.15, label="changed section")
ax.set_yticks([0, 1], ["wrong", "right"])
ax.set_ylim(-0.5, 1.5)
ax.set_xlabel("cover frame")
ax.legend(loc="center right")
plt.show()
