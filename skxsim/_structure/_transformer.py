"""``PathEnhance``: path enhancement as a scikit-learn transformer."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import validate_data

from .._base import SkxsimEstimator
from .._validation import N_JOBS, Number
from ._convolve import MODES
from ._enhance import enhance
from ._kernels import ENHANCE_CONSTRAINTS, diagonal_kernels, filter_parameters_doc


@filter_parameters_doc
class PathEnhance(TransformerMixin, SkxsimEstimator):
    """Multi-angle path enhancement of similarity matrices, in a pipeline.

    The transformer face of :func:`path_enhance`: between
    :class:`CrossSimilarity` or :class:`RecurrenceMatrix` and what consumes
    their matrix (cover-song scoring, alignment, segmentation).  ``fit``
    only validates the parameters and builds the filters; ``transform(X)``
    enhances the similarity matrix ``X``.

    Orientation: scikit-learn's, ``X`` of shape ``(n_queries, n_ref)`` as
    :class:`CrossSimilarity` gives it, the transpose of librosa's ``(n_ref,
    n)``; ``transform(X)`` is ``path_enhance(X.T, ...).T``, so a ratio
    means the same tempo ratio as in librosa (the default ratios are their
    own inverses, and then the orientation does not matter at all).

    Parameters
    ----------
    n : int >= 1, default=51
        The length of the smoothing filters, in frames.
    <filter parameters>
    mode : {"reflect", "constant", "nearest", "mirror", "wrap"}, \
default="reflect"
        How the matrix is extended beyond its edges (``scipy.ndimage``'s).
    cval : float, default=0.0
        The value beyond the edges with ``mode="constant"``.
    n_jobs : int or None, default=None
        Threads for the FFTs (``-1``: all cores).

    Attributes
    ----------
    filters_ : list of ndarray
        The smoothing filters, one per ratio, in librosa's orientation
        (``librosa.filters.diagonal_filter``'s values).
    n_features_in_ : int
        Columns of the matrices transformed (reference frames).

    See Also
    --------
    path_enhance : librosa-compatible function.
    CrossSimilarity, RecurrenceMatrix : the matrices to enhance.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from skxsim import PathEnhance, RecurrenceMatrix
    >>> rng = np.random.default_rng(0)
    >>> verse = rng.standard_normal((20, 12))
    >>> song = np.concatenate([verse, rng.standard_normal((10, 12)), verse])
    >>> pipe = make_pipeline(
    ...     RecurrenceMatrix(k=3, include_self=True), PathEnhance(n=9)
    ... )
    >>> smooth = pipe.fit_transform(song)
    >>> smooth.shape
    (50, 50)
    >>> bool(smooth[5, 35] > smooth[5, 25])   # the repeated verse
    True
    """

    _parameter_constraints: dict = {
        **ENHANCE_CONSTRAINTS,
        "mode": [StrOptions(set(MODES))],
        "cval": [Number(Real, None, None, closed="neither")],
        "n_jobs": N_JOBS,
    }

    def __init__(
        self,
        *,
        n: int = 51,
        window="hann",
        max_ratio: float = 2.0,
        min_ratio: float | None = None,
        n_filters: int = 7,
        zero_mean: bool = False,
        clip: bool = True,
        mode: str = "reflect",
        cval: float = 0.0,
        n_jobs: int | None = None,
    ) -> None:
        self.n = n
        self.window = window
        self.max_ratio = max_ratio
        self.min_ratio = min_ratio
        self.n_filters = n_filters
        self.zero_mean = zero_mean
        self.clip = clip
        self.mode = mode
        self.cval = cval
        self.n_jobs = n_jobs

    # The filters are built in fit from these.
    _fit_params = ("n", "window", "max_ratio", "min_ratio", "n_filters", "zero_mean")

    def _validate(self, X, reset: bool):
        return validate_data(
            self,
            X,
            reset=reset,
            accept_sparse=["csr", "csc", "coo"],
            dtype=[np.float64, np.float32],
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and build the filters.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_queries, n_ref)
            A similarity matrix (its number of columns is recorded).
        y : None
            Ignored.

        Returns
        -------
        self : PathEnhance
        """
        self._validate(X, reset=True)
        self._remember_fit_params()
        self.filters_ = diagonal_kernels(
            self.window,
            self.n,
            self.max_ratio,
            self.min_ratio,
            self.n_filters,
            self.zero_mean,
        )
        return self

    def transform(self, X):
        """Enhance the paths of a similarity matrix.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_queries, n_ref)
            A similarity matrix, scikit-learn orientation.

        Returns
        -------
        X_smooth : ndarray of shape (n_queries, n_ref)
            float32 for float32 input, float64 otherwise.
        """
        self._check_usable()
        X = self._validate(X, reset=False)
        options = {"mode": self.mode, "cval": self.cval}
        return enhance(
            X, self.filters_, options, bool(self.clip), self.n_jobs, transposed=True
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
