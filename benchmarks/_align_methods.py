"""The methods of the alignment benchmark and what each one gets.

Every method gets the same features: ``librosa.feature.chroma_cqt`` frames
(hop 512, 22050 Hz, 43.07 frames/s, float32) of the query (performance B)
and of the reference (performance A), and nothing else: no audio, no
tempo, no tuning, no anchors.  Each returns a path (alignment) or one
(start, end) per query (matching), converted here to skxsim's orientation;
``_align_metrics`` scores them all the same way.

Alignment, ``query`` and ``reference`` as ``(n, 12)`` rows:

* ``skxsim``: ``skxsim.align(query, reference)``, defaults;
* ``skxsim-estimator``: ``skxsim.Aligner().fit(reference).align(query)``
  (fit timed too), defaults;
* ``librosa``: ``librosa.sequence.dtw(X=query.T, Y=reference.T,
  metric="cosine")``, path ``wp[::-1]`` (full cost and accumulated-cost
  matrices: skipped where they would not fit, see the driver);
* ``dtw-python``: ``dtw.dtw(query, reference, dist_method="cosine")`` with
  its default step pattern ``symmetric2`` (diagonal steps weigh 2), path
  ``(index1, index2)``; full matrices like librosa;
* ``linmdtw``: ``linmdtw.linmdtw(Q, R, do_gpu=False)``, exact DTW in linear
  memory; its metric is euclidean only, so ``Q`` and ``R`` are the chroma
  rows scaled to unit length (euclidean distance ``sqrt(2 * cosine)``);
* ``synctoolbox``: ``sync_via_mrmsdtw(f_chroma1=query.T,
  f_chroma2=reference.T, input_feature_rate=22050 / 512)``, its defaults
  (step weights 1, 1, 1; ``threshold_rec=10000``; smoothing windows 201,
  101, 21, 1 with downsampling 50, 25, 5, 1; chroma normalised inside);
* ``synctoolbox-notebook``: the same call with the MrMsDTW settings of
  synctoolbox's example ``sync_audio_audio_full.ipynb``:
  ``step_weights=np.array([1.5, 1.5, 2.0])``, ``threshold_rec=10 ** 6``.
  That notebook also computes its own features from the audio (quantized
  chroma from a pitch filterbank at 50 Hz plus DLNCO onset features used at
  the finest level); here it gets the same chroma_cqt as everyone else.

Matching, one query ``(n_q, 12)`` against the archive ``(n_ref, 12)``:

* ``skxsim``: ``skxsim.Matcher().fit(archive)`` once, then
  ``.match(query, n_matches=1)`` per query; defaults;
* ``librosa-subseq``: ``librosa.sequence.dtw(X=query.T, Y=archive.T,
  metric="cosine", subseq=True)``; start ``wp[-1, 1]``, end ``wp[0, 1]``;
* ``libfmp-diag``: FMP's diagonal matching with the multiple-query
  strategy: CENS of the archive once (``libfmp.c7.compute_cens_from_chromagram``
  with its defaults, smoothing 41 frames, downsampling 10, so 4.3 CENS
  frames/s), CENS of the query, ``matching_function_diag_multiple`` over 15
  tempo ratios ``libfmp.c4.compute_tempo_rel_set(0.66, 1.5, 15)``; the
  match is the minimum of the matching function at CENS frame ``p`` with
  scaled length ``N``: reference frames ``10 p`` to ``10 (p + N) - 1``.
"""

from __future__ import annotations

import _cases
import numpy as np

FPS = 22050 / 512
NOTEBOOK_STEP_WEIGHTS = (1.5, 1.5, 2.0)
NOTEBOOK_THRESHOLD_REC = 10**6
CENS_DOWNSAMPLING = 10  # libfmp's default d of compute_cens_from_chromagram
TEMPO_RATIOS = (0.66, 1.5, 15)

# name -> (module that must be importable, what it runs)
ALIGN = {
    "skxsim": ("skxsim", "skxsim.align(query, reference)"),
    "skxsim-estimator": ("skxsim", "skxsim.Aligner().fit(reference).align(query)"),
    "librosa": ("librosa", "librosa.sequence.dtw(metric='cosine'), full matrices"),
    "dtw-python": ("dtw", "dtw.dtw(dist_method='cosine'), symmetric2, full matrices"),
    "linmdtw": ("linmdtw", "linmdtw.linmdtw(do_gpu=False) on unit-length rows"),
    "synctoolbox": ("synctoolbox", "sync_via_mrmsdtw, defaults"),
    "synctoolbox-notebook": (
        "synctoolbox",
        "sync_via_mrmsdtw, step_weights (1.5, 1.5, 2), threshold_rec 1e6",
    ),
}
MATCH = {
    "skxsim": ("skxsim", "skxsim.Matcher().fit(archive).match(query, n_matches=1)"),
    "librosa-subseq": ("librosa", "librosa.sequence.dtw(metric='cosine', subseq=True)"),
    "libfmp-diag": ("libfmp", "libfmp diagonal matching, CENS 41/10, 15 tempo ratios"),
}
SKXSIM_ALIGN = ("skxsim", "skxsim-estimator")
# Full-matrix methods: bytes per (query frame x reference frame) cell, a
# first guess that the driver recalibrates from every run.
BYTES_PER_CELL = {"librosa": 24.0, "dtw-python": 28.0, "librosa-subseq": 32.0}
SECONDS_PER_CELL = {"linmdtw": 1.2e-7, "librosa-subseq": 4e-8}


