"""What every bench script sets up: where the data are, how many threads it computes on, and which machine
it ran on.

The data live in ../shared beside the checkout (``shared/data/challenge``, ``ludb``, ``ludb_challenge``);
``ECGCRNN_SHARED`` names another folder, for the benches as for the tests (tests/helpers.py reads
:func:`shared_root`). Every bench prints :func:`machine_line` with its tables: on a shared machine the load
says as much about a timing as the core count does.

This module imports nothing but the standard library, so that a script can call :func:`limit_threads`
before numpy is first imported: BLAS and OpenMP read their thread counts once, when numpy loads them.
"""

from __future__ import annotations

import os
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
"""The repository's root: the Challenge's scripts, ``bench/``, ``figures/``."""

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
"""The variables from which OpenMP, OpenBLAS, MKL and numexpr take their thread counts."""


def shared_root() -> Path:
    """The folder of the read-only material: ``ECGCRNN_SHARED`` where it is set and not empty, else
    ``../shared`` beside the checkout."""
    return Path(os.environ.get("ECGCRNN_SHARED") or REPOSITORY.parent / "shared")


def data_root() -> Path:
    """The folder of the data sets, ``data`` under :func:`shared_root`: ``challenge`` (real Challenge
    records), ``ludb`` (LUDB in WFDB format with its annotation files), ``ludb_challenge`` (LUDB in the
    Challenge's format)."""
    return shared_root() / "data"


def one_folder(folders: list[Path], scratch: Path, cache: Path | None = None) -> Path:
    """The folder itself, or for several a folder of links to them (the record finder follows them): the
    ``records`` folder of ``cache`` where one is given (the same paths every run, so the cache's key holds),
    else ``scratch``."""
    if len(folders) == 1:
        return folders[0]
    links = cache.resolve() / "records" if cache else scratch
    links.mkdir(parents=True, exist_ok=True)
    for entry in links.iterdir():
        if entry.is_symlink():
            entry.unlink()
    for index, folder in enumerate(folders):
        (links / f"{index}_{folder.resolve().name}").symlink_to(folder.resolve(), target_is_directory=True)
    return links


def limit_threads(threads: int = 1, tensorflow: bool = False) -> dict[str, str]:
    """Compute on ``threads`` threads.

    Sets :data:`THREAD_VARIABLES`, which count only when set before numpy is first imported (here or by any
    module the script imports); with ``tensorflow``, also TensorFlow's intra- and inter-op pools, which
    count only when set before TensorFlow initialises (before the first model is built). Child processes
    inherit the variables: give them the returned environment to run as a user runs them.

    Returns
    -------
    dict of str to str
        The environment as it was before this call.
    """
    before = dict(os.environ)
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    if tensorflow:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    return before


def quiet_tensorflow() -> None:
    """TensorFlow's C++ log down to warnings and errors, unless the caller's environment says otherwise;
    it counts when set before TensorFlow loads, and child processes inherit it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pin_to_one_core() -> None:
    """Run this process on its first usable CPU only (where the system lets a process choose)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def machine_line() -> str:
    """``2 CPU cores (2 usable), AMD EPYC 7B13, load average 0.4 0.6 0.7``: the core count, those this
    process may use, the processor's model and the load average over 1, 5 and 15 minutes."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return f"{os.cpu_count()} CPU cores ({usable} usable), {_processor()}, load average {load}"


def print_machine_line() -> None:
    """Print :func:`machine_line`."""
    print(machine_line(), flush=True)


def _processor() -> str:
    """The processor's model name, from /proc/cpuinfo where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()
