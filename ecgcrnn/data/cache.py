"""The training cache: every record read once through the signal pipeline, on disk, shared by all lead sets.

A cache folder holds ``.npy`` arrays opened as memory maps, so training streams from disk instead of holding
the data set in memory:

| file | shape | dtype | content |
|---|---|---|---|
| ``signals.npy`` | (windows, 12, samples) | float16 | the ``signal`` input of the 12 leads, channels first |
| ``<set>_<input>.npy`` | (windows,) + shape | (below) | each of :data:`FEATURE_ARRAYS`, lead set ``<set>`` |
| ``labels.npy``, ``demographics.npy`` | (records, 26), (records,) + shape | uint8, float32 | per record |
| ``amplitudes_recorded.npy`` | (records,) | uint8 | 0 where each lead was rescaled to one range |
| ``offsets.npy`` | (records + 1,) | int64 | record i owns windows offsets[i]:offsets[i + 1] |
| ``status.npy`` | (records,) | uint8 | 0 pending, 1 done, 2 failed (logged, never trained on) |
| ``meta.json`` | | | key, the pipeline's settings, record ids and files |

``shape`` is the input's shape for one window (:func:`ecgcrnn.pipeline.input_shapes`, the network's inputs
stated once); a mask (0 or 1) is kept as uint8, ``beat_values`` as float16, any other input as its own dtype.

Every record goes through :func:`ecgcrnn.pipeline.prepare_record` once per lead set, with that lead set's
leads only, exactly as ``run_model`` does. The build runs in parallel over the machine's cores and logs its
records per second; a build that is killed half-way continues where it stopped when started again with the
same settings (a record counts as done only once all its arrays are written). The key covers the records'
files (names, sizes, times), the lead sets and :meth:`ecgcrnn.pipeline.PipelineSettings.digest` (every
setting of the pipeline and the source code of its stages): a cache made under other settings, by another
version of the feature code, or of other records is rebuilt, never reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from tqdm import tqdm

from ecgcrnn.data.reader import RowReader
from ecgcrnn.domain import LEAD_SETS, STANDARD_LEADS, default_class_table
from ecgcrnn.io.atomic import replacing, save_array, write_text
from ecgcrnn.io.records import (
    check_recording_size,
    find_challenge_files,
    get_age,
    get_labels,
    get_sex,
    load_header,
    load_recording,
    parse_header,
)
from ecgcrnn.pipeline import (
    INPUT_NAMES,
    InputShape,
    PipelineSettings,
    demographics,
    input_shapes,
    prepare_record,
    record_windows,
)
from ecgcrnn.signal.preprocessing import PreprocessConfig, resampled_length, window_starts

log = logging.getLogger(__name__)

CACHE_FORMAT = 4  # the layout of the folder; what is in it is keyed by the pipeline's settings and code
PENDING, DONE, FAILED = 0, 1, 2
_CHUNK_RECORDS = 16
FEATURE_ARRAYS = tuple(name for name in INPUT_NAMES if name not in ("signal", "demographics"))
"""A lead set's arrays: the network's inputs but ``signal`` (kept once, for the twelve leads) and
``demographics`` (once per record)."""
_HALF_PRECISION = ("signal", "beat_values")  # the largest inputs, kept as float16


@dataclass
class Cache:
    """An opened cache folder (see the module docstring for its arrays); ``settings`` are those of the
    pipeline that made its inputs, as its meta.json holds them."""

    directory: Path
    record_ids: list[str]
    labels: np.ndarray
    demographics: np.ndarray
    offsets: np.ndarray
    status: np.ndarray
    amplitudes_recorded: np.ndarray
    settings: PipelineSettings

    @property
    def signals(self) -> np.ndarray:
        return np.load(self.directory / "signals.npy", mmap_mode="r")

    def features(self, lead_set: str) -> dict[str, np.ndarray]:
        """Memory maps of a lead set's :data:`FEATURE_ARRAYS`."""
        return {
            name: np.load(self.directory / f"{lead_set}_{name}.npy", mmap_mode="r") for name in FEATURE_ARRAYS
        }

    def reader(self, name: str) -> RowReader:
        """A :class:`RowReader` of the array ``<name>.npy`` (``"signals"``, ``"twelve_beat_values"``, ...)."""
        return RowReader(self.directory / f"{name}.npy")

    def readers(self, lead_set: str) -> dict[str, RowReader]:
        """Readers of a lead set's :data:`FEATURE_ARRAYS`."""
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


