"""The ``skxsim`` command line: demo, compute, fit, transform.

Matrices are written in the scikit-learn orientation, ``(n_queries, n_ref)``:
row ``i`` holds the similarities of query frame ``i`` to every reference
frame.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from skxsim._graph import BANDWIDTH_NAMES
from skxsim._io import AUDIO_EXTENSIONS

# Queries longer than this are transformed in blocks with a progress line.
_PROGRESS_MIN_ROWS = 4000
_PROGRESS_BLOCK = 2000
_FEATURE_EXTENSIONS = frozenset({".npy", ".csv", ".txt"}) | AUDIO_EXTENSIONS
# Set to see the traceback of an unexpected error instead of its one line.
_TRACEBACK_VARIABLE = "SKXSIM_TRACEBACK"


class CLIError(Exception):
    """An error to report to the user as one line, without a traceback."""


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line like every other error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _log(message: str, *, quiet: bool = False) -> None:
    if not quiet:
        print(f"skxsim: {message}", file=sys.stderr, flush=True)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _bandwidth(text: str):
    if text in BANDWIDTH_NAMES:
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number > 0 or one of {', '.join(BANDWIDTH_NAMES)}; "
            f"got {text!r}"
        ) from None
    if not value > 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"bandwidth must be > 0, got {text!r}")
    return value


def _embedding(text: str) -> tuple[int, int]:
    try:
        n_steps, delay = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected N_STEPS,DELAY such as 10,3; got {text!r}"
        ) from None
    if n_steps < 1 or delay == 0:
        raise argparse.ArgumentTypeError(
            f"need N_STEPS >= 1 and DELAY != 0; got {text!r}"
        )
    return n_steps, delay


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("cross-similarity parameters")
    group.add_argument(
        "--k",
        type=_positive_int,
        default=None,
        help="neighbours per query frame (default: 2*ceil(sqrt(n_ref)))",
    )
    group.add_argument(
        "--metric",
        default="euclidean",
        help="distance metric, any sklearn NearestNeighbors metric "
        "(default: euclidean)",
    )
    group.add_argument(
        "--mode",
        choices=("connectivity", "distance", "affinity"),
        default="connectivity",
        help="value stored for each neighbour (default: connectivity)",
    )
    group.add_argument(
        "--bandwidth",
        type=_bandwidth,
        default=None,
        help="affinity bandwidth: a number > 0 or a rule name "
        "(default: median k-th neighbour distance within the reference)",
    )
    group.add_argument(
        "--embed",
        type=_embedding,
        metavar="N_STEPS,DELAY",
        default=None,
        help="time-delay embed both sequences first, e.g. 10,3",
    )
    group.add_argument(
        "--n-jobs", type=int, default=None, help="parallel jobs (default: 1)"
    )


def _add_output_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "-o",
        "--output",
        required=required,
        metavar="OUT.npz",
        help="write the (n_queries, n_ref) matrix to this .npz file: sparse CSR in "
        "scipy.sparse.save_npz format (read with scipy.sparse.load_npz), or with "
        "--dense a NumPy .npz holding the array 'xsim'",
    )
    parser.add_argument(
        "--dense", action="store_true", help="write a dense array instead of CSR"
    )
    parser.add_argument(
        "--plot",
        metavar="OUT.png",
        help="also draw the matrix, in the format its extension names: .png, "
        ".pdf, .svg, ... (needs skxsim[plot])",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress messages"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skxsim`` command."""
    from skxsim._version import __version__

    parser = _Parser(
        prog="skxsim",
        description="k-nearest-neighbour cross-similarity matrices between two "
        "feature sequences. Feature files hold frames as rows: .npy, .csv, or "
        "audio (chroma via librosa, needs skxsim[audio]).",
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    demo = commands.add_parser(
        "demo",
        help="synthetic song and cover: write a PNG and an .npz, print a summary",
        description="Generate a reproducible synthetic chroma sequence and a "
        "time-stretched 'cover' with a changed section, embed both, compute "
        "their connectivity and affinity cross-similarity, and write "
        "DIR/cross_similarity.png and DIR/cross_similarity.npz.",
    )
    demo.add_argument(
        "--out", default=".", metavar="DIR", help="output directory (default: .)"
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")

    compute = commands.add_parser(
        "compute",
        help="cross-similarity of QUERY against REF",
        description="Fit on REF, transform QUERY, write the (n_queries, n_ref) matrix.",
    )
    compute.add_argument("query", metavar="QUERY", help="query feature file")
    compute.add_argument("ref", metavar="REF", help="reference feature file")
    _add_model_options(compute)
    _add_output_options(compute, required=False)

    fit = commands.add_parser(
        "fit",
        help="fit on REF and save the model with joblib",
        description="Fit on REF (index included) and save the model, to be "
        "used with 'skxsim transform'.",
    )
    fit.add_argument("ref", metavar="REF", help="reference feature file")
    fit.add_argument(
        "-o", "--output", required=True, metavar="MODEL.joblib", help="model file"
    )
    _add_model_options(fit)
    fit.add_argument("-q", "--quiet", action="store_true", help="no progress messages")

    transform = commands.add_parser(
        "transform",
        help="apply a saved model to QUERY",
        description="Load a model written by 'skxsim fit' (a fitted "
        "CrossSimilarity, or a Pipeline ending in one) and write the "
        "cross-similarity of QUERY against its reference. Only load model "
        "files you trust: joblib files can run code when loaded.",
    )
    transform.add_argument("model", metavar="MODEL.joblib", help="model file")
    transform.add_argument("query", metavar="QUERY", help="query feature file")
    _add_output_options(transform, required=True)
    return parser


# --------------------------------------------------------------------------
# building blocks


def _check_writable(path: str | None) -> None:
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
    _check_directory_writable(str(target.parent), path)


def _check_directory_writable(directory: str, path: str) -> None:
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


def _check_matrix_path(path: str | None) -> None:
    # numpy and scipy would append ".npz" to any other name, writing a file
    # other than the one named here.
    if path is not None and Path(path).suffix.lower() != ".npz":
        raise CLIError(
            f"-o {path!r}: the matrix is written as a .npz archive; give a file "
            "name ending in .npz"
        )
    _check_writable(path)


def _check_plot_path(path: str | None) -> None:
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
    _check_writable(path)


def _load(path: str, role: str, quiet: bool) -> np.ndarray:
    from skxsim._io import read_features

    start = time.perf_counter()
    try:
        features, header = read_features(path)
    except (OSError, ValueError, ImportError) as exc:
        raise CLIError(f"{role}: {exc}") from exc
    if header is not None:
        _log(f"{role} {path}: skipped the header {header}", quiet=quiet)
    _log(
        f"read {role} {path}: {features.shape[0]} frames x "
        f"{features.shape[1]} features ({time.perf_counter() - start:.2f} s)",
        quiet=quiet,
    )
    return features


def _make_model(args, sparse: bool = True):
    from skxsim import CrossSimilarity

    xsim = CrossSimilarity(
        k=args.k,
        metric=args.metric,
        mode=args.mode,
        bandwidth=args.bandwidth,
        sparse=sparse,
        n_jobs=args.n_jobs,
    )
    if args.embed is None:
        return xsim
    from sklearn.pipeline import Pipeline

    from skxsim._embedding import TimeDelayEmbedding

    n_steps, delay = args.embed
    embed = TimeDelayEmbedding(n_steps=n_steps, delay=delay)
    return Pipeline([("embed", embed), ("xsim", xsim)])


def _final_step(model):
    """The CrossSimilarity of a model, or None if it has none at the end."""
    from sklearn.pipeline import Pipeline

    from skxsim import CrossSimilarity

    if isinstance(model, Pipeline) and model.steps:
        model = model.steps[-1][1]
    return model if isinstance(model, CrossSimilarity) else None


def _fit(model, reference: np.ndarray, quiet: bool):
    start = time.perf_counter()
    try:
        model.fit(reference)
    except ValueError as exc:
        raise CLIError(f"cannot fit on the reference: {exc}") from exc
    _log(
        f"fitted on {reference.shape[0]} frames ({time.perf_counter() - start:.2f} s)",
        quiet=quiet,
    )
    return model


@contextlib.contextmanager
def _progress(xsim, quiet: bool):
    """Let ``xsim.transform`` work in blocks of rows, logging progress.

    The model is still called once, so a Pipeline does its own job (a
    time-delay embedding sees the whole query); only the final
    CrossSimilarity is split, and its output row depends only on its query
    row and the fitted reference, so blocks give the result of one call.
    """
    transform = xsim.transform

    def blocked(X, **params):
        n = X.shape[0]
        if n < _PROGRESS_MIN_ROWS:
            return transform(X, **params)
        parts = []
        for lo in range(0, n, _PROGRESS_BLOCK):
            parts.append(transform(X[lo : lo + _PROGRESS_BLOCK], **params))
            done = min(n, lo + _PROGRESS_BLOCK)
            _log(
                f"transformed {done}/{n} query frames ({100 * done // n}%)",
                quiet=quiet,
            )
        if sp.issparse(parts[0]):
            return sp.vstack(parts, format="csr")
        return np.vstack(parts)

    xsim.transform = blocked  # an instance attribute, shadowing the method
    try:
        yield
    finally:
        del xsim.transform


def _transform(model, query: np.ndarray, quiet: bool):
    """The model's transform of the whole query, with progress on long ones."""
    n_features = getattr(model, "n_features_in_", None)
    if n_features is not None and query.shape[1] != n_features:
        raise CLIError(
            f"feature count mismatch: QUERY has {query.shape[1]} features per "
            f"frame, the reference has {n_features}"
        )
    start = time.perf_counter()
    try:
        with _progress(_final_step(model), quiet):
            result = model.transform(query)
    except ValueError as exc:
        raise CLIError(f"cannot transform the query: {exc}") from exc
    _log(
        f"transformed {query.shape[0]} frames ({time.perf_counter() - start:.2f} s)",
        quiet=quiet,
    )
    return result


def _as_output(result, dense: bool):
    """The matrix as it is written: an ndarray with --dense, else CSR."""
    if dense:
        return result.toarray() if sp.issparse(result) else np.asarray(result)
    return sp.csr_matrix(result)


def _save_matrix(result, path: str) -> None:
    try:
        # An open file, so that numpy and scipy write this very path.
        with open(path, "wb") as file:
            if sp.issparse(result):
                sp.save_npz(file, result)
            else:
                np.savez_compressed(file, xsim=result)
    except OSError as exc:
        raise CLIError(f"cannot write {path!r}: {exc}") from exc


def _save_plot(result, path: str, title: str) -> None:
    _use_agg()
    import matplotlib.pyplot as plt

    from skxsim.plot import show_cross_similarity

    fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
    show_cross_similarity(result, ax=ax, title=title)
    try:
        fig.savefig(path, dpi=120, format=Path(path).suffix.lower().lstrip("."))
    except OSError as exc:
        raise CLIError(f"cannot write {path!r}: {exc}") from exc
    finally:
        plt.close(fig)


def _use_agg() -> None:
    """Headless plotting, whatever the user's default backend is."""
    try:
        import matplotlib
    except ImportError:
        return
    matplotlib.use("Agg", force=True)


def _summary(result) -> str:
    if sp.issparse(result):
        return f"shape {result.shape}, nnz {result.nnz}, sparse {result.format}"
    return f"shape {result.shape}, nnz {np.count_nonzero(result)}, dense"


# --------------------------------------------------------------------------
# commands


def _cmd_compute(args) -> int:
    _check_matrix_path(args.output)
    _check_plot_path(args.plot)
    query = _load(args.query, "QUERY", args.quiet)
    reference = _load(args.ref, "REF", args.quiet)
    if query.shape[1] != reference.shape[1]:
        raise CLIError(
            f"feature count mismatch: QUERY has {query.shape[1]} features per "
            f"frame, REF has {reference.shape[1]}"
        )
    model = _fit(_make_model(args, sparse=not args.dense), reference, args.quiet)
    result = _transform(model, query, args.quiet)
    _write_outputs(result, args, f"{Path(args.query).name} vs {Path(args.ref).name}")
    return 0


def _write_outputs(result, args, title: str) -> None:
    """Summary line, then the matrix (-o) and the picture (--plot)."""
    result = _as_output(result, args.dense)
    print(f"cross-similarity (n_queries, n_ref): {_summary(result)}")
    if args.output:
        _save_matrix(result, args.output)
        print(f"wrote {args.output}")
    if args.plot:
        _save_plot(result, args.plot, title)
        print(f"wrote {args.plot}")


def _cmd_fit(args) -> int:
    import joblib

    if Path(args.output).suffix.lower() in _FEATURE_EXTENSIONS:
        # 'skxsim transform' would take it for a feature file; and
        # 'fit ref.npy -o ref.npy' would overwrite the reference.
        raise CLIError(
            f"-o {args.output!r}: a model file cannot have the extension of a "
            "feature file; use .joblib"
        )
    _check_writable(args.output)
    reference = _load(args.ref, "REF", args.quiet)
    model = _fit(_make_model(args), reference, args.quiet)
    try:
        joblib.dump(model, args.output)
    except OSError as exc:
        raise CLIError(f"cannot write {args.output!r}: {exc}") from exc
    print(
        f"wrote {args.output} (reference: {reference.shape[0]} frames x {reference.shape[1]} features)"
    )
    return 0


def _check_argument_order(model_path: str, query_path: str) -> None:
    usage = "the order is: skxsim transform MODEL.joblib QUERY"
    if Path(model_path).suffix.lower() in _FEATURE_EXTENSIONS:
        raise CLIError(f"MODEL {model_path!r} is a feature file, not a model; {usage}")
    if Path(query_path).suffix.lower() in (".joblib", ".pkl", ".pickle"):
        raise CLIError(f"QUERY {query_path!r} looks like a model file; {usage}")


def _load_model(path: str):
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
    if _final_step(model) is None:
        raise CLIError(
            f"{path!r} holds a {type(model).__name__}, not a skxsim "
            "CrossSimilarity or a Pipeline ending in one"
        )
    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise CLIError(f"{path!r} holds a model that is not fitted") from exc
    return model


def _cmd_transform(args) -> int:
    _check_argument_order(args.model, args.query)
    _check_matrix_path(args.output)
    _check_plot_path(args.plot)
    model = _load_model(args.model)
    query = _load(args.query, "QUERY", args.quiet)
    result = _transform(model, query, args.quiet)
    _write_outputs(result, args, f"{Path(args.query).name} vs {Path(args.model).name}")
    return 0


def _cmd_demo(args) -> int:
    from skxsim._demo import run_demo

    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"cannot create output directory {args.out!r}: {exc}") from exc
    _check_directory_writable(args.out, args.out)
    return run_demo(args.out, seed=args.seed)


_COMMANDS = {
    "demo": _cmd_demo,
    "compute": _cmd_compute,
    "fit": _cmd_fit,
    "transform": _cmd_transform,
}


def main(argv: list[str] | None = None) -> int:
    """Run the ``skxsim`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``sys.argv[1:]`` if None.

    Returns
    -------
    status : int
        0 on success, 1 on an error reported in one line on stderr (2 on a
        usage error, 130 when interrupted).
    """
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except CLIError as exc:
        message = str(exc)
    except KeyboardInterrupt:
        print("skxsim: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get(_TRACEBACK_VARIABLE):
            raise
        message = (
            f"{type(exc).__name__}: {exc} (set {_TRACEBACK_VARIABLE}=1 to see "
            "the traceback)"
        )
    message = " ".join(message.split())  # one line, whatever the exception said
    print(f"skxsim {args.command}: error: {message}", file=sys.stderr)
    return 1
