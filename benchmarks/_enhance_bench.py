#!/usr/bin/env python
"""Path enhancement: ``skxsim.path_enhance`` against librosa's, side by side.

The matrices: a random walk of ``n`` frames (d = 12, seeded) against itself
(self: ``recurrence_matrix(X, mode="affinity", sym=True, self=True)``,
the input of librosa's Laplacian segmentation recipe; symmetric) and against a time-warped noisy
copy (cross: ``cross_similarity(Y, X, mode="affinity")``), each dense
(float64 ndarray) and sparse (what ``sparse=True`` gives), and the cross
affinity of every pair (full: ``full=True``, dense).  The k-NN matrices are
mostly zeros at 8000 frames (k = 180), and a tile whose whole neighbourhood
is zero costs skxsim nothing; the full matrix has no such tile.  Every case runs
in a fresh subprocess that builds its matrix, resets its RSS high-water
mark, and calls ``path_enhance(R, 51)`` (librosa's defaults otherwise:
hann, 7 filters, ratios 1/2..2):

* ``skxsim``: the computation of ``path_enhance(R, 51)`` with its FFTs on
  one thread, and with the drop-in's default (the cores this process may
  use);
* ``librosa``: ``librosa.segment.path_enhance``, which takes no sparse
  input, so a sparse case densifies first (counted).

Reported per case: CPU seconds (``time.process_time``, min of ``--repeats``
runs; librosa once), wall seconds, peak RSS above the baseline and the
tracemalloc peak of one call, both against the output's size (values are
compared with librosa's in tests/test_path_enhance.py).  librosa at
8000 frames takes minutes a case: it runs there only with
``--librosa-large``; otherwise its time is estimated from the 2000-frame run
(the work is proportional to the number of cells, so x16) and marked so.

Usage::

    python benchmarks/_enhance_bench.py                       # 2000 and 8000
    python benchmarks/_enhance_bench.py --frames 2000 --md out.md
    python benchmarks/_enhance_bench.py --librosa-large       # librosa at 8000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
WIDTH = 51


def _matrix(n: int, face: str, sparse: bool):
    import skxsim

    rng = np.random.default_rng(0)
    X = np.cumsum(rng.standard_normal((12, n)), axis=1)
    if face == "self":
        return skxsim.recurrence_matrix(
            X, mode="affinity", sym=True, self=True, sparse=sparse
        )
    warp = np.clip(np.round(np.linspace(0, n - 1, n) ** 1.05 / n**0.05), 0, n - 1)
    Y = X[:, warp.astype(int)] + 0.3 * rng.standard_normal((12, n))
    # "full": every pair's affinity, no empty tile for the FFTs to skip
    full = face == "full"
    return skxsim.cross_similarity(Y, X, mode="affinity", sparse=sparse, full=full)


def _child(spec: dict) -> dict:
    sys.path.insert(0, HERE)
    from _measure import current_rss, peak_rss, reset_peak_rss

    R = _matrix(spec["n"], spec["face"], spec["sparse"])
    if spec["method"] == "librosa":
        import librosa

        def call():
            dense = R.toarray() if spec["sparse"] else R
            return librosa.segment.path_enhance(dense, WIDTH)

        repeats = 1
    else:
        from skxsim._structure._enhance import enhance
        from skxsim._structure._kernels import diagonal_kernels

        kernels = diagonal_kernels("hann", WIDTH, 2.0, None, 7, False)
        n_jobs = spec["n_jobs"]

        def call():  # path_enhance(R, 51) with its thread count pinned
            return enhance(R, kernels, {}, True, n_jobs=n_jobs)

        repeats = spec["repeats"]
    base = current_rss()
    reset_peak_rss()
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        out = call()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        del out
    rss = peak_rss() - base
    tracemalloc.start()
    out = call()
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    result = {
        "cpu": min(cpu),
        "wall": min(wall),
        "rss": rss,
        "traced": traced,
        "output": int(out.nbytes),
    }
    if spec.get("save"):
        np.save(spec["save"], out)
    return result


def _run(spec: dict) -> dict:
    code = (
        f"import json, sys; sys.path.insert(0, {HERE!r}); import _enhance_bench as b; "
        "print(json.dumps(b._child(json.loads(sys.argv[1]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cases(frames, librosa_large: bool, repeats: int):
    for n in frames:
        for face in ("self", "cross", "full"):
            for sparse in (False, True) if face != "full" else (False,):
                for n_jobs in (1, None):
                    yield dict(
                        method="skxsim",
                        n=n,
                        face=face,
                        sparse=sparse,
                        n_jobs=n_jobs,
                        repeats=repeats,
                    )
                if n <= 2000 or librosa_large:
                    yield dict(method="librosa", n=n, face=face, sparse=sparse)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[2000, 8000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--librosa-large", action="store_true")
    parser.add_argument("--md", help="write the table to this Markdown file")
    args = parser.parse_args(argv)
    sys.path.insert(0, HERE)
    from _machine import load_avg

    rows, librosa_cpu = [], {}
    for spec in _cases(args.frames, args.librosa_large, args.repeats):
        load = load_avg()
        result = _run(spec)
        key = (spec["face"], spec["sparse"])
        label = spec["method"]
        if spec["method"] == "skxsim":
            label += " 1 thread" if spec["n_jobs"] == 1 else " default threads"
        elif "cpu" in result:
            librosa_cpu.setdefault(key, {})[spec["n"]] = result["cpu"]
        rows.append((spec, label, result, load))
        print(spec["n"], spec["face"], spec["sparse"], label, result, load, flush=True)

    lines = [
        "| frames | matrix | input | method | CPU s | wall s | librosa CPU / "
        "this CPU | peak RSS / output | traced / output | load (1, 5, 15 min) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for spec, label, result, load in rows:
        if "error" in result:
            lines.append(
                f"| {spec['n']} | {spec['face']} | | {label} | "
                f"error: {result['error']} | | | | | {load} |"
            )
            continue
        known = librosa_cpu.get((spec["face"], spec["sparse"]), {})
        if spec["n"] in known:
            ref, mark = known[spec["n"]], ""
        elif 2000 in known:
            ref, mark = known[2000] * (spec["n"] / 2000) ** 2, " (librosa estimated)"
        else:
            ref, mark = None, ""
        ratio = f"{ref / result['cpu']:.1f}{mark}" if ref else ""
        kind = "sparse" if spec["sparse"] else "dense"
        lines.append(
            f"| {spec['n']} | {spec['face']} | {kind} | {label} | "
            f"{result['cpu']:.2f} | {result['wall']:.2f} | {ratio} | "
            f"{result['rss'] / result['output']:.2f} | "
            f"{result['traced'] / result['output']:.2f} | {load} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.md:
        with open(args.md, "w") as f:
            f.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
