"""The ``skxsim`` command line.

Run as a subprocess (``python -m skxsim``) for what only a real process
shows: outputs, exit status, the exact stderr, each defect fixed in the
command line. Each run starts Python and imports scikit-learn (1-2 s), so
the many error messages are checked by calling ``main`` in this process.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import skxsim
from skxsim import CrossSimilarity, TimeDelayEmbedding
from skxsim._cli import main
from skxsim.datasets import make_cover_pair

# Run the same skxsim the tests import, installed or not.
_PACKAGE_ROOT = str(Path(skxsim.__file__).resolve().parent.parent)


def run_cli(*args, cwd=None, code=None, prefix=()):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p
    )
    env["MPLBACKEND"] = "TkAgg"  # the CLI must force Agg itself
    env.pop("SKXSIM_TRACEBACK", None)
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "skxsim"]
    return subprocess.run(
        [*prefix, *command, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def run_many(runs, **kwargs):
    """Independent runs of the command, two at a time (each is mostly the
    start-up of Python and scikit-learn), results in the order given.

    A run is a tuple of arguments, or a dict of ``run_cli`` keywords with
    its arguments under ``"args"``.
    """

    def run(spec):
        if isinstance(spec, dict):
            spec = dict(spec)
            return run_cli(*spec.pop("args"), **{**kwargs, **spec})
        return run_cli(*spec, **kwargs)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(run, runs))


def assert_clean_error(proc, status, *fragments):
    """Exit status ``status`` and one error line on stderr, holding every
    fragment; any other line on stderr is a progress message."""
    assert proc.returncode == status, proc.stderr
    other = [
        line
        for line in proc.stderr.splitlines()
        if not (line.startswith("skxsim: ") and ": error: " not in line)
    ]
    assert len(other) == 1 and ": error: " in other[0], proc.stderr
    for fragment in fragments:
        assert fragment in other[0], proc.stderr
    return other[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    pair = make_cover_pair(n_chords=6, frames_per_chord=8, random_state=3)
    np.save(tmp / "ref.npy", pair.reference)
    np.savetxt(tmp / "query.csv", pair.cover, delimiter=",")
    np.save(tmp / "wide.npy", np.ones((5, 13)))
    (tmp / "garbage.npy").write_text("not an array")
    with open(tmp / "archive.npy", "wb") as file:  # an .npz under another name
        np.savez(file, chroma=pair.reference)
    (tmp / "notes.txt.bin").write_bytes(b"\x00\x01")
    (tmp / "broken.wav").write_bytes(b"RIFF" + bytes(range(256)) * 8)
    (tmp / "junk.joblib").write_bytes(b"\x80\x04junk" * 10)
    joblib.dump(StandardScaler().fit(pair.reference), tmp / "scaler.joblib")
    joblib.dump(CrossSimilarity(k=3), tmp / "unfitted.joblib")
    csv = {
        # A first frame with a typo is not a header.
        "typo_first.csv": "1,2,x\n3,4,5\n6,7,8\n",
        "empty_field.csv": "a,b,c\n1,2,3\n4,,6\n",
        "ragged.csv": "1,2,3\n\n4,5\n",
    }
    for name, content in csv.items():
        (tmp / name).write_text(content)
    rows = "\n".join(",".join(map(repr, frame)) for frame in pair.reference.tolist())
    (tmp / "named.csv").write_text(f"# chroma\n{HEADER}\n{rows}\n")
    (tmp / "out").mkdir()  # for outputs of errors: must stay empty
    return tmp, pair


HEADER = ",".join("ABCDEFGHIJKL")


@pytest.fixture(scope="module")
def model_file(files):
    """What ``skxsim fit ref.npy -o model.joblib`` writes."""
    tmp, pair = files
    path = tmp / "model.joblib"
    joblib.dump(CrossSimilarity().fit(pair.reference), path)
    return path


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


def test_compute_writes_the_path_it_reports(files, tmp_path):
    tmp, pair = files
    # numpy and scipy append ".npz" to a name that does not end in it; the
    # reference's CSV starts with a line of column names.
    out = tmp_path / "xsim.NPZ"
    proc = run_cli("compute", tmp / "query.csv", tmp / "named.csv", "-o", out, "--k", 4)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == f"wrote {out}"
    assert [p.name for p in tmp_path.iterdir()] == ["xsim.NPZ"]
    assert f"skipped the header line 2: '{HEADER}'" in proc.stderr
    result = sp.load_npz(out)
    expected = CrossSimilarity(k=4).fit(pair.reference).transform(pair.cover)
    assert result.shape == (pair.cover.shape[0], pair.reference.shape[0])
    np.testing.assert_array_equal(result.toarray(), expected.toarray())
    assert f", nnz {expected.nnz}, sparse csr\n" in proc.stdout


def test_compute_dense_embed_affinity_and_plot(files, tmp_path):
    tmp, pair = files
    out, png = tmp_path / "dense.NPZ", tmp_path / "dense.png"
    proc = run_cli(
        "compute", tmp / "query.csv", tmp / "ref.npy", "-o", out, "--dense",
        "--plot", png, "--embed", "3,2", "--metric", "cosine", "--mode", "affinity",
        "--bandwidth", "0.5", "--k", 5, "-q",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # -q
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dense.NPZ", "dense.png"]
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
    nnz = np.count_nonzero(expected)
    assert f"shape {expected.shape}, nnz {nnz}, dense\n" in proc.stdout
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_fit_then_transform(files, tmp_path):
    tmp, pair = files
    model = tmp_path / "model.joblib"
    proc = run_cli("fit", tmp / "ref.npy", "-o", model, "--k", 3, "--embed", "2,1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"wrote {model} ")
    out = tmp_path / "t.npz"
    proc = run_cli("transform", model, tmp / "query.csv", "-o", out, "--dense")
    assert proc.returncode == 0, proc.stderr
    with np.load(out) as saved:
        transformed = saved["xsim"]
    expected = Pipeline(
        [
            ("embed", TimeDelayEmbedding(n_steps=2, delay=1)),
            ("xsim", CrossSimilarity(k=3)),
        ]
    )
    expected = expected.fit(pair.reference).transform(pair.cover).toarray()
    np.testing.assert_array_equal(transformed, expected)
    # The model makes CSR; what is reported is what was written.
    nnz = np.count_nonzero(expected)
    assert f"shape {expected.shape}, nnz {nnz}, dense\n" in proc.stdout


def test_progress_on_long_query(tmp_path):
    rng = np.random.default_rng(0)
    query, reference = rng.random((4500, 3)), rng.random((50, 3))
    np.save(tmp_path / "long.npy", query)
    np.save(tmp_path / "ref.npy", reference)
    # With an embedding, the frames of one block depend on those of the next.
    proc = run_cli(
        "compute", tmp_path / "long.npy", tmp_path / "ref.npy", "--k", 2,
        "--embed", "3,-2", "-o", tmp_path / "x.npz",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "2000/4500" in proc.stderr and "4500/4500" in proc.stderr
    model = Pipeline(
        [
            ("embed", TimeDelayEmbedding(n_steps=3, delay=-2)),
            ("xsim", CrossSimilarity(k=2)),
        ]
    )
    expected = model.fit(reference).transform(query)
    got = sp.load_npz(tmp_path / "x.npz")
    assert got.shape == (4500, 50)
    np.testing.assert_array_equal(got.indptr, expected.indptr)
    np.testing.assert_array_equal(got.indices, expected.indices)
    np.testing.assert_array_equal(got.data, expected.data)


_AUDIO_ERROR = (
    "not a readable audio file"
    if importlib.util.find_spec("librosa")
    else 'pip install "skxsim[audio]"'
)
_FAIL_IN_FIT = (
    "import sys\n"
    "from skxsim import CrossSimilarity\n"
    "def fail(self, X, y=None):\n"
    "    raise RuntimeError('the engine broke\\nacross lines')\n"
    "CrossSimilarity.fit = fail\n"
    "from skxsim._cli import main\n"
    "sys.exit(main(sys.argv[1:]))"
)
Q, R = "query.csv", "ref.npy"
# The defects of the command line, one run each: (arguments, exit status,
# fragments of the one error line).
DEFECTS = [
    # -o out.txt wrote out.txt.npz and reported out.txt
    (["compute", Q, R, "-o", "out/x.txt"], 1, ["file name ending in .npz"]),
    # the first frame was dropped as a header
    (["compute", "typo_first.csv", R], 1, ["line 1, column 3: 'x' is not a number"]),
    # a traceback from audioread
    (["compute", "broken.wav", R], 1, ["QUERY", "broken.wav", _AUDIO_ERROR]),
    # IndexError: pop from empty list
    (["transform", R, "model.joblib", "-o", "out/x.npz"], 1, ["the order is"]),
    # a StandardScaler's output written as a cross-similarity
    (
        ["transform", "scaler.joblib", Q, "-o", "out/x.npz"],
        1,
        ["holds a StandardScaler, not a skxsim CrossSimilarity"],
    ),
    # usage errors printed the usage too
    (["compute", Q, R, "--k", "0"], 2, ["argument --k", "range [1, inf)"]),
    # any other exception was a traceback
    (
        {"args": ["compute", Q, R], "code": _FAIL_IN_FIT},
        1,
        ["RuntimeError: the engine broke across lines"],
    ),
]


def test_errors_are_one_line_before_any_work(files, model_file):
    tmp, _ = files
    failures = []
    runs = run_many([args for args, _, _ in DEFECTS], cwd=tmp)
    for (args, status, fragments), proc in zip(DEFECTS, runs, strict=True):
        try:
            assert_clean_error(proc, status, *fragments)
            assert proc.stdout == ""
        except AssertionError as exc:
            failures.append(f"skxsim {args}:\n{exc}")
    assert not failures, "\n\n".join(failures)
    assert list((tmp / "out").iterdir()) == []


def _without_root_privileges():
    """A command prefix under which file permissions apply, even to root."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    prefix = (setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--")
    if setpriv is None or subprocess.run([*prefix, "true"]).returncode != 0:
        pytest.skip("running as root, and cannot drop the file-permission override")
    return prefix


