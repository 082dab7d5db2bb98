"""Scoring queries against the catalogue: the cover-song pipeline, batched.

For one query, the catalogue is scored chunk by chunk: one distance
computation against a chunk's frames per transposition (recordings grouped
by the query's OTI shift to them), the mutual k-NN thresholds of every
recording from its slice of that matrix, and one alignment recurrence over
all the chunk's columns side by side.  Per-pair overhead, not arithmetic,
dominates recordings of a few hundred frames; batching removes it.

Orientation: scikit-learn; cross-recurrence blocks ``S_T`` have catalogue
rows and query columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn import get_config

from .._embedding import TimeDelayEmbedding
from .._neighbors import check_metric_params, single_threaded_blas
from .._output_size import check_output_size
from .._validation import parallel_n_jobs, python_scalar
from ._catalogue import Catalogue
from ._cross_recurrence import mutual_knn, pair_keys
from ._qmax import recurrence_column_max
from ._silence import sounding
from ._transposition import best_shifts, oti_binary, profiles, rotate_blocks


@dataclass(frozen=True)
class CoverPipeline:
    """The settings of the pair-level pipeline, resolved in ``fit``."""

    embedding: TimeDelayEmbedding
    complete_stacks: bool
    transposition: str | None
    n_shifts: int
    similarity: str
    k: float
    metric: object
    metric_params: dict
    alignment: str
    gap_onset: float
    gap_extend: float

    @classmethod
    def from_params(cls, params: dict, embedding: TimeDelayEmbedding):
        """The pipeline of a CoverSongIndex's (validated) parameters."""
        n_features = embedding.n_features_in_ * embedding.n_steps
        metric_params = check_metric_params(
            params["metric"], params["metric_params"], n_features
        )
        return cls(
            embedding=embedding,
            complete_stacks=params["complete_stacks"],
            transposition=params["transposition"],
            # Numbers as Python's: numpy scalars behave the same.
            n_shifts=int(params["n_shifts"]),
            similarity=params["similarity"],
            k=python_scalar(params["k"]),
            metric=params["metric"],
            metric_params=metric_params,
            alignment=params["alignment"],
            gap_onset=float(params["gap_onset"]),
            gap_extend=float(params["gap_extend"]),
        )

    def check_memory(self, sequences) -> None:
        """Refuse, before embedding, stacks that would not fit: each stacked
        frame is held twice (embedded, then laid out in the catalogue)."""
        n_frames = sum(len(s) for s in sequences)
        n_steps = self.embedding.n_steps
        width = self.embedding.n_features_in_ * n_steps
        check_output_size(
            2 * n_frames * width * sequences[0].dtype.itemsize,
            f"the stacked frames of {len(sequences)} recordings ({n_frames} "
            f"frames of {width} values, n_steps={n_steps})",
            "Use a smaller n_steps, or fewer or shorter recordings.",
        )

    def embed(self, sequence: np.ndarray, name: str) -> np.ndarray:
        """The stacked frames: one per frame, or the complete stacks only."""
        if not self.complete_stacks:
            return self.embedding.transform(sequence)
        n_steps, delay = self.embedding.n_steps, self.embedding.delay
        span = (n_steps - 1) * delay
        if len(sequence) <= span:
            raise ValueError(
                f"{name} has {len(sequence)} frames; a complete stack of "
                f"n_steps={n_steps} frames delay={delay} apart needs "
                f"at least {span + 1}."
            )
        return self.embedding.transform(sequence)[span:]


def dissimilarities(
    catalogue, pipeline, chroma_profiles, queries, n_jobs
) -> np.ndarray:
    """``(n_queries, n_recordings)`` dissimilarities, queries spread over
    ``n_jobs`` joblib workers (a Dask cluster under
    ``joblib.parallel_config(backend="dask")``)."""
    n_jobs = parallel_n_jobs(n_jobs)
    n_workers = effective_n_jobs(n_jobs)
    n_chunks = min(len(queries), 1 if n_workers == 1 else 4 * n_workers)
    chunks = np.array_split(np.arange(len(queries)), n_chunks)
    results = Parallel(n_jobs=n_jobs)(
        delayed(score_queries)(
            catalogue, pipeline, chroma_profiles, [queries[i] for i in chunk]
        )
        for chunk in chunks
    )
    return np.vstack(results)


