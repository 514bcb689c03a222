"""Accuracy of the PR, QRS and QT intervals on synthetic records, whose true global fiducials are known.

The simulator (:func:`ecgcrnn.synthetic.generator.generate_record`) projects one heart dipole onto the 12
leads, so its fiducials are the same instants in every lead: the true global fiducials. Every record is
delineated by :func:`ecgcrnn.delineation.delineate.delineate_record` on its 12 leads in mV; its intervals are
:func:`ecgcrnn.features.measurements.measure`'s ``PR_ms``, ``QRS_ms`` and ``QT_ms`` (medians over the
dominant beats of the global fiducials; the signal it reads amplitudes from is the same record filtered as
the pipeline filters it). The truth is the median over the record's conducted (``N``) beats of the same
intervals between the true fiducials. Prints :func:`devtools.intervals.error_table`, with the target
(median absolute error within 8 ms), then the machine line.

Usage: ``.venv/bin/python bench/quality/intervals.py [--records 200] [--seed 0] [--clean]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's root, for devtools

import numpy as np
from tqdm import tqdm

from devtools.environment import print_machine_line
from devtools.intervals import INTERVALS, error_table
from ecgcrnn.delineation.delineate import delineate_record
from ecgcrnn.domain import STANDARD_LEADS
from ecgcrnn.features.measurements import measure
from ecgcrnn.signal.preprocessing import filter_signal
from ecgcrnn.synthetic.generator import generate_record

TARGET_MEDIAN_ABS_MS = 8.0
"""Largest accepted median absolute error of every interval, ms."""


def evaluate(records: int, seed: int, clean: bool = False) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Measured and true intervals (ms) of records ``0 .. records - 1`` of ``seed``.

    Returns
    -------
    dict of str to (numpy.ndarray, numpy.ndarray)
        Per key of :data:`INTERVALS`: measured and true values, shape (records,), NaN where not measured
        or where the record has no such interval (no P waves in atrial fibrillation, say).
    """
    measured = {name: np.full(records, np.nan) for name in INTERVALS}
    truth = {name: np.full(records, np.nan) for name in INTERVALS}
    for index in tqdm(range(records), desc="records", leave=False):
        record = generate_record(seed, index, clean=clean)
        signal = np.asarray(record.signal_mv, dtype=np.float64)
        delineation = delineate_record(signal, record.fs_hz)
        values = measure(filter_signal(signal), record.fs_hz, STANDARD_LEADS, delineation)
        conducted = record.beat_types == "N"
        beats = conducted if conducted.any() else np.ones(record.beat_types.size, bool)
        for name, (start, end) in INTERVALS.items():
            measured[name][index] = values[f"{name}_ms"]
            span = (record.fiducials[end] - record.fiducials[start])[beats] * 1000.0 / record.fs_hz
            span = span[np.isfinite(span)]
            truth[name][index] = np.median(span) if span.size else np.nan
    return {name: (measured[name], truth[name]) for name in INTERVALS}


def main() -> None:
    """Parse arguments, evaluate, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200, help="synthetic records (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--clean", action="store_true", help="records without noise")
    args = parser.parse_args()
    results = evaluate(args.records, args.seed, args.clean)
    noise = "clean" if args.clean else "with noise"
    print(f"synthetic records 0..{args.records - 1}, seed {args.seed}, {noise}: measured minus true interval")
    print(error_table(results, TARGET_MEDIAN_ABS_MS))
    print()
    print_machine_line()


if __name__ == "__main__":
    main()
