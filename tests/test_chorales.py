"""The Bach chorale loader: chroma from scores, works from titles, the cache."""

import os
import sys
import warnings

import numpy as np
import pytest

music21 = pytest.importorskip("music21")

from skxsim.datasets import _chorales, load_bach_chorales  # noqa: E402


def test_score_chroma_by_hand():
    s = music21.stream.Stream()
    s.insert(0, music21.chord.Chord(["C4", "E4", "G4"], quarterLength=1.0))
    s.insert(1.0, music21.note.Note("E5", quarterLength=0.25))  # half a frame
    s.insert(1.5, music21.note.Note("A3", quarterLength=0.5))
    s.insert(1.5, music21.note.Note("A4", quarterLength=0.5))  # octave: same class
    chroma = _chorales.score_chroma(s, 0.5)
    expected = np.zeros((4, 12))
    expected[[0, 1], 0] = expected[[0, 1], 4] = expected[[0, 1], 7] = 1
    expected[2, 4] = 1  # E alone (0.5 of the frame), max-normalised
    expected[3, 9] = 1  # two A's, max-normalised
    np.testing.assert_allclose(chroma, expected)


def test_titles_shared_through_a_score_make_one_work():
    files, titles, works = _chorales.chorale_catalogue()
    assert len(files) == len(set(files))  # each score once
    work_of = dict(zip(files, works, strict=True))
    norm = _chorales._normalise_title
    # Oracle: music21's own list.  A score filed under two titles joins them:
    # every score under either title belongs to the same work.
    from music21.corpus import chorales

    titles_of = {}
    for entry in chorales.ChoraleListRKBWV().byRiemenschneider.values():
        name = f"bwv{entry['bwv']}.mxl"
        if name in work_of:
            titles_of.setdefault(name, set()).add(norm(entry["title"]))
    joined = 0
    for name, names in titles_of.items():
        if len(names) < 2:
            continue
        for other, other_names in titles_of.items():
            if other_names & names:
                assert work_of[other] == work_of[name]
                joined += other != name
    assert joined > 0
    # And different titles never sharing a score stay apart.
    assert work_of["bwv269.mxl"] != work_of["bwv347.mxl"]


def test_load_subset_and_cache(tmp_path, monkeypatch):
    files = ["bwv269.mxl", "bwv347.mxl", "bwv37.6.mxl"]  # two tunes
    monkeypatch.setattr(
        _chorales,
        "chorale_catalogue",
        lambda: (files, ["A", "B", "B'"], ["A", "B", "B"]),
    )
    data = load_bach_chorales(data_home=tmp_path)
    assert [len(x) > 8 for x in data.data] == [True] * 3
    assert all(x.dtype == np.float32 and x.shape[1] == 12 for x in data.data)
    np.testing.assert_array_equal(data.target, ["A", "B", "B"])
    np.testing.assert_array_equal(data.score, files)
    assert all(np.isclose(x.max(axis=1), 1).mean() > 0.9 for x in data.data)

    X, y = load_bach_chorales(min_versions=2, data_home=tmp_path, return_X_y=True)
    np.testing.assert_array_equal(y, ["B", "B"])
    np.testing.assert_array_equal(X[0], data.data[1])

    # Cached: a second load parses nothing.
    assert os.listdir(tmp_path / "skxsim_bach_chorales")
    monkeypatch.setattr(_chorales, "_parse", pytest.fail)
    again = load_bach_chorales(data_home=tmp_path)
    for a, b in zip(again.data, data.data, strict=True):
        np.testing.assert_array_equal(a, b)


def test_missing_music21(monkeypatch):
    monkeypatch.setitem(sys.modules, "music21", None)
    with pytest.raises(ImportError, match=r"skxsim\[datasets\]"):
        load_bach_chorales()


FILES = ["bwv269.mxl", "bwv347.mxl"]


