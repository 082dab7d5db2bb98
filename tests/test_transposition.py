"""OTI, transposition and OTI-binary similarity; parity with essentia."""

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skxsim import TimeDelayEmbedding
from skxsim.cover import (
    cross_recurrence,
    global_chroma_profile,
    optimal_transposition_index,
    oti_binary_similarity,
    transpose_chroma,
)


def brute_oti(query, reference, n_shifts=12):
    """essentia's definition: the first best upward rotation of the reference,
    returned as the rotation of the query (its opposite)."""
    gq, gr = query.sum(axis=0), reference.sum(axis=0)
    values = [gq @ np.roll(gr, i) for i in range(n_shifts + 1)]
    return (-int(np.argmax(values))) % query.shape[1]


def test_profile_is_max_scaled_sum(rng):
    chroma = rng.random((30, 12))
    profile = global_chroma_profile(chroma)
    np.testing.assert_allclose(profile, chroma.sum(0) / chroma.sum(0).max())
    np.testing.assert_array_equal(global_chroma_profile(np.zeros((3, 12))), 0)


@pytest.mark.parametrize("shift", range(12))
def test_oti_undoes_a_transposition(rng, shift):
    reference = rng.random((50, 12)) ** 4  # a clear key profile
    query = np.roll(reference[5:45], shift, axis=1) + 0.05 * rng.random((40, 12))
    oti = optimal_transposition_index(query, reference)
    assert oti == (-shift) % 12
    np.testing.assert_allclose(
        transpose_chroma(query, oti)[:, :], np.roll(query, oti, axis=1)
    )


def test_oti_matches_brute_force(rng):
    for n_shifts in (12, 5, 0, 20):
        for _ in range(10):
            q, r = rng.random((20, 12)), rng.random((25, 12))
            assert optimal_transposition_index(q, r, n_shifts=n_shifts) == brute_oti(
                q, r, n_shifts
            )


def test_oti_ties_go_to_essentias_first_rotation():
    flat = np.ones((4, 12))
    assert optimal_transposition_index(flat, flat) == 0


def test_transpose_blocks_independently(rng):
    X = rng.random((7, 36))
    got = transpose_chroma(X, 5, n_bins=12)
    for b in range(3):
        np.testing.assert_array_equal(
            got[:, 12 * b : 12 * (b + 1)], np.roll(X[:, 12 * b : 12 * (b + 1)], 5, 1)
        )
    np.testing.assert_array_equal(transpose_chroma(X, -7), np.roll(X, -7, axis=1))


def test_errors(rng):
    with pytest.raises(ValueError, match="chroma bins"):
        optimal_transposition_index(rng.random((5, 12)), rng.random((5, 24)))
    with pytest.raises(ValueError, match="multiple of n_bins"):
        transpose_chroma(rng.random((5, 13)), 1, n_bins=12)
    with pytest.raises(InvalidParameterError, match="n_shifts"):
        optimal_transposition_index(
            rng.random((5, 12)), rng.random((5, 12)), n_shifts=-1
        )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"shift": 1.5}, "'shift'"),
        ({"shift": "3"}, "'shift'"),
        ({"shift": None}, "'shift'"),
        ({"shift": True}, "'shift'"),
        ({"shift": 1, "n_bins": 0}, "'n_bins'"),
        ({"shift": 1, "n_bins": -12}, "'n_bins'"),
        ({"shift": 1, "n_bins": 4.0}, "'n_bins'"),
        ({"shift": 1, "n_bins": "12"}, "'n_bins'"),
        ({"shift": 1, "n_bins": True}, "'n_bins'"),
    ],
)
def test_transpose_refuses_what_is_not_a_whole_shift(rng, kwargs, match):
    # 1.5 was truncated to 1, "3" read as 3, n_bins=0 meant n_features.
    with pytest.raises(InvalidParameterError, match=match):
        transpose_chroma(rng.random((5, 12)), **kwargs)
    # numpy integers are integers.
    np.testing.assert_array_equal(
        transpose_chroma(np.eye(12), np.int64(13), n_bins=np.int32(12)),
        np.roll(np.eye(12), 1, axis=1),
    )


def test_profiles_of_negative_features_keep_their_sign(rng):
    # Max-scaling by a negative peak flipped the profile, and the OTI of
    # features with negative sums chose the worst rotation.
    X = rng.random((30, 12)) - 0.6
    sums = X.sum(axis=0)
    np.testing.assert_allclose(global_chroma_profile(X), sums / np.abs(sums).max())
    for _ in range(10):
        q, r = rng.random((20, 12)) - 0.7, rng.random((25, 12))
        assert optimal_transposition_index(q, r) == brute_oti(q, r)


