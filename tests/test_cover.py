"""Mutual k-NN cross-recurrence, cover_song_distance and CoverSongIndex."""

import io
import math
import pickle
import warnings

import joblib
import numpy as np
import pytest
from _brute import cdist
from sklearn import config_context
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils._param_validation import InvalidParameterError

from skxsim import CoverSongIndex, TimeDelayEmbedding, cover_song_distance
from skxsim.cover import (
    cross_recurrence,
    dmax,
    optimal_transposition_index,
    oti_binary_similarity,
    qmax,
    transpose_chroma,
)
from skxsim.cover._cross_recurrence import neighbour_count

# -- the binarisation ---------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.01, 0.095, 0.5, 1.0])
@pytest.mark.parametrize("n", [1, 2, 7, 150])
def test_fraction_counts_values_at_or_below_the_quantile(rng, fraction, n):
    values = rng.random(n)
    expected = int(np.sum(values <= np.quantile(values, fraction)))
    assert neighbour_count(fraction, n) == expected


def k_nearest(D, k):
    """Per row, the k smallest by (distance, column)."""
    out = np.zeros(D.shape, dtype=bool)
    for i, row in enumerate(D):
        out[i, np.lexsort((np.arange(len(row)), row))[:k]] = True
    return out


def brute_mutual(query, reference, k, metric="euclidean"):
    """The mutual k-NN among the sounding frames; silent ones match nothing."""
    q, r = query.any(axis=1), reference.any(axis=1)
    out = np.zeros((len(query), len(reference)), dtype=bool)
    if not (q.any() and r.any()):
        return out
    D = cdist(query[q], reference[r], metric)
    rows = k_nearest(D, neighbour_count(k, D.shape[1]))
    cols = k_nearest(D.T, neighbour_count(k, D.shape[0])).T
    out[np.ix_(q, r)] = rows & cols
    return out


@pytest.mark.parametrize("k", [1, 4, 0.095, 0.3, 1000])
@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan"])
def test_cross_recurrence_matches_brute_force(rng, k, metric):
    query, reference = rng.random((23, 6)), rng.random((31, 6))
    R = cross_recurrence(query, reference, k=k, metric=metric)
    assert R.shape == (23, 31) and R.format == "csr"
    assert set(np.unique(R.data)) <= {1.0}
    np.testing.assert_array_equal(
        R.toarray().astype(bool), brute_mutual(query, reference, k, metric)
    )


def test_cross_recurrence_breaks_ties_by_index(rng):
    # Each reference frame twice: a query frame's one nearest neighbour is
    # the first copy (ties to the lower index, as CrossSimilarity).
    reference = np.repeat(np.eye(3), 2, axis=0)
    R = cross_recurrence(np.eye(3), reference, k=1).toarray()
    np.testing.assert_array_equal(
        R, np.repeat(np.eye(3), 2, axis=1) * [1, 0, 1, 0, 1, 0]
    )
    # Many ties (distances from few distinct values), against the oracle.
    query = rng.integers(0, 2, size=(30, 4)).astype(float)
    reference = rng.integers(0, 2, size=(40, 4)).astype(float)
    for k in (1, 3, 0.2):
        np.testing.assert_array_equal(
            cross_recurrence(query, reference, k=k).toarray().astype(bool),
            brute_mutual(query, reference, k),
        )


def test_cross_recurrence_errors(rng):
    with pytest.raises(ValueError, match="features"):
        cross_recurrence(rng.random((4, 3)), rng.random((4, 2)))
    with pytest.raises(InvalidParameterError, match="'k'"):
        cross_recurrence(rng.random((4, 3)), rng.random((4, 3)), k=0)
    with pytest.raises(InvalidParameterError, match="'k'"):
        cross_recurrence(rng.random((4, 3)), rng.random((4, 3)), k=1.5)


# -- the pipeline, composed from its parts (the oracle) ------------------------


