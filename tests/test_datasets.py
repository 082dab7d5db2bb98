"""Synthetic data and the feature-file loader."""

import sys

import numpy as np
import pytest

from skxsim.datasets import load_features, make_cover_pair


def test_cover_pair_is_reproducible_and_seeded():
    a, b = make_cover_pair(random_state=7), make_cover_pair(random_state=7)
    np.testing.assert_array_equal(a.cover, b.cover)
    np.testing.assert_array_equal(a.alignment, b.alignment)
    c = make_cover_pair(random_state=8)
    assert not np.array_equal(a.reference, c.reference)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cover_pair_structure(seed):
    pair = make_cover_pair(
        n_chords=10, frames_per_chord=6, stretch=1.5, random_state=seed
    )
    assert pair.reference.shape == (60, 12)
    assert pair.cover.shape == (90, 12)
    assert pair.reference.min() >= 0
    np.testing.assert_allclose(pair.cover.max(axis=1), 1.0)
    faithful = pair.alignment[~pair.changed]
    assert (faithful >= 0).all() and (pair.alignment[pair.changed] == -1).all()
    assert (np.diff(faithful) >= 0).all()  # the time map is monotone
    assert faithful[0] == 0 and faithful[-1] >= 55  # and covers the reference
    np.testing.assert_array_equal(
        pair.cover_labels[~pair.changed], pair.reference_labels[faithful]
    )


def test_cover_pair_without_change_and_without_noise():
    pair = make_cover_pair(changed_section=None, noise=0.0, warp=0.0, stretch=1.0)
    assert not pair.changed.any()
    np.testing.assert_array_equal(pair.alignment, np.arange(len(pair.alignment)))
    np.testing.assert_allclose(pair.cover, pair.reference)


@pytest.mark.parametrize(
    "section",
    [
        (0.5, 0.2),
        (-0.1, 0.3),
        (0.2, 1.5),
        # These failed to unpack or compare, naming nothing.
        (0.5,),
        (0.1, 0.2, 0.3),
        ("a", "b"),
        (None, None),
        (np.nan, 0.5),
        (True, 1),
    ],
)
def test_cover_pair_bad_section(section):
    with pytest.raises(ValueError, match="changed_section"):
        make_cover_pair(changed_section=section)


def test_cover_pair_section_as_any_pair_of_numbers():
    expected = make_cover_pair(changed_section=(0.25, 0.5)).changed
    for section in ([0.25, 0.5], np.array([0.25, 0.5]), (np.float32(0.25), 0.5)):
        np.testing.assert_array_equal(
            make_cover_pair(changed_section=section).changed, expected
        )


def test_load_npy_csv_and_1d(tmp_path):
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / "x.npy", X)
    loaded = load_features(tmp_path / "x.npy")
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, X)
    np.savetxt(tmp_path / "x.csv", X, delimiter=",")
    np.testing.assert_array_equal(load_features(tmp_path / "x.csv"), X)
    np.save(tmp_path / "v.npy", np.arange(5))
    assert load_features(tmp_path / "v.npy").shape == (5, 1)


@pytest.mark.parametrize(
    "content, match",
    [
        (np.array([[1.0, np.nan]]), "NaN"),
        (np.zeros((0, 3)), "no frames"),
        (np.zeros((2, 2, 2)), "shape"),
        (np.array(["a", "b"]), "real numbers"),
    ],
)
def test_load_rejects_bad_arrays(tmp_path, content, match):
    np.save(tmp_path / "bad.npy", content)
    with pytest.raises(ValueError, match=match):
        load_features(tmp_path / "bad.npy")


