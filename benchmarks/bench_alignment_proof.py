#!/usr/bin/env python
"""The proof of ``align`` on the chorale pairs (issue 22): cells explored,
proven or the stated gap, CPU time and peak memory, default parameters.

The pairs are ``_align_data.pairs`` (B performances against A, concatenated
chorales, chroma at 43 frames/s).  CPU time is ``time.process_time`` of one
call (the machine may be loaded; BLAS is limited to one thread so that CPU
time is the work), memory the peak traced by tracemalloc during the call.

Usage (``--help`` for the options)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_alignment_proof.py 1 5 10 60

Each CPU time is the smallest of ``--repeats`` calls (default 3; the
machine may be shared); explored cells, proven and gap do not vary.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _align_data as data  # noqa: E402
import numpy as np  # noqa: E402


def main(argv=None) -> int:
    import skxsim

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "minutes", nargs="*", type=int, default=[1, 5, 10, 60], help="pair lengths"
    )
    parser.add_argument(
        "--budget", type=int, default=None, help="align's budget (default: its own)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="calls per pair")
    args = parser.parse_args(argv)
    kwargs = {} if args.budget is None else {"budget": args.budget}
    print(f"load average at the start {os.getloadavg()}, {os.cpu_count()} CPUs")
    print(
        "| minutes | n x n_ref | explored / (n n_ref) | proven | gap | CPU s | peak MB |"
    )
    print("|---|---|---|---|---|---|---|")
    for pair in data.pairs(args.minutes):
        with np.load(pair["path"]) as arrays:
            query, reference = arrays["query"], arrays["reference"]
        seconds, peak = [], 0.0
        for _ in range(args.repeats):
            tracemalloc.start()
            start = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _, _, info = skxsim.align(query, reference, return_info=True, **kwargs)
            seconds.append(time.process_time() - start)
            peak = max(peak, tracemalloc.get_traced_memory()[1] / 2**20)
            tracemalloc.stop()
        print(
            f"| {pair['length']} | {len(query)} x {len(reference)} | "
            f"{info['explored_cells'] / info['cells']:.4f} | {info['optimal']} | "
            f"{info['gap']:.3g} | {min(seconds):.2f} | {peak:.0f} |",
            flush=True,
        )
    print(f"load average at the end {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
