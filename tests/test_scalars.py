"""Scalars, booleans and zero: one rule for every public number (issue 16).

Every integer and real parameter of every public function and estimator
(``skxsim.__all__``, ``skxsim.cover``, ``skxsim.datasets``, ``skxsim.plot``):

- a numpy scalar behaves exactly as the equal Python scalar;
- a bool is not a number: ``True`` is refused as ``np.True_`` is
  (scikit-learn 1.9's ``Interval(Integral, ...)`` takes Python's ``True`` as
  1 but refuses numpy's, which would break the rule above);
- 0 is refused where it has no meaning (``n_jobs=0``: joblib's rule);
- a 0-d array is refused with an error naming the parameter (scikit-learn's
  rule: a 0-d array is an array, not a scalar), as is a float for an int.

A refusal is a ``ValueError`` (scikit-learn's ``InvalidParameterError``
included) that names the parameter.
"""

import inspect
import wave
from dataclasses import dataclass, field

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils import Bunch

import skxsim
import skxsim.datasets
import skxsim.plot
from skxsim import (
    CoverSongIndex,
    CrossSimilarity,
    RecurrenceMatrix,
    TimeDelayEmbedding,
)

pytestmark = pytest.mark.filterwarnings("ignore:n_fft=.* is too large")

INT_TYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint32, np.intp]
REAL_TYPES = [np.float16, np.float32, np.float64, np.longdouble]


@dataclass
class Number:
    """A numeric parameter: ``"int"`` or ``"real"`` (an int-valued real is
    also tried as an int), a valid value (exact in float16 for reals), and
    whether 0 means something."""

    kind: str
    valid: object
    zero_ok: bool
    types: list = field(default=None)


@dataclass
class Entry:
    """A public callable, how to call it with one parameter set, and its
    numeric parameters."""

    call: object
    params: dict


_RNG = np.random.default_rng(0)
X = _RNG.standard_normal((20, 5))
R = _RNG.standard_normal((30, 5))
_PAIRS = [skxsim.datasets.make_cover_pair(n_chords=4, random_state=s) for s in (0, 1)]
CHROMA = [p.reference for p in _PAIRS]
COVERS = [p.cover for p in _PAIRS]
BINARY = (_RNG.random((12, 15)) < 0.3).astype(float)
REC = (_RNG.random((9, 9)) < 0.3).astype(float)
SONG = np.repeat(_RNG.standard_normal((3, 4)), 10, axis=0)[[*range(30), *range(10)]]
SONG = SONG + 0.1 * _RNG.standard_normal(SONG.shape)  # A B C A, 10 frames each
LABELS = np.repeat([0, 1, 0, 2, 1], [3, 5, 2, 6, 4])


def _estimator(cls, fit_data, method="transform", **fixed):
    def call(**params):
        est = cls(**fixed, **params).fit(fit_data)
        return getattr(est, method)(fit_data)

    return call


def _cover(**params):
    # Threads: processes would cost a second per call, for the same answer.
    with joblib.parallel_config(backend="threading"):
        index = CoverSongIndex(**{"n_steps": 3, **params}).fit(CHROMA, [0, 1])
        return index.kneighbors(COVERS)


def _cover_kneighbors(**params):
    index = CoverSongIndex(n_steps=3).fit(CHROMA, [0, 1])
    return index.kneighbors(COVERS, **params)


def _transform_many(**params):
    est = CrossSimilarity(k=3).fit(R)
    with joblib.parallel_config(backend="threading"):
        return skxsim.transform_many(est, [X, X[:5]], **params)


