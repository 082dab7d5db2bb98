"""The element-wise maximum of several 2-D convolutions, by tiled FFTs.

``scipy.ndimage.convolve`` costs one multiply-add per nonzero kernel cell
per output cell, and librosa's rotated kernels have ~500 of them at width
51 (the order-5 spline spreads the rotated line over 6-7 cells a row), so
direct correlation cannot be made cheap however it is compiled.  An FFT's
cost does not depend on the kernel: each tile of the boundary-extended
matrix is transformed once, then multiplied by every kernel's (small,
precomputed) spectrum and transformed back (overlap-save).  Working memory
is a band of rows and a few tiles, never a second copy of the matrix, and
a sparse matrix is densified a band at a time.

Boundaries are scipy.ndimage's: every output reads the matrix through an
index map per axis (``reflect``, ``mirror``, ``nearest``, ``wrap``, or
``cval`` outside for ``constant``), so tiles at the edges see exactly the
extension scipy would, whatever the kernel size.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.fft
import scipy.sparse as sp

# scipy.ndimage's names for its filters' boundary modes (grid-* are synonyms).
MODES = {
    "reflect": "reflect",
    "grid-mirror": "reflect",
    "mirror": "mirror",
    "nearest": "nearest",
    "wrap": "wrap",
    "grid-wrap": "wrap",
    "constant": "constant",
    "grid-constant": "constant",
}

# FFT length of a tile along each axis: long enough that the kernel's
# overlap is a small share, short enough to stay in cache.
_TILE = 384


def source_index(ext: np.ndarray, size: int, mode: str) -> np.ndarray:
    """The matrix index an extended index reads, -1 for ``cval``."""
    inside = (ext >= 0) & (ext < size)
    if mode == "constant":
        return np.where(inside, ext, -1)
    if mode == "nearest":
        return np.clip(ext, 0, size - 1)
    if mode == "wrap":
        return np.mod(ext, size)
    if mode == "reflect":  # d c b a | a b c d | d c b a
        period = 2 * size
        folded = np.mod(ext, period)
        return np.where(folded >= size, period - 1 - folded, folded)
    # mirror: d c b | a b c d | c b a
    if size == 1:
        return np.zeros_like(ext)
    period = 2 * size - 2
    folded = np.mod(ext, period)
    return np.where(folded >= size, period - folded, folded)


def _frame(kernels, axis: int, origin: int):
    """Per kernel, how far before an output its window starts (``shift``);
    the common frame all kernels fit in: its start ``S`` and length ``M``.

    scipy's ``convolve`` is a correlation with the flipped kernel, centred
    at ``(m - 1) // 2 - origin`` (even lengths lean left).
    """
    sizes = [k.shape[axis] for k in kernels]
    shifts = [(m - 1) // 2 - origin for m in sizes]
    for m, s in zip(sizes, shifts, strict=True):
        if not 0 <= s <= m - 1:
            raise ValueError(
                f"origin={origin} puts the filter's centre outside a "
                f"{m}-cell filter; it must lie in [{(m - 1) // 2 - (m - 1)}, "
                f"{(m - 1) // 2}]."
            )
    start = max(shifts)
    length = max(start - s + m for s, m in zip(shifts, sizes, strict=True))
    return shifts, start, length


def _fft_length(size: int, frame: int) -> int:
    """One tile when the extended axis is not much longer than a tile would
    be (a filter longer than the matrix included), else tiles of ``_TILE``
    points or four filter lengths."""
    whole = scipy.fft.next_fast_len(size + frame - 1, real=True)
    tiled = scipy.fft.next_fast_len(max(_TILE, 4 * frame), real=True)
    return whole if whole <= tiled * 5 // 4 else tiled


class MaxConvolver:
    """``max_k scipy.ndimage.convolve(R, kernel_k, mode, cval, origin)`` for
    2-D ``R``, clipped at 0 when asked."""

    def __init__(self, kernels, shape, modes, origins, cval, dtype, workers):
        self.shape = shape
        self.modes = modes
        self.cval = cval
        self.dtype = dtype
        self.workers = workers
        self.starts, self.fft_shape, self.steps = [], [], []
        frames = []
        for axis in (0, 1):
            shifts, start, length = _frame(kernels, axis, origins[axis])
            fft_len = _fft_length(shape[axis], length)
            self.starts.append(start)
            self.fft_shape.append(fft_len)
            self.steps.append(fft_len - length + 1)
            frames.append((shifts, start, length))
        (sh0, st0, len0), (sh1, st1, len1) = frames
        self.frame = (len0, len1)
        self.spectra = []
        for kernel, s0, s1 in zip(kernels, sh0, sh1, strict=True):
            # correlation with the flipped kernel, placed in the common frame
            placed = np.zeros((len0, len1))
            a, b = st0 - s0, st1 - s1
            placed[a : a + kernel.shape[0], b : b + kernel.shape[1]] = kernel[
                ::-1, ::-1
            ]
            spectrum = np.conj(scipy.fft.rfft2(placed, s=self.fft_shape))
            self.spectra.append(spectrum.astype(_complex(dtype)))

    def _indices(self, axis: int, first: int, n_out: int) -> np.ndarray:
        ext = np.arange(
            first - self.starts[axis],
            first + n_out - self.starts[axis] + self.frame[axis] - 1,
        )
        return source_index(ext, self.shape[axis], self.modes[axis])

    def _tile(self, matrix, a: int, b: int) -> np.ndarray:
        """Tile ``(a, b)`` of the extended matrix, dense, in the compute dtype:
        what the outputs ``[a * step0 : ..., b * step1 : ...]`` read."""
        rows = self._indices(0, a * self.steps[0], self._count(0, a))
        cols = self._indices(1, b * self.steps[1], self._count(1, b))
        r, c = np.maximum(rows, 0), np.maximum(cols, 0)
        if sp.issparse(matrix):
            tile = matrix[r][:, c].toarray().astype(self.dtype, copy=False)
        else:
            tile = np.asarray(matrix[np.ix_(r, c)], dtype=self.dtype)
        tile[rows < 0] = self.cval
        tile[:, cols < 0] = self.cval
        return tile

    def _count(self, axis: int, index: int) -> int:
        return min(self.steps[axis], self.shape[axis] - index * self.steps[axis])

    def _target(self, out, a: int, b: int) -> np.ndarray:
        i0, j0 = a * self.steps[0], b * self.steps[1]
        return out[i0 : i0 + self._count(0, a), j0 : j0 + self._count(1, b)]

    def run(self, matrix, out: np.ndarray, clip: bool, pairs=None) -> None:
        """Fill ``out`` (the matrix's shape) with the (clipped) maximum.

        ``pairs``: for a symmetric matrix, ``pairs[k]`` is the kernel that is
        kernel k transposed; the convolution with it is then the transpose
        of kernel k's, so one tile and its mirror share their transforms
        and half of the kernels.
        """
        n_tiles = [-(-self.shape[axis] // self.steps[axis]) for axis in (0, 1)]
        if pairs is None:
            tasks = [(a, b) for a in range(n_tiles[0]) for b in range(n_tiles[1])]
        else:
            tasks = [(a, b) for a in range(n_tiles[0]) for b in range(a, n_tiles[1])]

        def task(ab):
            a, b = ab
            if pairs is None:
                self._target(out, a, b)[...] = self._tile_max(
                    [self._tile(matrix, a, b)], range(len(self.spectra)), clip
                )[0]
            else:
                self._mirrored(matrix, out, a, b, pairs, clip)

        if self.workers <= 1 or len(tasks) == 1:
            for ab in tasks:
                task(ab)
            return
        with ThreadPoolExecutor(self.workers) as pool:
            for _ in pool.map(task, tasks):
                pass

    def _mirrored(self, matrix, out, a, b, pairs, clip) -> None:
        half = [k for k, partner in enumerate(pairs) if k <= partner]
        mirrored = [k for k in half if pairs[k] != k]
        tiles = [self._tile(matrix, a, b)]
        if a != b:
            tiles.append(self._tile(matrix, b, a))
        smooth = self._tile_max(tiles, half, clip=False, keep=True)
        if a == b:
            smooth.append(smooth[0])
        # the convolution of tile (a, b) with kernel pairs[k] is that of
        # tile (b, a) with kernel k, transposed
        for (x, y), own, other in (
            ((a, b), smooth[0], smooth[1]),
            ((b, a), smooth[1], smooth[0]),
        ):
            best = own[0].copy()
            for layer in own[1:]:
                np.maximum(best, layer, out=best)
            for k in mirrored:
                np.maximum(best, other[half.index(k)].T, out=best)
            if clip:
                np.maximum(best, 0, out=best)
            self._target(out, x, y)[...] = best
            if a == b:
                break

    def _inverse(self, product, t0: int, t1: int) -> np.ndarray:
        """The first ``t0 x t1`` values of the inverse transform; the rows
        past ``t0`` (the overlap) are never transformed along the last axis."""
        columns = scipy.fft.ifft(product, axis=0, overwrite_x=True, workers=1)
        rows = scipy.fft.irfft(
            columns[:t0], n=self.fft_shape[1], axis=1, overwrite_x=True, workers=1
        )
        return rows[:, :t1]

    def _tile_max(self, tiles, which, clip, keep=False) -> list:
        """Per tile, the maximum over kernels ``which`` (or, ``keep``, the
        list of each kernel's convolution)."""
        results = []
        for tile in tiles:
            t0, t1 = (
                tile.shape[0] - self.frame[0] + 1,
                tile.shape[1] - self.frame[1] + 1,
            )
            if not tile.any():  # every kernel maps zeros to zeros
                zero = np.zeros((t0, t1), dtype=self.dtype)
                results.append([zero] * len(which) if keep else zero)
                continue
            spectrum = scipy.fft.rfft2(tile, s=self.fft_shape, workers=1)
            product = np.empty_like(spectrum)
            layers, best = [], None
            for k in which:
                np.multiply(spectrum, self.spectra[k], out=product)
                smooth = self._inverse(product, t0, t1)
                if keep:
                    layers.append(smooth.copy())
                elif best is None:
                    best = smooth.copy()
                else:
                    np.maximum(best, smooth, out=best)
            if not keep and clip:
                np.maximum(best, 0, out=best)
            results.append(layers if keep else best)
        return results


def _complex(dtype) -> np.dtype:
    return np.dtype(np.complex64 if dtype == np.float32 else np.complex128)
