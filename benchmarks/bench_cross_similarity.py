#!/usr/bin/env python
"""Side-by-side benchmark of k-NN cross-similarity: skxsim against its peers.

For each size n = n_ref (default 2000, 5000, 10000 and 20000 frames), d = 120
features and k = librosa's default ``2 * ceil(sqrt(n_ref))``, this script times,
in ONE run:

* the floor: the dense product ``X @ R.T`` (float64 and float32);
* skxsim: ``CrossSimilarity`` connectivity (float64, float32, and float64 with
  ``n_jobs=1``), and affinity with the cosine metric (float64);
* scikit-learn: ``NearestNeighbors(algorithm="brute", n_jobs=-1)`` followed by
  ``kneighbors_graph(mode="connectivity")`` (float64 and float32);
* librosa: ``librosa.segment.cross_similarity(X.T, R.T, k=k)`` (float64), when
  librosa is installed; sizes where it would exceed ``--timeout-librosa``
  seconds (estimated from the previous size with quadratic scaling) are
  skipped, and the report says so;
* faiss-cpu: ``IndexFlatL2`` (float32), when faiss is installed.

Every case runs in a fresh subprocess, so its peak memory is its own. The
report (markdown, on stdout) gives median wall times, ratios to the floor of
the same dtype, peer / skxsim ratios, peak memory, and how many of skxsim's
neighbour pairs each peer found. See ``benchmarks/README.md`` for the columns.

Usage::

    python benchmarks/bench_cross_similarity.py                 # full table
    python benchmarks/bench_cross_similarity.py --sizes 2000    # quick run
    python benchmarks/bench_cross_similarity.py --json out.json --md out.md
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import resource
except ImportError:  # Windows: no peak-memory or CPU-accounting figures
    resource = None

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULT_MARKER = "@@BENCH-RESULT@@"
MAX_RUNS = 50  # cap on timed runs of a fast case (see --min-time)

# name: (library, dtype, description, options)
CASES = {
    "floor64": ("floor", "float64", "X @ R.T", {}),
    "floor32": ("floor", "float32", "X @ R.T", {}),
    "skxsim64": ("skxsim", "float64", "CrossSimilarity connectivity",
                 {"metric": "euclidean", "mode": "connectivity", "n_jobs": -1}),
    "skxsim64-1job": ("skxsim", "float64", "CrossSimilarity connectivity",
                      {"metric": "euclidean", "mode": "connectivity",
                       "n_jobs": 1}),
    "skxsim64-cosaff": ("skxsim", "float64", "CrossSimilarity cosine affinity",
                        {"metric": "cosine", "mode": "affinity", "n_jobs": -1}),
    "skxsim32": ("skxsim", "float32", "CrossSimilarity connectivity",
                 {"metric": "euclidean", "mode": "connectivity", "n_jobs": -1}),
    "sklearn64": ("sklearn", "float64", "NearestNeighbors brute kneighbors_graph",
                  {"n_jobs": -1}),
    "sklearn32": ("sklearn", "float32", "NearestNeighbors brute kneighbors_graph",
                  {"n_jobs": -1}),
    "librosa64": ("librosa", "float64", "librosa.segment.cross_similarity", {}),
    "faiss32": ("faiss", "float32", "faiss IndexFlatL2 search + CSR", {}),
}
# Cases whose neighbour pairs are compared with skxsim's (same dtype, euclidean).
EUCLIDEAN_GRAPH_CASES = {"skxsim64", "skxsim64-1job", "skxsim32", "sklearn64",
                         "sklearn32", "librosa64", "faiss32"}
# The skxsim case that peers of each dtype are compared with.
REFERENCE_CASE = {"float64": "skxsim64", "float32": "skxsim32"}
FLOOR_CASE = {"float64": "floor64", "float32": "floor32"}


def default_k(n_ref):
    """librosa's default number of neighbours."""
    return int(min(n_ref, 2 * math.ceil(math.sqrt(n_ref))))


