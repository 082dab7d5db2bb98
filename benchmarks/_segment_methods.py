"""The segmenters compared by ``bench_segmentation.py``, on the same frames.

Each takes the benchmark frames (``_segment_data.blocks``: log-CQT, MFCC,
chroma, frames as rows) and returns one label per frame.
"""

from __future__ import annotations

import numpy as np
import scipy
import scipy.linalg
import scipy.ndimage
import scipy.sparse.csgraph
import sklearn.cluster
from sklearn.preprocessing import StandardScaler

from skxsim import LaplacianSegmentation


def skxsim_features(item: dict) -> np.ndarray:
    """Standardised log-CQT and MFCC side by side, the estimator's one ``X``."""
    cqt = StandardScaler().fit_transform(item["cqt"])
    mfcc = StandardScaler().fit_transform(item["mfcc"])
    return np.hstack([cqt, mfcc])


def skxsim(item: dict, **params) -> np.ndarray:
    params.setdefault("random_state", 0)
    return LaplacianSegmentation(**params).fit_predict(skxsim_features(item))


def librosa_recipe(item: dict, k: int = 5) -> np.ndarray:
    """librosa's gallery "Laplacian segmentation", step by step (k = 5 there):
    CQT recurrence, MFCC path, dense eigh."""
    import librosa

    Csync, Msync = item["cqt"].T, item["mfcc"].T
    R = librosa.segment.recurrence_matrix(Csync, width=3, mode="affinity", sym=True)
    df = librosa.segment.timelag_filter(scipy.ndimage.median_filter)
    Rf = df(R, size=(1, 7))
    path_distance = np.sum(np.diff(Msync, axis=1) ** 2, axis=0)
    sigma = np.median(path_distance)
    path_sim = np.exp(-path_distance / sigma)
    R_path = np.diag(path_sim, k=1) + np.diag(path_sim, k=-1)
    deg_path = np.sum(R_path, axis=1)
    deg_rec = np.sum(Rf, axis=1)
    mu = deg_path.dot(deg_path + deg_rec) / np.sum((deg_path + deg_rec) ** 2)
    A = mu * Rf + (1 - mu) * R_path
    L = scipy.sparse.csgraph.laplacian(A, normed=True)
    _, evecs = scipy.linalg.eigh(L)
    evecs = scipy.ndimage.median_filter(evecs, size=(9, 1))
    Cnorm = np.cumsum(evecs**2, axis=1) ** 0.5
    X = evecs[:, :k] / Cnorm[:, k - 1 : k]
    return sklearn.cluster.KMeans(
        n_clusters=k, n_init="auto", random_state=0
    ).fit_predict(X)


def _msaf():
    """MSAF 0.1.80 imports names that numpy 2 / scipy 1.17 removed."""
    import scipy.signal
    import scipy.signal.windows

    for name in ("inf", "nan"):
        if not hasattr(scipy, name):
            setattr(scipy, name, getattr(np, name))
    if not hasattr(scipy.signal, "gaussian"):
        scipy.signal.gaussian = scipy.signal.windows.gaussian
    import msaf.algorithms.foote.segmenter as foote
    import msaf.algorithms.scluster.main2 as scluster

    return scluster, foote


def _frame_labels(bounds, seg_labels, n):
    labels = np.empty(n, dtype=np.int64)
    bounds = list(bounds[:-1]) + [n]
    for start, stop, label in zip(bounds[:-1], bounds[1:], seg_labels, strict=True):
        labels[start:stop] = label
    return labels


def msaf_scluster(item: dict) -> np.ndarray:
    """MSAF's ``scluster`` (flat, its config: k = 4, PCP + MFCC)."""
    scluster, _ = _msaf()
    from msaf.algorithms.scluster.config import config

    config = {**config, "hier": False}
    np.random.seed(0)  # noqa: NPY002 (MSAF's KMeans has no random_state: the global seed)
    bounds, labels, _ = scluster.do_segmentation(
        item["chroma"].T, item["mfcc"].T, config
    )
    return _frame_labels(bounds, labels, len(item["chroma"]))


def msaf_foote(item: dict) -> np.ndarray:
    """MSAF's ``foote`` novelty boundaries (its config, PCP); no labels, so
    every segment gets its own (pairwise F is not a measure of it)."""
    _, foote = _msaf()
    from msaf.algorithms.foote.config import config
    from msaf.utils import normalize

    F = normalize(item["chroma"].copy(), norm_type=config["bound_norm_feats"])
    m = config["M_gaussian"] + config["M_gaussian"] % 2
    F = foote.median_filter(F, M=config["m_median"])
    nc = foote.compute_nc(foote.compute_ssm(F), foote.compute_gaussian_krnl(m))
    peaks = foote.pick_peaks(nc, L=config["L_peaks"])
    bounds = [0, *peaks, len(F)]
    return _frame_labels(bounds, range(len(bounds) - 1), len(F))


METHODS = {
    "skxsim": skxsim,
    "librosa recipe": librosa_recipe,
    "msaf scluster": msaf_scluster,
    "msaf foote": msaf_foote,
}
