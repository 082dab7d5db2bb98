"""The ``skxsim`` command line: demo, compute, fit, transform, align, segment,
match.

Matrices are written in the scikit-learn orientation, ``(n_queries, n_ref)``:
row ``i`` holds the similarities of query frame ``i`` to every reference
frame.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ._align import cmd_align
from ._files import (
    FEATURE_EXTENSIONS,
    CLIError,
    check_argument_order,
    check_dense_outputs,
    check_directory_writable,
    check_matrix_path,
    check_plot_path,
    check_same_features,
    check_writable,
    final_step,
    load,
    load_model,
    log,
    model_stacks,
    run_step,
    save_matrix,
    save_plot,
)
from ._match import cmd_match
from ._parser import build_parser
from ._segment import cmd_segment

# Queries longer than this are transformed in blocks with a progress line.
_PROGRESS_MIN_ROWS = 4000
_PROGRESS_BLOCK = 2000
# Set to see the traceback of an unexpected error instead of its one line.
_TRACEBACK_VARIABLE = "SKXSIM_TRACEBACK"


def _make_model(args, sparse: bool = True):
    from .._cross_similarity import CrossSimilarity

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

    from .._embedding import TimeDelayEmbedding

    n_steps, delay = args.embed
    embed = TimeDelayEmbedding(n_steps=n_steps, delay=delay)
    return Pipeline([("embed", embed), ("xsim", xsim)])


def _fit(model, reference: np.ndarray, quiet: bool):
    return run_step(
        lambda: model.fit(reference),
        "cannot fit on the reference",
        lambda _: f"fitted on {reference.shape[0]} frames",
        quiet=quiet,
    )


def _transform(model, query: np.ndarray, quiet: bool):
    """The model's transform of the whole query, with progress on long ones."""
    n_features = getattr(model, "n_features_in_", None)
    if n_features is not None and query.shape[1] != n_features:
        raise CLIError(
            f"feature count mismatch: QUERY has {query.shape[1]} features per "
            f"frame, the reference has {n_features}"
        )
    return run_step(
        lambda: _transform_with_progress(model, query, quiet),
        "cannot transform the query",
        lambda _: f"transformed {query.shape[0]} frames",
        quiet=quiet,
    )


def _as_output(result, dense: bool):
    """The matrix as it is written: an ndarray with --dense, else CSR."""
    if dense:
        return result.toarray() if sp.issparse(result) else np.asarray(result)
    return sp.csr_matrix(result)


def _transform_with_progress(model, query: np.ndarray, quiet: bool):
    """``model.transform(query)``, the final CrossSimilarity in blocks of rows
    with a progress line each on long queries.

    Earlier steps of a Pipeline see the whole query (a time-delay embedding
    needs it); the CrossSimilarity's output row depends only on its input
    row and the fitted reference, so blocks give the result of one call.
    """
    xsim = final_step(model)
    n = query.shape[0]
    if n < _PROGRESS_MIN_ROWS:
        return model.transform(query)
    if xsim is not model:
        query = model[:-1].transform(query)
    parts = []
    for lo in range(0, n, _PROGRESS_BLOCK):
        parts.append(xsim.transform(query[lo : lo + _PROGRESS_BLOCK]))
        done = min(n, lo + _PROGRESS_BLOCK)
        log(f"transformed {done}/{n} query frames ({100 * done // n}%)", quiet=quiet)
    if sp.issparse(parts[0]):
        return sp.vstack(parts, format="csr")
    return np.vstack(parts)


def _summary(result) -> str:
    if sp.issparse(result):
        return f"shape {result.shape}, nnz {result.nnz}, sparse {result.format}"
    return f"shape {result.shape}, nnz {np.count_nonzero(result)}, dense"


# --------------------------------------------------------------------------
# commands


def _cmd_compute(args) -> int:
    check_matrix_path(args.output)
    check_plot_path(args.plot)
    query = load(args.query, "QUERY", args.quiet)
    reference = load(args.ref, "REF", args.quiet)
    check_same_features(query, reference)
    stacks = None
    if args.embed is not None:
        n_values = query.shape[1] * args.embed[0]
        stacks = (f"--embed {args.embed[0]}", len(query) + len(reference), n_values)
    check_dense_outputs(args, len(query), len(reference), stacks)
    model = _fit(_make_model(args, sparse=not args.dense), reference, args.quiet)
    result = _transform(model, query, args.quiet)
    _write_outputs(result, args, f"{Path(args.query).name} vs {Path(args.ref).name}")
    return 0


def _write_outputs(result, args, title: str) -> None:
    """Summary line, then the matrix (-o) and the picture (--plot)."""
    result = _as_output(result, args.dense)
    print(f"cross-similarity (n_queries, n_ref): {_summary(result)}")
    if args.output:
        save_matrix(result, args.output)
        print(f"wrote {args.output}")
    if args.plot:
        save_plot(result, args.plot, title)
        print(f"wrote {args.plot}")


def _cmd_fit(args) -> int:
    import joblib

    if Path(args.output).suffix.lower() in FEATURE_EXTENSIONS:
        # 'skxsim transform' would take it for a feature file; and
        # 'fit ref.npy -o ref.npy' would overwrite the reference.
        raise CLIError(
            f"-o {args.output!r}: a model file cannot have the extension of a "
            "feature file; use .joblib"
        )
    check_writable(args.output)
    reference = load(args.ref, "REF", args.quiet)
    model = _fit(_make_model(args), reference, args.quiet)
    try:
        joblib.dump(model, args.output)
    except OSError as exc:
        raise CLIError(f"cannot write {args.output!r}: {exc}") from exc
    print(
        f"wrote {args.output} (reference: {reference.shape[0]} frames x {reference.shape[1]} features)"
    )
    return 0


def _cmd_transform(args) -> int:
    check_argument_order(args.model, args.query)
    check_matrix_path(args.output)
    check_plot_path(args.plot)
    model = load_model(args.model)
    query = load(args.query, "QUERY", args.quiet)
    check_dense_outputs(
        args, len(query), final_step(model).n_samples_fit_, model_stacks(model, query)
    )
    result = _transform(model, query, args.quiet)
    _write_outputs(result, args, f"{Path(args.query).name} vs {Path(args.model).name}")
    return 0


def _cmd_demo(args) -> int:
    from ._demo import run_demo

    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"cannot create output directory {args.out!r}: {exc}") from exc
    check_directory_writable(args.out, args.out)
    return run_demo(args.out, seed=args.seed)


_COMMANDS = {
    "demo": _cmd_demo,
    "compute": _cmd_compute,
    "fit": _cmd_fit,
    "transform": _cmd_transform,
    "align": cmd_align,
    "segment": cmd_segment,
    "match": cmd_match,
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
