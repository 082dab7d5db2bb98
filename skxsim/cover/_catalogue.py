"""The catalogue's memory layout: every recording's frames in one array.

Recordings are stacked one after another, each after ``GAP`` rows of zeros,
so that one distance computation and one alignment pass over many of them
keep them apart (the alignment recurrence looks back up to ``GAP`` columns
and must see nothing of the previous recording).  Groups of consecutive
recordings (*chunks*) are what one query is scored against at a time.

Orientation: scikit-learn (rows are frames).
"""

from __future__ import annotations

import hashlib

import numpy as np

from ._qmax import PAD
from ._silence import sounding

# Zero frames ahead of every recording (3 for Dmax's longest move).
GAP = max(PAD.values())


def digest(sequence: np.ndarray) -> bytes:
    """A recording's identity: shape and float64 values."""
    data = np.ascontiguousarray(sequence, dtype=np.float64)
    return hashlib.sha1(repr(data.shape).encode() + data.tobytes()).digest()


class Catalogue:
    """Stacked frames of the recordings, with the recordings they came from.

    Parameters
    ----------
    sequences : list of ndarray
        The recordings as given (kept: ``kneighbors()`` without queries
        ranks them against each other, and equal queries are recognised by
        their digests).
    embedded : list of ndarray
        Their stacked (time-delay embedded) frames, in the catalogue dtype.
    """

    def __init__(self, sequences: list, embedded: list) -> None:
        self.sequences = sequences
        self.n_frames = np.array([len(e) for e in embedded], dtype=np.intp)
        lengths = self.n_frames + GAP
        self.starts = np.concatenate([[0], np.cumsum(lengths)])[:-1] + GAP
        frames = np.zeros((int(lengths.sum()), embedded[0].shape[1]), embedded[0].dtype)
        for start, e in zip(self.starts, embedded, strict=True):
            frames[start : start + len(e)] = e
        self.frames = frames
        # Silent frames (gaps included) take no part in the binarisation; a
        # recording is normalised by its sounding frames (``_silence``).
        self.sounding = sounding(frames)
        self.n_sounding = np.array(
            [np.count_nonzero(sounding(e)) for e in embedded], dtype=np.intp
        )
        self.digests: dict = {}
        for i, s in enumerate(sequences):
            self.digests.setdefault(digest(s), []).append(i)

    def __len__(self) -> int:
        return len(self.n_frames)

    def equal_to(self, queries) -> np.ndarray:
        """``(n_queries, n_recordings)`` bool: the recordings with the same
        values as each query (a recording is not a version of itself)."""
        equal = np.zeros((len(queries), len(self)), dtype=bool)
        for q, query in enumerate(queries):
            equal[q, self.digests.get(digest(query), [])] = True
        return equal

    def chunks(self, max_width: int) -> list[tuple[int, int]]:
        """Consecutive recordings ``lo..hi-1`` grouped so that each group is at
        most ``max_width`` rows wide, gaps included (a longer recording forms
        a group alone)."""
        bounds, start, width = [], 0, 0
        for i, w in enumerate(self.n_frames + GAP):
            if width and width + w > max_width:
                bounds.append((start, i))
                start, width = i, 0
            width += w
        bounds.append((start, len(self)))
        return bounds

    def span(self, lo: int, hi: int) -> tuple[int, int]:
        """First row (the gap ahead of recording ``lo``) and width of a chunk."""
        first = self.starts[lo] - GAP
        return first, self.starts[hi - 1] + self.n_frames[hi - 1] - first

    def member_rows(self, members: np.ndarray, first: int) -> tuple[np.ndarray, ...]:
        """Rows (relative to ``first``) of some recordings of a chunk, gaps
        included, in order; and where each one's gap starts among them."""
        starts = self.starts[members] - GAP - first
        lengths = self.n_frames[members] + GAP
        offsets = np.cumsum(lengths) - lengths
        rows = np.repeat(starts - offsets, lengths) + np.arange(lengths.sum())
        return rows, offsets

    def frame_mask(self, lo: int, hi: int) -> np.ndarray:
        """Of a chunk's rows: 1 at recordings' frames, 0 at the gaps."""
        first, width = self.span(lo, hi)
        keep = np.zeros(width, dtype=np.float32)
        for i in range(lo, hi):
            keep[self.starts[i] - first : self.starts[i] - first + self.n_frames[i]] = 1
        return keep
