"""The memory guard (issue 16): the least of the system's available memory,
the address-space limit and the cgroup limits, with room for the work
around the output, measured; under ``RLIMIT_AS`` an output that does not fit
is refused before anything is allocated, never a raw MemoryError."""

import json
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

from skxsim import CrossSimilarity, RecurrenceMatrix
from skxsim._output_size import (
    ENTRY_BYTES,
    available_memory,
    output_bytes,
)

GiB = 2**30


# --------------------------------------------------------- where the limits are
def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def fake(tmp_path):
    """A /proc and a /sys/fs/cgroup with 8 GiB available system-wide."""
    proc, sys_cgroup = tmp_path / "proc", tmp_path / "cgroup"
    write(
        proc / "meminfo", f"MemTotal: {16 * 2**20} kB\nMemAvailable: {8 * 2**20} kB\n"
    )
    sys_cgroup.mkdir()
    return proc, sys_cgroup


def test_system_memory_alone(fake):
    proc, sys_cgroup = fake
    write(proc / "self" / "cgroup", "0::/\n")
    assert available_memory(proc, sys_cgroup) == 8 * GiB


def test_cgroup_v2_limit_and_its_ancestors(fake):
    proc, sys_cgroup = fake
    write(proc / "self" / "cgroup", "0::/box/job\n")
    job = sys_cgroup / "box" / "job"
    write(job / "memory.max", "max\n")  # no limit of its own
    write(job / "memory.current", "123\n")
    # The parent's: 3 GiB, 2.5 GiB used of which 0.5 GiB reclaimable cache.
    write(sys_cgroup / "box" / "memory.max", f"{3 * GiB}\n")
    write(sys_cgroup / "box" / "memory.current", f"{5 * GiB // 2}\n")
    write(sys_cgroup / "box" / "memory.stat", f"anon 1\ninactive_file {GiB // 2}\n")
    assert available_memory(proc, sys_cgroup) == GiB


def test_cgroup_v1_limit(fake):
    proc, sys_cgroup = fake
    write(proc / "self" / "cgroup", "5:cpu:/x\n4:memory:/x\n0::/\n")
    group = sys_cgroup / "memory" / "x"
    write(group / "memory.limit_in_bytes", f"{2 * GiB}\n")
    write(group / "memory.usage_in_bytes", f"{GiB + GiB // 2}\n")
    write(group / "memory.stat", "cache 9\ntotal_inactive_file 0\n")
    write(sys_cgroup / "memory" / "memory.limit_in_bytes", "9223372036854771712\n")
    write(sys_cgroup / "memory" / "memory.usage_in_bytes", f"{GiB}\n")
    assert available_memory(proc, sys_cgroup) == GiB // 2


def test_cgroup_path_of_the_host_inside_a_container(fake):
    # The container sees its own cgroup at the mount's root.
    proc, sys_cgroup = fake
    write(proc / "self" / "cgroup", "4:memory:/docker/abc\n")
    write(sys_cgroup / "memory" / "memory.limit_in_bytes", f"{GiB}\n")
    write(sys_cgroup / "memory" / "memory.usage_in_bytes", f"{GiB // 4}\n")
    assert available_memory(proc, sys_cgroup) == 3 * GiB // 4


def test_unlimited_or_unreadable_cgroups_change_nothing(fake):
    proc, sys_cgroup = fake
    write(proc / "self" / "cgroup", "4:memory:/x\n0::/y\n")
    write(
        sys_cgroup / "memory" / "x" / "memory.limit_in_bytes", "9223372036854771712\n"
    )
    write(sys_cgroup / "memory" / "x" / "memory.usage_in_bytes", "5\n")
    write(sys_cgroup / "y" / "memory.max", "max\n")
    assert available_memory(proc, sys_cgroup) == 8 * GiB


