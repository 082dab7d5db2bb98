#!/usr/bin/env python
"""Audio-to-audio alignment and matching (issue 17): skxsim and its peers.

Data with exact ground truth (``_performances``, ``_align_data``): music21
scores rendered twice by FluidSynth, A at a constant tempo and B with a
smooth +-25% tempo curve, a lead-in and other instruments, white noise at
30 dB; librosa's chroma_cqt (hop 512).  Alignment pairs (B onto A): 30
single chorales and concatenations of 1, 5, 15, 30, 60 and 120 minutes.
Matching: 20 queries of 15-30 s cut from B versions, located in archives
of A versions of distinct pieces (5 minutes to 10 hours).

Each (method, length) runs in a fresh subprocess with a timeout
(``_align_measure``); a crash, an out-of-memory kill or a timeout is
reported, not fatal.  Methods whose full matrices would not fit, or whose
run would take too long, are skipped by estimate with a note.  The metrics
(``_align_metrics``) are computed the same way for every method.  See
``benchmarks/README.md``.

Usage::

    python benchmarks/bench_alignment.py                       # everything
    python benchmarks/bench_alignment.py --quick               # smoke run
    python benchmarks/bench_alignment.py --lengths single 5 --archive-lengths 5
    python benchmarks/bench_alignment.py --methods synctoolbox libfmp-diag
    python benchmarks/bench_alignment.py --md report.md --json raw.json
    python benchmarks/bench_alignment.py --material held-out \
        --md benchmarks/results_alignment_heldout.md     # issue 26
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _align_data as data  # noqa: E402
import _align_measure  # noqa: E402
import _align_methods as methods  # noqa: E402
import _align_report as report  # noqa: E402
import _align_runs as runs  # noqa: E402
import _machine  # noqa: E402
from _align_runs import progress  # noqa: E402

LENGTHS = ["single", 1, 5, 15, 30, 60, 120]
ARCHIVE_LENGTHS = [5, 60, 120, 300, 600]
HELDOUT_ARCHIVE_LENGTHS = [60, 600]
HELDOUT_QUERIES = 50
PEER_PACKAGES = ("librosa", "dtw-python", "linmdtw", "synctoolbox", "libfmp", "mido")


def versions():
    out = {}
    for name in PEER_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    try:
        out["fluidsynth"] = subprocess.run(
            ["fluidsynth", "--version"], capture_output=True, text=True, timeout=30
        ).stdout.splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        out["fluidsynth"] = "not installed"
    return out


def main_heldout(args):
    """``--material held-out``: matching only, with each miss's reason."""
    import _align_diagnose as diagnose
    import _align_heldout as heldout

    t_start = time.perf_counter()
    machine = _machine.info()
    machine["versions"].update(versions())
    notes = {"general": []}
    archives = data.archives(
        args.archive_lengths, args.queries, args.seed, args.data_jobs, progress, heldout
    )
    machine["data_s"] = time.perf_counter() - t_start
    progress(f"data ready in {machine['data_s']:.0f} s")
    records = runs.run_matching(archives, args.methods or ["skxsim"], args, notes)
    diagnoses, optimal = {}, None
    if "skxsim" in (args.methods or ["skxsim"]):
        for archive in archives:
            progress(f"diagnose/skxsim/{archive['length']} ...")
            spec = {"task": "diagnose", "method": "skxsim", "inputs": [archive["path"]]}
            spec["key"] = f"diagnose/skxsim/{archive['length']}"
            diagnoses[str(archive["length"])] = runs.run_child(spec, args.timeout)
        if args.optimal_cases:
            progress(f"optimal/skxsim ({args.optimal_cases} random cases) ...")
            spec = {"task": "optimal", "method": "skxsim", "key": "optimal/skxsim"}
            optimal = runs.run_child(dict(spec, cases=args.optimal_cases), args.timeout)
    _finish(machine, records, t_start)
    text = diagnose.heldout_report(
        archives, records, diagnoses, optimal, notes, machine, args
    )
    raw = {"archives": archives, "records": records, "diagnoses": diagnoses}
    _emit(text, args, dict(raw, optimal=optimal, notes=notes, machine=machine))
    progress(f"total {time.perf_counter() - t_start:.0f} s")
    return 0


def _finish(machine, records, t_start):
    """The load at the end, the run's time and the other processes' CPU share."""
    machine["load_avg_end"] = _machine.load_avg()
    machine["run_s"] = time.perf_counter() - t_start
    timed = [r for r in records if r.get("other_cpu_pct") is not None]
    if timed:
        weights = [r["subprocess_s"] for r in timed]
        machine["other_cpu_mean"] = sum(
            r["other_cpu_pct"] * w for r, w in zip(timed, weights, strict=True)
        ) / sum(weights)
        machine["other_cpu_max"] = max(r["other_cpu_pct"] for r in timed)


def _emit(text, args, raw=None):
    """Print the report, write it to ``--md`` and the raw results to ``--json``."""
    print(text)
    if args.md:
        with open(args.md, "w") as f:
            f.write(text)
    if raw is not None and args.json:
        with open(args.json, "w") as f:
            json.dump(dict(raw, args=dict(vars(args))), f, indent=1)


