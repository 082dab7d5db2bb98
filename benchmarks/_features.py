"""Benchmark data: librosa features of synthetic audio, cached on disk.

A *dataset* is a small JSON-able dict naming where the frames come from::

    {"source": "song", "seed": 1, "n_frames": 8000, "feature": "chroma"}
    {"source": "cover", "seed": 1, "n_frames": 8000, "feature": "mfcc"}
    {"source": "catalogue", "seed": 7, "n_frames": 100000, "feature": "chroma"}
    {"source": "walk", "part": "query", "n": 10000, "n_ref": 10000, "d": 120,
     "seed": 0}

:func:`path_for` computes it once and stores it as ``.npy`` under
``benchmarks/.cache/``; the file name holds a hash of the dict, of the source
code of the generators (this module and ``_audio.py``) and of the librosa
version, so changing any of them computes the data again.

Features (22050 Hz, hop 512, librosa's defaults otherwise), each in the layout
librosa returns, ``(d, n)``:

* ``chroma``: ``librosa.feature.chroma_cqt`` (d = 12).  chroma_cqt rather than
  chroma_stft because it is what librosa's own cross-similarity example uses;
  it takes about 1.5 s per 3 minutes of audio here (chroma_stft 0.6 s), about
  20 s for the 40-minute catalogue, once.
* ``chroma_cens``: ``librosa.feature.chroma_cens`` (d = 12): chroma smoothed
  over time and normalised (no coordinate sits at exactly 1 as chroma_cqt's
  maximum does).
* ``chroma_beats``: beat-synchronous chroma, ``librosa.util.sync`` of
  chroma_cqt over the performance's own beat grid (median per beat, d = 12).
  For this feature ``n_frames`` counts beats: the audio is rendered long
  enough to hold them, and a catalogue's songs last 250 to 450 beats.
* ``mfcc``: ``librosa.feature.mfcc(n_mfcc=20)`` (d = 20).
* ``cqt``: ``librosa.amplitude_to_db(|librosa.cqt(n_bins=84)|, ref=np.max)``
  (d = 84).
* ``embedding``: a stand-in for a learned embedding (d = 512, float32): the
  log-CQT scaled to about unit range, four consecutive frames stacked
  (336 values), then a fixed, seeded random two-layer network
  ``relu(s @ W1 + b1) @ W2`` (336 -> 1024 -> 512).  Returned as ``E.T`` for
  the ``(n, 512)`` output ``E``, as a model's output would be passed to
  ``cross_similarity``.

The ``walk`` source is issue 3's data: a d-dimensional random walk
(reference) and a time-warped noisy copy (query), float64 (float32 with
``"dtype": "float32"`` in the dict), returned as the transpose of row-major
frames.

The ``vectors`` source is embeddings as users have them, float32, returned
the same way::

    {"source": "vectors", "part": "query", "n": 10000, "n_ref": 10000,
     "d": 512, "clusters": 300, "seed": 0}

Gaussian frames (``"clusters": 0``), or a mixture of that many clusters
(an embedding model's classes): unit Gaussian centres and frames scattered
around them with standard deviation 0.35 per coordinate, query and
reference drawn from the same centres.
"""

from __future__ import annotations

import hashlib
import json
import os

import _audio
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE_DIR = os.path.join(HERE, ".cache")
EMBEDDING_SEED = 20240512
FEATURE_DIMS = {
    "chroma": 12,
    "chroma_cens": 12,
    "chroma_beats": 12,
    "mfcc": 20,
    "cqt": 84,
    "embedding": 512,
}
# A catalogue's song lengths, in frames (in beats for beat-synchronous data).
SONG_FRAMES = (5000, 10000)
SONG_BEATS = (250, 450)
# Sources generated here rather than from audio (no librosa in their key).
SYNTHETIC = ("walk", "vectors")


