"""The approximate backends' algorithm_params: every value outside its
declaration is refused, naming it, before hnswlib or pynndescent sees it;
every value inside it builds a working index (issue 16).

hnswlib crashed the interpreter on M=0: values that may reach a library are
tried in a subprocess.
"""

import json
import subprocess
import sys
import textwrap
from numbers import Integral, Real

import numpy as np
import pytest
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    make_constraint,
)

from skxsim import CrossSimilarity, RecurrenceMatrix
from skxsim._validation import BACKEND_PARAMS, check_backend_params

# The ones issue 16 reports: a segmentation fault, "Not enough memory",
# pybind11's and numba's TypeErrors, a silent truncation.
REPORTED = [
    ("hnsw", {"M": 0}),
    ("hnsw", {"M": 1}),
    ("hnsw", {"ef": -3}),
    ("hnsw", {"random_state": -1}),
    ("hnsw", {"M": 2.5}),
    ("nndescent", {"n_neighbors": 2.5}),
]


def candidates(constraints) -> list:
    """Values around and outside a parameter's declaration: its bounds and
    one step beyond, non-integers for integers, bools, numpy scalars, 0-d
    arrays, strings, None, NaN and infinities."""
    values = [None, True, False, np.True_, "1", np.nan, np.inf, -np.inf, 2.5]
    for constraint in map(make_constraint, constraints):
        if isinstance(constraint, Interval):
            for bound in (constraint.left, constraint.right):
                if bound is None or not np.isfinite(bound):
                    continue
                step = 1 if constraint.type is Integral else 1e-9
                values += [bound - step, bound, bound + step]
                values += [np.int64(bound), np.array(bound)]
            if constraint.type is Real:
                values += [np.float32(0.5), 0.5]
            values += [0, 1, -1, 2**70]
        elif isinstance(constraint, StrOptions):
            values += sorted(constraint.options) + ["nope"]
    return values


def _accepted(algorithm, name, value) -> bool:
    try:
        check_backend_params(algorithm, {name: value})
    except InvalidParameterError as exc:
        assert f"'{name}'" in str(exc), exc
        return False
    return True


CASES = [
    (algorithm, name, value)
    for algorithm, declared in BACKEND_PARAMS.items()
    for name, constraints in declared.items()
    for value in candidates(constraints)
]


