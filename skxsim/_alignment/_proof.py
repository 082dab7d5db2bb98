"""The optimum, proven: a coarse-to-fine path, then an exact pruned search.

1. The coarse-to-fine search (:mod:`._multiscale`) gives a path; its cost
   ``U`` is an upper bound on the optimum.
2. A lower bound on what any path still pays after cell ``(i, j)``: it
   enters every later query frame by a diagonal or query step, and every
   later reference frame by a diagonal or reference step, each at no less
   than that frame's smallest local cost to any frame of the other
   sequence (its nearest neighbour, from the matrix products that give
   the block minima of :mod:`._heuristic`):
   ``max(lb_rows[i], lb_cols[j])`` with ``lb_rows[i] = min(w_diag, w_query)
   * sum over i' > i of nearest[i']`` and ``lb_cols`` alike
   (subsequence: no column bound, the path need not reach the last
   reference frame); and the block cost-to-go of :mod:`._heuristic`, which
   charges each later frame only what the blocks a monotone path can
   still take it in cost.  The kernel takes the largest per cell.
3. Exact DTW over only the cells whose accumulated cost plus that bound is
   at most ``U`` (:func:`._dtw.pruned_dtw`): every path that costs at most
   ``U`` survives, so the path found is the optimum.  A path of cost
   <= ``U`` has, at each of its cells, accumulated cost + bound <= ``U``
   (the bound is at most the rest of that path), so none of its cells is
   pruned: any lower bound keeps the search exact.

Lazily: the bounds' pass (:func:`._heuristic.shrunk_minima`, every cell
once) gives the nearest-neighbour costs and the block minima together.
Where the nearest-neighbour bound is already close (``NN_FIRST``), the
search first runs with it alone, on as many cells as the block tables
would cost to build (``TABLE_CELLS`` per block); the tables are built, and
the search run with them, where it is not close or that does not finish.

Memory: two bits per explored cell plus two rows; ``budget`` caps the
explored cells, and the block tables take at most ``budget / 4`` bytes
(with the float64 block minima while they are built: at most ``budget / 2``
bytes in all).  Out of budget, the coarse-to-fine path is returned with the
proven bound ``cost <= (1 + gap) * optimum``, from the smallest ``cost +
bound`` of the last finished row (every path crosses it), and a
:class:`AlignmentWarning` saying so.  Pairs of more than ``NN_RATIO *
budget`` cells are not attempted (the bounds' pass alone would take longer
than exploring the whole budget): ``gap`` is then inf.  Nor are pairs whose
proof, run first on the pooled sequences (:func:`predicted_cells`, about
1/64 of the cells), is predicted to explore more than ``PREDICT_MARGIN *
budget`` cells (``gap`` inf, the prediction in ``predicted_cells`` and the
warning): they would pay the bounds' pass and the whole budget for a proof
that does not finish.

How tight the bound is decides how much is explored.  On rendered chorales
(chroma, chord) the nearest neighbours sum to about 40% of the optimum (a
chord recurs all over a piece, closer than the aligned frame played on
other instruments); with the block cost-to-go the proof explores 15-19% of
the matrix (1-, 5- and 10-minute pairs; 131 million cells at 10 minutes).
The stated gap falls only near the end of a proof (10 minutes: 0.50, 0.38,
0.18 after 80, 100, 120 million cells): the row's smallest ``cost +
bound`` rises with the exact part of it.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..exceptions import AlignmentWarning
from ._dtw import pruned_dtw
from ._frames import METRIC_CODES, Level
from ._heuristic import ROUNDING, block_size, block_tables, shrunk_minima
from ._multiscale import DTWParams, Multiscale

# Measured on the chorale pairs (benchmarks/bench_alignment_proof.py, chroma,
# one core): the bounds' pass over every cell takes about 2 ns a cell, the
# pruned search about 25 ns per explored cell, the block tables about 22 ns
# a block.  Pairs beyond NN_RATIO times the budget are not attempted (the
# pass alone would take longer than exploring the whole budget).  Where
# the nearest-neighbour bound at the start is at least NN_FIRST times the
# upper bound, it is tried alone first, on TABLE_CELLS cells per block
# (what the tables would cost): on a smooth warp of a 5-minute chorale
# (0.64 there) it finishes in 0.45% of the matrix, 13% faster than with
# the tables; on the chorale pairs (0.3-0.43) it never finished, and
# trying cost 7-15%.
NN_RATIO = 12
NN_FIRST = 0.5
TABLE_CELLS = 1
# A proof that may run out of budget (over PREDICT_MARGIN * budget cells) is
# first run on the pyramids' level PREDICT_LEVEL (pooled 8 x 8: 1/64 of the
# cells, its budget scaled alike) or the coarsest one below it whose
# sequences both keep PREDICT_FRAMES frames: the cells explored there times
# the ratio of the cells predict the proof's, lowered where the sampled
# nearest-neighbour bound (every SHARE_STEP-th frame) leaves less slack at
# full resolution than there; where the prediction is over PREDICT_MARGIN *
# budget the proof is not attempted.  Measured (prediction / cells explored
# by the proof): chorale pairs 1.09-1.30 at budgets of 1/2 to 1/10 of their
# cells (15 minutes, default budget: 404 million predicted, 330 million
# needed); synthetic pairs of 2000-6000 frames (random frames, few-symbol
# sequences, repeats skipped, tempo 1:3) 0.57-1.15 (few-symbol pairs were
# up to 1.68 before the slack correction); smooth warps explore 1-2%
# (over-predicted up to 1.9), never near the budget.  Below PREDICT_FRAMES the pooled levels are a poor guide
# (few-symbol pairs of 600 frames: up to 2.1 at every level).  It costs
# 1-2% of a proof that goes ahead (10 minutes: 0.1 s).
PREDICT_LEVEL = 3
PREDICT_MARGIN = 1.5
PREDICT_FRAMES = 512
SHARE_STEP = 64
# The coarse search stops at PREDICT_CAP * budget cells' worth (at most
# PREDICT_CAP / 64 of the budget's search: the prediction is then a floor).
PREDICT_CAP = 4

# The pruned search's outcomes (``_dtw``).
DONE, OUT_OF_BUDGET = 0, 1


def suffix_bound(nearest: np.ndarray, weight: float) -> np.ndarray:
    """``weight * sum(nearest[k + 1:])`` per ``k``, shrunk for rounding and
    made non-increasing."""
    tail = np.concatenate([np.cumsum(nearest[::-1])[::-1][1:], [0.0]])
    tail = np.minimum.accumulate(tail * weight * (1 - ROUNDING))
    return np.ascontiguousarray(tail)


def nearest_bounds(nearest_q, nearest_r, params: DTWParams, subsequence) -> dict:
    """``lb_rows`` and ``lb_cols`` of :func:`._dtw.pruned_dtw`: what any path
    must still pay after a cell of that row, of that column (module
    docstring)."""
    w_diag, w_ref, w_query = params.step_weights
    return {
        "lb_rows": suffix_bound(nearest_q, min(w_diag, w_query)),
        "lb_cols": (
            np.zeros(nearest_r.size)
            if subsequence
            else suffix_bound(nearest_r, min(w_diag, w_ref))
        ),
    }


def bounds_pass(Q: Level, R: Level, params: DTWParams, subsequence: bool, budget):
    """The bounds' pass over every cell (:func:`._heuristic.shrunk_minima`):
    the nearest-neighbour bounds, and what the block tables are built from
    (:func:`with_tables`)."""
    f = block_size(len(Q), len(R), budget)
    L, nearest_q, nearest_r = shrunk_minima(Q, R, params.metric, f)
    bounds = nearest_bounds(nearest_q, nearest_r, params, subsequence)
    return bounds, (L, nearest_q, nearest_r, f)


def with_tables(bounds: dict, minima, params: DTWParams, subsequence: bool) -> dict:
    """``bounds`` with the block cost-to-go tables (:mod:`._heuristic`) built
    from the pass's ``minima``."""
    bounds.update(block_tables(*minima, params.step_weights, subsequence))
    return bounds


