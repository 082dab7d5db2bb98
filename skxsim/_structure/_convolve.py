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
_TILE = 512


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
    whole = scipy.fft.next_fast_len(size + frame - 1, real=True)
    if whole <= _TILE * 5 // 4:
        return whole
    return scipy.fft.next_fast_len(max(_TILE, 4 * frame), real=True)


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

    def _band(self, matrix, rows: np.ndarray) -> np.ndarray:
        """The extended rows ``rows`` of ``matrix``, dense, in the compute dtype."""
        valid = np.maximum(rows, 0)
        if sp.issparse(matrix):
            band = matrix[valid].toarray().astype(self.dtype, copy=False)
        else:
            band = np.asarray(matrix[valid], dtype=self.dtype)
        band[rows < 0] = self.cval
        return band

    def run(self, matrix, out: np.ndarray, clip: bool) -> None:
        """Fill ``out`` (the matrix's shape) with the clipped maximum."""
        n0, n1 = self.shape
        zero_outside = self.cval == 0 or "constant" not in self.modes
        for i0 in range(0, n0, self.steps[0]):
            t0 = min(self.steps[0], n0 - i0)
            band = self._band(matrix, self._indices(0, i0, t0))
            for j0 in range(0, n1, self.steps[1]):
                t1 = min(self.steps[1], n1 - j0)
                cols = self._indices(1, j0, t1)
                tile = band[:, np.maximum(cols, 0)]
                tile[:, cols < 0] = self.cval
                target = out[i0 : i0 + t0, j0 : j0 + t1]
                if zero_outside and not tile.any():
                    target[...] = 0  # every kernel maps zeros to zeros
                    continue
                target[...] = self._tile_max(tile, t0, t1, clip)

    def _tile_max(self, tile, t0, t1, clip) -> np.ndarray:
        spectrum = scipy.fft.rfft2(tile, s=self.fft_shape, workers=self.workers)
        product = np.empty_like(spectrum)
        best = None
        for kernel in self.spectra:
            np.multiply(spectrum, kernel, out=product)
            smooth = scipy.fft.irfft2(
                product, s=self.fft_shape, workers=self.workers, overwrite_x=True
            )[:t0, :t1]
            best = smooth.copy() if best is None else np.maximum(best, smooth, out=best)
        if clip:
            np.maximum(best, 0, out=best)
        return best


def _complex(dtype) -> np.dtype:
    return np.dtype(np.complex64 if dtype == np.float32 else np.complex128)