def test_unwritable_output_is_found_before_any_work(files, tmp_path):
    tmp, _ = files
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    prefix = _without_root_privileges()
    runs = [
        # -o, --plot, fit and transform share one check; demo has its own.
        ("compute", tmp / "query.csv", tmp / "ref.npy", "-o", locked / "x.npz"),
        ("demo", "--out", locked),
    ]
    try:
        for args, proc in zip(runs, run_many(runs, prefix=prefix), strict=True):
            error = assert_clean_error(proc, 1, "cannot write", "ermission denied")
            # Nothing was read, computed or written before the error.
            assert proc.stderr == error + "\n" and proc.stdout == "", args
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    import numpy
    import scipy
    import sklearn

    # The version, and those of the libraries a bug report needs.
    assert capsys.readouterr().out.strip() == (
        f"skxsim {skxsim.__version__} (numpy {numpy.__version__}, scipy "
        f"{scipy.__version__}, scikit-learn {sklearn.__version__})"
    )


# The messages, through ``main`` in this process: (arguments, exit status,
# fragments of the one error line).
MESSAGES = [
    (["compute", Q, R, "--embed", "3"], 2, ["N_STEPS,DELAY"]),
    (["compute", Q, R, "--embed", "3,0"], 2, ["DELAY != 0"]),
    (
        ["compute", Q, R, "--bandwidth", "-1"],
        2,
        ["argument --bandwidth", "'bandwidth' parameter"],
    ),
    (["compute", Q, R, "--bandwidth", "median"], 2, ["mean_k_avg_and_pair"]),
    (["compute", Q, R, "--mode", "bogus"], 2, ["invalid choice"]),
    (["fit", R], 2, ["-o"]),
    ([], 2, ["COMMAND"]),
    (["compute", "nope.npy", R], 1, ["QUERY", "no such file", "nope.npy"]),
    (["compute", Q, "garbage.npy"], 1, ["REF", "not a valid NumPy .npy file"]),
    (["compute", "archive.npy", R], 1, ["QUERY", "archive.npy", ".npz archive"]),
    (["demo", "--seed", "-1"], 2, ["--seed", "-1"]),
    (["demo", "--seed", "2.5"], 2, ["--seed", "2.5"]),
    (["compute", "notes.txt.bin", R], 1, ["unknown extension '.bin'"]),
    (["compute", "wide.npy", R], 1, ["feature count mismatch", "13", "12"]),
    (["compute", "empty_field.csv", R], 1, ["line 3, column 2: '' is not a number"]),
    (["compute", "ragged.csv", R], 1, ["line 3 has 2 value(s), line 1 has 3"]),
    (["compute", Q, R, "-o", "out/x"], 1, ["file name ending in .npz"]),
    (["compute", Q, R, "--plot", "out/x"], 1, ["extension names the picture"]),
    (["compute", Q, R, "--plot", "out/x.txt"], 1, ["extension names the picture"]),
    (["compute", Q, R, "-o", "out/no/such/x.npz"], 1, ["does not exist"]),
    (["compute", Q, R, "-o", "out"], 1, ["file name ending in .npz"]),
    (["compute", Q, R, "-o", "ref.npy/x.npz"], 1, ["is not a directory"]),
    (["compute", Q, R, "--metric", "nope"], 1, ["metric"]),
    (["fit", R, "-o", "out/m.npy"], 1, ["extension of a feature file"]),
    (["transform", "model.joblib", "wide.npy", "-o", "out/x.npz"], 1, ["mismatch"]),
    (["transform", Q, "model.joblib", "-o", "out/x.npz"], 1, ["the order is"]),
    (["transform", R, Q, "-o", "out/x.npz"], 1, ["the order is"]),
    (["transform", "junk.joblib", Q, "-o", "out/x.npz"], 1, ["not a model file"]),
    (["transform", "missing.joblib", Q, "-o", "out/x.npz"], 1, ["no such model"]),
    (["transform", "unfitted.joblib", Q, "-o", "out/x.npz"], 1, ["not fitted"]),
]


