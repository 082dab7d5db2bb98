#!/usr/bin/env python
"""Side-by-side benchmark of k-NN cross-similarity on the shapes users have.

For every case of the matrix (chroma, MFCC, log-CQT and embeddings of
synthetic songs and their covers, a chroma catalogue, and issue 3's random
walk; see ``_cases.py``), this script measures, in ONE run and each in a fresh
subprocess, with default parameters:

* the floor: the dense product ``X @ R.T`` in the same dtype;
* skxsim's estimator ``CrossSimilarity(k=k).fit(R).transform(X)`` (and the
  same with ``n_jobs=1``);
* skxsim's drop-in ``skxsim.cross_similarity(Xf, Rf, k=k)``;
* skxsim's exact backends forced one by one (the BLAS engine,
  ``algorithm="ckd_tree"`` where d <= 32), against which ``"auto"``'s choice
  is checked;
* scikit-learn ``NearestNeighbors(n_neighbors=k).fit(R).kneighbors_graph(X)``;
* faiss-cpu ``IndexFlatL2`` (float32), when installed;
* SciPy ``cKDTree(R).query(X, k, workers=-1)`` where d <= 32;
* librosa ``librosa.segment.cross_similarity(Xf, Rf, k=k)``, when installed
  and its estimated time is below ``--librosa-max``;

and prints a markdown report: median times, ratios, issue 8's targets (MISS
where one is missed), peak memory, and whether each method's neighbours are
exact (checked against an independent float64 oracle).  See
``benchmarks/README.md``.

Usage::

    python benchmarks/bench_cross_similarity.py                      # full matrix
    python benchmarks/bench_cross_similarity.py --quick              # smoke run
    python benchmarks/bench_cross_similarity.py --cases chroma-8000 mfcc-8000
    python benchmarks/bench_cross_similarity.py --md out.md --json out.json \\
        --update-readme README.md
    python benchmarks/bench_cross_similarity.py --profile chroma-8000
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _cases  # noqa: E402
import _features  # noqa: E402
import _machine  # noqa: E402
import _measure  # noqa: E402
import _oracle  # noqa: E402
import _report  # noqa: E402

try:
    import resource
except ImportError:  # Windows: no CPU accounting
    resource = None

# librosa's time beyond scikit-learn's search: its per-query-row LIL loop.
# Measured here about 2-3e-4 s per row; updated from every librosa run.
LIBROSA_ROW_S = 3e-4


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


def run_case(case, method, paths, args, edges_dir):
    spec = {
        "case": case.name,
        "method": method,
        "x_path": paths[0],
        "r_path": paths[1],
        "k": case.k_,
        "dtype": None if args.dtype == "native" else args.dtype,
        "layout": args.layout,
        "repeats": args.repeats,
        "min_time": args.min_time,
        "single_above": args.single_above,
        # tracemalloc slows librosa's Python row loop about 5x: RSS only there
        "trace": method != "librosa",
        "edges_path": os.path.join(edges_dir, f"{case.name}-{method}.npz"),
    }
    env = dict(os.environ)
    env.pop("LIBROSA_CACHE_DIR", None)  # librosa would memoise the repeats
    cmd = [sys.executable, os.path.abspath(__file__), "--child", json.dumps(spec)]
    t0 = time.perf_counter()
    busy0 = _machine.busy_cpu_seconds()
    ours0 = resource.getrusage(resource.RUSAGE_CHILDREN) if resource else None
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=env, timeout=args.timeout
        )
    except subprocess.TimeoutExpired:
        return {
            "case": case.name,
            "method": method,
            "error": f"timeout after {args.timeout:g} s",
        }
    wall = time.perf_counter() - t0
    busy1 = _machine.busy_cpu_seconds()
    ours1 = resource.getrusage(resource.RUSAGE_CHILDREN) if resource else None
    for line in proc.stdout.splitlines():
        if line.startswith(_measure.RESULT_MARKER):
            result = json.loads(line[len(_measure.RESULT_MARKER) :])
            result["subprocess_s"] = wall
            if None not in (busy0, busy1, ours0, ours1):
                ours = ours1.ru_utime + ours1.ru_stime - ours0.ru_utime - ours0.ru_stime
                other = max(0.0, busy1 - busy0 - ours)
                result["other_cpu_pct"] = 100 * other / (wall * (os.cpu_count() or 1))
            return result
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return {
        "case": case.name,
        "method": method,
        "error": f"exit {proc.returncode}: " + " | ".join(tail),
    }


def librosa_estimate(case, records):
    """Seconds one librosa call is expected to take on this case."""
    sk = next(
        (
            r
            for r in records
            if r["case"] == case.name and r["method"] == "sklearn" and "error" not in r
        ),
        None,
    )
    search = sk["total_s"] if sk else 1e-9 * case.n * case.n_ref * case.d
    return search + LIBROSA_ROW_S * case.n


def select_cases(args):
    scale = 0.25 if args.quick else 1.0
    cases = _cases.all_cases(scale=scale, seed=args.seed)
    if args.dtype != "native":
        cases = {name: replace(c, dtype=args.dtype) for name, c in cases.items()}
    if not args.cases:
        return list(cases.values())
    chosen = []
    for pattern in args.cases:
        names = fnmatch.filter(cases, pattern)
        if not names:
            sys.exit(f"error: no case matches {pattern!r}; cases: {', '.join(cases)}")
        chosen += [cases[n] for n in names if cases[n] not in chosen]
    return [c for c in cases.values() if c in chosen]  # matrix order


def prepare(cases, args):
    """Cached dataset paths per case (computing what is missing)."""
    t0 = time.perf_counter()
    specs = [spec for case in cases for spec in (case.query, case.reference)]
    paths = _features.path_for(specs, progress=progress)
    if time.perf_counter() - t0 > 1:
        progress(
            f"data ready in {time.perf_counter() - t0:.0f} s (cached in {_features.CACHE_DIR})"
        )
    return {case.name: (paths[2 * i], paths[2 * i + 1]) for i, case in enumerate(cases)}


def main_benchmark(args):
    t_start = time.perf_counter()
    cases = select_cases(args)
    machine = _machine.info()
    notes = {"general": []}
    methods = [m for m in _cases.METHODS if m in (args.methods or _cases.METHODS)]
    for method in ("faiss", "librosa"):
        if method in methods and importlib.util.find_spec(method) is None:
            methods.remove(method)
            notes["general"].append(f"{method} not run: it is not installed")
    if any(m.startswith("skxsim") for m in methods) and machine["versions"][
        "skxsim"
    ].startswith("not importable"):
        sys.exit(f"error: skxsim is {machine['versions']['skxsim']}")
    paths = prepare(cases, args)

    global LIBROSA_ROW_S
    records = []
    edges_dir = tempfile.mkdtemp(prefix="skxsim-bench-")
    try:
        for case in cases:
            x_path, r_path = paths[case.name]
            for method in methods:
                if not _cases.runs_on(method, case):
                    notes[(case.name, method)] = f"not run: d > {_cases.LOW_D}"
                    continue
                if method == "librosa":
                    est = librosa_estimate(case, records)
                    if est > args.librosa_max:
                        notes[(case.name, method)] = (
                            f"skipped: estimated {est:.0f} s per call > --librosa-max "
                            f"{args.librosa_max:g}"
                        )
                        progress(
                            f"{case.name} {method}: skipped (estimated {est:.0f} s)"
                        )
                        continue
                progress(
                    f"{case.name} (n={case.n}, n_ref={case.n_ref}, d={case.d}, k={case.k_}) {method} ..."
                )
                r = run_case(case, method, paths[case.name], args, edges_dir)
                records.append(r)
                if "error" in r:
                    progress(f"    error: {r['error']}")
                    continue
                if method == "librosa":
                    sk = librosa_estimate(case, records) - LIBROSA_ROW_S * case.n
                    LIBROSA_ROW_S = max(1e-5, (r["total_s"] - sk) / case.n)
                progress(
                    f"    {_report.fmt(r['total_s'])} s (fit {_report.fmt(r['fit_s'])}, query "
                    f"{_report.fmt(r['query_s'])}; {r['runs']} runs), RSS above inputs "
                    f"{r['rss_above_mb']:.0f} MB, traced {_report.fmt(r.get('traced_mb'))} MB"
                )
            if not args.no_check:
                check_case(case, x_path, r_path, records, args)
        machine["load_avg_end"] = _machine.load_avg()
        machine["run_s"] = time.perf_counter() - t_start
        other = [
            r["other_cpu_pct"] for r in records if r.get("other_cpu_pct") is not None
        ]
        if other:  # weighted by how long each measurement ran
            weights = [
                r["subprocess_s"] for r in records if r.get("other_cpu_pct") is not None
            ]
            mean = sum(o * w for o, w in zip(other, weights, strict=True)) / sum(
                weights
            )
            machine["other_cpu_mean"], machine["other_cpu_max"] = mean, max(other)
    finally:
        shutil.rmtree(edges_dir, ignore_errors=True)

    res = _report.Results(records, notes)
    report = _report.full_report(cases, res, machine, args)
    print(report)
    if args.md:
        with open(args.md, "w") as f:
            f.write(report)
    if args.update_readme:
        with open(args.update_readme) as f:
            text = f.read()
        block = _report.readme_block(cases, res, machine, args)
        with open(args.update_readme, "w") as f:
            f.write(_report.replace_block(text, block))
        progress(f"updated the benchmark block of {args.update_readme}")
    if args.json:
        payload = {
            "machine": machine,
            "args": {k: v for k, v in vars(args).items()},
            "cases": {
                c.name: {
                    "query": c.query,
                    "reference": c.reference,
                    "d": c.d,
                    "k": c.k_,
                    "dtype": c.dtype,
                }
                for c in cases
            },
            "results": [
                {k: v for k, v in r.items() if k != "edges_path"} for r in records
            ],
            "notes": {
                ("general" if key == "general" else "/".join(key)): v
                for key, v in notes.items()
            },
            "targets_missed": _report.misses(cases, res, machine),
        }
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=2)
    progress(f"total {time.perf_counter() - t_start:.0f} s")
    return 0


def check_case(case, x_path, r_path, records, args):
    """Compare every method's neighbours of this case with the oracle."""
    mine = [
        r
        for r in records
        if r["case"] == case.name and "error" not in r and r.get("edges_path")
    ]
    if not mine:
        return
    import numpy as np

    t0 = time.perf_counter()
    dtype = None if args.dtype == "native" else args.dtype
    X, R, _, _ = _measure.load_frames(x_path, r_path, dtype, "native")
    truth = _oracle.oracle(X, R, case.k_, x_path, r_path)
    for r in mine:
        edges = np.load(r["edges_path"])
        r["check"] = _oracle.check(X, R, truth, edges["counts"], edges["cols"])
    if time.perf_counter() - t0 > 2:
        progress(f"    exactness checked in {time.perf_counter() - t0:.0f} s")


