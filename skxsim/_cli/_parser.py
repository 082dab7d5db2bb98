"""The ``skxsim`` command's arguments.

Option values are checked against the estimator's own parameter
declarations (``_validation``), so the command line accepts and refuses
what :class:`~skxsim.CrossSimilarity` does, before any work.
"""

from __future__ import annotations

import argparse

from sklearn.utils._param_validation import (
    InvalidParameterError,
    validate_parameter_constraints,
)

from .._validation import (
    NEIGHBOR_GRAPH_CONSTRAINTS,
    check_bandwidth_value,
    check_n_jobs,
)
from ._align import add_align_parser


def _version() -> str:
    import numpy
    import scipy
    import sklearn

    from .._version import __version__

    return (
        f"skxsim {__version__} (numpy {numpy.__version__}, scipy "
        f"{scipy.__version__}, scikit-learn {sklearn.__version__})"
    )


def _declared(name: str, parse, constraints=None, caller="CrossSimilarity"):
    """An argparse type: ``parse`` the text, then check the value against
    the parameter's one declaration (in ``constraints``, default: the
    cross-similarity's)."""
    if constraints is None:
        constraints = NEIGHBOR_GRAPH_CONSTRAINTS

    def convert(text: str):
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"cannot read {text!r}") from None
        try:
            validate_parameter_constraints(
                {name: constraints[name]},
                {name: value},
                caller_name=caller,
            )
            if name == "bandwidth":
                check_bandwidth_value(value)
            if name == "n_jobs":
                check_n_jobs(value)
        except (InvalidParameterError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return value

    return convert


def _number_or_name(text: str):
    try:
        return float(text)
    except ValueError:
        return text


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line like every other error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if not 0 <= seed < 2**32:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 0 to 2**32 - 1; got {text!r}"
        )
    return seed


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
        type=_declared("k", int),
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
        type=_declared("bandwidth", _number_or_name),
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
        "--n-jobs",
        type=_declared("n_jobs", int),
        default=None,
        help="threads (default: the cores this process may use, as BLAS "
        "reports them; -1: all cores)",
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
    parser = _Parser(
        prog="skxsim",
        description="k-nearest-neighbour cross-similarity matrices between two "
        "feature sequences. Feature files hold frames as rows: .npy, .csv, or "
        "audio (chroma via librosa, needs skxsim[audio]).",
    )
    parser.add_argument("--version", action="version", version=_version())
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
    demo.add_argument("--seed", type=_seed, default=0, help="random seed (default: 0)")

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
    add_align_parser(commands, _declared)

    from ._segment import add_segment_parser

    add_segment_parser(commands, _declared)

    from ._match import add_match_parser

    add_match_parser(commands, _declared)
    return parser
