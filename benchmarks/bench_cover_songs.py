#!/usr/bin/env python
"""Cover-song identification on Bach's chorales: skxsim against its peers.

Data: the chroma of the chorales of :func:`skxsim.datasets.load_bach_chorales`
that share their tune with another chorale (``min_versions=2``; an eighth-note
grid).  A seeded subset of them are the queries (``--queries``, default 30,
``all`` for every one); each query is ranked against every *other* chorale of
the set, and the chorales of its own tune are the relevant answers.

Methods, on the same chroma, in one run:

* ``skxsim``: ``CoverSongIndex()`` with its defaults (OTI, stacks of 9 frames,
  mutual k-NN with k = 0.095, Qmax 0.5/0.5), fitted on the set,
  ``kneighbors`` of the queries; ``n_jobs=1`` and ``n_jobs=2``.
* ``skxsim-pairwise``: :func:`skxsim.cover_song_distance`, one pair at a time
  (the same values; shows what batching the catalogue saves).
* ``essentia``: essentia's default pipeline, ``ChromaCrossSimilarity()`` then
  ``CoverSongSimilarity()`` (asymmetric distance), one pair at a time; on one
  core and, with joblib over the queries, on two.
* ``librosa``: the recipe of librosa's documentation: OTI (essentia's
  definition, in numpy), ``stack_memory(n_steps=9)``,
  ``segment.cross_similarity(k = 0.095 n_ref)`` (one-sided k-NN),
  ``sequence.rqa(knight_moves=True, gap_onset=0.5, gap_extend=0.5)``, and
  ``sqrt(n_ref) / max``; one pair at a time, on one core and on two.
* ``librosa+skxsim.xsim``: the same recipe with ``skxsim.cross_similarity``.

Metrics (computed here, independently of ``CoverSongIndex.score``): MAP (mean
average precision), MR1 (mean rank of the first relevant chorale, 1 = best),
P@1 (fraction of queries whose top answer is relevant), and wall time per
(query, candidate) pair of the whole all-pairs run (for skxsim: ``fit`` and
``kneighbors``).  Ties in a ranking keep the catalogue order, for every
method alike.

Usage::

    python benchmarks/bench_cover_songs.py                       # 30 queries
    python benchmarks/bench_cover_songs.py --queries all --methods skxsim essentia
    python benchmarks/bench_cover_songs.py --md table.md
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np
from joblib import Parallel, delayed

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

METHODS = [
    "skxsim",
    "skxsim-2jobs",
    "skxsim-pairwise",
    "essentia",
    "essentia-2jobs",
    "librosa",
    "librosa-2jobs",
    "librosa+skxsim.xsim",
]


# -- the peers, one pair at a time -----------------------------------------


def essentia_row(query, candidates):
    """essentia's default pipeline for one query against its candidates."""
    import essentia

    essentia.log.infoActive = False
    import essentia.standard as es

    csm = es.ChromaCrossSimilarity()
    align = es.CoverSongSimilarity()
    return [float(align(csm(query, reference))[1]) for reference in candidates]


def oti(query, reference, n_shifts=12):
    """essentia's OTI: rotation of the reference (up) that best matches."""

    def profile(x):
        g = x.sum(axis=0)
        return g / g.max() if g.max() > 0 else g

    q, r = profile(query), profile(reference)
    return int(np.argmax([q @ np.roll(r, i) for i in range(n_shifts + 1)]))


def librosa_row(query, candidates, xsim_function=None):
    """librosa's recipe for one query against its candidates."""
    import librosa

    xsim_function = xsim_function or librosa.segment.cross_similarity
    stacked_query = librosa.feature.stack_memory(query.T, n_steps=9)
    out = []
    for reference in candidates:
        rotated = np.roll(reference, oti(query, reference), axis=1)
        stacked_ref = librosa.feature.stack_memory(rotated.T, n_steps=9)
        n_ref = stacked_ref.shape[1]
        xsim = xsim_function(stacked_query, stacked_ref, k=max(1, int(0.095 * n_ref)))
        score = librosa.sequence.rqa(
            xsim.astype(np.float64),
            gap_onset=0.5,
            gap_extend=0.5,
            knight_moves=True,
            backtrack=False,
        ).max()
        out.append(np.sqrt(n_ref) / score if score > 0 else np.inf)
    return out


def skxsim_xsim_row(query, candidates):
    import skxsim

    return librosa_row(query, candidates, skxsim.cross_similarity)


def skxsim_pairwise_row(query, candidates):
    from skxsim import cover_song_distance

    return [cover_song_distance(query, reference) for reference in candidates]


def pairwise(row_function, X, queries, n_jobs):
    """Dissimilarities (n_queries, n_catalogue), the query itself excluded."""
    rows = Parallel(n_jobs=n_jobs)(
        delayed(row_function)(X[q], [X[c] for c in range(len(X)) if c != q])
        for q in queries
    )
    D = np.full((len(queries), len(X)), np.nan)
    for i, (q, row) in enumerate(zip(queries, rows, strict=True)):
        D[i, [c for c in range(len(X)) if c != q]] = row
    return D


