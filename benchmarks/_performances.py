"""Two rendered performances of every piece, with exact score-time maps.

For a piece (``_scores``), performance **A** plays at a constant tempo and
performance **B** follows a smooth random tempo curve and starts after a
lead-in of silence; they use different General MIDI instruments.  Both are
written as MIDI by this module (mido), rendered by the FluidSynth command
line with Debian's FluidR3 GM soundfont (reverb and chorus at FluidSynth's
defaults), mixed to mono at 22050 Hz, and given white noise at 30 dB SNR
(relative to the mean power between the first onset and the last note-off).

* tempo: A plays quarter notes at ``bpm`` (seeded per piece, 72-104 bpm).
  B's tempo at score time ``s`` (quarters) is ``bpm * f(s)`` with
  ``f = 1 + 0.25 h(s) / max |h|``, ``h`` a sum of three sinusoids with
  random periods of 12-48 quarters, amplitudes and phases: a smooth curve
  reaching exactly +-25% within the piece.
* B's lead-in: 1-4 s of silence (noise only) before the first note.
* instruments: A plays every part on one keyboard or plucked program
  (piano, harpsichord, church organ or harp); B gives each part its own
  program among strings, choir, brass and woodwinds.  Velocity 80 in A,
  80 +- 12 (seeded per note) in B.
* length: every performance ends 1.5 s after its last note-off, rounded up
  to a whole number of hops, so that per-piece features concatenate into
  the features of the concatenated audio (up to CQT edge effects inside the
  silent tails).

The score-time map of a performance is stored as ``(s_grid, t_grid)``
(quarters, seconds) on a 1/32-quarter grid; MIDI note times are read off
the same map (then rounded to the MIDI tick, 1/1920 s), so the ground truth
``B seconds -> score time -> A seconds`` is exact up to that rounding.

Features: ``librosa.feature.chroma_cqt(y=y, sr=22050, hop_length=512)``,
float32, frames as rows; librosa's last frame (centred on the last sample)
is dropped, so frame ``k`` is centred at ``k * 512 / 22050`` s and a
performance of ``n`` samples has ``n / 512`` frames.  Each performance is
cached in ``benchmarks/.cache/alignment/`` under a hash of its plan, its
notes, this module's source, librosa's and FluidSynth's versions and the
soundfont's size.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile

import _scores
import numpy as np

SR = 22050
HOP = 512
FPS = SR / HOP
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
SNR_DB = 30.0
TAIL_S = 1.5
TEMPO_SPREAD = 0.25
GRID_STEP = 1 / 32  # quarters between points of the stored score-time map
TICKS_PER_SECOND = 1920  # mido: 960 ticks per beat at 120 bpm
PROGRAMS_A = (0, 6, 19, 46)  # piano, harpsichord, church organ, harp
# strings, choir, brass, winds
PROGRAMS_B = (40, 41, 42, 48, 52, 56, 60, 68, 70, 71, 73)


def _seed(*parts) -> int:
    return int(hashlib.sha1(repr(parts).encode()).hexdigest()[:8], 16)


def plan(name: str, version: str, notes: np.ndarray, seed: int = 0) -> dict:
    """The JSON-able parameters of performance ``version`` ("a"/"b") of a piece."""
    rng = np.random.default_rng(_seed(name, seed))  # shared by A and B
    bpm = float(rng.uniform(72, 104))
    n_parts = int(notes[:, 3].max()) + 1
    end_q = float((notes[:, 0] + notes[:, 1]).max())
    out = {"name": name, "version": version, "seed": seed, "bpm": bpm, "end_q": end_q}
    mine = np.random.default_rng(_seed(name, seed, version))
    if version == "a":
        program = int(mine.choice(PROGRAMS_A))
        out.update(programs=[program] * n_parts, lead_in=0.0, curve=None, jitter=0)
    elif version == "b":
        out.update(
            programs=[int(p) for p in mine.choice(PROGRAMS_B, size=n_parts)],
            lead_in=float(mine.uniform(1.0, 4.0)),
            curve={
                "periods": mine.uniform(12, 48, size=3).tolist(),
                "amplitudes": mine.uniform(0.5, 1.0, size=3).tolist(),
                "phases": mine.uniform(0, 2 * np.pi, size=3).tolist(),
            },
            jitter=12,
        )
    else:
        raise ValueError(f"version must be 'a' or 'b', got {version!r}")
    out["noise_seed"] = _seed(name, seed, version, "noise")
    return out


def tempo_factor(p: dict, s: np.ndarray) -> np.ndarray:
    """``f(s)``: B's tempo over A's at score time ``s`` (1 for A)."""
    if p["curve"] is None:
        return np.ones_like(s)
    c = p["curve"]

    def h(x):
        return sum(
            a * np.sin(2 * np.pi * x / period + phase)
            for a, period, phase in zip(
                c["amplitudes"], c["periods"], c["phases"], strict=True
            )
        )

    inside = np.linspace(0, p["end_q"], 4096)
    peak = np.abs(h(inside)).max()
    return np.clip(1 + TEMPO_SPREAD * h(s) / peak, 1 - TEMPO_SPREAD, 1 + TEMPO_SPREAD)


def time_map(p: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(s_grid, t_grid)``: score quarters -> seconds of this performance."""
    s = np.arange(0, p["end_q"] + 8 + GRID_STEP, GRID_STEP)
    seconds_per_quarter = 60.0 / (p["bpm"] * tempo_factor(p, s))
    steps = 0.5 * (seconds_per_quarter[1:] + seconds_per_quarter[:-1]) * GRID_STEP
    t = p["lead_in"] + np.concatenate([[0.0], np.cumsum(steps)])
    return s, t


