"""``skxsim match QUERY ARCHIVE...``: matches located in the right archive
file, at planted positions, and the same as the Matcher's on the
concatenated archive; errors in one line before any work."""

import numpy as np
import pytest
from test_cli import assert_clean_error, run_cli

from skxsim import Matcher
from skxsim._cli import main
from skxsim.datasets._io import read_features


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("match")
    rng = np.random.default_rng(7)
    first, second = rng.random((900, 12)), rng.random((1200, 12))
    np.save(tmp / "first.npy", first)
    np.savetxt(tmp / "second.csv", second, delimiter=",")
    # exact copies, one in each file (long enough for any matcher to find)
    np.save(tmp / "in_second.npy", second[500:1000])
    np.save(tmp / "in_first.npy", first[100:600])
    np.save(tmp / "wide.npy", rng.random((50, 13)))
    (tmp / "list.txt").write_text("# more queries\n\nin_first.npy\n")
    return tmp, first, second


def run(capsys, *args):
    status = main(["match", *map(str, args)])
    out, err = capsys.readouterr()
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("# query\trank\tarchive")
    return [line.split("\t") for line in lines[1:]], err


def test_a_copy_is_found_in_its_file_with_file_times(archive, capsys, tmp_path):
    tmp, first, second = archive
    out = tmp_path / "matches.csv"
    rows, err = run(
        capsys,
        tmp / "in_second.npy",
        tmp / "first.npy",
        tmp / "second.csv",
        "--frame-rate",
        10,
        "--n-matches",
        2,
        "-o",
        out,
    )
    assert "indexed 2100 archive frames from 2 file(s)" in err
    query, rank, name, start_s, end_s, start, end, cost = rows[0]
    assert (rank, name, start, end) == ("1", str(tmp / "second.csv"), "500", "999")
    assert (float(start_s), float(end_s)) == (50.0, 99.9)
    assert float(cost) == pytest.approx(0.0, abs=1e-9)
    # every row is the Matcher's match on the concatenation, made file-local
    whole = np.concatenate([first, second])
    starts, ends, costs = Matcher().fit(whole).match(second[500:1000], n_matches=2)
    assert len(rows) == len(starts)
    for row, s, e, c in zip(rows, starts, ends, costs, strict=True):
        offset = 0 if s < len(first) else len(first)
        assert int(row[5]) == s - offset and int(row[6]) == e - offset
        assert float(row[7]) == pytest.approx(c, rel=1e-5, abs=1e-9)
    with open(out) as file:
        lines = file.read().splitlines()
    assert lines[0] == "query,rank,archive,start_frame,end_frame,start_s,end_s,cost"
    cells = lines[1].split(",")
    assert cells[:5] == [str(tmp / "in_second.npy"), "1", str(tmp / "second.csv")] + [
        "500",
        "999",
    ]
    assert float(cells[5]) == 50.0 and float(cells[6]) == 99.9


