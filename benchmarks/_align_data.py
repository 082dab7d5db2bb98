"""The alignment pairs and matching archives, with their ground truth.

Alignment (``pairs``).  The *query* is performance B (tempo curve, lead-in,
other instruments), the *reference* performance A (constant tempo).  A
length is either ``"single"`` (``n_single`` pairs, one per piece: the
first distinct chorales) or a number of minutes: the B performances and
the A performances of the first chorales, each concatenated in the same
order until A lasts at least that long (one pair per length; a longer
length extends a shorter one).  Ground truth per query frame ``k``
(centred at ``t = k * hop / sr`` s): where ``t`` lies between the first
onset and the last note-off of a piece in B, ``s = t_B^-1(t)`` is its
score time and ``t_A(s)`` (plus the start of that piece in A) its true
reference time.  Frames elsewhere (B's lead-ins, the 1.5 s tails after each
last note-off) have no true position: NaN, left out of every error.

Matching (``archives``).  An archive of L minutes is the A performances of
the first distinct pieces (``_scores.distinct_pieces``: chorales, then
Palestrina, Monteverdi and string quartets), concatenated until it lasts
at least L minutes; no piece occurs twice.  Each query is cut from the B
performance of a piece of the archive (seeded per archive length; distinct
pieces while the archive has enough, among pieces with at least 15 s of
music in B): a random 15-30 s stretch inside the music (never more than
the piece's music), taken as the B chroma frames it covers.  Its true start and end are where its first and last frames'
score times are played in the archive (seconds).

Everything is saved under ``benchmarks/.cache/alignment/inputs/`` as
``.npz`` files named by a hash of their content description, so the
measuring subprocesses only load arrays.
"""

from __future__ import annotations

import hashlib
import json
import os

import _performances as perf
import _scores
import numpy as np

QUERY_SECONDS = (15.0, 30.0)
INPUT_DIR = os.path.join(_scores.CACHE_DIR, "inputs")


def a_duration(name: str, seed: int) -> float:
    """Seconds of performance A of a piece, from its plan (no rendering)."""
    notes = _scores.notes(name)
    p = perf.plan(name, "a", notes, seed)
    end = float((notes[:, 0] + notes[:, 1]).max()) * 60.0 / p["bpm"]
    return np.ceil((end + perf.TAIL_S) * perf.SR / perf.HOP) * perf.HOP / perf.SR


_ORDER: list[str] = []  # distinct pieces found so far, in order
_PIECES = None  # the generator that finds more


def piece(i: int) -> str | None:
    """The ``i``-th distinct piece (``_scores.distinct_pieces``), None past the end."""
    global _PIECES
    if _PIECES is None:
        _PIECES = _scores.distinct_pieces()
    while len(_ORDER) <= i:
        found = next(_PIECES, None)
        if found is None:
            return None
        _ORDER.append(found[0])
    return _ORDER[i]


def first_pieces(seconds: float, seed: int, chorales_only: bool) -> list[str]:
    """The first distinct pieces whose A performances last >= ``seconds``."""
    names, total = [], 0.0
    while total < seconds:
        name = piece(len(names))
        if name is None or (chorales_only and not name.startswith("bach/")):
            kind = "chorales" if chorales_only else "pieces"
            raise ValueError(
                f"only {total / 60:.0f} minutes of distinct {kind}; "
                f"asked for {seconds / 60:.0f}"
            )
        names.append(name)
        total += a_duration(name, seed)
    return names


def b_music(name: str, seed: int) -> float:
    """Seconds of music (first onset to last note-off) in performance B."""
    notes = _scores.notes(name)
    s_grid, t_grid = perf.time_map(perf.plan(name, "b", notes, seed))
    first, last = notes[:, 0].min(), (notes[:, 0] + notes[:, 1]).max()
    return float(np.interp(last, s_grid, t_grid) - np.interp(first, s_grid, t_grid))


def true_times(b: dict, a: dict, frames: np.ndarray) -> np.ndarray:
    """Seconds in A where B's frames sound (NaN outside B's music)."""
    t = frames * perf.HOP / perf.SR
    s = np.interp(t, b["t_grid"], b["s_grid"])
    out = np.interp(s, a["s_grid"], a["t_grid"])
    out[(t < b["music_start"]) | (t > b["music_end"])] = np.nan
    return out