def midi_file(p: dict, notes: np.ndarray, path: str) -> None:
    """Write the performance as a one-track MIDI file (120 bpm, 960 ticks/beat)."""
    import mido

    s_grid, t_grid = time_map(p)
    on = np.rint(np.interp(notes[:, 0], s_grid, t_grid) * TICKS_PER_SECOND)
    off = np.rint(
        np.interp(notes[:, 0] + notes[:, 1], s_grid, t_grid) * TICKS_PER_SECOND
    )
    off = np.maximum(off, on + 1)
    rng = np.random.default_rng([p["noise_seed"], 1])
    velocity = np.clip(
        80 + rng.integers(-p["jitter"], p["jitter"] + 1, len(notes)), 1, 127
    )
    channels = [c for c in range(16) if c != 9]  # channel 10 is percussion
    events = []  # (tick, 0 = off before 1 = on at one tick, message)
    for i, (_, _, pitch, part) in enumerate(notes):
        ch = channels[int(part) % len(channels)]
        events.append((int(on[i]), 1, ch, int(pitch), int(velocity[i])))
        events.append((int(off[i]), 0, ch, int(pitch), 0))
    events.sort()
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    for part, program in enumerate(p["programs"]):
        ch = channels[part % len(channels)]
        track.append(
            mido.Message("program_change", program=program, channel=ch, time=0)
        )
    now = 0
    for tick, kind, ch, pitch, vel in events:
        msg = "note_on" if kind else "note_off"
        track.append(
            mido.Message(msg, note=pitch, velocity=vel, channel=ch, time=tick - now)
        )
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=int(TAIL_S * TICKS_PER_SECOND)))
    mid = mido.MidiFile(ticks_per_beat=960)
    mid.tracks.append(track)
    mid.save(path)


