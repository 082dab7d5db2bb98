"""The ``skxsim`` command's files: checks before the work, reading, writing."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ..datasets._io import AUDIO_EXTENSIONS

FEATURE_EXTENSIONS = frozenset({".npy", ".csv", ".txt"}) | AUDIO_EXTENSIONS


class CLIError(Exception):
    """An error to report to the user as one line, without a traceback."""


def log(message: str, *, quiet: bool = False) -> None:
    if not quiet:
        print(f"skxsim: {message}", file=sys.stderr, flush=True)


def run_step(action, failure: str, done, *, quiet: bool):
    """``action()``, timed: a ``ValueError`` it raises becomes a
    :class:`CLIError` beginning with ``failure``; on success
    ``done(result)`` is logged with the seconds it took."""
    start = time.perf_counter()
    try:
        result = action()
    except ValueError as exc:
        raise CLIError(f"{failure}: {exc}") from exc
    log(f"{done(result)} ({time.perf_counter() - start:.2f} s)", quiet=quiet)
    return result


def check_writable(path: str | None) -> None:
    """Fail before the work, not after it, when a file cannot be written."""
    if path is None:
        return
    target = Path(path).absolute()
    if target.is_dir():
        raise CLIError(f"cannot write {path!r}: it is a directory")
    if target.exists():
        if not os.access(target, os.W_OK):
            raise CLIError(f"cannot write {path!r}: permission denied")
        return
    check_directory_writable(str(target.parent), path)


def check_directory_writable(directory: str, path: str) -> None:
    if not os.path.exists(directory):
        raise CLIError(f"cannot write {path!r}: directory {directory!r} does not exist")
    if not os.path.isdir(directory):
        raise CLIError(f"cannot write {path!r}: {directory!r} is not a directory")
    # Creating a file is the only test that sees permissions, ACLs and
    # read-only file systems alike.
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise CLIError(
            f"cannot write {path!r}: directory {directory!r}: {exc.strerror or exc}"
        ) from exc


def check_matrix_path(path: str | None) -> None:
    # numpy and scipy would append ".npz" to any other name, writing a file
    # other than the one named here.
    if path is not None and Path(path).suffix.lower() != ".npz":
        raise CLIError(
            f"-o {path!r}: the matrix is written as a .npz archive; give a file "
            "name ending in .npz"
        )
    check_writable(path)


def check_plot_path(path: str | None) -> None:
    if path is None:
        return
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError as exc:
        raise CLIError(
            f'--plot needs matplotlib: pip install "skxsim[plot]" ({exc})'
        ) from exc
    formats = FigureCanvasBase.get_supported_filetypes()
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in formats:
        raise CLIError(
            f"--plot {path!r}: the extension names the picture format, one of "
            f"{', '.join('.' + name for name in sorted(formats))}"
        )
    check_writable(path)


def check_dense_outputs(args, n_queries: int, n_ref: int, stacks=None) -> None:
    """``--dense`` writes the matrix dense, ``--plot`` draws it dense, and an
    embedding stacks every frame ``n_steps`` times: refuse, before the work,
    what would not fit in memory.  ``stacks`` is ``(what, n_frames,
    n_values)``: the frames embedded and the values of a stacked frame."""
    from .._output_size import check_output_size
    from ..exceptions import OutputTooLargeError
    from ..plot import check_image_size

    try:
        if stacks is not None:
            what, n_frames, n_values = stacks
            check_output_size(
                n_frames * n_values * np.dtype(np.float64).itemsize,
                f"{what}: {n_frames} stacked frames of {n_values} values",
                "Stack fewer frames (a smaller N_STEPS).",
            )
        if args.dense:
            check_output_size(
                n_queries * n_ref * np.dtype(np.float64).itemsize,
                f"--dense: the {n_queries} x {n_ref} matrix",
                "Write it sparse (without --dense).",
            )
        if args.plot:
            check_image_size((n_queries, n_ref), "--plot: the picture")
    except OutputTooLargeError as exc:
        raise CLIError(str(exc)) from exc


def model_stacks(model, query: np.ndarray):
    """``check_dense_outputs``'s ``stacks`` for a model whose Pipeline embeds
    the query (``TimeDelayEmbedding``), else None."""
    from sklearn.pipeline import Pipeline

    from .._embedding import TimeDelayEmbedding

    steps = model.steps[:-1] if isinstance(model, Pipeline) else []
    for _, step in steps:
        if isinstance(step, TimeDelayEmbedding):
            n_features = getattr(step, "n_features_in_", query.shape[1])
            n_values = n_features * step.n_steps
            what = f"the model's embedding (n_steps={step.n_steps})"
            return what, len(query), n_values
    return None


def load(path: str, role: str, quiet: bool) -> np.ndarray:
    """Features of a file as rows, with a progress line."""
    from ..datasets._io import read_features

    start = time.perf_counter()
    try:
        features, header = read_features(path)
    except (OSError, ValueError, ImportError) as exc:
        raise CLIError(f"{role}: {exc}") from exc
    if header is not None:
        log(f"{role} {path}: skipped the header {header}", quiet=quiet)
    log(
        f"read {role} {path}: {features.shape[0]} frames x "
        f"{features.shape[1]} features ({time.perf_counter() - start:.2f} s)",
        quiet=quiet,
    )
    return features


def check_same_features(
    query: np.ndarray, reference: np.ndarray, roles=("QUERY", "REF")
) -> None:
    if query.shape[1] != reference.shape[1]:
        raise CLIError(
            f"feature count mismatch: {roles[0]} has {query.shape[1]} features "
            f"per frame, {roles[1]} has {reference.shape[1]}"
        )


def save_matrix(result, path: str) -> None:
    try:
        # An open file, so that numpy and scipy write this very path.
        with open(path, "wb") as file:
            if sp.issparse(result):
                sp.save_npz(file, result)
            else:
                np.savez_compressed(file, xsim=result)
    except OSError as exc:
        raise CLIError(f"cannot write {path!r}: {exc}") from exc


def save_plot(result, path: str, title: str) -> None:
    use_agg()
    import matplotlib.pyplot as plt

    from ..plot import show_cross_similarity

    fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
    show_cross_similarity(result, ax=ax, title=title)
    try:
        fig.savefig(path, dpi=120, format=Path(path).suffix.lower().lstrip("."))
    except OSError as exc:
        raise CLIError(f"cannot write {path!r}: {exc}") from exc
    finally:
        plt.close(fig)


def use_agg() -> None:
    """Headless plotting, whatever the user's default backend is."""
    try:
        import matplotlib
    except ImportError:
        return
    matplotlib.use("Agg", force=True)


