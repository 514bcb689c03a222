"""Measure every record of a folder into one table, as an interpretive electrocardiograph reads each.

``ecgcrnn measure DATA_DIR OUT.csv [--per-lead] [--json] [-j N] [-v | -q]`` (or ``python -m
ecgcrnn.app.measure``) writes one row per record (every ``.hea`` under ``DATA_DIR``,
sub-folders included, found as every stage finds records, :func:`ecgcrnn.io.records.find_header_files`),
read as the ECG viewer reads one (:func:`ecgcrnn.app.report.reading_of` on
:func:`ecgcrnn.pipeline.prepare_record`, the header's leads, the default settings). Its columns:

- the record: ``record`` (the header file's name without ``.hea``), ``folder`` (its sub-folder of
  ``DATA_DIR``, ``.`` for the folder itself), ``leads`` (names, space-separated), ``rate_hz`` (sampling),
  ``duration_s``, ``age`` (years), ``sex`` and ``dx`` (the ``#Dx:`` SNOMED CT codes, space-separated);
- the global measurements of :data:`ecgcrnn.features.measurements.MEASUREMENTS`, their units in their
  names (``heart_rate_bpm``, ``RR_sd_ms``, ``PR_ms``, ``QRS_ms``, ``QTc_Bazett_ms``, ``QTc_Fridericia_ms``,
  ``QTc_Framingham_ms``, ``QRS_axis_deg``, ``Sokolow_Lyon_mV``...), ``measurable`` (1, or 0 for a recording
  too noisy, flat or short to measure, whose other measurements are then empty) first among them;
- ``amplitudes_recorded``: 0 when every lead was rescaled to one range, so that no voltage is given;
- ``criteria``: the classes whose published criteria the measurements meet
  (:func:`ecgcrnn.features.criteria.criteria_decisions`), as abbreviations, space-separated, and
  ``statements``: the same as a clinician writes them, with their evidence, ``; ``-separated;
- with ``--per-lead``, each standard lead's amplitudes and shapes
  (:data:`~ecgcrnn.features.measurements.LEAD_MEASUREMENTS`, named ``"V1:R_mV"``), empty for a lead the
  record lacks;
- ``error``: empty, or why the record could not be read or measured (the run goes on without it).

An empty cell is a value not measured. The table is written whole or not at all
(:mod:`ecgcrnn.io.atomic`); ``--json`` writes the same rows as JSON lines instead, lists as lists and
empty values as null. Records are measured in ``-j`` worker processes (every core by default) with a
progress bar on a terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import logging
import math
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from ecgcrnn.app import cli
from ecgcrnn.app.report import reading_of
from ecgcrnn.domain import ABBREVIATIONS
from ecgcrnn.features.criteria import CRITERIA, criteria_decisions
from ecgcrnn.features.measurements import MEASUREMENTS, measurement_names
from ecgcrnn.io.atomic import replacing
from ecgcrnn.io.records import (
    find_header_files,
    get_age,
    get_labels,
    get_sex,
    load_header,
    load_recording,
    parse_header,
)
from ecgcrnn.pipeline import PipelineSettings, prepare_record

log = logging.getLogger(__name__)

RECORD_COLUMNS = ("record", "folder", "leads", "rate_hz", "duration_s", "age", "sex", "dx")
"""The columns read from the header, in order."""
READING_COLUMNS = ("amplitudes_recorded", "criteria", "statements")
"""The columns of the reading that follow the measurements."""
ERROR_COLUMN = "error"
SEPARATORS = {"leads": " ", "dx": " ", "criteria": " ", "statements": "; "}
"""The columns that hold lists, and what separates their items in a CSV cell."""
DECIMALS = 3


@dataclass(frozen=True)
class Summary:
    """What a run of :func:`measure_folder` did: records in the table, measured, not measurable, failed."""

    records: int
    measured: int
    not_measurable: int
    failed: int
    seconds: float
    jobs: int


def main(argv=None, prog: str = "ecgcrnn measure") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("data_directory", type=Path, metavar="DATA_DIR", help="a folder of records")
    parser.add_argument("output_file", type=Path, metavar="OUT.csv", help="the table to write")
    parser.add_argument("--per-lead", action="store_true", help="add every standard lead's amplitudes")
    parser.add_argument("--json", action="store_true", help="write JSON lines (one object a row), not CSV")
    parser.add_argument(
        "-j", "--jobs", type=cli.whole_number(1), metavar="N", help="worker processes (default: every core)"
    )
    cli.add_verbosity(parser)
    args = parser.parse_args(argv)
    cli.configure_logging(args)

    def action() -> None:
        summary = measure_folder(
            args.data_directory, args.output_file, args.per_lead, args.json, args.jobs, quiet=args.quiet
        )
        log.info(
            "%d records (%d not measurable, %d unreadable) in %.1f s on %d processes: %s",
            summary.records,
            summary.not_measurable,
            summary.failed,
            summary.seconds,
            summary.jobs,
            args.output_file,
        )

    return cli.run(parser.prog, action, {"DATA_DIR": args.data_directory}, {"OUT.csv": args.output_file})


def measure_folder(
    data_directory, output_file, per_lead: bool = False, json_lines: bool = False, jobs=None, quiet=False
) -> Summary:
    """Measure every record under ``data_directory`` and write the table to ``output_file``.

    Parameters
    ----------
    data_directory : str or Path
        A folder holding at least one record (``.hea`` with its ``.mat``); sub-folders are searched.
    output_file : str or Path
        The CSV (or JSON lines) file; its folder is created if need be, and an earlier file is replaced
        only once the whole table is written.
    per_lead : bool, default False
        Add each standard lead's measurements.
    json_lines : bool, default False
        Write one JSON object per line instead of CSV.
    jobs : int, optional
        Worker processes; every core this process may use when None, one (no pool) for 1.
    quiet : bool, default False
        No progress bar.

    Returns
    -------
    Summary

    Raises
    ------
    FileNotFoundError, NoRecordsError
        When ``data_directory`` is not a folder of records (:func:`ecgcrnn.app.cli.require_records`).
    IsADirectoryError
        When ``output_file`` is a folder.
    OSError
        When the table cannot be written.
    """
    data_directory, output_file = Path(data_directory), Path(output_file)
    cli.require_records(data_directory, "DATA_DIR")
    if output_file.is_dir():
        raise IsADirectoryError(f"{output_file}: is a folder: give a file name as OUT.csv")
    cli.writable_folder(output_file.parent, "OUT.csv")
    header_files = find_header_files(data_directory)
    jobs = max(1, min(jobs or default_jobs(), len(header_files)))
    names = columns(per_lead)
    start = time.perf_counter()
    counts = {"measured": 0, "not_measurable": 0, "failed": 0}
    with (
        contextlib.closing(measure_records(header_files, data_directory, per_lead, jobs)) as rows,
        tqdm(
            total=len(header_files), unit="record", desc="measuring", disable=True if quiet else None
        ) as bar,
        logging_redirect_tqdm(),
        replacing(output_file) as temporary,
        open(temporary, "w", encoding="utf-8", newline="") as stream,
    ):
        write = _json_writer(stream) if json_lines else _csv_writer(stream, names)
        for row in rows:
            if row[ERROR_COLUMN]:
                counts["failed"] += 1
                log.warning("%s: not measured: %s", row["record"], row[ERROR_COLUMN])
            else:
                counts["measured" if row["measurable"] == 1 else "not_measurable"] += 1
            write(plain_row(row, names))
            bar.update()
    seconds = time.perf_counter() - start
    return Summary(len(header_files), **counts, seconds=seconds, jobs=jobs)


def columns(per_lead: bool = False) -> list[str]:
    """The table's columns, in order (see the module docstring)."""
    names = [*RECORD_COLUMNS, *(name for name, *_ in MEASUREMENTS), *READING_COLUMNS]
    if per_lead:
        names += [name for name in measurement_names() if ":" in name]
    return [*names, ERROR_COLUMN]


