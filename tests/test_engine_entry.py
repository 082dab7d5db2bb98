"""The engine's entry point is the only way to an index (issue 23).

Every index skxsim builds comes from ``_neighbors.fit_index``, which checks
the metric, ``metric_params``, ``algorithm`` and ``algorithm_params`` it
receives before a backend sees a value.  An estimator that built an index
around it would skip those checks: ``Matcher`` did, and crashed the
interpreter on ``algorithm_params={"M": 0}``.
"""

import ast
import json
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

import skxsim
from skxsim import CrossSimilarity, Matcher, RecurrenceMatrix
from skxsim._neighbors import fit_index

ROOT = pathlib.Path(skxsim.__file__).parent
ENGINE = ROOT / "_neighbors"
# What builds an index without the entry point's checks.
BUILDERS = {
    "BACKENDS",
    "BallTree",
    "BlasIndex",
    "BruteIndex",
    "HNSWIndex",
    "KDTree",
    "NNDescentIndex",
    "NearestNeighbors",
    "TreeIndex",
    "build_hnsw",
    "build_index",
    "build_nndescent",
    "cKDTree",
    "cached_build",
    "exact_index",
    "hnswlib",
    "pynndescent",
}


def _outside_engine():
    for path in sorted(ROOT.rglob("*.py")):
        if ENGINE not in path.parents:
            yield path


def _bypasses(path: pathlib.Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if "_neighbors." in module or module.startswith("_neighbors."):
                found.append(f"imports the engine's private module {module}")
            found += [
                f"imports {alias.name} from {module}"
                for alias in node.names
                if alias.name in BUILDERS
            ]
        elif isinstance(node, ast.Import):
            found += [
                f"imports {alias.name}"
                for alias in node.names
                if alias.name.split(".")[0] in BUILDERS
            ]
        elif isinstance(node, ast.Attribute) and node.attr in BUILDERS:
            found.append(f"uses .{node.attr}")
    return found


@pytest.mark.parametrize(
    "path", list(_outside_engine()), ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_index_is_built_around_the_entry_point(path):
    assert not _bypasses(path), f"{path.relative_to(ROOT)}: {_bypasses(path)}"


def test_the_engine_exports_no_builder():
    assert not BUILDERS & set(skxsim._neighbors.__all__)
    assert not BUILDERS & set(vars(skxsim._neighbors))


def test_the_layout_check_catches_a_bypass(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from .._neighbors._exact import BlasIndex\n"
        "from .._neighbors import exact_index\n"
        "import hnswlib\n"
    )
    assert len(_bypasses(bad)) == 4


@pytest.mark.parametrize(
    "algorithm, params, name",
    [
        ("hnsw", {"M": 2.5}, "M"),
        ("hnsw", {"M": True}, "M"),
        ("hnsw", {"ef": "64"}, "ef"),
        ("nndescent", {"angular_trees": True}, "angular_trees"),
        ("nndescent", {"metric": "cosine"}, "metric"),
        ("auto", {"M": 16}, "algorithm_params"),
        ("kd_tree", {"M": 16}, "algorithm_params"),
    ],
)
def test_fit_index_checks_what_it_receives(algorithm, params, name):
    reference = np.random.default_rng(0).random((20, 3))
    with pytest.raises((InvalidParameterError, ValueError), match=name):
        fit_index(
            reference,
            metric="euclidean",
            k=2,
            algorithm=algorithm,
            algorithm_params=params,
        )


@pytest.mark.parametrize(
    "metric, metric_params",
    [("nope", None), ("minkowski", {"p": 0}), ("euclidean", {"p": 2}), (2, None)],
)
def test_fit_index_checks_the_metric(metric, metric_params):
    reference = np.random.default_rng(0).random((20, 3))
    with pytest.raises((InvalidParameterError, ValueError), match="metric"):
        fit_index(reference, metric=metric, metric_params=metric_params, k=2)


# Issue 23's probe: each crashed the interpreter, aborted or leaked a raw
# pybind11, numpy or numba error through Matcher, which built its index
# without the checks; M=2.5 and angular_trees passed silently.
MATCHER_CASES = [
    ("hnsw", {"M": 0}, "M"),
    ("hnsw", {"M": 1}, "M"),
    ("hnsw", {"M": -1}, "M"),
    ("hnsw", {"M": 2.5}, "M"),
    ("hnsw", {"ef": -1}, "ef"),
    ("hnsw", {"random_state": -1}, "random_state"),
    ("nndescent", {"leaf_size": 0}, "leaf_size"),
    ("nndescent", {"search_tree_leaf_size": 0}, "search_tree_leaf_size"),
    ("nndescent", {"n_trees": -1}, "n_trees"),
    ("nndescent", {"max_candidates": -1}, "max_candidates"),
    ("nndescent", {"random_state": -1}, "random_state"),
    ("nndescent", {"n_neighbors": 2.5}, "n_neighbors"),
    ("nndescent", {"metric": "euclidean"}, "metric"),
    ("nndescent", {"angular_trees": True}, "angular_trees"),
]


def test_matcher_refuses_bad_backend_params_without_crashing():
    pytest.importorskip("hnswlib")
    pytest.importorskip("pynndescent")
    code = textwrap.dedent(
        """
        import json, sys
        import numpy as np
        from skxsim import Matcher
        cases = json.loads(sys.argv[1])
        X = np.random.default_rng(0).random((400, 12))
        for algorithm, params, name in cases:
            print(json.dumps([algorithm, params]), flush=True)
            try:
                Matcher(algorithm=algorithm, algorithm_params=params).fit(X)
            except Exception as exc:
                print(json.dumps([type(exc).__name__, str(exc)]), flush=True)
            else:
                print(json.dumps(["fitted", ""]), flush=True)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(MATCHER_CASES)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0, (lines[-1:], result.stderr[-2000:])
    answers = [json.loads(line) for line in lines[1::2]]
    assert len(answers) == len(MATCHER_CASES)
    for (algorithm, params, name), (kind, message) in zip(
        MATCHER_CASES, answers, strict=True
    ):
        assert kind == "InvalidParameterError", (algorithm, params, kind, message)
        assert f"'{name}'" in message or f"['{name}']" in message, message


@pytest.mark.parametrize("estimator", [CrossSimilarity, RecurrenceMatrix, Matcher])
def test_every_estimator_refuses_an_unknown_backend_key(estimator):
    X = np.random.default_rng(0).random((64, 4))
    with pytest.raises(InvalidParameterError, match="'efs'"):
        estimator(algorithm="hnsw", algorithm_params={"efs": 3}).fit(X)
