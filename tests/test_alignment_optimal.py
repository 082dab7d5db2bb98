"""``align`` returns full DTW's optimum on inputs made to mislead a
coarse-to-fine search, proves it, and says so when it cannot."""

import warnings

import numpy as np
import pytest
from _dtw_oracle import dtw as oracle_dtw
from _dtw_oracle import path_cost

from skxsim import Aligner, align
from skxsim.exceptions import AlignmentWarning

METRICS = ["chord", "cosine", "euclidean", "sqeuclidean"]
WEIGHTS = [(1.0, 1.5, 1.5), (1.0, 1.0, 1.0), (2.0, 1.0, 1.0)]


def symbols(rng, n, k=3, d=6, hold=4):
    """A sequence of ``k`` distinct frames, each held a few frames."""
    alphabet = rng.random((k, d))
    lengths = rng.integers(1, hold + 1, size=n)
    return np.repeat(alphabet[rng.integers(0, k, size=n)], lengths, axis=0)[:n]


def tempo(X, rate):
    """``X`` played ``rate`` times as fast (nearest frame)."""
    positions = np.arange(0, len(X) - 1e-9, rate)
    return X[np.round(positions).astype(int).clip(0, len(X) - 1)]


def check_optimal(
    query,
    reference,
    metric="chord",
    weights=(1.0, 1.5, 1.5),
    subseq=False,
    coarse_frames=16,
    radius=2,
):
    # A coarse level of 16 frames and a narrow band: the coarse-to-fine path
    # is often not the optimum here, the proof must find it.
    path, cost, info = align(
        query,
        reference,
        metric=metric,
        step_weights=weights,
        subseq=subseq,
        coarse_frames=coarse_frames,
        radius=radius,
        return_info=True,
    )
    _, optimum = oracle_dtw(query, reference, metric, weights, subsequence=subseq)
    assert cost == pytest.approx(optimum, rel=1e-9, abs=1e-12)
    assert path_cost(query, reference, path, metric, weights) == pytest.approx(
        cost, rel=1e-9, abs=1e-12
    )
    steps = {tuple(s) for s in np.diff(path, axis=0)}
    assert steps <= {(1, 0), (0, 1), (1, 1)}
    assert path[0, 0] == 0 and path[-1, 0] == len(query) - 1
    if not subseq:
        assert path[0, 1] == 0 and path[-1, 1] == len(reference) - 1
    assert info["optimal"] and info["gap"] == 0.0
    assert 0 < info["explored_cells"] <= info["cells"] == len(query) * len(reference)
    return info


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("metric", METRICS)
def test_random_pairs(seed, metric):
    rng = np.random.default_rng(seed)
    n, m = rng.integers(40, 220, size=2)
    weights = WEIGHTS[seed % 3]
    check_optimal(rng.random((n, 8)), rng.random((m, 8)), metric, weights)


@pytest.mark.parametrize("seed", range(4))
def test_few_symbol_sequences(seed):
    # Many exact ties and long plateaus: the coarse cost is a poor guide.
    rng = np.random.default_rng(seed)
    query, reference = symbols(rng, 210), symbols(rng, 200)
    check_optimal(query, reference, "cosine", WEIGHTS[seed % 3])


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kind", ["skipped", "inserted"])
def test_repeats_skipped_or_inserted(seed, kind):
    # Reference A B A C, query A C: two near-optimal routes far apart.
    rng = np.random.default_rng(seed)
    a, b, c = (symbols(rng, 60, k=5) for _ in range(3))
    full, short = np.vstack([a, b, a, c]), np.vstack([a, c])
    query, reference = (short, full) if kind == "skipped" else (full, short)
    query = query + 0.05 * rng.random(query.shape)
    check_optimal(query, reference, "chord")


@pytest.mark.parametrize("rate", [1 / 3, 1 / 2, 2.0, 3.0])
def test_tempo_ratios(rate):
    rng = np.random.default_rng(7)
    reference = symbols(rng, 150, k=6, hold=3)
    query = tempo(reference, rate) + 0.1 * rng.random((len(tempo(reference, rate)), 6))
    check_optimal(query, reference, "chord", (1.0, 1.0, 1.0))


