"""The markdown report of the alignment benchmark and issue 17's targets."""

from __future__ import annotations

import statistics

import _align_methods as methods
import _align_metrics as metrics
import _report
from _report import fmt

MAE_SLACK_MS = 5.0  # skxsim's MAE <= best peer's + this, at every length
MAE_LONG_MS, LONG_LENGTHS = 80.0, (60, 120)
TIME_60_S, MEMORY_60_MB = 3.0, 500.0
COST_RATIO_MAX = 1.005
MATCH_ACCURACY, MATCH_S_PER_QUERY_HOUR = 0.85, 0.05
NO_FIT = ("librosa-subseq",)  # matching methods with nothing to fit


def length_label(length, pairs):
    group = [p for p in pairs if p["length"] == length]
    if length == "single":
        return f"{len(group)} single chorales"
    minutes = group[0]["n_ref"] * 512 / 22050 / 60
    return f"{length} min (A {minutes:.1f} min, {len(group[0]['pieces'])} chorales)"


def _ok(records, task):
    return {
        (r["method"], r["length"]): r
        for r in records
        if r["task"] == task and "error" not in r
    }


def _cell(key, notes, records):
    if key in notes:
        return notes[key].split(":")[0]
    for r in records:
        if f"{r['task']}/{r['method']}/{r['length']}" == key and "error" in r:
            return "error" if "timeout" not in r["error"] else "timeout"
    return "—"


def align_stats(r):
    """Mean MAE, seconds per pair, peak MB above inputs, invalid and crashed pairs.

    None when every pair crashed; the means are over the pairs that ran.
    """
    ps = [p for p in r["pairs"] if "error" not in p]
    if not ps:
        return None
    return {
        "mae": sum(p["mae_ms"] for p in ps) / len(ps),
        "mae_max": max(p["mae_ms"] for p in ps),
        "seconds": sum(p["seconds"] for p in ps) / len(ps),
        "memory": max(max(p["rss_above_mb"], p["traced_mb"] or 0.0) for p in ps),
        "invalid": sum(1 for p in ps if p["invalid"]),
        "crashed": len(r["pairs"]) - len(ps),
        "n": len(r["pairs"]),
    }


def alignment_tables(pairs, records, notes):
    ok = _ok(records, "align")
    lengths = list(dict.fromkeys(p["length"] for p in pairs))
    ran = [
        m
        for m in methods.ALIGN
        if any(k[0] == m for k in ok) or any(k.startswith(f"align/{m}/") for k in notes)
    ]
    head = "| method | " + " | ".join(length_label(x, pairs) for x in lengths) + " |"
    rule = "|---|" + "---:|" * len(lengths)
    out = []
    for title, field, digits in (
        ("MAE (ms; mean over pairs, worst pair in brackets for several)", "mae", 3),
        ("Time (seconds per pair)", "seconds", 3),
        ("Peak memory above the inputs (MB)", "memory", 3),
    ):
        out += ["", f"### {title}", "", head, rule]
        for m in ran:
            row = []
            for length in lengths:
                r = ok.get((m, length))
                if r is None:
                    row.append(_cell(f"align/{m}/{length}", notes, records))
                    continue
                s = align_stats(r)
                if s is None:
                    row.append("error")
                    continue
                text = fmt(s[field], digits)
                if field == "mae" and s["n"] > 1:
                    text += f" ({fmt(s['mae_max'], 3)})"
                if field == "mae" and s["invalid"]:
                    text += f", {s['invalid']} invalid"
                if s["crashed"]:
                    text += f"; {s['crashed']}/{s['n']} pairs crashed"
                row.append(text)
            out.append(f"| {m} | " + " | ".join(row) + " |")
    return out


def cost_ratios(records, best):
    """{(method, length): [path cost / optimum per pair]} where known."""
    out = {}
    for (m, length), r in _ok(records, "align").items():
        ratios = [
            p["cost"] / best[p["input"]]
            for p in r["pairs"]
            if best.get(p["input"]) and "error" not in p
        ]
        if ratios:
            out[(m, length)] = ratios
    return out


