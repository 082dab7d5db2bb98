"""Calibrate the cost model behind ``algorithm="auto"`` (``skxsim._neighbors._auto``).

On the benchmark's own data (librosa features of synthetic songs, see
``_features``), on one thread, in CPU time (less sensitive to other processes
than wall time), for each case and several k:

- the BLAS engine's cost per query frame, fitted as
  ``n_ref * (a + b * d) + c * k`` (``BLAS_NS``);
- SciPy's cKDTree's (``algorithm="ckd_tree"``), fitted as
  ``(n_ref / 1e4) ** e * (a + b * k) * exp(g * (d - 12))`` (``TREE_NS``,
  ``TREE_EXPONENTS``), on queries from another recording than the
  reference (covers), as the benchmark's are;
- the intrinsic dimension the model's probe measures on each reference
  (``_auto.probe_dimension``), which ``TREE_MAX_DIMENSION`` must exceed.

The held-out cases (tagged in ``_cases``) are measured with ``--held-out``:
the fit leaves them out, and the report says where the model's choice is
not the faster backend, with the price of the mistake.

Run from the repository root; it prints the constants to put in
``skxsim/_neighbors/_auto.py``::

    python benchmarks/calibrate_auto.py
    python benchmarks/calibrate_auto.py --held-out
    python benchmarks/calibrate_auto.py --cases chroma-8000 --ks 10 100
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
from scipy.optimize import least_squares  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from skxsim._neighbors import _auto, kneighbors  # noqa: E402
from skxsim._neighbors._backends import build_index  # noqa: E402

DEFAULT_CASES = [
    "chroma-2000",
    "chroma-8000",
    "chroma-20000",
    "mfcc-8000",
    "chroma-catalogue",
]
DEFAULT_KS = [1, 3, 10, 30, 100]


def frames(spec, n_max=None):
    (path,) = _features.path_for([spec])
    X = np.ascontiguousarray(np.load(path).T)
    if n_max is None or len(X) <= n_max:
        return X
    return X[np.linspace(0, len(X) - 1, n_max).astype(np.intp)]


def cpu_seconds(func, repeats=3):
    func()
    best = np.inf
    for _ in range(repeats):
        start = time.process_time()
        func()
        best = min(best, time.process_time() - start)
    return best


def measure(case, ks, n_queries):
    """One row per k: the measured and predicted costs per query (ns)."""
    R = frames(case.reference)
    X = frames(case.query, n_queries)
    n_ref, d = R.shape
    blas = build_index(R, "euclidean", {}, "blas")
    tree = build_index(R, "euclidean", {}, "ckd_tree")
    dimension = _auto.probe_dimension(tree)
    rows = []
    for k in sorted(set(ks) | {case.k_}):
        if k >= n_ref:
            continue
        row = {"case": case.name, "d": d, "n_ref": n_ref, "k": k, "m": dimension}
        for name, index in (("blas", blas), ("tree", tree)):
            seconds = cpu_seconds(
                lambda index=index, k=k: kneighbors(index, X, k, n_jobs=1, values=False)
            )
            row[name] = 1e9 * seconds / len(X)
        row["model_blas"] = _auto.blas_ns(n_ref, d, k)
        row["model_tree"] = _auto.tree_ns(n_ref, d, k)
        rows.append(row)
        print(
            f"{case.name:>18}: d={d:<3} n_ref={n_ref:<7} k={k:<4} m={dimension:4.1f} "
            f"BLAS {row['blas'] / 1e3:7.1f} us (model {row['model_blas'] / 1e3:7.1f}), "
            f"ckd_tree {row['tree'] / 1e3:7.1f} us (model "
            f"{row['model_tree'] / 1e3:7.1f})",
            flush=True,
        )
    return rows


def fit_blas(rows):
    A = np.array([[r["n_ref"], r["n_ref"] * r["d"], r["k"]] for r in rows], float)
    per_query = np.array([r["blas"] for r in rows])
    # Relative least squares: every case counts, whatever its size.
    blas, *_ = np.linalg.lstsq(A / per_query[:, None], np.ones(len(rows)), rcond=None)
    return tuple(blas)


def fit_tree(rows):
    n = np.array([r["n_ref"] for r in rows], float) / 1e4
    k = np.array([r["k"] for r in rows], float)
    d = np.array([r["d"] for r in rows], float)
    y = np.log([r["tree"] for r in rows])

    def residuals(params):
        log_a, log_b, e, g = params
        base = np.exp(log_a) + np.exp(log_b) * k
        return np.log(base) + e * np.log(n) + g * (d - 12) - y

    fit = least_squares(residuals, x0=[np.log(5e3), np.log(200.0), 0.5, 0.2])
    log_a, log_b, e, g = fit.x
    worst = float(np.exp(np.max(np.abs(fit.fun))))
    return (np.exp(log_a), np.exp(log_b)), (e, g), worst


def report_choices(rows):
    """Where the model's choice is not the measured faster backend."""
    wrong = 0
    for r in rows:
        chose = (
            "tree"
            if _auto.TREE_SAFETY * r["model_tree"] < r["model_blas"]
            and r["m"] <= _auto.TREE_MAX_DIMENSION
            else "blas"
        )
        best = min(("blas", "tree"), key=lambda name: r[name])
        if chose != best:
            wrong += 1
            print(
                f"  {r['case']} k={r['k']}: the model chooses {chose}, "
                f"{r[chose] / r[best]:.2f}x the time of {best}"
            )
    print(f"  {len(rows) - wrong} of {len(rows)} choices are the faster backend")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=None)
    parser.add_argument("--ks", nargs="+", type=int, default=DEFAULT_KS)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument(
        "--held-out",
        action="store_true",
        help="measure the held-out cases and check the current model on them",
    )
    args = parser.parse_args(argv)
    cases = _cases.all_cases()
    if args.cases:
        names = args.cases
    elif args.held_out:
        names = [n for n, c in cases.items() if _cases.HELD_OUT in c.tags]
    else:
        names = DEFAULT_CASES
    rows = []
    with threadpool_limits(1):
        for name in names:
            rows += measure(cases[name], args.ks, args.queries)
    print()
    print("Choices of the current model:")
    report_choices(rows)
    if args.held_out:
        return
    blas = fit_blas(rows)
    tree, exponents, worst = fit_tree(rows)
    print()
    print(f"BLAS_NS = ({blas[0]:.3g}, {blas[1]:.3g}, {blas[2]:.3g})")
    print(f"TREE_NS = ({tree[0]:.3g}, {tree[1]:.3g})")
    print(f"TREE_EXPONENTS = ({exponents[0]:.3g}, {exponents[1]:.3g})")
    print(f"  (the tree model's worst error on these cases: x{worst:.2f})")
    print(
        "probe dimensions: "
        + ", ".join(sorted({f"{r['case']} {r['m']:.1f}" for r in rows}))
    )


if __name__ == "__main__":
    main()