@pytest.mark.parametrize("metric", ["chord", "cosine"])
def test_long_silences(metric):
    rng = np.random.default_rng(1)
    reference = rng.random((150, 6))
    reference[40:100] = 0.0
    query = np.vstack([reference[:40], np.zeros((10, 6)), reference[100:]])
    query[70:120] = 0.0
    check_optimal(query + 0.0, reference, metric)


@pytest.mark.parametrize("subseq", [False, True])
def test_query_much_shorter_than_reference(subseq):
    # Pyramids of different natural depths, pooled to the same depth.
    rng = np.random.default_rng(2)
    reference = symbols(rng, 400, k=6)
    query = reference[250:280] + 0.05 * rng.random((30, 6))
    check_optimal(query, reference, "chord", subseq=subseq)
    check_optimal(reference[::7], reference, "euclidean", subseq=subseq)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("metric", ["euclidean", "chord"])
def test_subsequence_equals_librosa(seed, metric):
    librosa = pytest.importorskip("librosa")
    rng = np.random.default_rng(seed)
    reference = rng.random((150, 12))
    query = reference[40:80] + 0.3 * rng.random((40, 12))
    weights = WEIGHTS[seed]
    _, cost = align(
        query,
        reference,
        metric=metric,
        step_weights=weights,
        subseq=True,
        coarse_frames=16,
    )
    X, Y = query.T, reference.T
    if metric == "chord":
        X, Y = X / np.linalg.norm(X, axis=0), Y / np.linalg.norm(Y, axis=0)
    D = librosa.sequence.dtw(
        X=X,
        Y=Y,
        metric="euclidean",
        weights_mul=np.array(weights),
        subseq=True,
        backtrack=False,
    )
    assert cost == pytest.approx(D[-1].min(), rel=1e-9)


def test_out_of_budget_warns_with_a_true_bound():
    rng = np.random.default_rng(4)
    query, reference = rng.random((150, 6)), rng.random((160, 6))
    _, optimum = oracle_dtw(query, reference, "chord", (1.0, 1.5, 1.5))
    with pytest.warns(AlignmentWarning, match=r"\(1 \+ gap\)"):
        _, cost, info = align(
            query,
            reference,
            coarse_frames=16,
            radius=1,
            budget=3000,
            return_info=True,
        )
    assert not info["optimal"] and info["explored_cells"] <= 3000
    assert info["lower_bound"] <= optimum * (1 + 1e-9)
    assert optimum <= cost <= (1 + info["gap"]) * info["lower_bound"] * (1 + 1e-9)


def test_enough_budget_proves_without_warning():
    rng = np.random.default_rng(4)
    query, reference = rng.random((150, 6)), rng.random((160, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = (
            Aligner(coarse_frames=16, budget=None)
            .fit(reference)
            .align(query, return_info=True)[2]
        )
    assert info["optimal"]


@pytest.mark.parametrize("bad", [0, -3, 2.5, "many", True])
def test_bad_budget(bad):
    with pytest.raises(ValueError, match="budget"):
        align(np.ones((3, 2)), np.ones((4, 2)), budget=bad)


def test_bad_subseq():
    with pytest.raises(ValueError, match="subseq"):
        align(np.ones((3, 2)), np.ones((4, 2)), subseq="yes")


def test_the_guides_grid_search_example_runs_as_written():
    import pathlib
    import re

    text = (pathlib.Path(__file__).parents[1] / "docs" / "alignment.rst").read_text()
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", text)
    (block,) = [b for b in blocks if "ReferenceQuerySplit(" in b]
    namespace: dict = {}
    exec(
        compile("\n".join(line[3:] for line in block.splitlines()), "doc", "exec"),
        namespace,
    )
    search, aligner = namespace["search"], namespace["aligner"]
    assert set(search.best_params_) == {"metric", "step_weights"}
    assert search.best_score_ > -0.05  # seconds: each pair is a plain warp
    assert aligner.n_samples_fit_ == 120
