"""Segmentation scores against mir_eval (the oracle) on random segmentations."""

import warnings

import numpy as np
import pytest

from skxsim._structure._scores import labels_to_intervals
from skxsim.structure import (
    boundary_scores,
    entropy_scores,
    pairwise_scores,
    segmentation_scores,
)

mir_eval = pytest.importorskip("mir_eval")

DT = 0.25  # seconds per frame, exact in binary: mir_eval's sampling agrees


def random_segmentation(rng, n, n_segments, n_labels):
    """Per-frame labels: n_segments runs, labels drawn from n_labels."""
    cuts = np.sort(rng.choice(np.arange(1, n), size=n_segments - 1, replace=False))
    lengths = np.diff(np.concatenate([[0], cuts, [n]]))
    labels = rng.integers(0, n_labels, size=n_segments)
    return np.repeat(labels, lengths)


def cases(seed, count=30):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(2, 200))
        ref = random_segmentation(rng, n, int(rng.integers(1, min(n, 12) + 1)), 4)
        est = random_segmentation(rng, n, int(rng.integers(1, min(n, 12) + 1)), 5)
        yield ref, est


def intervals(labels):
    ints, labs = labels_to_intervals(labels, DT)
    return ints, [str(x) for x in labs]


@pytest.mark.filterwarnings("ignore:.*intervals are empty:UserWarning")
@pytest.mark.parametrize("window", [0.0, 0.25, 0.5, 3.0])
@pytest.mark.parametrize("trim", [False, True])
@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_boundaries_match_mir_eval(window, trim, beta):
    for ref, est in cases(0):
        theirs = mir_eval.segment.detection(
            intervals(ref)[0], intervals(est)[0], window=window, trim=trim, beta=beta
        )
        ours = boundary_scores(
            ref, est, frame_duration=DT, window=window, trim=trim, beta=beta
        )
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_boundary_matching_is_maximal():
    # A greedy nearest match would pair 1.0 with 1.2 and lose one hit.
    ref = np.repeat([0, 1, 2, 3], [10, 2, 3, 5])  # starts 0, 10, 12, 15
    est = np.repeat([0, 1, 2, 3], [9, 2, 3, 6])  # starts 0, 9, 11, 14
    ours = boundary_scores(ref, est, frame_duration=0.1, window=0.2, trim=True)
    theirs = mir_eval.segment.detection(
        labels_to_intervals(ref, 0.1)[0],
        labels_to_intervals(est, 0.1)[0],
        window=0.2,
        trim=True,
    )
    np.testing.assert_allclose(ours, theirs)
    assert ours == (1.0, 1.0, 1.0)


@pytest.mark.parametrize("beta", [1.0, 2.0])
def test_pairwise_matches_mir_eval(beta):
    for ref, est in cases(1):
        if len(np.unique(est)) == len(est) or len(np.unique(ref)) == len(ref):
            continue  # no pair of like frames: mir_eval divides by zero
        theirs = mir_eval.segment.pairwise(
            *intervals(ref), *intervals(est), frame_size=DT, beta=beta
        )
        ours = pairwise_scores(ref, est, beta=beta)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_entropy_matches_mir_eval(beta):
    for ref, est in cases(2):
        theirs = mir_eval.segment.nce(
            *intervals(ref), *intervals(est), frame_size=DT, beta=beta
        )
        ours = entropy_scores(ref, est, beta=beta)
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_label_names_do_not_matter(rng):
    for ref, est in cases(3, count=5):
        names = np.array(["verse", "chorus", "bridge", "intro", "outro"])
        np.testing.assert_allclose(
            pairwise_scores(ref, est), pairwise_scores(names[ref], est + 7)
        )
        np.testing.assert_allclose(
            entropy_scores(ref, est), entropy_scores(names[ref], est + 7)
        )


def test_no_pairs_scores_zero_not_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pairwise_scores([0, 1, 2], [0, 0, 0]) == (0.0, 0.0, 0.0)
        assert pairwise_scores([0], [0]) == (0.0, 0.0, 0.0)


def test_perfect_and_report():
    labels = np.repeat([0, 1, 0, 2], 20)
    report = segmentation_scores(labels, labels + 1, frame_duration=0.5)
    assert set(report) == {
        "boundary_f_0.5",
        "boundary_f_0.5_trim",
        "boundary_f_3",
        "boundary_f_3_trim",
        "pairwise_f",
        "entropy_f",
    }
    assert report == pytest.approx(dict.fromkeys(report, 1.0), rel=1e-12)


@pytest.mark.parametrize("function", [boundary_scores, pairwise_scores, entropy_scores])
def test_bad_labels(function):
    with pytest.raises(ValueError, match="same frames"):
        function([0, 0, 1], [0, 1])
    with pytest.raises(ValueError, match="labels_true"):
        function([], [])
    with pytest.raises(ValueError, match="labels_pred"):
        function([0, 1], [[0, 1]])


@pytest.mark.parametrize(
    "kwargs", [{"window": -1}, {"frame_duration": 0}, {"beta": 0}, {"trim": 1}]
)
def test_bad_parameters(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        boundary_scores([0, 1], [0, 1], **kwargs)
