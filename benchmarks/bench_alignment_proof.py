#!/usr/bin/env python
"""The proof of ``align`` on the chorale pairs (issue 22): cells explored,
proven or the stated gap, CPU time and peak memory, default parameters.

The pairs are ``_align_data.pairs`` (B performances against A, concatenated
chorales, chroma at 43 frames/s).  CPU time is ``time.process_time`` of one
call (the machine may be loaded; BLAS is limited to one thread so that CPU
time is the work), memory the peak traced by tracemalloc during the call.

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_alignment_proof.py 1 5 10 60
"""

from __future__ import annotations

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

    lengths = [int(x) for x in (argv or sys.argv[1:] or ["1", "5", "10", "60"])]
    print(
        "| minutes | n x n_ref | explored / (n n_ref) | proven | gap | CPU s | peak MB |"
    )
    print("|---|---|---|---|---|---|---|")
    for pair in data.pairs(lengths):
        with np.load(pair["path"]) as arrays:
            query, reference = arrays["query"], arrays["reference"]
        tracemalloc.start()
        start = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, _, info = skxsim.align(query, reference, return_info=True)
        seconds = time.process_time() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(
            f"| {pair['length']} | {len(query)} x {len(reference)} | "
            f"{info['explored_cells'] / info['cells']:.4f} | {info['optimal']} | "
            f"{info['gap']:.3g} | {seconds:.2f} | {peak:.0f} |",
            flush=True,
        )
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
