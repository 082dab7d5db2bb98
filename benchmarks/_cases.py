"""The benchmark's case matrix and the methods measured on every case.

A *case* is a shape users have: a query and a reference (datasets from
``_features``), a feature dimension, a dtype and k.  A *method* is one way of
computing the k-NN cross-similarity of that case (or, for ``floor``, the
dense product every exact method has to pay).  Each (case, method) pair runs
in its own subprocess (``_measure``).
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field, replace

import _features

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_k(n_ref: int) -> int:
    """librosa's default number of neighbours, ``2 * ceil(sqrt(n_ref))``."""
    return int(min(n_ref, 2 * math.ceil(math.sqrt(n_ref))))


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    query: dict
    reference: dict
    d: int
    dtype: str  # the dtype librosa (or the generator) gives these frames
    k: int | None = None  # None: librosa's default
    tags: tuple = field(default=())
    # Issue 25's targets where it sets them: faiss / skxsim at least this
    # (estimator, function), skxsim / floor at most this.
    faiss_min: tuple | None = None
    floor_max: float | None = None

    @property
    def n(self) -> int:
        return _frames(self.query)

    @property
    def n_ref(self) -> int:
        return _frames(self.reference)

    @property
    def k_(self) -> int:
        return default_k(self.n_ref) if self.k is None else self.k


def _frames(spec):
    if spec["source"] in ("walk", "vectors"):
        return spec["n"] if spec["part"] == "query" else spec["n_ref"]
    return spec["n_frames"]


# Cases tagged HELD_OUT are data the cost model of ``algorithm="auto"`` was
# not calibrated on (calibrate_auto.py leaves them out): other synthesis
# seeds and other chroma variants.
HELD_OUT = "held-out"


def _song_vs_cover(
    name, feature, seed, n_frames, what, k=None, dtype="float32", tags=()
):
    song = {"source": "song", "seed": seed, "n_frames": n_frames, "feature": feature}
    cover = dict(song, source="cover")
    return Case(
        name=name,
        what=what,
        query=cover,
        reference=song,
        d=_features.FEATURE_DIMS[feature],
        dtype=dtype,
        k=k,
        tags=tags,
    )


