"""Cross-validation over (reference, query) pairs for the aligner."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils._param_validation import validate_parameter_constraints
from sklearn.utils.validation import _num_samples

from .._constraints import Number, Numbers
from .._validation import as_items

# One pair's (n_ref, n_query): two counts of frames.
LENGTHS_PAIR = [
    Numbers(
        2,
        Number(Integral, 1, None, closed="left"),
        "a pair (n_ref, n_query) of ints >= 1 (bools refused)",
    )
]


class ReferenceQuerySplit(BaseCrossValidator):
    """Splits of stacked (reference, query) pairs: fit on one, score the other.

    To tune an :class:`Aligner` (or a pipeline ending in one) with
    :class:`~sklearn.model_selection.GridSearchCV`, stack the pairs' frames
    row-wise, ``X = [reference_0; query_0; reference_1; query_1; ...]``, and
    their targets alike, ``y = [positions_0; truth_0; ...]`` (the reference
    frames' positions, then the query frames' true positions in the same
    units).  Split ``i`` trains on the rows of ``reference_i`` and tests on
    those of ``query_i``, so the search scores each setting by the mean of
    ``Aligner.score`` (minus the mean absolute error) over the pairs.

    Parameters
    ----------
    lengths : sequence of (int, int)
        ``(n_ref, n_query)`` frames of each pair, in stacking order.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skxsim import Aligner, ReferenceQuerySplit
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.random((30, 12))
    >>> query = np.repeat(reference, 2, axis=0)       # twice as slow
    >>> X = np.vstack([reference, query])
    >>> y = np.concatenate([np.arange(30), np.repeat(np.arange(30), 2)])
    >>> cv = ReferenceQuerySplit([(30, 60)])
    >>> [(train.tolist()[:3], test.tolist()[:3]) for train, test in cv.split(X)]
    [([0, 1, 2], [30, 31, 32])]
    >>> search = GridSearchCV(
    ...     Aligner(), {"metric": ["cosine", "euclidean"]}, cv=cv
    ... ).fit(X, y)
    >>> float(search.best_score_)
    0.0
    """

    def __init__(self, lengths) -> None:
        self.lengths = lengths

    def _lengths(self) -> np.ndarray:
        pairs = as_items(self.lengths, "lengths", "(n_ref, n_query) pairs", item="pair")
        for i, pair in enumerate(pairs):
            validate_parameter_constraints(
                {f"lengths[{i}]": LENGTHS_PAIR},
                {f"lengths[{i}]": pair},
                caller_name="ReferenceQuerySplit",
            )
        return np.array([[int(n) for n in pair] for pair in pairs], dtype=np.intp)

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """The number of pairs."""
        return len(self._lengths())

    def split(self, X, y=None, groups=None):
        """Per pair, the reference rows (train) and the query rows (test).

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            The stacked frames; ``n_rows`` must be the sum of ``lengths``.
        y, groups : ignored

        Yields
        ------
        train, test : ndarray of int
            Rows of the pair's reference and of its query.
        """
        lengths = self._lengths()
        try:
            n_rows = _num_samples(X)
        except TypeError:
            raise ValueError(
                "X must be the stacked frames of the pairs, an array-like of "
                f"shape (n_rows, n_features); got {type(X).__name__}."
            ) from None
        if n_rows != int(lengths.sum()):
            raise ValueError(
                f"X has {n_rows} rows; the pairs of lengths={self.lengths!r} "
                f"stack {int(lengths.sum())}."
            )
        start = 0
        for n_ref, n_query in lengths:
            yield (
                np.arange(start, start + n_ref),
                np.arange(start + n_ref, start + n_ref + n_query),
            )
            start += n_ref + n_query

    def _iter_test_indices(self, X=None, y=None, groups=None):
        for _, test in self.split(X, y, groups):
            yield test

    def __repr__(self) -> str:
        return f"ReferenceQuerySplit(lengths={self.lengths!r})"


__all__ = ["ReferenceQuerySplit"]