def brute_oti_binary(query, reference, n_shifts=12, n_bins=12):
    out = np.zeros((len(query), len(reference)), dtype=bool)
    for i, a in enumerate(query):
        for j, b in enumerate(reference):
            values = [
                a @ transpose_chroma(b[None], k, n_bins=n_bins)[0]
                for k in range(n_shifts + 1)
            ]
            out[i, j] = int(np.argmax(values)) in (0, 1)
    return out


def test_oti_binary_matches_brute_force(rng):
    q, r = rng.random((9, 24)), rng.random((7, 24))
    np.testing.assert_array_equal(oti_binary_similarity(q, r), brute_oti_binary(q, r))
    np.testing.assert_array_equal(
        oti_binary_similarity(q, r, n_shifts=4), brute_oti_binary(q, r, n_shifts=4)
    )
    np.testing.assert_array_equal(
        oti_binary_similarity(q, r, n_bins=None), brute_oti_binary(q, r, n_bins=24)
    )


# -- parity with essentia ------------------------------------------------------


@pytest.fixture
def es():
    essentia = pytest.importorskip("essentia")
    essentia.log.infoActive = False
    import essentia.standard as es

    return es


def essentia_stacks(chroma, size=9, order=1):
    """Our embedding of complete stacks, minus the last one essentia drops.

    essentia stacks frames i..i+size-1 (future frames, ``order=-1`` keeps its
    block order); distances do not depend on the block order.
    """
    embedded = TimeDelayEmbedding(n_steps=size, delay=order).fit_transform(chroma)
    complete = embedded[size - 1 :] if order > 0 else embedded[: len(chroma) - size + 1]
    return complete[:-1]


def quantile_position_is_fractional(n, fraction=0.095):
    # essentia's percentile returns 0 when (n - 1) * fraction is a whole
    # number (in float32); the sizes used here avoid that defect.
    position = np.float32(fraction) * np.float32(n - 1)
    return position != np.floor(position)


@pytest.mark.parametrize("oti", [True, False])
def test_parity_chroma_cross_similarity(rng, es, oti):
    """OTI + stacking + mutual binarisation == essentia's ChromaCrossSimilarity."""
    checked = 0
    while checked < 8:
        n, n_ref = rng.integers(20, 90, size=2)
        if not (
            quantile_position_is_fractional(n - 9)
            and quantile_position_is_fractional(n_ref - 9)
        ):
            continue
        reference = rng.random((n_ref, 12)).astype(np.float32)
        if checked % 2:  # a transposed, noisy excerpt: the OTI matters
            start = rng.integers(0, max(1, n_ref - n))
            query = np.roll(reference[start : start + n], 3, axis=1)
            query = query + 0.2 * rng.random(query.shape).astype(np.float32)
        else:
            query = rng.random((n, 12)).astype(np.float32)
        theirs = es.ChromaCrossSimilarity(oti=oti)(query, reference)
        shift = optimal_transposition_index(query, reference) if oti else 0
        ours = cross_recurrence(
            essentia_stacks(transpose_chroma(query, shift)),
            essentia_stacks(reference),
            k=0.095,
        )
        np.testing.assert_array_equal(ours.toarray(), theirs)
        checked += 1


@pytest.mark.parametrize("fraction", [0.05, 0.2])
def test_parity_binarize_percentile(rng, es, fraction):
    query, reference = rng.random((40, 12)), rng.random((55, 12))
    query, reference = query.astype(np.float32), reference.astype(np.float32)
    theirs = es.ChromaCrossSimilarity(
        oti=False, frameStackSize=3, binarizePercentile=fraction
    )(query, reference)
    ours = cross_recurrence(
        essentia_stacks(query, 3), essentia_stacks(reference, 3), k=fraction
    )
    np.testing.assert_array_equal(ours.toarray(), theirs)


def test_parity_oti_binary(rng, es):
    query = rng.random((30, 12)).astype(np.float32)
    reference = rng.random((22, 12)).astype(np.float32)
    theirs = es.ChromaCrossSimilarity(otiBinary=True, frameStackSize=1)(
        query, reference
    )
    np.testing.assert_array_equal(oti_binary_similarity(query, reference), theirs)
    # With stacks essentia rotates the whole stacked vector (n_bins=None).
    theirs = es.ChromaCrossSimilarity(otiBinary=True, frameStackSize=3)(
        query, reference
    )
    ours = oti_binary_similarity(
        essentia_stacks(query, 3, order=-1),
        essentia_stacks(reference, 3, order=-1),
        n_bins=None,
    )
    np.testing.assert_array_equal(ours, theirs)
