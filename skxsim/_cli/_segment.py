"""``skxsim segment FILE``: structural segmentation of one recording."""

from __future__ import annotations

import numpy as np

from ._files import load, run_step

# librosa's default frames (hop 512 at 22050 Hz), what audio files give.
DEFAULT_FRAME_DURATION = 512 / 22050


def add_segment_parser(commands, declared) -> None:
    """The ``segment`` subcommand and its options."""
    segment = commands.add_parser(
        "segment",
        help="structural segmentation of FILE: boundaries (seconds) and labels",
        description="Segment one recording by Laplacian structural segmentation "
        "(LaplacianSegmentation) and print one line per segment: start and "
        "end in seconds and the section label (segments of one label repeat "
        "one section type).",
    )
    segment.add_argument("file", metavar="FILE", help="feature file or audio")
    segment.add_argument(
        "--n-clusters",
        type=_clusters,
        default=5,
        help="number of section types, or 'auto' (default: 5)",
    )
    segment.add_argument(
        "--frame-duration",
        type=_positive,
        default=DEFAULT_FRAME_DURATION,
        metavar="SECONDS",
        help="seconds per frame of FILE (default: 512/22050, the frames "
        "audio files give)",
    )
    segment.add_argument(
        "--k",
        type=declared("k", int),
        default=None,
        help="recurrence neighbours per frame (default: 2*ceil(sqrt(n)))",
    )
    segment.add_argument(
        "--seed", type=int, default=0, help="random seed of k-means (default: 0)"
    )
    segment.add_argument(
        "-q", "--quiet", action="store_true", help="no progress messages"
    )


def _clusters(text: str):
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        import argparse

        raise argparse.ArgumentTypeError(
            f"expected 'auto' or an int >= 1; got {text!r}"
        )
    return value


def _positive(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value > 0 and np.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a number > 0; got {text!r}")
    return value


def cmd_segment(args) -> int:
    from .._structure import LaplacianSegmentation
    from .._structure._scores import labels_to_intervals

    features = load(args.file, "FILE", args.quiet)
    model = LaplacianSegmentation(
        n_clusters=args.n_clusters, k=args.k, random_state=args.seed
    )
    labels = run_step(
        lambda: model.fit_predict(features),
        "cannot segment FILE",
        lambda labels: (
            f"segmented {len(labels)} frames into "
            f"{len(model.boundaries_)} segments of {model.n_clusters_} types"
        ),
        quiet=args.quiet,
    )
    intervals, segment_labels = labels_to_intervals(labels, args.frame_duration)
    print("# start_s\tend_s\tlabel")
    for (begin, end), label in zip(intervals, segment_labels, strict=True):
        print(f"{begin:.3f}\t{end:.3f}\t{label}")
    return 0
