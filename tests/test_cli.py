"""The ``skxsim`` command line, run as a subprocess (``python -m skxsim``)."""

import os
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.pipeline import Pipeline

import skxsim
from skxsim import CrossSimilarity
from skxsim._embedding import TimeDelayEmbedding
from skxsim.datasets import make_cover_pair

# Run the same skxsim the tests import, installed or not.
_PACKAGE_ROOT = str(Path(skxsim.__file__).resolve().parent.parent)


def run_cli(*args, cwd=None, code=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p
    )
    env["MPLBACKEND"] = "TkAgg"  # the CLI must force Agg itself
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "skxsim"]
    return subprocess.run(
        [*command, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def assert_clean_error(proc, status, *fragments):
    assert proc.returncode == status, proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, proc.stderr


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    pair = make_cover_pair(n_chords=6, frames_per_chord=8, random_state=3)
    np.save(tmp / "ref.npy", pair.reference)
    np.savetxt(tmp / "query.csv", pair.cover, delimiter=",")
    np.save(tmp / "wide.npy", np.ones((5, 13)))
    (tmp / "garbage.npy").write_text("not an array")
    (tmp / "notes.txt.bin").write_bytes(b"\x00\x01")
    return tmp, pair


def test_demo_writes_png_and_npz(tmp_path):
    proc = run_cli("demo", "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    png = tmp_path / "out" / "cross_similarity.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with np.load(tmp_path / "out" / "cross_similarity.npz") as saved:
        n_cover, n_ref = saved["cover"].shape[0], saved["reference"].shape[0]
        assert saved["connectivity"].shape == (n_cover, n_ref)
        assert saved["affinity"].shape == (n_cover, n_ref)
        alignment = saved["alignment"]
        connectivity = saved["connectivity"]
    # The summary names shapes, nnz and time.
    assert f"shape ({n_cover}, {n_ref})" in proc.stdout
    assert "nnz" in proc.stdout and "ms" in proc.stdout
    # The alignment path is in the matrix: most unchanged cover frames have a
    # neighbour within 3 frames of the true reference frame.
    hits = [
        connectivity[i, max(0, j - 3) : j + 4].any()
        for i, j in enumerate(alignment)
        if j >= 0
    ]
    assert np.mean(hits) > 0.9


def test_demo_without_matplotlib_still_writes_npz(tmp_path):
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from skxsim._cli import main\n"
        "sys.exit(main(sys.argv[1:]))"
    )
    proc = run_cli("demo", "--out", tmp_path, code=code)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "cross_similarity.npz").exists()
    assert not (tmp_path / "cross_similarity.png").exists()
    assert 'pip install "skxsim[plot]"' in proc.stderr


def test_compute_sparse_matches_estimator(files):
    tmp, pair = files
    out = tmp / "xsim.npz"
    proc = run_cli("compute", tmp / "query.csv", tmp / "ref.npy", "-o", out, "--k", 4)
    assert proc.returncode == 0, proc.stderr
    result = sp.load_npz(out)
    expected = CrossSimilarity(k=4).fit(pair.reference).transform(pair.cover)
    assert result.shape == (pair.cover.shape[0], pair.reference.shape[0])
    np.testing.assert_array_equal(result.toarray(), expected.toarray())


def test_compute_dense_embed_affinity_and_plot(files):
    tmp, pair = files
    out, png = tmp / "dense.npz", tmp / "dense.png"
    proc = run_cli(
        "compute", tmp / "query.csv", tmp / "ref.npy", "-o", out, "--dense",
        "--plot", png, "--embed", "3,2", "--metric", "cosine", "--mode", "affinity",
        "--bandwidth", "0.5", "--k", 5,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with np.load(out) as saved:
        result = saved["xsim"]
    model = Pipeline(
        [
            ("embed", TimeDelayEmbedding(n_steps=3, delay=2)),
            (
                "xsim",
                CrossSimilarity(
                    k=5, metric="cosine", mode="affinity", bandwidth=0.5, sparse=False
                ),
            ),
        ]
    )
    expected = model.fit(pair.reference).transform(pair.cover)
    np.testing.assert_allclose(result, expected)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_fit_then_transform_equals_compute(files, tmp_path):
    tmp, _ = files
    model = tmp_path / "model.joblib"
    proc = run_cli("fit", tmp / "ref.npy", "-o", model, "--k", 3, "--embed", "2,1")
    assert proc.returncode == 0, proc.stderr
    assert hasattr(joblib.load(model), "transform")
    proc = run_cli("transform", model, tmp / "query.csv", "-o", tmp_path / "t.npz")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli(
        "compute", tmp / "query.csv", tmp / "ref.npy", "-o", tmp_path / "c.npz",
        "--k", 3, "--embed", "2,1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    transformed = sp.load_npz(tmp_path / "t.npz").toarray()
    computed = sp.load_npz(tmp_path / "c.npz").toarray()
    np.testing.assert_array_equal(transformed, computed)
    assert transformed.sum() == 3 * transformed.shape[0]


def test_progress_on_long_query(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "long.npy", rng.random((4500, 3)))
    np.save(tmp_path / "ref.npy", rng.random((50, 3)))
    args = ("compute", tmp_path / "long.npy", tmp_path / "ref.npy", "--k", 2)
    proc = run_cli(*args, "-o", tmp_path / "x.npz")
    assert proc.returncode == 0, proc.stderr
    assert "2000/4500" in proc.stderr and "4500/4500" in proc.stderr
    assert sp.load_npz(tmp_path / "x.npz").shape == (4500, 50)
    quiet = run_cli(*args, "-q")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_missing_file(files):
    tmp, _ = files
    proc = run_cli("compute", tmp / "nope.npy", tmp / "ref.npy")
    assert_clean_error(proc, 1, "QUERY", "no such file", "nope.npy")


def test_unreadable_file(files):
    tmp, _ = files
    proc = run_cli("compute", tmp / "query.csv", tmp / "garbage.npy")
    assert_clean_error(proc, 1, "REF", "garbage.npy", "not a valid NumPy .npy file")


def test_unknown_extension(files):
    tmp, _ = files
    proc = run_cli("compute", tmp / "notes.txt.bin", tmp / "ref.npy")
    assert_clean_error(proc, 1, "unknown extension '.bin'")


def test_mismatched_feature_counts(files):
    tmp, _ = files
    proc = run_cli("compute", tmp / "wide.npy", tmp / "ref.npy")
    assert_clean_error(proc, 1, "feature count mismatch", "13", "12")


def test_transform_mismatched_feature_counts(files, tmp_path):
    tmp, _ = files
    model = tmp_path / "m.joblib"
    assert run_cli("fit", tmp / "ref.npy", "-o", model).returncode == 0
    proc = run_cli("transform", model, tmp / "wide.npy", "-o", tmp_path / "o.npz")
    assert_clean_error(proc, 1, "feature count mismatch")
    assert not (tmp_path / "o.npz").exists()


def test_transform_with_a_non_model_file(files, tmp_path):
    tmp, _ = files
    proc = run_cli(
        "transform", tmp / "ref.npy", tmp / "query.csv", "-o", tmp_path / "o"
    )
    assert_clean_error(proc, 1, "cannot load model")
    proc = run_cli("transform", tmp / "missing.joblib", tmp / "query.csv", "-o", "o")
    assert_clean_error(proc, 1, "no such model file")


def test_output_directory_missing(files, tmp_path):
    tmp, _ = files
    out = tmp_path / "no" / "such" / "dir" / "x.npz"
    proc = run_cli("compute", tmp / "query.csv", tmp / "ref.npy", "-o", out)
    assert_clean_error(proc, 1, "does not exist")


def test_invalid_estimator_parameter(files):
    tmp, _ = files
    proc = run_cli("compute", tmp / "query.csv", tmp / "ref.npy", "--metric", "nope")
    assert_clean_error(proc, 1, "metric")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["compute", "q.npy", "r.npy", "--embed", "3"], "N_STEPS,DELAY"),
        (["compute", "q.npy", "r.npy", "--embed", "3,0"], "DELAY != 0"),
        (["compute", "q.npy", "r.npy", "--k", "0"], ">= 1"),
        (["compute", "q.npy", "r.npy", "--bandwidth", "-1"], "bandwidth must be > 0"),
        (["compute", "q.npy", "r.npy", "--mode", "bogus"], "invalid choice"),
        (["fit", "r.npy"], "-o"),
        ([], "COMMAND"),
    ],
)
def test_usage_errors(args, fragment):
    proc = run_cli(*args)
    assert_clean_error(proc, 2, fragment)