def build_cache(
    data_directory,
    cache_directory,
    settings: PipelineSettings = PipelineSettings(),
    lead_sets=tuple(LEAD_SETS),
    n_jobs: int = 0,
) -> Cache:
    """Read every record of ``data_directory`` into the cache at ``cache_directory`` (or reuse it).

    Records that cannot be read, or lack one of the twelve standard leads, are logged and skipped.
    ``n_jobs`` processes (0: every core) share the work.
    """
    header_files, recording_files = find_challenge_files(data_directory, required=True)
    cache_directory = Path(cache_directory)
    plan = _plan(header_files, recording_files, settings.preprocess)
    key = _settings_key(plan, settings, lead_sets)
    meta_file = cache_directory / "meta.json"
    if not (meta_file.is_file() and json.loads(meta_file.read_text()).get("key") == key):
        _allocate(cache_directory, plan, settings, lead_sets, key)
    cache = open_cache(cache_directory)
    planned = np.array([entry.windows > 0 for entry in plan])
    cache.status[(cache.status == FAILED) & planned] = PENDING  # retry what failed last time
    pending = np.flatnonzero(cache.status == PENDING)
    if len(pending):
        _process(cache_directory, plan, pending, settings, lead_sets, n_jobs)
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
        amplitudes_recorded=np.load(directory / "amplitudes_recorded.npy") > 0,
        settings=PipelineSettings.from_dict(meta["settings"]),
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
            check_recording_size(recording_file, header)  # before room is made for its windows
            samples = resampled_length(header.num_samples, header.fs_hz, config.fs_hz)
            count = len(window_starts(samples, config.window_samples))
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


def _settings_key(plan: list[_Entry], settings: PipelineSettings, lead_sets) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([CACHE_FORMAT, settings.digest(), list(lead_sets)]).encode())
    for entry in plan:
        stats = [os.stat(f) if os.path.exists(f) else None for f in (entry.header_file, entry.recording_file)]
        stamps = [stat and (stat.st_size, stat.st_mtime_ns) for stat in stats]
        digest.update(f"{entry.header_file}|{entry.windows}|{stamps}".encode())
    return digest.hexdigest()


