"""``skxsim match QUERY ARCHIVE...``: where queries sit in an archive of files.

The archive files are concatenated, in the order given, into one reference
for a :class:`~skxsim.Matcher`; a match is reported in the file where it
starts, its frames and seconds counted from that file's first frame (the
seconds are frame start times, ``frame / frame rate``, as ``skxsim align``
writes them; the end is the last matched frame, inclusive).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._validation import POSITIVE_INT
from ._align import AUDIO_FRAME_RATE, _positive, _weights
from ._files import (
    CLIError,
    check_same_features,
    check_writable,
    load,
    log,
    run_step,
)

# Matcher parameters offered as options: (name, flag's metavar, parse, help).
# An option whose parameter the Matcher does not declare is not offered.
_OPTIONS = (
    ("metric", None, str, "local cost: chord, cosine, euclidean or sqeuclidean"),
    (
        "step_weights",
        "DIAG,REF,QUERY",
        _weights,
        "weights of the steps (1,1), (0,1), (1,0)",
    ),
    ("n_neighbors", "K", int, "nearest archive excerpts per query excerpt"),
    ("tempo_range", "LOW,HIGH", None, "archive frames per query frame considered"),
    ("n_candidates", "N", int, "windows aligned per query"),
    ("pool", "N", int, "frames averaged into one before indexing"),
    (
        "n_steps",
        "N",
        int,
        "pooled frames per indexed excerpt (queries shorter than "
        "pool x (n_steps + 2) frames are aligned against the whole archive; "
        "--pool 4 --n-steps 4 keeps queries of 24+ frames on the index)",
    ),
    ("algorithm", None, str, "neighbour search: auto, brute, kd_tree, hnsw, ..."),
)
CSV_HEADER = "query,rank,archive,start_frame,end_frame,start_s,end_s,cost"


def _pair(text: str) -> tuple[float, float]:
    parts = text.split(",")
    if len(parts) != 2:
        raise ValueError(text)
    return float(parts[0]), float(parts[1])


def add_match_parser(commands, declared) -> None:
    """The ``match`` subcommand; ``declared`` checks a value against the
    :class:`~skxsim.Matcher`'s parameter declarations."""
    from .._alignment import Matcher

    constraints = Matcher._parameter_constraints
    match = commands.add_parser(
        "match",
        help="where QUERY sits in the ARCHIVE files: best matches, in seconds",
        description="Concatenate the ARCHIVE files into one reference, find "
        "the best subsequences of it for QUERY (skxsim.Matcher) and print one "
        "line per match: the archive file it starts in, start and end in "
        "seconds and frames from that file's beginning (the end is the last "
        "matched frame), and the cost per query frame.",
    )
    match.add_argument("query", metavar="QUERY", help="query feature file or audio")
    match.add_argument(
        "archive", metavar="ARCHIVE", nargs="+", help="archive feature files or audio"
    )
    match.add_argument(
        "--query-list",
        metavar="LIST.txt",
        help="more queries: a text file of paths, one a line (# comments)",
    )
    match.add_argument(
        "--n-matches",
        type=declared("n_matches", int, {"n_matches": POSITIVE_INT}, "Matcher.match"),
        default=1,
        help="matches per query (default: 1)",
    )
    group = match.add_argument_group("matcher parameters (default: the Matcher's own)")
    for name, metavar, parse, text in _OPTIONS:
        if name not in constraints:
            continue
        group.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            metavar=metavar,
            type=declared(name, parse or _pair, constraints, "Matcher"),
            default=None,
            help=text,
        )
    match.add_argument(
        "--n-jobs",
        type=declared("n_jobs", int, constraints, "Matcher"),
        default=None,
        help="cores matching several queries (default: joblib's)",
    )
    match.add_argument(
        "--frame-rate",
        type=_positive,
        default=None,
        metavar="FPS",
        help="frames per second of feature files, for the seconds "
        f"(default: that of the audio chroma, 22050/512 = {AUDIO_FRAME_RATE:.3f})",
    )
    match.add_argument(
        "-o", "--output", metavar="OUT.csv", help=f"also write CSV: {CSV_HEADER}"
    )
    match.add_argument(
        "-q", "--quiet", action="store_true", help="no progress messages"
    )


