"""Running an entry over a folder of recordings, as the Challenge's ``test_model.py`` does, but robustly.

The recordings are grouped by lead set (sorted into the standard order); ``load_model`` is called once per
lead set and ``run_model(model, header, recording)`` once per recording, with the header's text and the
matrix as stored in the .mat file (leads in file order, ADC units). A recording that cannot be read or
run is logged with the reason and gets a valid all-negative output file; the run carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .classes import default_class_table
from .leads import sort_leads
from .outputs import save_outputs
from .records import find_challenge_files, load_header, load_recording, parse_header

log = logging.getLogger(__name__)


def run_test_set(
    model_directory, data_directory, output_directory, load_model: Callable, run_model: Callable
) -> tuple[int, int]:
    """Write one output file per recording of ``data_directory`` into ``output_directory``.

    Returns
    -------
    (recordings, failed) : tuple of int

    Raises
    ------
    FileNotFoundError, ValueError
        When a folder is missing or ``data_directory`` holds no records.
    """
    if not Path(model_directory).is_dir():
        raise FileNotFoundError(f"{model_directory}: no such model folder")
    header_files, recording_files = find_challenge_files(data_directory)
    if not header_files:
        raise ValueError(f"{data_directory}: no records (.hea with a .mat beside it) found")
    output_directory = Path(output_directory)
    output_directory.mkdir(parents=True, exist_ok=True)

    groups: dict[tuple[str, ...], list[tuple[str, str, str]]] = {}
    failed = 0
    for header_file, recording_file in zip(header_files, recording_files, strict=True):
        output_file = output_directory / (Path(header_file).stem + ".csv")
        try:
            header = load_header(header_file)
        except (OSError, ValueError) as error:
            failed += _fail(output_file, Path(header_file).stem, error)
            continue
        groups.setdefault(sort_leads(parse_header(header).leads), []).append(
            (header, recording_file, str(output_file))
        )

    progress = tqdm(total=len(header_files) - failed, desc="recordings", unit="rec", disable=None)
    for leads, members in groups.items():
        try:
            model = load_model(str(model_directory), leads)
        except Exception as error:  # the entry's own code: any failure is that group's failure
            log.error("cannot load the model for leads %s: %s", ", ".join(leads), error)
            for header, _, output_file in members:
                failed += _fail(Path(output_file), parse_header(header).record_name, error, quiet=True)
            progress.update(len(members))
            continue
        for header, recording_file, output_file in members:
            failed += _run_one(model, run_model, header, recording_file, Path(output_file))
            progress.update()
    progress.close()
    return len(header_files), failed


def _run_one(model, run_model: Callable, header: str, recording_file: str, output_file: Path) -> int:
    """Run and save one recording; 1 if it failed (and got an all-negative output), else 0."""
    record_name = parse_header(header).record_name
    try:
        recording = load_recording(recording_file, header)
        classes, labels, probabilities = run_model(model, header, recording)
        save_outputs(output_file, record_name, classes, _as_binary(labels), _as_float(probabilities))
    except Exception as error:  # the entry's own code: a failure is that recording's failure
        return _fail(output_file, record_name, error)
    return 0


def _fail(output_file: Path, record_name: str, error: Exception, quiet: bool = False) -> int:
    if not quiet:
        log.error(
            "%s: failed (%s: %s); writing an all-negative output", record_name, type(error).__name__, error
        )
    classes = default_class_table().names
    save_outputs(output_file, record_name, classes, [0] * len(classes), [0.0] * len(classes))
    return 1


def _as_binary(labels) -> list[int]:
    values = np.asarray(labels).ravel()
    if values.dtype.kind not in "biuf":
        raise ValueError(f"labels must be numbers or booleans, got {values.dtype}")
    return [int(value) for value in values != 0]


def _as_float(probabilities) -> list[float]:
    return [float(value) for value in np.asarray(probabilities, dtype=float).ravel()]