# --------------------------------------------------------------------------
# profile mode
# --------------------------------------------------------------------------


class AllThreadsProfile:
    """cProfile of the calling thread and of every thread started meanwhile.

    A worker thread (skxsim's blocks run on threads) is invisible to a plain
    ``cProfile``; ``threading.setprofile`` hands each new thread a hook that
    swaps in a profiler of its own at its first event.  The statistics are
    merged, so cumulative times of worker functions add up over threads and
    can exceed the wall time.
    """

    def __init__(self):
        import threading

        self._lock = threading.Lock()
        self.thread_profiles = []

    def _hook(self, *_):
        import cProfile

        prof = cProfile.Profile()
        with self._lock:
            self.thread_profiles.append(prof)
        prof.enable()

    def __enter__(self):
        import cProfile
        import threading

        self.main = cProfile.Profile()
        threading.setprofile(self._hook)
        self.main.enable()
        return self

    def __exit__(self, *exc):
        import threading

        self.main.disable()
        threading.setprofile(None)

    def stats(self, stream):
        import pstats

        stats = pstats.Stats(self.main, stream=stream)
        for prof in self.thread_profiles:
            stats.add(prof)
        return stats


def main_profile(args):
    cases = _cases.all_cases(scale=0.25 if args.quick else 1.0, seed=args.seed)
    if args.profile not in cases:
        sys.exit(f"error: unknown case {args.profile!r}; cases: {', '.join(cases)}")
    case = cases[args.profile]
    x_path, r_path = prepare([case], args)[case.name]
    dtype = None if args.dtype == "native" else args.dtype
    X, R, Xf, Rf = _measure.load_frames(x_path, r_path, dtype, args.layout)
    skxsim = _cases.import_skxsim()
    k = case.k_
    params = {} if args.profile_n_jobs is None else {"n_jobs": args.profile_n_jobs}
    faces = {
        "estimator": lambda: skxsim.CrossSimilarity(k=k, **params).fit(R).transform(X),
        "function": lambda: skxsim.cross_similarity(Xf, Rf, k=k),
    }
    chosen = list(faces) if args.profile_face == "both" else [args.profile_face]
    machine = _machine.info()
    print(f"# profile of {case.name}: {case.what}")
    print(
        f"n = {case.n}, n_ref = {case.n_ref}, d = {case.d}, k = {k}, dtype {X.dtype}, "
        f"layout {args.layout}, skxsim {machine['versions']['skxsim']} at {machine['commit']}"
    )
    for text in _machine.blas_summary(machine):
        print(f"threadpool: {text}")
    for face in chosen:
        call = faces[face]
        label = (
            f"CrossSimilarity(k={k}{', n_jobs=' + str(args.profile_n_jobs) if params else ''})"
            ".fit(R).transform(X)"
            if face == "estimator"
            else f"skxsim.cross_similarity(Xf, Rf, k={k})"
        )
        call()  # warm-up
        t0 = time.perf_counter()
        call()
        wall = time.perf_counter() - t0
        with AllThreadsProfile() as prof:
            t0 = time.perf_counter()
            call()
            wall_prof = time.perf_counter() - t0
        print()
        print(f"## {label}")
        print(
            f"wall {wall:.4f} s unprofiled, {wall_prof:.4f} s under cProfile; "
            f"{len(prof.thread_profiles)} worker thread(s) profiled and merged"
            + (
                " (the main thread waiting for them shows as 'acquire' of "
                "'_thread.lock' objects)"
                if prof.thread_profiles
                else ""
            )
        )
        for key, title in (
            ("cumulative", "cumulative time"),
            ("tottime", "own (total) time"),
        ):
            print(f"\n### top {args.profile_top} by {title}\n", flush=True)
            prof.stats(sys.stdout).strip_dirs().sort_stats(key).print_stats(
                args.profile_top
            )
    return 0


