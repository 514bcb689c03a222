"""Digests of every array the pipeline makes from a record, to show a refactoring changed none of them.

For every record of the given folders and every lead set of :data:`ecgcrnn.domain.LEAD_SETS`, the record
goes through :func:`ecgcrnn.pipeline.prepare_record` (default settings) and
:func:`ecgcrnn.signal.preprocessing.preprocess`, and each array they give (the network's inputs, the windows,
every window's delineation, features and measurements, the combined measurements, the preprocessed signal
and its repaired fractions, whether the amplitudes were recorded) is reduced to a SHA-256 of its dtype,
shape and bytes. One JSON line per record and lead set, sorted, so that the files of two versions of
the code compare with ``cmp``; a record that fails gives its error in place of its arrays.

Run the same script on two trees, the package first on the path::

    cd /tmp && PYTHONPATH=/tmp/before .../.venv/bin/python .../devtools/input_digests.py --out before.jsonl
    cd /tmp && .../.venv/bin/python .../devtools/input_digests.py --out after.jsonl
    cmp before.jsonl after.jsonl

BLAS and OpenMP run on one thread, so that a sum's order does not depend on the machine's load.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from multiprocessing import Pool
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_name] = "1"  # before numpy loads its BLAS

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

import ecgcrnn  # noqa: E402
from ecgcrnn.domain import LEAD_SETS  # noqa: E402
from ecgcrnn.io.records import find_challenge_files, load_recording, parse_header  # noqa: E402
from ecgcrnn.pipeline import PipelineSettings, prepare_record  # noqa: E402
from ecgcrnn.signal.preprocessing import preprocess  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_FOLDERS = (SHARED / "challenge", SHARED / "ludb_challenge")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, default=DEFAULT_FOLDERS, help="folders of records")
    parser.add_argument("--out", type=Path, required=True, help="the JSON lines file to write")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    tasks = []
    for folder in args.folders:
        for header_file, recording_file in zip(*find_challenge_files(folder, required=True), strict=True):
            tasks.append((f"{folder.name}/{Path(header_file).stem}", header_file, recording_file))
    print(f"package: {Path(ecgcrnn.__file__).parent}; {len(tasks)} records x {len(LEAD_SETS)} lead sets")
    with Pool(args.processes) as pool:
        lines = [
            line
            for lines in tqdm(pool.imap(record_lines, tasks), total=len(tasks), unit="rec")
            for line in lines
        ]
    args.out.write_text("".join(sorted(lines)))
    total = hashlib.sha256("".join(sorted(lines)).encode()).hexdigest()
    print(f"{len(lines)} record x lead set lines in {args.out}; sha256 of the file {total}")


def record_lines(task: tuple[str, str, str]) -> list[str]:
    """One JSON line per lead set for the record ``task`` (its name, header file, recording file)."""
    name, header_file, recording_file = task
    lines = []
    for lead_set, leads in LEAD_SETS.items():
        try:
            header = parse_header(Path(header_file).read_text(), header_file)
            arrays = record_digests(header, load_recording(recording_file, header), leads)
        except Exception as error:  # a failure is a result to compare as well
            arrays = {"error": f"{type(error).__name__}: {error}"}
        lines.append(json.dumps({"record": name, "lead_set": lead_set, "arrays": arrays}) + "\n")
    return lines


def record_digests(header, recording: np.ndarray, leads) -> dict[str, str]:
    """``{path: digest}`` of every array made from one record with one lead set (default settings)."""
    settings = PipelineSettings()
    prepared = prepare_record(header, recording, leads, settings)
    preprocessed = preprocess(header, recording, leads, settings.preprocess)
    parts = {
        "preprocess.signal": preprocessed.signal,
        "preprocess.repaired": preprocessed.repaired,
        "preprocess.fs_hz": preprocessed.fs_hz,
        "windows": prepared.windows,
        "inputs": prepared.inputs,
        "delineations": prepared.delineations,
        "features": prepared.features,
        "measurements": prepared.measurements,
        "record_measurements": prepared.record_measurements(),
        "amplitudes_recorded": prepared.amplitudes_recorded,
    }
    digests: dict[str, str] = {}
    for path, value in parts.items():
        _walk(path, value, digests)
    return digests


def digest(array: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and bytes (C order), with the dtype and shape in words."""
    array = np.ascontiguousarray(array)
    hashed = hashlib.sha256(f"{array.dtype.str}|{array.shape}|".encode() + array.tobytes()).hexdigest()
    return f"{hashed} {array.dtype.str} {array.shape}"


def _walk(path: str, value, digests: dict[str, str]) -> None:
    """Digest ``value`` into ``digests``: arrays and scalars by :func:`digest`, containers item by item."""
    if isinstance(value, np.ndarray):
        digests[path] = digest(value)
    elif isinstance(value, Mapping) and value and all(isinstance(v, float) for v in value.values()):
        keys = hashlib.sha256("|".join(value).encode()).hexdigest()[:16]  # Measurements: names, then values
        digests[path] = f"{digest(np.array(list(value.values()), np.float64))} keys {keys}"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _walk(f"{path}.{key}", item, digests)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _walk(f"{path}[{index}]", item, digests)
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            _walk(f"{path}.{field.name}", getattr(value, field.name), digests)
    elif isinstance(value, bool | int | float | str | np.generic) or value is None:
        digests[path] = f"{type(value).__name__} {value!r}"
    else:
        raise TypeError(f"{path}: cannot digest a {type(value).__name__}")


if __name__ == "__main__":
    main()