def lower_bounds(Q: Level, R: Level, params: DTWParams, subsequence: bool, budget):
    """Every keyword argument of :func:`._dtw.pruned_dtw`'s bounds: the
    nearest-neighbour bounds and the block cost-to-go."""
    bounds, minima = bounds_pass(Q, R, params, subsequence, budget)
    return with_tables(bounds, minima, params, subsequence)


def start_bound(bounds: dict) -> float:
    """A lower bound on every path's cost: what it pays after (0, 0)."""
    out = max(bounds["lb_rows"][0], bounds["lb_cols"][0], 0.0)
    if "block" in bounds:
        out = max(
            out,
            bounds["block_rows"][1, 0] + bounds["rows_within"][0],
            bounds["block_cols"][1, 0] + bounds["cols_within"][0],
        )
    return float(out)


def search(Q: Level, R: Level, params: DTWParams, subsequence, bounds, upper, cells):
    """:func:`._dtw.pruned_dtw` under ``upper`` with ``bounds``, on at most
    ``cells`` cells."""
    return pruned_dtw(
        Q.frames,
        R.frames,
        Q.zero,
        R.zero,
        METRIC_CODES[params.metric],
        *params.step_weights,
        subsequence,
        bounds["lb_rows"],
        bounds["lb_cols"],
        upper * (1 + ROUNDING),
        cells,
        params.start_weight,
        *(
            [bounds[k] for k in ("block", "block_rows", "block_cols")]
            + [bounds[k] for k in ("rows_within", "cols_within")]
            if "block" in bounds
            else []
        ),
    )


