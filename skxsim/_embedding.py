"""Time-delay (short-term history) embedding as a scikit-learn transformer."""

from __future__ import annotations

import numpy as np
from sklearn.base import TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import SkxsimEstimator
from ._output_size import check_output_size
from ._validation import DELAY, N_STEPS

__all__ = ["TimeDelayEmbedding"]

# np.pad modes that are deterministic ("empty" leaves garbage in the padding).
_PAD_MODES = {
    "constant",
    "edge",
    "linear_ramp",
    "maximum",
    "mean",
    "median",
    "minimum",
    "reflect",
    "symmetric",
    "wrap",
}


def _lag_name(name: str, lag: int) -> str:
    if lag == 0:
        return f"{name}_t"
    if lag > 0:
        return f"{name}_t-{lag}"
    return f"{name}_t+{-lag}"


class TimeDelayEmbedding(TransformerMixin, SkxsimEstimator):
    """Stack each frame with delayed copies of itself (time-delay embedding).

    scikit-learn orientation: ``X`` has shape ``(n_frames, n_features)``,
    rows are frames in time order. Output row ``i`` is the concatenation::

        [X[i], X[i - delay], X[i - 2 * delay], ..., X[i - (n_steps - 1) * delay]]

    so the output has shape ``(n_frames, n_steps * n_features)``. Frames
    before the start (or, for a negative ``delay``, after the end) are
    supplied by :func:`numpy.pad` with ``mode``.

    The result equals ``librosa.feature.stack_memory(X.T, n_steps=n_steps,
    delay=delay, mode=mode, **pad_params).T`` (librosa orientation is
    ``(n_features, n_frames)``).

    The transformer learns nothing from the data: :meth:`fit` only records
    the number of features. Each call to :meth:`transform` treats its input
    as one whole sequence, so transforming a subset or a permutation of the
    rows is *not* the same as taking that subset of the full result.

    Parameters
    ----------
    n_steps : int, default=2
        Embedding dimension: the number of frames stacked, the current one
        included. ``n_steps=1`` returns the input unchanged.
    delay : int, default=1
        Number of frames between stacked copies; must be non-zero. Positive
        values look into the past (previous rows), negative values into the
        future (subsequent rows).
    mode : str, default="constant"
        Padding mode passed to :func:`numpy.pad`: one of ``"constant"``,
        ``"edge"``, ``"linear_ramp"``, ``"maximum"``, ``"mean"``,
        ``"median"``, ``"minimum"``, ``"reflect"``, ``"symmetric"``,
        ``"wrap"``.
    pad_params : dict, default=None
        Extra keyword arguments for :func:`numpy.pad`, e.g.
        ``{"constant_values": 0.5}`` or ``{"reflect_type": "odd"}``. With
        ``mode="constant"`` the default fill value is 0, as in librosa.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during :meth:`fit`, only defined when
        ``X`` has string feature names.

    See Also
    --------
    CrossSimilarity : k-nearest-neighbour cross-similarity of embedded
        sequences.

    Examples
    --------
    >>> import numpy as np
    >>> from skxsim import TimeDelayEmbedding
    >>> X = np.arange(-3, 3, dtype=float).reshape(-1, 1)  # 6 frames, 1 feature
    >>> TimeDelayEmbedding(n_steps=3).fit_transform(X)
    array([[-3.,  0.,  0.],
           [-2., -3.,  0.],
           [-1., -2., -3.],
           [ 0., -1., -2.],
           [ 1.,  0., -1.],
           [ 2.,  1.,  0.]])
    >>> TimeDelayEmbedding(n_steps=2, delay=-2, mode="edge").fit_transform(X)
    array([[-3., -1.],
           [-2.,  0.],
           [-1.,  1.],
           [ 0.,  2.],
           [ 1.,  2.],
           [ 2.,  2.]])
    """

    _parameter_constraints: dict = {
        "n_steps": N_STEPS,
        "delay": DELAY,
        "mode": [StrOptions(_PAD_MODES)],
        "pad_params": [dict, None],
    }

    def __init__(self, *, n_steps=2, delay=1, mode="constant", pad_params=None):
        self.n_steps = n_steps
        self.delay = delay
        self.mode = mode
        self.pad_params = pad_params

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and record the number of features.

        Parameters
        ----------
        X : array-like of shape (n_frames, n_features)
            A feature sequence, frames as rows.
        y : None
            Ignored.

        Returns
        -------
        self : TimeDelayEmbedding
            The fitted transformer.
        """
        validate_data(self, X, dtype=[np.float64, np.float32])
        return self

    def transform(self, X):
        """Embed a sequence: stack each frame with its delayed copies.

        Parameters
        ----------
        X : array-like of shape (n_frames, n_features)
            A feature sequence, frames as rows, in time order.

        Returns
        -------
        X_embedded : ndarray of shape (n_frames, n_steps * n_features)
            Row ``i`` is ``[X[i], X[i - delay], ..., X[i - (n_steps-1)*delay]]``
            with padding outside the sequence. float32 input stays float32.
        """
        self._check_usable()
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        n_frames = X.shape[0]
        n_steps, delay = int(self.n_steps), int(self.delay)  # not np.int8 math
        span = (n_steps - 1) * abs(delay)
        pad_width = [(span, 0) if delay > 0 else (0, span), (0, 0)]
        pad_params = dict(self.pad_params or {})
        check_output_size(
            # The output, and the padded sequence it is cut from.
            (n_steps * n_frames + n_frames + span) * X.shape[1] * X.itemsize,
            f"the time-delay embedding of {n_frames} frames with n_steps={n_steps}",
            "Use a smaller n_steps, or embed the sequence in parts.",
        )
        padded = np.pad(X, pad_width, mode=self.mode, **pad_params)
        # In padded coordinates frame i sits at i + span (delay > 0) or i
        # (delay < 0); block s holds frame i - s * delay.
        offset = span if delay > 0 else 0
        blocks = [
            padded[offset - s * delay : offset - s * delay + n_frames]
            for s in range(n_steps)
        ]
        return np.ascontiguousarray(np.hstack(blocks), dtype=X.dtype)

    def get_feature_names_out(self, input_features=None):
        """Names of the embedded features.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; ``None`` uses ``feature_names_in_`` if
            defined, else ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``"<name>_t"`` for the current frame, ``"<name>_t-<lag>"`` for a
            past frame and ``"<name>_t+<lead>"`` for a future one, step by
            step, in the order of the output columns.
        """
        from sklearn.utils.validation import _check_feature_names_in

        check_is_fitted(self, "n_features_in_")
        names = _check_feature_names_in(self, input_features)
        return np.asarray(
            [
                _lag_name(name, s * self.delay)
                for s in range(self.n_steps)
                for name in names
            ],
            dtype=object,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags
