"""``ecgcrnn measure``'s intervals against LUDB's cardiologists.

Every LUDB record in the Challenge's format (``ludb_challenge/L0001`` .. ``L0200``, the same signals as
``ludb/1`` .. ``ludb/200``) goes through measure's own code (:func:`ecgcrnn.app.measure.measure_records`,
every core); its ``PR_ms``, ``QRS_ms`` and ``QT_ms`` are compared with the same intervals from the
cardiologists' marks: per beat, LUDB's global boundaries (the earliest onset and latest offset marked in any
of the 12 leads, :func:`devtools.ludb.global_reference`, as the CSE study measured intervals), over the beats
of the evaluation span (all marked beats but the first and last, :func:`devtools.ludb.evaluation_span`), the
median over those beats. Prints the machine line, then, per interval, the records compared, those the
marks give but measure does not (missed) and the reverse (extra), the median absolute error, the mean error
and the 95th percentile of the absolute error, in ms. Its throughput is bench/speed/measure.py's.

Usage: ``.venv/bin/python bench/quality/measure.py [--shared DIR]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's root, for devtools

import numpy as np
from tqdm import tqdm

from devtools.environment import data_root, print_machine_line
from devtools.intervals import INTERVALS, error_table
from devtools.ludb import LEADS, evaluation_span, global_reference, read_reference
from ecgcrnn.app.measure import default_jobs, measure_records

BEAT_GAP_S = 0.1
"""Largest gap between LUDB's QRS peak marks of one beat over the leads (as bench/quality/delineation.py)."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=data_root(), help="the folder of the data sets")
    args = parser.parse_args()
    print_machine_line()
    print("\nmeasure's PR, QRS and QT against LUDB's cardiologists (global boundaries over the 12 leads)")
    print(error_table(ludb_intervals(args.shared, default_jobs())))


if __name__ == "__main__":
    main()
