"""The block cost-to-go bound of the proof (``_heuristic``) never exceeds
what the cheapest path still pays after a cell (full backward DTW), on
inputs made to break it: every metric, weights, subsequence, silences,
few symbols, tempo changes, block sizes that do not divide the lengths."""

import zlib

import numpy as np
import pytest
from _dtw_oracle import dtw as oracle_dtw
from _dtw_oracle import local_costs

from skxsim import align
from skxsim._alignment._frames import pyramid
from skxsim._alignment._heuristic import block_bounds, block_size
from skxsim._alignment._multiscale import DTWParams
from skxsim._alignment._proof import lower_bounds, start_bound
from skxsim.exceptions import AlignmentWarning


def cost_to_go(C, weights, subsequence):
    """``B[i, j]``: the cheapest rest of a path after cell ``(i, j)`` (its own
    cost excluded), by a backward pass over the whole matrix."""
    w_diag, w_ref, w_query = weights
    n, m = C.shape
    B = np.full((n, m), np.inf)
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if i == n - 1 and (subsequence or j == m - 1):
                B[i, j] = 0.0
                continue
            best = np.inf
            if i + 1 < n and j + 1 < m:
                best = min(best, B[i + 1, j + 1] + w_diag * C[i + 1, j + 1])
            if j + 1 < m:
                best = min(best, B[i, j + 1] + w_ref * C[i, j + 1])
            if i + 1 < n:
                best = min(best, B[i + 1, j] + w_query * C[i + 1, j])
            B[i, j] = best
    return B


