"""The training cache: every record read once through the signal pipeline, on disk, shared by all lead sets.

A cache folder holds ``.npy`` arrays opened as memory maps, so training streams from disk instead of holding
the data set in memory:

| file | shape | dtype | content |
|---|---|---|---|
| ``signals.npy`` | (windows, 12, 5000) | float16 | preprocessed 10 s windows, 12 leads, standard order |
| ``<set>_beat_values.npy`` | (windows, MAX_BEATS, F) | float16 | beat features of lead set ``<set>`` |
| ``<set>_beat_mask.npy`` | (windows, MAX_BEATS, F) | uint8 | their mask |
| ``<set>_record_values.npy`` | (windows, R) | float32 | record features of lead set ``<set>`` |
| ``<set>_record_mask.npy`` | (windows, R) | uint8 | their mask |
| ``labels.npy``, ``demographics.npy`` | (records, 26), (records, 4) | uint8, float32 | per record |
| ``offsets.npy`` | (records + 1,) | int64 | record i owns windows offsets[i]:offsets[i + 1] |
| ``status.npy`` | (records,) | uint8 | 0 pending, 1 done, 2 failed (logged, never trained on) |
| ``meta.json`` | | | settings key, record ids and files |

Features are computed per lead set from that lead set's leads only, exactly as ``run_model`` computes them.
The build runs in parallel over the machine's cores and logs its records per second; a build that is
killed half-way continues where it stopped when started again with the same settings (a record counts as
done only once all its arrays are written), and changed settings or records rebuild the cache.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ecgcrnn import __version__
from ecgcrnn.domain import LEAD_SETS, STANDARD_LEADS, default_class_table
from ecgcrnn.features.beats import MAX_BEATS, beat_feature_names, extract_features, record_feature_names
from ecgcrnn.io.atomic import write_text
from ecgcrnn.io.records import (
    find_challenge_files,
    get_age,
    get_labels,
    get_sex,
    load_header,
    load_recording,
    parse_header,
)
from ecgcrnn.pipeline import DEMOGRAPHICS, demographics
from ecgcrnn.signal.preprocessing import PreprocessConfig, preprocess, resampled_length, windows

log = logging.getLogger(__name__)

CACHE_VERSION = 1
PENDING, DONE, FAILED = 0, 1, 2
_CHUNK_RECORDS = 16
FEATURE_ARRAYS = ("beat_values", "beat_mask", "record_values", "record_mask")


@dataclass
class Cache:
    """An opened cache folder (see the module docstring for its arrays)."""

    directory: Path
    record_ids: list[str]
    labels: np.ndarray
    demographics: np.ndarray
    offsets: np.ndarray
    status: np.ndarray

    @property
    def signals(self) -> np.ndarray:
        return np.load(self.directory / "signals.npy", mmap_mode="r")

    def features(self, lead_set: str) -> dict[str, np.ndarray]:
        """Memory maps of a lead set's ``beat_values``, ``beat_mask``, ``record_values``, ``record_mask``."""
        return {
            name: np.load(self.directory / f"{lead_set}_{name}.npy", mmap_mode="r") for name in FEATURE_ARRAYS
        }

    def reader(self, name: str) -> RowReader:
        """A :class:`RowReader` of the array ``<name>.npy`` (``"signals"``, ``"twelve_beat_values"``, ...)."""
        return RowReader(self.directory / f"{name}.npy")

    def readers(self, lead_set: str) -> dict[str, RowReader]:
        """Readers of a lead set's ``beat_values``, ``beat_mask``, ``record_values``, ``record_mask``."""
        return {name: self.reader(f"{lead_set}_{name}") for name in FEATURE_ARRAYS}

    @property
    def usable(self) -> np.ndarray:
        """Indices of the records that were read and processed."""
        return np.flatnonzero(self.status == DONE)

    def windows_of(self, records: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(window indices, owning record of each) for the given records, in order."""
        starts, stops = self.offsets[records], self.offsets[np.asarray(records) + 1]
        owner = np.repeat(np.asarray(records), stops - starts)
        index = np.concatenate([np.arange(a, b) for a, b in zip(starts, stops, strict=True)] or [[]])
        return index.astype(np.int64), owner


class RowReader:
    """Rows of a ``.npy`` array read from disk with ``os.preadv`` into a new array, without a memory map.

    Pages of a memory map that have been read stay mapped into the process, and count in its resident
    memory, for as long as the map is open: an epoch that reads the whole cache through one would grow the
    process by the size of the cache. A reader copies the rows it is asked for and keeps nothing, so its
    memory is that of one batch (the kernel's page cache still serves repeated reads).

    Parameters
    ----------
    path : path-like
        A C-ordered ``.npy`` file of shape (rows, ...).

    Examples
    --------
    ``reader[np.array([7, 3, 4])]`` is ``np.load(path)[[7, 3, 4]]``, shape (3, ...).
    """

    def __init__(self, path):
        self.path = Path(path)
        with open(self.path, "rb") as file:
            version = np.lib.format.read_magic(file)
            read_header = np.lib.format.read_array_header_1_0
            if version != (1, 0):
                read_header = np.lib.format.read_array_header_2_0
            shape, fortran_order, self.dtype = read_header(file)
            self.offset = file.tell()
        if fortran_order or not shape or self.dtype.hasobject:
            raise ValueError(f"{self.path}: expected a C-ordered array of rows without objects")
        self.shape = tuple(shape)
        self.row_bytes = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        """The given rows (an integer array, any order, repeats allowed), shape (len(rows), ...)."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if len(rows) and (rows.min() < 0 or rows.max() >= self.shape[0]):
            raise IndexError(f"{self.path}: rows outside 0..{self.shape[0] - 1}")
        out = np.empty((len(rows), *self.shape[1:]), self.dtype)
        if not len(rows):
            return out
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        # runs of consecutive rows (in file order) are read with one call each
        breaks = np.flatnonzero(np.diff(ordered) != 1) + 1
        buffer = np.empty_like(out)
        flat = memoryview(buffer.reshape(-1).view(np.uint8))
        with open(self.path, "rb", buffering=0) as file:
            for start, stop in zip(np.r_[0, breaks], np.r_[breaks, len(rows)], strict=True):
                first, count = int(ordered[start]), int(ordered[stop - 1] - ordered[start] + 1)
                self._read(file.fileno(), flat[start * self.row_bytes :], first, count)
        out[order] = buffer
        return out

    def _read(self, descriptor: int, target: memoryview, first_row: int, rows: int) -> None:
        size, done = rows * self.row_bytes, 0
        position = self.offset + first_row * self.row_bytes
        while done < size:
            count = os.preadv(descriptor, [target[done:size]], position + done)
            if count == 0:
                raise OSError(f"{self.path}: file ends before row {first_row + rows}")
            done += count


def build_cache(
    data_directory,
    cache_directory,
    preprocess_config: PreprocessConfig = PreprocessConfig(),
    lead_sets=tuple(LEAD_SETS),
    n_jobs: int = 0,
) -> Cache:
    """Read every record of ``data_directory`` into the cache at ``cache_directory`` (or reuse it).

    Records that cannot be read, or lack one of the twelve standard leads, are logged and skipped.
    ``n_jobs`` processes (0: every core) share the work.
    """
    header_files, recording_files = find_challenge_files(data_directory)
    if not header_files:
        raise ValueError(f"{data_directory}: no records (.hea with a .mat beside it) found")
    cache_directory = Path(cache_directory)
    plan = _plan(header_files, recording_files, preprocess_config)
    key = _settings_key(plan, preprocess_config, lead_sets)
    meta_file = cache_directory / "meta.json"
    if not (meta_file.is_file() and json.loads(meta_file.read_text()).get("key") == key):
        _allocate(cache_directory, plan, preprocess_config, lead_sets, key)
    cache = open_cache(cache_directory)
    planned = np.array([entry.windows > 0 for entry in plan])
    cache.status[(cache.status == FAILED) & planned] = PENDING  # retry what failed last time
    pending = np.flatnonzero(cache.status == PENDING)
    if len(pending):
        _process(cache_directory, plan, pending, preprocess_config, lead_sets, n_jobs)
        cache = open_cache(cache_directory)
    log.info(
        "cache %s: %d records usable, %d failed, %d windows",
        cache_directory,
        len(cache.usable),
        int(np.sum(cache.status == FAILED)),
        int(cache.offsets[-1]),
    )
    return cache


def open_cache(cache_directory) -> Cache:
    """Open an existing cache folder."""
    directory = Path(cache_directory)
    meta = json.loads((directory / "meta.json").read_text())
    return Cache(
        directory=directory,
        record_ids=list(meta["record_ids"]),
        labels=np.load(directory / "labels.npy"),
        demographics=np.load(directory / "demographics.npy"),
        offsets=np.load(directory / "offsets.npy"),
        status=np.load(directory / "status.npy", mmap_mode="r+"),
    )


@dataclass(frozen=True)
class _Entry:
    header_file: str
    recording_file: str
    record_id: str
    windows: int  # 0 when the header cannot be used
    labels: tuple[str, ...]
    age: float | None
    sex: str | None
    problem: str = ""


def _plan(header_files, recording_files, config: PreprocessConfig) -> list[_Entry]:
    """Read every header (cheap) to know each record's window count before any signal is read."""
    plan = []
    for header_file, recording_file in zip(header_files, recording_files, strict=True):
        try:
            header = parse_header(load_header(header_file), header_file)
            header.lead_indices(STANDARD_LEADS)
            samples = resampled_length(header.num_samples, header.fs_hz, config.fs_hz)
            count = max(math.ceil(samples / config.window_samples), 1)
            plan.append(
                _Entry(
                    header_file,
                    recording_file,
                    header.record_name,
                    count,
                    tuple(get_labels(header)),
                    get_age(header),
                    get_sex(header),
                )
            )
        except (OSError, ValueError) as error:
            plan.append(
                _Entry(header_file, recording_file, Path(header_file).stem, 0, (), None, None, str(error))
            )
    return plan


def _settings_key(plan: list[_Entry], config: PreprocessConfig, lead_sets) -> str:
    digest = hashlib.sha256()
    settings = [CACHE_VERSION, __version__, dataclasses.asdict(config), list(lead_sets)]
    digest.update(json.dumps(settings).encode())
    for entry in plan:
        stats = [os.stat(f) if os.path.exists(f) else None for f in (entry.header_file, entry.recording_file)]
        stamps = [stat and (stat.st_size, stat.st_mtime_ns) for stat in stats]
        digest.update(f"{entry.header_file}|{entry.windows}|{stamps}".encode())
    return digest.hexdigest()


def _allocate(directory: Path, plan: list[_Entry], config: PreprocessConfig, lead_sets, key: str) -> None:
    """Create the cache's arrays (status all pending); meta.json is written last."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "meta.json").unlink(missing_ok=True)
    counts = np.array([entry.windows for entry in plan], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    total = int(offsets[-1])
    table = default_class_table()
    np.save(directory / "offsets.npy", offsets)
    np.save(directory / "labels.npy", np.stack([table.encode(e.labels, dtype=np.uint8) for e in plan]))
    np.save(
        directory / "demographics.npy",
        np.stack([demographics(e.age, e.sex) for e in plan]).reshape(len(plan), len(DEMOGRAPHICS)),
    )
    status = np.where(counts > 0, PENDING, FAILED).astype(np.uint8)
    for entry in plan:
        if entry.problem:
            log.warning("%s: skipped (%s)", entry.header_file, entry.problem)
    np.save(directory / "status.npy", status)
    shapes = {"signals": ((total, len(STANDARD_LEADS), config.window_samples), np.float16)}
    for lead_set in lead_sets:
        leads = LEAD_SETS[lead_set]
        n_beat, n_record = len(beat_feature_names(leads)), len(record_feature_names(leads))
        shapes[f"{lead_set}_beat_values"] = ((total, MAX_BEATS, n_beat), np.float16)
        shapes[f"{lead_set}_beat_mask"] = ((total, MAX_BEATS, n_beat), np.uint8)
        shapes[f"{lead_set}_record_values"] = ((total, n_record), np.float32)
        shapes[f"{lead_set}_record_mask"] = ((total, n_record), np.uint8)
    for name, (shape, dtype) in shapes.items():
        np.lib.format.open_memmap(directory / f"{name}.npy", mode="w+", dtype=dtype, shape=shape).flush()
    meta = {"key": key, "version": CACHE_VERSION, "lead_sets": list(lead_sets)}
    meta |= {"record_ids": [e.record_id for e in plan], "header_files": [e.header_file for e in plan]}
    write_text(directory / "meta.json", json.dumps(meta))


def _process(directory: Path, plan, pending: np.ndarray, config, lead_sets, n_jobs: int) -> None:
    from joblib import Parallel, delayed

    n_jobs = n_jobs or os.cpu_count() or 1
    chunks = [pending[i : i + _CHUNK_RECORDS] for i in range(0, len(pending), _CHUNK_RECORDS)]
    tasks = (
        delayed(_process_chunk)(directory, [(i, plan[i]) for i in chunk], config, lead_sets)
        for chunk in chunks
    )
    status = np.load(directory / "status.npy", mmap_mode="r+")
    progress = tqdm(total=len(pending), desc="preprocessing", unit="rec", disable=None)
    start = time.perf_counter()
    for results in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks):
        for index, outcome in results:
            if outcome:
                log.warning("%s: skipped (%s)", plan[index].header_file, outcome)
            status[index] = FAILED if outcome else DONE
        status.flush()
        progress.update(len(results))
    progress.close()
    seconds = time.perf_counter() - start
    log.info(
        "preprocessed %d records in %.1f s: %.1f records per second on %d processes",
        len(pending),
        seconds,
        len(pending) / max(seconds, 1e-9),
        n_jobs,
    )


def _process_chunk(directory: Path, entries, config: PreprocessConfig, lead_sets) -> list[tuple[int, str]]:
    """Preprocess and featurise some records into the cache's memory maps; per record '' or the failure."""
    offsets = np.load(directory / "offsets.npy")
    signals = np.load(directory / "signals.npy", mmap_mode="r+")
    features = {
        (lead_set, name): np.load(directory / f"{lead_set}_{name}.npy", mmap_mode="r+")
        for lead_set in lead_sets
        for name in ("beat_values", "beat_mask", "record_values", "record_mask")
    }
    results = []
    for index, entry in entries:
        try:
            header = parse_header(load_header(entry.header_file), entry.header_file)
            recording = load_recording(entry.recording_file, header)
            batch = windows(preprocess(header, recording, STANDARD_LEADS, config).signal, config)
            if len(batch) != entry.windows:
                raise ValueError(f"{len(batch)} windows, the header announced {entry.windows}")
            start = offsets[index]
            signals[start : start + len(batch)] = batch.astype(np.float16)
            for lead_set in lead_sets:
                rows = [STANDARD_LEADS.index(lead) for lead in LEAD_SETS[lead_set]]
                for offset, window in enumerate(batch):
                    f = extract_features(window[rows], config.fs_hz, LEAD_SETS[lead_set])
                    values = {"beat_values": f.beats, "beat_mask": f.beats_mask}
                    values |= {"record_values": f.record, "record_mask": f.record_mask}
                    for name, value in values.items():
                        features[lead_set, name][start + offset] = value
            results.append((index, ""))
        except Exception as error:  # one bad record must not stop the build
            results.append((index, f"{type(error).__name__}: {error}"))
    signals.flush()
    for array in features.values():
        array.flush()
    return results