@pytest.mark.parametrize("args, status, fragments", MESSAGES)
def test_error_messages(
    files, model_file, monkeypatch, capsys, args, status, fragments
):
    tmp, _ = files
    shutil.rmtree(tmp / "out")  # what another case wrote is not this one's
    (tmp / "out").mkdir()
    monkeypatch.chdir(tmp)
    try:
        code = main(args)
    except SystemExit as stop:  # argparse
        code = stop.code
    out, err = capsys.readouterr()
    proc = subprocess.CompletedProcess(args, code, out, err)
    assert_clean_error(proc, status, *fragments)
    assert out == ""
    assert list((tmp / "out").iterdir()) == []


@pytest.mark.parametrize("command", ["compute", "transform"])
@pytest.mark.parametrize("option", ["--plot", "--dense", "--embed"])
def test_outputs_too_large_are_refused_before_the_work(
    files, model_file, monkeypatch, capsys, tmp_path, command, option
):
    # --plot draws the matrix dense, --dense writes it dense, --embed stacks
    # 12 features by n_steps: all were allocated unchecked.  The query and
    # the reference have 60 and 48 frames: 26 kB as a picture, 2 kB as
    # sparse output, 104 kB as stacks of 10 frames.
    import skxsim._output_size

    tmp, pair = files
    monkeypatch.chdir(tmp)
    model = tmp_path / "model.joblib"
    xsim = CrossSimilarity(k=2)
    if option == "--embed":
        xsim = Pipeline([("embed", TimeDelayEmbedding(n_steps=10)), ("xsim", xsim)])
    joblib.dump(xsim.fit(pair.reference), model)
    out = tmp_path / "x.npz"
    args = (
        ["compute", Q, R, "--k", "2", "-o", out]
        if command == "compute"
        else ["transform", model, Q, "-o", out]
    )
    monkeypatch.setattr(skxsim._output_size, "available_memory", lambda: 10_000)
    # No room for threads and blocks: the sizes here are the outputs' only.
    monkeypatch.setattr(skxsim._output_size, "THREAD_BYTES", 0)
    monkeypatch.setattr(skxsim._output_size, "BASE_BYTES", 0)
    if option != "--embed":  # the model embeds
        assert main([*map(str, args)]) == 0  # sparse output fits
        out.unlink()
    capsys.readouterr()
    extra = {
        "--plot": [option, str(tmp_path / "x.png")],
        "--dense": [option],
        "--embed": [option, "10,1"] if command == "compute" else [],
    }[option]
    code = main([*map(str, args), *extra])
    _, err = capsys.readouterr()
    proc = subprocess.CompletedProcess(args, code, "", err)
    assert_clean_error(proc, 1, option if extra else "n_steps=10", "GiB")
    assert "fitted on" not in err and "transformed" not in err  # before the work
    assert sorted(tmp_path.iterdir()) == [model]


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
    proc = run_cli(
        "compute", tmp_path / "query.wav", tmp_path / "ref.wav", "-o", out, "--k", 3
    )
    assert proc.returncode == 0, proc.stderr
    xsim = sp.load_npz(out)
    chroma = [
        librosa.feature.chroma_cqt(y=librosa.load(tmp_path / name, sr=sr)[0], sr=sr).T
        for name in ("query.wav", "ref.wav")
    ]
    expected = CrossSimilarity(k=3).fit(chroma[1]).transform(chroma[0])
    assert xsim.shape == expected.shape == (len(chroma[0]), len(chroma[1]))
    assert (xsim != expected).nnz == 0
