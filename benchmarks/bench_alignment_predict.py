#!/usr/bin/env python
"""How well ``align``'s proof predicts its own size (issue 22): the cells
predicted from the pooled sequences against the cells the proof explores.

``align`` does not attempt a proof predicted to explore more than 1.5 x
``budget`` cells (``skxsim/_alignment/_proof.py``), so a prediction more
than 1.5 times what the proof needs could stop a proof that fits.  Per
case, at ``budget = cells / ratio``: the prediction (as ``align`` makes it,
not capped) and the cells the proof explores without limit (the block
bound's size of that budget, as ``align`` would use), their ratio, and the
CPU seconds of each.

Cases: the chorale pairs of ``_align_data.pairs`` (``--chorales``
minutes), and synthetic pairs of ``--sizes`` frames per ``--seeds`` seed:
uniform random frames, few-symbol sequences (3 frames held 1-4 frames),
a repeat skipped (query A C, reference A B A C of smooth random walks) and
tempo 1:2 (a smooth walk played at half speed); ``coarse_frames=16,
radius=2``.

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_alignment_predict.py \\
        --chorales 1 5 10 --sizes 2000 4000 --seeds 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402


class Captured(Exception):
    """The proof's arguments, taken from ``align`` before it proves."""


def capture(query, reference, budget, **kwargs):
    """``align``'s pyramids, parameters and budget for this pair."""
    import skxsim
    from skxsim._alignment import _aligner

    def grab(*args):
        raise Captured(args)

    saved, _aligner.proven_dtw = _aligner.proven_dtw, grab
    try:
        skxsim.align(query, reference, budget=budget, **kwargs)
    except Captured as captured:
        return captured.args[0]
    finally:
        _aligner.proven_dtw = saved
    raise RuntimeError("align did not reach its proof (one level: full DTW)")


def measure(query, reference, ratio, **kwargs):
    """Prediction, cells explored and their CPU seconds at ``cells / ratio``."""
    from skxsim._alignment import _proof
    from skxsim._alignment._multiscale import Multiscale

    budget = max(int(len(query) * len(reference) / ratio), 1)
    levels, ref_levels, params, subseq, budget = capture(
        query, reference, budget, **kwargs
    )
    search = Multiscale(levels, ref_levels, params, subseq)
    _, upper = search.finish()
    cap, _proof.PREDICT_CAP = _proof.PREDICT_CAP, 10**9
    try:
        start = time.process_time()
        predicted = _proof.predicted_cells(
            levels, ref_levels, params, subseq, budget, upper, search.costs
        )
        t_predict = time.process_time() - start
    finally:
        _proof.PREDICT_CAP = cap
    Q, R = levels[0], ref_levels[0]
    start = time.process_time()
    found, _ = _proof.attempt(Q, R, params, subseq, budget, upper, len(Q) * len(R))
    return budget, predicted, int(found[3]), t_predict, time.process_time() - start


def walk(rng, n, d=12):
    """A smooth random walk (moving average of 9 steps), offset from 0."""
    steps = np.cumsum(rng.standard_normal((n + 8, d)), axis=0)
    return np.stack([np.convolve(s, np.ones(9) / 9, "valid") for s in steps.T], 1) + 3


def few_symbols(rng, n, k=3, d=6):
    """``k`` random frames, each occurrence held 1-4 frames."""
    alphabet, held = rng.random((k, d)), rng.integers(1, 5, size=n)
    return np.repeat(alphabet[rng.integers(0, k, size=n)], held, axis=0)[:n]


def synthetic(n, seed):
    """The synthetic pairs of ``n`` frames or so."""
    rng = np.random.default_rng([seed, n])
    a, b, c = walk(rng, n // 3), walk(rng, n // 3), walk(rng, n // 3)
    slow = walk(rng, n // 2)
    noise = 0.05 * rng.standard_normal((2 * (n // 2), 12))
    return {
        "random": (rng.random((n, 12)), rng.random((n + n // 20, 12))),
        "few symbols": (few_symbols(rng, n), few_symbols(rng, n - n // 10)),
        "repeat skipped": (np.vstack([a, c]), np.vstack([a, b, a, c])),
        "tempo 1:2": (np.repeat(slow, 2, axis=0) + noise, slow),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chorales", nargs="*", type=int, default=[1, 5, 10])
    parser.add_argument("--sizes", nargs="*", type=int, default=[2000, 4000])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument(
        "--ratios", nargs="*", type=float, default=[2.0, 4.0], help="cells / budget"
    )
    args = parser.parse_args(argv)
    print(f"load average at the start {os.getloadavg()}, {os.cpu_count()} CPUs")
    print(
        "| case | n x n_ref | cells / budget | explored / cells | predicted / "
        "explored | prediction CPU s | proof CPU s |"
    )
    print("|---|---|---|---|---|---|---|")
    cases = []
    if args.chorales:
        import _align_data as data

        for pair in data.pairs(args.chorales):
            with np.load(pair["path"]) as arrays:
                pair_arrays = arrays["query"], arrays["reference"]
            cases.append((f"chorales {pair['length']} min", pair_arrays, {}))
    synthetic_kwargs = {"coarse_frames": 16, "radius": 2}
    for n in args.sizes:
        for seed in range(args.seeds):
            for name, pair_arrays in synthetic(n, seed).items():
                cases.append((f"{name} s{seed}", pair_arrays, synthetic_kwargs))
    ratios = []
    for name, (query, reference), kwargs in cases:
        for ratio in args.ratios:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _, predicted, explored, t_p, t_e = measure(
                    query, reference, ratio, **kwargs
                )
            cells = len(query) * len(reference)
            shown = "none" if predicted is None else f"{predicted / explored:.2f}"
            if predicted is not None:
                ratios.append((predicted / explored, explored / cells))
            print(
                f"| {name} | {len(query)} x {len(reference)} | {ratio:g} | "
                f"{explored / cells:.3f} | {shown} | {t_p:.2f} | {t_e:.2f} |",
                flush=True,
            )
    # A proof is stopped only on a prediction over 1.5 x budget, and is
    # attempted only on pairs of at most 12 x budget cells: the prediction
    # matters where the proof explores 1/12 of the cells or more.
    near = [r for r, fraction in ratios if fraction >= 1 / 12]
    if near:
        print(
            f"predicted / explored where the proof explores >= 1/12 of the "
            f"cells: {min(near):.2f} to {max(near):.2f}; over all cases "
            f"{min(r for r, _ in ratios):.2f} to {max(r for r, _ in ratios):.2f}"
        )
    print(f"load average at the end {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
