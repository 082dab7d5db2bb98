"""A proof predicted not to fit its budget is not attempted (issue 22's
15-minute pair paid the whole budget for nothing); one that fits still
runs and proves the optimum.  Oracle: full DTW (``_dtw_oracle``; by
anti-diagonals for the pairs of 1000 frames and more the prediction needs,
checked here against the cell-by-cell loop)."""

import warnings

import numpy as np
import pytest
from _dtw_oracle import dtw as oracle_dtw
from _dtw_oracle import dtw_cost, path_cost
from test_alignment_optimal import symbols

from skxsim import Aligner, align
from skxsim._alignment._proof import PREDICT_FRAMES, PREDICT_MARGIN
from skxsim.exceptions import AlignmentWarning

WEIGHTS = (1.0, 1.5, 1.5)


def check_path(query, reference, path, cost, subseq=False):
    """A monotone path from the first to the last query frame (and corner to
    corner unless ``subseq``) that costs what ``align`` says."""
    assert {tuple(s) for s in np.diff(path, axis=0)} <= {(1, 0), (0, 1), (1, 1)}
    assert path[0, 0] == 0 and path[-1, 0] == len(query) - 1
    if not subseq:
        assert path[0, 1] == 0 and path[-1, 1] == len(reference) - 1
    assert path_cost(query, reference, path, "chord", WEIGHTS) == pytest.approx(
        cost, rel=1e-9
    )


@pytest.mark.parametrize("subseq", [False, True])
@pytest.mark.parametrize("weights", [WEIGHTS, (2.0, 1.0, 1.0), (1.0, 0.5, 0.7)])
def test_the_vectorised_oracle_is_the_loop(subseq, weights):
    rng = np.random.default_rng(2)
    query, reference = rng.random((37, 5)), rng.random((41, 5))
    _, cost = oracle_dtw(query, reference, "chord", weights, subsequence=subseq)
    assert dtw_cost(query, reference, "chord", weights, subseq) == cost


@pytest.mark.parametrize("subseq", [False, True])
def test_a_proof_predicted_not_to_fit_is_not_attempted(subseq):
    # Uniform random frames: the bound is loose, the proof needs 67% (94%
    # subsequence) of the 1.27 million cells, over three times the budget.
    rng = np.random.default_rng(4)
    query, reference = rng.random((1100, 6)), rng.random((1150, 6))
    kwargs = {"coarse_frames": 16, "radius": 1, "subseq": subseq}
    budget = 250_000
    with pytest.warns(
        AlignmentWarning, match=r"predicted to need .* cells, over 1.5 x budget"
    ):
        path, cost, info = align(
            query, reference, budget=budget, return_info=True, **kwargs
        )
    assert not info["optimal"] and info["explored_cells"] == 0
    assert info["gap"] == np.inf and info["lower_bound"] == 0.0
    assert info["predicted_cells"] > PREDICT_MARGIN * budget
    optimum = dtw_cost(query, reference, "chord", WEIGHTS, subsequence=subseq)
    check_path(query, reference, path, cost, subseq)
    assert optimum * (1 - 1e-9) <= cost <= (1 + info["gap"]) * optimum
    # budget=None: no prediction, the whole proof, and it needed more than
    # the budget (the prediction was right not to start it).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path, cost, info = align(
            query, reference, budget=None, return_info=True, **kwargs
        )
    assert info["optimal"] and info["predicted_cells"] is None
    assert info["explored_cells"] > budget
    assert cost == pytest.approx(optimum, rel=1e-9)
    check_path(query, reference, path, cost, subseq)


def test_a_proof_that_fits_is_not_stopped_by_the_prediction():
    # Few-symbol sequences: the proof needs about 245 000 of 1.16 million
    # cells, within a budget of 250 000, and the coarse level predicts more
    # than the budget: only a prediction over PREDICT_MARGIN x budget stops
    # a proof, and this one must finish.
    rng = np.random.default_rng(0)
    query, reference = symbols(rng, 1100), symbols(rng, 1050)
    budget = 250_000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path, cost, info = (
            Aligner(coarse_frames=16, radius=1, budget=budget)
            .fit(reference)
            .align(query, return_info=True)
        )
    assert budget < info["predicted_cells"] <= PREDICT_MARGIN * budget
    assert info["optimal"] and 0 < info["explored_cells"] <= budget
    assert cost == pytest.approx(dtw_cost(query, reference, "chord", WEIGHTS), rel=1e-9)
    check_path(query, reference, path, cost)


@pytest.mark.parametrize("n", [60, 2 * PREDICT_FRAMES - 1])
def test_no_prediction_where_it_cannot_be_made_or_needed(n):
    # 60 x 50 cells at most 1.5 x budget: the budget cannot run out.
    # Shorter than 2 x PREDICT_FRAMES: no pooled level long enough to
    # predict from; the proof runs (and here runs out of budget, with a
    # finite bound).
    rng = np.random.default_rng(1)
    query, reference = rng.random((n, 4)), rng.random((n - 10, 4))
    budget = 2000 if n == 60 else n * n // 8
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path, cost, info = align(
            query, reference, coarse_frames=8, radius=1, budget=budget, return_info=True
        )
    assert info["predicted_cells"] is None and info["explored_cells"] > 0
    optimum = dtw_cost(query, reference, "chord", WEIGHTS)
    check_path(query, reference, path, cost)
    if n == 60:
        assert info["optimal"] and not caught
        assert cost == pytest.approx(optimum, rel=1e-9)
    else:
        assert not info["optimal"] and np.isfinite(info["gap"])
        assert "cells explored" in str(caught[0].message)
        assert optimum * (1 - 1e-9) <= cost <= (1 + info["gap"]) * optimum * (1 + 1e-9)
        assert info["lower_bound"] <= optimum * (1 + 1e-9)


def test_a_pair_of_cost_zero_is_predicted_and_proven():
    # Upper bounds of 0 at every level (no share of them to divide by).
    x = np.repeat(np.random.default_rng(3).random((275, 5)), 4, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path, cost, info = align(
            x, x, coarse_frames=16, radius=1, budget=200_000, return_info=True
        )
    assert info["optimal"] and info["predicted_cells"] is not None
    assert cost == dtw_cost(x, x, "chord", WEIGHTS) == 0.0
    check_path(x, x, path, cost)