def test_an_npz_archive_named_npy_is_a_clear_error(tmp_path):
    # np.load returns an NpzFile for it: AttributeError ('dtype') before.
    with open(tmp_path / "x.npy", "wb") as file:
        np.savez(file, a=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"x.npy.*\.npz archive"):
        load_features(tmp_path / "x.npy")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"path": 3}, "path"),
        ({"path": None}, "path"),
        ({"sr": 0}, "'sr'"),
        ({"sr": -1.0}, "'sr'"),
        ({"sr": "22050"}, "'sr'"),
        ({"hop_length": 0}, "'hop_length'"),
        ({"hop_length": 512.0}, "'hop_length'"),
    ],
)
def test_load_parameters_are_checked(tmp_path, kwargs, match):
    np.save(tmp_path / "x.npy", np.ones((3, 2)))
    kwargs = {"path": tmp_path / "x.npy", **kwargs}
    with pytest.raises(ValueError, match=match):
        load_features(**kwargs)


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_features(tmp_path / "missing.npy")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ValueError, match="unknown extension"):
        load_features(tmp_path / "x.json")
    (tmp_path / "x.csv").write_text("a,b\n1,2\nx,y\n")
    with pytest.raises(ValueError, match="cannot read"):
        load_features(tmp_path / "x.csv")


def test_audio_without_librosa_names_the_extra(tmp_path, monkeypatch):
    (tmp_path / "song.wav").write_bytes(b"RIFF")
    monkeypatch.setitem(sys.modules, "librosa", None)
    with pytest.raises(ImportError, match=r'pip install "skxsim\[audio\]"'):
        load_features(tmp_path / "song.wav")


def test_csv_header_is_a_line_without_numbers(tmp_path):
    # A byte-order mark, comments and blank lines, as spreadsheets and
    # np.savetxt write them.
    text = "\ufeff# exported\nC,C#,D\n\n1,2,3\n4,5,6 # last\n"
    (tmp_path / "x.csv").write_text(text, encoding="utf-8")
    np.testing.assert_array_equal(
        load_features(tmp_path / "x.csv"), [[1, 2, 3], [4, 5, 6]]
    )


@pytest.mark.parametrize(
    "content, match",
    [
        # A first frame with a typo is an error, not a header to drop.
        ("1,2,x\n3,4,5\n", r"line 1, column 3: 'x' is not a number \(a first line"),
        ("mfcc 1,mfcc 2\n3,4\n", r"line 1, column 1: 'mfcc 1' .* header"),
        ("a,b,c\n1,2,3\n\n4,,6\n", r"line 4, column 2: '' is not a number$"),
        ("1,2,3\n4,5\n", r"line 2 has 2 value\(s\), line 1 has 3"),
        ("1 2 3\n4 5 6\n", r"'1 2 3' is not a number \(fields must be separated by"),
    ],
)
def test_csv_errors_name_line_and_column(tmp_path, content, match):
    (tmp_path / "x.csv").write_text(content)
    with pytest.raises(ValueError, match=match):
        load_features(tmp_path / "x.csv")


def test_corrupt_audio_is_a_value_error(tmp_path, recwarn):
    pytest.importorskip("librosa")
    (tmp_path / "broken.wav").write_bytes(b"RIFF" + bytes(range(256)) * 8)
    with pytest.raises(ValueError, match="broken.wav.*not a readable audio file"):
        load_features(tmp_path / "broken.wav")
    # librosa's two fallback warnings say nothing the error does not.
    messages = [str(w.message) for w in recwarn]
    assert not [m for m in messages if "PySoundFile" in m or "audioread_load" in m]


def test_a_cover_pair_too_large_for_memory_is_refused(monkeypatch):
    # Refused before anything is allocated (numpy's MemoryError, or the
    # system killing the process, came from deep inside).
    import skxsim._output_size
    from skxsim.exceptions import OutputTooLargeError

    monkeypatch.setattr(skxsim._output_size, "available_memory", lambda: 2**20)
    make_cover_pair(n_chords=16, frames_per_chord=12)  # 100 kB
    with pytest.raises(OutputTooLargeError, match="n_chords=100000"):
        make_cover_pair(n_chords=100_000, frames_per_chord=12)