def main_benchmark(args):
    t_start = time.perf_counter()
    machine = _machine.info()
    machine["versions"].update(versions())
    notes = {"general": []}
    t0 = time.perf_counter()
    pairs = data.pairs(args.lengths, args.seed, args.n_single, args.data_jobs, progress)
    archives = (
        data.archives(
            args.archive_lengths, args.queries, args.seed, args.data_jobs, progress
        )
        if args.archive_lengths
        else []
    )
    machine["data_s"] = time.perf_counter() - t0
    progress(f"data ready in {machine['data_s']:.0f} s")
    wanted = args.methods or list(dict.fromkeys([*methods.ALIGN, *methods.MATCH]))
    best = {}
    if not args.no_optimum and any(m in methods.ALIGN for m in wanted):
        best = runs.optimum(pairs, args, notes["general"])
    records = runs.run_alignment(pairs, wanted, args, notes)
    records += runs.run_matching(archives, wanted, args, notes)
    _finish(machine, records, t_start)
    text = report.full_report(pairs, archives, records, best, notes, machine, args)
    raw = {"machine": machine, "pairs": pairs, "archives": archives}
    _emit(text, args, dict(raw, optimum=best, records=records, notes=notes))
    progress(f"total {time.perf_counter() - t_start:.0f} s")
    return 0


def _length(text):
    return text if text == "single" else float(text) if "." in text else int(text)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--lengths",
        nargs="*",
        type=_length,
        default=None,
        help="alignment lengths: 'single' and/or minutes "
        f"(default: {' '.join(map(str, LENGTHS))}; none: no alignment)",
    )
    parser.add_argument(
        "--archive-lengths",
        nargs="*",
        type=float,
        default=None,
        help="matching archive lengths in minutes (default: "
        f"{' '.join(map(str, ARCHIVE_LENGTHS))}; none: no matching)",
    )
    every = list(dict.fromkeys([*methods.ALIGN, *methods.MATCH]))
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=every,
        help="methods to run (default: all installed)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 5 single pairs, 1 and 5 minutes, archives of "
        "5 and 60 minutes, 10 queries, one timed call",
    )
    parser.add_argument(
        "--n-single",
        type=int,
        default=30,
        help="single-chorale pairs (default: %(default)s)",
    )
    parser.add_argument(
        "--queries",
        type=int,
        default=None,
        help=f"queries per archive (default: 20; held-out: {HELDOUT_QUERIES})",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="timed calls (median) of a call shorter than "
        "--single-above (default: %(default)s)",
    )
    parser.add_argument(
        "--single-above",
        type=float,
        default=10.0,
        help="seconds above which one cold call is reported (default: %(default)s)",
    )
    parser.add_argument(
        "--max-memory-gb",
        type=float,
        default=8.0,
        help="skip a full-matrix method whose matrices are estimated "
        "larger (default: %(default)s)",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=1200.0,
        help="skip linmdtw / librosa-subseq runs estimated longer "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        help="kill a subprocess after this many seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--data-jobs",
        type=int,
        default=1,
        help="processes rendering audio (default: %(default)s)",
    )
    parser.add_argument(
        "--material",
        choices=("benchmark", "held-out"),
        default="benchmark",
        help="held-out: matching only, on material the defaults never saw "
        "(_align_heldout), with each miss's reason; archives of "
        f"{' '.join(map(str, HELDOUT_ARCHIVE_LENGTHS))} minutes and "
        f"{HELDOUT_QUERIES} queries unless given (default: %(default)s)",
    )
    parser.add_argument(
        "--optimal-cases",
        type=int,
        default=120,
        help="held-out: random queries for the top-match-is-optimal rate "
        "(0: skip; default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="data seed (default: 0)")
    parser.add_argument(
        "--no-trace", action="store_true", help="no tracemalloc call (RSS only)"
    )
    parser.add_argument(
        "--no-dask",
        action="store_true",
        help="skip skxsim's match_many on a local Dask cluster",
    )
    parser.add_argument(
        "--no-optimum",
        action="store_true",
        help="skip full DTW's optimum (no cost ratios)",
    )
    parser.add_argument("--md", metavar="PATH", help="also write the report here")
    parser.add_argument("--json", metavar="PATH", help="write raw results here")
    parser.add_argument(
        "--report-from",
        metavar="PATH",
        help="measure nothing: print the report of an earlier --json file "
        "(and write it to --md)",
    )
    args = parser.parse_args(argv)
    if args.material == "held-out":
        if args.archive_lengths is None:
            args.archive_lengths = HELDOUT_ARCHIVE_LENGTHS
        if args.queries is None:
            args.queries = HELDOUT_QUERIES
    args.queries = 20 if args.queries is None else args.queries
    if args.quick:
        args.n_single = min(args.n_single, 5)
        args.queries = min(args.queries, 10)
        args.repeats = 1
        args.lengths = ["single", 1, 5] if args.lengths is None else args.lengths
        if args.archive_lengths is None:
            args.archive_lengths = [5, 60]
    args.lengths = LENGTHS if args.lengths is None else args.lengths
    if args.archive_lengths is None:
        args.archive_lengths = ARCHIVE_LENGTHS
    args.archive_lengths = [
        int(x) if float(x).is_integer() else x for x in args.archive_lengths
    ]
    args.argv = [os.path.relpath(os.path.abspath(__file__))] + list(argv)
    return args


def report_from(path, md):
    """Print (and write) the report of a ``--json`` file again, measuring nothing."""
    import types

    with open(path) as f:
        raw = json.load(f)
    args = types.SimpleNamespace(**raw["args"])
    if "diagnoses" in raw:  # --material held-out
        import _align_diagnose as diagnose

        parts = ("archives", "records", "diagnoses", "optimal", "notes", "machine")
        text = diagnose.heldout_report(*(raw[k] for k in parts), args)
    else:
        parts = ("pairs", "archives", "records", "optimum", "notes", "machine")
        text = report.full_report(*(raw[k] for k in parts), args)
    args.md = md
    _emit(text, args)
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--child":
        _align_measure.child_main(json.loads(argv[1]))
        return 0
    args = parse_args(argv)
    if args.report_from:
        return report_from(args.report_from, args.md)
    if args.material == "held-out":
        return main_heldout(args)
    return main_benchmark(args)


if __name__ == "__main__":
    sys.exit(main())
