#!/usr/bin/env python
"""Structural alignment (issue 22): repeats skipped or inserted, as performers do.

Each case is one rendered chorale (``_align_data``: performance A at a
constant tempo, B with a tempo curve, other instruments and noise; chroma at
43 frames/s) with a section of it, a quarter to a half of the piece, played
twice in one performance and once in the other:

- ``skipped``: the reference (A) plays the section twice, the query (B)
  once: the performer skipped the repeat;
- ``inserted``: the query plays it twice, the reference once.

Two near-optimal routes far apart (the repeat's first or second time) are
what misleads coarse-to-fine search.  Every method's path is scored under
one cost (chord, step weights 1, 1.5, 1.5: ``_align_metrics.path_cost``)
against full DTW's optimum (librosa, the full matrix); skxsim also reports
what its proof explored.  The peers optimise their own costs (synctoolbox:
its MrMsDTW weights; linmdtw: the euclidean distance of unit frames with
weights 1, 1, 1), so theirs is not expected to be 1 even where exact.  Time is the wall time of one call in this process
(the machine's load is printed with it), memory the peak traced by
tracemalloc during the call (numpy and the kernels' allocations).

Usage::

    python benchmarks/bench_alignment_structural.py                # 10 chorales
    python benchmarks/bench_alignment_structural.py --n-pieces 30 \\
        --methods skxsim synctoolbox linmdtw --md benchmarks/results_alignment_structural.md
    python benchmarks/bench_alignment_structural.py --long         # + the 60-minute pair
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _align_data as data  # noqa: E402
import _align_methods as methods  # noqa: E402
import _align_metrics as metrics  # noqa: E402
import _performances as perf  # noqa: E402
import numpy as np  # noqa: E402

PEERS = ("skxsim", "synctoolbox", "linmdtw")


def section(b: dict, a: dict, n_b: int, rng) -> tuple[tuple[int, int], tuple[int, int]]:
    """A section of the piece in A's frames and in B's frames: a quarter to a
    half of A, starting in its first half."""
    n_a = len(a["chroma"])
    length = int(n_a * rng.uniform(0.25, 0.5))
    start = int(rng.uniform(0.05, 0.45) * n_a)
    t0, t1 = start * perf.HOP / perf.SR, (start + length) * perf.HOP / perf.SR
    truth = data.true_times(b, a, np.arange(n_b))
    inside = np.flatnonzero((truth >= t0) & (truth < t1))
    return (start, start + length), (int(inside[0]), int(inside[-1]) + 1)


def repeated(X: np.ndarray, span: tuple[int, int]) -> np.ndarray:
    """``X`` with ``X[span]`` played twice."""
    s0, s1 = span
    return np.vstack([X[:s1], X[s0:s1], X[s1:]])


def cases(n_pieces: int, seed: int):
    names = [data.piece(i) for i in range(n_pieces)]
    got = perf.performances([(n, v) for n in names for v in "ab"], seed)
    rng = np.random.default_rng(seed)
    for name in names:
        a, b = got[(name, "a")], got[(name, "b")]
        span_a, span_b = section(b, a, len(b["chroma"]), rng)
        A, B = a["chroma"].astype(np.float64), b["chroma"].astype(np.float64)
        yield f"{name} skipped", B, repeated(A, span_a)
        yield f"{name} inserted", repeated(B, span_b), A


def optimum(query, reference) -> float:
    import librosa

    C = metrics.chord_matrix(query, reference)
    D = librosa.sequence.dtw(
        C=C, weights_mul=np.array(metrics.COST_WEIGHTS), backtrack=False
    )
    return float(D[-1, -1])


def measured(call):
    tracemalloc.start()
    start = time.perf_counter()
    out = call()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, seconds, peak


def run_skxsim(query, reference):
    import skxsim

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return skxsim.align(query, reference, return_info=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-pieces", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", nargs="+", default=list(PEERS), choices=PEERS)
    parser.add_argument(
        "--long", action="store_true", help="also the 60-minute chorale pair"
    )
    parser.add_argument("--md", metavar="PATH", help="also write the report here")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    lines = [
        "# Structural alignment: repeats skipped or inserted (issue 22)",
        "",
        f"`{' '.join(['python', *sys.argv])}`; load average at the start "
        f"{load[0]:.2f}, {os.cpu_count()} CPUs.",
        "",
        "| case | n x n_ref | method | cost / optimum | explored / (n n_ref) "
        "| proven | s | peak MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ratios: dict[str, list[float]] = {m: [] for m in args.methods}
    # One warm-up call per method (imports, first-call set-up) off the clock.
    rng = np.random.default_rng(0)
    warm_q, warm_r = rng.random((300, 12)), rng.random((320, 12))
    for method in args.methods:
        run_skxsim(warm_q, warm_r) if method == "skxsim" else methods.aligner(method)(
            warm_q, warm_r
        )
    for label, query, reference in cases(args.n_pieces, args.seed):
        best = optimum(query, reference)
        for method in args.methods:
            explored, proven = "", ""
            if method == "skxsim":
                (path, _, info), seconds, peak = measured(
                    lambda q=query, r=reference: run_skxsim(q, r)
                )
                explored = f"{info['explored_cells'] / info['cells']:.3f}"
                proven = "yes" if info["optimal"] else f"gap {info['gap']:.3g}"
            else:
                run = methods.aligner(method)
                try:
                    path, seconds, peak = measured(
                        lambda q=query, r=reference, run=run: run(q, r)
                    )
                except Exception as exc:  # a peer's failure is a result too
                    tracemalloc.stop()
                    lines.append(
                        f"| {label} | {len(query)} x {len(reference)} | {method} "
                        f"| failed: {type(exc).__name__}: {str(exc)[:60]} |||||"
                    )
                    print(lines[-1], flush=True)
                    continue
            path = np.asarray(path).astype(np.int64)
            ratio = metrics.path_cost(path, query, reference) / best
            ratios[method].append(ratio)
            lines.append(
                f"| {label} | {len(query)} x {len(reference)} | {method} | "
                f"{ratio:.6f} | {explored} | {proven} | {seconds:.2f} | {peak:.0f} |"
            )
            print(lines[-1], flush=True)
    lines += ["", "| method | cases | at the optimum (1e-9) | worst cost / optimum |"]
    lines.append("|---|---|---|---|")
    for method, values in ratios.items():
        values = np.array(values)
        if not values.size:
            continue
        lines.append(
            f"| {method} | {len(values)} | {int(np.sum(values <= 1 + 1e-9))} | "
            f"{values.max():.4f} |"
        )
    if args.long:
        lines += ["", long_pair(args.seed)]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.md:
        with open(args.md, "w") as f:
            f.write(text)
    return 0


def long_pair(seed: int) -> str:
    """The 60-minute chorale pair with the default budget: time, memory, proof."""
    (pair,) = data.pairs([60], seed)
    with np.load(pair["path"]) as arrays:
        query, reference = arrays["query"], arrays["reference"]
    (_, cost, info), seconds, peak = measured(lambda: run_skxsim(query, reference))
    return (
        f"60-minute pair ({len(query)} x {len(reference)} frames), default budget: "
        f"{seconds:.2f} s, peak {peak:.0f} MB traced, optimal={info['optimal']}, "
        f"gap={info['gap']:.3g}, explored {info['explored_cells']} cells "
        f"(load average {os.getloadavg()[0]:.2f})."
    )


if __name__ == "__main__":
    sys.exit(main())