def attempt(Q: Level, R: Level, params: DTWParams, subsequence, budget, upper, limit):
    """The bounds' pass, then the pruned search under ``upper`` on at most
    ``limit`` cells (lazily, where it is close: the nearest-neighbour bound
    alone while it costs less than the block tables would; the tables
    where it does not finish).  The search's outcome and the bounds."""
    bounds, minima = bounds_pass(Q, R, params, subsequence, budget)
    first, found = 0, None
    if start_bound(bounds) >= NN_FIRST * upper:
        first = max(min(limit, TABLE_CELLS * minima[0].size), 1)
        found = search(Q, R, params, subsequence, bounds, upper, first)
    if found is None or (found[0] == OUT_OF_BUDGET and first < limit):
        with_tables(bounds, minima, params, subsequence)
        del minima  # the block minima: not needed by the search
        found = search(Q, R, params, subsequence, bounds, upper, limit)
    return found, bounds


def nearest_share(Q: Level, R: Level, params: DTWParams, subsequence, upper):
    """About what share of ``upper`` the nearest-neighbour bound at the start
    is (``max(lb_rows[0], lb_cols[0]) / upper``), from the nearest
    neighbours of every ``SHARE_STEP``-th frame of each sequence."""
    w_diag, w_ref, w_query = params.step_weights

    def sampled(level):
        return Level(level.frames[::SHARE_STEP].copy(), level.zero[::SHARE_STEP].copy())

    f = SHARE_STEP  # the block minima are not used: any block size
    near = shrunk_minima(sampled(Q), R, params.metric, f)[1]
    share = min(w_diag, w_query) * near.sum() * len(Q) / near.size
    if not subsequence:
        near = shrunk_minima(Q, sampled(R), params.metric, f)[2]
        share = max(share, min(w_diag, w_ref) * near.sum() * len(R) / near.size)
    return share / upper if upper > 0 else 0.0


def predicted_cells(query, reference, params, subsequence, budget, upper, costs):
    """The cells the proof under ``upper`` is predicted to explore: what the
    same proof explores on the pyramids' level ``k`` (pooled ``2**k`` each
    way; its upper bound that level's coarse-to-fine cost, ``costs[k]`` if
    known), times the ratio of the cells; explored there up to
    ``PREDICT_CAP * budget`` cells' worth at most.  Lowered where the
    nearest-neighbour bound leaves less slack at full resolution than there
    (``1 - nearest_share``; where pooling blurs the frames): never raised.
    ``k``: ``PREDICT_LEVEL`` or the coarsest level below it where both
    sequences have ``PREDICT_FRAMES`` frames; None where there is none."""
    k = min(PREDICT_LEVEL, len(query) - 1, len(reference) - 1)
    while k > 0 and min(len(query[k]), len(reference[k])) < PREDICT_FRAMES:
        k -= 1
    if k < 1:
        return None
    Q, R = query[k], reference[k]
    ratio = len(query[0]) * len(reference[0]) / (len(Q) * len(R))
    upper_k = costs.get(k)
    if upper_k is None:
        upper_k = Multiscale(query[k:], reference[k:], params, subsequence).finish()[1]
    limit = int(np.ceil(PREDICT_CAP * budget / ratio)) + 1
    found, bounds = attempt(
        Q, R, params, subsequence, max(int(budget / ratio), 1), upper_k, limit
    )
    start_k = max(bounds["lb_rows"][0], bounds["lb_cols"][0])
    slack_k = 1 - start_k / upper_k if upper_k > 0 else 1.0
    slack = 1 - nearest_share(query[0], reference[0], params, subsequence, upper)
    scale = min(max(slack, 0.0) / slack_k, 1.0) if slack_k > 0 else 1.0
    return int(np.ceil(found[3] * ratio * scale))


