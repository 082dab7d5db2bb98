"""The package's architecture, checked: imports form layers, modules stay short.

Data flows one way (validate -> index -> blocked search -> graph or path ->
output), so a module imports only from lower layers (or its own
subpackage): the engine never imports an estimator or a workflow, and no
workflow imports another's faces.
"""

import ast
import pathlib

import pytest

import skxsim

ROOT = pathlib.Path(skxsim.__file__).parent

# Lower numbers are lower layers. A module may import from a lower layer, or
# from its own subpackage.
LAYERS = {
    "skxsim._version": 0,
    "skxsim.exceptions": 0,
    "skxsim._constraints": 1,  # the rule for numbers, which the engine uses too
    "skxsim._output_size": 1,  # the output-size guard, which the engine uses too
    "skxsim._neighbors": 2,
    "skxsim._graph": 3,
    "skxsim._validation": 4,
    "skxsim._pipeline": 4,  # the one graph pipeline of cross- and self-similarity
    "skxsim._base": 5,
    "skxsim._embedding": 6,
    "skxsim._cross_similarity": 7,
    "skxsim._recurrence": 7,
    "skxsim._alignment": 7,
    "skxsim.cover": 7,
    "skxsim.datasets": 7,
    "skxsim.plot": 7,
    "skxsim._structure": 8,  # builds on the recurrence workflow
    "skxsim.alignment": 9,  # public namespaces over the workflows
    "skxsim.recurrence": 9,
    "skxsim.structure": 9,
    "skxsim._cli": 9,
    "skxsim.__main__": 10,
    "skxsim": 10,
}
MAX_LINES = 400


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _unit(module: str) -> str:
    """The layered unit a module belongs to (its top-level subpackage)."""
    best = max(
        (u for u in LAYERS if module == u or module.startswith(u + ".")), key=len
    )
    return best


def _imports(module: str, path: pathlib.Path):
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
                targets = (
                    [name] if node.module else [f"{name}.{a.name}" for a in node.names]
                )
            else:
                targets = [node.module or ""]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        yield from (t for t in targets if t == "skxsim" or t.startswith("skxsim."))


@pytest.mark.parametrize("module, path", list(_modules()), ids=lambda v: str(v))
def test_imports_go_down_the_layers(module, path):
    unit = _unit(module)
    for target in _imports(module, path):
        target_unit = _unit(target)
        if target_unit == unit:
            continue
        assert LAYERS[target_unit] < LAYERS[unit], (
            f"{module} (layer {LAYERS[unit]}) imports {target} "
            f"(layer {LAYERS[target_unit]})"
        )


@pytest.mark.parametrize("module, path", list(_modules()), ids=lambda v: str(v))
def test_modules_are_short(module, path):
    n_lines = len(path.read_text().splitlines())
    assert n_lines <= MAX_LINES, f"{module} has {n_lines} lines"


def test_every_module_is_placed():
    for module, _ in _modules():
        assert _unit(module) in LAYERS


def _estimator_classes():
    import inspect

    from sklearn.base import BaseEstimator

    for module, _ in _modules():
        mod = __import__(module, fromlist=["_"])
        for _, obj in inspect.getmembers(mod, inspect.isclass):
            if issubclass(obj, BaseEstimator) and obj.__module__.startswith("skxsim"):
                yield obj


def test_every_estimator_derives_from_the_one_base():
    """Constraints checked at use, the changed-since-fit guard, sequence
    validation and versioned pickles live in one base (issue 23)."""
    from skxsim._base import SkxsimEstimator

    classes = set(_estimator_classes())
    assert len(classes) >= 5
    for cls in classes:
        assert issubclass(cls, SkxsimEstimator), cls
