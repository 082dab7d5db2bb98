"""Batches of query sequences against one fitted reference, through joblib."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from joblib import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from .._validation import check_n_jobs, parallel_n_jobs

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from ._estimator import CrossSimilarity


def _transform(estimator, index, sequence):
    try:
        return estimator.transform(sequence)
    except (ValueError, TypeError) as exc:
        # The estimator's message names the problem but not the sequence.
        message = f"sequences[{index}]: {exc}"
        try:
            error = type(exc)(message)
        except Exception:  # an exception class with another signature
            error = ValueError(message)
        raise error from exc


def transform_many(
    estimator: CrossSimilarity,
    sequences: Iterable[ArrayLike],
    *,
    n_jobs: int | None = None,
) -> list:
    """Transform many query sequences against one fitted reference.

    Every sequence is one call of ``estimator.transform``, dispatched by
    :class:`joblib.Parallel`; the results are those of the one-by-one calls,
    in the order of ``sequences``.  Because the dispatch is joblib's, the
    active :func:`joblib.parallel_config` decides where the calls run: inside
    ``joblib.parallel_config(backend="dask")`` with a
    ``dask.distributed.Client`` they run on the Dask cluster (joblib ships the
    fitted estimator, index included, to each worker once).

    Orientation: scikit-learn (rows are frames).

    Parameters
    ----------
    estimator : CrossSimilarity
        A fitted estimator (any fitted transformer works).
    sequences : iterable of array-like of shape (n_frames_i, n_features)
        Query sequences; their lengths may differ.
    n_jobs : int or None, default=None
        Cores to use, as joblib workers (``-1``: all).  ``None``: the cores
        this process may use, unless an active
        :func:`joblib.parallel_config` sets ``n_jobs`` (see the user guide's
        "One meaning per name").

    Returns
    -------
    results : list
        ``results[i] == estimator.transform(sequences[i])``: a
        ``scipy.sparse.csr_matrix`` or ndarray of shape
        ``(n_frames_i, n_ref)``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        If a sequence cannot be transformed (wrong number of features, not
        2-D, NaN, ...); the message starts with ``sequences[i]:``, the index
        of the first such sequence.

    See Also
    --------
    CrossSimilarity.transform : one query sequence.

    Notes
    -----
    Each call still uses the estimator's own ``n_jobs`` threads; with many
    joblib workers on one machine, leave it at ``None`` (one thread).

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim import CrossSimilarity, transform_many
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.standard_normal((40, 6))
    >>> queries = [reference[:10], reference[5:30], reference[::2]]
    >>> xsim = CrossSimilarity(k=3).fit(reference)
    >>> import joblib
    >>> with joblib.parallel_config(backend="threading"):
    ...     results = transform_many(xsim, queries, n_jobs=2)
    >>> [r.shape for r in results]
    [(10, 40), (25, 40), (20, 40)]
    >>> all((r != xsim.transform(q)).nnz == 0 for r, q in zip(results, queries))
    True

    On a Dask cluster (not run here)::

        from dask.distributed import Client
        import joblib

        with Client(scheduler_address), joblib.parallel_config(backend="dask"):
            results = transform_many(xsim, queries)
    """
    check_n_jobs(n_jobs, "transform_many")
    check_is_fitted(estimator)
    return Parallel(n_jobs=parallel_n_jobs(n_jobs))(
        delayed(_transform)(estimator, index, sequence)
        for index, sequence in enumerate(sequences)
    )