def test_version():
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == skxsim.__version__


@pytest.mark.filterwarnings("ignore:n_fft=.* is too large")
def test_compute_on_audio_files_uses_chroma(tmp_path):
    # Two short synthetic recordings: a chord sequence and the same sequence
    # with the chords in another order.
    sf = pytest.importorskip("soundfile")
    librosa = pytest.importorskip("librosa")
    sr = 22050
    t = np.arange(sr // 2) / sr
    chords = [[220.0, 277.2, 329.6], [246.9, 311.1, 370.0], [261.6, 329.6, 392.0]]
    tones = [sum(np.sin(2 * np.pi * f * t) for f in chord) / 3 for chord in chords]
    sf.write(tmp_path / "ref.wav", np.concatenate(tones), sr)
    sf.write(tmp_path / "query.wav", np.concatenate(tones[::-1]), sr)
    out = tmp_path / "xsim.npz"
    proc = run_cli("compute", tmp_path / "query.wav", tmp_path / "ref.wav", "-o", out, "--k", 3)
    assert proc.returncode == 0, proc.stderr
    xsim = sp.load_npz(out)
    chroma = [
        librosa.feature.chroma_cqt(y=librosa.load(tmp_path / name, sr=sr)[0], sr=sr).T
        for name in ("query.wav", "ref.wav")
    ]
    expected = CrossSimilarity(k=3).fit(chroma[1]).transform(chroma[0])
    assert xsim.shape == expected.shape == (len(chroma[0]), len(chroma[1]))
    assert (xsim != expected).nnz == 0
