"""Threads for the blocked search, and BLAS's own threads beside them.

``n_jobs=None`` uses the cores this process may use: BLAS's thread limit as
``threadpoolctl`` reports it (inside a joblib worker that is the worker's
share, which loky sets), at most the machine's cores.  ``n_jobs=1`` is one
thread, ``-1`` all cores.

Blocks that call BLAS run fastest on single-threaded BLAS, one block per
thread: a multi-threaded BLAS call from each of several threads
oversubscribes the cores, and OpenBLAS serialises concurrent calls.  BLAS's
thread limit is process-wide, so skxsim changes it only when no other Python
thread exists to notice: the calling thread is alone at entry.  Concurrent
transforms (a web server, ``GridSearchCV`` with the threading backend) then
leave it untouched and run their blocks in the calling thread, BLAS
threading each product.  A hold is reference-counted, so the limit is always
restored when the last holder leaves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from joblib import cpu_count
from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
_holders = 0
_saved: list[tuple[object, int]] = []
_controller: ThreadpoolController | None = None


def _blas_libraries() -> list:
    global _controller
    if _controller is None:
        _controller = ThreadpoolController().select(user_api="blas")
    return _controller.lib_controllers


def blas_threads() -> int:
    """BLAS's current thread limit (the largest over its loaded libraries)."""
    return max((lib.num_threads for lib in _blas_libraries()), default=cpu_count())


def n_threads_for(n_jobs: int | None) -> int:
    """Threads ``n_jobs`` stands for, in joblib's convention."""
    if n_jobs is None:
        return max(1, min(blas_threads(), cpu_count()))
    n_jobs = int(n_jobs)
    if n_jobs < 0:
        return max(1, cpu_count() + 1 + n_jobs)
    return max(1, n_jobs)


@contextmanager
def single_threaded_blas():
    """Hold BLAS at one thread, if that disturbs no other thread.

    Yields whether BLAS runs single-threaded inside the block.
    """
    global _holders
    with _lock:
        if _holders == 0:
            if blas_threads() > 1 and threading.active_count() > 1:
                held = False
            else:
                _saved[:] = [(lib, lib.num_threads) for lib in _blas_libraries()]
                for lib, _ in _saved:
                    lib.set_num_threads(1)
                held = True
        else:
            held = True
        if held:
            _holders += 1
    try:
        yield held or blas_threads() == 1
    finally:
        if held:
            with _lock:
                _holders -= 1
                if _holders == 0:
                    for lib, n in _saved:
                        lib.set_num_threads(n)
                    _saved.clear()


def run_blocks(
    func: Callable[[slice], None],
    blocks: Sequence[slice],
    n_jobs: int | None,
    *,
    uses_blas: bool,
) -> None:
    """Call ``func(block)`` for every block, on up to ``n_jobs`` threads."""
    n_threads = min(n_threads_for(n_jobs), len(blocks))
    if not uses_blas or (n_threads <= 1 and n_jobs is None):
        _run(func, blocks, n_threads)
        return
    with single_threaded_blas() as single:
        # Without a hold on BLAS, its own threads share out each product and
        # the blocks run in the calling thread.
        _run(func, blocks, n_threads if single else 1)


def _run(func, blocks, n_threads: int) -> None:
    if n_threads <= 1:
        for block in blocks:
            func(block)
        return
    with ThreadPoolExecutor(n_threads) as pool:
        for future in [pool.submit(func, block) for block in blocks]:
            future.result()
