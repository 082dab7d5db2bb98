"""Plotting cross-similarity matrices (needs matplotlib: ``skxsim[plot]``)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import (
    HasMethods,
    StrOptions,
    validate_params,
)

from ._output_size import check_output_size
from ._validation import POSITIVE_INT, POSITIVE_REAL

__all__ = ["show_cross_similarity"]

# Bytes per cell of the picture: the float64 image and its mask.
IMAGE_BYTES_PER_CELL = 9


def check_image_size(shape, what: str = "the picture") -> None:
    """Refuse, before densifying, a picture larger than the memory left."""
    n_rows, n_cols = shape
    check_output_size(
        n_rows * n_cols * IMAGE_BYTES_PER_CELL,
        f"{what} of a {n_rows} x {n_cols} matrix (drawn dense)",
        "Draw a part of it (xsim[:2000, :2000]) or a downsampled copy.",
    )


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
        if xsim.ndim != 2:
            raise ValueError(f"xsim must be 2-D, got shape {xsim.shape}")
        values = xsim
    else:
        try:
            values = np.asarray(xsim)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"xsim is not a rectangular array: {exc}") from None
        if values.ndim != 2:
            raise ValueError(f"xsim must be 2-D, got shape {values.shape}")
    if values.dtype.kind == "c":
        raise ValueError("xsim holds complex values; it must be real.")
    if values.dtype.kind not in "biuf":
        raise ValueError(f"xsim must hold numbers; got dtype {values.dtype}.")
    if 0 in values.shape:
        raise ValueError(f"xsim is empty (shape {values.shape}): nothing to draw.")
    check_image_size(values.shape)
    if sp.issparse(values):
        coo = sp.coo_array(values, dtype=np.float64, copy=True)
        coo.sum_duplicates()  # scipy reads duplicate entries as their sum
        image = np.ma.masked_all(coo.shape, dtype=np.float64)
        image[coo.row, coo.col] = coo.data
    else:
        image = np.ma.masked_invalid(values.astype(np.float64))
    return image.T if orientation == "sklearn" else image


@validate_params(
    {
        "xsim": ["array-like", "sparse matrix"],
        "ax": [HasMethods(["imshow"]), None],
        "orientation": [StrOptions({"sklearn", "librosa"})],
        "hop_length": [*POSITIVE_INT, None],
        "sr": [*POSITIVE_REAL, None],
        "cmap": "no_validation",
        "colorbar": ["boolean"],
        "title": [str, None],
    },
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
    skxsim.exceptions.OutputTooLargeError
        If the dense picture of ``xsim`` would not fit in the memory left
        (checked before it is made).

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