def cached_npz(kind: str, description: dict, arrays_fn, directory=INPUT_DIR):
    """The path of ``kind``'s .npz for ``description``, computed once by
    ``arrays_fn`` and written atomically (the segmentation data uses it too)."""
    key = hashlib.sha1(json.dumps(description, sort_keys=True).encode()).hexdigest()
    path = os.path.join(directory, f"{kind}-{key[:16]}.npz")
    if not os.path.exists(path):
        arrays = arrays_fn()
        os.makedirs(directory, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp.npz"
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    return path


def _description(names, versions, seed):
    """What an input is made of: the performance cache files (content hashes)."""
    cached = perf._versions()
    out = [_scores.code_hash(os.path.abspath(__file__))]
    for name in names:
        notes = _scores.notes(name)
        for v in versions:
            out.append(
                os.path.basename(
                    perf.cache_path(perf.plan(name, v, notes, seed), notes, cached)
                )
            )
    return out


def pairs(lengths, seed=0, n_single=30, n_jobs=1, progress=None) -> list[dict]:
    """One dict per alignment pair: ``length``, ``pieces``, ``path`` (npz), sizes."""
    longest = max((x for x in lengths if x != "single"), default=0) * 60.0
    names = first_pieces(longest, seed, chorales_only=True) if longest else []
    singles = [piece(i) for i in range(n_single)] if "single" in lengths else []
    wanted = list(dict.fromkeys(singles + names))
    got = perf.performances(
        [(n, v) for n in wanted for v in "ab"], seed, n_jobs, progress
    )
    out = []
    for length in lengths:
        if length == "single":
            groups = [[n] for n in singles]
        else:
            groups = [first_pieces(length * 60.0, seed, chorales_only=True)]
        for index, group in enumerate(groups):

            def arrays(group=group):
                queries, refs, truth, offset = [], [], [], 0.0
                for name in group:
                    a, b = got[(name, "a")], got[(name, "b")]
                    queries.append(b["chroma"])
                    refs.append(a["chroma"])
                    truth.append(offset + true_times(b, a, np.arange(len(b["chroma"]))))
                    offset += len(a["chroma"]) * perf.HOP / perf.SR
                return {
                    "query": np.concatenate(queries),
                    "reference": np.concatenate(refs),
                    "truth": np.concatenate(truth),
                }

            desc = {"pair": _description(group, "ab", seed)}
            path = cached_npz("pair", desc, arrays)
            with np.load(path) as data:
                n, n_ref = len(data["query"]), len(data["reference"])
            out.append(
                {
                    "length": length,
                    "index": index,
                    "pieces": group,
                    "path": path,
                    "n": n,
                    "n_ref": n_ref,
                }
            )
    return out


def archives(
    lengths, n_queries=20, seed=0, n_jobs=1, progress=None, material=None
) -> list[dict]:
    """One dict per archive length (minutes): ``path`` (npz), sizes, pieces.

    ``material``: None (the benchmark's performances) or a module with
    ``performances``, ``b_music`` and ``QUERY_SECONDS`` (``_align_heldout``).
    """
    render = perf.performances if material is None else material.performances
    music_of = b_music if material is None else material.b_music
    seconds_range = QUERY_SECONDS if material is None else material.QUERY_SECONDS
    names = first_pieces(max(lengths) * 60.0, seed, chorales_only=False)
    chosen = {}
    for length in lengths:
        members = first_pieces(length * 60.0, seed, chorales_only=False)
        # queries come from pieces with at least the shortest query's music in B
        long_enough = [n for n in members if music_of(n, seed) >= seconds_range[0]]
        rng = np.random.default_rng([seed, int(length * 60)])
        order = rng.permutation(len(long_enough))
        picks = [long_enough[order[i % len(order)]] for i in range(n_queries)]
        chosen[length] = (members, picks)
    requests = [(n, "a") for n in names]
    requests += list(
        dict.fromkeys((n, "b") for _, picks in chosen.values() for n in picks)
    )
    got = render(requests, seed, n_jobs, progress)
    out = []
    for length in lengths:
        members, picks = chosen[length]

        def arrays(members=members, picks=picks, length=length):
            starts, offset = {}, 0
            for name in members:
                starts[name] = offset
                offset += len(got[(name, "a")]["chroma"])
            archive = np.concatenate([got[(n, "a")]["chroma"] for n in members])
            rng = np.random.default_rng([seed, int(length * 60), 1])
            queries, bounds, truth = [], [0], []
            for name in picks:
                a, b = got[(name, "a")], got[(name, "b")]
                music = b["music_end"] - b["music_start"]
                seconds = min(music, rng.uniform(*seconds_range))
                t0 = b["music_start"] + rng.uniform(0, music - seconds)
                k0 = int(np.ceil(t0 * perf.FPS))
                k1 = int(np.floor((t0 + seconds) * perf.FPS))
                queries.append(b["chroma"][k0 : k1 + 1])
                bounds.append(bounds[-1] + k1 + 1 - k0)
                start_end = true_times(b, a, np.array([k0, k1]))
                truth.append(starts[name] * perf.HOP / perf.SR + start_end)
            return {
                "archive": archive,
                "queries": np.concatenate(queries),
                "bounds": np.array(bounds),
                "truth": np.array(truth),
            }

        desc = {
            "archive": _description(members, "a", seed),
            "queries": _description(picks, "b", seed),
            "seed": seed,
            "length": length,
            "query_seconds": seconds_range,
        }
        kind = "archive"
        if material is not None:
            desc["material"] = _scores.code_hash(material.__file__)
            kind = "heldout-archive"
        path = cached_npz(kind, desc, arrays)
        with np.load(path) as data:
            n_ref, bounds = len(data["archive"]), data["bounds"]
        out.append(
            {
                "length": length,
                "path": path,
                "n_ref": n_ref,
                "n_queries": len(bounds) - 1,
                "pieces": len(members),
                "query_frames": np.diff(bounds).tolist(),
            }
        )
    return out
