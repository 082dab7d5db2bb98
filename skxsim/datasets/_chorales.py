"""Chroma of Bach's chorales from the scores music21 ships (``skxsim[datasets]``).

The Riemenschneider collection of 371 four-part chorales harmonises far fewer
tunes: chorales sent under one title are one tune harmonised again, often in
another key, which makes them a small cover-song set with exact ground truth.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import unicodedata
import warnings
from collections import Counter
from numbers import Real

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import validate_params

from .._output_size import check_output_size
from .._validation import N_JOBS, POSITIVE_INT, Number, check_n_jobs
from ..exceptions import CacheWarning

# Bump when the chroma computed from a score changes: it names the cache file.
_CHROMA_VERSION = 1


def _import_music21():
    try:
        import music21
    except ImportError as exc:
        raise ImportError(
            "load_bach_chorales needs music21, which ships the scores: "
            'pip install "skxsim[datasets]"'
        ) from exc
    return music21


def _normalise_title(title: str) -> str:
    title = unicodedata.normalize("NFKC", title)
    title = title.replace("\u2019", "'").replace("`", "'")
    return re.sub(r"\s+", " ", title).strip().lower()


def chorale_catalogue():
    """``(files, titles, works)``: one entry per distinct score.

    A score that the Riemenschneider list files under two titles (a tune name
    and a hymn text, say) joins the two titles into one work: titles are
    merged through the scores they share.
    """
    music21 = _import_music21()
    from music21.corpus import chorales

    available = {p.name for p in music21.corpus.getComposer("bach")}
    entries = chorales.ChoraleListRKBWV().byRiemenschneider
    files, titles = [], {}
    for number in sorted(entries):
        entry = entries[number]
        name = f"bwv{entry['bwv']}.mxl"
        if name not in available:
            continue
        if name not in titles:
            files.append(name)
            titles[name] = []
        titles[name].append(entry["title"])

    # Union-find over normalised titles, joined by the scores they share.
    parent: dict[str, str] = {}

    def find(t):
        parent.setdefault(t, t)
        while parent[t] != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    for name in files:
        keys = [_normalise_title(t) for t in titles[name]]
        for key in keys[1:]:
            parent[find(key)] = find(keys[0])
    # A work is named by its first title in Riemenschneider order.
    names: dict[str, str] = {}
    for name in files:
        root = find(_normalise_title(titles[name][0]))
        names.setdefault(root, titles[name][0])
    works = [names[find(_normalise_title(titles[name][0]))] for name in files]
    return files, [titles[f][0] for f in files], works


def score_chroma(score, step: float) -> np.ndarray:
    """Chroma of a music21 score on a grid of ``step`` quarter notes.

    Each frame holds, per pitch class, how many notes of that class sound
    during it (weighted by the fraction of the frame they sound), then is
    divided by its maximum, as a unit-max chroma (HPCP) is.  Silent frames
    stay 0.
    """
    n_frames = max(1, math.ceil(float(score.highestTime) / step - 1e-9))
    check_output_size(
        n_frames * 12 * np.dtype(np.float64).itemsize,
        f"the chroma of a score of {float(score.highestTime):g} quarter notes "
        f"at step={step!r} ({n_frames} frames)",
        "Use a larger step (0.5 is an eighth-note grid).",
    )
    chroma = np.zeros((n_frames, 12))
    for element in score.flatten().notes:
        start = float(element.offset)
        stop = start + float(element.quarterLength)
        if stop <= start:
            continue  # grace notes
        classes = [p.pitchClass for p in element.pitches]
        first, last = int(start // step), min(n_frames, math.ceil(stop / step))
        edges = np.arange(first, last + 1) * step
        overlap = np.minimum(edges[1:], stop) - np.maximum(edges[:-1], start)
        for pc in classes:
            chroma[first:last, pc] += overlap / step
    peak = chroma.max(axis=1, keepdims=True)
    return chroma / np.where(peak == 0, 1, peak)


def _parse(name: str, step: float) -> np.ndarray:
    music21 = _import_music21()
    return score_chroma(music21.corpus.parse(f"bach/{name}"), step)


def cached_chroma(names, step: float, data_home, n_jobs) -> dict:
    """Chroma of the named scores, parsed once and kept in ``data_home``.

    The cache file is named by everything its chroma depends on (the exact
    ``step``, the chroma version, music21's version), stores that key and a
    checksum of its content, and is verified on every read: a file that is
    damaged, truncated or written for another key is rebuilt, with a
    :class:`~skxsim.exceptions.CacheWarning`.
    """
    import joblib

    music21 = _import_music21()
    folder = os.path.join(data_home, "skxsim_bach_chorales")
    os.makedirs(folder, exist_ok=True)
    # repr, not a rounded format: 1/3 and 0.333333 are different grids.
    key = f"chroma v{_CHROMA_VERSION}, step {step!r}, music21 {music21.__version__}"
    path = os.path.join(
        folder,
        f"chroma_v{_CHROMA_VERSION}_step{step!r}_music21-{music21.__version__}.npz",
    )
    cache = _read_cache(path, key)
    missing = [n for n in names if n not in cache]
    if missing:
        parsed = joblib.Parallel(n_jobs=n_jobs)(
            joblib.delayed(_parse)(n, step) for n in missing
        )
        cache.update(zip(missing, parsed, strict=True))
        _write_cache(path, key, cache)
    return {n: cache[n] for n in names}


def _digest(key: str, chroma: dict) -> str:
    digest = hashlib.blake2b(key.encode(), digest_size=16)
    for name in sorted(chroma):
        values = np.ascontiguousarray(chroma[name], dtype=np.float64)
        digest.update(f"{name} {values.shape}".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()


def _read_cache(path: str, key: str) -> dict:
    """The chroma stored in ``path`` if it is sound and ``key``'s; else ``{}``
    (with a CacheWarning when the file exists)."""
    if not os.path.exists(path):
        return {}
    try:
        with np.load(path, allow_pickle=False) as stored:
            meta = json.loads(str(stored["__meta__"]))
            chroma = {n: stored[n] for n in stored.files if n != "__meta__"}
        if meta.get("key") != key:
            problem = f"was written for {meta.get('key')!r}"
        elif meta.get("digest") != _digest(key, chroma):
            problem = "does not match the checksum stored with it"
        else:
            return chroma
    except Exception as exc:  # a damaged file fails to unzip or parse anyhow
        problem = f"cannot be read ({type(exc).__name__}: {exc})"
    warnings.warn(
        f"the chorale chroma cache {path!r} {problem}; rebuilding it.",
        CacheWarning,
        stacklevel=4,
    )
    return {}


def _write_cache(path: str, key: str, chroma: dict) -> None:
    meta = json.dumps({"key": key, "digest": _digest(key, chroma)})
    # Write to a temporary file first: a concurrent reader never sees a
    # half-written cache.
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as file:
        np.savez(file, __meta__=np.array(meta), **chroma)
    os.replace(tmp, path)


@validate_params(
    {
        "min_versions": POSITIVE_INT,
        "step": [Number(Real, 0, None, closed="neither")],
        "data_home": [str, os.PathLike, None],
        "n_jobs": N_JOBS,
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_bach_chorales(
    *,
    min_versions: int = 1,
    step: float = 0.5,
    data_home=None,
    n_jobs: int | None = None,
    return_X_y: bool = False,
):
    """Chroma of Bach's chorales, grouped into works (tunes): a cover-song set.

    The Riemenschneider collection of 371 four-part chorales (the scores
    ship with music21) harmonises far fewer tunes: chorales filed under one
    title are one tune harmonised again, often in another key, so the
    chorales sharing a title (or a score) form one work.  Chroma is computed
    from the scores: per frame of ``step`` quarter notes, the pitch classes
    sounding in all parts, weighted by how long they sound, max-normalised.
    Needs ``pip install "skxsim[datasets]"`` (music21).

    Parsing every score takes about a minute; the chroma is cached on disk in
    ``data_home`` (scikit-learn's :func:`~sklearn.datasets.get_data_home`),
    score by score, so a subset parses only its own scores.  The cache is
    keyed on the exact ``step`` and verified on every read; a damaged file
    is rebuilt with a :class:`~skxsim.exceptions.CacheWarning`.

    Orientation: scikit-learn, each recording ``(n_frames, 12)``.

    Parameters
    ----------
    min_versions : int, default=1
        Keep only works with at least this many chorales (2: the cover sets
        proper; 1: also the single chorales, distractors in a catalogue).
    step : float, default=0.5
        Frame length in quarter notes (0.5: an eighth-note grid).
    data_home : str or path-like or None, default=None
        Cache folder; ``None``: ``~/scikit_learn_data`` or
        ``$SCIKIT_LEARN_DATA``.
    n_jobs : int or None, default=None
        joblib workers parsing the scores not yet cached.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With the fields:

        - ``data``: list of float32 ndarrays of shape (n_frames_i, 12), the
          chroma of each chorale (pitch classes C, C#, ..., B).
        - ``target``: object ndarray of shape (n_chorales,), the work (tune)
          of each chorale, named by its first title.
        - ``title``: object ndarray, each chorale's own title.
        - ``score``: object ndarray, the music21 corpus file of each chorale
          (``"bwv269.mxl"``).
        - ``DESCR``: this description.

    (data, target) : tuple
        With ``return_X_y=True``.

    Examples
    --------
    >>> from skxsim.datasets import load_bach_chorales
    >>> chorales = load_bach_chorales(min_versions=2)  # doctest: +SKIP
    >>> len(chorales.data), len(set(chorales.target))  # doctest: +SKIP
    (190, 68)
    >>> chorales.data[0].shape, chorales.data[0].dtype  # doctest: +SKIP
    ((104, 12), dtype('float32'))
    """
    from sklearn.datasets import get_data_home

    check_n_jobs(n_jobs)
    if data_home is not None and os.path.exists(data_home):
        if not os.path.isdir(data_home):
            raise ValueError(f"data_home={str(data_home)!r} is not a directory.")
    files, titles, works = chorale_catalogue()
    counts = Counter(works)
    keep = [i for i, w in enumerate(works) if counts[w] >= min_versions]
    if not keep:
        raise ValueError(
            f"min_versions={min_versions} keeps no chorale: the most harmonised "
            f"tune has {max(counts.values())} versions."
        )
    names = [files[i] for i in keep]
    chroma = cached_chroma(names, float(step), get_data_home(data_home), n_jobs)
    data = [chroma[n].astype(np.float32) for n in names]
    target = np.array([works[i] for i in keep], dtype=object)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        title=np.array([titles[i] for i in keep], dtype=object),
        score=np.array(names, dtype=object),
        DESCR=load_bach_chorales.__doc__.split("Parameters")[0].strip(),
    )
