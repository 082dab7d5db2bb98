"""path_enhance and PathEnhance against librosa 0.11 and scipy.ndimage.

librosa is the oracle wherever it is right; where scipy's n-D ``reflect``
extension reads zeros (a matrix shorter than about half the filter), the
oracle is scipy's convolution of the matrix padded by numpy's true
``symmetric`` reflection.  librosa's own tests for path_enhance are ported
at the end of the librosa section.
"""

import io

import joblib
import numpy as np
import pytest
import scipy.ndimage
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

import skxsim
from skxsim import PathEnhance, path_enhance

librosa = pytest.importorskip("librosa")


def _close(actual, expected, rtol=1e-9):
    """Equal to rounding, relative to the largest value."""
    scale = max(np.abs(expected).max(), 1e-300)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rtol * scale)


@pytest.fixture
def R_input(rng):
    X = rng.standard_normal(size=(30, 5))
    return X.dot(X.T)


# ------------------------------------------------------------- vs librosa


@pytest.mark.parametrize("shape", [(40, 40), (37, 52), (61, 33)])
@pytest.mark.parametrize(
    "window", ["hann", "rect", "triang", ("kaiser", 4.0), 6.0, np.hamming, "list"]
)
@pytest.mark.parametrize("n", [4, 9, 17])
def test_windows_and_shapes(rng, shape, window, n):
    R = rng.standard_normal(shape)
    if isinstance(window, str) and window == "list":
        window = list(rng.random(n) + 0.1)
    expected = librosa.segment.path_enhance(R, n, window=window)
    _close(path_enhance(R, n, window=window), expected)


@pytest.mark.parametrize(
    "ratios",
    [
        dict(max_ratio=2.0),
        dict(max_ratio=3.0, min_ratio=0.25),
        dict(max_ratio=1.0),
        dict(max_ratio=1.5, min_ratio=1.5),
        dict(max_ratio=4.0, min_ratio=1.0),
        dict(max_ratio=0.9, min_ratio=0.2),
    ],
)
@pytest.mark.parametrize("n_filters", [1, 2, 6, 7])
@pytest.mark.parametrize("zero_mean", [False, True])
@pytest.mark.parametrize("clip", [False, True])
def test_ratios_filters_zero_mean_clip(rng, ratios, n_filters, zero_mean, clip):
    R = rng.random((45, 38)) ** 3  # a similarity: non-negative, peaky
    options = dict(n_filters=n_filters, zero_mean=zero_mean, clip=clip, **ratios)
    expected = librosa.segment.path_enhance(R, 11, **options)
    _close(path_enhance(R, 11, **options), expected)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(mode="reflect"),
        dict(mode="constant"),
        dict(mode="constant", cval=0.7),
        dict(mode="nearest"),
        dict(mode="mirror"),
        dict(mode="wrap"),
        dict(mode="grid-wrap"),
        dict(origin=2),
        dict(origin=-3),
        dict(origin=(1, -1), mode="mirror"),
    ],
)
@pytest.mark.parametrize("n", [5, 8, 25])
def test_convolve_keywords(rng, kwargs, n):
    R = rng.standard_normal((50, 43))
    options = dict(zero_mean=True, clip=False)
    try:
        expected = librosa.segment.path_enhance(R, n, **options, **kwargs)
    except ValueError:  # scipy: an origin outside a filter
        with pytest.raises(ValueError, match="origin"):
            path_enhance(R, n, **options, **kwargs)
        return
    _close(path_enhance(R, n, **options, **kwargs), expected)


def test_leading_axes(rng):
    R = rng.standard_normal((2, 3, 30, 26))
    kwargs = dict(mode="constant", cval=0.5, origin=(0, 0, 1, -2))
    expected = librosa.segment.path_enhance(R, 7, **kwargs)
    _close(path_enhance(R, 7, **kwargs), expected)


def test_float32_stays_float32(rng):
    R = rng.random((60, 60)).astype(np.float32)
    actual = path_enhance(R, 9)
    assert actual.dtype == np.float32
    _close(actual, librosa.segment.path_enhance(R, 9), rtol=1e-5)


def test_kernels_are_librosas():
    from skxsim._structure._kernels import diagonal_kernels

    ratios = np.logspace(np.log2(0.3), np.log2(2.5), num=5, base=2)
    ours = diagonal_kernels("hann", 13, 2.5, 0.3, 5, True)
    for ratio, kernel in zip(ratios, ours, strict=True):
        theirs = librosa.filters.diagonal_filter(
            "hann", 13, slope=ratio, zero_mean=True
        )
        np.testing.assert_array_equal(kernel, theirs)