def _catalogue(name, feature, seed, n_query, n_catalogue, k, tags=()):
    reference = {
        "source": "catalogue",
        "seed": seed,
        "n_frames": n_catalogue,
        "feature": feature,
    }
    songs = _features.catalogue_songs_of(reference)
    covered_seed = songs[len(songs) // 2][0]
    query = {
        "source": "cover",
        "seed": covered_seed,
        "n_frames": n_query,
        "feature": feature,
    }
    unit = "beats" if feature == "chroma_beats" else "frames"
    return Case(
        name=name,
        what=f"{feature}: cover excerpt vs a {len(songs)}-song catalogue ({unit})",
        query=query,
        reference=reference,
        d=_features.FEATURE_DIMS[feature],
        dtype="float32",
        k=k,
        tags=tags,
    )


def _walk(name, n, d, seed=0, dtype="float64"):
    spec = {"source": "walk", "n": n, "n_ref": n, "d": d, "seed": seed}
    if dtype != "float64":
        spec["dtype"] = dtype
    return Case(
        name=name,
        what="issue 3: random walk vs time-warped noisy copy",
        query=dict(spec, part="query"),
        reference=dict(spec, part="reference"),
        d=d,
        dtype=dtype,
    )


def _vectors(name, n, n_ref, d, clusters, seed, faiss_min, k=10):
    spec = {
        "source": "vectors",
        "n": n,
        "n_ref": n_ref,
        "d": d,
        "clusters": clusters,
        "seed": seed,
    }
    kind = f"a mixture of {clusters} clusters" if clusters else "Gaussian"
    return Case(
        name=name,
        what=f"embeddings as models give them: {kind}, {n} queries",
        query=dict(spec, part="query"),
        reference=dict(spec, part="reference"),
        d=d,
        dtype="float32",
        k=k,
        faiss_min=faiss_min,
    )


def all_cases(scale: float = 1.0, seed: int = 0) -> dict[str, Case]:
    """The matrix; ``scale`` < 1 shrinks every length (``--quick``)."""

    def n(frames):
        return max(200, int(round(frames * scale)))

    cases = [
        _song_vs_cover(
            "chroma-2000", "chroma", 2 + seed, n(2000), "chroma: song vs cover"
        ),
        _song_vs_cover(
            "chroma-8000", "chroma", 1 + seed, n(8000), "chroma: song vs cover"
        ),
        _song_vs_cover(
            "chroma-20000", "chroma", 3 + seed, n(20000), "chroma: song vs cover"
        ),
        _song_vs_cover("mfcc-8000", "mfcc", 1 + seed, n(8000), "MFCC: song vs cover"),
        replace(
            _song_vs_cover(
                "cqt-8000", "cqt", 1 + seed, n(8000), "log-CQT: song vs cover"
            ),
            floor_max=1.3,
        ),
        _catalogue("chroma-catalogue", "chroma", 7 + seed, n(5000), n(100000), k=10),
        _song_vs_cover(
            "embed-10000",
            "embedding",
            4 + seed,
            n(10000),
            "embeddings: song vs cover",
            k=10,
        ),
        _walk("walk-10000", n(10000), 120, seed=seed),
        replace(
            _walk("walk32-10000", n(10000), 120, seed=seed, dtype="float32"),
            floor_max=1.3,
        ),
        # Issue 25: embeddings (k = 10, as a retrieval asks).
        _vectors("gauss512-10000", n(10000), n(10000), 512, 0, 21 + seed, (1.3, 1.0)),
        _vectors("clust512-10000", n(10000), n(10000), 512, 300, 22 + seed, (1.3, 1.0)),
        _vectors("gauss1024-5000", n(5000), n(20000), 1024, 0, 23 + seed, (1.0, 1.0)),
        # Held out from the cost model's calibration.
        _song_vs_cover(
            "chroma2-8000",
            "chroma",
            11 + seed,
            n(8000),
            "chroma: song vs cover, another synthesis seed",
            tags=(HELD_OUT,),
        ),
        _song_vs_cover(
            "cens-8000",
            "chroma_cens",
            12 + seed,
            n(8000),
            "chroma_cens: song vs cover",
            tags=(HELD_OUT,),
        ),
        _catalogue(
            "cens-catalogue",
            "chroma_cens",
            17 + seed,
            n(5000),
            n(100000),
            k=10,
            tags=(HELD_OUT,),
        ),
        _catalogue(
            "beats-catalogue",
            "chroma_beats",
            19 + seed,
            n(2000),
            n(20000),
            k=10,
            tags=(HELD_OUT,),
        ),
    ]
    return {case.name: case for case in cases}


# --------------------------------------------------------------------------
# methods
# --------------------------------------------------------------------------

# Feature dimensions at which KD-trees are measured (chroma, MFCC).
LOW_D = 32

# name: (label in reports, library to import, what is timed)
METHODS = {
    "floor": ("floor X @ R.T", None, "the dense product in the same dtype"),
    "skxsim": (
        "skxsim estimator",
        "skxsim",
        "CrossSimilarity(k=k).fit(R) (fit), .transform(X) (query); defaults",
    ),
    "skxsim-1job": (
        "skxsim estimator n_jobs=1",
        "skxsim",
        "CrossSimilarity(k=k, n_jobs=1).fit(R), .transform(X)",
    ),
    "skxsim-fn": (
        "skxsim.cross_similarity",
        "skxsim",
        "skxsim.cross_similarity(Xf, Rf, k=k); defaults: dense bool (n_ref, n)",
    ),
    "skxsim-blas": (
        "skxsim BLAS engine",
        "skxsim",
        'CrossSimilarity(k=k, algorithm="brute").fit(R), .transform(X): the '
        "BLAS engine",
    ),
    "skxsim-ckd": (
        "skxsim ckd_tree",
        "skxsim",
        'CrossSimilarity(k=k, algorithm="ckd_tree").fit(R), .transform(X); '
        f"d <= {LOW_D}",
    ),
    "sklearn": (
        "scikit-learn NearestNeighbors (auto)",
        "sklearn",
        "NearestNeighbors(n_neighbors=k).fit(R) (fit), .kneighbors_graph(X) (query)",
    ),
    "faiss": (
        "faiss IndexFlatL2",
        "faiss",
        "IndexFlatL2: add(float32 R) (fit), search(float32 X, k) + CSR (query)",
    ),
    "ckdtree": (
        "scipy cKDTree",
        "scipy",
        "cKDTree(R) (fit), .query(X, k, workers=-1) + CSR (query); defaults; "
        f"d <= {LOW_D}",
    ),
    "librosa": (
        "librosa",
        "librosa",
        "librosa.segment.cross_similarity(Xf, Rf, k=k); defaults",
    ),
}
SKXSIM_FACES = ("skxsim", "skxsim-fn")  # the default faces the targets are for
PEERS = ("sklearn", "faiss", "ckdtree")  # exact peers
# skxsim's exact backends, each forced: "auto" is checked against the fastest.
BACKENDS = {"skxsim-blas": "blas", "skxsim-ckd": "ckd_tree"}


def runs_on(method: str, case: Case) -> bool:
    """Whether ``method`` is measured on ``case``: the trees only where
    d <= LOW_D (beyond, a KD-tree prunes too little to be worth its time)."""
    return case.d <= LOW_D or method not in ("ckdtree", "skxsim-ckd")


def import_skxsim():
    """skxsim from this checkout when run from it (else the installed one)."""
    if os.path.isdir(os.path.join(REPO_ROOT, "skxsim")) and REPO_ROOT not in sys.path:
        sys.path.insert(0, REPO_ROOT)
    import skxsim

    return skxsim


def build_runner(method: str, X, R, Xf, Rf, k: int):
    """A callable running the method once -> (fit_s, query_s, output, info).

    ``X``, ``R`` are frames as rows, ``(n, d)`` and ``(n_ref, d)``; ``Xf``,
    ``Rf`` the same data in librosa's orientation ``(d, n)`` (one is a
    transposed view of the other; which is contiguous is the layout).
    ``info`` holds what the method chose (e.g. scikit-learn's algorithm).
    """
    import numpy as np

    clock = time.perf_counter

    if method == "floor":

        def run():
            t0 = clock()
            out = X @ R.T
            return None, clock() - t0, out, {}

    elif method in ("skxsim", "skxsim-1job", "skxsim-blas", "skxsim-ckd"):
        skxsim = import_skxsim()
        params = {
            "skxsim": {},
            "skxsim-1job": {"n_jobs": 1},
            "skxsim-blas": {"algorithm": "brute"},
            "skxsim-ckd": {"algorithm": "ckd_tree"},
        }[method]

        def run():
            t0 = clock()
            est = skxsim.CrossSimilarity(k=k, **params).fit(R)
            t1 = clock()
            out = est.transform(X)
            t2 = clock()
            return t1 - t0, t2 - t1, out, {"algorithm": getattr(est, "_fit_method", "")}

    elif method == "skxsim-fn":
        skxsim = import_skxsim()

        def run():
            t0 = clock()
            out = skxsim.cross_similarity(Xf, Rf, k=k)
            return None, clock() - t0, out, {}

    elif method == "sklearn":
        from sklearn.neighbors import NearestNeighbors

        def run():
            t0 = clock()
            nn = NearestNeighbors(n_neighbors=k).fit(R)
            t1 = clock()
            out = nn.kneighbors_graph(X)
            t2 = clock()
            return t1 - t0, t2 - t1, out, {"algorithm": nn._fit_method}

    elif method == "faiss":
        import faiss
        import scipy.sparse

        def run():
            t0 = clock()
            index = faiss.IndexFlatL2(R.shape[1])
            index.add(np.ascontiguousarray(R, dtype=np.float32))
            t1 = clock()
            _dist, ind = index.search(np.ascontiguousarray(X, dtype=np.float32), k)
            n = X.shape[0]
            out = scipy.sparse.csr_matrix(
                (
                    np.ones(n * k, dtype=np.float32),
                    ind.ravel(),
                    np.arange(0, n * k + 1, k),
                ),
                shape=(n, R.shape[0]),
            )
            t2 = clock()
            return t1 - t0, t2 - t1, out, {}

    elif method == "ckdtree":
        import scipy.sparse
        from scipy.spatial import cKDTree

        def run():
            t0 = clock()
            tree = cKDTree(R)
            t1 = clock()
            _dist, ind = tree.query(X, k=k, workers=-1)
            n = X.shape[0]
            out = scipy.sparse.csr_matrix(
                (
                    np.ones(n * k, dtype=X.dtype),
                    ind.reshape(n * k),
                    np.arange(0, n * k + 1, k),
                ),
                shape=(n, R.shape[0]),
            )
            t2 = clock()
            return t1 - t0, t2 - t1, out, {}

    elif method == "librosa":
        import librosa.segment

        def run():
            t0 = clock()
            out = librosa.segment.cross_similarity(Xf, Rf, k=k)
            return None, clock() - t0, out, {}

    else:  # pragma: no cover
        raise ValueError(method)
    return run


def output_orientation(method: str) -> str:
    """'rows' if query frames are the output's rows, 'columns' (librosa's)."""
    return "columns" if method in ("skxsim-fn", "librosa") else "rows"
