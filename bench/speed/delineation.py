"""Speed of the wavelet delineator on one core: 12-lead, 10 s, 500 Hz records.

Sets the BLAS / OpenMP thread counts to 1 before numpy is imported and pins the process to one CPU, then
times :func:`ecgcrnn.delineation.delineate.delineate_leads` on the first ``--records`` LUDB records (all 200
by default; synthetic 12-lead records when LUDB is absent), several passes, and prints the median, 90th
percentile and maximum time per record, next to the time of delineating the 12 leads one by one with
:func:`ecgcrnn.delineation.delineate.delineate`; then the machine line.

Usage: ``.venv/bin/python bench/speed/delineation.py [--ludb DIR] [--records 200] [--passes 3]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's root, for devtools

from devtools.environment import data_root, limit_threads, pin_to_one_core, print_machine_line

limit_threads(1)  # before numpy is first imported, here or by the modules below (hence their E402)

import numpy as np  # noqa: E402

from devtools.ludb import read_record  # noqa: E402
from ecgcrnn.delineation.delineate import delineate, delineate_leads  # noqa: E402

BUDGET_MS = 15.0


def load_records(ludb: Path, n_records: int) -> list[tuple[np.ndarray, float]]:
    """LUDB records (12, 5000) at 500 Hz, or synthetic ones of the same shape when LUDB is absent."""
    if ludb.is_dir():
        return [read_record(ludb / str(number)) for number in range(1, n_records + 1)]
    rng = np.random.default_rng(0)
    t = np.arange(5000) / 500.0
    records = []
    for _ in range(n_records):
        beats = np.arange(rng.uniform(0.2, 0.8), 10.0, rng.uniform(0.5, 1.2))
        lead = sum(
            np.exp(-0.5 * ((t - b) / 0.01) ** 2) + 0.3 * np.exp(-0.5 * ((t - b - 0.3) / 0.04) ** 2)
            for b in beats
        )
        gains = rng.uniform(-1.5, 1.5, (12, 1))
        records.append((gains * lead + 0.02 * rng.standard_normal((12, t.size)), 500.0))
    return records


def time_per_record(records, function, passes: int) -> np.ndarray:
    """Best-of-passes wall time of ``function(signals, fs)`` per record, in ms (n_records,)."""
    best = np.full(len(records), np.inf)
    for _ in range(passes):
        for index, (signals, fs) in enumerate(records):
            start = time.perf_counter()
            function(signals, fs)
            best[index] = min(best[index], (time.perf_counter() - start) * 1000.0)
    return best


def _lead_by_lead(signals: np.ndarray, fs: float) -> None:
    """Delineate the leads of a record one at a time with the single-lead form."""
    for lead in signals:
        delineate(lead, fs)


def main() -> None:
    """Pin to one core, time both forms, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ludb", type=Path, default=data_root() / "ludb", help="LUDB folder")
    parser.add_argument("--records", type=int, default=200, help="number of records")
    parser.add_argument("--passes", type=int, default=3, help="timing passes (best per record is kept)")
    args = parser.parse_args()
    pin_to_one_core()
    records = load_records(args.ludb, args.records)
    source = "LUDB" if args.ludb.is_dir() else "synthetic"
    delineate_leads(*records[0])
    rows = [
        ("delineate_leads (12 leads at once)", time_per_record(records, delineate_leads, args.passes)),
        ("delineate, lead by lead (12 calls)", time_per_record(records, _lead_by_lead, args.passes)),
    ]
    shape = records[0][0].shape
    print(
        f"{len(records)} {source} records of {shape[0]} leads x {shape[1]} samples at {records[0][1]:g} Hz, "
        f"1 thread, best of {args.passes} passes per record; budget {BUDGET_MS:g} ms per record"
    )
    header = f"{'form':<36} {'median ms':>10} {'p90 ms':>8} {'max ms':>8} {'within budget':>14}"
    print(header)
    print("-" * len(header))
    for name, ms in rows:
        within = 100.0 * np.mean(ms <= BUDGET_MS)
        spread = f"{np.median(ms):>10.2f} {np.percentile(ms, 90):>8.2f} {ms.max():>8.2f}"
        print(f"{name:<36} {spread} {within:>13.1f}%")
    print_machine_line()


if __name__ == "__main__":
    main()
