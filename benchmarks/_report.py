"""The markdown report: times, ratios, issue 8's targets, details."""

from __future__ import annotations

import math

import _cases
import _machine

PEER_MIN, PEER_AIM = 1.0, 1.5  # fastest exact peer / skxsim
AUTO_MAX = 1.10  # auto / fastest skxsim exact backend (issue 18)
LIBROSA_MIN = 10.0  # librosa / skxsim, where librosa runs
FLOOR_MAX, FLOOR_MIN_D = 1.5, 64  # skxsim / floor, where d >= 64
MEMORY_SLACK_MB = 100.0
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def fmt(x, digits=3):
    if x is None:
        return ""
    if isinstance(x, str):
        return x
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return str(x)
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.{max(0, digits - 1 - int(math.floor(math.log10(abs(x)))))}f}"


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return None
    return a / b


def peak_mb(r):
    """The memory figure the target is checked on: the larger of RSS and traced."""
    return max(r["rss_above_mb"], r.get("traced_mb") or 0.0)


def memory_limit_mb(r, machine):
    return r["output_mb"] + machine["sklearn_working_memory_mb"] + MEMORY_SLACK_MB


class Results:
    """Records indexed by (case, method); failed and skipped runs kept apart."""

    def __init__(self, records, notes):
        self.ok = {(r["case"], r["method"]): r for r in records if "error" not in r}
        self.failed = {(r["case"], r["method"]): r for r in records if "error" in r}
        self.notes = notes  # (case, method) -> text, "general" -> [text]

    def get(self, case, method):
        return self.ok.get((case, method))

    def cell(self, case, method):
        """What to print where a number would go when there is none."""
        if (case, method) in self.notes:
            return self.notes[(case, method)].split(":")[0]
        if (case, method) in self.failed:
            return "error"
        return "—"


def targets(case, face, res, machine):
    """[(label, value text, ok or None)] for one skxsim face on one case."""
    r = res.get(case.name, face)
    if r is None:
        return []
    t = r["total_s"]
    out = []
    peers = [res.get(case.name, p) for p in _cases.PEERS]
    peers = [p for p in peers if p is not None]
    if peers:
        best = min(peers, key=lambda p: p["total_s"])
        q = best["total_s"] / t
        label = f"peer ({best['method']}) {fmt(q, 2)}x"
        if PEER_MIN <= q < PEER_AIM:
            label += f" (aim {PEER_AIM:g}x)"
        out.append((label, q >= PEER_MIN))
    faiss = res.get(case.name, "faiss")
    if case.faiss_min is not None and faiss is not None:
        aim = case.faiss_min[face != "skxsim"]
        q = faiss["total_s"] / t
        out.append((f"faiss {fmt(q, 2)}x (aim {aim:g}x)", q >= aim))
    if face == "skxsim":
        item = auto_target(case, res)
        if item is not None:
            out.append(item)
    lib = res.get(case.name, "librosa")
    if lib is not None:
        q = lib["total_s"] / t
        out.append((f"librosa {fmt(q, 2)}x", q >= LIBROSA_MIN))
    floor = res.get(case.name, "floor")
    if floor is not None and case.d >= FLOOR_MIN_D:
        q = t / floor["total_s"]
        most = FLOOR_MAX if case.floor_max is None else case.floor_max
        out.append((f"floor {fmt(q, 2)}x", q <= most))
    mem, limit = peak_mb(r), memory_limit_mb(r, machine)
    out.append((f"mem {mem:.0f}/{limit:.0f} MB", mem <= limit))
    return out


def fastest_backend(case, res):
    """The fastest of skxsim's exact backends measured on ``case``, or None."""
    runs = [res.get(case.name, m) for m in _cases.BACKENDS]
    runs = [r for r in runs if r is not None]
    return min(runs, key=lambda r: r["total_s"]) if runs else None


def auto_target(case, res):
    """(label, ok) for "auto is within AUTO_MAX of the fastest backend"."""
    auto, best = res.get(case.name, "skxsim"), fastest_backend(case, res)
    if auto is None or best is None:
        return None
    q = auto["total_s"] / best["total_s"]
    name = _cases.BACKENDS[best["method"]]
    return (f"auto ({auto.get('algorithm')}) {fmt(q, 3)}x {name}", q <= AUTO_MAX)


def targets_text(items):
    misses = [f"**MISS** {label}" for label, ok in items if not ok]
    oks = [f"{label} ok" for label, ok in items if ok]
    return " · ".join(misses + oks)


