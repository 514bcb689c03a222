"""Reduced-lead copies of Challenge records, as the Challenge's ``extract_leads_wfdb.py`` makes them."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from ecgcrnn.domain import canonical_lead
from ecgcrnn.io.records import Header, find_challenge_files, load_recording, parse_header, write_record

log = logging.getLogger(__name__)


def extract_leads(input_directory, output_directory, leads) -> int:
    """Write every record under ``input_directory`` again with only ``leads``, in that order.

    Headers keep their comments and the kept leads' fields; the lead count, initial values and checksums
    follow the new data. Sub-folders are mirrored. Every file is written inside ``output_directory`` and
    named after its header file (``<id>.hea`` gives ``<id>.hea`` and ``<id>.mat``), never after a path the
    header names: its record line and signal lines are rewritten to name that record. Returns the number of
    records written.

    Raises
    ------
    ValueError
        If the arguments are refused (see :func:`check_extraction`), or a record lacks one of ``leads`` (the
        error names the record and the leads it has).
    """
    source, target = Path(input_directory), Path(output_directory)
    check_extraction(source, target, leads)
    header_files, recording_files = find_challenge_files(source, required=True)
    for header_file, recording_file in tqdm(
        list(zip(header_files, recording_files, strict=True)), desc="extracting", unit="record", disable=None
    ):
        header = parse_header(Path(header_file).read_text(encoding="utf-8", errors="replace"), header_file)
        header = _named_after(header, Path(header_file).stem)
        header.lead_indices(leads)  # names the record and its leads when one is missing
        recording = load_recording(recording_file, header)
        folder = target / Path(header_file).parent.relative_to(source)
        folder.mkdir(parents=True, exist_ok=True)
        write_record(folder, header, recording, leads)
    log.info("wrote %d records with leads %s to %s", len(header_files), ", ".join(leads), target)
    return len(header_files)


def check_extraction(input_directory, output_directory, leads) -> None:
    """Refuse, before anything is read or written, an extraction that would make records no model accepts or
    that a rerun would extract again.

    Raises
    ------
    ValueError
        When ``leads`` is empty or names a lead twice (in any case: ``leads I, i: I is named twice: name each
        lead once``), or when ``output_directory`` is ``input_directory`` or inside it (links resolved), where
        the next run would find the extracted records among its input and nest them one folder deeper.
    """
    if not leads:
        raise ValueError("no leads given")
    seen = set()
    for lead in map(canonical_lead, leads):
        if lead in seen:
            raise ValueError(f"leads {', '.join(leads)}: {lead} is named twice: name each lead once")
        seen.add(lead)
    source, target = Path(os.path.realpath(input_directory)), Path(os.path.realpath(output_directory))
    if target == source:
        raise ValueError(f"{Path(output_directory)}: the output folder must differ from the input folder")
    if target.is_relative_to(source):
        raise ValueError(
            f"{Path(output_directory)} is inside the input folder {Path(input_directory)}: choose an output "
            "folder outside it"
        )


def _named_after(header: Header, record: str) -> Header:
    """``header`` with every signal line naming ``<record>.mat``, and the record line ``record`` when it names
    another record: whatever paths the header held (``../x.mat``, ``/abs/x.mat``), the files written are
    named after the header file."""
    mat_name = f"{record}.mat"
    signals = tuple(
        replace(signal, file_name=mat_name, line=f"{mat_name} {signal.line.split(maxsplit=1)[1]}")
        for signal in header.signals
    )
    record_tokens = header.record_line.split()
    if header.record_name != record:
        record_tokens[0] = record
    return replace(header, signals=signals, record_line=" ".join(record_tokens))
