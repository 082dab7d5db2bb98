"""Evaluation of cover-song rankings: their length and average precision."""

from __future__ import annotations

import warnings

import numpy as np


def check_n_neighbors(n_neighbors: int, available: int, n_catalogue: int) -> None:
    """At most the recordings a ranking can return (the catalogue, minus the
    recordings equal to a query); ``n_neighbors`` passed its declaration."""
    if n_neighbors > available:
        but = ", minus the query itself" if available < n_catalogue else ""
        raise ValueError(
            f"n_neighbors={n_neighbors!r} must be an int in [1, {available}] "
            f"(the catalogue has {n_catalogue} recordings{but})."
        )


def _check_rankings(order, excluded, catalogue_works, query_works):
    """Rankings of a catalogue, one per query: every recording exactly once."""
    order = np.asarray(order)
    if order.ndim != 2:
        raise ValueError(
            f"order must be a 2-d array (n_queries, n_catalogue); got shape "
            f"{order.shape}."
        )
    if order.dtype.kind not in "iu":
        raise ValueError(f"order must hold integers (indices); got {order.dtype}.")
    n_queries, n_catalogue = order.shape
    permutation = np.arange(n_catalogue)
    for q, ranking in enumerate(np.sort(order, axis=1)):
        if not np.array_equal(ranking, permutation):
            raise ValueError(
                f"order[{q}] is not a permutation of the {n_catalogue} catalogue "
                "indices: each recording must be ranked exactly once."
            )
    excluded = np.asarray(excluded)
    if excluded.shape != order.shape:
        raise ValueError(
            f"excluded must have shape {order.shape}, as order; got {excluded.shape}."
        )
    if excluded.dtype != bool:
        raise ValueError(f"excluded must be boolean; got {excluded.dtype}.")
    works = []
    for name, labels, n, each in [
        ("catalogue_works", catalogue_works, n_catalogue, "catalogue recording"),
        ("query_works", query_works, n_queries, "query"),
    ]:
        labels = np.asarray(labels)
        if labels.shape != (n,):
            raise ValueError(
                f"{name} must hold {n} work ids, one per {each}; got shape "
                f"{labels.shape}."
            )
        works.append(labels)
    return order, excluded, *works


def average_precision(order, excluded, catalogue_works, query_works) -> np.ndarray:
    """Average precision of each query's ranking of the catalogue.

    Parameters
    ----------
    order : ndarray of shape (n_queries, n_catalogue)
        ``order[q]`` is the catalogue ranked for query ``q``, best first.
    excluded : ndarray of bool, shape (n_queries, n_catalogue)
        Catalogue recordings left out of query ``q``'s ranking (itself),
        wherever ``order`` puts them: they are skipped.
    catalogue_works : array-like of shape (n_catalogue,)
        Work id of each catalogue recording.
    query_works : array-like of shape (n_queries,)
        Work id of each query.

    Returns
    -------
    ap : ndarray of shape (n_queries,)
        Mean over the relevant recordings (same work, not excluded) of the
        precision at their rank; NaN where nothing is relevant.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim.cover import average_precision
    >>> order = np.array([[1, 0, 2]])          # recording 1 ranked first
    >>> excluded = np.zeros((1, 3), dtype=bool)
    >>> average_precision(order, excluded, ["a", "b", "a"], ["a"])
    array([0.58333333])
    """
    order, excluded, catalogue_works, query_works = _check_rankings(
        order, excluded, catalogue_works, query_works
    )
    ranked_works = catalogue_works[order]
    kept = ~np.take_along_axis(excluded, order, axis=1)
    relevant = (ranked_works == query_works[:, None]) & kept
    ranks = np.cumsum(kept, axis=1)  # 1-based rank among kept recordings
    hits = np.cumsum(relevant, axis=1)
    n_relevant = relevant.sum(axis=1)
    precision_sum = np.where(relevant, hits / np.maximum(ranks, 1), 0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_relevant > 0, precision_sum / n_relevant, np.nan)


def mean_average_precision(order, excluded, catalogue_works, query_works) -> float:
    """The mean of :func:`average_precision` over the queries that have a
    relevant recording; NaN with a warning when none has."""
    ap = average_precision(order, excluded, catalogue_works, query_works)
    counted = ~np.isnan(ap)
    if not counted.any():
        warnings.warn(
            "no query has a version of its work in the catalogue; the mean "
            "average precision is undefined (NaN). Split stratified on the "
            "work id, not by work.",
            UserWarning,
            stacklevel=3,
        )
        return float("nan")
    return float(np.mean(ap[counted]))