@pytest.mark.parametrize("mode", ["connectivity", "affinity"])
@pytest.mark.parametrize("face", ["cross", "self"])
def test_sparse_input_is_not_densified(rng, mode, face, monkeypatch):
    X = rng.standard_normal((6, 150))
    if face == "cross":
        S = skxsim.cross_similarity(
            X, rng.standard_normal((6, 120)), sparse=True, mode=mode
        )
    else:
        S = skxsim.recurrence_matrix(X, sparse=True, mode=mode, self=True)
    expected = librosa.segment.path_enhance(S.toarray().astype(float), 21)
    csr = type(S.tocsr())
    original = csr.toarray

    def no_whole_toarray(self, *args, **kwargs):
        if self.shape == S.shape:
            raise AssertionError("the whole sparse matrix was densified")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(csr, "toarray", no_whole_toarray)
    _close(path_enhance(S, 21), expected)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(mode="constant", cval=0.2, zero_mean=True, clip=False),
        dict(mode="wrap", n_filters=4, max_ratio=3.0),
        dict(min_ratio=1.0),  # no transposed twins: every filter is applied
        dict(origin=1, mode="nearest"),
        dict(origin=(0, 1)),
    ],
)
@pytest.mark.parametrize("n_frames", [40, 300])
def test_symmetric_matrices(rng, kwargs, n_frames):
    """A symmetric matrix shares each tile's transforms with its mirror."""
    X = rng.standard_normal((5, n_frames))
    S = skxsim.recurrence_matrix(X, mode="affinity", sym=True, self=True, sparse=True)
    expected = librosa.segment.path_enhance(S.toarray(), 15, **kwargs)
    _close(path_enhance(S, 15, **kwargs), expected)
    _close(path_enhance(S.toarray(), 15, **kwargs), expected)


def test_large_matrix_in_several_tiles(rng):
    R = (rng.random((700, 1300)) > 0.97).astype(float)
    expected = librosa.segment.path_enhance(R, 31, mode="wrap")
    _close(path_enhance(R, 31, mode="wrap"), expected)
    symmetric = np.maximum(R[:, :700], R[:, :700].T)
    expected = librosa.segment.path_enhance(symmetric, 31)
    _close(path_enhance(symmetric, 31), expected)
    _close(path_enhance(sp.csr_matrix(symmetric), 31), expected)


@pytest.mark.parametrize("sparse", [False, True])
def test_memory_is_the_output_and_a_few_tiles(sparse):
    """No second matrix-sized array: on one thread the peak beyond the output
    is a tile's buffers and the filters' spectra, below the output's 32 MB."""
    import tracemalloc

    n = 2000
    R = sp.random(n, n, density=0.01, format="csr", random_state=0)
    R = R if sparse else R.toarray()
    enhancer = PathEnhance(n=51, n_jobs=1).fit(R)
    tracemalloc.start()
    try:
        out = enhancer.transform(R)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < out.nbytes + 24 * 2**20, (peak, out.nbytes)


def test_bool_input_is_enhanced_as_numbers(rng):
    """librosa truncates into the input's dtype (bool: any positive is True);
    the enhancement of a connectivity matrix is computed in float64."""
    R = rng.random((30, 30)) > 0.8
    actual = path_enhance(R, 7)
    assert actual.dtype == np.float64
    _close(actual, librosa.segment.path_enhance(R.astype(float), 7))


# librosa's tests/test_segment.py, ported
@pytest.mark.parametrize("window", ["rect", "hann"])
@pytest.mark.parametrize("n", [5, 9])
@pytest.mark.parametrize("max_ratio", [1.0, 1.5, 2.0])
@pytest.mark.parametrize("min_ratio", [None, 1.0])
@pytest.mark.parametrize("n_filters", [1, 2, 5])
@pytest.mark.parametrize(
    "zero_mean, clip", [(False, True), (True, False), (True, True)]
)
@pytest.mark.parametrize("kwargs", [dict(), dict(mode="reflect")])
def test_path_enhance_librosa(
    R_input, window, n, max_ratio, min_ratio, n_filters, zero_mean, clip, kwargs
):
    options = dict(
        window=window,
        n=n,
        max_ratio=max_ratio,
        min_ratio=min_ratio,
        n_filters=n_filters,
        zero_mean=zero_mean,
        clip=clip,
        **kwargs,
    )
    R_smooth = path_enhance(R_input, **options)
    assert R_smooth.shape == R_input.shape
    assert np.all(np.isfinite(R_smooth))
    assert R_smooth.dtype == R_input.dtype
    if clip:
        assert np.min(R_smooth) >= 0
    _close(R_smooth, librosa.segment.path_enhance(R_input, **options))


def test_path_enhance_badratio(R_input):
    with pytest.raises(librosa.ParameterError, match="min_ratio"):
        path_enhance(R_input, n=5, min_ratio=3, max_ratio=2)


def test_path_enhance_multi(rng):
    R = rng.standard_normal(size=(2, 100, 100))
    Rs0 = path_enhance(R[0], n=5)
    Rs1 = path_enhance(R[1], n=5)
    Rs = path_enhance(R, n=5)
    np.testing.assert_array_equal(Rs0, Rs[0])
    np.testing.assert_array_equal(Rs1, Rs[1])
    assert not np.allclose(Rs0, Rs1)


# ------------------------------------------- where librosa is not the oracle


