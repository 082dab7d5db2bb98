"""The output-size guard: refuse an output too large before allocating it.

How much memory this process may still take (the system's available memory,
and the limits of its cgroup and address space), how many bytes an output
will take, and the error that names both and the ways out.
"""

from __future__ import annotations

import os

import numpy as np

from .exceptions import OutputTooLargeError


def available_memory() -> int | None:
    """Bytes of memory available to allocate now, if the system says."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def ways_out(blocks: bool) -> str:
    """What a user can do about an output that does not fit."""
    if blocks:
        return (
            "Use sparse output (sparse=True), a smaller k, full=False, or "
            "transform the query in blocks of rows (skxsim.transform_many, or "
            "slices of X)."
        )
    return (
        "Use sparse output (sparse=True), a smaller k, or full=False; a "
        "recurrence matrix has n_frames x n_frames entries."
    )


def output_bytes(n_rows: int, n_cols: int, per_row: int, sparse: bool, dtype) -> int:
    """Bytes of an ``(n_rows, n_cols)`` output with ``per_row`` stored entries
    a row when sparse (values and column indices)."""
    itemsize = np.dtype(dtype).itemsize
    if sparse:
        return n_rows * per_row * (itemsize + np.dtype(np.intp).itemsize)
    return n_rows * n_cols * itemsize


def check_output_size(n_bytes: int, what: str, ways: str) -> None:
    """Refuse, before allocating, an output larger than the available memory."""
    available = available_memory()
    if available is not None and n_bytes > available:
        raise OutputTooLargeError(
            f"{what} would take {n_bytes / 2**30:.1f} GiB, more than the "
            f"{available / 2**30:.1f} GiB of memory available. {ways}"
        )
