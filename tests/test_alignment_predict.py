"""A proof predicted not to fit its budget is not attempted (issue 22's
15-minute pair paid the whole budget for nothing); one that fits still
runs and proves the optimum.  Oracle: full DTW written out cell by cell."""

import warnings

import numpy as np
import pytest
from _dtw_oracle import dtw as oracle_dtw
from _dtw_oracle import path_cost
from test_alignment_optimal import symbols

from skxsim import Aligner, align
from skxsim._alignment._proof import PREDICT_MARGIN
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
def test_a_proof_predicted_not_to_fit_is_not_attempted(subseq):
    # Uniform random frames: the bound is loose, the proof needs about 60%
    # of the 24000 cells, five times the budget.
    rng = np.random.default_rng(4)
    query, reference = rng.random((150, 6)), rng.random((160, 6))
    kwargs = {"coarse_frames": 16, "radius": 1, "subseq": subseq}
    with pytest.warns(
        AlignmentWarning, match=r"predicted to need .* cells, over 1.5 x budget"
    ):
        path, cost, info = align(
            query, reference, budget=3000, return_info=True, **kwargs
        )
    assert not info["optimal"] and info["explored_cells"] == 0
    assert info["gap"] == np.inf and info["lower_bound"] == 0.0
    assert info["predicted_cells"] > PREDICT_MARGIN * 3000
    _, optimum = oracle_dtw(query, reference, "chord", WEIGHTS, subsequence=subseq)
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
    assert info["explored_cells"] > 3000
    assert cost == pytest.approx(optimum, rel=1e-9)
    check_path(query, reference, path, cost, subseq)


def test_a_proof_that_fits_is_not_stopped_by_the_prediction():
    # Few-symbol sequences: the proof needs about 37 400 of 152 000 cells,
    # within a budget of 40 000, and the coarse level predicts more than the
    # budget (its prediction runs above the need): only a prediction over
    # PREDICT_MARGIN x budget stops a proof, and this one must finish.
    rng = np.random.default_rng(0)
    query, reference = symbols(rng, 400), symbols(rng, 380)
    budget = 40_000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path, cost, info = (
            Aligner(coarse_frames=16, radius=1, budget=budget)
            .fit(reference)
            .align(query, return_info=True)
        )
    assert budget < info["predicted_cells"] <= PREDICT_MARGIN * budget
    assert info["optimal"] and 0 < info["explored_cells"] <= budget
    _, optimum = oracle_dtw(query, reference, "chord", WEIGHTS)
    assert cost == pytest.approx(optimum, rel=1e-9)
    check_path(query, reference, path, cost)


def test_no_prediction_where_the_budget_cannot_run_out():
    # At most PREDICT_MARGIN x budget cells: never predicted, proven.
    rng = np.random.default_rng(1)
    query, reference = rng.random((60, 4)), rng.random((50, 4))
    path, cost, info = align(
        query, reference, coarse_frames=8, radius=1, budget=2000, return_info=True
    )
    assert info["optimal"] and info["predicted_cells"] is None
    _, optimum = oracle_dtw(query, reference, "chord", WEIGHTS)
    assert cost == pytest.approx(optimum, rel=1e-9)
    check_path(query, reference, path, cost)