def measure_records(header_files, data_directory, per_lead: bool = False, jobs: int = 1) -> Iterator[dict]:
    """:func:`measure_record` of every header file, in their order, in ``jobs`` worker processes.

    A worker that dies (out of memory, say) leaves the records not yet measured to this process.
    """
    tasks = [(str(header_file), str(data_directory), per_lead) for header_file in header_files]
    if jobs <= 1:
        yield from map(_task, tasks)
        return
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no state forked with threads
    level = logging.getLogger().getEffectiveLevel()
    try:
        pool = ProcessPoolExecutor(jobs, context, initializer=_start_worker, initargs=(level,))
    except (OSError, NotImplementedError) as error:  # no process support here
        log.warning("cannot start worker processes (%s); measuring records one at a time", error)
        yield from map(_task, tasks)
        return
    done = 0
    with pool:
        try:
            for row in pool.map(_task, tasks, chunksize=max(1, min(8, len(tasks) // (8 * jobs)))):
                done += 1
                yield row
        except BrokenProcessPool as error:
            log.warning("a worker process died (%s); measuring the other %d here", error, len(tasks) - done)
        except BaseException:  # interrupted, or the table could not be written: drop what is queued
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    yield from map(_task, tasks[done:])


def measure_record(header_file, data_directory, per_lead: bool = False, settings=PipelineSettings()) -> dict:
    """One record's row: header fields, measurements, criteria and statements; or why it was not read.

    Parameters
    ----------
    header_file : str or Path
        The record's ``.hea``; its recording is the ``.mat`` beside it.
    data_directory : str or Path
        The folder searched, which ``folder`` is relative to.
    per_lead : bool, default False
        Add each standard lead's measurements.
    settings : PipelineSettings, optional
        The pipeline's settings (the defaults).

    Returns
    -------
    dict of str to value
        Keyed by :func:`columns`: strings, lists of strings (the :data:`SEPARATORS` columns), floats (NaN
        where not measured) and None (age or sex unknown). ``error`` is ``""``, or the reason the record was
        not measured; its other measurements are then NaN and ``measurable`` is 0.
    """
    header_file = Path(header_file)
    row = dict.fromkeys(columns(per_lead), math.nan)
    row.update(
        record=header_file.stem, folder=Path(os.path.relpath(header_file.parent, data_directory)).as_posix()
    )
    row.update(leads=[], age=None, sex=None, dx=[], criteria=[], statements=[], measurable=0.0)
    row[ERROR_COLUMN] = ""
    try:
        header = parse_header(load_header(header_file), source=str(header_file))
        row.update(
            leads=list(header.leads),
            rate_hz=header.fs_hz,
            duration_s=header.num_samples / header.fs_hz,
            age=_known(get_age(header)),
            sex=get_sex(header),
            dx=get_labels(header),
        )
        recording = load_recording(header_file.with_suffix(".mat"), header)
        prepared = prepare_record(header, recording, header.leads, settings)
        reading = reading_of(header, header.leads, prepared)
    except Exception as error:  # any failure is this record's: its row says why, the run goes on
        log.debug("%s: not measured", header_file, exc_info=error)
        row[ERROR_COLUMN] = _reason(error, data_directory)
        return row
    row.update(reading.measurements)
    stated = criteria_decisions(reading.criteria)
    row["criteria"] = [ABBREVIATIONS.get(c.name, c.name) for c in CRITERIA if c.name in stated]
    row["statements"] = list(reading.statements)
    row["amplitudes_recorded"] = float(reading.amplitudes_recorded)
    if per_lead:
        combined = prepared.record_measurements()
        row.update({name: combined[name] for name in measurement_names() if ":" in name})
    return row


def plain_row(row: dict, names) -> dict:
    """``row`` restricted to ``names`` with plain values: NaN as None, numbers to :data:`DECIMALS` decimals
    (whole ones as int)."""
    return {name: _plain(row.get(name)) for name in names}


def csv_cell(name: str, value) -> str:
    """A plain value as a CSV cell: a list joined by its column's separator, None as empty."""
    if value is None:
        return ""
    if isinstance(value, list):
        return SEPARATORS[name].join(value)
    return str(value)


def default_jobs() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _csv_writer(stream, names):
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(names)
    return lambda row: writer.writerow([csv_cell(name, value) for name, value in row.items()])


def _json_writer(stream):
    return lambda row: stream.write(json.dumps(row, ensure_ascii=False) + "\n")


def _task(task: tuple) -> dict:
    """:func:`measure_record` of one ``(header file, data folder, per_lead)``, in a worker process."""
    return measure_record(*task)


def _start_worker(level: int) -> None:
    """A worker's logging at the command's ``level``; Ctrl-C is the parent's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cli.configure_logging(argparse.Namespace(verbose=level <= logging.DEBUG, quiet=level >= logging.ERROR))


def _reason(error: Exception, data_directory) -> str:
    """One line for a record's failure: the package's message for what a record can get wrong, the
    exception's type besides for anything else (a bug to report)."""
    if isinstance(error, (OSError, ValueError, NotImplementedError)):
        return cli.describe(error, reads={"DATA_DIR": data_directory})
    return f"{type(error).__name__}: {error}"


def _known(age: float | None) -> float | None:
    return age if age is not None and math.isfinite(age) else None


def _plain(value):
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = round(value, DECIMALS)
        return int(value) if value.is_integer() else value
    return value


if __name__ == "__main__":
    sys.exit(main())
