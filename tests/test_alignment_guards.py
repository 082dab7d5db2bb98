"""Guards by construction in the alignment faces (issue 23): ``Aligner`` on
the one base (parameters checked again at use), the DTW parameters declared
once on the package's rule for numbers (bools and strings refused, numpy
scalars accepted) for ``Aligner``, ``align``, ``Matcher`` and the CLI alike,
``radius`` bounded, ``ReferenceQuerySplit``'s arguments checked by the same
rule, and every message naming its argument."""

import numpy as np
import pytest
import scipy.sparse as sp
from _dtw_oracle import dtw as oracle_dtw
from sklearn.utils._param_validation import InvalidParameterError

from skxsim import Aligner, Matcher, ReferenceQuerySplit, align
from skxsim._cli import main

RNG = np.random.default_rng(23)
REFERENCE = RNG.random((30, 4))
QUERY = np.repeat(REFERENCE[5:25], 2, axis=0) + 0.05 * RNG.random((40, 4))
ARCHIVE = RNG.random((600, 4))

BAD_WEIGHTS = [
    (True, True, True),
    (np.True_, 1.0, 1.0),
    ("1", "1", "1"),
    (1.0, np.inf, 1.0),
    (1.0, np.nan, 1.0),
    (1.0, 0.0, 1.0),
    (1.0, 1.0),
    np.array([[1.0, 1.0, 1.0]]),
    "111",
]


def test_aligner_is_on_the_one_base():
    from skxsim._base import SkxsimEstimator

    assert issubclass(Aligner, SkxsimEstimator)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"radius": -5}, "radius"),
        ({"radius": 10**30}, "radius"),
        ({"step_weights": (True, True, True)}, "step_weights"),
        ({"budget": 0}, "budget"),
    ],
)
@pytest.mark.parametrize("method", ["align", "predict", "score"])
def test_aligner_checks_parameters_set_after_fit(params, name, method):
    aligner = Aligner().fit(REFERENCE).set_params(**params)
    args = (QUERY, np.zeros(len(QUERY))) if method == "score" else (QUERY,)
    with pytest.raises(InvalidParameterError, match=name):
        getattr(aligner, method)(*args)


def test_aligner_refuses_what_changed_since_fit():
    aligner = Aligner().fit(REFERENCE).set_params(coarse_frames=8)
    with pytest.raises(ValueError, match="coarse_frames"):
        aligner.predict(QUERY)


@pytest.mark.parametrize("weights", BAD_WEIGHTS, ids=repr)
def test_step_weights_follow_the_number_rule_everywhere(weights):
    with pytest.raises(InvalidParameterError, match="step_weights"):
        align(QUERY, REFERENCE, step_weights=weights)
    with pytest.raises(InvalidParameterError, match="step_weights"):
        Aligner(step_weights=weights).fit(REFERENCE)
    with pytest.raises(InvalidParameterError, match="step_weights"):
        Matcher(step_weights=weights).fit(ARCHIVE)


def test_numpy_step_weights_are_the_python_ones():
    numpy = align(QUERY, REFERENCE, step_weights=(np.float32(1), np.int8(2), 1.5))
    python = align(QUERY, REFERENCE, step_weights=(1.0, 2.0, 1.5))
    np.testing.assert_array_equal(numpy[0], python[0])
    assert numpy[1] == python[1]


def test_the_dtw_parameters_have_one_declaration():
    for name in ("metric", "step_weights", "radius", "coarse_frames"):
        assert (
            Aligner._parameter_constraints[name] is Matcher._parameter_constraints[name]
        )


@pytest.mark.parametrize("text", ["nan,1,1", "1,inf,1", "1,0,1", "1,1,1,1"])
def test_cli_step_weights_are_the_declared_ones(tmp_path, capsys, text):
    np.save(tmp_path / "q.npy", QUERY)
    np.save(tmp_path / "r.npy", REFERENCE)
    with pytest.raises(SystemExit):
        main(["align", str(tmp_path / "q.npy"), str(tmp_path / "r.npy"),
              "--step-weights", text])  # fmt: skip
    err = capsys.readouterr().err
    assert "--step-weights" in err and "'step_weights' parameter" in err, err