# --------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Side-by-side benchmark of k-NN cross-similarity (skxsim, scikit-learn, "
        "faiss, SciPy's cKDTree, librosa and the BLAS floor) on features of synthetic "
        "songs and covers.",
    )
    parser.add_argument(
        "--cases",
        nargs="+",
        metavar="CASE",
        help="cases to run (names or shell patterns, e.g. 'chroma-*'); "
        "default: all; --list shows them",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=list(_cases.METHODS),
        help="methods to run (default: all installed)",
    )
    parser.add_argument(
        "--list", action="store_true", help="list cases and methods, and exit"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="every length / 4, one timed run: a smoke run of the whole "
        "matrix in a minute or two",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed runs per measurement after the warm-up; the median "
        "is reported (default 3, --quick 1)",
    )
    parser.add_argument(
        "--min-time",
        type=float,
        default=None,
        help="fast measurements are repeated until their timed runs add "
        f"up to this many seconds, at most {_measure.MAX_RUNS} runs "
        "(default 1.0, --quick 0)",
    )
    parser.add_argument(
        "--single-above",
        type=float,
        default=10.0,
        help="a measurement whose first call takes longer than this "
        "(seconds) is reported from that single cold call (default: %(default)s)",
    )
    parser.add_argument(
        "--librosa-max",
        type=float,
        default=60.0,
        help="skip librosa where one call is estimated to take longer "
        "than this many seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="kill a measurement's subprocess after this many seconds "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--dtype",
        choices=["native", "float32", "float64"],
        default="native",
        help="dtype of the frames: native = float32 for librosa features, "
        "float64 for issue 3's walk (default: %(default)s)",
    )
    parser.add_argument(
        "--layout",
        choices=["native", "rows", "features"],
        default="native",
        help="memory layout: native = as librosa returns the features; "
        "rows = (n, d) frames C-contiguous; features = (d, n) C-contiguous "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="offset added to every data seed"
    )
    parser.add_argument(
        "--no-check",
        action="store_true",
        help="skip the exactness check against the float64 oracle",
    )
    parser.add_argument(
        "--json", metavar="PATH", help="write raw results and machine info"
    )
    parser.add_argument(
        "--md", metavar="PATH", help="also write the markdown report here"
    )
    parser.add_argument(
        "--update-readme",
        metavar="PATH",
        help="replace the text between <!-- bench:start --> and "
        "<!-- bench:end --> in this markdown file by the summary tables",
    )
    parser.add_argument(
        "--profile",
        metavar="CASE",
        help="instead of benchmarking, profile skxsim on CASE under cProfile "
        "(in-process, all threads) and print the top functions",
    )
    parser.add_argument(
        "--profile-face",
        choices=["estimator", "function", "both"],
        default="both",
        help="what --profile runs (default: %(default)s)",
    )
    parser.add_argument(
        "--profile-top",
        type=int,
        default=25,
        help="functions listed per ordering (default: %(default)s)",
    )
    parser.add_argument(
        "--profile-n-jobs",
        type=int,
        default=None,
        help="n_jobs of the profiled estimator (default: its default)",
    )
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.min_time is None:
        args.min_time = 0.0 if args.quick else 1.0
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    if args.update_readme:
        # Checked before measuring, not after ten minutes of it.
        try:
            with open(args.update_readme) as f:
                _report.replace_block(f.read(), "")
        except (OSError, ValueError) as exc:
            parser.error(f"--update-readme {args.update_readme}: {exc}")
    args.argv = [os.path.relpath(os.path.abspath(__file__))] + list(argv)
    return args


def list_cases(args):
    for case in select_cases(args):
        print(
            f"{case.name:18s} d={case.d:<4d} n={case.n:<6d} n_ref={case.n_ref:<7d} "
            f"k={case.k_:<4d} {case.dtype}  {case.what}"
        )
    print()
    for name, (_label, _lib, what) in _cases.METHODS.items():
        print(f"{name:12s} {what}")
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--child":
        _measure.child_main(json.loads(argv[1]))
        return 0
    args = parse_args(argv)
    if args.list:
        return list_cases(args)
    if args.profile:
        return main_profile(args)
    return main_benchmark(args)


if __name__ == "__main__":
    sys.exit(main())