def _audio_file():
    path = _AUDIO.get("path")
    if path is None:
        import tempfile

        path = tempfile.mkdtemp() + "/tone.wav"
        t = np.arange(11025) / 22050
        signal = (0.5 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
        with wave.open(path, "wb") as f:
            f.setnchannels(1)
            f.setsampwidth(2)
            f.setframerate(22050)
            f.writeframes(signal.tobytes())
        _AUDIO["path"] = path
    return path


_AUDIO: dict = {}


def _load_features(**params):
    pytest.importorskip("librosa")
    return skxsim.datasets.load_features(_audio_file(), **params)


def _chorales(**params):
    # The parsing of music21's scores is not the subject: a fake catalogue.
    import skxsim.datasets._chorales as chorales

    catalogue = (["a.mxl", "b.mxl", "c.mxl"], ["A", "B", "A'"], ["A", "B", "A"])
    fake = {name: np.full((4, 12), i / 2) for i, name in enumerate(catalogue[0])}
    saved = chorales.chorale_catalogue, chorales.cached_chroma

    def cached_chroma(names, step, data_home, n_jobs):
        return {n: fake[n] * step for n in names}

    chorales.chorale_catalogue = lambda: catalogue
    chorales.cached_chroma = cached_chroma
    try:
        return skxsim.datasets.load_bach_chorales(**params)
    finally:
        chorales.chorale_catalogue, chorales.cached_chroma = saved


_ARCHIVE = np.repeat(_RNG.random((60, 12)), 4, axis=0) + 0.01 * _RNG.random((240, 12))


def _matcher(**params):
    matcher = skxsim.Matcher(**params).fit(_ARCHIVE)
    return matcher.match(_ARCHIVE[80:140])


def _match(**params):
    return skxsim.Matcher().fit(_ARCHIVE).match(_ARCHIVE[80:140], **params)


def _plot(**params):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        image = skxsim.plot.show_cross_similarity(np.eye(4, 3), ax=ax, **params)
        return image.get_extent(), ax.get_xlabel()
    finally:
        plt.close(fig)


INT_POS = Number("int", 3, zero_ok=False)
N_JOBS = Number("int", 2, zero_ok=False)
BANDWIDTH = Number("real", 0.5, zero_ok=False)
GAP = Number("real", 0.25, zero_ok=True)
N_SHIFTS = Number("int", 3, zero_ok=True)
AXIS = Number("int", 1, zero_ok=True)
CHEAP = dict(types=[np.int64, np.float32])  # each call is expensive

ENTRIES = {
    "CrossSimilarity": Entry(
        _estimator(CrossSimilarity, R, mode="affinity", sparse=False),
        {"k": INT_POS, "bandwidth": BANDWIDTH, "n_jobs": N_JOBS},
    ),
    "RecurrenceMatrix": Entry(
        _estimator(RecurrenceMatrix, X, mode="affinity", sparse=False),
        {
            "k": INT_POS,
            "width": Number("int", 2, zero_ok=False),
            "bandwidth": BANDWIDTH,
            "n_jobs": N_JOBS,
        },
    ),
    "TimeDelayEmbedding": Entry(
        _estimator(TimeDelayEmbedding, X),
        {"n_steps": INT_POS, "delay": Number("int", -2, zero_ok=False)},
    ),
    "CoverSongIndex": Entry(
        _cover,
        {
            "n_shifts": N_SHIFTS,
            "n_steps": INT_POS,
            "delay": Number("int", 2, zero_ok=False),
            "k": Number("int", 4, zero_ok=False),
            "gap_onset": GAP,
            "gap_extend": GAP,
            "n_jobs": N_JOBS,
        },
    ),
    "CoverSongIndex.kneighbors": Entry(
        _cover_kneighbors, {"n_neighbors": Number("int", 1, zero_ok=False)}
    ),
    "score_matrix": Entry(
        lambda **p: skxsim.cover.score_matrix(BINARY, **p),
        {"gap_onset": GAP, "gap_extend": GAP},
    ),
    "qmax": Entry(
        lambda **p: skxsim.cover.qmax(BINARY, **p),
        {"gap_onset": GAP, "gap_extend": GAP},
    ),
    "dmax": Entry(
        lambda **p: skxsim.cover.dmax(BINARY, **p),
        {"gap_onset": GAP, "gap_extend": GAP},
    ),
    "cross_recurrence": Entry(
        lambda **p: skxsim.cover.cross_recurrence(X, R, **p).toarray(),
        {"k": Number("real", 0.25, zero_ok=False)},
    ),
    "cross_similarity": Entry(
        lambda **p: skxsim.cross_similarity(X.T, R.T, mode="affinity", **p),
        {"k": INT_POS, "bandwidth": BANDWIDTH},
    ),
    "recurrence_matrix": Entry(
        lambda **p: skxsim.recurrence_matrix(X.T, mode="affinity", **p),
        {
            "k": INT_POS,
            "width": Number("int", 2, zero_ok=False),
            "bandwidth": BANDWIDTH,
            "axis": AXIS,
        },
    ),
    "recurrence_to_lag": Entry(
        lambda **p: skxsim.recurrence.recurrence_to_lag(REC, **p), {"axis": AXIS}
    ),
    "lag_to_recurrence": Entry(
        lambda **p: skxsim.recurrence.lag_to_recurrence(REC, **p), {"axis": AXIS}
    ),
    "optimal_transposition_index": Entry(
        lambda **p: skxsim.cover.optimal_transposition_index(COVERS[0], CHROMA[0], **p),
        {"n_shifts": N_SHIFTS},
    ),
    "oti_binary_similarity": Entry(
        lambda **p: skxsim.cover.oti_binary_similarity(COVERS[0], CHROMA[0], **p),
        {"n_bins": Number("int", 6, zero_ok=False), "n_shifts": N_SHIFTS},
    ),
    "transpose_chroma": Entry(
        lambda **p: skxsim.cover.transpose_chroma(CHROMA[0], **{"shift": 1, **p}),
        {"shift": Number("int", -2, zero_ok=True), "n_bins": Number("int", 4, False)},
    ),
    "transform_many": Entry(_transform_many, {"n_jobs": N_JOBS}),
    "make_cover_pair": Entry(
        lambda **p: skxsim.datasets.make_cover_pair(**p),
        {
            "n_chords": Number("int", 4, zero_ok=False),
            "frames_per_chord": INT_POS,
            "stretch": Number("real", 1.5, zero_ok=False),
            "warp": Number("real", 0.5, zero_ok=True),
            "changed_section": Number("pair", (0.25, 0.5), zero_ok=True),
            "noise": Number("real", 0.25, zero_ok=True),
            "random_state": Number("int", 7, zero_ok=True),
        },
    ),
    "load_features": Entry(
        _load_features,
        {
            "sr": Number("real", 11025.0, zero_ok=False, **CHEAP),
            "hop_length": Number("int", 256, zero_ok=False, **CHEAP),
        },
    ),
    "load_bach_chorales": Entry(
        _chorales,
        {
            "min_versions": Number("int", 2, zero_ok=False),
            "step": Number("real", 0.25, zero_ok=False),
            "n_jobs": N_JOBS,
        },
    ),
    "align": Entry(
        lambda **p: skxsim.align(X, R, **p),
        {
            "radius": INT_POS,
            "coarse_frames": Number("int", 8, zero_ok=False),
            "budget": Number("int", 100, zero_ok=False),
        },
    ),
    "Aligner": Entry(
        _estimator(skxsim.Aligner, R, method="predict"),
        {
            "radius": INT_POS,
            "coarse_frames": Number("int", 8, zero_ok=False),
            "budget": Number("int", 100, zero_ok=False),
        },
    ),
    "Matcher": Entry(
        _matcher,
        {
            "radius": INT_POS,
            "coarse_frames": Number("int", 16, zero_ok=False),
            "pool": Number("int", 2, zero_ok=False),
            "n_steps": Number("int", 2, zero_ok=False),
            "n_neighbors": Number("int", 5, zero_ok=False),
            "n_candidates": Number("int", 4, zero_ok=False),
            "n_jobs": N_JOBS,
        },
    ),
    "Matcher.match": Entry(_match, {"n_matches": Number("int", 2, zero_ok=False)}),
    "path_enhance": Entry(
        lambda **p: skxsim.path_enhance(REC, **{"n": 3, **p}),
        {
            "n": INT_POS,
            "max_ratio": Number("real", 1.5, zero_ok=False),
            "min_ratio": Number("real", 0.5, zero_ok=False),
            "n_filters": INT_POS,
        },
    ),
    "PathEnhance": Entry(
        _estimator(skxsim.PathEnhance, REC, mode="constant"),
        {
            "n": INT_POS,
            "max_ratio": Number("real", 1.5, zero_ok=False),
            "min_ratio": Number("real", 0.5, zero_ok=False),
            "n_filters": INT_POS,
            "cval": Number("real", 0.5, zero_ok=True),
            "n_jobs": N_JOBS,
        },
    ),
    "agglomerative": Entry(
        lambda **p: skxsim.agglomerative(X.T, **{"k": 3, **p}),
        {"k": INT_POS, "axis": AXIS},
    ),
    "subsegment": Entry(
        lambda **p: skxsim.subsegment(X.T, [7, 12], **p),
        {"n_segments": INT_POS, "axis": AXIS},
    ),
    "LaplacianSegmentation": Entry(
        _estimator(
            skxsim.LaplacianSegmentation, SONG, method="fit_predict", random_state=0
        ),
        {
            "n_clusters": Number("int", 2, zero_ok=False),
            "max_clusters": Number("int", 3, zero_ok=False),
            "k": INT_POS,
            "width": Number("int", 2, zero_ok=False),
            "bandwidth": BANDWIDTH,
            "mu": Number("real", 0.5, zero_ok=True),
            "median_size": Number("int", 5, zero_ok=False),
            "smooth_size": Number("int", 5, zero_ok=False),
            "n_init": Number("int", 2, zero_ok=False),
            "n_jobs": N_JOBS,
        },
    ),
    "timelag_filter": Entry(
        lambda **p: skxsim.timelag_filter(lambda *a: a[-1], **p)(REC, REC),
        {"index": Number("int", 1, zero_ok=True)},
    ),
    "boundary_scores": Entry(
        lambda **p: skxsim.structure.boundary_scores(LABELS, LABELS[::-1], **p),
        {
            "frame_duration": Number("real", 0.5, zero_ok=False),
            "window": Number("real", 0.5, zero_ok=True),
            "beta": Number("real", 0.5, zero_ok=False),
        },
    ),
    "pairwise_scores": Entry(
        lambda **p: skxsim.structure.pairwise_scores(LABELS, LABELS[::-1], **p),
        {"beta": Number("real", 0.5, zero_ok=False)},
    ),
    "entropy_scores": Entry(
        lambda **p: skxsim.structure.entropy_scores(LABELS, LABELS[::-1], **p),
        {"beta": Number("real", 0.5, zero_ok=False)},
    ),
    "segmentation_scores": Entry(
        lambda **p: skxsim.structure.segmentation_scores(LABELS, LABELS[::-1], **p),
        {"frame_duration": Number("real", 0.5, zero_ok=False)},
    ),
    "show_cross_similarity": Entry(
        lambda **p: _plot(**{"sr": 100.0, **p}),
        {
            "hop_length": Number("int", 64, zero_ok=False),
            "sr": Number("real", 0.5, zero_ok=False),
        },
    ),
}


# ----------------------------------------------------- the list is complete
def _public_callables():
    import skxsim.alignment
    import skxsim.cover
    import skxsim.recurrence
    import skxsim.structure

    found = {}
    for module in (
        skxsim,
        skxsim.cover,
        skxsim.alignment,
        skxsim.recurrence,
        skxsim.structure,
        skxsim.datasets,
    ):
        for name in module.__all__:
            found[name] = getattr(module, name)
    found["show_cross_similarity"] = skxsim.plot.show_cross_similarity
    return {
        name: obj
        for name, obj in found.items()
        if callable(obj)
        and not (isinstance(obj, type) and issubclass(obj, BaseException))
    }


def _numeric(parameter) -> bool:
    """By its default (a number that is not a bool) or its annotation."""
    default, annotation = parameter.default, str(parameter.annotation)
    if isinstance(default, bool):
        return False
    if isinstance(default, int | float):
        return True
    return "int" in annotation or "float" in annotation


def test_every_numeric_parameter_is_listed():
    found = set()
    for name, obj in _public_callables().items():
        signature = inspect.signature(obj)
        found |= {(name, p) for p, par in signature.parameters.items() if _numeric(par)}
    # Methods with a number of their own.
    found.add(("CoverSongIndex.kneighbors", "n_neighbors"))
    found.add(("Matcher.match", "n_matches"))
    listed = {(name, p) for name, entry in ENTRIES.items() for p in entry.params}
    assert found == listed


# ------------------------------------------------------------ the checks
CASES = [
    pytest.param(name, param, id=f"{name}-{param}")
    for name, entry in ENTRIES.items()
    for param in entry.params
]


def assert_same(a, b):
    if isinstance(a, tuple | list):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, Bunch | dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    elif sp.issparse(a):
        assert sp.issparse(b) and a.format == b.format and a.dtype == b.dtype
        np.testing.assert_array_equal(a.indptr, b.indptr)
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.data, b.data)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    else:
        # Python's float and np.float64 are the same number; np.float32 is not.
        assert a == b and np.asarray(a).dtype == np.asarray(b).dtype, (a, b)