def composed_distance(
    query,
    reference,
    *,
    transposition="oti",
    n_steps=9,
    delay=1,
    complete_stacks=False,
    similarity="mutual_knn",
    k=0.095,
    metric="euclidean",
    alignment="qmax",
    gap_onset=0.5,
    gap_extend=0.5,
):
    shift = optimal_transposition_index(query, reference) if transposition else 0
    span = (n_steps - 1) * delay if complete_stacks else 0
    embed = TimeDelayEmbedding(n_steps=n_steps, delay=delay).fit_transform
    q = embed(transpose_chroma(query, shift))[span:]
    r = embed(reference)[span:]
    if similarity == "mutual_knn":
        S = cross_recurrence(q, r, k=k, metric=metric)
    else:
        S = oti_binary_similarity(q, r, n_bins=query.shape[1])
    score = (qmax if alignment == "qmax" else dmax)(
        S, gap_onset=gap_onset, gap_extend=gap_extend
    )
    n_ref = np.count_nonzero(r.any(axis=1))  # the sounding stacks
    return math.sqrt(n_ref) / score if score > 0 else math.inf


def chroma_catalogue(rng, n_works=4, versions=3, n_bins=12):
    """Versions of random 'works': transposed, cut and noisy copies."""
    X, y = [], []
    for w in range(n_works):
        base = rng.random((rng.integers(40, 70), n_bins)) ** 3
        for _ in range(versions):
            start = rng.integers(0, 8)
            stop = len(base) - rng.integers(0, 8)
            version = np.roll(base[start:stop], rng.integers(0, n_bins), axis=1)
            X.append(version + 0.15 * rng.random(version.shape))
            y.append(f"work{w}")
    return X, np.array(y)


PIPELINES = [
    {},
    {"transposition": None, "complete_stacks": True},
    {"similarity": "oti_binary"},
    {"alignment": "dmax", "gap_onset": 1.0, "gap_extend": 0.25},
    {"k": 5, "metric": "cosine", "n_steps": 3, "delay": 2},
]


