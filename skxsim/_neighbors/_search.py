"""The blocked pass: every query row against an index, block by block.

Results are written into the CSR arrays of the graph (rows are query
frames) as the blocks finish; no ``n x n_ref`` temporary exists unless every
distance is asked for.  Blocks follow scikit-learn's ``working_memory`` and
are small enough for their scores to stay in cache.

Orientation: scikit-learn (rows are frames).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn import get_config

from .._output_size import check_output_size, working_bytes
from ._parallel import n_threads_for, run_blocks
from ._scaling import as_output_dtype, row_chunks, scaled_apply

# Rows per block: tall blocks keep BLAS efficient and the per-block overhead
# low (measured with benchmarks/bench_cross_similarity.py --profile: 256-512
# rows beat 32-64 rows by 10-50% at d = 12-512), while a block's scores stay
# under 16 MB, which long references (catalogues) need.
_BLOCK_BYTES = 2**24
_BLOCK_ROWS_LOW_D, _BLOCK_ROWS_HIGH_D, _HIGH_D = 256, 512, 64
_MIN_BLOCK_ROWS = 16
# Short references (BLAS engine): blocks of up to 4 MB of scores (1024 rows),
# two per thread rather than four.  The blocks' numpy calls hold the GIL in
# part, and fewer of them contend less (chroma 2000 x 2000, k = 90, two
# threads: 20 ms instead of 23; no change from 8000 reference frames on).
_SHORT_BLOCK_BYTES, _SHORT_BLOCK_ROWS = 2**22, 1024
# Wide frames (BLAS engine): the product costs 2 d flops per score, the
# scores' memory one pass, so blocks may hold up to 64 MB of scores: below
# about 512 rows OpenBLAS's sgemm repacks the reference too often (one core,
# 20000 x 1024 float32 reference: 1050 us a row at 209 rows, 944 at 512,
# 930 in one call; 10000 x 512: 269, 233, 231).
_WIDE_D, _WIDE_BLOCK_BYTES = 256, 2**26


@dataclass
class Neighbors:
    """The k-NN graph of query rows as CSR arrays, with per-row statistics.

    ``distances`` (float64) and ``indices`` hold each row's neighbours in
    ascending column order; ``indptr`` delimits rows.
    """

    indptr: np.ndarray
    indices: np.ndarray
    distances: np.ndarray

    def row_statistics(self, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
        """Per row: the farthest neighbour's distance and the mean neighbour
        distance, from the distances as the output holds them (``dtype``).
        Rows without neighbours get NaN."""
        counts = np.diff(self.indptr)
        dist = as_output_dtype(self.distances, dtype).astype(np.float64)
        if counts.size and np.all(counts == counts[0]) and counts[0] > 0:
            dist = np.sort(dist.reshape(counts.size, counts[0]), axis=1)
            return dist[:, -1].copy(), scaled_apply(_row_means, dist)
        kth, mean = np.full(counts.size, np.nan), np.full(counts.size, np.nan)
        for row in np.flatnonzero(counts):
            values = np.sort(dist[self.indptr[row] : self.indptr[row + 1]])
            kth[row], mean[row] = values[-1], scaled_apply(np.mean, values)
        return kth, mean


def row_blocks(
    n_rows: int,
    row_bytes: int,
    n_threads: int = 1,
    rows: int = _MIN_BLOCK_ROWS,
    per_thread: int = 4,
    block_bytes: int = _BLOCK_BYTES,
) -> list[slice]:
    """Row slices of about ``rows`` rows, within ``block_bytes`` and
    ``working_memory``, ``per_thread`` or more per thread."""
    budget = get_config()["working_memory"] * 2**20 / max(n_threads, 1)
    size = min(rows, max(_MIN_BLOCK_ROWS, block_bytes // max(row_bytes, 1)))
    size = int(max(1, min(size, budget // max(row_bytes, 1))))
    if n_threads > 1 and n_rows * row_bytes > 2**21:
        # Several blocks per thread, unless the whole pass is small.
        size = max(1, min(size, -(-n_rows // (per_thread * n_threads))))
    return [slice(i, min(i + size, n_rows)) for i in range(0, n_rows, size)]


def kneighbors(
    index, X: np.ndarray, k: int, *, n_jobs=None, band=None, values=True
) -> Neighbors:
    """The ``k`` nearest reference frames of every query row.

    ``band=(frames, width)`` says that query row i is reference frame
    ``frames[i]`` and excludes the frames within ``width`` of it.
    Without a band every row has exactly ``min(k, n_ref)`` neighbours.
    With ``values=False`` only the neighbours are needed (connectivity):
    ``distances`` may then be ``None``.
    """
    n, n_ref = X.shape[0], index.n_samples_fit_
    k = min(k, n_ref)
    rows = _BLOCK_ROWS_HIGH_D if X.shape[1] >= _HIGH_D else _BLOCK_ROWS_LOW_D
    row_bytes, per_thread = index.row_bytes(k), 4
    short = min(_SHORT_BLOCK_ROWS, _SHORT_BLOCK_BYTES // max(row_bytes, 1))
    if index.uses_blas and short > rows:
        rows, per_thread = short, 2
    block_bytes = _BLOCK_BYTES
    if index.uses_blas and X.shape[1] >= _WIDE_D:
        block_bytes = _WIDE_BLOCK_BYTES
    blocks = row_blocks(
        n, row_bytes, n_threads_for(n_jobs), rows, per_thread, block_bytes
    )
    if band is None:
        indices = np.empty(n * k, dtype=np.intp)
        distances = np.empty(n * k) if values else None

        def work(rows):
            counts, cols, dist = index.kneighbors_block(X[rows], k, values=values)
            if not np.all(counts == k):
                raise RuntimeError(
                    f"the neighbour index returned fewer than k={k} neighbours "
                    f"for query rows {rows.start}..{rows.stop - 1}"
                )
            indices[rows.start * k : rows.stop * k] = cols
            if values:
                distances[rows.start * k : rows.stop * k] = dist

        run_blocks(work, blocks, n_jobs, uses_blas=index.uses_blas)
        return Neighbors(np.arange(0, n * k + 1, k), indices, distances)

    pieces: list = [None] * len(blocks)

    def banded(i_block):
        rows = blocks[i_block]
        pieces[i_block] = index.kneighbors_block(
            X[rows], k, band=(band[0][rows], band[1]), values=values
        )

    run_blocks(banded, range(len(blocks)), n_jobs, uses_blas=index.uses_blas)
    counts = np.concatenate([p[0] for p in pieces])
    indptr = np.zeros(n + 1, dtype=np.intp)
    np.cumsum(counts, out=indptr[1:])
    distances = np.concatenate([p[2] for p in pieces]) if values else None
    return Neighbors(indptr, np.concatenate([p[1] for p in pieces]), distances)


def all_distances(index, X: np.ndarray, out: np.ndarray, *, n_jobs=None) -> None:
    """Every query-to-reference distance, written into ``out`` ``(n, n_ref)``.

    ``out`` may be a transposed view of the caller's buffer; its dtype is the
    output dtype.
    """
    n, n_ref = X.shape[0], index.n_samples_fit_

    def work(rows):
        out[rows] = as_output_dtype(index.distances_block(X[rows]), out.dtype)

    # The exact distances are built from (rows x n_ref x d) differences.
    blocks = row_blocks(n, n_ref * 8 * (X.shape[1] + 1), n_threads_for(n_jobs), 256)
    run_blocks(work, blocks, n_jobs, uses_blas=False)


def full_row_statistics(D: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row of distances ``D`` (``(n, n_ref)``, possibly a view): the k-th
    smallest and the mean of the k smallest, as the k-NN graph gives them."""
    n = D.shape[0]
    kth, mean = np.empty(n), np.empty(n)
    for part in row_chunks(n, D.shape[1], 2**20):
        smallest = np.sort(np.partition(D[part], k - 1, axis=1)[:, :k], axis=1)
        smallest = smallest.astype(np.float64)
        kth[part], mean[part] = smallest[:, -1], scaled_apply(_row_means, smallest)
    return kth, mean


def _row_means(values: np.ndarray) -> np.ndarray:
    return values.mean(axis=1)


def reference_statistics(index, reference, k: int, *, n_jobs=None, dtype=np.float64):
    """Each reference frame's k-NN statistics within the reference.

    The frame itself is excluded, and ``min(k, n_ref - 1)`` neighbours are
    used.  Returns ``(kth, mean_k)``: distance to the k-th neighbour and mean
    distance to the k nearest.
    """
    n_ref = reference.shape[0]
    if n_ref < 2:
        raise ValueError(
            "a data-driven bandwidth needs the neighbours of each reference "
            "frame within the reference, so the reference needs at least 2 "
            "frames (n_samples = 1); pass a float bandwidth."
        )
    k_self = min(k, n_ref - 1)
    check_output_size(
        0,
        f"the neighbour statistics of {n_ref} reference frames (k={k_self})",
        "Use a smaller k or a float bandwidth (it needs no statistics).",
        working_bytes(n_ref * k_self, n_threads_for(n_jobs), "statistics"),
    )
    band = (np.arange(n_ref), 1)  # the frame itself
    neighbors = kneighbors(index, reference, k_self, n_jobs=n_jobs, band=band)
    return neighbors.row_statistics(dtype)
