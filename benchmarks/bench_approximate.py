#!/usr/bin/env python
"""Approximate neighbour backends against skxsim's exact engine.

On clustered float32 data (default n_ref = 200000 reference frames, n = 5000
query frames, d = 32 features, k = 10 and 100), this script fits
``CrossSimilarity(algorithm=...)`` for the exact engine (``"brute"``, which
runs the blocked BLAS search for the euclidean metric) and for each installed
approximate backend (``"hnsw"``, ``"nndescent"``), and reports

* build: the time of ``fit`` (index construction);
* query: the median time (of ``--repeat`` runs) of ``transform`` of the n
  query frames (connectivity CSR);
* speed-up: exact query time / backend query time;
* recall@k: the fraction of the exact k nearest reference frames of each query
  frame that the backend returns, averaged over query frames.

Every backend is timed in the same process, one after the other, with the
estimator's default ``n_jobs`` (joblib's: one search thread; the exact
engine's matrix product still uses every BLAS thread) unless ``--n-jobs`` is
given.  The first ``nndescent`` build of a process includes numba's
compilation (tens of seconds); it is reported separately as ``warm-up``.

Usage::

    python benchmarks/bench_approximate.py                          # full table
    python benchmarks/bench_approximate.py --n-ref 20000 --n 1000   # quick run
    python benchmarks/bench_approximate.py --md benchmarks/results_approximate.md
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from skxsim import CrossSimilarity  # noqa: E402

LIBRARY = {"hnsw": "hnswlib", "nndescent": "pynndescent"}


def clustered(n_ref, n, d, n_clusters, spread, seed):
    """Reference and query frames drawn around the same cluster centres."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, d)).astype(np.float32)

    def draw(size):
        labels = rng.integers(0, n_clusters, size)
        noise = rng.standard_normal((size, d)).astype(np.float32)
        return centres[labels] + np.float32(spread) * noise

    return draw(n_ref), draw(n)


def recall(approx, exact):
    """Mean fraction of each row's exact neighbours found (CSR, k per row)."""
    n_ref = exact.shape[1]
    rows = np.repeat(np.arange(exact.shape[0], dtype=np.int64), np.diff(exact.indptr))
    keys = rows * n_ref + exact.indices
    rows_a = np.repeat(np.arange(approx.shape[0], dtype=np.int64), np.diff(approx.indptr))
    found = np.intersect1d(keys, rows_a * n_ref + approx.indices, assume_unique=True)
    return found.size / keys.size


def timed(func, *args, repeat=1):
    """Result of ``func(*args)`` and the median wall time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = func(*args)
        times.append(time.perf_counter() - start)
    return result, float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-ref", type=int, default=200_000)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--k", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=0.3)
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3, help="query timings")
    parser.add_argument("--backends", nargs="+", default=list(LIBRARY))
    parser.add_argument(
        "--params",
        action="append",
        default=[],
        metavar="BACKEND:KEY=VALUE",
        help="extra algorithm_params, e.g. hnsw:ef=32 (repeatable)",
    )
    parser.add_argument("--md", help="also write the markdown report here")
    args = parser.parse_args(argv)

    extra = {name: {} for name in LIBRARY}
    for item in args.params:
        backend, assignment = item.split(":", 1)
        key, value = assignment.split("=", 1)
        extra[backend][key] = float(value) if "." in value else int(value)
    backends = [b for b in args.backends if importlib.util.find_spec(LIBRARY[b])]

    reference, query = clustered(
        args.n_ref, args.n, args.d, args.clusters, args.spread, seed=0
    )
    lines = [
        "# Approximate backends against the exact engine",
        "",
        f"n_ref = {args.n_ref}, n = {args.n}, d = {args.d}, float32, "
        f"{args.clusters} Gaussian clusters (spread {args.spread}), "
        f"euclidean, connectivity, n_jobs = {args.n_jobs}.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}.",
        f"Command: `python benchmarks/bench_approximate.py "
        f"{' '.join(argv if argv is not None else sys.argv[1:])}`".rstrip() + "",
        "",
    ]
    if "nndescent" in backends:
        # numba compiles pynndescent on its first build in a process.
        warm = reference[:20000]
        _, seconds = timed(CrossSimilarity(k=5, algorithm="nndescent").fit, warm)
        lines += [f"warm-up (nndescent compilation): {seconds:.1f} s", ""]

    lines += [
        "| k | backend | algorithm_params | build (s) | query (s) "
        "| speed-up | recall@k |",
        "|---:|---|---|---:|---:|---:|---:|",
    ]
    print("\n".join(lines), flush=True)
    for k in args.k:
        common = dict(k=k, n_jobs=args.n_jobs)
        exact = CrossSimilarity(algorithm="brute", **common)
        _, build = timed(exact.fit, reference)
        truth, query_time = timed(exact.transform, query, repeat=args.repeat)
        row = f"| {k} | exact | | {build:.2f} | {query_time:.2f} | 1.0 | 1.000 |"
        print(row, flush=True)
        lines.append(row)
        for backend in backends:
            params = extra[backend]
            est = CrossSimilarity(algorithm=backend, algorithm_params=params, **common)
            _, build = timed(est.fit, reference)
            graph, seconds = timed(est.transform, query, repeat=args.repeat)
            shown = ", ".join(f"{key}={v}" for key, v in params.items()) or "defaults"
            row = (
                f"| {k} | {backend} | {shown} | {build:.2f} | {seconds:.2f} "
                f"| {query_time / seconds:.1f} | {recall(graph, truth):.3f} |"
            )
            print(row, flush=True)
            lines.append(row)
    if args.md:
        with open(args.md, "w") as fh:
            fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
