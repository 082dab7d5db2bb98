"""Synthetic songs and their "covers", rendered as audio (numpy only).

A song is a seeded plan of bars: a key, a form of sections (each a four-chord
progression of diatonic triads or sevenths, played twice), and a melody motif
per section.  A *performance* of the plan renders it to audio: tempo and slow
tempo drift, chord voicing (inversion, octave, rhythm), bass pattern, and the
harmonic spectra (timbres) of the pad, bass and lead instruments, plus light
noise.

A cover plays the same plan in another performance: another tempo with a
different drift, other inversions and octaves, other timbres and bass pattern,
a two-bar intro the original does not have, the bridge section re-harmonised,
and the melody changed in some bars.  What a cross-similarity matrix between a
song and its cover should find is then a warped, partly broken diagonal: the
situation cover-song and alignment users are in.

Everything is deterministic given the seeds; nothing is downloaded.
"""

from __future__ import annotations

import numpy as np

SR = 22050
HOP = 512
TABLE_SIZE = 4096  # samples in one period of a wavetable (a power of two)
RELEASE_S = 0.03  # linear fade at the end of every note, against clicks

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
# Progressions as scale degrees (0 = tonic), the usual pop/rock suspects.
PROGRESSIONS = (
    (0, 4, 5, 3),  # I V vi IV
    (0, 5, 3, 4),  # I vi IV V
    (5, 3, 0, 4),  # vi IV I V
    (0, 3, 4, 3),  # I IV V IV
    (1, 4, 0, 0),  # ii V I I
    (0, 2, 3, 4),  # I iii IV V
    (3, 4, 2, 5),  # IV V iii vi
    (0, 6, 5, 4),  # I vii vi V
)
FORM = "ABABCAB"  # C is the bridge


def n_samples_for(n_frames: int) -> int:
    """Samples that give exactly ``n_frames`` frames (librosa, centred)."""
    return (n_frames - 1) * HOP


# --------------------------------------------------------------------------
# the plan: what is played, independent of how
# --------------------------------------------------------------------------


def song_plan(seed: int) -> dict:
    """Key, sections (progression + melody motif) and form of one song."""
    rng = np.random.default_rng([seed, 1])
    minor = bool(rng.random() < 0.4)
    sections = {}
    for name, choice in zip("ABC", rng.permutation(len(PROGRESSIONS))[:3], strict=True):
        sections[name] = _section(rng, PROGRESSIONS[choice])
    return {
        "tonic": int(rng.integers(12)),
        "scale": MINOR if minor else MAJOR,
        "sections": sections,
        "tempo": float(rng.uniform(84.0, 132.0)),
    }


def _section(rng, progression) -> dict:
    """A progression (played twice: 8 bars) and a melody motif per bar."""
    sevenths = rng.random(4) < 0.3
    # Melody: per bar, eighth-note slots, each a scale step relative to the
    # chord root (chord tones most likely) or a rest.
    steps = rng.choice([0, 2, 4, 0, 2, 4, 1, 3, 5, 6, -1], size=(8, 8))
    rests = rng.random((8, 8)) < 0.3
    steps[rests] = -99
    # Hold some notes over two slots.
    steps[:, 1::2][rng.random((8, 4)) < 0.4] = -98
    return {
        "chords": tuple(progression) * 2,
        "sevenths": tuple(bool(s) for s in sevenths) * 2,
        "melody": steps,
    }


