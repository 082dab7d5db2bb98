"""Held-out matching material: performances the defaults were never tuned on.

Issue 26.  The same pieces as the benchmark's archives (``_align_data``),
rendered by the same FluidSynth pipeline (``_performances.render``,
``chroma``), but with everything the matcher's defaults were chosen on
changed:

* tempo: the query's performance follows a *piecewise-constant* tempo
  with abrupt changes (segments of 2-12 whole quarters, each at a factor
  drawn uniformly from 0.75-1.33 of the piece's tempo), not the benchmark's
  smooth sum of sinusoids;
* instruments: the archive plays every part on one of electric piano,
  vibraphone, drawbar organ or nylon guitar; the query gives each part
  its own program among tremolo strings, string ensemble 2, voice oohs,
  trombone, brass section, saxophones, English horn and recorder (none of
  them the benchmark's);
* noise: white noise at 20 dB SNR (the benchmark: 30 dB) in both;
* queries of 5-30 s (the benchmark: 15-30 s).

The piecewise tempo is rendered exactly by warping the score: a note at
score time ``s`` is written at ``W(s) = int_0^s 1/f`` quarters of a
constant-tempo plan, so FluidSynth plays it at ``lead_in + W(s) * 60 /
bpm`` s, which is also the stored score-time map (``s_grid``, ``t_grid``;
the breakpoints are whole quarters, on the map's grid, so interpolating it
is exact).  Each performance is cached under
``benchmarks/.cache/alignment/heldout/`` (``_align_data.cached_npz``) by a
hash of its plan, its notes, this module's and ``_performances``' code.
"""

from __future__ import annotations

import hashlib

import _performances as perf
import _scores
import numpy as np

PROGRAMS_A = (4, 11, 16, 24)  # e-piano, vibraphone, drawbar organ, nylon guitar
# tremolo strings, strings 2, voice oohs, trombone, brass section, saxes,
# English horn, recorder
PROGRAMS_B = (44, 49, 53, 57, 61, 64, 65, 66, 69, 74)
SNR_DB = 20.0
TEMPO_FACTORS = (0.75, 1.33)
SEGMENT_QUARTERS = (2, 12)
QUERY_SECONDS = (5.0, 30.0)
DIRECTORY = f"{_scores.CACHE_DIR}/heldout"


def plan(name: str, version: str, notes: np.ndarray, seed: int = 0) -> dict:
    """The benchmark's plan (``bpm``, lead-in) with held-out programs and tempo."""
    out = perf.plan(name, version, notes, seed)
    rng = np.random.default_rng(perf._seed(name, seed, version, "held-out"))
    n_parts = len(out["programs"])
    if version == "a":
        out["programs"] = [int(rng.choice(PROGRAMS_A))] * n_parts
        out["breaks"], out["factors"] = [], [1.0]
    else:
        out["programs"] = [int(p) for p in rng.choice(PROGRAMS_B, size=n_parts)]
        breaks = np.cumsum(rng.integers(*SEGMENT_QUARTERS, endpoint=True, size=4096))
        breaks = breaks[breaks < out["end_q"] + 8].tolist()
        out["breaks"] = [int(b) for b in breaks]
        out["factors"] = rng.uniform(*TEMPO_FACTORS, size=len(breaks) + 1).tolist()
    out.update(curve=None, snr_db=SNR_DB, material="held-out")
    out["code"] = _scores.code_hash(__file__)
    return out


def warp(p: dict, s: np.ndarray) -> np.ndarray:
    """``W(s)``: quarters of the constant-tempo plan where score time ``s`` sounds."""
    knots = np.array([0.0, *p["breaks"]], dtype=np.float64)
    rate = 1.0 / np.asarray(p["factors"], dtype=np.float64)  # quarters per quarter
    at_knots = np.concatenate([[0.0], np.cumsum(np.diff(knots) * rate[:-1])])
    i = np.searchsorted(knots, s, side="right") - 1
    return at_knots[i] + (s - knots[i]) * rate[i]


def time_map(p: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(s_grid, t_grid)``: score quarters -> seconds of this performance."""
    s = np.arange(0, p["end_q"] + 8 + perf.GRID_STEP, perf.GRID_STEP)
    return s, p["lead_in"] + warp(p, s) * 60.0 / p["bpm"]


def _render(p: dict, notes: np.ndarray) -> dict:
    warped = notes.astype(np.float64).copy()
    on, off = warp(p, notes[:, 0]), warp(p, notes[:, 0] + notes[:, 1])
    warped[:, 0], warped[:, 1] = on, off - on
    # the constant-tempo plan FluidSynth plays: no curve, the warped end
    flat = dict(p, end_q=float(warp(p, np.array([p["end_q"]]))[0]))
    y, where = perf.render(flat, warped)
    # render() leaves RMS 0.1 within the music and noise at perf.SNR_DB; more
    # independent noise brings the total to SNR_DB
    extra = 0.1 * np.sqrt(10 ** (-p["snr_db"] / 10) - 10 ** (-perf.SNR_DB / 10))
    rng = np.random.default_rng([p["noise_seed"], 2])
    y = (y + rng.standard_normal(len(y)) * extra).astype(np.float32)
    s_grid, t_grid = time_map(p)
    return {
        "chroma": perf.chroma(y),
        "s_grid": s_grid,
        "t_grid": t_grid,
        "music_start": where["music_start"],
        "music_end": where["music_end"],
    }


def _one(name: str, version: str, seed: int) -> str:
    import _align_data as data

    notes = _scores.notes(name)
    p = plan(name, version, notes, seed)
    desc = {"plan": p, "notes": hashlib.sha1(notes.tobytes()).hexdigest()}
    desc["versions"] = perf._versions()
    return data.cached_npz(
        f"{name.replace('/', '_')}-{version}",
        desc,
        lambda: _render(p, notes),
        directory=DIRECTORY,
    )


def performances(requests, seed: int = 0, n_jobs: int = 1, progress=None) -> dict:
    """``_performances.performances`` for the held-out material (same dicts)."""
    from joblib import Parallel, delayed

    if progress:
        progress(f"held-out performances: {len(requests)} ({n_jobs} at a time) ...")
    paths = Parallel(n_jobs=n_jobs, verbose=5 if progress else 0)(
        delayed(_one)(name, version, seed) for name, version in requests
    )
    out = {}
    for key, path in zip(requests, paths, strict=True):
        with np.load(path) as f:
            out[key] = {k: f[k] for k in ("chroma", "s_grid", "t_grid")}
            out[key].update(
                music_start=float(f["music_start"]), music_end=float(f["music_end"])
            )
    return out


def b_music(name: str, seed: int) -> float:
    """Seconds of music (first onset to last note-off) in the held-out query."""
    notes = _scores.notes(name)
    p = plan(name, "b", notes, seed)
    s_grid, t_grid = time_map(p)
    first, last = notes[:, 0].min(), (notes[:, 0] + notes[:, 1]).max()
    return float(np.interp(last, s_grid, t_grid) - np.interp(first, s_grid, t_grid))