@pytest.mark.parametrize("radius", [10**30, 2**63, np.uint64(2**64 - 1)])
def test_radius_beyond_an_int64_is_refused(radius):
    with pytest.raises(InvalidParameterError, match="radius"):
        align(QUERY, REFERENCE, radius=radius)


@pytest.mark.parametrize("radius", [np.iinfo(np.int64).max, 2**62, 10**9])
def test_a_radius_wider_than_the_sequences_is_full_dtw(radius):
    # coarse_frames=4: the band of every level comes from the radius.
    path, cost = align(
        QUERY, REFERENCE, metric="euclidean", radius=radius, coarse_frames=4
    )
    expected_path, expected_cost = oracle_dtw(
        QUERY, REFERENCE, "euclidean", (1.0, 1.5, 1.5)
    )
    np.testing.assert_allclose(cost, expected_cost, rtol=1e-12)
    np.testing.assert_array_equal(path, expected_path)


def test_nan_is_named_query_or_reference():
    bad = QUERY.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="query") as info:
        align(bad, REFERENCE)
    assert "reference" not in str(info.value) and "Aligner" not in str(info.value)
    with pytest.raises(ValueError, match="reference") as info:
        align(QUERY, bad)
    assert "query" not in str(info.value)


@pytest.mark.parametrize("which", ["query", "reference"])
def test_sparse_input_is_refused_by_name(which):
    args = {"query": QUERY, "reference": REFERENCE}
    args[which] = sp.csr_matrix(args[which])
    with pytest.raises(ValueError, match=f"{which} is a scipy.sparse matrix"):
        align(**args)


def test_aligner_names_its_sequences():
    aligner = Aligner().fit(REFERENCE)
    # scikit-learn's type for sparse input an estimator does not take.
    with pytest.raises(TypeError, match="query X: Sparse data"):
        aligner.align(sp.csr_matrix(QUERY))
    with pytest.raises(ValueError, match="query X has 1 frame"):
        aligner.align(QUERY[:1])
    with pytest.raises(ValueError, match="reference X"):
        Aligner().fit(np.full((5, 4), np.inf))


@pytest.mark.parametrize(
    "lengths, name",
    [
        ([(True, 5)], r"lengths\[0\]"),
        ([(5, 6), (np.False_, 5)], r"lengths\[1\]"),
        ([(5.0, 6)], r"lengths\[0\]"),
        ([("5", 6)], r"lengths\[0\]"),
        ([(0, 11)], r"lengths\[0\]"),
        ([(5, 6, 1)], r"lengths\[0\]"),
        ([], "lengths"),
        (None, "lengths"),
        ("56", "lengths"),
        (np.array([5, 6]), "lengths"),
    ],
)
def test_reference_query_split_checks_lengths(lengths, name):
    with pytest.raises(ValueError, match=name):
        ReferenceQuerySplit(lengths).get_n_splits()


def test_reference_query_split_takes_numpy_lengths():
    X = np.zeros((11, 2))
    for lengths in ([(np.int8(5), np.uint16(6))], np.array([[5, 6]])):
        ((train, test),) = ReferenceQuerySplit(lengths).split(X)
        np.testing.assert_array_equal(train, np.arange(5))
        np.testing.assert_array_equal(test, np.arange(5, 11))


@pytest.mark.parametrize("X", [None, 3, object()])
def test_reference_query_split_names_x(X):
    with pytest.raises(ValueError, match="X must be the stacked frames"):
        list(ReferenceQuerySplit([(5, 6)]).split(X))


@pytest.mark.parametrize(
    "params", [{"radius": 0}, {"step_weights": (1, 1)}, {"subseq": "yes"}], ids=str
)
def test_align_names_itself_in_parameter_errors(params):
    with pytest.raises(InvalidParameterError, match="parameter of align must"):
        align(QUERY, REFERENCE, **params)


@pytest.mark.parametrize("y", [np.arange(29.0), np.arange(31.0)])
def test_aligner_names_y_of_the_wrong_length(y):
    with pytest.raises(ValueError, match="y has .* positions"):
        Aligner().fit(REFERENCE, y)