def _refused(call, name, value):
    with pytest.raises(ValueError) as info:
        call(**{name: value})
    assert name in str(info.value), str(info.value)


def _numpy_values(spec):
    if spec.kind == "pair":
        start, end = spec.valid
        return [(np.float32(start), np.float64(end)), (start, np.float16(end))]
    values = []
    types = spec.types or (INT_TYPES if spec.kind == "int" else REAL_TYPES)
    for t in types:
        if spec.kind == "real" or np.issubdtype(t, np.integer):
            if spec.valid < 0 and np.issubdtype(t, np.unsignedinteger):
                continue
            values.append(t(spec.valid))
    if spec.kind == "real" and float(spec.valid).is_integer():
        values.append(np.int64(spec.valid))
    return values


@pytest.mark.parametrize("name, param", CASES)
def test_numpy_scalars_are_the_python_scalars(name, param):
    entry = ENTRIES[name]
    spec = entry.params[param]
    expected = entry.call(**{param: spec.valid})
    for value in _numpy_values(spec):
        assert_same(entry.call(**{param: value}), expected)


@pytest.mark.parametrize("name, param", CASES)
def test_bools_are_not_numbers(name, param):
    entry = ENTRIES[name]
    spec = entry.params[param]
    for value in (True, False, np.True_, np.False_):
        if spec.kind == "pair":
            value = (value, spec.valid[1])
        _refused(entry.call, param, value)


