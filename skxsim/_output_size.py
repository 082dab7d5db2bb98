"""The output-size guard: refuse an output too large before allocating it.

How much memory this process may still take, how many bytes an output and
the work around it will take, and the error that names both and the ways
out.  The memory a process may take is the least of: the system's available
memory (``MemAvailable``), what its address-space limit (``RLIMIT_AS``,
``ulimit -v``) leaves above its current size, and what its cgroup's limit
leaves (v2 ``memory.max``, v1 ``memory.limit_in_bytes``, at every level of
the hierarchy).  An output is admitted only with room for the work around
it: the blocks of the search (scikit-learn's ``working_memory`` and
``_BLOCK_BYTES`` a thread) and the temporaries built with the output, as
measured (``benchmarks`` of tracemalloc's peak over the output, see
``tests/test_output_size.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .exceptions import OutputTooLargeError

# Bytes beyond the output (as output_bytes counts it), per entry of a k-NN
# graph, by what is built: the search's CSR arrays (column, and distance
# unless connectivity), the distances in the output dtype and back, the
# affinities, a per-pair bandwidth; the neighbour statistics of a data-driven
# bandwidth (no output); the mutual-neighbour intersection of sym=True.
# Measured (least address-space limit that lets 20000 x 283 entries
# through, tests/test_output_size.py): 0, 23, 44, 39 and 76 bytes.
ENTRY_BYTES = {
    "connectivity": 8,
    "distance": 32,
    "affinity": 32,
    "pair": 56,
    "statistics": 48,
    "sym": 96,
}
# Each thread's blocks (a block's scores, at most 16 MB in _search, with the
# candidates they nominate) and, under an address-space limit, the malloc
# arena and stack of a new thread; and room for the process to go on.
# Measured, the least address-space limit above a fresh process's size that
# lets a search through on 2 threads: 100-165 MB besides its entries.
THREAD_BYTES = 72 * 2**20
BASE_BYTES = 32 * 2**20

_UNLIMITED_CGROUP_V1 = 2**62


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return None


def _system_available(proc: Path) -> int | None:
    meminfo = _read(proc / "meminfo")
    for line in (meminfo or "").splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _address_space_available(proc: Path) -> int | None:
    """What ``RLIMIT_AS`` leaves above the process's current virtual size."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY:
        return None
    statm = _read(proc / "self" / "statm")
    if statm is None:
        return None
    size = int(statm.split()[0]) * os.sysconf("SC_PAGE_SIZE")
    return max(limit - size, 0)


def _inactive_file(stat: str | None, key: str) -> int:
    """Reclaimable page cache in a cgroup's ``memory.stat``."""
    for line in (stat or "").splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            return int(value)
    return 0


def _cgroup_available(proc: Path, sys_cgroup: Path) -> int | None:
    """The least of what the limits of this process's cgroups leave (v1 and
    v2, every level up to the root), counting page cache as free."""
    found = []
    for line in (_read(proc / "self" / "cgroup") or "").splitlines():
        hierarchy, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if hierarchy == "0" and controllers == "":
            version, mounts = 2, [sys_cgroup, sys_cgroup / "unified"]
        elif "memory" in controllers.split(","):
            version, mounts = 1, [sys_cgroup / "memory"]
        else:
            continue
        mount = next((m for m in mounts if m.is_dir()), None)
        if mount is None:
            continue
        directory = mount / path.strip("/")
        # Inside a container the path may be the host's: start at the mount.
        if not directory.is_dir():
            directory = mount
        while True:
            found.append(_cgroup_level(directory, version))
            if directory == mount:
                break
            directory = directory.parent
    found = [value for value in found if value is not None]
    return min(found) if found else None


def _cgroup_level(directory: Path, version: int) -> int | None:
    if version == 2:
        limit, usage = (
            _read(directory / "memory.max"),
            _read(directory / "memory.current"),
        )
        if limit is None or usage is None or limit.strip() == "max":
            return None
        cache = _inactive_file(_read(directory / "memory.stat"), "inactive_file")
    else:
        limit = _read(directory / "memory.limit_in_bytes")
        usage = _read(directory / "memory.usage_in_bytes")
        if limit is None or usage is None or int(limit) >= _UNLIMITED_CGROUP_V1:
            return None
        cache = _inactive_file(_read(directory / "memory.stat"), "total_inactive_file")
    return max(int(limit) - int(usage) + cache, 0)


def available_memory(
    proc: Path = Path("/proc"), sys_cgroup: Path = Path("/sys/fs/cgroup")
) -> int | None:
    """Bytes this process may still allocate: the least of the system's
    available memory, its address-space limit's room and its cgroups' (None
    when nothing says)."""
    values = [
        _system_available(proc),
        _address_space_available(proc),
        _cgroup_available(proc, sys_cgroup),
    ]
    values = [v for v in values if v is not None]
    return min(values) if values else None


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


def entry_kind(mode: str, per_pair: bool = False, sym: bool = False) -> str:
    """The key of :data:`ENTRY_BYTES` for a graph of ``mode``."""
    if sym:
        return "sym"
    return "pair" if mode == "affinity" and per_pair else mode


def working_bytes(n_entries: int, n_threads: int, kind: str = "distance") -> int:
    """Bytes a search and its graph need beside the output: ``n_entries``
    k-NN entries (0 without a k-NN graph) of ``kind`` (see
    :data:`ENTRY_BYTES`), on ``n_threads`` threads."""
    return n_entries * ENTRY_BYTES[kind] + n_threads * THREAD_BYTES + BASE_BYTES


def check_graph_size(
    n_rows: int,
    n_cols: int,
    *,
    k: int | None,
    sparse: bool,
    dtype,
    kind: str,
    n_threads: int,
    what: str,
    ways: str,
) -> None:
    """:func:`check_output_size` of a graph ``(n_rows, n_cols)`` of ``k``
    neighbours a row (``None``: every entry), with the work of
    :func:`working_bytes` around it.

    ``n_threads`` is what ``n_jobs`` asks for; the search runs at most one
    thread a row.  The message names ``n_jobs`` and what its threads take.
    """
    n_threads = max(1, min(n_threads, n_rows))
    if n_threads > 1:
        ways = (
            f"{ways} The {n_threads} threads of n_jobs take "
            f"{n_threads * THREAD_BYTES / 2**30:.1f} GiB of the work: a smaller "
            "n_jobs takes less."
        )
    if k is None:
        working = working_bytes(0, n_threads, kind)
        if sparse:
            working += n_rows * n_cols * 8  # column indices built as intp first
    else:
        working = working_bytes(n_rows * k, n_threads, kind)
    per_row = n_cols if k is None else k
    output = output_bytes(n_rows, n_cols, per_row, sparse, dtype)
    check_output_size(output, what, ways, working)


def check_output_size(n_bytes: int, what: str, ways: str, working: int = 0) -> None:
    """Refuse, before allocating, an output of ``n_bytes`` that does not fit
    with the ``working`` bytes computed around it in the memory available."""
    available = available_memory()
    needed = int(n_bytes) + int(working)
    if available is None or needed <= available:
        return
    detail = ""
    if n_bytes and working:
        detail = (
            f" ({n_bytes / 2**30:.1f} GiB of output, {working / 2**30:.1f} GiB "
            "of work around it)"
        )
    raise OutputTooLargeError(
        f"{what} would take {needed / 2**30:.1f} GiB{detail}, more than the "
        f"{available / 2**30:.1f} GiB of memory this process may still use (the "
        "least of the system's available memory, the address-space limit and "
        f"the cgroup limit). {ways}"
    )