def score_queries(
    catalogue: Catalogue, pipeline: CoverPipeline, chroma_profiles, queries
) -> np.ndarray:
    """Dissimilarities of some queries to the whole catalogue (one joblib task).

    Parallelism comes from the queries (joblib workers).  The products here
    are a few hundred query frames against a catalogue slice; a
    multi-threaded BLAS on them gained nothing on an idle 2-core machine and
    cost 2.3x when other processes were running, so BLAS runs on one thread,
    where that disturbs no other thread (``single_threaded_blas``).
    """
    out = np.empty((len(queries), len(catalogue)))
    with single_threaded_blas():
        for q, query in enumerate(queries):
            out[q] = _score_query(catalogue, pipeline, chroma_profiles, query)
    return out


def _score_query(catalogue, pipeline, chroma_profiles, query) -> np.ndarray:
    embedded = pipeline.embed(query, "the query")
    n_q = len(embedded)
    live_query = sounding(embedded)
    if pipeline.transposition == "oti":
        shifts = best_shifts(profiles([query])[0], chroma_profiles, pipeline.n_shifts)
    else:
        shifts = np.zeros(len(catalogue), dtype=np.intp)
    # A chunk's working set per row: its keys to the query, two boolean
    # copies and the recurrence's rows; keep it in working_memory.
    per_row = n_q * (catalogue.frames.dtype.itemsize + 2) + 64
    budget = get_config()["working_memory"] * 2**20
    max_width = max(1, min(budget // per_row, 1 << 16))
    scores = np.empty(len(catalogue))
    for lo, hi in catalogue.chunks(max_width):
        scores[lo:hi] = _score_chunk(
            catalogue, pipeline, query, embedded, live_query, shifts, lo, hi
        )
    with np.errstate(divide="ignore"):
        return np.sqrt(catalogue.n_sounding) / scores


def _score_chunk(catalogue, pipeline, query, embedded, live_query, shifts, lo, hi):
    """Best alignment score of the query with each recording lo..hi-1."""
    n_bins = query.shape[1]
    first, width = catalogue.span(lo, hi)
    S_T = np.zeros((width, len(embedded)), dtype=bool)
    for shift in np.unique(shifts[lo:hi]):
        members = lo + np.flatnonzero(shifts[lo:hi] == shift)
        rows, _ = catalogue.member_rows(members, first)
        transposed = rotate_blocks(embedded, int(shift), n_bins)
        if pipeline.similarity == "oti_binary":
            # Silent frames, the gaps' among them, match nothing.
            frames = catalogue.frames[first + rows]
            S_T[rows] = oti_binary(transposed, frames, n_bins, pipeline.n_shifts).T
            continue
        # The mutual k-NN of the sounding frames only (the gaps are silent):
        # each member's sounding rows, one member after another.
        rows = rows[catalogue.sounding[first + rows]]
        keys = pair_keys(
            transposed[live_query],
            catalogue.frames[first + rows],
            pipeline.metric,
            pipeline.metric_params,
        )
        counts = catalogue.n_sounding[members]
        ends = np.cumsum(counts)
        linked = mutual_knn(keys, zip(ends - counts, ends, strict=True), pipeline.k)
        if live_query.all():
            S_T[rows] = linked
        else:
            S_T[np.ix_(rows, live_query)] = linked
    column_max = recurrence_column_max(
        np.ascontiguousarray(S_T.T),
        width,
        method=pipeline.alignment,
        gap_onset=pipeline.gap_onset,
        gap_extend=pipeline.gap_extend,
        keep=catalogue.frame_mask(lo, hi),
        dtype=np.float32,
    )
    segment_starts = catalogue.starts[lo:hi] - first
    return np.maximum.reduceat(column_max, segment_starts).astype(np.float64)
