"""Material with known structure for the segmentation benchmark.

* **Chorales**: Bach chorales of music21's corpus whose score has one
  end-repeat barline (bar form, A A B), with the repeat expanded.  The
  labels come from the score: phrase ``i`` ends at the end of the
  ``i``-th fermata note of the soprano; a phrase's label is its index in
  the unexpanded score, so that the repeated phrases share their labels
  (``p0 p1 p0 p1 p2 p3 ...``).
* **Medleys**: three chorales' first sections (their repeated A part) as
  section types A, B, C, arranged in a form drawn from ``FORMS``; every
  occurrence is rendered on its own, alternately as ``_performances``'
  performance A (one keyboard, constant tempo) and B (an ensemble, a
  smooth +-25% tempo curve, velocity jitter), each at a tempo seeded by the
  occurrence, then concatenated, so that no repetition is a copy.

Rendering: ``_performances.render`` (FluidSynth, FluidR3 GM, noise at 30 dB
SNR), the music only (the silent tail cut).  Features at 22050 Hz, hop 512:
log-CQT (84 bins), 13 MFCC, chroma_cqt; then averaged over blocks of
``BLOCK`` hops (0.232 s frames), the frames every method receives.  Labels
per block from the exact score-time map at the block's centre.  Cached in
``benchmarks/.cache/segmentation/``.
"""

from __future__ import annotations

import os

import _align_data
import _performances
import _scores
import numpy as np

BLOCK = 10  # hops per frame of the benchmark (10 * 512 / 22050 = 0.232 s)
FRAME_S = BLOCK * _performances.HOP / _performances.SR
CACHE = os.path.join(_scores.HERE, ".cache", "segmentation")
FORMS = ("ABACAB", "AABABCB", "ABCABC", "ABBACA", "ABACBCA")


def bar_form_chorales():
    """Yield ``(name, repeat_end_q, phrase_ends_q)`` of chorales in bar form."""
    from music21 import bar, corpus, expressions

    for name in _scores.chorale_names():
        try:
            score = corpus.parse(name)
            repeats = list(score.parts[0].recurse().getElementsByClass(bar.Repeat))
            if [r.direction for r in repeats] != ["end"]:
                continue
            expanded = score.expandRepeats()
            repeat_end = float(expanded.highestTime - score.highestTime)
            ends = sorted(
                {
                    float(n.getOffsetInHierarchy(score) + n.quarterLength)
                    for n in score.parts[0].recurse().notes
                    if any(isinstance(e, expressions.Fermata) for e in n.expressions)
                }
            )
        except Exception:  # a file music21 cannot read or expand: not material
            continue
        total = float(score.highestTime)
        ends = sorted({e for e in ends if 0 < e < total} | {repeat_end, total})
        if 0 < repeat_end < total and len(ends) >= 3:
            yield name, repeat_end, ends


def expand(notes: np.ndarray, repeat_end: float) -> np.ndarray:
    """Notes of ``A A B``: the first ``repeat_end`` quarters twice."""
    first = notes[notes[:, 0] < repeat_end]
    again = first.copy()
    again[:, 0] += repeat_end
    rest = notes[notes[:, 0] >= repeat_end].copy()
    rest[:, 0] += repeat_end
    out = np.concatenate([first, again, rest])
    # a note held across the repeat sign stops there
    out[: len(first), 1] = np.minimum(out[: len(first), 1], repeat_end - first[:, 0])
    return out[np.lexsort((out[:, 2], out[:, 0]))]


def chorale_labels(repeat_end, ends):
    """Label intervals ``(start_q, end_q, label)`` of the expanded score."""
    starts = [0.0] + ends[:-1]
    phrases = list(zip(starts, ends, range(len(ends)), strict=True))
    first = [(s, e, lab) for s, e, lab in phrases if e <= repeat_end]
    rest = [
        (s + repeat_end, e + repeat_end, lab)
        for s, e, lab in phrases
        if s >= repeat_end
    ]
    again = [(s + repeat_end, e + repeat_end, lab) for s, e, lab in first]
    return first + again + rest


def _features(y: np.ndarray) -> dict:
    import librosa

    sr, hop = _performances.SR, _performances.HOP
    n = len(y) // hop
    cqt = librosa.amplitude_to_db(
        np.abs(librosa.cqt(y=y, sr=sr, hop_length=hop, n_bins=84)), ref=np.max
    )[:, :n]
    mfcc = librosa.feature.mfcc(y=y, sr=sr, hop_length=hop, n_mfcc=13)[:, :n]
    chroma = librosa.feature.chroma_cqt(y=y, sr=sr, hop_length=hop)[:, :n]
    return {"cqt": cqt.T, "mfcc": mfcc.T, "chroma": chroma.T}