def bar_content(plan: dict, bar: int, changes: dict | None = None) -> dict:
    """The chord and melody of bar ``bar`` (the form is repeated as needed)."""
    section_bar = bar % (8 * len(FORM))
    name = FORM[section_bar // 8]
    i = section_bar % 8
    section = plan["sections"][name]
    degree = section["chords"][i]
    melody = section["melody"][i]
    seventh = section["sevenths"][i]
    if changes is not None:
        if name == "C" and changes.get("bridge") is not None:
            degree = changes["bridge"][i % 4]
        if bar in changes.get("melody_bars", ()):
            melody = changes["melody"][bar % len(changes["melody"])]
    return {"degree": int(degree), "seventh": seventh, "melody": melody}


def cover_changes(plan: dict, seed: int) -> dict:
    """What the cover changes: the bridge's chords and some bars' melody."""
    rng = np.random.default_rng([seed, 2])
    bridge = plan["sections"]["C"]["chords"][:4]
    others = [p for p in PROGRESSIONS if tuple(p) != tuple(bridge)]
    new_bridge = others[int(rng.integers(len(others)))]
    n_bars = 2000  # more than any song here lasts
    melody_bars = set(np.flatnonzero(rng.random(n_bars) < 0.15).tolist())
    melody = rng.choice([0, 2, 4, 1, 3, 5, -99, -98], size=(16, 8))
    return {"bridge": new_bridge, "melody_bars": melody_bars, "melody": melody}


# --------------------------------------------------------------------------
# the performance: how it is played
# --------------------------------------------------------------------------


def performance(seed: int, plan: dict, cover: bool) -> dict:
    """Tempo, drift, voicing, rhythm and timbres of one rendering."""
    rng = np.random.default_rng([seed, 3 if cover else 4])
    tempo = plan["tempo"] * (rng.uniform(1.06, 1.15) if cover else 1.0)
    if cover and rng.random() < 0.5:
        tempo = plan["tempo"] / rng.uniform(1.06, 1.15)
    return {
        "tempo": tempo,
        # Slow tempo drift: a few percent over about a minute (cover: more).
        "drift_depth": rng.uniform(0.03, 0.06) if cover else rng.uniform(0.0, 0.015),
        "drift_period_beats": rng.uniform(80.0, 160.0),
        "drift_phase": rng.uniform(0.0, 2 * np.pi),
        "intro_bars": 2 if cover else 0,
        "chord_octave": int(rng.choice([48, 55, 60])) if cover else 57,
        "inversion": int(rng.integers(3)),
        "chord_hits": int(rng.choice([1, 2, 4])),
        "bass_pattern": ("fifths" if cover else "root"),
        "lead_octave": 72 if not cover else int(rng.choice([72, 84])),
        "timbres": {
            "pad": _spectrum(rng, 6, brightness=rng.uniform(1.0, 2.2)),
            "bass": _spectrum(rng, 4, brightness=rng.uniform(1.5, 2.5)),
            "lead": _spectrum(
                rng, 8, brightness=rng.uniform(0.8, 1.6), odd=rng.random() < 0.5
            ),
        },
        "noise": 0.004,
        "seed": seed,
    }


def _spectrum(rng, n_harmonics, brightness, odd=False):
    """Amplitudes of harmonics 1..n: decaying, jittered, optionally odd-only."""
    h = np.arange(1, n_harmonics + 1)
    amp = h ** (-brightness) * rng.uniform(0.7, 1.3, n_harmonics)
    if odd:
        amp[1::2] *= 0.15
    return amp


def _wavetable(amplitudes):
    phase = np.arange(TABLE_SIZE) / TABLE_SIZE
    table = np.zeros(TABLE_SIZE)
    for h, a in enumerate(amplitudes, start=1):
        table += a * np.sin(2 * np.pi * h * phase)
    return (table / np.abs(table).max()).astype(np.float32)


def _beat_times(perf: dict, n_beats: int) -> np.ndarray:
    """Onset (seconds) of every beat 0..n_beats, tempo drifting slowly."""
    b = np.arange(n_beats + 1, dtype=np.float64)
    tempo = perf["tempo"] * (
        1.0
        + perf["drift_depth"]
        * np.sin(2 * np.pi * b / perf["drift_period_beats"] + perf["drift_phase"])
    )
    seconds = np.zeros(n_beats + 1)
    np.cumsum(60.0 / tempo[:-1], out=seconds[1:])
    return seconds


def _chord_pitches(plan, degree, seventh, base, inversion):
    """MIDI pitches of a diatonic chord, inverted, near ``base``."""
    scale = plan["scale"]
    steps = [degree, degree + 2, degree + 4] + ([degree + 6] if seventh else [])
    pitches = [plan["tonic"] + scale[s % 7] + 12 * (s // 7) for s in steps]
    for _ in range(inversion):
        pitches = pitches[1:] + [pitches[0] + 12]
    shift = 12 * round((base - pitches[0]) / 12)
    return [p + shift for p in pitches]


def _melody_pitch(plan, degree, step, octave):
    s = degree + step
    return octave + plan["tonic"] + plan["scale"][s % 7] + 12 * (s // 7)


def render(plan: dict, perf: dict, n_samples: int, changes: dict | None = None):
    """The audio (float32, mono, ``SR`` Hz) of a plan in a performance."""
    rng = np.random.default_rng([perf["seed"], 5 if changes else 6])
    tables = {name: _wavetable(a) for name, a in perf["timbres"].items()}
    duration = n_samples / SR
    n_beats = int(duration * perf["tempo"] / 60.0 * 1.3) + 16
    beats = _beat_times(perf, n_beats)
    y = np.zeros(n_samples, dtype=np.float32)

    def note(beat0, beats_long, pitch, amp, instrument, tau):
        t0 = np.interp(beat0, np.arange(beats.size), beats)
        t1 = np.interp(beat0 + beats_long, np.arange(beats.size), beats)
        _add_note(y, t0, t1 - t0, pitch, amp, tables[instrument], tau)

    intro = perf["intro_bars"]
    n_bars = n_beats // 4 - 1
    for bar in range(n_bars):
        if beats[4 * bar] >= duration:
            break
        if bar < intro:  # the cover's intro: the tonic chord, pad only
            content = {"degree": 0, "seventh": False, "melody": None}
        else:
            content = bar_content(plan, bar - intro, changes)
        chord = _chord_pitches(
            plan,
            content["degree"],
            content["seventh"],
            perf["chord_octave"],
            perf["inversion"],
        )
        hits = perf["chord_hits"]
        for h in range(hits):
            for p in chord:
                note(4 * bar + 4 * h / hits, 4 / hits, p, 0.12, "pad", 1.2)
        root = _chord_pitches(plan, content["degree"], False, 36, 0)[0]
        if perf["bass_pattern"] == "root":
            note(4 * bar, 2, root, 0.2, "bass", 0.8)
            note(4 * bar + 2, 2, root, 0.17, "bass", 0.8)
        else:
            for i, p in enumerate((root, root + 7, root, root + 7)):
                note(4 * bar + i, 1, p, 0.18, "bass", 0.5)
        if content["melody"] is None:
            continue
        slots = content["melody"]
        for i, step in enumerate(slots):
            if step < -90:  # rest or hold
                continue
            length = 0.5
            j = i + 1
            while j < len(slots) and slots[j] == -98:
                length += 0.5
                j += 1
            pitch = _melody_pitch(
                plan, content["degree"], int(step), perf["lead_octave"]
            )
            amp = 0.2 * rng.uniform(0.8, 1.2)
            note(4 * bar + 0.5 * i, length, pitch, amp, "lead", 0.4)
    y += perf["noise"] * rng.standard_normal(n_samples).astype(np.float32)
    return y


def _add_note(y, t0, dur, pitch, amp, table, tau):
    """Add one enveloped wavetable tone to ``y`` in place."""
    s0 = int(round(t0 * SR))
    m = int((dur + RELEASE_S) * SR)
    s1 = min(y.size, s0 + m)
    if s0 >= y.size or s1 <= s0:
        return
    m = s1 - s0
    freq = 440.0 * 2.0 ** ((pitch - 69) / 12.0)
    n = np.arange(m, dtype=np.float64)
    idx = (n * (freq * TABLE_SIZE / SR)).astype(np.int64)
    idx &= TABLE_SIZE - 1
    wave = table[idx]
    env = np.exp(n * (-1.0 / (tau * SR))).astype(np.float32)
    attack = min(m, int(0.01 * SR))
    env[:attack] *= np.linspace(0.0, 1.0, attack, dtype=np.float32)
    release = min(m, int(RELEASE_S * SR))
    end = int(dur * SR)
    if end < m:
        env[end:] *= np.linspace(1.0, 0.0, m - end, dtype=np.float32)
    elif release:
        env[-release:] *= np.linspace(1.0, 0.0, release, dtype=np.float32)
    wave *= env
    wave *= np.float32(amp)
    y[s0:s1] += wave


def song_audio(seed: int, n_frames: int) -> np.ndarray:
    """A song of exactly ``n_frames`` frames."""
    plan = song_plan(seed)
    return render(plan, performance(seed, plan, cover=False), n_samples_for(n_frames))


def beat_frames(seed: int, n_frames: int, cover: bool) -> np.ndarray:
    """Frames (at hop ``HOP``) on which the beats of the song (or its cover)
    of ``n_frames`` frames fall: the performance's own beat grid, what a
    perfect beat tracker would report."""
    plan = song_plan(seed)
    perf = performance(seed, plan, cover=cover)
    n_beats = int(n_samples_for(n_frames) / SR * perf["tempo"] / 60.0 * 1.3) + 16
    frames = np.round(_beat_times(perf, n_beats) * SR / HOP).astype(np.intp)
    return frames[frames < n_frames]


def frames_per_beat(seed: int, cover: bool) -> float:
    """About how many frames one beat of the performance lasts."""
    plan = song_plan(seed)
    return 60.0 / performance(seed, plan, cover=cover)["tempo"] * SR / HOP


def cover_audio(seed: int, n_frames: int) -> np.ndarray:
    """A cover of song ``seed``: re-timed, re-voiced, some sections changed."""
    plan = song_plan(seed)
    changes = cover_changes(plan, seed)
    perf = performance(seed, plan, cover=True)
    return render(plan, perf, n_samples_for(n_frames), changes)