def missing_api(method: str, task: str) -> str:
    """Why an skxsim method cannot run yet ("" when it can)."""
    skxsim = _cases.import_skxsim()
    needed = {"align": ("align", "Aligner"), "match": ("Matcher",)}[task]
    absent = [n for n in needed if not hasattr(skxsim, n)]
    if method == "skxsim-estimator":
        absent = [n for n in absent if n == "Aligner"]
    elif method == "skxsim" and task == "align":
        absent = [n for n in absent if n == "align"]
    return ", ".join(f"skxsim.{n}" for n in absent)


def aligner(method: str):
    """A callable ``(query, reference) -> path (n_steps, 2)`` for the method."""
    if method == "skxsim":
        skxsim = _cases.import_skxsim()

        return lambda q, r: np.asarray(skxsim.align(q, r)[0])
    if method == "skxsim-estimator":
        skxsim = _cases.import_skxsim()

        return lambda q, r: np.asarray(skxsim.Aligner().fit(r).align(q)[0])
    if method == "librosa":
        import librosa

        def run(q, r):
            _, wp = librosa.sequence.dtw(X=q.T, Y=r.T, metric="cosine")
            return wp[::-1]

        return run
    if method == "dtw-python":
        import dtw

        def run(q, r):
            a = dtw.dtw(q, r, dist_method="cosine")
            return np.column_stack([a.index1, a.index2])

        return run
    if method == "linmdtw":
        import linmdtw

        def run(q, r):
            qn = q / np.linalg.norm(q, axis=1, keepdims=True)
            rn = r / np.linalg.norm(r, axis=1, keepdims=True)
            return np.asarray(linmdtw.linmdtw(qn, rn, do_gpu=False)[1])

        return run
    if method in ("synctoolbox", "synctoolbox-notebook"):
        from synctoolbox.dtw.mrmsdtw import sync_via_mrmsdtw

        extra = {}
        if method == "synctoolbox-notebook":
            extra = {
                "step_weights": np.array(NOTEBOOK_STEP_WEIGHTS),
                "threshold_rec": NOTEBOOK_THRESHOLD_REC,
            }

        def run(q, r):
            wp = sync_via_mrmsdtw(
                f_chroma1=q.T, f_chroma2=r.T, input_feature_rate=FPS, **extra
            )
            return wp.T

        return run
    raise ValueError(f"unknown alignment method {method!r}")


def matcher(method: str):
    """``(fit, query)``: ``fit(archive) -> model``, ``query(model, q) -> (start, end)``."""
    if method == "skxsim":
        skxsim = _cases.import_skxsim()

        def fit(archive):
            return skxsim.Matcher().fit(archive)

        def query(model, q):
            starts, ends, _ = model.match(q, n_matches=1)
            return int(starts[0]), int(ends[0])

        return fit, query
    if method == "librosa-subseq":
        import librosa

        def query(archive, q):
            _, wp = librosa.sequence.dtw(
                X=q.T, Y=archive.T, metric="cosine", subseq=True
            )
            return int(wp[-1, 1]), int(wp[0, 1])

        return (lambda archive: archive), query
    if method == "libfmp-diag":
        import libfmp.c4
        import libfmp.c7

        ratios = libfmp.c4.compute_tempo_rel_set(*TEMPO_RATIOS)

        def fit(archive):
            return libfmp.c7.compute_cens_from_chromagram(archive.T, Fs=FPS)[0]

        def query(cens, q):
            x = libfmp.c7.compute_cens_from_chromagram(q.T, Fs=FPS)[0]
            delta, lengths, _ = libfmp.c7.matching_function_diag_multiple(
                x, cens, tempo_rel_set=ratios
            )
            p = int(np.argmin(delta))
            d = CENS_DOWNSAMPLING
            return p * d, int((p + lengths[p]) * d) - 1

        return fit, query
    raise ValueError(f"unknown matching method {method!r}")


def skxsim_match_many(model, queries, dask: bool):
    """``match_many`` of the queries, on a local Dask cluster when ``dask``."""
    import joblib

    if not dask:
        return model.match_many(queries, n_matches=1)
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        with Client(cluster), joblib.parallel_config(backend="dask"):
            return model.match_many(queries, n_matches=1)