# --------------------------------------------------------------------------
# child side: one case, one size, in a fresh interpreter
# --------------------------------------------------------------------------


def _import_skxsim():
    if os.path.isdir(os.path.join(REPO_ROOT, "skxsim")):
        sys.path.insert(0, REPO_ROOT)
    import skxsim

    return skxsim


def make_data(n, n_ref, d, dtype, seed):
    """A reference sequence and a 'cover' of it, both with temporal structure.

    The reference is a d-dimensional random walk (smooth, like audio features);
    the query is the same walk read at a slowly varying tempo (time warp) plus
    noise. Both are centred and scaled to unit variance. float32 data is the
    float64 data rounded, so both dtypes see the same problem.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    ref = rng.standard_normal((n_ref, d))
    np.cumsum(ref, axis=0, out=ref)
    ref -= ref.mean(axis=0)
    ref /= ref.std()
    t = np.linspace(0.0, 1.0, n)
    warp = t + 0.02 * np.sin(2.0 * np.pi * 3.0 * t)  # monotone: slope >= 0.62
    pos = np.clip(warp, 0.0, 1.0) * (n_ref - 1)
    i0 = np.minimum(pos.astype(np.intp), n_ref - 2) if n_ref > 1 else np.zeros(
        n, dtype=np.intp)
    frac = (pos - i0)[:, None]
    i1 = np.minimum(i0 + 1, n_ref - 1)
    query = ref[i0] * (1.0 - frac)
    query += ref[i1] * frac
    query += 0.05 * rng.standard_normal((n, d))
    if dtype == "float32":
        return query.astype(np.float32), ref.astype(np.float32)
    return query, ref


def _build_case(name, X, R, k):
    """Return a callable running the case once -> (fit_s, query_s, output)."""
    import numpy as np

    lib, _dtype, _desc, opts = CASES[name]
    clock = time.perf_counter

    if lib == "floor":

        def run():
            t0 = clock()
            out = X @ R.T
            return None, clock() - t0, out

    elif lib == "skxsim":
        skxsim = _import_skxsim()

        def run():
            t0 = clock()
            est = skxsim.CrossSimilarity(k=k, **opts).fit(R)
            t1 = clock()
            out = est.transform(X)
            return t1 - t0, clock() - t1, out

    elif lib == "sklearn":
        from sklearn.neighbors import NearestNeighbors

        def run():
            t0 = clock()
            nn = NearestNeighbors(n_neighbors=k, algorithm="brute", **opts).fit(R)
            t1 = clock()
            out = nn.kneighbors_graph(X, mode="connectivity")
            return t1 - t0, clock() - t1, out

    elif lib == "librosa":
        import librosa.segment

        def run():
            t0 = clock()
            out = librosa.segment.cross_similarity(X.T, R.T, k=k)
            return None, clock() - t0, out

    elif lib == "faiss":
        import faiss
        import scipy.sparse

        def run():
            t0 = clock()
            index = faiss.IndexFlatL2(R.shape[1])
            index.add(np.ascontiguousarray(R, dtype=np.float32))
            t1 = clock()
            _dist, ind = index.search(np.ascontiguousarray(X, dtype=np.float32), k)
            n = X.shape[0]
            out = scipy.sparse.csr_matrix(
                (np.ones(n * k, dtype=np.float32), ind.ravel(),
                 np.arange(0, n * k + 1, k)),
                shape=(n, R.shape[0]),
            )
            return t1 - t0, clock() - t1, out

    else:  # pragma: no cover
        raise ValueError(name)
    return run


def _current_rss():
    """Resident set size now, in bytes (Linux /proc; else the peak so far)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return _peak_rss()


