"""Scores for the alignment benchmark: music21's corpus as note lists.

The pieces, in the order every length and archive takes them (a longer
input is always a prefix-extension of a shorter one):

1. Bach's four-part chorales in Riemenschneider order (music21's chorale
   list), each score once;
2. then, round-robin, Palestrina's mass movements, Monteverdi's madrigals
   and the Haydn, Mozart and Beethoven string-quartet movements of the
   corpus (MusicXML or Humdrum files only), each in the corpus's order.

A piece is a list of notes ``(onset, duration, MIDI pitch, part)``, onsets
and durations in quarter notes, ties merged; repeats are not expanded.
:func:`distinct_pieces` drops a piece that is the same music as an earlier one:
two files of one corpus path (``.krn`` and ``.mxl``, or an ``_old``
encoding) are one piece; two pieces whose lengths on an eighth-note grid
differ by at most one eighth are the same music when at least half of the
grid's eighths sound exactly the same pitches, up to one transposition
(-12..12 semitones); and so are two pieces with note counts within 1% whose
pitch sequences (ordered by onset, then pitch) agree at 90% of the
positions up to one transposition (another encoding of one score).
Among the 348 chorale scores this drops 10 near-identical harmonisations
of one tune, some filed under another title (e.g. BWV 244.15 / 244.44,
117.4 / 177.4, 253 / 414, 271 / 244.44); exact duplicates do not occur.
Other harmonisations of a tune stay: they are other music.
"""

from __future__ import annotations

import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE_DIR = os.path.join(HERE, ".cache", "alignment")
SAME_MUSIC = 0.5  # fraction of identical eighths that makes two pieces one
SAME_ENCODING = 0.9  # fraction of identical pitches in order: one score twice
MIN_QUARTERS = 16  # shorter scores are not pieces (fragments, exercises)
OTHER_SOURCES = (
    ("palestrina", ("krn",)),
    ("monteverdi", ("mxl",)),
    ("quartets", ("mxl", "krn")),
)
QUARTET_COMPOSERS = ("haydn", "mozart", "beethoven")


def _corpus_key(path) -> str:
    """``composer/.../file.ext`` of a corpus path, as music21.corpus.parse takes."""
    return str(path).split("/corpus/", 1)[-1]


def chorale_names() -> list[str]:
    """Corpus names of Bach's chorales, Riemenschneider order, each once."""
    from music21 import corpus
    from music21.corpus import chorales

    available = {p.name for p in corpus.getComposer("bach")}
    entries = chorales.ChoraleListRKBWV().byRiemenschneider
    names = []
    for number in sorted(entries):
        name = f"bwv{entries[number]['bwv']}.mxl"
        if name in available and f"bach/{name}" not in names:
            names.append(f"bach/{name}")
    return names


def other_names() -> list[str]:
    """Palestrina, Monteverdi and quartet movements, interleaved round-robin."""
    from music21 import corpus

    groups = []
    for source, extensions in OTHER_SOURCES:
        composers = QUARTET_COMPOSERS if source == "quartets" else (source,)
        names = []
        for composer in composers:
            names += sorted(
                _corpus_key(p)
                for p in corpus.getComposer(composer)
                if str(p).rsplit(".", 1)[-1] in extensions
            )
        if source == "quartets":  # interleave the three composers too
            names = _round_robin(
                [[n for n in names if n.startswith(c + "/")] for c in composers]
            )
        groups.append(names)
    return _round_robin(groups)


def _round_robin(groups):
    out, i = [], 0
    while any(i < len(g) for g in groups):
        out += [g[i] for g in groups if i < len(g)]
        i += 1
    return out


def _notes_path(name: str) -> str:
    import music21

    safe = name.replace("/", "_")
    key = f"music21-{music21.__version__}-{code_hash(os.path.abspath(__file__))}"
    return os.path.join(CACHE_DIR, "notes", f"{safe}-{key}.npy")


