"""No input crashes the alignment, and scaled inputs give the unscaled answer.

Everything that could corrupt memory runs in a subprocess: a crash there
fails the test instead of killing the run.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from _dtw_oracle import dtw as oracle_dtw

from skxsim import align

METRICS = ["chord", "cosine", "euclidean", "sqeuclidean"]


def run_isolated(code: str, timeout: float = 240.0) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-3000:])
    return result.stdout


def test_the_issue_reproducers_do_not_crash():
    out = run_isolated(
        """
        import numpy as np
        from skxsim import align
        rand = np.random.default_rng(0).random
        cases = [
            ((rand((2001, 12)) * 7e17, rand((2078, 12)) * 7e17),
             dict(metric="sqeuclidean")),
            ((rand((300, 12)), rand((320, 12))), dict(step_weights=(1e36,) * 3)),
            ((rand((30, 12)) * 1e19, rand((35, 12)) * 1e19),
             dict(coarse_frames=16)),
        ]
        for (q, r), kw in cases:
            path, cost, info = align(q, r, return_info=True, **kw)
            assert np.isfinite(cost) and info["optimal"], (kw, cost, info)
            assert path[0].tolist() == [0, 0]
            assert path[-1].tolist() == [len(q) - 1, len(r) - 1]
        print("ok")
        """
    )
    assert out.strip() == "ok"


def test_fuzz_lengths_values_weights_metrics():
    # Every outcome is a result or a clear ValueError, never a crash.
    out = run_isolated(
        """
        import warnings
        import numpy as np
        from skxsim import align
        rng = np.random.default_rng(1)
        shapes = [(2, 2), (2, 5000), (5000, 2), (3, 700), (700, 3), (257, 1025)]
        shapes += [tuple(rng.integers(2, 400, 2)) for _ in range(12)]
        scales = [1e-300, 1e-170, 1e-30, 1.0, 1e19, 1e154, 1e200, 1e300]
        weights = [(1, 1, 1), (1e36,) * 3, (1e-300,) * 3, (1e300, 1, 1),
                   (1, 1e-30, 1e30), (1, 1.5, 1.5)]
        metrics = ["chord", "cosine", "euclidean", "sqeuclidean"]
        done = errors = 0
        for k, (n, m) in enumerate(shapes):
            d = int(rng.integers(1, 13))
            q = rng.standard_normal((n, d)) * scales[k % len(scales)]
            r = rng.standard_normal((m, d)) * scales[(k + 3) % len(scales)]
            if k % 4 == 1:
                q[: n // 2] = 0.0
            for metric in metrics:
                w = weights[(k + len(metric)) % len(weights)]
                for subseq in (False, True):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        try:
                            path, cost = align(q, r, metric=metric,
                                               step_weights=w, subseq=subseq,
                                               coarse_frames=16 + k % 5,
                                               radius=1 + k % 3, budget=200000)
                        except ValueError as e:
                            assert "range" in str(e) or "weights" in str(e), e
                            errors += 1
                            continue
                    steps = np.diff(path, axis=0)
                    assert np.all((steps >= 0) & (steps <= 1))
                    assert np.all(steps.sum(axis=1) >= 1)
                    assert path[0, 0] == 0 and path[-1, 0] == n - 1
                    assert 0 <= path[:, 1].min() and path[:, 1].max() < m
                    assert np.isfinite(cost) and cost >= 0
                    done += 1
        print(done, errors)
        """
    )
    done, errors = map(int, out.split())
    # The errors are sqeuclidean costs beyond float64 (squares of 1e200).
    assert done > 3 * errors


def test_the_kernels_refuse_bad_bands_and_bounds():
    out = run_isolated(
        """
        import numpy as np
        from skxsim._alignment._dtw import banded_dtw, pruned_dtw
        Q, R = np.random.default_rng(0).random((2, 6, 3))
        z = np.zeros(6, np.uint8)
        def band(lo, hi, subseq=False):
            lo, hi = np.array(lo, np.intp), np.array(hi, np.intp)
            try:
                banded_dtw(Q, R, lo, hi, z, z, 0, 1.0, 1.0, 1.0, subseq)
            except ValueError as e:
                return "band" in str(e)
            return False
        bad = [
            ([0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 6]),      # past the matrix
            ([0, 1, 2, 3, 4, -1], [0, 1, 2, 3, 4, 5]),     # negative
            ([0, 2, 1, 3, 4, 5], [2, 2, 3, 3, 5, 5]),      # lo not monotone
            ([0, 0, 0, 0, 0, 0], [5, 4, 5, 5, 5, 5]),      # hi not monotone
            ([0, 3, 3, 3, 3, 3], [1, 5, 5, 5, 5, 5]),      # disconnected
            ([0, 0, 0, 0, 0, 0], [5, 5, 5, 5, 5, 4]),      # misses the end
            ([1, 1, 1, 1, 1, 1], [5, 5, 5, 5, 5, 5]),      # misses the start
            ([0, 3, 3, 3, 3], [5, 5, 5, 5, 5]),            # a row short
            ([3, 2, 2, 2, 2, 2], [2, 5, 5, 5, 5, 5]),      # inverted
        ]
        assert all(band(lo, hi) for lo, hi in bad)
        assert not band([2] * 6, [3] * 6, True)            # fine for subseq
        lb = np.zeros(6)
        for rows, cols, t, b in [
            (np.arange(6.0), lb, 1.0, 10), (lb, -np.ones(6), 1.0, 10),
            (lb, lb, np.nan, 10), (lb, lb, 1.0, 0),
            (lb[:5], lb, 1.0, 10), (np.full(6, np.inf), lb, 1.0, 10),
        ]:
            try:
                pruned_dtw(Q, R, z, z, 0, 1.0, 1.0, 1.0, False, rows, cols, t, b)
            except ValueError:
                continue
            raise AssertionError((rows, cols, t, b))
        for w in (0.0, -1.0, np.inf, np.nan):
            try:
                banded_dtw(Q, R, np.zeros(6, np.intp), np.full(6, 5, np.intp),
                           z, z, 0, 1.0, w, 1.0, False)
            except ValueError:
                continue
            raise AssertionError(w)
        print("ok")
        """
    )
    assert out.strip() == "ok"


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("power", [-990, -560, -300, 300, 560, 990])
def test_power_of_two_scaling_gives_the_unscaled_answer(rng, metric, power):
    query, reference = rng.random((90, 6)), rng.random((100, 6))
    query[10:20] = 0.0
    path, cost = align(query, reference, metric=metric, coarse_frames=16)
    factor = {"euclidean": 1, "sqeuclidean": 2}.get(metric, 0)
    scale = np.ldexp(1.0, power)
    if factor == 2 and abs(power) > 500:
        # The cost itself leaves float64's range: a clear error.
        with pytest.raises(ValueError, match="float64's range"):
            align(query * scale, reference * scale, metric=metric, coarse_frames=16)
        return
    scaled_path, scaled_cost = align(
        query * scale, reference * scale, metric=metric, coarse_frames=16
    )
    np.testing.assert_array_equal(scaled_path, path)
    assert scaled_cost == np.ldexp(cost, power * factor)


@pytest.mark.parametrize("metric", ["chord", "cosine", "euclidean"])
@pytest.mark.parametrize("scale", [1e-300, 1e-170, 1e200, 1e300])
def test_decimal_scales_match_the_oracle(rng, metric, scale):
    # Silence is a frame of zeros at every scale, never a tiny frame.
    query, reference = rng.random((60, 5)), rng.random((70, 5))
    path, cost = align(
        query * scale, reference * scale, metric=metric, coarse_frames=16
    )
    expected_path, expected = oracle_dtw(query, reference, metric, (1, 1.5, 1.5))
    factor = scale if metric == "euclidean" else 1.0
    assert cost == pytest.approx(expected * factor, rel=1e-9)
    np.testing.assert_array_equal(path, expected_path)


@pytest.mark.parametrize("power", [-900, -30, 30, 900])
def test_extreme_weights_match_the_oracle(rng, power):
    # Large weights are divided by a power of two inside (the start cell's
    # cost weighted by its inverse), so nothing overflows on the way.
    query, reference = rng.random((40, 4)), rng.random((50, 4))
    w = tuple(np.ldexp(np.array([1.0, 1.5, 2.0]), power))
    path, cost = align(query, reference, step_weights=w, coarse_frames=16)
    expected_path, expected = oracle_dtw(query, reference, "chord", w)
    np.testing.assert_array_equal(path, expected_path)
    assert cost == pytest.approx(expected, rel=1e-9)


def test_the_matcher_and_its_kernels_do_not_crash():
    # The matcher's own compiled paths (the cost-only subsequence kernel of
    # its ranking, the float32 block extrema of its proofs): lengths down to
    # 2 frames, extreme scales and weights, every metric; a result or a
    # clear ValueError, and the kernels refuse what they cannot read.
    out = run_isolated(
        """
        import warnings
        import numpy as np
        from skxsim import Matcher
        from skxsim._alignment._dtw import block_extrema, subsequence_cost
        rng = np.random.default_rng(2)
        scales = [1e-300, 1e-30, 1.0, 1e19, 1e200, 1e300]
        weights = [(1, 3, 3), (1e36,) * 3, (1e-300,) * 3, (1, 1e-30, 1e30)]
        done = errors = 0
        for k, (n_ref, n) in enumerate([(2, 2), (40, 2), (3000, 9), (3000, 200),
                                        (5000, 700), (700, 700)]):
            d = int(rng.integers(1, 13))
            archive = rng.standard_normal((n_ref, d)) * scales[k % len(scales)]
            start = int(rng.integers(0, n_ref - n + 1))
            query = archive[start:start + n] * (1 + 1e-3 * rng.standard_normal((n, d)))
            for metric in ["chord", "cosine", "euclidean", "sqeuclidean"]:
                w = weights[(k + len(metric)) % len(weights)]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        model = Matcher(metric=metric, step_weights=w).fit(archive)
                        starts, ends, costs = model.match(query, n_matches=2)
                    except ValueError as e:
                        assert "range" in str(e) or "weights" in str(e), e
                        errors += 1
                        continue
                assert np.all((0 <= starts) & (starts <= ends) & (ends < n_ref))
                assert np.all(np.isfinite(costs) & (costs >= 0))
                done += 1
        Q, R = np.random.default_rng(0).random((2, 6, 3))
        z = np.zeros(6, np.uint8)
        for args in [(Q, R, z[:5], z), (Q, R[:, :2], z, z), (Q[:0], R, z[:0], z)]:
            try:
                subsequence_cost(*args, 0, 1.0, 1.0, 1.0)
            except ValueError:
                continue
            raise AssertionError([a.shape for a in args])
        for w in (0.0, -1.0, np.inf, np.nan):
            try:
                subsequence_cost(Q, R, z, z, 0, 1.0, w, 1.0)
            except ValueError:
                continue
            raise AssertionError(w)
        q32, rt32 = Q.astype(np.float32), np.ascontiguousarray(R.T, np.float32)
        a6 = np.zeros(6, np.float32)
        for args in [(q32, rt32, a6[:5], a6, 2), (q32, rt32, a6, a6, 0),
                     (q32[:, :2], rt32, a6, a6, 2), (q32[:0], rt32, a6[:0], a6, 2)]:
            try:
                block_extrema(*args)
            except ValueError:
                continue
            raise AssertionError([getattr(a, "shape", a) for a in args])
        print(done, errors)
        """
    )
    done, errors = map(int, out.split())
    assert done > 3 * errors
