#!/usr/bin/env python
"""Side-by-side benchmark of recurrence (self-similarity) matrices.

The data: chroma (``chroma_cqt``, d = 12) and MFCC (``mfcc``, d = 20) of a
synthetic song of 8000 frames (22050 Hz, hop 512: about three minutes; a
seeded chord progression in the form ABABCAB, rendered with harmonic tones,
bass and noise, numpy only).  On the same frames, in ONE run, each case in a
fresh subprocess (so its peak memory is its own):

* ``skxsim``: ``skxsim.recurrence_matrix(data)``, librosa's defaults (k =
  ``2 * ceil(sqrt(n - 1))`` = 180, width 1, connectivity, dense bool);
* ``skxsim-sparse``: the same with ``sparse=True``;
* ``skxsim-est``: ``RecurrenceMatrix().fit_transform(data.T)`` (CSR);
* ``librosa``: ``librosa.segment.recurrence_matrix(data)``;
* ``sklearn``: ``sklearn.neighbors.kneighbors_graph(data.T, k,
  include_self=False, n_jobs=-1)``: the same k-NN graph (width 1 excludes
  only the frame itself), CSR;
* ``skxsim-lap`` / ``librosa-lap``: the affinity of librosa's Laplacian
  segmentation recipe, ``recurrence_matrix(data, width=3, mode="affinity",
  sym=True)``.

Reported: median wall time, librosa's time over skxsim's, peak memory above
the inputs (VmHWM reset after the data is loaded) against the budget
``output + working_memory + 100 MB``, and the share of skxsim's neighbour
pairs each case found (librosa's connectivity keeps the wrong neighbours;
scikit-learn may break exact ties differently).

Usage::

    python benchmarks/bench_recurrence.py                  # both features
    python benchmarks/bench_recurrence.py --frames 2000    # quick run
    python benchmarks/bench_recurrence.py --md out.md --json out.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULT_MARKER = "@@BENCH-RESULT@@"
SR, HOP = 22050, 512
FEATURES = {"chroma": 12, "mfcc": 20}
LAPLACIAN = {"width": 3, "mode": "affinity", "sym": True}

# name: (library, description, keyword arguments)
CASES = {
    "skxsim": ("skxsim", "recurrence_matrix(data)", {}),
    "skxsim-sparse": (
        "skxsim",
        "recurrence_matrix(data, sparse=True)",
        {"sparse": True},
    ),
    "skxsim-est": ("skxsim", "RecurrenceMatrix().fit_transform(data.T)", None),
    "librosa": ("librosa", "librosa.segment.recurrence_matrix(data)", {}),
    "sklearn": ("sklearn", "kneighbors_graph(data.T, k, n_jobs=-1)", None),
    "skxsim-lap": (
        "skxsim",
        "recurrence_matrix(data, width=3, mode='affinity', sym=True)",
        LAPLACIAN,
    ),
    "librosa-lap": (
        "librosa",
        "librosa.segment.recurrence_matrix(data, width=3, mode='affinity', sym=True)",
        LAPLACIAN,
    ),
}
# The skxsim case each case's neighbour pairs and time are compared with.
SKXSIM_OF = {
    name: "skxsim-lap" if name.endswith("-lap") else "skxsim" for name in CASES
}


# --------------------------------------------------------------------------
# data: a synthetic song and its librosa features
# --------------------------------------------------------------------------


def song(n_frames: int, seed: int = 0):
    """Mono float32 audio of ``n_frames`` frames: chords, bass and noise.

    Sections of 8 bars (a four-chord progression played twice) in the form
    ABABCAB, repeated as needed; every bar is one chord of harmonic tones
    with a decaying envelope on each beat.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    n_samples = (n_frames - 1) * HOP
    tonic = int(rng.integers(12))
    major = (0, 2, 4, 5, 7, 9, 11)
    progressions = {s: rng.choice(7, 4) for s in "ABC"}
    beat = 60.0 / rng.uniform(90, 130)
    bar = 4 * beat
    harmonics = np.arange(1, 7)
    amps = harmonics**-1.5 * rng.uniform(0.7, 1.3, harmonics.size)
    y = np.zeros(n_samples, dtype=np.float64)
    t_bar = np.arange(int(bar * SR)) / SR
    envelope = np.exp(-3.0 * (t_bar % beat) / beat)
    form = "ABABCAB"
    for i, start in enumerate(range(0, n_samples, t_bar.size)):
        section = form[(i // 8) % len(form)]
        degree = int(progressions[section][i % 4])
        notes = [
            tonic + major[(degree + s) % 7] + 12 * ((degree + s) // 7)
            for s in (0, 2, 4)
        ]
        pitches = [57 + n for n in notes] + [45 + notes[0]]  # chord + bass
        freqs = 440.0 * 2.0 ** ((np.array(pitches) - 69) / 12)
        tone = np.zeros(t_bar.size)
        for f in freqs:
            tone += np.sin(2 * np.pi * np.outer(t_bar, f * harmonics)) @ amps
        stop = min(start + t_bar.size, n_samples)
        y[start:stop] = (tone * envelope)[: stop - start]
    y /= np.abs(y).max()
    y += 0.01 * rng.standard_normal(n_samples)
    return y.astype(np.float32)


def features(n_frames: int, seed: int, progress) -> dict:
    """{"chroma": (12, n), "mfcc": (20, n)}, cached in the temp directory."""
    import librosa
    import numpy as np

    with open(__file__, "rb") as f:
        code = hashlib.sha1(f.read()).hexdigest()[:10]
    key = f"{n_frames}-{seed}-{librosa.__version__}-{code}"
    cache = os.path.join(tempfile.gettempdir(), "skxsim-bench-recurrence")
    paths = {name: os.path.join(cache, f"{name}-{key}.npy") for name in FEATURES}
    if not all(os.path.exists(p) for p in paths.values()):
        progress(f"synthesising {n_frames} frames of audio and its features ...")
        y = song(n_frames, seed)
        computed = {
            "chroma": librosa.feature.chroma_cqt(y=y, sr=SR, hop_length=HOP),
            "mfcc": librosa.feature.mfcc(y=y, sr=SR, hop_length=HOP, n_mfcc=20),
        }
        os.makedirs(cache, exist_ok=True)
        for name, data in computed.items():
            assert data.shape[1] == n_frames, data.shape
            np.save(paths[name], np.ascontiguousarray(data, dtype=np.float64))
    return paths


# --------------------------------------------------------------------------
# child side: one case, timed, with its peak memory
# --------------------------------------------------------------------------


def _peak_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _current_rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _runner(name, data):
    lib, _, kwargs = CASES[name]
    n = data.shape[1]
    if lib == "librosa":
        import librosa

        return lambda: librosa.segment.recurrence_matrix(data, **kwargs)
    if lib == "sklearn":
        from sklearn.neighbors import kneighbors_graph

        k = 2 * math.ceil(math.sqrt(n - 1))
        frames = data.T.copy()
        return lambda: kneighbors_graph(frames, k, include_self=False, n_jobs=-1)
    sys.path.insert(0, REPO_ROOT)
    import skxsim

    if kwargs is None:
        frames = data.T.copy()
        return lambda: skxsim.RecurrenceMatrix().fit_transform(frames)
    return lambda: skxsim.recurrence_matrix(data, **kwargs)


def child_main(spec):
    import gc

    import numpy as np
    import scipy.sparse as sp
    import sklearn
    import sklearn.neighbors  # noqa: F401  (imported before the baseline)

    name = spec["case"]
    data = np.load(spec["path"])
    run = _runner(name, data)
    gc.collect()
    rss_before = _current_rss()
    reset = _reset_peak_rss()
    times = []
    while True:
        out = None
        gc.collect()
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
        # The first run is a warm-up unless it is slow.
        if times[0] > spec["single_above"]:
            break
        if len(times) > spec["repeats"]:
            times = times[1:]
            break
    peak = _peak_rss()
    if sp.issparse(out):
        out_bytes = sum(a.nbytes for a in (out.data, out.indices, out.indptr))
        graph = sp.csr_matrix(out)
    else:
        out_bytes = out.nbytes
        graph = sp.csr_matrix(out != 0)
    if CASES[name][2] is not None:  # librosa orientation: column i is frame i
        graph = graph.T.tocsr()
    graph.sort_indices()
    rows = np.repeat(np.arange(graph.shape[0], dtype=np.int64), np.diff(graph.indptr))
    np.save(spec["edges"], rows * graph.shape[1] + graph.indices)
    result = {
        "case": name,
        "times": times,
        "median_s": float(np.median(times)),
        "cold": times[0] > spec["single_above"] and len(times) == 1,
        "peak_above_inputs_mb": max(0, peak - rss_before) / 2**20,
        "peak_reset": reset,
        "input_mb": data.nbytes / 2**20,
        "output_mb": out_bytes / 2**20,
        "working_memory_mb": sklearn.get_config()["working_memory"],
        "nnz": int(graph.nnz),
    }
    print(RESULT_MARKER + json.dumps(result), flush=True)


# --------------------------------------------------------------------------
# parent side
# --------------------------------------------------------------------------


def run_case(name, path, edges, args):
    spec = {
        "case": name,
        "path": path,
        "edges": edges,
        "repeats": args.repeats,
        "single_above": args.single_above,
    }
    env = dict(
        os.environ, PYTHONPATH=REPO_ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        timeout=args.timeout,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            result = json.loads(line[len(RESULT_MARKER) :])
            result["subprocess_s"] = time.perf_counter() - start
            return result
    raise RuntimeError(f"case {name} failed:\n{proc.stderr[-3000:]}")


def agreement(edges_a, edges_b):
    """Share of the pairs in ``edges_b`` also in ``edges_a``."""
    import numpy as np

    a, b = np.load(edges_a), np.load(edges_b)
    return float(np.isin(b, a, assume_unique=True).mean()) if b.size else 1.0


def report(info, results, args):
    lines = [
        "# Recurrence matrix benchmark",
        "",
        f"{args.frames} frames of a synthetic song (22050 Hz, hop 512); librosa "
        "features; each case in a fresh subprocess, median of "
        f"{args.repeats} runs after a warm-up (one cold run above "
        f"{args.single_above:g} s).",
        "",
        f"Machine: {info['cpu']}, {info['usable_cpus']} usable CPUs; load "
        f"average {info['load_start']} at start, {info['load_end']} at end; "
        f"{info['versions']}.",
        "",
    ]
    for feature, d in FEATURES.items():
        lines += [
            f"## {feature} (d = {d})",
            "",
            "| case | call | time (s) | librosa / this | peak above input (MB) "
            "| output (MB) | budget (MB) | skxsim's pairs found |",
            "|---|---|---|---|---|---|---|---|",
        ]
        by_name = results[feature]
        for name, r in by_name.items():
            librosa_case = "librosa-lap" if name.endswith("-lap") else "librosa"
            lib = by_name.get(librosa_case)
            speedup = (
                f"{lib['median_s'] / r['median_s']:.1f}x"
                if lib and CASES[name][0] != "librosa"
                else ""
            )
            budget = r["output_mb"] + r["working_memory_mb"] + 100
            ok = "" if r["peak_above_inputs_mb"] <= budget else " (over)"
            lines.append(
                f"| {name} | `{CASES[name][1]}` | {r['median_s']:.3f}"
                f"{' (cold)' if r['cold'] else ''} | {speedup} | "
                f"{r['peak_above_inputs_mb']:.0f}{ok} | {r['output_mb']:.0f} | "
                f"{budget:.0f} | {r.get('agreement', float('nan')):.4f} |"
            )
        lines.append("")
    lines += [
        "Budget: output + scikit-learn's `working_memory` + 100 MB (the input "
        'is loaded before the baseline). "skxsim\'s pairs found": the share of '
        "the neighbour pairs of the skxsim case with the same arguments that "
        "this case also returns (librosa's connectivity keeps the "
        "lowest-numbered of its candidates, not the nearest).",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=8000)
    parser.add_argument(
        "--features", nargs="+", default=list(FEATURES), choices=list(FEATURES)
    )
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--single-above", type=float, default=20.0)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json")
    parser.add_argument("--md")
    parser.add_argument("--child")
    args = parser.parse_args(argv)
    if args.child:
        child_main(json.loads(args.child))
        return

    def progress(message):
        print(message, file=sys.stderr, flush=True)

    import librosa
    import numpy as np
    import scipy
    import sklearn

    paths = features(args.frames, args.seed, progress)
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                line.split(":", 1)[1].strip()
                for line in f
                if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    info = {
        "cpu": cpu,
        "usable_cpus": len(os.sched_getaffinity(0)),
        "load_start": [round(x, 1) for x in os.getloadavg()],
        "versions": ", ".join(
            f"{m.__name__} {m.__version__}" for m in (np, scipy, sklearn, librosa)
        ),
    }
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for feature in args.features:
            results[feature] = {}
            for name in args.cases:
                progress(f"{feature}: {name} ...")
                edges = os.path.join(tmp, f"{feature}-{name}.npy")
                results[feature][name] = run_case(name, paths[feature], edges, args)
            for name, r in results[feature].items():
                ref = SKXSIM_OF[name]
                if ref in results[feature]:
                    r["agreement"] = agreement(
                        os.path.join(tmp, f"{feature}-{name}.npy"),
                        os.path.join(tmp, f"{feature}-{ref}.npy"),
                    )
    info["load_end"] = [round(x, 1) for x in os.getloadavg()]
    text = report(info, results, args)
    print(text)
    if args.md:
        with open(args.md, "w") as f:
            f.write(text + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
