"""Driver side of the alignment benchmark: the subprocesses, skips, optimum.

Each (method, length) is one subprocess (``bench_alignment.py --child``,
``_align_measure``), killed after ``--timeout``.  Full-matrix and slow
methods are skipped by estimate (``Estimates``); the full-DTW optimum of
every pair where it fits is computed once and cached.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time

import _align_data as data
import _align_methods as methods
import _align_metrics as metrics
import _machine
import _measure

try:
    import resource
except ImportError:  # Windows: no CPU accounting
    resource = None

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_alignment.py")
# Keyed on the cost the optimum is of.
OPTIMUM_CACHE = os.path.join(
    data.INPUT_DIR,
    f"optimum-{metrics.COST_METRIC}-{'-'.join(map(str, metrics.COST_WEIGHTS))}.json",
)


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


def run_child(spec, timeout):
    """Run one task in a fresh interpreter; its result or an ``error``."""
    cmd = [sys.executable, SCRIPT, "--child", json.dumps(spec)]
    t0 = time.perf_counter()
    busy0 = _machine.busy_cpu_seconds()
    ours0 = resource.getrusage(resource.RUSAGE_CHILDREN) if resource else None
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:g} s"}
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
    signal = f" (signal {-proc.returncode})" if proc.returncode < 0 else ""
    return {"error": f"exit {proc.returncode}{signal}: " + " | ".join(tail)}


def installed(methods_table, wanted, notes):
    """The wanted methods of a task whose library imports; notes for the rest."""
    out = []
    for name in wanted:
        if name not in methods_table:
            continue
        module = methods_table[name][0]
        if importlib.util.find_spec(module) is None:
            notes.append(f"{name}: not run, {module} is not installed")
            continue
        out.append(name)
    return out


class Estimates:
    """Memory and time guesses per cell for the full-matrix and slow methods,
    recalibrated from every run so that a skip follows this machine."""

    def __init__(self):
        self.bytes = dict(methods.BYTES_PER_CELL)
        self.seconds = dict(methods.SECONDS_PER_CELL)

    def skip(self, method, cells_max, cells_total, args):
        if method in self.bytes:
            need = self.bytes[method] * cells_max / 2**30
            if need > args.max_memory_gb:
                return (
                    f"skipped: its full matrices need about {need:.0f} GB "
                    f"(> --max-memory-gb {args.max_memory_gb:g})"
                )
        if method in self.seconds:
            need = self.seconds[method] * cells_total
            if need > args.max_seconds:
                return (
                    f"skipped: estimated {need / 60:.0f} min "
                    f"(> --max-seconds {args.max_seconds:g})"
                )
        return ""

    def learn(self, method, cells_max, cells_total, rss_mb, seconds):
        # only from runs big enough to dominate the interpreter's noise
        if method in self.bytes and cells_max > 1e7 and rss_mb:
            self.bytes[method] = max(
                self.bytes[method] * 0.5, rss_mb * 2**20 / cells_max
            )
        if method in self.seconds and cells_total > 1e7 and seconds:
            self.seconds[method] = seconds / cells_total


def optimum(pairs, args, notes):
    """Full DTW's optimum per pair where it fits (cached): {input path: cost}."""
    cache = {}
    if os.path.exists(OPTIMUM_CACHE):
        with open(OPTIMUM_CACHE) as f:
            cache = json.load(f)
    limit = args.max_memory_gb * 2**30 / methods.BYTES_PER_CELL["librosa"]
    todo = [
        p["path"]
        for p in pairs
        if p["n"] * p["n_ref"] <= limit and os.path.basename(p["path"]) not in cache
    ]
    if todo and importlib.util.find_spec("librosa") is None:
        notes.append("no cost ratios: librosa (the full-DTW optimum) is not installed")
        return {}
    if todo:
        progress(f"full-DTW optimum of {len(todo)} pairs (librosa) ...")
        spec = {
            "task": "optimum",
            "method": "librosa",
            "key": "optimum",
            "inputs": todo,
        }
        res = run_child(spec, args.timeout)
        if "error" in res:
            notes.append(f"full-DTW optimum failed: {res['error']}")
        else:
            for r in res["pairs"]:
                cache[os.path.basename(r["input"])] = r["optimum"]
            with open(OPTIMUM_CACHE, "w") as f:
                json.dump(cache, f, indent=1)
    return {
        p["path"]: cache[os.path.basename(p["path"])]
        for p in pairs
        if os.path.basename(p["path"]) in cache
    }