# -------------------------------------------------- under an address-space limit
def run_limited(code: str, headroom: int) -> dict:
    """Run ``code`` in a fresh interpreter whose address space may grow by
    ``headroom`` bytes; it fills ``result`` (a dict), returned from json."""
    script = (
        textwrap.dedent(
            f"""
        import json, os, resource
        import numpy as np
        import skxsim
        from skxsim import CrossSimilarity, RecurrenceMatrix, TimeDelayEmbedding
        from skxsim._output_size import available_memory

        size = int(open("/proc/self/statm").read().split()[0])
        size *= os.sysconf("SC_PAGE_SIZE")
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        resource.setrlimit(resource.RLIMIT_AS, (size + {headroom}, hard))
        result = {{}}

        def attempt(name, run):
            try:
                run()
                result[name] = "ok"
            except MemoryError as exc:  # OutputTooLargeError is one too
                result[name] = type(exc).__name__ + ": " + str(exc)
        """
        )
        + textwrap.dedent(code)
        + "\nprint(json.dumps(result))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.splitlines()[-1])


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and /proc")
def test_outputs_beyond_the_address_space_limit_are_refused_before_allocating():
    result = run_limited(
        """
        result["available"] = available_memory()
        rng = np.random.default_rng(0)
        R = rng.standard_normal((20000, 8))
        X = rng.standard_normal((20000, 8))
        # About 1 GiB of neighbours, their distances and affinities.
        big = CrossSimilarity(k=2000, mode="affinity", bandwidth=1.0)
        attempt("transform", lambda: big.fit(R).transform(X))
        # The reference's own neighbours for a learned bandwidth, in fit.
        attempt("fit", lambda: CrossSimilarity(k=3000, mode="affinity").fit(R))
        attempt("recurrence", lambda: RecurrenceMatrix(k=2000, sym=True).fit_transform(X))
        # 4.8 GB of stacked frames.
        attempt(
            "embedding",
            lambda: TimeDelayEmbedding(n_steps=10**6).fit_transform(X[:50, :12]),
        )
        # What fits goes through.
        small = CrossSimilarity(k=50, mode="affinity")
        attempt("fits", lambda: small.fit(R).transform(X))
        """,
        headroom=600 * 2**20,
    )
    assert 400 * 2**20 < result.pop("available") <= 600 * 2**20
    assert result.pop("fits") == "ok"
    for name, outcome in result.items():
        assert outcome.startswith("OutputTooLargeError: "), (name, outcome)
        assert "GiB of memory this process may still use" in outcome


# ------------------------------------------------------- the estimates, measured
def _traced_peak(run):
    run()  # imports, caches
    tracemalloc.start()
    try:
        out = run()
        return tracemalloc.get_traced_memory()[1], out
    finally:
        tracemalloc.stop()


KINDS = [
    ("connectivity", dict(mode="connectivity")),
    ("distance", dict(mode="distance")),
    ("affinity", dict(mode="affinity", bandwidth=1.0)),
    ("pair", dict(mode="affinity", bandwidth="mean_k_avg_and_pair")),
    ("sym", dict(mode="distance", sym=True)),
    ("statistics", None),
]


@pytest.mark.parametrize("kind, params", KINDS)
def test_working_memory_per_entry_covers_what_is_measured(kind, params):
    # Peak traced memory beyond the output, per k-NN entry, measured between
    # two k: the slope must stay within ENTRY_BYTES (the fixed part, blocks
    # and threads, cancels).
    rng = np.random.default_rng(0)
    R, X = rng.standard_normal((2000, 8)), rng.standard_normal((2000, 8))
    beyond = []
    for k in (40, 240):
        if kind == "statistics":
            est = CrossSimilarity(n_jobs=1, mode="affinity", k=k)
            peak, _ = _traced_peak(lambda est=est: est.fit(R))
            beyond.append(peak)
            continue
        if kind == "sym":
            est = RecurrenceMatrix(n_jobs=1, k=k, **params).fit(X)
        else:
            est = CrossSimilarity(n_jobs=1, k=k, **params).fit(R)
        peak, _ = _traced_peak(lambda est=est: est.transform(X))
        beyond.append(peak - output_bytes(2000, 2000, k, True, np.float64))
    slope = (beyond[1] - beyond[0]) / (2000 * (240 - 40))
    assert slope <= ENTRY_BYTES[kind], (kind, slope)
