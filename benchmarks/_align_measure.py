"""Child side of the alignment benchmark: one method, one task, fresh process.

Protocol, for every method alike:

1. import the method's library and load the inputs (``np.load``);
2. warm up on small slices (the first 1500 frames of the first query and
   reference; for matching, one query against the first 20000 archive
   frames), so that numba compilation and first-call caches are not timed;
3. per pair (alignment) or per archive (matching): ``gc.collect()``, record
   the RSS, reset the RSS high-water mark (``_measure``), make the timed
   call(s).  A call shorter than ``single_above`` seconds is repeated up to
   ``repeats`` times and the median reported; then, if ``trace``, one more
   call under ``tracemalloc``.

Memory above the inputs is the larger of (a) the RSS high-water mark over
the calls minus the RSS before them, which sees everything (numba's and
C++ allocations, BLAS buffers) but also pages an allocator keeps, and (b)
the tracemalloc peak of one call, which sees numpy arrays and Python
objects only (blind to numba's NRT and to linmdtw's C++).  See
``benchmarks/README.md``.
"""

from __future__ import annotations

import gc
import json
import statistics
import time
import tracemalloc

import _align_methods as methods
import _align_metrics as metrics
import _measure
import numpy as np

WARMUP_FRAMES = 1500
WARMUP_ARCHIVE = 20000


def _measured(call, single_above, repeats, trace):
    """(result, median seconds, runs, RSS above MB, traced MB or None)."""
    gc.collect()
    before = _measure.current_rss()
    _measure.reset_peak_rss()
    t0 = time.perf_counter()
    out = call()
    times = [time.perf_counter() - t0]
    while times[0] < single_above and len(times) < repeats:
        out = None
        gc.collect()
        t0 = time.perf_counter()
        out = call()
        times.append(time.perf_counter() - t0)
    rss = max(0, _measure.peak_rss() - before) / 2**20
    traced = None
    if trace and times[0] < single_above:
        gc.collect()
        tracemalloc.start()
        start = tracemalloc.get_traced_memory()[0]
        call()
        traced = (tracemalloc.get_traced_memory()[1] - start) / 2**20
        tracemalloc.stop()
    return out, statistics.median(times), len(times), rss, traced


def align_child(spec):
    run = methods.aligner(spec["method"])
    pairs = [dict(np.load(p)) | {"path": p} for p in spec["inputs"]]
    q0, r0 = pairs[0]["query"], pairs[0]["reference"]
    m = min(WARMUP_FRAMES, len(q0), len(r0))
    run(q0[:m], r0[:m])
    out = []
    for pair in pairs:
        q, r, truth = pair["query"], pair["reference"], pair["truth"]
        item = {"input": pair["path"], "n": len(q), "n_ref": len(r)}
        try:
            path, seconds, runs, rss, traced = _measured(
                lambda q=q, r=r: run(q, r),
                spec["single_above"],
                spec["repeats"],
                spec["trace"],
            )
        except Exception as exc:  # one pair crashing does not lose the others
            out.append(item | {"error": f"{type(exc).__name__}: {exc}"})
            continue
        path = np.asarray(path, dtype=np.int64)
        out.append(
            item
            | {
                "seconds": seconds,
                "runs": runs,
                "rss_above_mb": rss,
                "traced_mb": traced,
                "inputs_mb": (q.nbytes + r.nbytes) / 2**20,
                "mae_ms": metrics.mae_ms(path, truth, methods.FPS),
                "invalid": metrics.check_path(path, len(q), len(r)),
                "cost": metrics.path_cost(path, q, r),
                "n_steps": len(path),
            }
        )
    return {"pairs": out}


def optimum_child(spec):
    """librosa's full-DTW optimum ``D[-1, -1]`` per pair, under the cost the
    paths are measured with (``metrics.COST_METRIC``/``COST_WEIGHTS``)."""
    import librosa

    out = []
    for p in spec["inputs"]:
        with np.load(p) as data:
            q, r = data["query"], data["reference"]
        C = metrics.chord_matrix(q, r)
        D = librosa.sequence.dtw(
            C=C, weights_mul=np.array(metrics.COST_WEIGHTS), backtrack=False
        )
        out.append({"input": p, "optimum": float(D[-1, -1])})
        del C, D
    return {"pairs": out}


def match_child(spec):
    fit, query = methods.matcher(spec["method"])
    with np.load(spec["inputs"][0]) as data:
        archive, flat = data["archive"], data["queries"]
        bounds, truth = data["bounds"], data["truth"]
    queries = [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    warm = fit(archive[:WARMUP_ARCHIVE])
    query(warm, queries[0])
    del warm
    gc.collect()
    before = _measure.current_rss()
    _measure.reset_peak_rss()
    t0 = time.perf_counter()
    model = fit(archive)
    fit_s = time.perf_counter() - t0
    found, times = [], []
    for q in queries:
        t0 = time.perf_counter()
        found.append(query(model, q))
        times.append(time.perf_counter() - t0)
    rss = max(0, _measure.peak_rss() - before) / 2**20
    hours = len(archive) / methods.FPS / 3600
    correct = [
        metrics.match_correct(s, e, ts, te, methods.FPS)
        for (s, e), (ts, te) in zip(found, truth, strict=True)
    ]
    result = {
        "n_ref": len(archive),
        "hours": hours,
        "n_queries": len(queries),
        "fit_s": fit_s,
        "query_s": times,
        "s_per_query_hour": float(np.mean(times)) / hours,
        "correct": correct,
        "accuracy": float(np.mean(correct)),
        "found": [[int(s), int(e)] for s, e in found],
        # signed errors (s) of the found start and end, for diagnosis
        "start_error_s": [
            s / methods.FPS - ts for (s, _), (ts, _) in zip(found, truth, strict=True)
        ],
        "end_error_s": [
            e / methods.FPS - te for (_, e), (_, te) in zip(found, truth, strict=True)
        ],
        "rss_above_mb": rss,
        "inputs_mb": (archive.nbytes + flat.nbytes) / 2**20,
    }
    if spec["method"] == "skxsim":
        result["match_many"] = _match_many_check(model, queries, found, spec)
    return result


def _match_many_check(model, queries, found, spec):
    """``match_many`` (joblib) against ``match``, and on Dask against joblib."""
    out = {}
    try:
        t0 = time.perf_counter()
        local = methods.skxsim_match_many(model, queries, dask=False)
        out["joblib_s"] = time.perf_counter() - t0
        out["same_as_match"] = all(
            (int(s[0]), int(e[0])) == tuple(f)
            for (s, e, _), f in zip(local, found, strict=True)
        )
        if spec.get("dask"):
            t0 = time.perf_counter()
            remote = methods.skxsim_match_many(model, queries, dask=True)
            out["dask_s"] = time.perf_counter() - t0
            out["dask_identical"] = all(
                all(np.array_equal(a, b) for a, b in zip(x, y, strict=True))
                for x, y in zip(local, remote, strict=True)
            )
    except Exception as exc:  # report it, keep the measurement
        out["error"] = f"{type(exc).__name__}: {exc}"
    return out


def child_main(spec):
    import _align_diagnose as diagnose

    task = {
        "align": align_child,
        "optimum": optimum_child,
        "match": match_child,
        "diagnose": diagnose.diagnose_child,
        "optimal": diagnose.optimal_child,
    }
    result = task[spec["task"]](spec)
    result.update(task=spec["task"], method=spec["method"], key=spec["key"])
    print(_measure.RESULT_MARKER + json.dumps(result), flush=True)
