#!/usr/bin/env python
"""What the ``memory=`` index cache saves: build vs verified reload, per backend.

For each backend, on one reference (by default 200000 frames of 12
features, a chroma catalogue's shape: a smooth random walk), this measures
in one process:

* build: ``CrossSimilarity(algorithm=...).fit(R)`` without a cache;
* reload: the same fit with ``memory=`` once the index is stored (the key's
  hash, joblib's lookup and load, the checksum), min of ``--repeats``;

and prints a markdown table with build / reload (issue 25: at least 2 for
every cached backend; the backends skxsim does not cache build at the cost
of a build either way).  The approximate backends run when installed.

Usage::

    python benchmarks/bench_cache.py
    python benchmarks/bench_cache.py --n 100000 --d 20 --md results_cache.md
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _cases  # noqa: E402
import _machine  # noqa: E402

BACKENDS = {
    "brute": None,  # the BLAS engine for euclidean
    "ckd_tree": None,
    "kd_tree": None,
    "ball_tree": None,
    "hnsw": "hnswlib",
    "nndescent": "pynndescent",
}
RELOAD_MIN = 2.0  # build / reload, for the cached backends


def best_of(call, repeats):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - t0)
    return best


def measure(algorithm, R, repeats):
    skxsim = _cases.import_skxsim()
    from skxsim._neighbors._cache import UNCACHED

    location = tempfile.mkdtemp(prefix="skxsim-cache-")
    try:

        def fit(memory=None):
            return skxsim.CrossSimilarity(k=10, algorithm=algorithm, memory=memory).fit(
                R
            )

        build = best_of(fit, repeats)
        fit(location)  # stores it
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a rebuild would warn
            reload = best_of(lambda: fit(location), repeats)
        resolved = fit()._fit_method
        size = sum(
            os.path.getsize(os.path.join(root, f))
            for root, _, files in os.walk(location)
            for f in files
        )
        return {
            "algorithm": algorithm,
            "index": resolved,
            "cached": resolved not in UNCACHED,
            "build_s": build,
            "reload_s": reload,
            "stored_mb": size / 2**20,
        }
    finally:
        shutil.rmtree(location, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200000, help="reference frames")
    parser.add_argument("--d", type=int, default=12, help="features")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backends", nargs="*", default=list(BACKENDS))
    parser.add_argument("--md", help="also write the report to this file")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    R = np.cumsum(rng.standard_normal((args.n, args.d)), axis=0)
    machine = _machine.info()
    rows = []
    for algorithm in args.backends:
        library = BACKENDS.get(algorithm)
        if library and importlib.util.find_spec(library) is None:
            print(f"{algorithm}: not run, {library} is not installed", file=sys.stderr)
            continue
        r = measure(algorithm, R, args.repeats)
        rows.append(r)
        print(
            f"{algorithm}: build {r['build_s']:.3f} s, reload {r['reload_s']:.3f} s",
            file=sys.stderr,
            flush=True,
        )
    lines = [
        f"# memory= cache: build vs reload ({args.n} x {args.d} float64 frames)",
        "",
        f"skxsim at {machine['commit']}; load average {_machine.load_avg()}; "
        f"min of {args.repeats} runs, wall seconds.  Command: `python "
        f"benchmarks/bench_cache.py {' '.join(argv or sys.argv[1:])}`".rstrip(),
        "",
        "| algorithm | index | cached | build s | reload s | build / reload | stored MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        q = r["build_s"] / r["reload_s"]
        verdict = "" if not r["cached"] else (" ok" if q >= RELOAD_MIN else " MISS")
        lines.append(
            f"| {r['algorithm']} | {r['index']} | {'yes' if r['cached'] else 'no'} "
            f"| {r['build_s']:.3f} | {r['reload_s']:.3f} | {q:.2f}{verdict} "
            f"| {r['stored_mb']:.0f} |"
        )
    report = "\n".join(lines) + "\n"
    print(report)
    if args.md:
        with open(args.md, "w") as f:
            f.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
