"""Does ``Matcher`` find the optimal subsequence?  (issue 26)

Random archives (uniform frames, 12 features), queries cut from them at a
random tempo (0.8-1.25 archive frames per query frame, nearest-frame
resampling) with gaussian noise, 40-320 frames; the top match's cost
against the optimum of exact subsequence DTW over the whole archive
(``librosa.sequence.dtw(subseq=True)``, independent of skxsim's kernel),
with the matcher's metric (chord: euclidean on unit frames) and step
weights.  Also exact copies (every length 8..800, every pooling phase) at
several ``n_neighbors`` and ``tempo_range``: found at their span with cost
0?

``--no-scan`` forces the index path for queries the matcher would align
against the whole archive (``n * n_ref <= SCAN_CELLS``), except those too
short to have an excerpt at every pooling phase (fewer than ``pool *
(n_steps + 2)`` frames, 100 at the defaults), which are always scanned.

Run: ``python benchmarks/bench_matching_optimal.py [--queries 300]
[--archive 50000] [--md benchmarks/results_matching_optimal.md]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from skxsim import Matcher
from skxsim._alignment import _matching


def unit(X):
    norm = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norm == 0, 1, norm)


def optimum(query, archive, weights):
    import librosa

    D = librosa.sequence.dtw(
        X=unit(query).T,
        Y=unit(archive).T,
        metric="euclidean",
        weights_mul=np.asarray(weights, dtype=np.float64),
        subseq=True,
        backtrack=False,
    )
    return float(D[-1].min()) / len(query)


def planted(rng, archive, n, rate, noise):
    """``n`` query frames of ``archive`` from a random start at ``rate``
    archive frames per query frame, plus gaussian noise."""
    span = int(np.ceil(n * rate))
    start = int(rng.integers(0, len(archive) - span))
    positions = np.minimum(
        np.rint(start + np.arange(n) * rate).astype(int), len(archive) - 1
    )
    return archive[positions] + noise * rng.standard_normal(
        (n, archive.shape[1])
    ), start


def optimal_rate(args, matcher, archive, weights):
    rng = np.random.default_rng(args.seed + 1)
    hits, times, misses = 0, [], []
    for q in range(args.queries):
        n = int(rng.integers(40, 321))
        rate = float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
        query, start = planted(rng, archive, n, rate, args.noise)
        t0 = time.process_time()
        s, e, c = matcher.match(query)
        times.append(time.process_time() - t0)
        best = optimum(query, archive, weights)
        ok = len(c) and c[0] <= best * (1 + 1e-9) + 1e-12
        hits += bool(ok)
        if not ok:
            misses.append(
                f"query {q}: n={n} rate={rate:.3f} start={start}: returned "
                f"{(int(s[0]), int(e[0]), float(c[0])) if len(c) else None}, "
                f"optimum {best:.6g}"
            )
    return hits, times, misses


def exact_copies(args, archive):
    rng = np.random.default_rng(args.seed + 2)
    lengths = [8, 9, 13, 16, 20, 31, 32, 40, 64, 100, 200, 333, 400, 800]
    settings = [
        {"n_neighbors": k, "tempo_range": r}
        for k in (1, 5, 100, len(archive), 10**9)
        for r in ((0.7, 1.4), (0.9, 1.1), (1.0, 1.0), (0.5, 2.0))
    ]
    rows = []
    for params in settings:
        matcher = Matcher(**params).fit(archive)
        found = 0
        total = 0
        for n in lengths:
            for _ in range(args.copies):
                start = int(rng.integers(0, len(archive) - n))
                s, e, c = matcher.match(archive[start : start + n])
                total += 1
                found += bool(
                    len(c) and (s[0], e[0], c[0]) == (start, start + n - 1, 0)
                )
        rows.append((params, found, total))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--archive", type=int, default=50000, help="archive frames")
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--copies", type=int, default=3, help="exact copies per length")
    parser.add_argument("--no-scan", action="store_true")
    parser.add_argument("--no-copies", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--md", metavar="PATH")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if args.no_scan:
        _matching.SCAN_CELLS = 0
    archive = np.random.default_rng(args.seed).random((args.archive, 12))
    matcher = Matcher().fit(archive)
    lines = [
        "# Matcher against exact subsequence DTW (issue 26)",
        "",
        f"`python {' '.join(['benchmarks/bench_matching_optimal.py', *argv])}`"
        f" · load {os.getloadavg()[0]:.2f}",
        "",
    ]
    hits, times, misses = optimal_rate(args, matcher, archive, matcher.step_weights)
    # Shorter queries have too few excerpts for the index: always scanned.
    shortest = matcher.pool_ * (matcher.n_steps_ + 2)
    forced = f" (index path forced from {shortest} frames)"
    lines += (
        []
        if not args.queries
        else [
            f"Random archive of {args.archive} frames, {args.queries} queries of "
            f"40-320 frames at tempo 0.8-1.25, noise {args.noise}"
            f"{forced if args.no_scan else ''}: top match optimal in "
            f"**{hits}/{args.queries} ({100 * hits / args.queries:.1f}%)**; "
            f"{1000 * np.mean(times):.1f} ms per query (process time).",
            "",
            *[f"- {m}" for m in misses],
        ]
    )
    if not args.no_copies:
        lines += ["", "Exact copies found at their span with cost 0:", ""]
        for params, found, total in exact_copies(args, archive[:20000]):
            lines.append(f"- {params}: {found}/{total}")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.md:
        with open(args.md, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
