"""The compiled scoring of a matcher's candidate windows (``_votes``)
against a brute-force oracle written from its definition, and its guards."""

import subprocess
import sys

import numpy as np
import pytest

from skxsim._alignment._candidates import VoteParams, bin_scores, ratios


def oracle_scores(hits, gain, offsets, n_query, params, geometry):
    """Per grid (shift 0: bins ``[b w, (b + 1) w)``; shift 1: half a bin
    earlier) and ratio: for each excerpt and bin the largest gain of its hits
    there, summed per phase class; the score is the mean over excerpts plus
    the best phase class's mean, halved each."""
    period, excerpt, n_bins = geometry
    rho = ratios(params.tempo_range)
    n_f = hits.shape[0]
    phase = offsets % period
    counts = np.bincount(phase, minlength=period)
    mid = (n_query - excerpt) / 2
    out = []
    for shift in (0, 1):
        score = np.zeros((rho.size, n_bins))
        for r, ratio in enumerate(rho):
            sums = np.zeros((period, n_bins))
            for f in range(n_f):
                best = {}
                for a, g in zip(hits[f], gain[f], strict=True):
                    position = a * period + (mid - offsets[f]) * ratio
                    half = int(np.floor(position * 2 / params.bin_width))
                    b = (half + shift) // 2
                    best[b] = max(best.get(b, 0.0), g)
                for b, g in best.items():
                    if 0 <= b < n_bins:
                        sums[phase[f], b] += g
            means = sums / np.maximum(counts, 1)[:, None]
            score[r] = sums.sum(axis=0) / (2 * n_f) + means.max(axis=0) / 2
        out.append(score)
    return out, rho


@pytest.mark.parametrize("seed", range(6))
def test_scores_match_the_oracle(seed):
    # Random hits with repeats (several hits of one excerpt in one bin),
    # hits beyond both ends of the archive, every phase class or only some.
    rng = np.random.default_rng(seed)
    period, excerpt, width = [(8, 16, 32), (2, 4, 16), (6, 12, 48)][seed % 3]
    n_index = int(rng.integers(5, 300))
    n_bins = (n_index * period) // width + 2
    n_f, k = int(rng.integers(1, 40)), int(rng.integers(1, 12))
    n_query = int(rng.integers(excerpt + n_f, 4 * (excerpt + n_f)))
    offsets = np.sort(rng.choice(n_query - excerpt + 1, n_f, replace=False))
    if seed % 2:
        offsets = offsets[offsets % period < period // 2]
        n_f = offsets.size
    hits = rng.integers(0, n_index, (n_f, k))
    hits[:, 1:] = np.where(rng.random((n_f, k - 1)) < 0.3, hits[:, :1], hits[:, 1:])
    gain = rng.random((n_f, k))
    params = VoteParams(10, (0.7, 1.4), width, 8)
    geometry = (period, excerpt, n_bins)
    got, rho = bin_scores(hits, gain, offsets, n_query, params, geometry)
    want, rho_want = oracle_scores(hits, gain, offsets, n_query, params, geometry)
    np.testing.assert_array_equal(rho, rho_want)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=0)


BAD_ARGUMENTS = """
import numpy as np
from skxsim._alignment._votes import bin_scores as kernel

def good_args():
    hits = np.array([[0, 3, 3, 9], [1, 2, 8, 8]], dtype=np.int64)
    return [hits, np.ones(hits.shape), np.array([0.0, 5.0]),
            np.array([0, 1], dtype=np.int64), np.array([0.8, 1.0, 1.25]),
            np.array([0.5, 0.5]), 10.0, 2, 8.0, 6]

unsorted = np.array([[3, 0, 1, 2], [1, 2, 8, 8]], dtype=np.int64)
negative = np.array([[-1, 0, 1, 2], [1, 2, 8, 8]], dtype=np.int64)
cases = [
    (1, np.ones((2, 3))), (1, np.full((2, 4), np.nan)), (1, -np.ones((2, 4))),
    (0, unsorted), (0, negative), (2, np.array([0.0])),
    (2, np.array([0.0, np.inf])), (3, np.array([0, 2], dtype=np.int64)),
    (4, np.array([0.0, 1.0])), (4, np.array([np.nan])), (5, np.array([0.5])),
    (6, np.inf), (7, 0), (8, 0.0), (8, np.nan), (9, 0),
]
kernel(*good_args())
for position, value in cases:
    args = good_args()
    args[position] = value
    try:
        kernel(*args)
    except ValueError as e:
        assert "bin_scores" in str(e), e
        continue
    raise AssertionError((position, value))
print(len(cases))
"""


def test_the_kernel_refuses_what_it_cannot_read():
    # Gains of another shape or not finite, hits unsorted or negative,
    # offsets, phases, ratios, widths or counts it cannot use: a ValueError
    # naming the kernel, never a read out of bounds (in a subprocess: a
    # crash fails the test instead of the run).
    result = subprocess.run(
        [sys.executable, "-c", BAD_ARGUMENTS], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout) == 16
