"""skxsim.plot.show_cross_similarity, drawn with the Agg backend."""

import sys

import numpy as np
import pytest
import scipy.sparse as sp

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg", force=True)
import matplotlib.pyplot as plt  # noqa: E402

from skxsim.plot import show_cross_similarity  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_dense_sklearn_orientation_is_drawn_transposed(ax):
    xsim = np.arange(12, dtype=float).reshape(4, 3)  # 4 queries, 3 references
    image = show_cross_similarity(xsim, ax=ax, colorbar=False, title="t")
    drawn = image.get_array()
    assert drawn.shape == (3, 4)
    np.testing.assert_array_equal(drawn, xsim.T)
    assert ax.get_xlabel() == "query frame"
    assert ax.get_ylabel() == "reference frame"
    assert ax.get_title() == "t"
    assert image.origin == "lower"
    assert image.get_cmap().name == "magma_r"


def test_librosa_orientation_is_drawn_as_is(ax):
    xsim = np.arange(12, dtype=float).reshape(3, 4)  # (n_ref, n)
    image = show_cross_similarity(xsim, ax=ax, orientation="librosa", colorbar=False)
    np.testing.assert_array_equal(image.get_array(), xsim)


def test_sparse_unstored_entries_are_blank(ax):
    # An explicitly stored 0 (an exact match in distance mode) stays visible.
    xsim = sp.csr_matrix(
        (np.array([0.0, 2.0]), np.array([1, 0]), np.array([0, 1, 2])), shape=(2, 3)
    )
    assert xsim.nnz == 2
    drawn = show_cross_similarity(xsim, ax=ax, colorbar=False).get_array()
    assert drawn.shape == (3, 2)
    assert drawn.mask.tolist() == [[True, False], [False, True], [True, True]]
    assert drawn[1, 0] == 0.0 and drawn[0, 1] == 2.0


def test_connectivity_is_gray_on_a_fixed_scale(ax):
    xsim = sp.csr_matrix(np.eye(4))
    image = show_cross_similarity(xsim, ax=ax)
    assert image.get_cmap().name == "gray_r"
    assert image.get_clim() == (0.0, 1.0)
    assert len(ax.figure.axes) == 2  # the colorbar


def test_seconds_axis(ax):
    image = show_cross_similarity(
        np.ones((10, 5)), ax=ax, sr=100, hop_length=10, colorbar=False
    )
    left, right, bottom, top = image.get_extent()
    assert (left, right) == pytest.approx((-0.05, 0.95))
    assert (bottom, top) == pytest.approx((-0.05, 0.45))
    assert ax.get_xlabel() == "query time (s)"


def test_default_axes_and_estimator_output():
    from skxsim import CrossSimilarity

    rng = np.random.default_rng(0)
    xsim = CrossSimilarity(k=2).fit(rng.random((6, 2))).transform(rng.random((8, 2)))
    plt.figure()
    try:
        image = show_cross_similarity(xsim)
        assert image.axes is plt.gca()
        assert image.get_array().shape == (6, 8)
    finally:
        plt.close("all")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"orientation": "columns"}, "orientation"),
        ({"hop_length": 512}, "hop_length needs sr"),
        # sr=0 divided by zero; a negative, NaN or text sr drew nonsense or
        # failed inside matplotlib.
        ({"sr": 0}, "'sr'"),
        ({"sr": -22050}, "'sr'"),
        ({"sr": np.nan}, "'sr'"),
        ({"sr": "22050"}, "'sr'"),
        ({"sr": 22050, "hop_length": 0}, "'hop_length'"),
        ({"sr": 22050, "hop_length": 1.5}, "'hop_length'"),
        ({"ax": "left"}, "'ax'"),
        ({"colorbar": "yes"}, "'colorbar'"),
        ({"title": 3}, "'title'"),
    ],
)
def test_bad_arguments(ax, kwargs, match):
    kwargs = {"ax": ax, **kwargs}
    with pytest.raises(ValueError, match=match):
        show_cross_similarity(np.ones((2, 2)), **kwargs)


@pytest.mark.parametrize(
    "xsim, match",
    [
        (np.ones(3), "2-D"),
        (sp.coo_array(np.ones(3)), "2-D"),
        ("abc", "xsim"),
        ([[1.0, 2.0], [1.0]], "xsim is not a rectangular"),
        (np.eye(2) * 1j, "xsim holds complex"),
        (np.array([[1, "a"]], dtype=object), "xsim must hold numbers"),
        (np.zeros((0, 3)), "xsim is empty"),
    ],
)
def test_bad_matrices(ax, xsim, match):
    with pytest.raises(ValueError, match=match):
        show_cross_similarity(xsim, ax=ax)


def test_sparse_duplicates_are_drawn_as_their_sum(ax):
    # scipy reads duplicate entries as their sum; the picture showed one.
    xsim = sp.csr_matrix((np.array([0.25, 0.5]), [1, 1], [0, 2, 2]), shape=(2, 2))
    image = show_cross_similarity(xsim, ax=ax).get_array()
    assert image[1, 0] == 0.75  # drawn transposed
    assert image.mask.sum() == 3


def test_missing_matplotlib_names_the_extra(monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'pip install "skxsim\[plot\]"'):
        show_cross_similarity(np.ones((2, 2)))
