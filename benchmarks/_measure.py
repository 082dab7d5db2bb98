"""Child side: one (case, method) in a fresh interpreter; times and memory.

Protocol, for every method alike:

1. load the two cached datasets (``np.load``) in the requested layout and
   dtype, import the method's library, build the callable;
2. record the RSS (the baseline: interpreter, libraries, inputs), reset the
   RSS high-water mark, and make a first, untimed warm-up call.  If it took
   longer than ``single_above`` seconds, it is the only run and is reported
   (marked cold);
3. otherwise one call under ``tracemalloc`` (untimed; its peak is the
   "traced" memory figure; not for librosa, whose Python row loop runs
   about 5x slower traced), then timed calls: at least ``repeats``, and
   more until they add up to ``min_time`` seconds (at most ``MAX_RUNS``).
   Reported times are medians.

Memory is measured two ways, because each misses something:

* peak RSS above the baseline (Linux ``VmHWM``, reset through
  ``/proc/self/clear_refs`` before the calls, so a peak is the calls' own and
  not the driver's, which ``ru_maxrss`` would carry over ``exec``).  It sees
  everything the process touches, including memory C/C++ code allocates
  outside Python (faiss, scikit-learn's Cython buffers, BLAS buffers, thread
  stacks), but also pages the allocator keeps after a free, so it can
  overstate; it can understate when a call reuses pages freed before the
  baseline.
* the ``tracemalloc`` peak of one call above what was traced at its start.
  numpy reports its array allocations to tracemalloc, so this is exact for
  everything held in numpy arrays and Python objects, and blind to C/C++
  allocations outside them.

The figure checked against the memory target is the larger of the two.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import tracemalloc

try:
    import resource
except ImportError:  # Windows: no peak-memory or CPU-accounting figures
    resource = None

import _cases

RESULT_MARKER = "@@BENCH-RESULT@@"
MAX_RUNS = 50


def load_frames(x_path, r_path, dtype, layout):
    """(X, R, Xf, Rf): frames as rows and in librosa's (d, n) orientation.

    ``layout`` "native" keeps the arrays as librosa (or the generator)
    returned them; "rows" makes the ``(n, d)`` frames C-contiguous; "features"
    makes the ``(d, n)`` arrays C-contiguous.  The other orientation is a
    transposed view, as a user's ``chroma.T`` is.
    """
    import numpy as np

    out = []
    for path in (x_path, r_path):
        feats = np.load(path)
        if dtype is not None and feats.dtype != dtype:
            feats = feats.astype(dtype)  # order "K": keeps the layout
        if layout == "rows":
            feats = np.ascontiguousarray(feats.T).T
        elif layout == "features":
            feats = np.ascontiguousarray(feats)
        out.append(feats)
    Xf, Rf = out
    return Xf.T, Rf.T, Xf, Rf


def current_rss():
    """Resident set size now, in bytes (Linux /proc; else the peak so far)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return peak_rss()


def peak_rss():
    """Peak RSS of this process image, bytes: VmHWM on Linux, else ru_maxrss."""
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


def reset_peak_rss():
    """Reset the peak RSS to the current RSS (Linux >= 4.0); True if done."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def output_bytes(out):
    import scipy.sparse

    if scipy.sparse.issparse(out):
        return sum(a.nbytes for a in (out.data, out.indices, out.indptr))
    return int(out.nbytes)


def neighbour_columns(out, orientation):
    """(counts per query row, reference columns, row-major): the found pairs."""
    import numpy as np
    import scipy.sparse

    if scipy.sparse.issparse(out):
        graph = out.tocsr() if orientation == "rows" else out.T.tocsr()
        graph.eliminate_zeros()  # 0/1 float connectivity: keep the ones
        graph.sort_indices()
        return np.diff(graph.indptr), graph.indices.astype(np.int64)
    if orientation == "rows":
        rows, cols = np.nonzero(out)
        n = out.shape[0]
    else:  # (n_ref, n): C-order nonzero, then grouped by query frame
        cols, rows = np.nonzero(out)
        order = np.argsort(rows, kind="stable")
        rows, cols = rows[order], cols[order]
        n = out.shape[1]
    return np.bincount(rows, minlength=n), cols.astype(np.int64)


def child_main(spec):
    import numpy as np
    import scipy.sparse  # noqa: F401  (imported before the memory baseline)

    method = spec["method"]
    X, R, Xf, Rf = load_frames(
        spec["x_path"], spec["r_path"], spec["dtype"], spec["layout"]
    )
    run = _cases.build_runner(method, X, R, Xf, Rf, spec["k"])
    gc.collect()
    rss_before = current_rss()
    peak_reset = reset_peak_rss()

    fit_s, query_s, out, info = run()
    first_total = (fit_s or 0.0) + query_s
    peak = peak_rss()
    times = [(fit_s, query_s)]
    traced = traced_s = None
    cold = first_total > spec["single_above"]
    if not cold and spec.get("trace", True):
        out = None
        gc.collect()
        tracemalloc.start()
        start, _ = tracemalloc.get_traced_memory()
        t0 = time.perf_counter()
        out, info = run()[2:]
        traced_s = time.perf_counter() - t0
        traced = tracemalloc.get_traced_memory()[1] - start
        tracemalloc.stop()
    if not cold:
        out = None
        gc.collect()
        reset_peak_rss()
        times = []
        while len(times) < spec["repeats"] or (
            sum((f or 0.0) + q for f, q in times) < spec["min_time"]
            and len(times) < MAX_RUNS
        ):
            out = None
            gc.collect()
            fit_s, query_s, out, info = run()
            times.append((fit_s, query_s))
        peak = max(peak, peak_rss())

    n, n_ref = X.shape[0], R.shape[0]
    result = {
        "case": spec["case"],
        "method": method,
        "n": n,
        "n_ref": n_ref,
        "d": X.shape[1],
        "k": spec["k"],
        "dtype": str(X.dtype),
        "frames_c_contiguous": bool(X.flags.c_contiguous),
        "out_type": type(out).__name__,
        "out_dtype": str(out.dtype),
        "out_shape": list(out.shape),
        "algorithm": info.get("algorithm", ""),
        "runs": len(times),
        "cold": cold,
        "fit_s": float(np.median([f for f, _ in times]))
        if times[0][0] is not None
        else None,
        "query_s": float(np.median([q for _, q in times])),
        "total_s": float(np.median([(f or 0.0) + q for f, q in times])),
        "first_s": first_total,
        "all_total_s": [(f or 0.0) + q for f, q in times],
        "traced_call_s": traced_s,
        "rss_before_mb": rss_before / 2**20,
        "peak_reset": peak_reset,
        "rss_above_mb": max(0, peak - rss_before) / 2**20,
        "traced_mb": None if traced is None else traced / 2**20,
        "inputs_mb": (X.nbytes + R.nbytes) / 2**20,
        "output_mb": output_bytes(out) / 2**20,
    }
    if method != "floor" and spec.get("edges_path"):
        counts, cols = neighbour_columns(out, _cases.output_orientation(method))
        np.savez(spec["edges_path"], counts=counts, cols=cols)
        result["edges_path"] = spec["edges_path"]
    print(RESULT_MARKER + json.dumps(result), flush=True)
