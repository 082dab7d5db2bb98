"""``skxsim segment FILE``: the printed segments against the estimator."""

import numpy as np
import pytest

from skxsim import LaplacianSegmentation
from skxsim._cli import main
from skxsim._structure._scores import labels_to_intervals


def song(rng):
    types = rng.standard_normal((3, 60, 12)).cumsum(axis=1) * 0.3
    X = np.concatenate([types[t] for t in [0, 1, 0, 2]])
    return X + 0.1 * rng.standard_normal(X.shape)


def parse(out: str):
    lines = out.strip().splitlines()
    assert lines[0] == "# start_s\tend_s\tlabel"
    rows = [line.split("\t") for line in lines[1:]]
    return np.array([[float(a), float(b)] for a, b, _ in rows]), [c for *_, c in rows]


@pytest.mark.parametrize("ext", ["npy", "csv"])
def test_prints_the_estimators_segments(rng, tmp_path, capsys, ext):
    X = song(rng)
    path = tmp_path / f"song.{ext}"
    if ext == "npy":
        np.save(path, X)
    else:
        np.savetxt(path, X, delimiter=",")
    status = main(["segment", str(path), "--frame-duration", "0.5", "-q"])
    assert status == 0
    intervals, labels = parse(capsys.readouterr().out)
    expected = LaplacianSegmentation(random_state=0).fit_predict(X)
    exp_intervals, exp_labels = labels_to_intervals(expected, 0.5)
    np.testing.assert_allclose(intervals, exp_intervals, atol=5e-4)
    assert labels == [str(x) for x in exp_labels]
    assert intervals[0, 0] == 0 and intervals[-1, 1] == pytest.approx(len(X) * 0.5)


def test_options_reach_the_estimator(rng, tmp_path, capsys):
    X = song(rng)
    path = tmp_path / "song.npy"
    np.save(path, X)
    args = ["segment", str(path), "--n-clusters", "3", "--k", "8", "--seed", "2"]
    assert main([*args, "-q"]) == 0
    intervals, labels = parse(capsys.readouterr().out)
    model = LaplacianSegmentation(n_clusters=3, k=8, random_state=2)
    expected = labels_to_intervals(model.fit_predict(X), 512 / 22050)
    np.testing.assert_allclose(intervals, expected[0], atol=5e-4)
    assert len(set(labels)) <= 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["--n-clusters", "0"], "--n-clusters"),
        (["--n-clusters", "x"], "--n-clusters"),
        (["--frame-duration", "-1"], "--frame-duration"),
        (["--frame-duration", "nan"], "--frame-duration"),
        (["--k", "0"], "--k"),
    ],
)
def test_bad_options(tmp_path, capsys, args, message):
    path = tmp_path / "song.npy"
    np.save(path, np.zeros((5, 2)))
    with pytest.raises(SystemExit) as exc:
        main(["segment", str(path), *args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_unreadable_and_unsegmentable(tmp_path, capsys):
    assert main(["segment", str(tmp_path / "missing.npy")]) == 1
    assert "FILE" in capsys.readouterr().err
    path = tmp_path / "flat.npy"
    np.save(path, np.ones((40, 3)))
    assert main(["segment", str(path), "-q"]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("skxsim segment: error: cannot segment FILE")
        and "bandwidth" in err
    )