@pytest.mark.parametrize("name, param", CASES)
def test_zero_is_refused_where_it_means_nothing(name, param):
    entry = ENTRIES[name]
    spec = entry.params[param]
    zero = (0, spec.valid[1]) if spec.kind == "pair" else 0
    if spec.zero_ok:
        entry.call(**{param: zero})
    else:
        _refused(entry.call, param, zero)
        if spec.kind == "real":
            _refused(entry.call, param, 0.0)


@pytest.mark.parametrize("name, param", CASES)
def test_arrays_and_wrong_types_are_refused(name, param):
    # One rule: a 0-d array is refused like any array (never taken as its
    # scalar), and an int parameter refuses a float, integral or not.
    entry = ENTRIES[name]
    spec = entry.params[param]
    if spec.kind == "pair":
        _refused(entry.call, param, (np.array(spec.valid[0]), spec.valid[1]))
        return
    _refused(entry.call, param, np.array(spec.valid))
    if spec.kind == "int":
        _refused(entry.call, param, float(spec.valid))
        _refused(entry.call, param, spec.valid + 0.5)


def test_numpy_float32_bandwidth_is_that_bandwidth():
    # The bug issue 15 found: the function took np.float32(0.5) for "no
    # bandwidth" and used the median of the query frames instead.
    got = skxsim.cross_similarity(
        X.T, R.T, k=3, mode="affinity", bandwidth=np.float32(0.5)
    )
    D = np.linalg.norm(X[:, None] - R[None], axis=2).T  # (n_ref, n)
    kept = got != 0
    np.testing.assert_allclose(got[kept], np.exp(-D[kept] / 0.5), rtol=1e-12)
