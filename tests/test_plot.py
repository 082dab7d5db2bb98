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
    ],
)
def test_bad_arguments(ax, kwargs, match):
    with pytest.raises(ValueError, match=match):
        show_cross_similarity(np.ones((2, 2)), ax=ax, **kwargs)


def test_not_2d(ax):
    with pytest.raises(ValueError, match="2-D"):
        show_cross_similarity(np.ones(3), ax=ax)


def test_missing_matplotlib_names_the_extra(monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'pip install "skxsim\[plot\]"'):
        show_cross_similarity(np.ones((2, 2)))
