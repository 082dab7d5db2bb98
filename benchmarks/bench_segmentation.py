"""Structural segmentation benchmark: skxsim's LaplacianSegmentation against
librosa's gallery recipe and MSAF's scluster / foote, on rendered material
with known structure (``_segment_data``), plus an 8000-frame song.

    python benchmarks/bench_segmentation.py            # -> results_segmentation.md
    python benchmarks/bench_segmentation.py --quick    # 2 chorales + 1 medley a part

Two parts: ``tune`` (the material skxsim's defaults were chosen on) and
``held-out`` (other chorales, other render seeds, other medley forms).
Scores (mir_eval's definitions, ``skxsim.structure.segmentation_scores``): boundary
hit-rate F at 0.5 s and 3 s with the start and end of the piece trimmed
(they always hit), pairwise frame-clustering F.  Time: wall clock per
piece, each method in turn on the same frames.  Memory: tracemalloc peak on
the longest held-out piece.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import _machine  # noqa: E402
import _segment_data as data  # noqa: E402
import _segment_methods as methods  # noqa: E402

from skxsim import LaplacianSegmentation  # noqa: E402
from skxsim.structure import segmentation_scores  # noqa: E402

SCORES = ("boundary_f_0.5_trim", "boundary_f_3_trim", "pairwise_f")
NO_LABELS = {"msaf foote"}  # boundaries only: its pairwise F measures nothing
LONG_FRAMES = 8000


def run_method(name, item):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = methods.METHODS[name](item)
    seconds = time.perf_counter() - start
    scores = segmentation_scores(item["labels"], labels, frame_duration=data.FRAME_S)
    if name in NO_LABELS:
        scores["pairwise_f"] = float("nan")
    return scores, seconds


def peak_mb(function, *args):
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        function(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def long_song(items, n_frames=LONG_FRAMES):
    """``n_frames`` hop-level frames (0.023 s) of the held-out pieces in a row."""
    parts, total = [], 0
    while total < n_frames:
        for item in items:
            parts.append(item)
            total += len(item["labels"])
    joined = {
        k: np.concatenate([p[k] for p in parts])[:n_frames]
        for k in ("cqt", "mfcc", "chroma", "labels")
    }
    return joined


def long_timing(items, repeats, with_librosa):
    song = long_song(items)
    X = methods.skxsim_features(song)
    rows = []
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        cpu = time.process_time()
        LaplacianSegmentation(random_state=0).fit(X)
        times.append((time.perf_counter() - start, time.process_time() - cpu))
    wall, cpu = min(times)
    mem = peak_mb(LaplacianSegmentation(random_state=0).fit, X)
    rows.append(("skxsim", wall, cpu, mem))
    if with_librosa:
        start = time.perf_counter()
        cpu = time.process_time()
        methods.librosa_recipe(song)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        rows.append(("librosa recipe", wall, cpu, float("nan")))
    return len(X), X.shape[1], rows


def table(results, part):
    lines = [
        f"### {part}",
        "",
        "| method | pieces | boundary F@0.5 s | boundary F@3 s | pairwise F | "
        "time a piece (s) |",
        "|---|---|---|---|---|---|",
    ]
    for name, rows in results.items():
        for kind in ("all", "chorale", "medley"):
            chosen = [r for r in rows if kind == "all" or r["kind"] == kind]
            if not chosen:
                continue
            mean = {s: np.mean([r["scores"][s] for r in chosen]) for s in SCORES}
            secs = np.mean([r["seconds"] for r in chosen])
            pw = "n/a" if np.isnan(mean["pairwise_f"]) else f"{mean['pairwise_f']:.3f}"
            lines.append(
                f"| {name} | {kind} ({len(chosen)}) | {mean[SCORES[0]]:.3f} | "
                f"{mean[SCORES[1]]:.3f} | {pw} | {secs:.3f} |"
            )
    return lines + [""]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--chorales", type=int, default=8)
    parser.add_argument("--medleys", type=int, default=4)
    parser.add_argument(
        "--long-librosa",
        action="store_true",
        help="also run librosa's dense recipe on the 8000 frames",
    )
    parser.add_argument(
        "--output", default=os.path.join(HERE, "results_segmentation.md")
    )
    args = parser.parse_args(argv)
    n_chorales, n_medleys = (2, 1) if args.quick else (args.chorales, args.medleys)
    load_start = _machine.load_avg()
    out = [
        "# Structural segmentation benchmark",
        "",
        "Command: `python benchmarks/bench_segmentation.py`.  Material "
        "(`benchmarks/_segment_data.py`): Bach chorales in bar form with the "
        "repeat expanded, labelled by phrase (fermatas) from the score, and "
        "medleys of three chorales' first sections in forms such as ABACAB, "
        "every occurrence rendered separately (other instruments, tempo "
        "curve); FluidSynth, 30 dB SNR; frames of 10 hops (0.232 s) of "
        "log-CQT, MFCC and chroma, the same frames for every method.  "
        "Boundary F trimmed (start and end excluded), mir_eval's definitions.",
        "",
    ]
    held_items = []
    for part in ("tune", "held-out"):
        results = {name: [] for name in methods.METHODS}
        for kind, name, item in data.material(part, n_chorales, n_medleys):
            frames = data.blocks(item)
            if part == "held-out":
                held_items.append(item)
            for method in methods.METHODS:
                scores, seconds = run_method(method, frames)
                results[method].append(
                    {"kind": kind, "name": name, "scores": scores, "seconds": seconds}
                )
                print(
                    part,
                    name,
                    method,
                    f"{seconds:.2f}s",
                    {s: round(scores[s], 3) for s in SCORES},
                    flush=True,
                )
        out += table(results, part)
    longest = max(held_items, key=lambda i: len(i["labels"]))
    frames = data.blocks(longest)
    out += [
        f"### Peak memory (tracemalloc) on the longest held-out piece "
        f"({len(frames['labels'])} frames)",
        "",
        "| method | peak (MB) |",
        "|---|---|",
    ]
    for method, function in methods.METHODS.items():
        out.append(f"| {method} | {peak_mb(function, frames):.1f} |")
    n, d, rows = long_timing(held_items, 1 if args.quick else 3, args.long_librosa)
    out += [
        "",
        f"### A {n}-frame song (hop-level frames, d = {d}), defaults",
        "",
        "| method | wall (s) | CPU (s) | peak (MB) |",
        "|---|---|---|---|",
    ]
    out += [f"| {m} | {w:.2f} | {c:.2f} | {p:.0f} |" for m, w, c, p in rows]
    out += [
        "",
        f"Machine: {_machine.cpu_model()}, load average {load_start} at start, "
        f"{_machine.load_avg()} at end; commit {_machine.commit()}.",
        "",
    ]
    with open(args.output, "w") as f:
        f.write("\n".join(out))
    print("\n".join(out))


if __name__ == "__main__":
    main()