def check_argument_order(model_path: str, query_path: str) -> None:
    usage = "the order is: skxsim transform MODEL.joblib QUERY"
    if Path(model_path).suffix.lower() in FEATURE_EXTENSIONS:
        raise CLIError(f"MODEL {model_path!r} is a feature file, not a model; {usage}")
    if Path(query_path).suffix.lower() in (".joblib", ".pkl", ".pickle"):
        raise CLIError(f"QUERY {query_path!r} looks like a model file; {usage}")


def load_model(path: str):
    """The fitted model in a file written by ``skxsim fit``, checked."""
    import joblib
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not os.path.isfile(path):
        raise CLIError(f"no such model file: {path!r}")
    try:
        model = joblib.load(path)
    except Exception as exc:  # unpickling arbitrary bytes fails in many ways
        raise CLIError(
            f"cannot load model {path!r}: not a model file written by "
            f"'skxsim fit' ({type(exc).__name__}: {exc})"
        ) from exc
    if final_step(model) is None:
        raise CLIError(
            f"{path!r} holds a {type(model).__name__}, not a skxsim "
            "CrossSimilarity or a Pipeline ending in one"
        )
    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise CLIError(f"{path!r} holds a model that is not fitted") from exc
    return model


def final_step(model):
    """The CrossSimilarity of a model, or None if it has none at the end."""
    from sklearn.pipeline import Pipeline

    from .._cross_similarity import CrossSimilarity

    if isinstance(model, Pipeline) and model.steps:
        model = model.steps[-1][1]
    return model if isinstance(model, CrossSimilarity) else None
