"""``skxsim align QUERY REF``: the optimal alignment path, as CSV.

The path is written one step a line, ``query_frame,ref_frame,
query_seconds,ref_seconds``; the seconds are the frames' start times at the
frame rate of the features (audio: ``sr / hop_length`` of the chroma the
command computes; feature files: ``--frame-rate``).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np

from .._alignment._aligner import DEFAULT_BUDGET
from ._files import CLIError, check_same_features, check_writable, load, log

# The frame rate of the chroma ``read_features`` computes from audio.
AUDIO_FRAME_RATE = 22050 / 512


def _weights(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected three numbers such as 1,1.5,1.5; got {text!r}"
        ) from None


def _positive(text: str) -> float:
    value = float(text)
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0; got {text!r}")
    return value


def _budget(text: str):
    return None if text.lower() == "none" else int(text)


def add_align_parser(commands, declared) -> None:
    """The ``align`` subcommand; ``declared`` checks a value against the
    :class:`~skxsim.Aligner`'s parameter declarations."""
    from .._alignment import Aligner

    constraints = Aligner._parameter_constraints

    def checked(name, parse):
        return declared(name, parse, constraints, "Aligner")

    align = commands.add_parser(
        "align",
        help="the optimal DTW path of QUERY through REF, as CSV",
        description="Align QUERY to REF by dynamic time warping (skxsim.align: "
        "the optimum, proven) and write the path as CSV, one step a line: "
        "query_frame,ref_frame,query_seconds,ref_seconds.",
    )
    align.add_argument("query", metavar="QUERY", help="query feature file")
    align.add_argument("ref", metavar="REF", help="reference feature file")
    group = align.add_argument_group("alignment parameters")
    group.add_argument(
        "--metric",
        type=checked("metric", str),
        default="chord",
        help="local cost: chord, cosine, euclidean or sqeuclidean (default: chord)",
    )
    group.add_argument(
        "--step-weights",
        type=checked("step_weights", _weights),
        default=(1.0, 1.5, 1.5),
        metavar="DIAG,REF,QUERY",
        help="weights of the steps (1,1), (0,1), (1,0) (default: 1,1.5,1.5)",
    )
    group.add_argument(
        "--subseq",
        action="store_true",
        help="free start and end in REF (QUERY against its best stretch of REF)",
    )
    group.add_argument(
        "--budget",
        type=checked("budget", _budget),
        default=DEFAULT_BUDGET,
        help="most cells the proof of optimality may explore, or 'none' "
        f"(default: {DEFAULT_BUDGET})",
    )
    align.add_argument(
        "--frame-rate",
        type=_positive,
        default=None,
        metavar="FPS",
        help="frames per second of feature files, for the seconds columns "
        f"(default: that of the audio chroma, 22050/512 = {AUDIO_FRAME_RATE:.3f})",
    )
    align.add_argument(
        "-o",
        "--output",
        metavar="OUT.csv",
        help="write the path here (default: standard output)",
    )
    align.add_argument(
        "-q", "--quiet", action="store_true", help="no progress messages"
    )


def cmd_align(args) -> int:
    from .._alignment import align
    from ..exceptions import AlignmentWarning

    check_writable(args.output)
    query = load(args.query, "QUERY", args.quiet)
    reference = load(args.ref, "REF", args.quiet)
    check_same_features(query, reference)
    start = time.perf_counter()
    with warnings.catch_warnings():
        # Reported below, in the summary line.
        warnings.simplefilter("ignore", AlignmentWarning)
        path, cost, info = align(
            query,
            reference,
            metric=args.metric,
            step_weights=args.step_weights,
            subseq=args.subseq,
            budget=args.budget,
            return_info=True,
        )
    proof = (
        "proven optimal"
        if info["optimal"]
        else f"not proven within the budget: at most (1 + {info['gap']:.3g}) x "
        "the optimum"
    )
    if not info["optimal"] and info["predicted_cells"] and not info["explored_cells"]:
        proof += (
            f" (the proof, predicted to need ~{info['predicted_cells']:.3g} cells, "
            "was not attempted)"
        )
    log(
        f"aligned {len(query)} x {len(reference)} frames in "
        f"{time.perf_counter() - start:.2f} s: {len(path)} steps, cost "
        f"{cost:.6g}, {proof}",
        quiet=args.quiet and info["optimal"],
    )
    rate = args.frame_rate or AUDIO_FRAME_RATE
    table = np.column_stack([path, path / rate])
    try:
        target = sys.stdout if args.output is None else open(args.output, "w")
        try:
            np.savetxt(
                target,
                table,
                fmt=["%d", "%d", "%.6f", "%.6f"],
                delimiter=",",
                header="query_frame,ref_frame,query_seconds,ref_seconds",
                comments="",
            )
        finally:
            if args.output is not None:
                target.close()
    except OSError as exc:
        raise CLIError(f"cannot write {args.output!r}: {exc}") from exc
    if args.output is not None:
        print(f"wrote {args.output}")
    return 0