def notes(name: str) -> np.ndarray:
    """``(n_notes, 4)`` float64: onset, duration (quarters), MIDI pitch, part.

    Parsed once with music21 and cached.  Sorted by onset, then pitch.  An
    empty array when the score cannot be parsed or has no notes.
    """
    path = _notes_path(name)
    if os.path.exists(path):
        return np.load(path)
    from music21 import corpus

    rows = []
    try:
        score = corpus.parse(name)
        parts = list(score.parts) or [score]
        for index, part in enumerate(parts):
            for element in part.stripTies().flatten().notes:
                duration = float(element.quarterLength)
                if duration <= 0:  # grace notes
                    continue
                for pitch in element.pitches:
                    rows.append((float(element.offset), duration, pitch.midi, index))
    except Exception:  # a corpus file music21 cannot read is not a piece
        rows = []
    out = np.array(sorted(rows), dtype=np.float64).reshape(-1, 4)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp.npy"
    np.save(tmp, out)
    os.replace(tmp, path)
    return out


def _grid(note_rows: np.ndarray) -> list[int]:
    """Sounding pitches per eighth note, one bitmask (Python int) per eighth."""
    end = int(np.ceil(2 * (note_rows[:, 0] + note_rows[:, 1]).max()))
    grid = [0] * end
    for onset, duration, pitch, _ in note_rows:
        first, last = int(round(2 * onset)), int(round(2 * (onset + duration)))
        bit = 1 << int(pitch)
        for i in range(first, min(last, end)):
            grid[i] |= bit
    return grid


def _same_music(a: list[int], b: list[int]) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    n, longest = min(len(a), len(b)), max(len(a), len(b))
    for shift in range(-12, 13):
        moved = [x << shift if shift >= 0 else x >> -shift for x in b[:n]]
        # a shift that moves a pitch below 0 changes the set: not equal anyway
        same = sum(1 for x, y in zip(a[:n], moved, strict=True) if x == y and x)
        if same >= SAME_MUSIC * longest:
            return True
    return False


def distinct_pieces():
    """Yield ``(name, notes)`` of every benchmark piece, in order.

    The distinct chorales, then the other works; unreadable scores, scores
    shorter than ``MIN_QUARTERS`` and music already yielded are skipped.
    Lazy: a caller stops once it has enough music, and only the scores it
    took (and the ones skipped before them) are parsed.
    """
    grids, sequences, stems = [], [], set()
    for name in chorale_names() + other_names():
        stem = _stem(name)
        if stem in stems:
            continue
        rows = notes(name)
        if len(rows) == 0 or (rows[:, 0] + rows[:, 1]).max() < MIN_QUARTERS:
            continue
        grid, sequence = _grid(rows), rows[:, 2]
        if any(_same_music(g, grid) for g in grids) or any(
            _same_pitches(s, sequence) for s in sequences
        ):
            continue
        stems.add(stem)
        grids.append(grid)
        sequences.append(sequence)
        yield name, rows


def _stem(name: str) -> str:
    """The corpus path without extension or ``_old`` (another encoding of it)."""
    stem = name.rsplit(".", 1)[0]
    return stem[: -len("_old")] if stem.endswith("_old") else stem


def _same_pitches(a: np.ndarray, b: np.ndarray) -> bool:
    """Same notes in the same order (up to a transposition), timing aside.

    Catches another encoding of a score whose rhythm or barring differs.
    """
    if abs(len(a) - len(b)) > 0.01 * max(len(a), len(b)):
        return False
    n = min(len(a), len(b))
    shift = np.median(a[:n] - b[:n])
    return np.mean(a[:n] == b[:n] + shift) >= SAME_ENCODING


def code_hash(path: str) -> str:
    """Hash of a module's code, blind to formatting, comments and docstrings.

    Part of every cache key: a change in what the generators compute renders
    the data again; reformatting or rewording does not.
    """
    import ast
    import hashlib

    with open(path) as f:
        tree = ast.parse(f.read())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha1(ast.dump(tree).encode()).hexdigest()[:16]