def skxsim_index(X, y, queries, n_jobs):
    from skxsim import CoverSongIndex

    index = CoverSongIndex(n_jobs=n_jobs).fit(X, y)
    # The queries are catalogue recordings: kneighbors leaves each out of
    # its own ranking.
    dist, ind = index.kneighbors([X[q] for q in queries])
    D = np.full((len(queries), len(X)), np.nan)
    np.put_along_axis(D, ind, dist, axis=1)
    return D


# -- metrics -----------------------------------------------------------------


def ranking_metrics(D, queries, y):
    """MAP, MR1 and P@1 of dissimilarity rows (NaN: not a candidate)."""
    aps, first_ranks, top = [], [], []
    for i, q in enumerate(queries):
        candidates = np.flatnonzero(~np.isnan(D[i]))
        order = candidates[np.argsort(D[i, candidates], kind="stable")]
        relevant = y[order] == y[q]
        ranks = np.flatnonzero(relevant) + 1
        aps.append(np.mean(np.arange(1, len(ranks) + 1) / ranks))
        first_ranks.append(ranks[0])
        top.append(relevant[0])
    return float(np.mean(aps)), float(np.mean(first_ranks)), float(np.mean(top))


def run(method, X, y, queries):
    n_jobs = 2 if method.endswith("-2jobs") else 1
    base = method.removesuffix("-2jobs")
    if base == "skxsim":
        return skxsim_index(X, y, queries, n_jobs)
    function = {
        "skxsim-pairwise": skxsim_pairwise_row,
        "essentia": essentia_row,
        "librosa": librosa_row,
        "librosa+skxsim.xsim": skxsim_xsim_row,
    }[base]
    return pairwise(function, X, queries, n_jobs)


def available(method):
    import importlib.util

    needs = {"essentia": "essentia", "librosa": "librosa"}
    for prefix, module in needs.items():
        if method.startswith(prefix) and importlib.util.find_spec(module) is None:
            return False
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", default="30", help="a number, or 'all'")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--md", default=None, help="also write the table here")
    args = parser.parse_args(argv)

    from skxsim.datasets import load_bach_chorales

    X, y = load_bach_chorales(min_versions=2, data_home=args.data_home, return_X_y=True)
    y = np.asarray(y)
    rng = np.random.default_rng(args.seed)
    if args.queries == "all":
        queries = np.arange(len(X))
    else:
        queries = np.sort(rng.choice(len(X), size=int(args.queries), replace=False))
    n_pairs = len(queries) * (len(X) - 1)
    lengths = [len(x) for x in X]
    print(
        f"{len(X)} chorales in {len(set(y))} tunes, {len(queries)} queries x "
        f"{len(X) - 1} candidates = {n_pairs} pairs; frames per chorale: "
        f"{min(lengths)}..{max(lengths)} (median {int(np.median(lengths))})",
        file=sys.stderr,
    )

    # Warm-up: imports, numba compilation of librosa's rqa, essentia's
    # algorithm registry, joblib's worker processes; none of it is timed.
    for method in args.methods:
        if available(method):
            run(method, X[:3], y[:3], [0])

    rows = []
    for method in args.methods:
        if not available(method):
            print(f"skipped {method}: not installed", file=sys.stderr)
            continue
        start, cpu_start = time.perf_counter(), time.process_time()
        D = run(method, X, y, queries)
        elapsed = time.perf_counter() - start
        # CPU time of this process: meaningful for the one-process methods
        # (the -2jobs ones work in other processes).
        cpu = None if "2jobs" in method else time.process_time() - cpu_start
        map_, mr1, p1 = ranking_metrics(D, queries, y)
        rows.append((method, map_, mr1, p1, elapsed / n_pairs * 1e3, elapsed, cpu))
        print(f"{method}: {elapsed:.1f} s", file=sys.stderr)

    wall = {r[0]: r[4] for r in rows}
    reference = "skxsim-2jobs" if "skxsim-2jobs" in wall else "skxsim"
    lines = [
        f"Bach chorales (music21), eighth-note chroma: {len(queries)} queries x "
        f"{len(X) - 1} candidates ({n_pairs} pairs); {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        "| method | MAP | MR1 | P@1 | wall ms / pair | CPU ms / pair "
        f"| all pairs (s) | wall / {reference} |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for method, map_, mr1, p1, ms, total, cpu in rows:
        ratio = f"{ms / wall[reference]:.1f}x" if reference in wall else "-"
        cpu_ms = "-" if cpu is None else f"{cpu / n_pairs * 1e3:.3f}"
        lines.append(
            f"| {method} | {map_:.3f} | {mr1:.2f} | {p1:.3f} | {ms:.3f} | "
            f"{cpu_ms} | {total:.1f} | {ratio} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.md:
        with open(args.md, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