def render(p: dict, notes: np.ndarray) -> tuple[np.ndarray, dict]:
    """Mono float32 audio at ``SR`` with noise, and where the music is."""
    s_grid, t_grid = time_map(p)
    start = float(np.interp(notes[:, 0].min(), s_grid, t_grid))
    end = float(np.interp((notes[:, 0] + notes[:, 1]).max(), s_grid, t_grid))
    n_samples = int(np.ceil((end + TAIL_S) * SR / HOP)) * HOP
    with tempfile.TemporaryDirectory(prefix="skxsim-render-") as tmp:
        mid, raw = os.path.join(tmp, "p.mid"), os.path.join(tmp, "p.raw")
        midi_file(p, notes, mid)
        subprocess.run(
            [
                "fluidsynth",
                "-ni",
                "-q",
                "-r",
                str(SR),
                "-O",
                "float",
                "-T",
                "raw",
                "-F",
                raw,
                SOUNDFONT,
                mid,
            ],
            check=True,
            capture_output=True,
            timeout=3600,
        )
        stereo = np.fromfile(raw, dtype=np.float32).reshape(-1, 2)
    y = np.zeros(n_samples, dtype=np.float64)
    m = min(n_samples, len(stereo))
    y[:m] = stereo[:m].mean(axis=1)
    music = y[int(start * SR) : int(end * SR)]
    power = float(np.mean(music**2)) if music.size else 0.0
    if power <= 0:
        raise RuntimeError(f"{p['name']} ({p['version']}): FluidSynth rendered silence")
    y /= np.sqrt(power) * 10  # RMS 0.1 within the music
    rng = np.random.default_rng(p["noise_seed"])
    y += rng.standard_normal(n_samples) * 0.1 * 10 ** (-SNR_DB / 20)
    return y.astype(np.float32), {"music_start": start, "music_end": end}


def chroma(y: np.ndarray) -> np.ndarray:
    """``(len(y) // HOP, 12)`` float32 chroma_cqt frames, as rows."""
    import librosa

    c = librosa.feature.chroma_cqt(y=y, sr=SR, hop_length=HOP)
    return np.ascontiguousarray(c[:, : len(y) // HOP].T, dtype=np.float32)


def _versions() -> dict:
    import librosa

    try:
        fluid = subprocess.run(
            ["fluidsynth", "--version"], capture_output=True, text=True, timeout=30
        ).stdout.splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        fluid = "missing"
    size = os.path.getsize(SOUNDFONT) if os.path.exists(SOUNDFONT) else None
    code = _scores.code_hash(os.path.abspath(__file__))
    return {
        "librosa": librosa.__version__,
        "fluidsynth": fluid,
        "soundfont_bytes": size,
        "code": code,
    }


def cache_path(p: dict, notes: np.ndarray, versions: dict) -> str:
    text = json.dumps({"plan": p, "versions": versions}, sort_keys=True)
    digest = hashlib.sha1(text.encode() + notes.tobytes()).hexdigest()[:16]
    safe = p["name"].replace("/", "_").rsplit(".", 1)[0]
    return os.path.join(
        _scores.CACHE_DIR, "performances", f"{safe}-{p['version']}-{digest}.npz"
    )


def _compute(p, notes, path):
    y, where = render(p, notes)
    features = chroma(y)
    s_grid, t_grid = time_map(p)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp.npz"
    np.savez(
        tmp,
        chroma=features,
        s_grid=s_grid,
        t_grid=t_grid,
        music_start=where["music_start"],
        music_end=where["music_end"],
        plan=json.dumps(p),
    )
    os.replace(tmp, path)
    return path


def performances(requests, seed: int = 0, n_jobs: int = 1, progress=None) -> dict:
    """Cached performances: ``{(name, version): dict}`` for ``(name, version)`` requests.

    Each dict holds ``chroma`` (n_frames, 12), ``s_grid``/``t_grid`` (the
    score-time map), ``music_start``/``music_end`` (seconds) and ``plan``.
    Missing ones are rendered, ``n_jobs`` at a time (joblib processes).
    """
    from joblib import Parallel, delayed

    versions = _versions()
    jobs, paths = [], {}
    for name, version in requests:
        notes = _scores.notes(name)
        p = plan(name, version, notes, seed)
        path = cache_path(p, notes, versions)
        paths[(name, version)] = path
        if not os.path.exists(path):
            jobs.append((p, notes, path))
    if jobs:
        if progress:
            progress(f"rendering {len(jobs)} performances ({n_jobs} at a time) ...")
        Parallel(n_jobs=n_jobs, verbose=5 if progress else 0)(
            delayed(_compute)(*job) for job in jobs
        )
    out = {}
    for key, path in paths.items():
        with np.load(path) as data:
            out[key] = {
                "chroma": data["chroma"],
                "s_grid": data["s_grid"],
                "t_grid": data["t_grid"],
                "music_start": float(data["music_start"]),
                "music_end": float(data["music_end"]),
                "plan": json.loads(str(data["plan"])),
            }
    return out