def _query_paths(args) -> list[str]:
    paths = [args.query]
    if args.query_list is not None:
        try:
            lines = Path(args.query_list).read_text().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise CLIError(f"--query-list {args.query_list!r}: {exc}") from exc
        paths += [s.strip() for s in lines if s.strip() and not s.startswith("#")]
    return paths


def _archive(args) -> tuple[np.ndarray, list[str], np.ndarray]:
    """The concatenated archive, its files, and each file's first frame."""
    parts = [load(path, "ARCHIVE", args.quiet) for path in args.archive]
    for path, part in zip(args.archive[1:], parts[1:], strict=True):
        check_same_features(
            part, parts[0], (f"ARCHIVE {path}", f"ARCHIVE {args.archive[0]}")
        )
    firsts = np.cumsum([0] + [len(part) for part in parts])
    return np.concatenate(parts), list(args.archive), firsts


def cmd_match(args) -> int:
    from .._alignment import Matcher

    check_writable(args.output)
    query_paths = _query_paths(args)
    queries = [load(path, "QUERY", args.quiet) for path in query_paths]
    archive, files, firsts = _archive(args)
    for path, query in zip(query_paths, queries, strict=True):
        check_same_features(query, archive, (f"QUERY {path}", "ARCHIVE"))
        if len(query) > len(archive):
            raise CLIError(
                f"QUERY {path} has {len(query)} frames, more than the "
                f"{len(archive)} of the whole archive: a match is a part of it "
                "(use 'skxsim align' to align two whole sequences)"
            )
    params = {name: getattr(args, name) for name, *_ in _OPTIONS if name in vars(args)}
    model = Matcher(**{k: v for k, v in params.items() if v is not None})
    run_step(
        lambda: model.fit(archive),
        "cannot index the archive",
        lambda _: f"indexed {len(archive)} archive frames from {len(files)} file(s)",
        quiet=args.quiet,
    )

    def match():
        if len(queries) == 1:
            return [model.match(queries[0], n_matches=args.n_matches)]
        return model.match_many(queries, n_matches=args.n_matches, n_jobs=args.n_jobs)

    results = run_step(
        match,
        "cannot match",
        lambda _: f"matched {len(queries)} quer{'y' if len(queries) == 1 else 'ies'}",
        quiet=args.quiet,
    )
    rows = _rows(query_paths, results, files, firsts)
    _print(rows, args.frame_rate or AUDIO_FRAME_RATE)
    if args.output is not None:
        _write_csv(rows, args.frame_rate or AUDIO_FRAME_RATE, args.output)
    return 0


def _rows(query_paths, results, files, firsts) -> list[tuple]:
    """``(query, rank, archive, start, end, cost)``, frames counted from the
    start of the file the match starts in."""
    rows = []
    for path, (starts, ends, costs) in zip(query_paths, results, strict=True):
        if len(starts) == 0:
            log(f"QUERY {path}: no match")
        for rank, (s, e, c) in enumerate(zip(starts, ends, costs, strict=True), 1):
            i = int(np.searchsorted(firsts, s, side="right")) - 1
            if e >= firsts[i + 1]:
                log(f"QUERY {path}: match {rank} runs on past the end of {files[i]}")
            s, e = int(s) - int(firsts[i]), int(e) - int(firsts[i])
            rows.append((path, rank, files[i], s, e, float(c)))
    return rows


def _print(rows, rate: float) -> None:
    print("# query\trank\tarchive\tstart_s\tend_s\tstart_frame\tend_frame\tcost")
    for path, rank, file, s, e, cost in rows:
        print(
            f"{path}\t{rank}\t{file}\t{s / rate:.3f}\t{e / rate:.3f}\t{s}\t{e}"
            f"\t{cost:.6g}"
        )


def _write_csv(rows, rate: float, output: str) -> None:
    import csv

    try:
        with open(output, "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(CSV_HEADER.split(","))
            for path, rank, name, s, e, cost in rows:
                writer.writerow(
                    [path, rank, name, s, e, f"{s / rate:.6f}", f"{e / rate:.6f}"]
                    + [f"{cost:.9g}"]
                )
    except OSError as exc:
        raise CLIError(f"cannot write {output!r}: {exc}") from exc
    log(f"wrote {output}")