def _peak_rss():
    """Peak resident set size of this process image so far, in bytes.

    On Linux this is VmHWM from /proc/self/status: unlike getrusage's
    ru_maxrss, it is not inherited across exec from the parent (the benchmark
    driver, which has imported scikit-learn), and it can be reset. Elsewhere,
    ru_maxrss.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if resource is None:
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _reset_peak_rss():
    """Reset the peak RSS to the current RSS (Linux >= 4.0); True if done."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _output_info(name, out, n, n_ref):
    """(bytes held by the output, stored entries, sorted edge keys or None)."""
    import numpy as np
    import scipy.sparse

    if scipy.sparse.issparse(out):
        nbytes = sum(a.nbytes for a in (out.data, out.indices, out.indptr))
        nnz = int(out.nnz)
    else:
        nbytes = int(out.nbytes)
        nnz = int(np.count_nonzero(out)) if CASES[name][0] != "floor" else None
    if name not in EUCLIDEAN_GRAPH_CASES:
        return nbytes, nnz, None
    if CASES[name][0] == "librosa":  # (n_ref, n), query frames along columns
        graph = scipy.sparse.csr_matrix(np.asarray(out).T if not
                                        scipy.sparse.issparse(out) else out.T)
    else:
        graph = scipy.sparse.csr_matrix(out)
    graph.eliminate_zeros()  # skxsim's 0/1 float output: keep the ones
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(graph.indptr))
    keys = rows * n_ref + graph.indices.astype(np.int64)
    keys.sort()
    return nbytes, nnz, keys


def child_main(spec):
    import gc

    import numpy as np
    import scipy.sparse  # noqa: F401  (imported before the memory baseline)

    name = spec["case"]
    lib, dtype = CASES[name][0], CASES[name][1]
    n, n_ref, d, k = spec["n"], spec["n_ref"], spec["d"], spec["k"]

    X, R = make_data(n, n_ref, d, dtype, spec["seed"])
    run = _build_case(name, X, R, k)
    if lib in ("skxsim", "sklearn", "librosa"):  # load lazily imported modules
        import sklearn.neighbors  # noqa: F401
    gc.collect()
    rss_before = _current_rss()
    peak_before = _peak_rss()
    peak_reset = _reset_peak_rss()

    fit_s, query_s, out = run()
    times = [(fit_s, query_s)]
    cold = (fit_s or 0.0) + query_s > spec["single_above"]
    if not cold:  # the first call was a warm-up; time `repeats` more, and
        times = []  # more still for fast cases, up to `min_time` seconds
        while len(times) < spec["repeats"] or (
            sum((t[0] or 0.0) + t[1] for t in times) < spec["min_time"]
            and len(times) < MAX_RUNS
        ):
            out = None
            gc.collect()
            fit_s, query_s, out = run()
            times.append((fit_s, query_s))
    peak_after = _peak_rss()

    nbytes, nnz, keys = _output_info(name, out, n, n_ref)
    if keys is not None and spec.get("edges_path"):
        np.save(spec["edges_path"], keys)
    fits = [t[0] for t in times if t[0] is not None]
    result = {
        "case": name,
        "n": n,
        "n_ref": n_ref,
        "d": d,
        "k": k,
        "dtype": dtype,
        "out_dtype": str(out.dtype),
        "repeats": len(times),
        "cold": cold,
        "fit_s": float(np.median(fits)) if fits else None,
        "query_s": float(np.median([t[1] for t in times])),
        "total_s": float(np.median([(t[0] or 0.0) + t[1] for t in times])),
        "all_query_s": [t[1] for t in times],
        "rss_before_mb": rss_before / 2**20,
        "peak_before_mb": peak_before / 2**20,
        "peak_reset": peak_reset,
        "peak_rss_mb": peak_after / 2**20,
        "peak_above_inputs_mb": max(0, peak_after - rss_before) / 2**20,
        "inputs_mb": (X.nbytes + R.nbytes) / 2**20,
        "output_mb": nbytes / 2**20,
        "nnz": nnz,
        "edges_path": spec.get("edges_path") if keys is not None else None,
    }
    print(RESULT_MARKER + json.dumps(result), flush=True)


