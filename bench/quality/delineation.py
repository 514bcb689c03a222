"""Accuracy of the wavelet delineator against the cardiologists' marks of LUDB.

Every record, every lead, every marked wave in the lead's evaluation span (all beats but the first and
last marked ones, see :func:`devtools.ludb.evaluation_span`); a detection matches a reference mark of the
same kind when it is the nearest one and lies within the tolerance (one-to-one). Prints, per fiducial,
the number of reference marks, sensitivity, positive predictive value and the error mean ± SD in ms.

Two tables: the 12-lead form (:func:`ecgcrnn.delineation.delineate.delineate_leads`, which fuses the leads'
beats and keeps each lead's boundaries near the median over leads) and the single-lead form
(:func:`ecgcrnn.delineation.delineate.delineate`, each lead alone).

A third table compares the global fiducials of
:func:`ecgcrnn.delineation.delineate.delineate_record` (one set of boundaries per beat across the 12 leads,
as the CSE study measured intervals) with LUDB's own global boundaries: per beat, the earliest onset and
latest offset the cardiologists marked in any lead (:func:`devtools.ludb.global_reference`), in the span of
the beats but the first and last. The targets: sensitivity of at least 99.5 % for the QRS boundaries and
98 % for the P boundaries and T offset, and the error SD within the CSE tolerances. ``--global-only``
prints this table alone.

With ``--spread``, also prints how far LUDB's own marks of one beat spread over the 12 leads (each lead's
mark minus the beat's median mark, :func:`devtools.ludb.interlead_deviations`): the error SD that a
delineator placing every lead's boundary at the cardiologists' own consensus would get. The machine line
comes last.

Usage: ``.venv/bin/python bench/quality/delineation.py [--ludb DIR] [--first N] [--last N]
[--tolerance-ms 150] [--skip-single-lead] [--spread] [--global-only]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's root, for devtools

import numpy as np

from devtools.environment import data_root, print_machine_line
from devtools.ludb import (
    LEADS,
    MatchResult,
    compare_lead,
    global_reference,
    interlead_deviations,
    read_record,
    read_reference,
)
from ecgcrnn.delineation.delineate import FIDUCIALS, delineate, delineate_leads, delineate_record

CSE_TOLERANCE_MS = {"P_on": 10.2, "P_off": 12.7, "QRS_on": 6.5, "QRS_off": 11.6, "T_off": 30.6}
"""Two-standard-deviation tolerances of the CSE working party for the error SD."""

TARGET_SENSITIVITY = {
    "QRS_on": 99.5,
    "QRS_off": 99.5,
    "P_on": 97.0,
    "P_off": 97.0,
    "T_on": 97.0,
    "T_off": 97.0,
}
"""Per-lead sensitivity targets, %."""

GLOBAL_TARGET_SENSITIVITY = {"P_on": 98.0, "P_off": 98.0, "QRS_on": 99.5, "QRS_off": 99.5, "T_off": 98.0}
"""Sensitivity targets of the global fiducials, %."""

SINGLE_LEAD_TARGETS = (
    {"P_on": 98.0, "P_off": 98.0, "QRS_on": 99.5, "QRS_off": 99.5, "T_on": 98.0, "T_off": 98.0},
    {"P_on": 15.0, "P_off": 15.0, "QRS_on": 10.0, "QRS_off": 10.0, "T_off": 25.0},
)
"""Sensitivity (%) and error SD (ms) targets of the single-lead delineator, scored lead by lead (the project's
targets; Martínez et al. 2004 report SDs of 7.7 to 18.1 ms on the QT database)."""

BEAT_GAP_S = 0.1
"""Largest gap between LUDB's QRS peak marks of one beat over the leads."""


def evaluate(
    ludb: Path, records: list[int], tolerance_s: float, single_lead: bool = False
) -> dict[str, list[MatchResult]]:
    """Delineate the given LUDB records and compare every lead with its reference marks.

    Parameters
    ----------
    ludb : Path
        LUDB folder.
    records : list of int
        Record numbers.
    tolerance_s : float
        Matching tolerance in seconds.
    single_lead : bool, default False
        Delineate each lead on its own with :func:`delineate` instead of all 12 at once with
        :func:`delineate_leads`.

    Returns
    -------
    dict of str to list of MatchResult
        Per fiducial key, one result per lead of every record.
    """
    results: dict[str, list[MatchResult]] = {key: [] for key in FIDUCIALS}
    for number in records:
        path = ludb / str(number)
        signals, fs = read_record(path)
        if single_lead:
            per_lead = [delineate(lead, fs) for lead in signals]
            detected = {key: [row[key] for row in per_lead] for key in FIDUCIALS}
        else:
            detected = delineate_leads(signals, fs)
        for index, lead in enumerate(LEADS):
            row = {key: detected[key][index] for key in FIDUCIALS}
            for key, result in compare_lead(read_reference(path, lead), row, tolerance_s * fs).items():
                results[key].append(result)
    return results


def evaluate_global(ludb: Path, records: list[int], tolerance_s: float) -> dict[str, list[MatchResult]]:
    """Delineate the given LUDB records and compare their global fiducials with LUDB's global reference.

    Parameters
    ----------
    ludb : Path
        LUDB folder.
    records : list of int
        Record numbers.
    tolerance_s : float
        Matching tolerance in seconds.

    Returns
    -------
    dict of str to list of MatchResult
        Per key of :data:`CSE_TOLERANCE_MS`, one result per record.
    """
    results: dict[str, list[MatchResult]] = {key: [] for key in CSE_TOLERANCE_MS}
    for number in records:
        path = ludb / str(number)
        signals, fs = read_record(path)
        detected = delineate_record(signals, fs).global_fiducials
        reference = global_reference([read_reference(path, lead) for lead in LEADS], BEAT_GAP_S * fs)
        compared = compare_lead(reference, detected, tolerance_s * fs)
        for key in results:
            results[key].append(compared[key])
    return results