def _code_version() -> str:
    digest = hashlib.sha1()
    for name in ("_audio.py", "_features.py"):
        with open(os.path.join(HERE, name), "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def dataset_key(spec: dict) -> str:
    """A short hash of the dataset, the generator code and librosa's version."""
    versions = {"code": _code_version()}
    if spec["source"] not in SYNTHETIC:
        import librosa

        versions["librosa"] = librosa.__version__
    text = json.dumps({"spec": spec, "versions": versions}, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def dataset_name(spec: dict) -> str:
    if spec["source"] == "walk":
        suffix = "-f32" if spec.get("dtype") == "float32" else ""
        return f"walk-{spec['part']}-{spec['n']}x{spec['n_ref']}-d{spec['d']}{suffix}"
    if spec["source"] == "vectors":
        kind = f"c{spec['clusters']}" if spec["clusters"] else "gauss"
        return f"vectors-{kind}-{spec['part']}-{spec['n']}x{spec['n_ref']}-d{spec['d']}"
    return f"{spec['feature']}-{spec['source']}{spec['seed']}-{spec['n_frames']}"


def cached_path(spec: dict) -> str:
    """Where the dataset is (or would be) cached."""
    return os.path.join(CACHE_DIR, f"{dataset_name(spec)}-{dataset_key(spec)}.npy")


def path_for(specs: list[dict], progress=None) -> list[str]:
    """Cache every dataset in ``specs`` that is not cached yet; their paths.

    Datasets from the same audio (several features of one song) share one
    synthesis.
    """
    paths = [cached_path(spec) for spec in specs]
    missing = [
        (s, p) for s, p in zip(specs, paths, strict=True) if not os.path.exists(p)
    ]
    audio_memo: dict = {}
    for spec, path in missing:
        if progress:
            progress(f"computing {dataset_name(spec)} ...")
        data = compute(spec, audio_memo)
        os.makedirs(CACHE_DIR, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp.npy"
        np.save(tmp, data)
        os.replace(tmp, path)
    return paths


def compute(spec: dict, audio_memo: dict | None = None) -> np.ndarray:
    """The dataset's frames, ``(d, n)``, without the cache."""
    audio_memo = {} if audio_memo is None else audio_memo
    source = spec["source"]
    if source == "walk":
        query, ref = walk(spec["n"], spec["n_ref"], spec["d"], spec["seed"])
        frames = query if spec["part"] == "query" else ref
        return frames.astype(spec.get("dtype", "float64")).T
    if source == "vectors":
        query, ref = vectors(
            spec["n"], spec["n_ref"], spec["d"], spec["clusters"], spec["seed"]
        )
        return (query if spec["part"] == "query" else ref).T
    if source == "catalogue":
        pieces = []
        for seed, n_frames in catalogue_songs_of(spec):
            song = dict(spec, source="song", seed=seed, n_frames=n_frames)
            pieces.append(compute(song, audio_memo))
            audio_memo.clear()  # 40 minutes: do not keep
        # Concatenate along frames, in the layout of the pieces.
        order = "F" if pieces[0].flags.f_contiguous else "C"
        return np.concatenate(pieces, axis=1).copy(order=order)
    if spec["feature"] == "chroma_beats":
        return beat_synchronous(source, spec["seed"], spec["n_frames"], audio_memo)
    y = _audio_of((source, spec["seed"], spec["n_frames"]), audio_memo)
    return feature(y, spec["feature"])


def beat_synchronous(source, seed, n_beats, audio_memo):
    """``n_beats`` frames of beat-synchronous chroma of a song or cover."""
    import librosa

    cover = source == "cover"
    n_frames = int(n_beats * _audio.frames_per_beat(seed, cover) * 1.2) + 64
    y = _audio_of((source, seed, n_frames), audio_memo)
    chroma = feature(y, "chroma")
    beats = _audio.beat_frames(seed, n_frames, cover)
    synced = librosa.util.sync(chroma, beats, aggregate=np.median)
    if synced.shape[1] < n_beats:  # pragma: no cover - the margin above
        raise RuntimeError(f"{synced.shape[1]} beats rendered, {n_beats} asked")
    return synced[:, :n_beats]


def _audio_of(key, memo):
    if key not in memo:
        source, seed, n_frames = key
        make = _audio.song_audio if source == "song" else _audio.cover_audio
        memo[key] = make(seed, n_frames)
    return memo[key]


def catalogue_songs_of(spec: dict) -> list[tuple[int, int]]:
    """(song seed, frames or beats) of the songs of a catalogue dataset."""
    beats = spec["feature"] == "chroma_beats"
    lengths = SONG_BEATS if beats else SONG_FRAMES
    return catalogue_songs(spec["seed"], spec["n_frames"], lengths)


def catalogue_songs(
    seed: int, n_frames: int, lengths=SONG_FRAMES
) -> list[tuple[int, int]]:
    """(song seed, frames) of the songs a catalogue is made of, in order."""
    rng = np.random.default_rng([seed, 9])
    songs, total = [], 0
    shortest, longest = lengths
    while total < n_frames:
        length = int(rng.integers(shortest, longest))
        if n_frames - total - length < 2 * shortest // 5:  # no stub at the end
            length = n_frames - total
        songs.append((1000 * seed + len(songs), length))
        total += length
    return songs


def feature(y: np.ndarray, kind: str) -> np.ndarray:
    """One librosa feature of mono audio ``y``, ``(d, n)`` as librosa returns it."""
    import librosa

    sr, hop = _audio.SR, _audio.HOP
    if kind == "chroma":
        return librosa.feature.chroma_cqt(y=y, sr=sr, hop_length=hop)
    if kind == "chroma_cens":
        return librosa.feature.chroma_cens(y=y, sr=sr, hop_length=hop)
    if kind == "mfcc":
        return librosa.feature.mfcc(y=y, sr=sr, hop_length=hop, n_mfcc=20)
    log_cqt = librosa.amplitude_to_db(
        np.abs(librosa.cqt(y, sr=sr, hop_length=hop, n_bins=84)), ref=np.max
    )
    if kind == "cqt":
        return log_cqt
    if kind == "embedding":
        return embedding(log_cqt).T
    raise ValueError(f"unknown feature {kind!r}")


def embedding(log_cqt: np.ndarray, n_stack: int = 4) -> np.ndarray:
    """(n, 512) float32 frames: a fixed random two-layer network of log-CQT."""
    frames = (log_cqt.T.astype(np.float32) + 40.0) / 20.0  # dB in [-80, 0]
    n, d = frames.shape
    padded = np.concatenate([np.repeat(frames[:1], n_stack - 1, axis=0), frames])
    stacked = np.concatenate([padded[i : i + n] for i in range(n_stack)], axis=1)
    rng = np.random.default_rng(EMBEDDING_SEED)
    w1 = rng.standard_normal((n_stack * d, 1024), dtype=np.float32)
    w1 /= np.sqrt(np.float32(n_stack * d))
    b1 = np.float32(0.1) * rng.standard_normal(1024, dtype=np.float32)
    w2 = rng.standard_normal((1024, 512), dtype=np.float32) / np.float32(32.0)
    hidden = np.maximum(stacked @ w1 + b1, np.float32(0.0))
    return np.ascontiguousarray(hidden @ w2, dtype=np.float32)


def walk(n: int, n_ref: int, d: int, seed: int):
    """Issue 3's data: a random walk and a time-warped noisy copy, (n, d) rows.

    The reference is a d-dimensional random walk (smooth, like audio
    features); the query is the same walk read at a slowly varying tempo plus
    noise.  Both centred and scaled to unit variance, float64.
    """
    rng = np.random.default_rng(seed)
    ref = rng.standard_normal((n_ref, d))
    np.cumsum(ref, axis=0, out=ref)
    ref -= ref.mean(axis=0)
    ref /= ref.std()
    t = np.linspace(0.0, 1.0, n)
    warp = t + 0.02 * np.sin(2.0 * np.pi * 3.0 * t)  # monotone: slope >= 0.62
    pos = np.clip(warp, 0.0, 1.0) * (n_ref - 1)
    i0 = np.minimum(pos.astype(np.intp), max(n_ref - 2, 0))
    frac = (pos - i0)[:, None]
    i1 = np.minimum(i0 + 1, n_ref - 1)
    query = ref[i0] * (1.0 - frac)
    query += ref[i1] * frac
    query += 0.05 * rng.standard_normal((n, d))
    return query, ref


def vectors(n: int, n_ref: int, d: int, clusters: int, seed: int):
    """Embeddings: Gaussian frames, or a mixture of ``clusters`` clusters
    (unit Gaussian centres, spread 0.35 per coordinate); ``(n, d)`` and
    ``(n_ref, d)`` float32 rows."""
    rng = np.random.default_rng(seed)
    if not clusters:
        ref = rng.standard_normal((n_ref, d), dtype=np.float32)
        return rng.standard_normal((n, d), dtype=np.float32), ref
    centres = rng.standard_normal((clusters, d), dtype=np.float32)

    def draw(count):
        frames = rng.standard_normal((count, d), dtype=np.float32)
        frames *= np.float32(0.35)
        frames += centres[rng.integers(0, clusters, count)]
        return frames

    ref = draw(n_ref)
    return draw(n), ref
