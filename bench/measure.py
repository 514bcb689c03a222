"""``ecgcrnn measure`` against LUDB's cardiologists, and its throughput.

1. Intervals: every LUDB record in the Challenge's format (``ludb_challenge/L0001`` .. ``L0200``, the same
   signals as ``ludb/1`` .. ``ludb/200``) goes through measure's own code
   (:func:`ecgcrnn.app.measure.measure_records`, every core); its ``PR_ms``, ``QRS_ms`` and ``QT_ms`` are
   compared with the same intervals from the cardiologists' marks: per beat, LUDB's global boundaries (the
   earliest onset and latest offset marked in any of the 12 leads, :func:`ludb.global_reference`, as the
   CSE study measured intervals), over the beats of the evaluation span (all marked beats but the first and
   last, :func:`ludb.evaluation_span`), the median over those beats. Prints, per interval, the records
   compared, those the marks give but measure does not (missed) and the reverse (extra), the median
   absolute error, the mean error and the 95th percentile of the absolute error, in ms.
2. Throughput: ``ecgcrnn measure`` run as a user runs it (a fresh process, worker start-up included) on the
   371 labelled records (``challenge`` and ``ludb_challenge`` under one folder of links), with each
   ``--jobs`` given; prints records per second with the machine's core count and load.

Usage: ``.venv/bin/python bench/measure.py [--shared DIR] [--jobs N [N ...]] [--skip-ludb]
[--skip-throughput]``
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from ludb import LEADS, evaluation_span, global_reference, read_reference
from tqdm import tqdm

from ecgcrnn.app.measure import default_jobs, measure_records

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
INTERVALS = {"PR": ("P_on", "QRS_on"), "QRS": ("QRS_on", "QRS_off"), "QT": ("QRS_on", "T_off")}
"""Interval name: (start fiducial, end fiducial), measured as ``<name>_ms``."""
BEAT_GAP_S = 0.1
"""Largest gap between LUDB's QRS peak marks of one beat over the leads (as bench/delineation.py)."""
LUDB_RECORDS = range(1, 201)


def ludb_intervals(shared: Path, jobs: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Measured and reference intervals (ms) of every LUDB record, NaN where not given.

    Returns
    -------
    dict of str to (numpy.ndarray, numpy.ndarray)
        Per key of :data:`INTERVALS`: measure's values and the cardiologists', shape (200,).
    """
    folder = shared / "ludb_challenge"
    header_files = [folder / f"L{number:04d}.hea" for number in LUDB_RECORDS]
    rows = list(tqdm(measure_records(header_files, folder, jobs=jobs), total=len(header_files), disable=None))
    failed = [row["record"] for row in rows if row["error"]]
    if failed:
        raise ValueError(f"measure could not read {', '.join(failed)}")
    measured = {name: np.array([row[f"{name}_ms"] for row in rows]) for name in INTERVALS}
    reference = {name: np.full(len(rows), np.nan) for name in INTERVALS}
    for index, number in enumerate(LUDB_RECORDS):
        for name, value in reference_intervals(shared / "ludb" / str(number)).items():
            reference[name][index] = value
    return {name: (measured[name], reference[name]) for name in INTERVALS}


def reference_intervals(record_path: Path, fs_hz: float = 500.0) -> dict[str, float]:
    """The cardiologists' PR, QRS and QT of one LUDB record (ms): medians over the beats of the evaluation
    span of the global boundaries; NaN where no such beat has both marks."""
    marks = global_reference([read_reference(record_path, lead) for lead in LEADS], BEAT_GAP_S * fs_hz)
    start, stop = evaluation_span(marks)
    inside = (marks["R"] >= start) & (marks["R"] < stop)
    out = {}
    for name, (first, last) in INTERVALS.items():
        span = (marks[last] - marks[first])[inside] * 1000.0 / fs_hz
        span = span[np.isfinite(span)]
        out[name] = float(np.median(span)) if span.size else np.nan
    return out


def interval_table(results: dict[str, tuple[np.ndarray, np.ndarray]]) -> str:
    """One row per interval: records compared, missed, extra, median |error|, mean error, p95 |error|."""
    header = f"{'interval':<9} {'n':>5} {'missed':>6} {'extra':>6}"
    header += f" {'med|e| ms':>9} {'mean e ms':>9} {'p95|e| ms':>9}"
    lines = [header, "-" * len(header)]
    for name, (measured, reference) in results.items():
        given, marked = np.isfinite(measured), np.isfinite(reference)
        error = measured[given & marked] - reference[given & marked]
        missed, extra = int((marked & ~given).sum()), int((given & ~marked).sum())
        if error.size == 0:
            lines.append(f"{name:<9} {0:>5d} {missed:>6d} {extra:>6d}")
            continue
        lines.append(
            f"{name:<9} {error.size:>5d} {missed:>6d} {extra:>6d} {np.median(np.abs(error)):>9.1f} "
            f"{error.mean():>+9.1f} {np.percentile(np.abs(error), 95):>9.1f}"
        )
    return "\n".join(lines)


def throughput(shared: Path, jobs: list[int]) -> str:
    """Time ``ecgcrnn measure`` on the labelled records with each number of processes; a table."""
    command = _command()
    lines = [f"{'jobs':>4} {'records':>7} {'wall s':>7} {'records/s':>9}", "-" * 30]
    with tempfile.TemporaryDirectory() as work:
        data = Path(work) / "data"
        data.mkdir()
        for source in ("challenge", "ludb_challenge"):
            (data / source).symlink_to((shared / source).resolve(), target_is_directory=True)
        for count in jobs:
            arguments = [
                *command,
                "measure",
                str(data),
                str(Path(work) / "out.csv"),
                "-q",
                "--jobs",
                str(count),
            ]
            print(f"$ {' '.join(arguments)}", flush=True)
            start = time.perf_counter()
            subprocess.run(arguments, check=True)
            seconds = time.perf_counter() - start
            with open(Path(work) / "out.csv", newline="", encoding="utf-8") as stream:
                records = sum(1 for _ in csv.DictReader(stream))
            lines.append(f"{count:>4d} {records:>7d} {seconds:>7.1f} {records / seconds:>9.1f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED, help="the folder of the data sets")
    parser.add_argument("--jobs", type=int, nargs="+", default=[default_jobs()], help="processes to time")
    parser.add_argument("--skip-ludb", action="store_true", help="no interval comparison")
    parser.add_argument("--skip-throughput", action="store_true", help="no timing")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()} ({default_jobs()} usable); load average {_load()}")
    if not args.skip_ludb:
        print("\nmeasure's PR, QRS and QT against LUDB's cardiologists (global boundaries over the 12 leads)")
        print(interval_table(ludb_intervals(args.shared, default_jobs())))
    if not args.skip_throughput:
        print("\necgcrnn measure on the labelled records (Challenge and LUDB), a fresh process each run")
        print(throughput(args.shared, args.jobs))
        print(f"cores: {os.cpu_count()} ({default_jobs()} usable); load average {_load()}")


def _command() -> list[str]:
    """``ecgcrnn`` as installed beside this interpreter, else ``python -m ecgcrnn``."""
    script = shutil.which("ecgcrnn", path=os.path.dirname(os.path.abspath(sys.executable)))
    return [script] if script else [sys.executable, "-m", "ecgcrnn"]


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"


if __name__ == "__main__":
    main()