# --------------------------------------------------------------------------
# parent side: orchestration and the report
# --------------------------------------------------------------------------


def _load_avg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def _machine_info():
    import numpy
    import scipy
    import scipy.linalg  # noqa: F401  (so threadpoolctl sees scipy's BLAS)
    import sklearn
    import sklearn.neighbors  # noqa: F401  (and scikit-learn's OpenMP)
    from threadpoolctl import threadpool_info

    cpu_model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        ram_gb = None
    versions = {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }
    for mod in ("librosa", "faiss"):
        if importlib.util.find_spec(mod) is not None:
            try:
                versions[mod] = __import__(mod).__version__
            except Exception as exc:  # broken optional install: report it
                versions[mod] = f"unusable ({type(exc).__name__})"
    try:
        versions["skxsim"] = _import_skxsim().__version__
    except Exception as exc:
        versions["skxsim"] = f"not importable ({type(exc).__name__}: {exc})"
    pools = [
        {key: pool.get(key) for key in ("user_api", "internal_api", "version",
                                         "num_threads", "architecture",
                                         "threading_layer")}
        | {"library": os.path.basename(pool.get("filepath", ""))}
        for pool in threadpool_info()
    ]
    try:
        commit = subprocess.run(
            ["git", "-C", REPO_ROOT, "describe", "--always", "--dirty"],
            capture_output=True, text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {
        "repo_commit": commit,
        "load_avg_start": _load_avg(),
        "platform": platform.platform(),
        "cpu": cpu_model,
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "ram_gb": ram_gb,
        "versions": versions,
        "threadpools": pools,
        "sklearn_working_memory_mb": sklearn.get_config()["working_memory"],
    }


def _busy_cpu_seconds():
    """CPU seconds spent busy by the whole machine (Linux /proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        ticks = [int(x) for x in fields[1:]]
        # user nice system idle iowait irq softirq steal ...
        busy = ticks[0] + ticks[1] + ticks[2] + sum(ticks[5:8])
        return busy / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _run_case(name, n, d, k, args, edges_dir, timeout):
    spec = {
        "case": name, "n": n, "n_ref": n, "d": d, "k": k, "seed": args.seed,
        "repeats": args.repeats, "min_time": args.min_time,
        "single_above": args.single_above,
        "edges_path": (os.path.join(edges_dir, f"{name}-{n}.npy")
                       if name in EUCLIDEAN_GRAPH_CASES else None),
    }
    env = dict(os.environ)
    env.pop("LIBROSA_CACHE_DIR", None)  # librosa would memoise the repeats
    cmd = [sys.executable, os.path.abspath(__file__), "--child", json.dumps(spec)]
    t0 = time.perf_counter()
    busy0 = _busy_cpu_seconds() if resource is not None else None
    ours0 = resource.getrusage(resource.RUSAGE_CHILDREN) if resource else None
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"case": name, "n": n, "k": k, "error": f"timeout after {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    busy1 = _busy_cpu_seconds() if resource is not None else None
    ours1 = resource.getrusage(resource.RUSAGE_CHILDREN) if resource else None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            result = json.loads(line[len(RESULT_MARKER):])
            result["subprocess_s"] = wall
            if busy0 is not None and busy1 is not None:
                ours = (ours1.ru_utime + ours1.ru_stime
                        - ours0.ru_utime - ours0.ru_stime)
                other = max(0.0, busy1 - busy0 - ours)
                result["other_cpu_pct"] = 100 * other / (wall * (os.cpu_count() or 1))
            return result
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return {"case": name, "n": n, "k": k,
            "error": f"exit {proc.returncode}: " + " | ".join(tail)}


def _edge_match(path_a, path_b):
    """Fraction of the pairs in a (the skxsim reference) also present in b."""
    import numpy as np

    a, b = np.load(path_a), np.load(path_b)
    if a.size == 0:
        return None
    return float(np.isin(a, b, assume_unique=True).sum() / a.size)


def _fmt(x, digits=3):
    if x is None:
        return ""
    if isinstance(x, str):
        return x
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.{max(0, digits - 1 - int(math.floor(math.log10(abs(x)))))}f}"


def _ratio(a, b):
    if a is None or b is None or b <= 0:
        return None
    return a / b


def _main_time(r):
    """The number a case is judged by: the query (transform), not the fit."""
    return r.get("query_s")


def build_report(info, sizes, records, notes, args):
    by = {(r["n"], r["case"]): r for r in records}
    lines = ["# skxsim cross-similarity benchmark", ""]
    lines.append(f"- command: `{' '.join(['python'] + args.argv)}`")
    lines.append(f"- machine: {info['cpu']}, {info['cpu_count']} CPUs "
                 f"({info['usable_cpus']} usable), "
                 + (f"{info['ram_gb']:.0f} GB RAM, " if info["ram_gb"] else "")
                 + info["platform"])
    lines.append("- versions: " + ", ".join(f"{k} {v}" for k, v in
                                            info["versions"].items())
                 + (f" (checkout {info['repo_commit']})"
                    if info.get("repo_commit") else ""))
    if info.get("load_avg_start"):
        lines.append(f"- load average (1, 5, 15 min) at start "
                     f"{info['load_avg_start']}, at end {info['load_avg_end']} "
                     "(well above 0 at start means other work shared the CPUs; see the "
                     "'other CPU %' column)")
    for pool in info["threadpools"]:
        lines.append(
            f"- threadpool: {pool['user_api']} {pool['internal_api']} "
            f"{pool['version'] or ''} ({pool['library']}), "
            f"{pool['num_threads']} threads"
            + (f", {pool['architecture']}" if pool.get("architecture") else ""))
    lines.append(f"- data: n = n_ref, d = {args.d}, k = 2*ceil(sqrt(n_ref)), "
                 f"seeded random walk + time-warped noisy copy (seed {args.seed}); "
                 f"times are medians of at least {args.repeats} runs (more for "
                 f"fast cases, up to {args.min_time:g} s of runs) after one warm-up "
                 f"(a single cold run when the first call exceeds "
                 f"{args.single_above:g} s); scikit-learn working_memory = "
                 f"{info['sklearn_working_memory_mb']} MB")
    reset = all(r.get("peak_reset") for r in records if "error" not in r)
    lines.append("- memory: peak RSS = high-water RSS of the case's own "
                 "subprocess over its calls ("
                 + ("Linux VmHWM, reset just before the first call"
                    if reset else "ru_maxrss / VmHWM since process start")
                 + "); above inputs = that peak minus the RSS just before the "
                 "first call (interpreter, libraries and input arrays already "
                 "resident); output = bytes held by the returned matrix")
    lines.append("")

    # summary
    lines.append("## Summary")
    lines.append("")
    lines.append("| n = n_ref | k | floor64 s | skxsim64 s | skxsim64 / floor64 "
                 "| sklearn / skxsim | librosa / skxsim | floor32 s | skxsim32 s "
                 "| skxsim32 / floor32 | skxsim64 above inputs MB |")
    lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        def get(case, n=n):
            r = by.get((n, case))
            return r if r and "error" not in r else None

        f64, s64, f32, s32 = (get(c) for c in ("floor64", "skxsim64",
                                               "floor32", "skxsim32"))
        sk, lr = get("sklearn64"), get("librosa64")
        lr_cell = (_fmt(_ratio(lr["total_s"], s64["total_s"]), 3)
                   if lr and s64 else ("skipped" if (n, "librosa64") in notes
                                       else ""))
        row = [
            str(n), str(default_k(n)),
            _fmt(f64 and _main_time(f64)), _fmt(s64 and _main_time(s64)),
            _fmt(_ratio(s64 and _main_time(s64), f64 and _main_time(f64))),
            _fmt(_ratio(sk and sk["total_s"], s64 and s64["total_s"])),
            lr_cell,
            _fmt(f32 and _main_time(f32)), _fmt(s32 and _main_time(s32)),
            _fmt(_ratio(s32 and _main_time(s32), f32 and _main_time(f32))),
            _fmt(s64 and s64["peak_above_inputs_mb"]),
        ]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")

    # details
    lines.append("## All cases")
    lines.append("")
    lines.append("| n | case | what | dtype | n_jobs | runs | fit s | query s "
                 "| / floor | peer / skxsim | peak RSS MB | above inputs MB "
                 "| output MB | pairs found | other CPU % |")
    lines.append("|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:"
                 "|---:|---:|")
    for n in sizes:
        for name in args.cases:
            lib, dtype, desc, opts = CASES[name]
            jobs = str(opts.get("n_jobs", "")) if lib != "floor" else "BLAS"
            if (n, name) in notes:
                lines.append(f"| {n} | {name} | {desc} | {dtype} | {jobs} | | | "
                             f"{notes[(n, name)]} | | | | | | | |")
                continue
            r = by.get((n, name))
            if r is None:
                continue
            if "error" in r:
                lines.append(f"| {n} | {name} | {desc} | {dtype} | {jobs} | | | "
                             f"error: {r['error'][:120]} | | | | | | | |")
                continue
            floor = by.get((n, FLOOR_CASE[dtype]))
            floor_t = floor.get("query_s") if floor else None
            ref = by.get((n, REFERENCE_CASE[dtype]))
            peer = None
            if lib in ("sklearn", "librosa", "faiss") and ref and "error" not in ref:
                peer = _ratio(r["total_s"], ref["total_s"])
            match = ""
            if (lib != "skxsim" or name == "skxsim64-1job") and r.get("edges_path") \
                    and ref and ref.get("edges_path") and name != ref["case"]:
                frac = _edge_match(ref["edges_path"], r["edges_path"])
                match = "" if frac is None else f"{100 * frac:.2f}%"
            runs = f"{r['repeats']}" + (" (cold)" if r["cold"] else "")
            lines.append(
                f"| {n} | {name} | {desc} | {dtype} | {jobs} | {runs} "
                f"| {_fmt(r['fit_s'])} | {_fmt(r['query_s'])} "
                f"| {_fmt(_ratio(r['query_s'], floor_t))} | {_fmt(peer)} "
                f"| {r['peak_rss_mb']:.0f} | {r['peak_above_inputs_mb']:.0f} "
                f"| {r['output_mb']:.1f} | {match} "
                f"| {_fmt(r.get('other_cpu_pct'), 2)} |")
    lines.append("")
    extra = [f"- {text}" for text in notes.get("general", [])]
    for (n, name), text in sorted((key, v) for key, v in notes.items()
                                  if key != "general"):
        extra.append(f"- n = {n}, {name}: {text}")
    if extra:
        lines.append("## Notes")
        lines.append("")
        lines.extend(extra)
        lines.append("")
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Side-by-side benchmark of k-NN cross-similarity "
                    "(skxsim, scikit-learn, librosa, faiss, and the BLAS floor).")
    parser.add_argument("--sizes", type=int, nargs="+",
                        default=[2000, 5000, 10000, 20000],
                        help="values of n = n_ref (default: %(default)s)")
    parser.add_argument("--d", type=int, default=120,
                        help="number of features (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed runs per case after one warm-up; the "
                             "median is reported (default: %(default)s)")
    parser.add_argument("--min-time", type=float, default=1.0,
                        help="fast cases are run more than --repeats times, "
                             f"until their timed runs add up to this many "
                             f"seconds (at most {MAX_RUNS} runs; default: "
                             "%(default)s)")
    parser.add_argument("--single-above", type=float, default=20.0,
                        help="if the first (warm-up) call takes longer than "
                             "this many seconds, report it as a single cold "
                             "run (default: %(default)s)")
    parser.add_argument("--timeout-librosa", type=float, default=180.0,
                        help="skip librosa at sizes where its estimated time "
                             "(previous size, quadratic scaling) exceeds this "
                             "many seconds; a run is killed after twice this "
                             "(default: %(default)s)")
    parser.add_argument("--cases", nargs="+", choices=list(CASES),
                        default=None, help="subset of cases (default: all "
                        "whose libraries are installed)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="also write raw results "
                        "and machine info as JSON")
    parser.add_argument("--md", metavar="PATH", help="also write the markdown "
                        "report to this file")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    if any(n < 2 for n in args.sizes):
        parser.error("--sizes must be >= 2")
    args.argv = [os.path.relpath(os.path.abspath(__file__))] + list(argv)
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--child":
        child_main(json.loads(argv[1]))
        return 0
    args = parse_args(argv)
    info = _machine_info()
    notes = {"general": []}

    if args.cases is None:
        args.cases = list(CASES)
        for name, mod in (("librosa64", "librosa"), ("faiss32", "faiss")):
            if importlib.util.find_spec(mod) is None:
                args.cases.remove(name)
                notes["general"].append(f"{name} not run: {mod} is not installed")
    else:
        args.cases = [c for c in CASES if c in args.cases]  # canonical order
    if any(CASES[c][0] == "skxsim" for c in args.cases) and \
            info["versions"]["skxsim"].startswith("not importable"):
        sys.exit(f"error: skxsim is {info['versions']['skxsim']}; install it "
                 "(pip install -e .) or run from the repository checkout, or "
                 "leave out the skxsim cases with --cases")

    def progress(msg):
        print(msg, file=sys.stderr, flush=True)

    records = []
    librosa_prev = None  # (n, seconds) of the last librosa run
    edges_dir = tempfile.mkdtemp(prefix="skxsim-bench-")
    try:
        for n in sorted(set(args.sizes)):
            k = default_k(n)
            for name in args.cases:
                timeout = None
                if CASES[name][0] == "librosa":
                    if librosa_prev is not None:
                        n_prev, t_prev = librosa_prev
                        est = t_prev * (n / n_prev) ** 2
                        if est > args.timeout_librosa:
                            notes[(n, name)] = f"skipped (est. {est:.0f} s)"
                            progress(f"n={n} {name}: skipped (est. {est:.0f} s "
                                     f"> --timeout-librosa {args.timeout_librosa:g})")
                            librosa_prev = (n, est)
                            continue
                    timeout = 2 * args.timeout_librosa
                progress(f"n={n} k={k} {name} ...")
                r = _run_case(name, n, args.d, k, args, edges_dir, timeout)
                records.append(r)
                if "error" in r:
                    progress(f"    error: {r['error']}")
                    if CASES[name][0] == "librosa":
                        librosa_prev = (n, math.inf)
                    continue
                if CASES[name][0] == "librosa":
                    librosa_prev = (n, r["total_s"])
                progress(f"    fit {_fmt(r['fit_s'])} s, query {_fmt(r['query_s'])} s"
                         f" ({r['repeats']} run(s)), peak RSS "
                         f"{r['peak_rss_mb']:.0f} MB")
        info["load_avg_end"] = _load_avg()
        report = build_report(info, sorted(set(args.sizes)), records, notes, args)
    finally:
        shutil.rmtree(edges_dir, ignore_errors=True)

    print(report)
    if args.md:
        with open(args.md, "w") as f:
            f.write(report + "\n")
    if args.json:
        payload = {
            "machine": info,
            "args": {k: v for k, v in vars(args).items()},
            "results": [{k: v for k, v in r.items() if k != "edges_path"}
                        for r in records],
            "notes": {("general" if key == "general" else f"{key[1]}@{key[0]}"): v
                      for key, v in notes.items()},
        }
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