def format_table(
    results: dict[str, list[MatchResult]],
    fs: float,
    targets: dict[str, float] = TARGET_SENSITIVITY,
    sd_targets: dict[str, float] = CSE_TOLERANCE_MS,
) -> str:
    """Render the accuracy table (one row per fiducial) as text, with verdicts against ``targets`` (Se %)
    and ``sd_targets`` (error SD, ms)."""
    header = (
        f"{'fiducial':<9} {'n_ref':>6} {'Se %':>7} {'PPV %':>7} {'false':>6} {'mean ms':>8} {'SD ms':>7} "
        f"{'rMAD ms':>7} {'|e|>30 %':>8}"
    )
    lines = [header, "-" * len(header)]
    for key, per_lead in results.items():
        n_ref = sum(r.n_reference for r in per_lead)
        n_det = sum(r.n_detected for r in per_lead)
        errors = np.concatenate([r.errors_samples for r in per_lead]) * 1000.0 / fs
        n_tp = errors.size
        se = 100.0 * n_tp / max(n_ref, 1)
        ppv = 100.0 * n_tp / max(n_det, 1)
        mean, sd = (errors.mean(), errors.std(ddof=1)) if n_tp > 1 else (np.nan, np.nan)
        rmad = 1.4826 * np.median(np.abs(errors - np.median(errors))) if n_tp else np.nan
        tail = 100.0 * np.mean(np.abs(errors) > 30.0) if n_tp else np.nan
        lines.append(
            f"{key:<9} {n_ref:>6d} {se:>7.2f} {ppv:>7.2f} {n_det - n_tp:>6d} {mean:>+8.1f} {sd:>7.1f} "
            f"{rmad:>7.1f} {tail:>8.1f}" + _verdict(key, se, sd, targets, sd_targets)
        )
    return "\n".join(lines)


def spread_table(ludb: Path, records: list[int], fs: float = 500.0) -> str:
    """Inter-lead spread of LUDB's own boundary marks (ms), one row per fiducial with a CSE tolerance."""
    lines = [f"{'fiducial':<9} {'n':>6} {'SD ms':>7} {'rMAD ms':>8} {'CSE SD ms':>10}"]
    for key, tolerance in CSE_TOLERANCE_MS.items():
        parts = []
        for number in records:
            references = [read_reference(ludb / str(number), lead) for lead in LEADS]
            parts.append(interlead_deviations(references, key, 0.1 * fs) * 1000.0 / fs)
        dev = np.concatenate(parts)
        rmad = 1.4826 * np.median(np.abs(dev))
        lines.append(f"{key:<9} {dev.size:>6d} {dev.std(ddof=1):>7.1f} {rmad:>8.1f} {tolerance:>10.1f}")
    return "\n".join(lines)


def _verdict(key: str, se: float, sd: float, targets: dict[str, float], sd_targets: dict[str, float]) -> str:
    """Targets met or missed for one row, as a short note."""
    notes = []
    if key in targets:
        notes.append(f"Se {'ok' if se >= targets[key] else 'MISS'} (>= {targets[key]})")
    if key in sd_targets:
        notes.append(f"SD {'ok' if sd <= sd_targets[key] else 'MISS'} (<= {sd_targets[key]})")
    return "   " + ", ".join(notes) if notes else ""


def main() -> None:
    """Parse arguments, evaluate, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ludb", type=Path, default=data_root() / "ludb", help="LUDB folder")
    parser.add_argument("--first", type=int, default=1, help="first record number")
    parser.add_argument("--last", type=int, default=200, help="last record number")
    parser.add_argument("--tolerance-ms", type=float, default=150.0, help="matching tolerance")
    parser.add_argument("--skip-single-lead", action="store_true", help="only the 12-lead table")
    parser.add_argument("--spread", action="store_true", help="also LUDB's inter-lead spread of its marks")
    parser.add_argument("--global-only", action="store_true", help="only the global fiducials' table")
    args = parser.parse_args()
    records = list(range(args.first, args.last + 1))
    print(f"LUDB records {args.first}..{args.last}, {len(LEADS)} leads, tolerance {args.tolerance_ms:g} ms")
    forms = [] if args.global_only else [("delineate_leads: 12 leads at once, one fused beat grid", False)]
    if not (args.skip_single_lead or args.global_only):
        forms.append(("delineate: every lead on its own", True))
    for title, single_lead in forms:
        results = evaluate(args.ludb, records, args.tolerance_ms / 1000.0, single_lead)
        print(f"\n{title}")
        targets = SINGLE_LEAD_TARGETS if single_lead else (TARGET_SENSITIVITY, CSE_TOLERANCE_MS)
        print(format_table(results, 500.0, *targets))
    results = evaluate_global(args.ludb, records, args.tolerance_ms / 1000.0)
    print("\ndelineate_record: global fiducials (CSE) vs LUDB's earliest onset, latest offset over the leads")
    print(format_table(results, fs=500.0, targets=GLOBAL_TARGET_SENSITIVITY))
    if args.spread and not args.global_only:
        print("\nLUDB's own marks: lead minus the beat's median over leads")
        print(spread_table(args.ludb, records))
    print()
    print_machine_line()


if __name__ == "__main__":
    main()