def test_query_list_and_matcher_options(archive, capsys, monkeypatch):
    tmp, first, second = archive
    monkeypatch.chdir(tmp)  # the list's paths are relative
    options = ["--n-neighbors", 20, "--tempo-range", "0.8,1.25", "--metric", "cosine"]
    options += ["--pool", 4, "--n-steps", 4]
    rows, _ = run(
        capsys,
        "in_second.npy",
        "first.npy",
        "second.csv",
        "--query-list",
        "list.txt",
        "--n-jobs",
        1,
        "-q",
        *options,
    )
    model = Matcher(
        n_neighbors=20, tempo_range=(0.8, 1.25), metric="cosine", pool=4, n_steps=4
    )
    model.fit(np.concatenate([first, second]))
    expected = []
    for name, q in (
        ("in_second.npy", second[500:1000]),
        ("in_first.npy", first[100:600]),
    ):
        s, e, _ = model.match(q)
        file, offset = ("first.npy", 0) if s[0] < len(first) else ("second.csv", 900)
        expected.append([name, "1", file, str(s[0] - offset), str(e[0] - offset)])
    assert [[r[0], r[1], r[2], r[5], r[6]] for r in rows] == expected
    # the planted copies (default frame rate: the audio chroma's 22050 / 512)
    assert [r[2] for r in rows] == ["second.csv", "first.npy"]
    assert float(rows[1][3]) == pytest.approx(100 * 512 / 22050, abs=1e-3)


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["nope.npy", "first.npy"], ["QUERY", "no such file", "nope.npy"]),
        (["in_first.npy", "first.npy", "nope.npy"], ["ARCHIVE", "no such file"]),
        (["wide.npy", "first.npy"], ["QUERY wide.npy has 13 features", "12"]),
        (["in_first.npy", "first.npy", "wide.npy"], ["ARCHIVE wide.npy has 13"]),
        (["first.npy", "in_first.npy"], ["900 frames", "more than the 500"]),
        (["in_first.npy", "first.npy", "--query-list", "none.txt"], ["--query-list"]),
        (["in_first.npy", "first.npy", "-o", "no/dir/m.csv"], ["does not exist"]),
    ],
)
def test_errors_before_the_work(archive, capsys, monkeypatch, args, fragments):
    tmp, _, _ = archive
    monkeypatch.chdir(tmp)
    assert main(["match", *args]) == 1
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and out == ""
    for fragment in fragments:
        assert fragment in lines[0], err
    assert "indexed" not in err


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--tempo-range", "2,1"], "'tempo_range' parameter of Matcher"),
        (["--tempo-range", "0.9"], "--tempo-range"),
        (["--n-neighbors", "0"], "'n_neighbors' parameter of Matcher"),
        (["--n-matches", "0"], "'n_matches'"),
        (["--metric", "manhattan"], "'metric' parameter of Matcher"),
        (["--pool", "0"], "'pool' parameter of Matcher"),
        (["--n-steps", "1.5"], "--n-steps"),
    ],
)
def test_bad_options_are_usage_errors(archive, capsys, extra, fragment):
    tmp, _, _ = archive
    with pytest.raises(SystemExit) as exc:
        main(["match", str(tmp / "in_first.npy"), str(tmp / "first.npy"), *extra])
    assert exc.value.code == 2
    assert fragment in capsys.readouterr().err


def test_clean_error_in_a_subprocess(archive):
    tmp, _, _ = archive
    proc = run_cli("match", tmp / "wide.npy", tmp / "first.npy")
    assert_clean_error(proc, 1, "feature count mismatch")


@pytest.mark.filterwarnings("ignore:n_fft=.* is too large")
def test_audio_query_in_an_audio_archive(tmp_path, capsys):
    # Chords of 0.25 s; the query is the second file's middle, cut on a hop.
    sf = pytest.importorskip("soundfile")
    pytest.importorskip("librosa")
    sr, hop = 22050, 512
    rng = np.random.default_rng(3)
    t = np.arange(hop * 11) / sr
    roots = 110.0 * 2 ** (rng.integers(0, 24, size=(2, 24)) / 12)

    def chords(row):
        return np.concatenate(
            [sum(np.sin(2 * np.pi * r * m * t) for m in (1, 1.26, 1.5)) for r in row]
        )

    first, second = chords(roots[0]), chords(roots[1])
    sf.write(tmp_path / "first.wav", first, sr)
    sf.write(tmp_path / "second.wav", second, sr)
    sf.write(tmp_path / "query.wav", second[hop * 66 : hop * 198], sr)
    rows, _ = run(
        capsys, tmp_path / "query.wav", tmp_path / "first.wav", tmp_path / "second.wav"
    )
    _, _, name, start_s, _, start, end, cost = rows[0]
    assert name == str(tmp_path / "second.wav")
    # the query's frames are centred on the file's frames 66..198
    assert abs(int(start) - 66) <= 3
    assert abs(int(end) - 198) <= 3
    assert float(start_s) == pytest.approx(int(start) * hop / sr, abs=1e-3)
    # the chroma the command computed: librosa's, as read_features gives it
    chroma = [read_features(tmp_path / f"{n}.wav")[0] for n in ("query", "first")]
    second_chroma = read_features(tmp_path / "second.wav")[0]
    model = Matcher().fit(np.concatenate([chroma[1], second_chroma]))
    s, e, c = model.match(chroma[0])
    offset = len(chroma[1])
    assert (int(start), int(end)) == (s[0] - offset, e[0] - offset)
    assert float(cost) == pytest.approx(c[0], rel=1e-5)