def cost_table(pairs, records, best):
    ratios = cost_ratios(records, best)
    out = [
        "| method | length | pairs | min | median | 90th pct | max | within 0.5% |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (m, length), values in ratios.items():
        s = metrics.summary(values)
        within = sum(1 for v in values if v <= COST_RATIO_MAX)
        out.append(
            f"| {m} | {length_label(length, pairs)} | {s['n']} | {s['min']:.4f} "
            f"| {s['median']:.4f} | {s['p90']:.4f} | {s['max']:.4f} | {within}/{s['n']} |"
        )
    return out


def matching_table(archives, records, notes):
    ok = _ok(records, "match")
    ran = [
        m
        for m in methods.MATCH
        if any(k[0] == m for k in ok) or any(k.startswith(f"match/{m}/") for k in notes)
    ]
    labels = [
        f"{a['length'] / 60:g} h ({a['pieces']} pieces)"
        if a["length"] >= 60
        else f"{a['length']:g} min ({a['pieces']} pieces)"
        for a in archives
    ]
    out = [
        "| method | " + " | ".join(labels) + " |",
        "|---|" + "---:|" * len(archives),
    ]
    for m in ran:
        row = []
        for a in archives:
            r = ok.get((m, a["length"]))
            if r is None:
                row.append(_cell(f"match/{m}/{a['length']}", notes, records))
                continue
            fit = "no fit" if m in NO_FIT else f"fit {fmt(r['fit_s'], 2)} s"
            row.append(
                f"{100 * r['accuracy']:.0f}% · {fmt(r['s_per_query_hour'], 3)} s/q/h "
                f"· {fit} · {r['rss_above_mb']:.0f} MB"
            )
        out.append(f"| {m} | " + " | ".join(row) + " |")
    out += ["", "Median absolute error of the found start / end (s):", ""]
    out += [
        "| method | " + " | ".join(labels) + " |",
        "|---|" + "---:|" * len(archives),
    ]
    for m in ran:
        row = []
        for a in archives:
            r = ok.get((m, a["length"]))
            if r is None:
                row.append("—")
                continue
            start = statistics.median(abs(x) for x in r["start_error_s"])
            end = statistics.median(abs(x) for x in r["end_error_s"])
            row.append(f"{start:.2f} / {end:.2f}")
        out.append(f"| {m} | " + " | ".join(row) + " |")
    return out


def targets(pairs, archives, records, best):
    """[(text, ok)] for skxsim's default faces, issue 17's targets."""
    ok, out = _ok(records, "align"), []
    lengths = list(dict.fromkeys(p["length"] for p in pairs))
    ratios = cost_ratios(records, best)
    for face in methods.SKXSIM_ALIGN:
        for length in lengths:
            r = ok.get((face, length))
            if r is None:
                continue
            s = align_stats(r)
            if s is None or s["crashed"]:
                out.append((f"{face} {length}: pairs crashed", False))
                if s is None:
                    continue
            peers = [
                stats["mae"]
                for (m, x), p in ok.items()
                if x == length and m not in methods.SKXSIM_ALIGN
                for stats in [align_stats(p)]
                if stats is not None
            ]
            if peers:
                limit = min(peers) + MAE_SLACK_MS
                out.append(
                    (
                        f"{face} {length}: MAE {s['mae']:.0f} <= best peer "
                        f"{min(peers):.0f} + {MAE_SLACK_MS:g} ms",
                        s["mae"] <= limit,
                    )
                )
            if length in LONG_LENGTHS:
                out.append(
                    (
                        f"{face} {length} min: MAE {s['mae']:.0f} <= {MAE_LONG_MS:g} ms",
                        s["mae"] <= MAE_LONG_MS,
                    )
                )
            if length == 60:
                out.append(
                    (
                        f"{face} 60 min: {s['seconds']:.2f} s <= {TIME_60_S:g} s",
                        s["seconds"] <= TIME_60_S,
                    )
                )
                out.append(
                    (
                        f"{face} 60 min: {s['memory']:.0f} MB <= {MEMORY_60_MB:g} MB",
                        s["memory"] <= MEMORY_60_MB,
                    )
                )
            if s["invalid"]:
                out.append((f"{face} {length}: {s['invalid']} invalid paths", False))
            values = ratios.get((face, length))
            if values:
                out.append(
                    (
                        f"{face} {length}: worst cost ratio {max(values):.4f} <= "
                        f"{COST_RATIO_MAX}",
                        max(values) <= COST_RATIO_MAX,
                    )
                )
    for (m, length), r in _ok(records, "match").items():
        if m != "skxsim":
            continue
        out.append(
            (
                f"match {length:g} min: {100 * r['accuracy']:.0f}% >= "
                f"{100 * MATCH_ACCURACY:.0f}%",
                r["accuracy"] >= MATCH_ACCURACY,
            )
        )
        out.append(
            (
                f"match {length:g} min: {r['s_per_query_hour']:.3g} s/query/hour <= "
                f"{MATCH_S_PER_QUERY_HOUR}",
                r["s_per_query_hour"] <= MATCH_S_PER_QUERY_HOUR,
            )
        )
        check = r.get("match_many", {})
        if "dask_identical" in check:
            out.append(
                (f"match {length:g} min: Dask identical", check["dask_identical"])
            )
        if "error" in check:
            out.append((f"match {length:g} min: match_many {check['error']}", False))
    return out


def details(records):
    out = [
        "| task | method | length | subprocess s | other CPU % | result |",
        "|---|---|---|---:|---:|---|",
    ]
    for r in records:
        if "error" in r:
            result = f"error: {r['error']}"
        elif r["task"] == "align":
            runs = sorted({p["runs"] for p in r["pairs"] if "error" not in p})
            result = f"{len(r['pairs'])} pair(s)"
            if runs:
                result += f", timed calls per pair {runs}"
            crashed = [p for p in r["pairs"] if "error" in p]
            if crashed:
                result += f"; {len(crashed)} crashed: {crashed[0]['error']}"
        else:
            mm = r.get("match_many")
            result = f"{sum(r['correct'])}/{r['n_queries']} correct" + (
                f"; match_many {mm}" if mm else ""
            )
        out.append(
            f"| {r['task']} | {r['method']} | {r['length']} "
            f"| {fmt(r.get('subprocess_s'), 3)} | {fmt(r.get('other_cpu_pct'), 2)} | {result} |"
        )
    return out


def full_report(pairs, archives, records, best, notes, machine, args):
    lines = ["# skxsim alignment and matching benchmark (issue 17)", ""]
    lines += _report.header(machine, args, full=False)
    lines += [
        "- data: music21 scores rendered by FluidSynth (A constant tempo, B +-25% "
        "tempo curve, lead-in, other GM programs, 30 dB white noise), "
        "librosa chroma_cqt hop 512 at 22050 Hz (43.07 frames/s), float32; query = B, "
        f"reference = A; data ready in {fmt(machine.get('data_s'), 3)} s",
        "- timing: fresh subprocess per (method, length); a warm-up call on small "
        f"slices; median of up to {args.repeats} calls below {args.single_above:g} s, "
        "else one call; memory = max(RSS high-water minus RSS before the call, "
        "tracemalloc peak)",
    ]
    if pairs:
        lines += ["", "## Alignment (B onto A)"] + alignment_tables(
            pairs, records, notes
        )
        lines += ["", "### Path cost / full DTW's optimum (chord, weights 1, 1.5, 1.5)", ""]
        lines += cost_table(pairs, records, best) if best else ["(no optimum computed)"]
    if archives:
        lines += [
            "",
            "## Matching (15-30 s queries from B in an archive of A versions)",
            "",
            "Cells: fraction correct (start and end within 1 s) · seconds per query "
            "per hour of archive after fit · fit seconds · peak RSS above inputs.",
            "",
        ]
        lines += matching_table(archives, records, notes)
    items = targets(pairs, archives, records, best)
    lines += ["", "## Issue 17's targets (skxsim, defaults)", ""]
    if items:
        lines += [f"- {'ok' if good else '**MISS**'}: {text}" for text, good in items]
    else:
        lines.append(
            "- skxsim's alignment API did not run (see notes): nothing checked"
        )
    return "\n".join(lines + runs_and_notes(records, notes)) + "\n"


def runs_and_notes(records, notes) -> list[str]:
    """The report's last sections: every subprocess run, then the notes."""
    lines = ["", "## Runs", ""] + details(records)
    general = notes.get("general", [])
    other = [f"{k}: {v}" for k, v in notes.items() if k != "general"]
    if general or other:
        lines += ["", "## Notes", ""] + [f"- {t}" for t in general + other]
    return lines
