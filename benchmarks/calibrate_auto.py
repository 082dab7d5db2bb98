"""Calibrate the cost model behind ``algorithm="auto"`` (``skxsim._neighbors._auto``).

On the benchmark's own data (librosa features of synthetic songs, see
``_features``), on one thread, measured in CPU time (less sensitive to other
processes than wall time):

- the BLAS engine's cost per query frame, fitted as
  ``n_ref * (a + b * d) + c * k`` (``BLAS_NS``);
- a KD-tree's cost per distance evaluation, fitted as ``c + e * d``
  (``TREE_NS_PER_CALL``), with the evaluations counted by the tree on the
  real queries;
- how far the model's probe (reference frames as queries) under-counts the
  evaluations of real queries, which ``TREE_SAFETY`` must cover.

Run from the repository root; it prints the constants to put in
``skxsim/_backends.py``::

    python benchmarks/calibrate_auto.py
    python benchmarks/calibrate_auto.py --cases chroma-8000 chroma-catalogue
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]

import _cases  # noqa: E402
import _features  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import skxsim._neighbors._auto as backends  # noqa: E402
from skxsim._neighbors import kneighbors  # noqa: E402

DEFAULT_CASES = [
    "chroma-2000",
    "chroma-8000",
    "mfcc-8000",
    "cqt-8000",
    "chroma-catalogue",
]


def frames(spec, n_max=None):
    (path,) = _features.path_for([spec])
    X = np.ascontiguousarray(np.load(path).T)
    return X if n_max is None else X[:n_max]


def cpu_seconds(func, repeats=3):
    func()
    best = np.inf
    for _ in range(repeats):
        start = time.process_time()
        func()
        best = min(best, time.process_time() - start)
    return best


def measure(case, n_queries):
    R = frames(case.reference)
    X = frames(case.query, n_queries)
    k = case.k_
    row = {"case": case.name, "d": R.shape[1], "n_ref": len(R), "k": k}
    blas = backends.build_index(R, "euclidean", {}, "blas")
    seconds = cpu_seconds(lambda: kneighbors(blas, X, k, n_jobs=1, values=False))
    row["blas_ns_per_pair"] = 1e9 * seconds / (len(X) * len(R))
    tree = backends.build_index(R, "euclidean", {}, "kd_tree")
    seconds = cpu_seconds(lambda: kneighbors(tree, X, k, n_jobs=1, values=False))
    tree.tree_.reset_n_calls()
    tree.tree_.query(tree._points(X), k=min(len(R), k + 1))
    calls = tree.tree_.get_n_calls() / len(X)
    row["tree_ns_per_call"] = 1e9 * seconds / (len(X) * calls)
    row["tree_calls_per_query"] = calls
    row["probe_undercount"] = calls / backends.probe_calls(tree, k)
    row["blas_s"] = row["blas_ns_per_pair"] * len(R) * 1e-9
    row["tree_s"] = seconds / len(X)
    return row


def fit_line(d, y):
    A = np.column_stack([np.ones(len(d)), d])
    (a, b), *_ = np.linalg.lstsq(A, np.asarray(y, dtype=float), rcond=None)
    return max(a, 0.0), max(b, 0.0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=DEFAULT_CASES)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args(argv)
    cases = _cases.all_cases()
    rows = []
    with threadpool_limits(1):
        for name in args.cases:
            row = measure(cases[name], args.queries)
            rows.append(row)
            print(
                f"{name:>18}: d={row['d']:<4} k={row['k']:<4} "
                f"BLAS {row['blas_ns_per_pair']:.2f} ns/pair, "
                f"tree {row['tree_ns_per_call']:.0f} ns/call x "
                f"{row['tree_calls_per_query']:.0f} calls/query "
                f"(probe under-counts x{row['probe_undercount']:.2f}); "
                f"per query: BLAS {1e6 * row['blas_s']:.0f} us, "
                f"tree {1e6 * row['tree_s']:.0f} us",
                flush=True,
            )
    d = [r["d"] for r in rows]
    A = np.array([[r["n_ref"], r["n_ref"] * r["d"], r["k"]] for r in rows], float)
    per_query = np.array([1e9 * r["blas_s"] for r in rows])
    # Relative least squares: every case counts, whatever its size.
    blas, *_ = np.linalg.lstsq(A / per_query[:, None], np.ones(len(rows)), rcond=None)
    tree = fit_line(d, [r["tree_ns_per_call"] for r in rows])
    undercount = max(r["probe_undercount"] for r in rows)
    print()
    print(f"BLAS_NS = ({blas[0]:.2f}, {blas[1]:.4f}, {blas[2]:.1f})")
    print(f"TREE_NS_PER_CALL = ({tree[0]:.1f}, {tree[1]:.2f})")
    print(f"TREE_SAFETY >= {undercount:.2f}  (the probe's worst under-count)")


if __name__ == "__main__":
    main()