def bound_per_cell(query, reference, metric, weights, subsequence, f):
    Q, R = pyramid(query, metric, 10**9)[0], pyramid(reference, metric, 10**9)[0]
    G, H, rows_within, cols_within, nearest_q, nearest_r = block_bounds(
        Q, R, metric, weights, f, subsequence
    )
    # The nearest-neighbour costs: below every local cost of their frame.
    C = local_costs(query, reference, metric)
    assert np.all(nearest_q <= C.min(axis=1) * (1 + 1e-9) + 1e-12)
    assert np.all(nearest_r <= C.min(axis=0) * (1 + 1e-9) + 1e-12)
    # and tight, up to the float32 products' margin (sqrt(4e-5) near 0)
    assert np.all(nearest_q >= C.min(axis=1) * (1 - 1e-4) - 7e-3)
    i, j = np.arange(len(Q))[:, None], np.arange(len(R))[None, :]
    return np.maximum(
        G[i // f + 1, j // f] + rows_within[:, None],
        H[j // f + 1, i // f] + cols_within[None, :],
    )


def symbols(rng, n, k=3, d=5):
    alphabet = rng.random((k, d))
    return np.repeat(alphabet[rng.integers(0, k, n)], rng.integers(1, 4, n), 0)[:n]


def inputs(rng, kind):
    if kind == "random":
        return rng.random((37, 5)), rng.random((41, 5))
    if kind == "symbols":
        return symbols(rng, 40), symbols(rng, 33)
    if kind == "tempo":
        reference = symbols(rng, 20, k=4)
        return reference[np.arange(0, 20, 1 / 3).astype(int)], reference
    # Silences (zero frames) and repeats.
    a = rng.random((10, 5))
    query = np.vstack([a, np.zeros((6, 5)), a, a])
    return query, np.vstack([a, a + 0.01, np.zeros((3, 5)), a[::-1]])


@pytest.mark.parametrize("kind", ["random", "symbols", "tempo", "silence"])
@pytest.mark.parametrize("metric", ["chord", "cosine", "euclidean", "sqeuclidean"])
@pytest.mark.parametrize("subsequence", [False, True])
def test_block_bound_is_below_the_true_rest(kind, metric, subsequence):
    rng = np.random.default_rng(zlib.crc32(f"{kind} {metric}".encode()))
    query, reference = inputs(rng, kind)
    if subsequence:
        query = query[: len(query) // 2]
    for weights, f in [
        ((1.0, 1.5, 1.5), 2),
        ((2.0, 1.0, 1.0), 3),
        ((1.0, 1.0, 1.0), 7),
    ]:
        C = local_costs(query, reference, metric)
        B = cost_to_go(C, weights, subsequence)
        bound = bound_per_cell(query, reference, metric, weights, subsequence, f)
        assert np.all(bound <= B * (1 + 1e-9) + 1e-12)
        if kind == "random":
            # Not vacuous: on random frames no cell is free.
            assert bound[0, 0] > 0.1 * B[0].min()


@pytest.mark.parametrize("subsequence", [False, True])
def test_start_bound_is_below_the_optimum(subsequence):
    rng = np.random.default_rng(3)
    query, reference = rng.random((60, 4)), rng.random((70, 4))
    params = DTWParams(metric="chord", step_weights=(1.0, 1.5, 1.5))
    Q, R = pyramid(query, "chord", 10**9)[0], pyramid(reference, "chord", 10**9)[0]
    bounds = lower_bounds(Q, R, params, subsequence, budget=2000)
    assert bounds["block"] > 2  # the budget forces bigger blocks
    C = local_costs(query, reference, "chord")
    B = cost_to_go(C, params.step_weights, subsequence)
    rest = B[0].min() if subsequence else B[0, 0]
    assert 0 < start_bound(bounds) <= rest * (1 + 1e-9)


@pytest.mark.parametrize("budget", [1, 7, 100])
def test_tiny_budgets_still_give_a_true_bound(budget):
    # A budget below one block's tables: one block per sequence, no hang.
    rng = np.random.default_rng(5)
    query, reference = rng.random((30, 4)), rng.random((25, 4))
    with pytest.warns(AlignmentWarning):
        _, cost, info = align(
            query, reference, coarse_frames=8, radius=1, budget=budget, return_info=True
        )
    _, optimum = oracle_dtw(query, reference, "chord", (1.0, 1.5, 1.5))
    # (budgets under cells / 32 skip the proof: lower bound 0, gap inf)
    assert 0 <= info["lower_bound"] <= optimum * (1 + 1e-9) <= cost * (1 + 1e-9)
    assert cost <= (1 + info["gap"]) * info["lower_bound"] or info["gap"] == np.inf
    f = block_size(len(query), len(reference), budget)
    assert f == 30 or -(-30 // f) * -(-25 // f) * 8 <= budget / 4


@pytest.mark.parametrize(
    "table_cells, nn_first, tables",
    # The nearest-neighbour bound alone decides; it stops at once and the
    # tables are built; it is not tried, the tables are built at once.
    [(10**9, 0.0, False), (0, 0.0, True), (10**9, np.inf, True)],
)
@pytest.mark.parametrize("subsequence", [False, True])
def test_every_lazy_branch_finds_the_optimum(
    monkeypatch, table_cells, nn_first, tables, subsequence
):
    import skxsim._alignment._proof as proof

    monkeypatch.setattr(proof, "TABLE_CELLS", table_cells)
    monkeypatch.setattr(proof, "NN_FIRST", nn_first)
    rng = np.random.default_rng(11)
    query, reference = rng.random((90, 5)), rng.random((120, 5))
    built = []
    real = proof.block_tables
    monkeypatch.setattr(proof, "block_tables", lambda *a: built.append(1) or real(*a))
    _, cost, info = align(
        query,
        reference,
        coarse_frames=12,
        radius=1,
        subseq=subsequence,
        return_info=True,
    )
    _, optimum = oracle_dtw(query, reference, "chord", (1.0, 1.5, 1.5), subsequence)
    assert cost == pytest.approx(optimum, rel=1e-9) and info["optimal"]
    assert bool(built) == tables


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "chord", "cosine"])
def test_float32_minima_at_extreme_scales(metric):
    # Frames of very different sizes (float32 underflows on the small ones)
    # still give bounds below the true costs; frames too large for float32
    # give no bound (zeros) rather than a wrong one.
    from skxsim._alignment._frames import prepare
    from skxsim._alignment._heuristic import block_minima

    rng = np.random.default_rng(2)
    query, reference = rng.random((23, 5)), rng.random((31, 5))
    query[::3] *= 1e-30
    reference[1::4] *= 1e-25
    Q, R = prepare(query, metric), prepare(reference, metric)
    L, nearest_q, nearest_r = block_minima(Q, R, metric, 4)
    C = local_costs(query, reference, metric)
    assert np.all(nearest_q <= C.min(axis=1)) and np.all(nearest_r <= C.min(axis=0))
    padded = np.full((24, 32), np.inf)
    padded[:23, :31] = C
    assert np.all(L <= padded.reshape(6, 4, 8, 4).min(axis=(1, 3)))
    if metric in ("euclidean", "sqeuclidean"):
        Q, R = prepare(query * 1e60, metric), prepare(reference * 1e60, metric)
        for x in block_minima(Q, R, metric, 4):
            assert not x.any()
