"""Plotting cross-similarity matrices (needs matplotlib: ``skxsim[plot]``)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import validate_params

from ._validation import POSITIVE_INT, POSITIVE_REAL

__all__ = ["show_cross_similarity"]


def _import_pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "skxsim.plot needs matplotlib, which is not installed: "
            'pip install "skxsim[plot]"'
        ) from exc
    return plt


def _to_image(xsim, orientation: str) -> np.ndarray:
    """Dense (n_ref, n_queries) image; entries a sparse matrix does not store
    are masked, so that they show as background rather than as a value."""
    if orientation not in ("sklearn", "librosa"):
        raise ValueError(
            f"orientation must be 'sklearn' or 'librosa', got {orientation!r}"
        )
    if sp.issparse(xsim):
        coo = sp.coo_array(xsim)
        if coo.ndim != 2:
            raise ValueError(f"xsim must be 2-D, got shape {coo.shape}")
        image = np.ma.masked_all(coo.shape, dtype=np.float64)
        image[coo.row, coo.col] = coo.data.astype(np.float64)
    else:
        values = np.asarray(xsim)
        if values.ndim != 2:
            raise ValueError(f"xsim must be 2-D, got shape {values.shape}")
        image = np.ma.masked_invalid(values.astype(np.float64))
    return image.T if orientation == "sklearn" else image


@validate_params(
    {"hop_length": [*POSITIVE_INT, None], "sr": [*POSITIVE_REAL, None]},
    prefer_skip_nested_validation=True,
)
def show_cross_similarity(
    xsim,
    ax=None,
    *,
    orientation: str = "sklearn",
    hop_length: int | None = None,
    sr: float | None = None,
    cmap=None,
    colorbar: bool = True,
    title: str | None = None,
):
    """Draw a cross-similarity matrix: query frames across, reference up.

    Whatever the orientation of ``xsim``, the picture is the same: the x axis
    is the query (the sequence passed to ``transform``, or ``data`` in
    librosa), the y axis is the reference (the sequence passed to ``fit``, or
    ``data_ref``), with frame 0 at the bottom left, so an alignment shows as a
    rising diagonal.

    Parameters
    ----------
    xsim : ndarray or scipy sparse matrix
        The matrix to draw. With ``orientation="sklearn"`` (default) it has
        shape ``(n_queries, n_ref)``, as returned by
        :meth:`skxsim.CrossSimilarity.transform`, and is drawn transposed.
        With ``orientation="librosa"`` it has shape ``(n_ref, n_queries)``, as
        returned by :func:`skxsim.cross_similarity`. For a sparse matrix,
        entries that are not stored (non-neighbours) are left blank, so a
        stored distance of 0 stays distinguishable from "not a neighbour".
    ax : matplotlib.axes.Axes, default=None
        Axes to draw into; the current axes if None.
    orientation : {"sklearn", "librosa"}, default="sklearn"
        Which axis of ``xsim`` holds the queries (see ``xsim``).
    hop_length : int, default=None
        With ``sr``, label the axes in seconds: frame ``i`` is drawn at
        ``i * hop_length / sr``. Defaults to 512 when only ``sr`` is given.
    sr : float, default=None
        Sample rate for time axes; frames are shown when None.
    cmap : str or matplotlib.colors.Colormap, default=None
        Colour map. None picks ``"gray_r"`` for 0/1 (connectivity) matrices,
        drawn on a fixed 0 to 1 scale, and ``"magma_r"`` otherwise.
    colorbar : bool, default=True
        Whether to add a colour bar.
    title : str, default=None
        Axes title.

    Returns
    -------
    image : matplotlib.image.AxesImage
        The drawn image.

    Raises
    ------
    ImportError
        If matplotlib is not installed (``pip install "skxsim[plot]"``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from skxsim.plot import show_cross_similarity
    >>> xsim = np.eye(5, 4)  # 5 query frames, 4 reference frames
    >>> fig, ax = plt.subplots()
    >>> image = show_cross_similarity(xsim, ax=ax, title="diagonal")
    >>> image.get_array().shape  # reference frames up, query frames across
    (4, 5)
    >>> plt.close(fig)
    """
    plt = _import_pyplot()
    image = _to_image(xsim, orientation)
    if ax is None:
        ax = plt.gca()
    n_ref, n_queries = image.shape

    finite = image.compressed()
    binary = finite.size > 0 and bool(np.isin(finite, (0.0, 1.0)).all())
    if cmap is None:
        cmap = "gray_r" if binary else "magma_r"

    if sr is not None:
        step = (512 if hop_length is None else int(hop_length)) / float(sr)
        unit = "time (s)"
    elif hop_length is not None:
        raise ValueError("hop_length needs sr to convert frames to seconds")
    else:
        step = 1.0
        unit = "frame"
    extent = (-0.5 * step, (n_queries - 0.5) * step, -0.5 * step, (n_ref - 0.5) * step)

    drawn = ax.imshow(
        image,
        origin="lower",
        aspect="auto",
        interpolation="nearest",
        cmap=cmap,
        extent=extent,
        # A connectivity matrix keeps its 0/1 scale even when it only stores 1s.
        vmin=0.0 if binary else None,
        vmax=1.0 if binary else None,
    )
    ax.set_xlabel(f"query {unit}")
    ax.set_ylabel(f"reference {unit}")
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(drawn, ax=ax)
    return drawn