@pytest.mark.parametrize("params", PIPELINES)
def test_index_equals_the_composed_pipeline(rng, params):
    X, y = chroma_catalogue(rng, n_works=3, versions=2)
    queries = [x[::-1].copy() for x in X[:2]] + X[2:4]  # also some non-covers
    index = CoverSongIndex(**params).fit(X, y)
    got = index._dissimilarities(index._check_queries(queries))
    expected = np.array(
        [[composed_distance(q, r, **params) for r in X] for q in queries]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert cover_song_distance(queries[0], X[1], **params) == pytest.approx(
        expected[0, 1], rel=1e-6
    )


def test_small_working_memory_gives_the_same_answer(rng):
    X, y = chroma_catalogue(rng, n_works=3, versions=3)
    index = CoverSongIndex().fit(X, y)
    full = index.kneighbors(X[:3])
    with config_context(working_memory=0.01):  # one recording per pass
        chunked = index.kneighbors(X[:3])
    np.testing.assert_allclose(chunked[0], full[0], rtol=1e-6)
    np.testing.assert_array_equal(chunked[1], full[1])


def test_float32_catalogue_agrees_with_float64(rng):
    X, y = chroma_catalogue(rng, n_works=2, versions=2)
    d64 = CoverSongIndex().fit(X, y).kneighbors()[0]
    d32 = CoverSongIndex().fit([x.astype(np.float32) for x in X], y).kneighbors()[0]
    np.testing.assert_allclose(d32, d64, rtol=1e-5)


def test_parity_with_essentias_pipeline(rng):
    """With essentia's two quirks reproduced, the distance is essentia's."""
    essentia = pytest.importorskip("essentia")
    essentia.log.infoActive = False
    import essentia.standard as es

    X, _ = chroma_catalogue(rng, n_works=2, versions=2)
    for query, reference in [(X[0], X[1]), (X[1], X[0]), (X[0], X[2])]:
        query, reference = query.astype(np.float32), reference.astype(np.float32)
        csm = es.ChromaCrossSimilarity()(query, reference)
        _, theirs = es.CoverSongSimilarity()(csm)
        shift = optimal_transposition_index(query, reference)
        embed = TimeDelayEmbedding(n_steps=9).fit_transform
        # Quirk 1: essentia drops the last complete stack.
        q = embed(transpose_chroma(query, shift))[8:-1]
        r = embed(reference)[8:-1]
        S = cross_recurrence(q, r).toarray()
        # Quirk 2: its Qmax ignores the first two rows and columns.
        S[:2] = 0
        S[:, :2] = 0
        score = qmax(S)
        assert theirs == pytest.approx(math.sqrt(len(r)) / score, rel=1e-5)


# -- the estimator's interface --------------------------------------------------


def brute_average_precision(dist_row, catalogue_works, work, excluded=()):
    order = [i for i in np.argsort(dist_row, kind="stable") if i not in excluded]
    hits, precisions = 0, []
    for rank, i in enumerate(order, start=1):
        if catalogue_works[i] == work:
            hits += 1
            precisions.append(hits / rank)
    return np.mean(precisions) if precisions else np.nan


@pytest.fixture
def fitted(rng):
    X, y = chroma_catalogue(rng)
    return CoverSongIndex().fit(X, y), X, y


def test_kneighbors_ranks_ascending(fitted, rng):
    index, X, y = fitted
    queries = [x + 0.05 * rng.random(x.shape) for x in X[:3]]
    dist, ind = index.kneighbors(queries)
    assert dist.shape == ind.shape == (3, len(X))
    assert np.all(np.diff(dist, axis=1) >= 0)
    full = index._dissimilarities(index._check_queries(queries))
    np.testing.assert_array_equal(dist, np.take_along_axis(full, ind, axis=1))
    np.testing.assert_array_equal(
        np.sort(ind, axis=1), np.tile(np.arange(len(X)), (3, 1))
    )
    d2, i2 = index.kneighbors(queries, n_neighbors=2)
    np.testing.assert_array_equal(i2, ind[:, :2])
    np.testing.assert_array_equal(
        index.kneighbors(queries, 2, return_distance=False), i2
    )


def test_a_query_from_the_catalogue_is_left_out(fitted):
    index, X, y = fitted
    dist, ind = index.kneighbors()  # every recording against the others
    assert ind.shape == (len(X), len(X) - 1)
    assert not np.any(ind == np.arange(len(X))[:, None])
    # The same recordings passed explicitly (as GridSearchCV's training
    # scores do) are recognised by content and left out just the same.
    copies = [x.copy() for x in X]
    dist2, ind2 = index.kneighbors(copies)
    np.testing.assert_array_equal(ind2, ind)
    np.testing.assert_array_equal(dist2, dist)
    with pytest.raises(ValueError, match="n_neighbors"):
        index.kneighbors(copies, n_neighbors=len(X))
    assert index.kneighbors([X[0][1:]]).__getitem__(1).shape == (1, len(X))


def test_predict_and_score(fitted, rng):
    index, X, y = fitted
    queries = [x + 0.05 * rng.random(x.shape) for x in X]
    full = index._dissimilarities(index._check_queries(queries))
    np.testing.assert_array_equal(index.predict(queries), y[np.argmin(full, axis=1)])
    expected = np.mean(
        [brute_average_precision(full[q], y, y[q]) for q in range(len(X))]
    )
    assert index.score(queries, y) == pytest.approx(expected)
    # Training recordings: each is left out of its own ranking.
    loo = index._dissimilarities(index._check_queries(X))
    expected = np.mean(
        [brute_average_precision(loo[q], y, y[q], excluded={q}) for q in range(len(X))]
    )
    assert index.score(X, y) == pytest.approx(expected)
    assert index.score(X, y) > 0.9  # the versions are found


def test_score_without_relevant_versions_warns(fitted):
    index, X, y = fitted
    with pytest.warns(UserWarning, match="no query has a version"):
        assert math.isnan(index.score(X[:1], ["unknown work"]))


def test_predict_needs_work_ids(rng):
    X, _ = chroma_catalogue(rng, n_works=2, versions=1)
    index = CoverSongIndex().fit(X)
    assert index.kneighbors(X[:1], n_neighbors=1)[1].shape == (1, 1)
    with pytest.raises(ValueError, match="without work ids"):
        index.predict(X)


@pytest.mark.parametrize(
    "make_X, match",
    [
        (lambda X: np.zeros((3, 4)), "list of 2-d arrays"),
        (lambda X: [], "empty"),
        (lambda X: [X[0], X[1][:, :5]], "features per frame"),
        (lambda X: [X[0][:8]], "at least 9"),
    ],
)
def test_bad_catalogues(rng, make_X, match):
    X, _ = chroma_catalogue(rng, n_works=1, versions=2)
    with pytest.raises(ValueError, match=match):
        CoverSongIndex(complete_stacks=True).fit(make_X(X))
    CoverSongIndex().fit([X[0][:1]])  # one frame, one (padded) stack


def test_bad_params_and_queries(fitted):
    index, X, y = fitted
    with pytest.raises(ValueError, match="one work id per recording"):
        CoverSongIndex().fit(X, y[:-1])
    with pytest.raises(ValueError, match="features per frame"):
        index.kneighbors([X[0][:, :6]])
    with pytest.raises(InvalidParameterError, match="alignment"):
        CoverSongIndex(alignment="smith").fit(X)
    with pytest.raises(InvalidParameterError, match="'k'"):
        CoverSongIndex(k=0.0).fit(X)


# scikit-learn's parametrize_with_checks feeds 2-d arrays whose rows are
# samples; here a sample is a whole recording (a 2-d array of its own length),
# so those checks cannot fit this estimator.  The conventions that apply are
# checked by hand below: clone, get/set_params, pickling, GridSearchCV.


def test_clone_and_params():
    index = CoverSongIndex(k=7, metric="cosine", alignment="dmax")
    copy = clone(index)
    assert copy.get_params() == index.get_params()
    copy.set_params(k=0.2)
    assert copy.k == 0.2 and index.k == 7
    assert "n_samples_fit_" not in vars(copy)


def test_persistence(fitted, rng):
    index, X, y = fitted
    queries = [x + 0.05 * rng.random(x.shape) for x in X[:4]]
    expected = index.kneighbors(queries)
    for restored in (
        pickle.loads(pickle.dumps(index)),
        joblib_roundtrip(index),
    ):
        got = restored.kneighbors(queries)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
        assert restored.score(X, y) == index.score(X, y)


def test_another_version_warns(fitted, monkeypatch):
    from skxsim import SkxsimVersionWarning, _base

    index, X, y = fitted
    data = pickle.dumps(index)
    monkeypatch.setattr(_base, "__version__", "0.0.0")
    with pytest.warns(SkxsimVersionWarning, match="saved by skxsim"):
        pickle.loads(data)


def joblib_roundtrip(estimator):
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def test_joblib_backend_runs_the_queries(fitted):
    index, X, y = fitted
    expected = index.kneighbors()
    parallel = clone(index).set_params(n_jobs=2).fit(X, y)
    with joblib.parallel_config(backend="threading"):
        got = parallel.kneighbors()
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_allclose(got[0], expected[0])


def test_grid_search(rng):
    X, y = chroma_catalogue(rng, n_works=3, versions=4)
    grid = {"k": [3, 0.095, 0.3], "metric": ["euclidean", "cosine"]}
    cv = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. no NaN scores
        search = GridSearchCV(
            CoverSongIndex(), grid, cv=cv, n_jobs=2, return_train_score=True
        ).fit(X, y)
    assert search.cv_results_["mean_test_score"].shape == (6,)
    assert np.all(search.cv_results_["mean_test_score"] > 0.5)
    # cv=<int> stratifies on the work ids: this is a classifier.
    search = GridSearchCV(CoverSongIndex(), {"k": [0.095]}, cv=2).fit(X, y)
    assert 0 <= search.best_score_ <= 1
    assert search.best_estimator_.predict(X[:2]).shape == (2,)


def test_dask_runs_the_queries(fitted, dask_client):
    from distributed import get_task_stream

    index, X, y = fitted
    expected = index.kneighbors(X[:4])
    with (
        get_task_stream(dask_client) as stream,
        joblib.parallel_config(backend="dask"),
    ):
        got = index.kneighbors(X[:4])
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_allclose(got[0], expected[0])
    assert {task["worker"] for task in stream.data}  # ran on the cluster


def test_blas_distances_agree_with_the_engine(rng):
    # euclidean comes from one BLAS product, other metrics from the engine;
    # the same distance through both gives the same recurrence.
    query, reference = rng.random((40, 24)), rng.random((50, 24))
    a = cross_recurrence(query, reference, metric="euclidean")
    b = cross_recurrence(query, reference, metric="minkowski", metric_params={"p": 2})
    assert (a != b).nnz == 0


def near_duplicates(rng, n_copies, d, dtype=np.float32):
    """Copies of a few frames, one coordinate of each nudged by 1-3 ulps.

    Their distances to a query differ by about 1e-7 relative: below what a
    float32 product resolves, far above float64's rounding of the exact
    distances.
    """
    base = rng.random((4, d)).astype(dtype)
    frames = np.repeat(base, n_copies, axis=0)
    coord = rng.integers(0, d, size=len(frames))
    for _ in range(3):
        up = rng.random(len(frames)) < 0.5
        cells = frames[np.arange(len(frames)), coord]
        frames[np.arange(len(frames)), coord] = np.where(
            up, np.nextafter(cells, dtype(2)), np.nextafter(cells, dtype(-1))
        )
    return frames[rng.permutation(len(frames))]


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cosine"])
@pytest.mark.parametrize("k", [3, 0.1])
def test_near_ties_are_settled_on_exact_distances(rng, metric, k):
    # The product nominates; the pairs within its rounding margin of a
    # line's k-th value are decided on distances from the frames' difference.
    reference = near_duplicates(rng, 40, 12)
    query = np.concatenate([near_duplicates(rng, 10, 12), reference[:20]])
    got = cross_recurrence(query, reference, k=k, metric=metric)
    query, reference = query.astype(np.float64), reference.astype(np.float64)
    if metric == "cosine":
        # 1 - cos cancels catastrophically between near-duplicates (scipy's
        # cosine is then off by 1% relative); the chord between unit vectors
        # orders the pairs as the cosine distance does, and precisely.
        query /= np.linalg.norm(query, axis=1, keepdims=True)
        reference /= np.linalg.norm(reference, axis=1, keepdims=True)
        metric = "sqeuclidean"
    expected = brute_mutual(query, reference, k, metric)
    np.testing.assert_array_equal(got.toarray().astype(bool), expected)


def test_the_products_rounding_does_not_change_the_recurrence(rng, monkeypatch):
    # Any error within the stated margin (another block, thread count or BLAS
    # kernel) leaves the recurrence as it is.
    import skxsim.cover._cross_recurrence as module
    import skxsim.cover._scoring as scoring

    exact = module.pair_keys

    def perturbed(*args, **kwargs):
        keys = exact(*args, **kwargs)
        noise = rng.uniform(-1, 1, size=keys.approx.shape)
        keys.approx = keys.approx + keys.slack * noise
        return keys

    query, reference = rng.random((50, 12)), rng.random((60, 12))
    query[:30] = reference[:30] + 1e-9 * rng.random((30, 12))
    catalogue = [reference, rng.random((45, 12)), reference[::2]]
    index = CoverSongIndex(k=0.2).fit(catalogue, [0, 1, 0])
    before = (
        cross_recurrence(query, reference, k=0.2).toarray(),
        index.kneighbors([query]),
    )
    monkeypatch.setattr(module, "pair_keys", perturbed)
    monkeypatch.setattr(scoring, "pair_keys", perturbed)
    for _ in range(3):
        after = (
            cross_recurrence(query, reference, k=0.2).toarray(),
            index.kneighbors([query]),
        )
        np.testing.assert_array_equal(after[0], before[0])
        np.testing.assert_array_equal(after[1][1], before[1][1])
        np.testing.assert_array_equal(after[1][0], before[1][0])
