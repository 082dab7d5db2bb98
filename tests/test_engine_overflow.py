"""Query frames far outside the reference's scale, on every exact backend.

The exact keys are computed at the reference's scale (a power of two near
its peak).  Query frames near 1 against a reference near 1e-201 have
squared distances beyond float64 there: every exact backend refuses them
with the same ``ValueError`` (cKDTree used to propose its "no neighbour"
index and crash with an ``IndexError``; scikit-learn's trees returned rows
without neighbours).  Cosine, which never scales the frames, answers.
"""

import numpy as np
import pytest

from skxsim import CrossSimilarity
from skxsim._neighbors import fit_index

EXACT = ["brute", "kd_tree", "ball_tree", "ckd_tree"]


def far_apart(rng, n=700, n_ref=3, query_scale=1.0, ref_scale=1e-201):
    X = query_scale * (1 + 1e-3 * rng.random((n, 1)))
    R = ref_scale * (1 + rng.random((n_ref, 1)))
    return X, R


@pytest.mark.parametrize("algorithm", EXACT)
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize(
    "scales", [(1.0, 1e-201), (1e-100, 1e-300), (1e100, 1e-160), (1.0, 1e-250)]
)
def test_euclidean_overflow_is_refused_by_every_backend(rng, algorithm, k, scales):
    X, R = far_apart(rng, query_scale=scales[0], ref_scale=scales[1])
    _, index = fit_index(R, metric="euclidean", k=k, algorithm=algorithm)
    with pytest.raises(ValueError, match="times larger than the reference's scale"):
        index.kneighbors_block(X, k)
    est = CrossSimilarity(k=k, algorithm=algorithm).fit(R)
    with pytest.raises(ValueError, match="times larger than the reference's scale"):
        est.transform(X)


@pytest.mark.parametrize("algorithm", EXACT)
@pytest.mark.parametrize("k", [1, 3])
def test_same_scale_and_cosine_are_answered(rng, algorithm, k):
    # Control: the same shapes at the reference's own scale are answered
    # (by scikit-learn's oracle on the frames scaled back to 1), and cosine
    # (unit vectors) answers the far-apart frames: all at distance 0.
    X, R = far_apart(rng, query_scale=1e-201)
    _, index = fit_index(R, metric="euclidean", k=k, algorithm=algorithm)
    counts, cols, dist = index.kneighbors_block(X, k)
    d = np.abs(X * 1e201 - (R * 1e201).T)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(counts, k)
    np.testing.assert_array_equal(cols, np.sort(order, axis=1).ravel())
    expected = np.take_along_axis(d, np.sort(order, axis=1), axis=1).ravel() * 1e-201
    np.testing.assert_allclose(dist, expected, rtol=1e-9)
    X, R = far_apart(rng)
    _, index = fit_index(R, metric="cosine", k=k, algorithm=algorithm)
    counts, cols, dist = index.kneighbors_block(X, k)
    np.testing.assert_array_equal(cols, np.tile(np.arange(k), len(X)))
    np.testing.assert_array_equal(dist, 0.0)