def header(machine, args, full=True):
    m = machine
    lines = [
        f"- commit: `{m['commit']}` (branch {m['branch']}); command: "
        f"`python {' '.join(args.argv)}`",
        f"- CPU: {m['cpu']}, {m['cpu_count']} CPUs ({m['usable_cpus']} usable)"
        + (f", {m['ram_gb']:.0f} GB RAM" if m["ram_gb"] else "")
        + f"; {m['platform']}",
    ]
    for text in _machine.blas_summary(m):
        lines.append(f"- threadpool: {text}")
    lines.append(
        "- versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    )
    lines.append(
        f"- machine load (1, 5, 15 min): {m['load_avg_start']} at start, "
        f"{m.get('load_avg_end')} at end; total run {fmt(m.get('run_s'), 3)} s"
        + (
            f"; other processes used {m['other_cpu_mean']:.0f}% of the CPUs on average "
            f"while measurements ran (max {m['other_cpu_max']:.0f}%)"
            if m.get("other_cpu_mean") is not None
            else ""
        )
    )
    if full:
        lines.append(
            f"- data: audio synthesized by `benchmarks/_audio.py` (22050 Hz, hop 512), "
            f"features by librosa {m['versions'].get('librosa')} (chroma_cqt, mfcc "
            f"n_mfcc=20, log-CQT 84 bins, a random-projection embedding of log-CQT); "
            f"dtype {args.dtype} (native: float32 as librosa returns features, float64 "
            f"for issue 3's walk); layout {args.layout}"
        )
        lines.append(
            f"- timing: one warm-up call, one traced call (memory; not for librosa), "
            f"then the median of "
            f">= {args.repeats} timed calls, more until {args.min_time:g} s (a single "
            f"cold call above {args.single_above:g} s); each (case, method) in a fresh "
            "subprocess"
        )
        lines.append(
            "- memory: peak above the inputs = max(RSS high-water over the calls minus "
            "RSS before them, tracemalloc peak of one call); limit = output + "
            f"working_memory ({m['sklearn_working_memory_mb']} MB) + "
            f"{MEMORY_SLACK_MB:.0f} MB"
        )
    return lines


def times_table(cases, res):
    cols = [
        "floor",
        "skxsim",
        "skxsim-1job",
        "skxsim-fn",
        "skxsim-blas",
        "skxsim-ckd",
        "sklearn",
        "faiss",
        "ckdtree",
        "librosa",
    ]
    head = (
        "| case | d | n × n_ref | k | dtype | floor `X @ R.T` | skxsim estimator "
        "(fit + transform; auto chose) | estimator `n_jobs=1` | "
        "`skxsim.cross_similarity` | estimator, BLAS engine | estimator, "
        "`ckd_tree` | scikit-learn auto (fit + query) | faiss flat (add + search) "
        "| scipy cKDTree (build + query) | librosa |"
    )
    lines = [head, "|---|---:|---:|---:|---|" + "---:|" * len(cols)]
    for case in cases:
        row = [
            case.name + (" (held out)" if _cases.HELD_OUT in case.tags else ""),
            str(case.d),
            f"{case.n} × {case.n_ref}",
            str(case.k_),
            case.dtype,
        ]
        for method in cols:
            r = res.get(case.name, method)
            if r is None:
                row.append(res.cell(case.name, method))
                continue
            text = fmt(r["total_s"])
            if r["fit_s"] is not None and method not in ("faiss", "ckdtree"):
                text = f"{fmt(r['fit_s'], 2)} + {fmt(r['query_s'])}"
            elif r["fit_s"] is not None:
                text = f"{fmt(r['total_s'])}"
            if r.get("algorithm") and method in ("sklearn", "skxsim"):
                text += f" ({r['algorithm']})"
            if r["cold"]:
                text += " (cold)"
            row.append(text)
        lines.append("| " + " | ".join(row) + " |")
    return lines


def ratios_table(cases, res, machine):
    lines = [
        "| case | face | seconds | / floor | scikit-learn / skxsim | faiss / skxsim "
        "| cKDTree / skxsim | librosa / skxsim | peak MB above inputs (limit) "
        "| targets |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    faces = [
        ("skxsim", "estimator"),
        ("skxsim-fn", "function"),
        ("skxsim-1job", "n_jobs=1"),
    ]
    for case in cases:
        floor = res.get(case.name, "floor")
        for face, label in faces:
            r = res.get(case.name, face)
            if r is None:
                continue
            t = r["total_s"]

            def peer(method, t=t, case=case):
                p = res.get(case.name, method)
                return (
                    fmt(ratio(p["total_s"], t), 3) if p else res.cell(case.name, method)
                )

            items = targets(case, face, res, machine)
            text = (
                targets_text(items)
                if face in _cases.SKXSIM_FACES
                else "(not a default)"
            )
            lines.append(
                f"| {case.name} | {label} | {fmt(t)} "
                f"| {fmt(ratio(t, floor and floor['total_s']))} "
                f"| {peer('sklearn')} | {peer('faiss')} | {peer('ckdtree')} "
                f"| {peer('librosa')} "
                f"| {peak_mb(r):.0f} ({memory_limit_mb(r, machine):.0f}) | {text} |"
            )
    return lines


def details_table(cases, res):
    lines = [
        "| case | method | chose | runs | fit s | query s | total s | / floor "
        "| RSS above MB | traced MB | output MB | exact rows | other CPU % |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case in cases:
        floor = res.get(case.name, "floor")
        for method in _cases.METHODS:
            r = res.get(case.name, method)
            if r is None:
                if (case.name, method) in res.notes or (
                    case.name,
                    method,
                ) in res.failed:
                    lines.append(
                        f"| {case.name} | {method} | | | | {res.cell(case.name, method)} "
                        "| | | | | | | |"
                    )
                continue
            check = r.get("check")
            exact = ""
            if check:
                exact = f"{100 * check['exact_rows']:.2f}%"
                if check["exact_rows"] < 1 and math.isfinite(check["worst_kth_excess"]):
                    exact += f" (k-th +{check['worst_kth_excess']:.1e})"
                if check["rows_without_k"]:
                    exact += f", {check['rows_without_k']} rows without k"
            runs = str(r["runs"]) + (" (cold)" if r["cold"] else "")
            lines.append(
                f"| {case.name} | {method} | {r.get('algorithm') or ''} | {runs} "
                f"| {fmt(r['fit_s'])} | {fmt(r['query_s'])} | {fmt(r['total_s'])} "
                f"| {fmt(ratio(r['total_s'], floor and floor['total_s']))} "
                f"| {r['rss_above_mb']:.0f} | {fmt(r.get('traced_mb'))} "
                f"| {fmt(r['output_mb'])} | {exact} | {fmt(r.get('other_cpu_pct'), 2)} |"
            )
    return lines


def misses(cases, res, machine):
    out = []
    for case in cases:
        for face in _cases.SKXSIM_FACES:
            for label, ok in targets(case, face, res, machine):
                if not ok:
                    out.append(f"{case.name} {face}: {label}")
    return out


def notes_lines(cases, res):
    lines = [f"- {text}" for text in res.notes.get("general", [])]
    names = {c.name for c in cases}
    for key, text in res.notes.items():
        if key != "general" and key[0] in names:
            lines.append(f"- {key[0]} / {key[1]}: {text}")
    for (case, method), r in res.failed.items():
        lines.append(f"- {case} / {method}: error: {r['error']}")
    return lines


def full_report(cases, res, machine, args):
    lines = ["# skxsim cross-similarity benchmark", ""]
    lines += header(machine, args)
    lines += ["", "## Times (seconds, median per call)", ""]
    lines += times_table(cases, res)
    lines += ["", "## Ratios and targets (issues 8 and 18)", ""]
    lines += [
        "Each skxsim face's time is fit + transform (estimator) or the whole call "
        "(function); peers likewise fit + query.  Targets (defaults only): "
        f"fastest exact peer / skxsim >= {PEER_MIN:g} (aim {PEER_AIM:g}); the "
        f"estimator's auto / its fastest exact backend <= {AUTO_MAX:g}; librosa / "
        f"skxsim >= {LIBROSA_MIN:g} where librosa runs; skxsim / floor <= "
        f"{FLOOR_MAX:g} where d >= {FLOOR_MIN_D}; peak memory above inputs <= output "
        f"+ working_memory + {MEMORY_SLACK_MB:.0f} MB.",
        "",
    ]
    lines += ratios_table(cases, res, machine)
    missed = misses(cases, res, machine)
    lines += [
        "",
        f"Targets missed: {len(missed)}" + (": " + "; ".join(missed) if missed else ""),
    ]
    lines += ["", "## All runs", ""]
    lines += details_table(cases, res)
    lines += ["", "Cases:", ""]
    for case in cases:
        lines.append(
            f"- `{case.name}`: {case.what}; d = {case.d}, {case.n} query frames, "
            f"{case.n_ref} reference frames, k = {case.k_}, {case.dtype}"
            + (
                "; held out from the calibration of auto's cost model"
                if _cases.HELD_OUT in case.tags
                else ""
            )
        )
    notes = notes_lines(cases, res)
    if notes:
        lines += ["", "## Notes", ""] + notes
    return "\n".join(lines) + "\n"


def readme_block(cases, res, machine, args):
    """The README's performance section body (between the bench markers)."""
    lines = [
        "Generated by `benchmarks/bench_cross_similarity.py` (see "
        "`benchmarks/README.md`); defaults everywhere, seconds per call, median.",
        "",
    ]
    lines += header(machine, args, full=False)
    lines += [""] + times_table(cases, res) + [""] + ratios_table(cases, res, machine)
    missed = misses(cases, res, machine)
    lines += [
        "",
        f"Targets missed: {len(missed)}" + (": " + "; ".join(missed) if missed else ""),
    ]
    return "\n".join(lines) + "\n"


def replace_block(text, block):
    """``text`` with the part between the bench markers replaced by ``block``."""
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"markers {README_START} ... {README_END} not found")
    return text[: start + len(README_START)] + "\n" + block + text[end:]