def _true_reflection(R, n, **options):
    """scipy's convolution of R padded by numpy's ``symmetric`` (scipy's
    ``reflect``) extension, which stays right however far it reaches."""
    ratios = np.logspace(-1, 1, num=options.get("n_filters", 7), base=2)
    pad = 4 * n
    padded = np.pad(R, pad, mode="symmetric")
    out = None
    for ratio in ratios:
        kernel = librosa.filters.diagonal_filter("hann", n, slope=ratio)
        full = scipy.ndimage.convolve(padded, kernel, mode="constant")
        smooth = full[pad:-pad, pad:-pad]
        out = smooth if out is None else np.maximum(out, smooth)
    return np.maximum(out, 0)


@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (2, 2), (3, 7), (9, 4)])
def test_matrices_smaller_than_the_filter(rng, shape):
    R = rng.random(shape)
    _close(path_enhance(R, 31), _true_reflection(R, 31))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(max_ratio=0), "max_ratio"),
        (dict(max_ratio=-1.0), "max_ratio"),
        (dict(max_ratio=np.inf), "max_ratio"),
        (dict(min_ratio=0.0), "min_ratio"),
        (dict(min_ratio=3.0, max_ratio=2.0), "min_ratio"),
        (dict(n_filters=0), "n_filters"),
        (dict(n_filters=2.0), "n_filters"),
        (dict(n_filters=True), "n_filters"),
        (dict(zero_mean="yes"), "zero_mean"),
        (dict(window=[1.0, 2.0]), "window"),
        (dict(window="no such window"), "window"),
        (dict(window=np.zeros), "sums to zero"),
        (dict(mode="reflekt"), "mode"),
        (dict(mode=("wrap",)), "mode"),
        (dict(cval=np.nan, mode="constant"), "cval"),
        (dict(origin=40), "origin"),
        (dict(output=np.float32), "output"),
    ],
)
def test_bad_parameters(R_input, kwargs, match):
    with pytest.raises(ValueError, match=match):
        path_enhance(R_input, 5, **kwargs)


@pytest.mark.parametrize("n", [0, -3, 2.5, True, None])
def test_bad_n(R_input, n):
    with pytest.raises(ValueError, match="'n'"):
        path_enhance(R_input, n)


def test_numpy_scalars_are_parameters(R_input):
    expected = path_enhance(R_input, 5, max_ratio=1.5, n_filters=3)
    actual = path_enhance(
        R_input, np.int64(5), max_ratio=np.float32(1.5), n_filters=np.uint8(3)
    )
    _close(actual, expected, rtol=1e-6)  # float32(1.5) is 1.5 exactly


@pytest.mark.parametrize(
    "R, match",
    [
        (np.ones(5), "2 dimensions"),
        (np.ones((0, 4)), "empty"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN"),
        (np.ones((3, 3), dtype=complex), "real"),
        (sp.csr_matrix(np.array([[np.inf, 0.0], [0.0, 1.0]])), "NaN"),
    ],
)
def test_bad_matrices(R, match):
    with pytest.raises(ValueError, match=match):
        path_enhance(R, 3)


# ---------------------------------------------------------- PathEnhance


def test_transformer_is_the_function_transposed(rng):
    X = rng.random((40, 55))  # (n_queries, n_ref)
    params = dict(n=9, min_ratio=0.8, max_ratio=3.0, n_filters=4, mode="nearest")
    expected = librosa.segment.path_enhance(X.T, **params).T
    _close(PathEnhance(**params).fit_transform(X), expected)
    _close(PathEnhance(**params).fit(X).transform(sp.csr_matrix(X)), expected)


def test_pipeline_after_cross_similarity(rng):
    reference = rng.standard_normal((90, 12))
    query = np.concatenate([reference[20:60], rng.standard_normal((30, 12))])
    pipe = make_pipeline(
        skxsim.CrossSimilarity(mode="affinity"), PathEnhance(n=15)
    ).fit(reference)
    raw = skxsim.CrossSimilarity(mode="affinity").fit(reference).transform(query)
    expected = librosa.segment.path_enhance(raw.T.toarray(), 15).T
    _close(pipe.transform(query), expected)


def test_grid_search_and_clone(rng):
    X = rng.random((30, 30))
    search = GridSearchCV(
        PathEnhance(),
        {"n": [3, 5], "max_ratio": [1.5, 2.0], "zero_mean": [False, True]},
        scoring=lambda est, X, y=None: float(est.transform(X).mean()),
        cv=[(np.arange(30), np.arange(30))],
    ).fit(X)
    assert search.best_params_["n"] in (3, 5)
    assert clone(PathEnhance(n=7)).get_params()["n"] == 7


def test_persistence(rng):
    X = rng.random((25, 25))
    fitted = PathEnhance(n=7, window="triang").fit(X)
    buffer = io.BytesIO()
    joblib.dump(fitted, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))


def test_transformer_errors(rng):
    X = rng.random((20, 20))
    with pytest.raises(ValueError, match="max_ratio"):
        PathEnhance(max_ratio=0).fit(X)
    with pytest.raises(ValueError, match="min_ratio"):
        PathEnhance(min_ratio=3.0).fit(X)
    with pytest.raises(ValueError, match="features"):
        PathEnhance().fit(X).transform(rng.random((20, 21)))
