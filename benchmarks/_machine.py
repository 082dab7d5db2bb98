"""What ran the benchmark: commit, CPU, BLAS kernel, versions, load."""

from __future__ import annotations

import importlib.util
import os
import platform
import subprocess

import _cases


def load_avg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def busy_cpu_seconds():
    """CPU seconds spent busy by the whole machine (Linux /proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        ticks = [int(x) for x in fields[1:]]
        # user nice system idle iowait irq softirq steal ...
        busy = ticks[0] + ticks[1] + ticks[2] + sum(ticks[5:8])
        return busy / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _git(*args):
    try:
        return subprocess.run(
            ["git", "-C", _cases.REPO_ROOT, *args],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def commit():
    """Short hash of HEAD, ``+dirty`` if skxsim/ has uncommitted changes."""
    head = _git("rev-parse", "--short", "HEAD")
    if not head:
        return None
    dirty = _git("status", "--porcelain", "--", "skxsim")
    return head + ("+dirty" if dirty else "")


def cpu_model():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return model


def info():
    import numpy
    import scipy
    import scipy.linalg  # noqa: F401  (so threadpoolctl sees scipy's BLAS)
    import sklearn
    import sklearn.neighbors  # noqa: F401  (and scikit-learn's OpenMP)
    from threadpoolctl import threadpool_info

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        ram_gb = None
    versions = {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }
    for mod in ("librosa", "faiss"):
        if importlib.util.find_spec(mod) is not None:
            try:  # imported here also so that threadpoolctl sees faiss's pools
                versions[mod] = __import__(mod).__version__
            except Exception as exc:  # broken optional install: report it
                versions[mod] = f"unusable ({type(exc).__name__})"
        else:
            versions[mod] = "not installed"
    try:
        versions["skxsim"] = _cases.import_skxsim().__version__
    except Exception as exc:
        versions["skxsim"] = f"not importable ({type(exc).__name__}: {exc})"
    pools = [
        {
            key: pool.get(key)
            for key in (
                "user_api",
                "internal_api",
                "version",
                "architecture",
                "num_threads",
                "threading_layer",
            )
        }
        | {"library": os.path.basename(pool.get("filepath", ""))}
        for pool in threadpool_info()
    ]
    return {
        "commit": commit(),
        "branch": _git("rev-parse", "--abbrev-ref", "HEAD") or None,
        "load_avg_start": load_avg(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "ram_gb": ram_gb,
        "versions": versions,
        "threadpools": pools,
        "sklearn_working_memory_mb": sklearn.get_config()["working_memory"],
    }


def blas_summary(machine):
    """One line per BLAS/OpenMP pool: internal_api version, architecture, threads."""
    lines = []
    for pool in machine["threadpools"]:
        text = (
            f"{pool['user_api']} {pool['internal_api']} {pool['version'] or ''}".strip()
        )
        if pool.get("architecture"):
            text += f", kernel {pool['architecture']}"
        text += f", {pool['num_threads']} threads ({pool['library']})"
        lines.append(text)
    return lines