def _render(name, notes, version, seed):
    p = _performances.plan(name, version, notes, seed)
    p["lead_in"] = 0.0
    y, where = _performances.render(p, notes)
    stop = int(np.ceil(where["music_end"] * _performances.SR / _performances.HOP))
    return y[: stop * _performances.HOP], p


def _label_at(times_q, intervals) -> np.ndarray:
    labels = np.full(len(times_q), -1)
    for start, end, label in intervals:
        labels[(times_q >= start) & (times_q < end)] = label
    labels[times_q >= intervals[-1][1]] = intervals[-1][2]
    return labels


def _hop_labels(p, n_hops, intervals):
    s_grid, t_grid = _performances.time_map(p)
    t = (np.arange(n_hops) + 0.5) * _performances.HOP / _performances.SR
    return _label_at(np.interp(t, t_grid, s_grid), intervals)


def _cached(key: dict, compute):
    description = {**key, "code": _scores.code_hash(os.path.abspath(__file__))}
    path = _align_data.cached_npz(key["kind"], description, compute, CACHE)
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def chorale(name, repeat_end, ends, seed):
    """Hop-level features and labels of one expanded chorale (performance B)."""

    def compute():
        notes = expand(_scores.notes(name), repeat_end)
        y, p = _render(name, notes, "b", seed)
        out = _features(y)
        n = len(out["cqt"])
        out["labels"] = _hop_labels(p, n, chorale_labels(repeat_end, ends))
        return out

    key = {"kind": "chorale", "name": name, "repeat_end": repeat_end, "ends": ends}
    return _cached({**key, "seed": seed}, compute)


def medley(sections, form, seed):
    """Hop-level features and labels of one medley; ``sections`` maps a
    letter to ``(name, repeat_end)``."""

    def compute():
        audio, labels = [], []
        for i, letter in enumerate(form):
            name, repeat_end = sections[letter]
            notes = _scores.notes(name)
            notes = notes[notes[:, 0] < repeat_end].copy()
            notes[:, 1] = np.minimum(notes[:, 1], repeat_end - notes[:, 0])
            y, _ = _render(name, notes, "ab"[i % 2], seed * 100 + i)
            audio.append(y)
            labels.append(np.full(len(y) // _performances.HOP, ord(letter) - 65))
        out = _features(np.concatenate(audio))
        out["labels"] = np.concatenate(labels)[: len(out["cqt"])]
        return out

    key = {"kind": "medley", "sections": sections, "form": form, "seed": seed}
    return _cached(key, compute)


def blocks(item: dict, block: int = BLOCK) -> dict:
    """Average the hop-level features over ``block`` hops; label by majority."""
    n = len(item["labels"]) // block
    out = {}
    for kind in ("cqt", "mfcc", "chroma"):
        x = item[kind][: n * block].reshape(n, block, -1)
        out[kind] = np.median(x, axis=1) if kind == "cqt" else x.mean(axis=1)
    lab = item["labels"][: n * block].reshape(n, block)
    out["labels"] = np.array(
        [np.bincount(row - row.min()).argmax() + row.min() for row in lab]
    )
    return out


def material(part: str, n_chorales: int, n_medleys: int):
    """``[(kind, name, item)]`` of the ``"tune"`` or ``"held-out"`` part.

    The two parts use disjoint chorales (alternate bar-form chorales) and
    other render seeds; medley forms cycle through ``FORMS``.
    """
    offset = 0 if part == "tune" else 1
    seed = 0 if part == "tune" else 1
    pool = []
    for i, entry in enumerate(bar_form_chorales()):
        if i % 2 == offset:
            pool.append(entry)
        if len(pool) >= n_chorales + 3 * n_medleys:
            break
    out = []
    for name, repeat_end, ends in pool[:n_chorales]:
        out.append(("chorale", name, chorale(name, repeat_end, ends, seed)))
    rest = pool[n_chorales:]
    for m in range(n_medleys):
        trio = rest[3 * m : 3 * m + 3]
        sections = {letter: (e[0], e[1]) for letter, e in zip("ABC", trio, strict=True)}
        form = FORMS[(m + offset) % len(FORMS)]
        out.append(
            (
                "medley",
                form + " " + "/".join(e[0][5:-4] for e in trio),
                medley(sections, form, seed),
            )
        )
    return out