def _run_in_subprocess(cases) -> list[dict]:
    """Fit and transform with each case in one fresh interpreter; a crash
    fails the test (the output names the last case tried)."""
    code = textwrap.dedent(
        """
        import json, sys, warnings
        import numpy as np
        from skxsim import CrossSimilarity

        warnings.simplefilter("ignore")
        rng = np.random.default_rng(0)
        reference, query = rng.standard_normal((60, 4)), rng.standard_normal((7, 4))
        for algorithm, params in json.loads(sys.stdin.read()):
            print(json.dumps([algorithm, repr(params)]), flush=True)
            est = CrossSimilarity(
                k=3, mode="distance", algorithm=algorithm, algorithm_params=params
            )
            try:
                graph = est.fit(reference).transform(query)
            except Exception as exc:
                print(json.dumps([type(exc).__name__, str(exc)]), flush=True)
            else:
                print(json.dumps(["ok", np.diff(graph.indptr).tolist()]), flush=True)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0, (result.returncode, lines[-2:], result.stderr)
    return [json.loads(line) for line in lines[1::2]]


def test_reported_crashes_are_refused_naming_the_parameter():
    cases = [[algorithm, params] for algorithm, params in REPORTED]
    for (_, params), (kind, message) in zip(
        cases, _run_in_subprocess(cases), strict=True
    ):
        assert kind == "InvalidParameterError", (params, kind, message)
        assert f"'{next(iter(params))}'" in message


def test_every_hnsw_value_is_refused_or_builds():
    # hnswlib builds in milliseconds: every candidate goes to the library
    # unless refused, in a subprocess that must survive them all.  (json
    # carries no numpy values: their Python twins stand in, which behave
    # the same, see test_numpy_scalars_are_the_python_ones; 0-d arrays are
    # refused in-process below.)
    pytest.importorskip("hnswlib")
    cases = [
        [algorithm, {name: value.item() if isinstance(value, np.generic) else value}]
        for algorithm, name, value in CASES
        if algorithm == "hnsw" and not isinstance(value, np.ndarray)
    ]
    for (algorithm, params), (kind, answer) in zip(
        cases, _run_in_subprocess(cases), strict=True
    ):
        ((name, value),) = params.items()
        if _accepted(algorithm, name, value):
            assert kind == "ok", (params, kind, answer)
            assert answer == [3] * 7
        else:
            assert kind == "InvalidParameterError", (params, kind, answer)
            assert f"'{name}'" in answer


REFUSED = [case for case in CASES if not _accepted(*case)]


@pytest.mark.parametrize("algorithm, name, value", REFUSED)
def test_refused_values_are_refused_by_every_face(algorithm, name, value):
    # Before any index is built: the library is never imported for them.
    reference = np.random.default_rng(0).standard_normal((30, 4))
    params = {"algorithm": algorithm, "algorithm_params": {name: value}}
    for estimator in (CrossSimilarity(**params), RecurrenceMatrix(**params)):
        with pytest.raises(InvalidParameterError, match=f"'{name}'"):
            estimator.fit(reference).transform(reference)


def test_unknown_keys_name_the_accepted_ones():
    with pytest.raises(InvalidParameterError, match=r"\['init_graph'\] are not"):
        check_backend_params("nndescent", {"init_graph": np.zeros((3, 3))})
    with pytest.raises(InvalidParameterError, match=r"it accepts \['M', 'ef'"):
        check_backend_params("hnsw", {"ef_search": 10})


def test_numpy_scalars_are_the_python_ones():
    params = {"M": np.int32(8), "ef": np.uint16(20), "random_state": np.int64(3)}
    checked = check_backend_params("hnsw", params)
    assert checked == {"M": 8, "ef": 20, "random_state": 3}
    assert all(type(v) is int for v in checked.values())


def test_nndescent_values_inside_the_declaration_build():
    # Extremes the declaration admits reach pynndescent and work (n_jobs
    # beyond numba's threads used to raise numba's ValueError).
    pytest.importorskip("pynndescent")
    rng = np.random.default_rng(0)
    reference, query = rng.standard_normal((80, 4)), rng.standard_normal((9, 4))
    # (Each other code path of pynndescent, n_trees=0 or tree_init=False say,
    # costs a numba compilation of several seconds: not these.)
    for params in [
        {"n_neighbors": 10**6, "delta": 1.0, "diversify_prob": 0.0},
        {"n_jobs": -1, "random_state": 2**32 - 1, "epsilon": 0.0},
        {"n_jobs": 64, "search_tree_leaf_budget": 1},
        {"n_jobs": -64, "n_neighbors": np.int64(5), "epsilon": np.float32(0.5)},
    ]:
        xsim = CrossSimilarity(
            k=3, mode="distance", algorithm="nndescent", algorithm_params=params
        )
        graph = xsim.fit(reference).transform(query)
        np.testing.assert_array_equal(np.diff(graph.indptr), 3)
        # Distances are recomputed exactly: the found ones are true values.
        found = graph.indices.reshape(9, 3)
        true = np.linalg.norm(query[:, None] - reference[found], axis=2)
        np.testing.assert_allclose(graph.data.reshape(9, 3), true, rtol=1e-12)


def test_index_too_large_for_memory_is_refused(monkeypatch):
    pytest.importorskip("hnswlib")
    import skxsim._output_size

    monkeypatch.setattr(skxsim._output_size, "available_memory", lambda: 10**6)
    reference = np.random.default_rng(0).standard_normal((500, 4))
    with pytest.raises(MemoryError, match=r"hnsw index of 500 frames with M=10000"):
        CrossSimilarity(algorithm="hnsw", algorithm_params={"M": 10_000}).fit(reference)


def test_declarations_match_the_libraries():
    # Every default the index classes pass is declared, and every declared
    # nndescent parameter is one pynndescent's NNDescent takes.
    import inspect

    from skxsim._neighbors._approximate import HNSWIndex, NNDescentIndex

    assert set(HNSWIndex.PARAMS) == set(BACKEND_PARAMS["hnsw"])
    defaults = {**NNDescentIndex.BUILD_PARAMS, **NNDescentIndex.QUERY_PARAMS}
    assert set(defaults) | {"search_tree_leaf_budget"} <= set(
        BACKEND_PARAMS["nndescent"]
    )
    pynndescent = pytest.importorskip("pynndescent")
    taken = set(inspect.signature(pynndescent.NNDescent).parameters)
    taken |= set(NNDescentIndex.QUERY_PARAMS)
    assert set(BACKEND_PARAMS["nndescent"]) <= taken
