"""The compiled preparation of a euclidean reference (``_prepare``) against
the formula it computes, written out in numpy, and its guards."""

import subprocess
import sys

import numpy as np
import pytest

from skxsim._neighbors import _prepare


def formula(R, scale, rescale, center):
    c = np.asarray(R, dtype=np.float64) / scale / rescale - center
    return c, 0.5 * np.square(c).sum(axis=1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("out_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1.0, 2.0**-60, 2.0**70, 2.0**1023, 2.0**-1074, 3.0])
def test_rows_and_statistics_follow_the_formula(dtype, out_dtype, scale):
    # Powers of two whose reciprocal is normal are multiplied by it, the
    # others (2**1023's is subnormal, 2**-1074's infinite, 3 is no power)
    # divided: the same bits either way.
    rng = np.random.default_rng(0)
    R = (rng.standard_normal((37, 11)) * 3 + 5).astype(dtype)
    R[4] = 0.0
    total = np.zeros(11)
    low, high = _prepare.statistics(R, scale, total, 0.0, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):  # 2**-1074: inf
        V = R.astype(np.float64) / scale
        np.testing.assert_array_equal(total, np.add.reduce(V, axis=0))
    assert (low, high) == (min(0.0, V.min()), max(0.0, V.max()))
    if not np.all(np.isfinite(V)) or V.max() == 0:
        return
    rescale, center = 8.0, V.mean(axis=0) / 8.0
    out = np.empty((37, 12), dtype=out_dtype)
    top = _prepare.centred_rows(R, scale, rescale, center, out)
    c, half = formula(R, scale, rescale, center)
    np.testing.assert_array_equal(out[:, :-1], c.astype(out_dtype))
    np.testing.assert_allclose(out[:, -1], half.astype(out_dtype), rtol=1e-6)
    assert top == pytest.approx(half.max(), rel=1e-12)


def test_overflowing_norms_are_reported_not_written():
    R = np.full((3, 4), 1e300)
    out = np.zeros((3, 5))
    assert _prepare.centred_rows(R, 1.0, 1.0, np.zeros(4), out) == -1.0


BAD = """
import numpy as np
from skxsim._neighbors import _prepare
R = np.ones((3, 4))
cases = [
    lambda: _prepare.statistics(R, 1.0, np.zeros(3), 0.0, 0.0),
    lambda: _prepare.statistics(R, 0.0, np.zeros(4), 0.0, 0.0),
    lambda: _prepare.statistics(R, np.nan, np.zeros(4), 0.0, 0.0),
    lambda: _prepare.centred_rows(R, 1.0, 1.0, np.zeros(3), np.zeros((3, 5))),
    lambda: _prepare.centred_rows(R, 1.0, 1.0, np.zeros(4), np.zeros((2, 5))),
    lambda: _prepare.centred_rows(R, 1.0, 1.0, np.zeros(4), np.zeros((3, 4))),
    lambda: _prepare.centred_rows(R, -1.0, 1.0, np.zeros(4), np.zeros((3, 5))),
    lambda: _prepare.centred_rows(R, 1.0, np.inf, np.zeros(4), np.zeros((3, 5))),
]
for case in cases:
    try:
        case()
    except ValueError:
        continue
    raise AssertionError(case)
print(len(cases))
"""


def test_the_kernels_refuse_shapes_and_scales_they_cannot_use():
    # In a subprocess: a read or write out of bounds fails the test, not the run.
    result = subprocess.run([sys.executable, "-c", BAD], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout) == 8
