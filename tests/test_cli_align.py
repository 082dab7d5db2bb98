"""``skxsim align QUERY REF``: the path as CSV, checked against ``align``
and full DTW; errors in one line before any work."""

import numpy as np
import pytest
from _dtw_oracle import dtw as oracle_dtw
from test_cli import assert_clean_error, run_cli

from skxsim._cli import main


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("align")
    rng = np.random.default_rng(5)
    reference = rng.random((60, 12))
    query = np.repeat(reference[10:50], 2, axis=0) + 0.01 * rng.random((80, 12))
    np.save(tmp / "ref.npy", reference)
    np.savetxt(tmp / "query.csv", query, delimiter=",")
    return tmp, query, reference


def read_path(path):
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    with open(path) as file:
        header = file.readline().strip()
    return header, table


def test_align_writes_the_optimal_path(pair, tmp_path):
    tmp, query, reference = pair
    out = tmp_path / "path.csv"
    proc = run_cli(
        "align", tmp / "query.csv", tmp / "ref.npy", "-o", out, "--frame-rate", 10
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == f"wrote {out}"
    assert "proven optimal" in proc.stderr
    header, table = read_path(out)
    assert header == "query_frame,ref_frame,query_seconds,ref_seconds"
    expected, cost = oracle_dtw(query, reference, "chord", (1.0, 1.5, 1.5))
    np.testing.assert_array_equal(table[:, :2].astype(int), expected)
    np.testing.assert_allclose(table[:, 2:], expected / 10.0, atol=5e-7)
    assert f"cost {cost:.6g}" in proc.stderr


def test_subsequence_to_standard_output(pair, capsys):
    tmp, query, reference = pair
    status = main(
        [
            "align",
            str(tmp / "query.csv"),
            str(tmp / "ref.npy"),
            "--subseq",
            "-q",
            "--metric",
            "euclidean",
            "--step-weights",
            "1,1,1",
        ]
    )
    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    table = np.array([line.split(",") for line in lines[1:]], dtype=float)
    expected, _ = oracle_dtw(query, reference, "euclidean", subsequence=True)
    np.testing.assert_array_equal(table[:, :2].astype(int), expected)
    # Feature files without --frame-rate: the audio chroma's 22050 / 512.
    np.testing.assert_allclose(table[:, 3], expected[:, 1] * 512 / 22050, atol=5e-7)


@pytest.mark.parametrize(
    "extra, fragments",
    [
        (["--metric", "manhattan"], ["--metric", "'metric' parameter of Aligner"]),
        (["--budget", "0"], ["--budget", "'budget' parameter"]),
        (["--step-weights", "1,x"], ["--step-weights", "three numbers"]),
        (["--step-weights", "1,-1,1"], ["--step-weights", "'step_weights' parameter", "three finite"]),
        (["--frame-rate", "0"], ["--frame-rate", "> 0"]),
    ],
)
def test_errors_are_one_line(pair, capsys, extra, fragments):
    tmp, _, _ = pair
    try:
        status = main(["align", str(tmp / "query.csv"), str(tmp / "ref.npy"), *extra])
    except SystemExit as exc:  # argparse's usage errors
        status = exc.code
    err = capsys.readouterr().err
    assert status in (1, 2)
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1
    for fragment in fragments:
        assert fragment in lines[0], err


def test_feature_mismatch_in_a_subprocess(pair, tmp_path):
    tmp, _, _ = pair
    np.save(tmp_path / "wide.npy", np.ones((5, 13)))
    proc = run_cli("align", tmp_path / "wide.npy", tmp / "ref.npy")
    assert_clean_error(proc, 1, "feature count mismatch")


def test_a_proof_predicted_not_to_fit_is_reported(tmp_path, capsys):
    # Uniform random frames, 4.6 million cells: the proof needs about half of
    # them, the budget is a million; the summary line says why it stopped.
    rng = np.random.default_rng(6)
    np.save(tmp_path / "query.npy", rng.random((2100, 6)))
    np.save(tmp_path / "ref.npy", rng.random((2200, 6)))
    out = tmp_path / "path.csv"
    status = main(
        [
            "align",
            str(tmp_path / "query.npy"),
            str(tmp_path / "ref.npy"),
            "--budget",
            "1000000",
            "-q",
            "-o",
            str(out),
        ]
    )
    assert status == 0
    err = capsys.readouterr().err
    assert "not proven within the budget: at most (1 + inf)" in err
    assert "predicted to need ~" in err and "was not attempted" in err
    _, table = read_path(out)
    assert table[0, :2].tolist() == [0, 0] and table[-1, :2].tolist() == [2099, 2199]