def run_alignment(pairs, wanted, args, notes):
    records = []
    estimates = Estimates()
    by_length = {}
    for p in pairs:
        by_length.setdefault(p["length"], []).append(p)
    for method in installed(methods.ALIGN, wanted, notes["general"]):
        if method in methods.SKXSIM_ALIGN:
            why = methods.missing_api(method, "align")
            if why:
                notes["general"].append(f"{method}: not run, {why} does not exist yet")
                continue
        for length, group in by_length.items():
            cells_max = max(p["n"] * p["n_ref"] for p in group)
            cells_total = sum(p["n"] * p["n_ref"] for p in group)
            why = estimates.skip(method, cells_max, cells_total, args)
            key = f"align/{method}/{length}"
            if why:
                notes[key] = why
                progress(f"{key}: {why}")
                continue
            progress(f"{key} ({len(group)} pair(s), up to {cells_max:.2g} cells) ...")
            spec = {
                "task": "align",
                "method": method,
                "key": key,
                "inputs": [p["path"] for p in group],
                "repeats": args.repeats,
                "single_above": args.single_above,
                "trace": not args.no_trace,
            }
            res = run_child(spec, args.timeout)
            res.update(method=method, length=length, task="align")
            records.append(res)
            if "error" in res:
                progress(f"    error: {res['error']}")
                continue
            done = [r for r in res["pairs"] if "error" not in r]
            for r in res["pairs"]:
                if "error" in r:
                    progress(f"    pair {os.path.basename(r['input'])}: {r['error']}")
            if not done:
                continue
            rss = max(r["rss_above_mb"] for r in done)
            seconds = sum(r["seconds"] for r in done)
            if len(done) == len(res["pairs"]):
                estimates.learn(method, cells_max, cells_total, rss, seconds)
            mae = sum(r["mae_ms"] for r in done) / len(done)
            progress(
                f"    MAE {mae:.0f} ms, {seconds:.3g} s, RSS above {rss:.0f} MB "
                f"({len(done)}/{len(res['pairs'])} pairs ran)"
            )
    return records


def run_matching(archives, wanted, args, notes):
    records = []
    estimates = Estimates()
    for method in installed(methods.MATCH, wanted, notes["general"]):
        if method == "skxsim":
            why = methods.missing_api(method, "match")
            if why:
                notes["general"].append(
                    f"matching skxsim: not run, {why} does not exist yet"
                )
                continue
        for archive in archives:
            frames = archive["query_frames"]
            why = estimates.skip(
                method,
                max(frames) * archive["n_ref"],
                sum(frames) * archive["n_ref"],
                args,
            )
            key = f"match/{method}/{archive['length']}"
            if why:
                notes[key] = why
                progress(f"{key}: {why}")
                continue
            progress(
                f"{key} ({archive['n_queries']} queries, {archive['n_ref']} frames) ..."
            )
            spec = {
                "task": "match",
                "method": method,
                "key": key,
                "inputs": [archive["path"]],
                "dask": not args.no_dask,
            }
            res = run_child(spec, args.timeout)
            res.update(method=method, length=archive["length"], task="match")
            records.append(res)
            if "error" in res:
                progress(f"    error: {res['error']}")
                continue
            estimates.learn(
                method,
                max(frames) * archive["n_ref"],
                sum(frames) * archive["n_ref"],
                res["rss_above_mb"],
                sum(res["query_s"]),
            )
            progress(
                f"    {100 * res['accuracy']:.0f}% correct, "
                f"{res['s_per_query_hour']:.3g} s/query/hour, fit {res['fit_s']:.3g} s"
            )
    return records