def _allocate(directory: Path, plan: list[_Entry], settings: PipelineSettings, lead_sets, key: str) -> None:
    """Create the cache's arrays (status all pending); meta.json is written last."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "meta.json").unlink(missing_ok=True)
    counts = np.array([entry.windows for entry in plan], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    total = int(offsets[-1])
    table = default_class_table()
    twelve = input_shapes(STANDARD_LEADS, settings, table.names)
    save_array(directory / "offsets.npy", offsets)
    save_array(directory / "labels.npy", np.stack([table.encode(e.labels, dtype=np.uint8) for e in plan]))
    save_array(directory / "demographics.npy", np.stack([demographics(e.age, e.sex) for e in plan]))
    status = np.where(counts > 0, PENDING, FAILED).astype(np.uint8)
    for entry in plan:
        if entry.problem:
            log.warning("%s: skipped (%s)", entry.header_file, entry.problem)
    save_array(directory / "status.npy", status)
    save_array(directory / "amplitudes_recorded.npy", np.ones(len(plan), np.uint8))
    samples, leads = twelve["signal"].shape  # kept channels first, as the windows are cut
    shapes = {"signals": ((total, leads, samples), _stored_dtype("signal", twelve["signal"]))}
    for lead_set in lead_sets:
        inputs = input_shapes(LEAD_SETS[lead_set], settings, table.names)
        for name in FEATURE_ARRAYS:
            shapes[f"{lead_set}_{name}"] = ((total, *inputs[name].shape), _stored_dtype(name, inputs[name]))
    for name, (shape, dtype) in shapes.items():
        with replacing(directory / f"{name}.npy") as temporary:
            np.lib.format.open_memmap(temporary, mode="w+", dtype=dtype, shape=shape).flush()
    meta = {"key": key, "format": CACHE_FORMAT, "settings": settings.to_dict(), "lead_sets": list(lead_sets)}
    meta |= {"record_ids": [e.record_id for e in plan], "header_files": [e.header_file for e in plan]}
    write_text(directory / "meta.json", json.dumps(meta))


def _process(directory: Path, plan, pending: np.ndarray, settings, lead_sets, n_jobs: int) -> None:
    n_jobs = n_jobs or os.cpu_count() or 1
    chunks = [pending[i : i + _CHUNK_RECORDS] for i in range(0, len(pending), _CHUNK_RECORDS)]
    tasks = (
        delayed(_process_chunk)(directory, [(i, plan[i]) for i in chunk], settings, lead_sets)
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


def _process_chunk(directory: Path, entries, settings: PipelineSettings, lead_sets) -> list[tuple[int, str]]:
    """Put some records through the pipeline into the cache's memory maps; per record '' or the failure."""
    offsets = np.load(directory / "offsets.npy")
    signals = np.load(directory / "signals.npy", mmap_mode="r+")
    features = {
        (lead_set, name): np.load(directory / f"{lead_set}_{name}.npy", mmap_mode="r+")
        for lead_set in lead_sets
        for name in FEATURE_ARRAYS
    }
    recorded = np.load(directory / "amplitudes_recorded.npy", mmap_mode="r+")
    results = []
    for index, entry in entries:
        try:
            header = parse_header(load_header(entry.header_file), entry.header_file)
            recording = load_recording(entry.recording_file, header)
            start, stop = offsets[index], offsets[index + 1]
            twelve = None  # the signals kept are the twelve leads' windows, whichever lead sets are cached
            for lead_set in lead_sets:
                prepared = prepare_record(header, recording, LEAD_SETS[lead_set], settings)
                _check_windows(prepared.windows, entry)
                for name in FEATURE_ARRAYS:
                    features[lead_set, name][start:stop] = prepared.inputs[name]
                if lead_set == "twelve":
                    twelve = prepared.windows
                recorded[index] = prepared.amplitudes_recorded
            if twelve is None:
                _, cut = record_windows(header, recording, STANDARD_LEADS, settings.preprocess)
                twelve = _check_windows(cut, entry)
            signals[start:stop] = twelve  # cast to the array's dtype
            results.append((index, ""))
        except Exception as error:  # one bad record must not stop the build
            results.append((index, f"{type(error).__name__}: {error}"))
    signals.flush()
    recorded.flush()
    for array in features.values():
        array.flush()
    return results


def _stored_dtype(name: str, spec: InputShape) -> np.dtype:
    """The dtype an input is kept as: uint8 for a mask (0 or 1), float16 for the largest inputs
    (:data:`_HALF_PRECISION`), its own for any other."""
    if name.endswith("_mask"):
        return np.dtype(np.uint8)
    return np.dtype(np.float16) if name in _HALF_PRECISION else spec.dtype


def _check_windows(windows: np.ndarray, entry: _Entry) -> np.ndarray:
    """``windows`` (W, leads, samples), after checking that W is what the record's header announced."""
    if len(windows) != entry.windows:
        raise ValueError(f"{len(windows)} windows, the header announced {entry.windows}")
    return windows