@pytest.fixture
def two_chorales(monkeypatch):
    monkeypatch.setattr(
        _chorales, "chorale_catalogue", lambda: (FILES, ["A", "B"], ["A", "B"])
    )


def _cache_file(tmp_path):
    (path,) = (tmp_path / "skxsim_bach_chorales").iterdir()
    return path


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))


def _other_values(path):
    # A sound zip whose values are not the ones its checksum was taken of.
    with np.load(path) as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays[FILES[0]] = arrays[FILES[0]][::-1]
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def _another_steps_content(path):
    # A sound file, but written for another step: its content is checked
    # against its key, not only read.
    load_bach_chorales(data_home=path.parent.parent, step=0.25)
    (other,) = [p for p in path.parent.iterdir() if p != path]
    other.replace(path)


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b""),
        _truncate,
        _flip_a_byte,
        _other_values,
        lambda path: path.write_bytes(b"not a cache file" * 10),
        _another_steps_content,
    ],
)
def test_a_damaged_cache_is_rebuilt_with_a_warning(tmp_path, two_chorales, damage):
    from skxsim.exceptions import CacheWarning

    expected = load_bach_chorales(data_home=tmp_path)
    damage(_cache_file(tmp_path))
    with pytest.warns(CacheWarning, match="rebuilding"):
        again = load_bach_chorales(data_home=tmp_path)
    for a, b in zip(again.data, expected.data, strict=True):
        np.testing.assert_array_equal(a, b)
    # Healed: the next load reads the cache, silently, and parses nothing.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _chorales._parse, parse = pytest.fail, _chorales._parse
        try:
            load_bach_chorales(data_home=tmp_path)
        finally:
            _chorales._parse = parse


def test_the_cache_is_keyed_on_the_exact_step(tmp_path, two_chorales):
    # step{step:g} named both 1/3 and 0.333333 "step0.333333": the second
    # load returned the first one's frames.
    for step in (1 / 3, 0.333333):
        X = load_bach_chorales(data_home=tmp_path, step=step).data
        for name, x in zip(FILES, X, strict=True):
            expected = _chorales._parse(name, step).astype(np.float32)
            np.testing.assert_array_equal(x, expected)
    assert len(list((tmp_path / "skxsim_bach_chorales").iterdir())) == 2


def test_the_docstring_example_counts_the_catalogue():
    # The example's (chorales, tunes) for min_versions=2, from the catalogue
    # alone (no score is parsed).
    from collections import Counter

    files, _, works = _chorales.chorale_catalogue()
    versions = Counter(works)
    tunes = [w for w, n in versions.items() if n >= 2]
    expected = f"({sum(versions[w] for w in tunes)}, {len(tunes)})"
    assert expected in load_bach_chorales.__doc__
    # And the first chorale's shape (one score parsed).
    first = next(f for f, w in zip(files, works, strict=True) if versions[w] >= 2)
    shape = _chorales._parse(first, 0.5).shape
    assert f"({shape}, dtype('float32'))" in load_bach_chorales.__doc__


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"min_versions": True}, "'min_versions'"),
        ({"n_jobs": 0}, "'n_jobs' parameter"),
        ({"min_versions": 3}, "min_versions=3 keeps no chorale"),
    ],
)
def test_bad_parameters_are_named(tmp_path, two_chorales, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_bach_chorales(data_home=tmp_path, **kwargs)


def test_a_data_home_that_is_a_file(tmp_path, two_chorales):
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="data_home.*not a directory"):
        load_bach_chorales(data_home=tmp_path / "file")


def test_a_step_too_fine_for_memory_is_refused(tmp_path, two_chorales, monkeypatch):
    import skxsim._output_size
    from skxsim.exceptions import OutputTooLargeError

    monkeypatch.setattr(skxsim._output_size, "available_memory", lambda: 2**20)
    with pytest.raises(OutputTooLargeError, match="step=0.001"):
        load_bach_chorales(data_home=tmp_path, step=0.001, n_jobs=1)