def proven_dtw(
    query, reference, params: DTWParams, subsequence=False, budget=None, known=None
):
    """The optimal path of ``query`` through ``reference`` (same-depth
    pyramids, finest first), its cost and what was proven (see
    :func:`skxsim.align`'s ``return_info``).  ``known``: a path through the
    finest levels and its cost (the upper bound to beat), else the
    coarse-to-fine search's."""
    costs = {}
    if known is None:
        search_ = Multiscale(query, reference, params, subsequence)
        known, costs = search_.finish(), search_.costs
    path, upper = known
    Q, R = query[0], reference[0]
    cells = len(Q) * len(R)
    info = {
        "optimal": True,
        "gap": 0.0,
        "lower_bound": upper,
        "explored_cells": 0,
        "predicted_cells": None,
    }
    if len(query) == 1 and len(reference) == 1:
        # The coarsest level is the finest: full DTW was run.
        info["explored_cells"] = cells
        return path, upper, info
    unproven = {"optimal": False, "gap": np.inf, "lower_bound": 0.0}
    if budget is not None and cells > NN_RATIO * budget:
        # The bounds' pass alone would cost more than exploring the whole
        # budget: not attempted, nothing proven.
        info.update(unproven)
        return path, upper, info
    if budget is not None and cells > PREDICT_MARGIN * budget:
        # A proof that could run out of budget: not attempted (neither the
        # bounds' pass nor the search) where a coarser level predicts it.
        info["predicted_cells"] = predicted_cells(
            query, reference, params, subsequence, budget, upper, costs
        )
        if (info["predicted_cells"] or 0) > PREDICT_MARGIN * budget:
            info.update(unproven)
            return path, upper, info
    limit = cells if budget is None else max(int(budget), 1)
    found, bounds = attempt(Q, R, params, subsequence, budget, upper, limit)
    status, exact_path, cost, explored, bound = found
    info["explored_cells"] = int(explored)
    if status == DONE and cost <= upper:
        info["lower_bound"] = cost
        return exact_path, cost, info
    if status != OUT_OF_BUDGET:
        # Done (or no path at all) below the threshold: nothing beats the
        # coarse-to-fine path by more than the rounding.
        return path, upper, info
    lower = max(bound, start_bound(bounds))
    gap = upper / lower - 1 if lower > 0 else np.inf
    info.update(optimal=False, gap=float(max(gap, 0.0)), lower_bound=float(lower))
    return path, upper, info


def warn_unproven(info: dict, cost: float, budget) -> None:
    """The :class:`AlignmentWarning` of a result not proven optimal, saying
    why the proof stopped."""
    if info["optimal"]:
        return
    predicted = info["predicted_cells"]
    if budget is not None and info["cells"] > NN_RATIO * budget:
        why = f"not attempted on a pair of over {NN_RATIO} x budget cells"
    elif predicted is not None and predicted > PREDICT_MARGIN * budget:
        about = ">=" if predicted >= PREDICT_CAP * budget else "~"
        why = (
            f"not attempted: predicted to need {about}{predicted:.3g} cells, "
            f"over {PREDICT_MARGIN} x budget, by the same proof on the "
            f"sequences pooled (up to {2**PREDICT_LEVEL} frames into 1)"
        )
    else:
        why = f"stopped: {info['explored_cells']} cells explored, the budget"
    warnings.warn(
        f"alignment: the optimum was not proven within budget={budget} cells "
        f"(of {info['cells']}; proof {why}); the returned path's cost {cost!r} "
        f"is at most (1 + gap) times the optimum with gap = {info['gap']:.3g} "
        "(inf: no bound). Raise budget (None: no limit) to prove it.",
        AlignmentWarning,
        stacklevel=4,
    )
