"""The on-disk training cache: its arrays, reuse without work, failed records, and resuming a build."""

import logging
import signal
import subprocess
import sys

import numpy as np
import pytest
from helpers import CACHE_RECORDS, CACHE_WINDOWS, REPOSITORY, copy_records

from ecgcrnn.data import cache as cache_module
from ecgcrnn.data.cache import CACHE_FORMAT, DONE, FAILED, FEATURE_ARRAYS, PENDING, build_cache, open_cache
from ecgcrnn.data.reader import RowReader
from ecgcrnn.delineation.delineate import delineate_leads
from ecgcrnn.domain import LEAD_SETS, STANDARD_LEADS, default_class_table
from ecgcrnn.features.beats import beat_feature_names, features_from_delineation, record_feature_names
from ecgcrnn.features.measurements import measurement_names
from ecgcrnn.features.settings import FeatureConfig
from ecgcrnn.io.records import get_age, get_labels, get_sex, load_header, load_recording, parse_header
from ecgcrnn.pipeline import PipelineSettings, demographics, prepare_record
from ecgcrnn.signal.preprocessing import preprocess, windows


def _record_index(cache, name):
    return cache.record_ids.index(name)


def test_cache_holds_every_record_in_file_name_order(small_cache):
    assert small_cache.record_ids == sorted(CACHE_RECORDS)


def test_cache_per_record_arrays_have_documented_shapes_and_dtypes(small_cache):
    records = len(CACHE_RECORDS)

    assert (small_cache.labels.shape, small_cache.labels.dtype) == ((records, 26), np.uint8)
    assert (small_cache.demographics.shape, small_cache.demographics.dtype) == ((records, 4), np.float32)
    assert (small_cache.offsets.shape, small_cache.offsets.dtype) == ((records + 1,), np.int64)
    assert (small_cache.status.shape, small_cache.status.dtype) == ((records,), np.uint8)


def test_cache_signals_have_documented_shape_and_dtype(small_cache):
    total = sum(CACHE_WINDOWS.values())

    assert small_cache.signals.shape == (total, 12, 5000)
    assert small_cache.signals.dtype == np.float16


@pytest.mark.parametrize("lead_set", list(LEAD_SETS))
def test_cache_features_have_documented_shapes_and_dtypes(small_cache, lead_set):
    total, leads = sum(CACHE_WINDOWS.values()), LEAD_SETS[lead_set]
    n_beat, n_record = 2 + 11 * len(leads), 9 + 11 * len(leads)
    features = small_cache.features(lead_set)

    assert n_beat == len(beat_feature_names(leads)) and n_record == len(record_feature_names(leads))
    assert (features["beat_values"].shape, features["beat_values"].dtype) == (
        (total, FeatureConfig().max_beats, n_beat),
        np.float16,
    )
    assert (features["beat_mask"].shape, features["beat_mask"].dtype) == (
        (total, FeatureConfig().max_beats, n_beat),
        np.uint8,
    )
    assert (features["record_values"].shape, features["record_values"].dtype) == (
        (total, n_record),
        np.float32,
    )
    assert (features["record_mask"].shape, features["record_mask"].dtype) == ((total, n_record), np.uint8)


@pytest.mark.parametrize("lead_set", list(LEAD_SETS))
def test_cache_measurements_and_criteria_have_documented_shapes_and_dtypes(small_cache, lead_set):
    total, n_measurements = sum(CACHE_WINDOWS.values()), len(measurement_names())
    features = small_cache.features(lead_set)

    assert set(features) == set(FEATURE_ARRAYS) and len(FEATURE_ARRAYS) == 8
    assert (features["measurements"].shape, features["measurements"].dtype) == (
        (total, n_measurements),
        np.float32,
    )
    assert (features["measurement_mask"].shape, features["measurement_mask"].dtype) == (
        (total, n_measurements),
        np.uint8,
    )
    assert (features["criteria"].shape, features["criteria"].dtype) == ((total, 26), np.float32)
    assert (features["criteria_mask"].shape, features["criteria_mask"].dtype) == ((total, 26), np.uint8)


def test_cache_measurements_and_criteria_are_the_inputs_prepare_record_gives(small_cache, synthetic_records):
    header = load_header(synthetic_records / "C4_35s.hea")
    recording = load_recording(synthetic_records / "C4_35s.mat", header)
    expected = prepare_record(header, recording, LEAD_SETS["six"]).inputs
    i = _record_index(small_cache, "C4_35s")
    rows = slice(small_cache.offsets[i], small_cache.offsets[i + 1])

    features = small_cache.features("six")

    for name in ("measurements", "measurement_mask", "criteria", "criteria_mask"):
        np.testing.assert_allclose(features[name][rows], expected[name], rtol=1e-6, err_msg=name)
    assert features["criteria_mask"][rows].any()
    assert np.all(np.abs(features["criteria"][rows]) <= 0.5)


def test_cache_of_another_format_is_built_again(record_folder, tmp_path, monkeypatch):
    build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)
    processed, process = [], cache_module._process

    def record_processing(*args, **kwargs):
        processed.append(args)
        return process(*args, **kwargs)

    monkeypatch.setattr(cache_module, "CACHE_FORMAT", CACHE_FORMAT + 1)
    monkeypatch.setattr(cache_module, "_process", record_processing)

    cache = build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)

    assert processed and np.all(cache.status == DONE)


@pytest.mark.real_data
def test_cache_records_which_recordings_had_their_leads_rescaled(challenge_dir, ludb_challenge_dir, tmp_path):
    records = copy_records(challenge_dir, tmp_path / "records", ["A0001", "HR00001"])
    copy_records(ludb_challenge_dir, records, ["L0001", "L0002"])

    cache = build_cache(records, tmp_path / "cache", lead_sets=("two",), n_jobs=1)

    recorded = dict(zip(cache.record_ids, cache.amplitudes_recorded.tolist(), strict=True))
    assert recorded == {"A0001": True, "HR00001": True, "L0001": False, "L0002": False}


def test_cache_window_count_of_each_record_covers_its_length(small_cache):
    counts = dict(zip(small_cache.record_ids, np.diff(small_cache.offsets).tolist(), strict=True))

    assert counts == CACHE_WINDOWS


def test_cache_marks_every_readable_record_done(small_cache):
    assert np.all(small_cache.status == DONE)
    np.testing.assert_array_equal(small_cache.usable, np.arange(len(CACHE_RECORDS)))


def test_cache_windows_of_lists_each_records_windows_with_its_owner(small_cache):
    index, owner = small_cache.windows_of(np.array([0, 2]))
    (start_0, start_2), (stop_0, stop_2) = small_cache.offsets[[0, 2]], small_cache.offsets[[1, 3]]

    np.testing.assert_array_equal(index, np.r_[start_0:stop_0, start_2:stop_2])
    np.testing.assert_array_equal(owner, [0] * (stop_0 - start_0) + [2] * (stop_2 - start_2))


def test_cache_signals_are_the_preprocessed_windows_of_the_1000_hz_record(small_cache, synthetic_records):
    header = load_header(synthetic_records / "C5_38s_1000Hz.hea")
    expected = windows(
        preprocess(
            header, load_recording(synthetic_records / "C5_38s_1000Hz.mat", header), STANDARD_LEADS
        ).signal
    )
    i = _record_index(small_cache, "C5_38s_1000Hz")

    cached = np.asarray(small_cache.signals[small_cache.offsets[i] : small_cache.offsets[i + 1]])

    np.testing.assert_array_equal(cached, expected.astype(np.float16))


def test_cache_features_are_those_run_model_computes_from_the_lead_sets_leads(small_cache, synthetic_records):
    header = load_header(synthetic_records / "C1_15s.hea")
    leads = LEAD_SETS["three"]
    batch = windows(
        preprocess(header, load_recording(synthetic_records / "C1_15s.mat", header), leads).signal
    )
    expected = features_from_delineation(batch[1], 500.0, leads, delineate_leads(batch[1], 500.0))
    window = small_cache.offsets[_record_index(small_cache, "C1_15s")] + 1

    features = small_cache.features("three")

    np.testing.assert_allclose(features["beat_values"][window], expected.beats.astype(np.float16))
    np.testing.assert_array_equal(features["beat_mask"][window], expected.beats_mask)
    np.testing.assert_allclose(features["record_values"][window], expected.record, rtol=1e-6)
    np.testing.assert_array_equal(features["record_mask"][window], expected.record_mask)


def test_cache_labels_and_demographics_come_from_the_header(small_cache, synthetic_records):
    header = parse_header(load_header(synthetic_records / "C4_35s.hea"))
    i = _record_index(small_cache, "C4_35s")

    np.testing.assert_array_equal(small_cache.labels[i], default_class_table().encode(get_labels(header)))
    np.testing.assert_array_equal(small_cache.demographics[i], demographics(get_age(header), get_sex(header)))


def test_open_cache_reads_what_build_cache_returned(small_cache):
    reopened = open_cache(small_cache.directory)

    assert reopened.record_ids == small_cache.record_ids
    np.testing.assert_array_equal(reopened.offsets, small_cache.offsets)
    np.testing.assert_array_equal(reopened.labels, small_cache.labels)


def test_cache_settings_are_those_it_was_built_with_as_its_meta_json_holds_them(record_folder, tmp_path):
    settings = PipelineSettings.from_dict({"features": {"max_beats": 24}})

    built = build_cache(record_folder, tmp_path / "cache", settings, lead_sets=("two",), n_jobs=1)

    assert built.settings == open_cache(tmp_path / "cache").settings == settings
    assert built.features("two")["beat_values"].shape[1] == 24


def test_second_build_reuses_the_cache_without_processing(record_folder, tmp_path, monkeypatch):
    build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)
    stamps = {path.name: path.stat().st_mtime_ns for path in (tmp_path / "cache").iterdir()}

    def fail(*args, **kwargs):
        raise AssertionError("the second build processed records again")

    monkeypatch.setattr(cache_module, "_process", fail)
    cache = build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)

    assert np.all(cache.status == DONE)
    assert {path.name: path.stat().st_mtime_ns for path in (tmp_path / "cache").iterdir()} == stamps


def test_build_with_other_lead_sets_rebuilds_the_cache(record_folder, tmp_path):
    build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)

    cache = build_cache(record_folder, tmp_path / "cache", lead_sets=("three",), n_jobs=1)

    assert np.all(cache.status == DONE)
    assert (tmp_path / "cache" / "three_beat_values.npy").is_file()


def test_corrupt_recording_is_logged_and_marked_failed(record_folder, tmp_path, caplog):
    (record_folder / "C2_10s.mat").write_bytes(b"not a MATLAB file")

    with caplog.at_level(logging.WARNING, logger="ecgcrnn.data.cache"):
        cache = build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)

    assert cache.status[_record_index(cache, "C2_10s")] == FAILED
    assert any("C2_10s.hea: skipped" in message for message in caplog.messages)


def test_records_beside_a_corrupt_one_stay_usable(record_folder, tmp_path):
    (record_folder / "C2_10s.mat").write_bytes(b"not a MATLAB file")

    cache = build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)

    assert [cache.record_ids[i] for i in cache.usable] == [n for n in sorted(CACHE_RECORDS) if n != "C2_10s"]
    assert np.all(np.isfinite(cache.signals[cache.windows_of(cache.usable)[0]]))


def test_unreadable_header_is_logged_and_marked_failed(record_folder, tmp_path, caplog):
    (record_folder / "C3_10s.hea").write_text("C3_10s twelve leads\n")

    with caplog.at_level(logging.WARNING, logger="ecgcrnn.data.cache"):
        cache = build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)

    assert cache.status[_record_index(cache, "C3_10s")] == FAILED
    assert any("C3_10s.hea: skipped" in message for message in caplog.messages)
    assert len(cache.usable) == len(CACHE_RECORDS) - 1


def test_a_header_announcing_more_samples_than_its_file_can_hold_is_skipped_before_any_allocation(
    record_folder, tmp_path, caplog
):
    header = record_folder / "C3_10s.hea"
    lines = header.read_text().splitlines()
    record_line = lines[0].split()
    record_line[3] = str(10**12)  # a typo's extra digits: 10^12 samples of 12 leads
    header.write_text("\n".join([" ".join(record_line), *lines[1:]]) + "\n")

    with caplog.at_level(logging.WARNING, logger="ecgcrnn.data.cache"):
        cache = build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)

    assert cache.status[_record_index(cache, "C3_10s")] == FAILED
    skipped = [message for message in caplog.messages if "C3_10s.hea: skipped" in message]
    assert len(skipped) == 1 and "C3_10s.mat" in skipped[0], caplog.messages
    assert len(cache.usable) == len(CACHE_RECORDS) - 1
    assert cache.offsets[-1] == sum(CACHE_WINDOWS[name] for name in CACHE_RECORDS if name != "C3_10s")


def test_interrupted_build_processes_only_the_pending_records(record_folder, tmp_path, monkeypatch):
    build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)
    status = np.load(tmp_path / "cache" / "status.npy", mmap_mode="r+")
    status[[1, 4]] = PENDING
    status.flush()
    seen = []
    process = cache_module._process

    def spy(directory, plan, pending, *args):
        seen.append(pending.tolist())
        return process(directory, plan, pending, *args)

    monkeypatch.setattr(cache_module, "_process", spy)
    cache = build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)

    assert seen == [[1, 4]]
    assert np.all(cache.status == DONE)


def test_interrupted_build_completes_with_the_same_arrays(record_folder, tmp_path):
    complete = build_cache(record_folder, tmp_path / "complete", lead_sets=("two",), n_jobs=1)
    build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)
    cache = open_cache(tmp_path / "cache")
    rewound = cache.windows_of(np.array([2, 5]))[0]
    cache.status[[2, 5]] = PENDING
    cache.status.flush()
    signals = np.load(tmp_path / "cache" / "signals.npy", mmap_mode="r+")
    signals[rewound] = 0  # the windows a killed build had not written yet
    signals.flush()

    resumed = build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)

    assert np.all(resumed.status == DONE)
    np.testing.assert_array_equal(resumed.signals, complete.signals)
    np.testing.assert_array_equal(
        resumed.features("two")["record_values"], complete.features("two")["record_values"]
    )


def test_build_of_a_folder_without_records_raises_value_error_naming_it(tmp_path):
    (tmp_path / "empty").mkdir()

    with pytest.raises(ValueError, match="empty"):
        build_cache(tmp_path / "empty", tmp_path / "cache")


def test_build_after_a_header_edit_reads_the_new_labels(record_folder, tmp_path):
    build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)
    header = record_folder / "C2_10s.hea"
    lines = header.read_text().splitlines(keepends=True)
    header.write_text("".join("#Dx: 164889003\n" if line.startswith("#Dx") else line for line in lines))

    cache = build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)

    expected = default_class_table().encode(["164889003"], dtype=np.uint8)
    np.testing.assert_array_equal(cache.labels[_record_index(cache, "C2_10s")], expected)


def test_build_logs_its_records_per_second(record_folder, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="ecgcrnn.data.cache"):
        build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)

    assert any(
        f"preprocessed {len(CACHE_RECORDS)} records in" in message and "records per second" in message
        for message in caplog.messages
    )


# A build that is killed (SIGKILL, no clean-up) while it computes the features of C4_35s's second window: the
# first three records (four windows) are done, C4_35s is not.
_KILLED_BUILD = """
import os, signal, sys
from ecgcrnn import pipeline
from ecgcrnn.data import cache

cache._CHUNK_RECORDS = 1
extract, calls = pipeline.features_from_delineation, []

def extract_or_die(*args, **kwargs):
    calls.append(1)
    if len(calls) == 6:
        os.kill(os.getpid(), signal.SIGKILL)
    return extract(*args, **kwargs)

pipeline.features_from_delineation = extract_or_die
cache.build_cache(sys.argv[1], sys.argv[2], lead_sets=("two",), n_jobs=1)
"""


def test_build_killed_half_way_continues_with_the_pending_records(record_folder, tmp_path, monkeypatch):
    complete = build_cache(record_folder, tmp_path / "complete", lead_sets=("two",), n_jobs=1)
    _run_until_killed(_KILLED_BUILD, record_folder, tmp_path / "cache")
    assert open_cache(tmp_path / "cache").status.tolist() == [DONE, DONE, DONE, PENDING, PENDING, PENDING]
    seen, process = [], cache_module._process

    def spy(directory, plan, pending, *args):
        seen.append(pending.tolist())
        return process(directory, plan, pending, *args)

    monkeypatch.setattr(cache_module, "_process", spy)
    resumed = build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)

    assert seen == [[3, 4, 5]]
    assert np.all(resumed.status == DONE)
    np.testing.assert_array_equal(resumed.signals, complete.signals)
    for name, array in complete.features("two").items():
        np.testing.assert_array_equal(resumed.features("two")[name], array, err_msg=name)


# A build killed (SIGKILL) half-way through writing labels.npy, the second array it writes.
_KILLED_ALLOCATION = """
import os, signal, sys
from numpy.lib import format
from ecgcrnn.data import cache

write_array, calls = format.write_array, []

def write_half_and_die(file, array, *args, **kwargs):
    calls.append(1)
    if len(calls) == 2:
        write_array(file, array[: len(array) // 2], *args, **kwargs)
        file.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    return write_array(file, array, *args, **kwargs)

format.write_array = write_half_and_die
cache.build_cache(sys.argv[1], sys.argv[2], lead_sets=("two",), n_jobs=1)
"""


def test_build_killed_while_writing_an_array_leaves_no_half_written_array_and_builds_again(
    record_folder, tmp_path
):
    complete = build_cache(record_folder, tmp_path / "complete", lead_sets=("two",), n_jobs=1)
    _run_until_killed(_KILLED_ALLOCATION, record_folder, tmp_path / "cache")

    assert sorted(path.name for path in (tmp_path / "cache").glob("[!.]*")) == ["offsets.npy"]
    np.testing.assert_array_equal(np.load(tmp_path / "cache" / "offsets.npy"), complete.offsets)
    rebuilt = build_cache(record_folder, tmp_path / "cache", lead_sets=("two",), n_jobs=1)
    np.testing.assert_array_equal(rebuilt.labels, complete.labels)
    np.testing.assert_array_equal(rebuilt.signals, complete.signals)
    assert rebuilt.settings == complete.settings == PipelineSettings()


def test_row_reader_reads_the_rows_a_memory_map_holds_in_any_order_with_repeats(small_cache):
    reader, signals = small_cache.reader("signals"), small_cache.signals
    rows = np.array([5, 0, 1, 2, 23, 2, 6, 5])

    np.testing.assert_array_equal(reader[rows], signals[rows])
    assert (len(reader), reader.shape, reader.dtype) == (len(signals), signals.shape, signals.dtype)


def test_row_readers_of_a_lead_set_read_its_feature_arrays(small_cache):
    readers, features = small_cache.readers("three"), small_cache.features("three")
    rows = np.arange(len(small_cache.signals))[::-1]

    assert set(readers) == set(features)
    for name, array in features.items():
        np.testing.assert_array_equal(readers[name][rows], array[rows], err_msg=name)


def test_row_reader_of_no_rows_is_empty_with_the_row_shape(small_cache):
    rows = small_cache.reader("signals")[np.array([], np.int64)]

    assert rows.shape == (0, 12, 5000) and rows.dtype == np.float16


def test_row_reader_outside_the_array_raises_index_error(small_cache):
    reader = small_cache.reader("signals")

    with pytest.raises(IndexError, match="signals.npy"):
        reader[np.array([0, len(reader)])]


def test_row_reader_refuses_a_fortran_ordered_array(tmp_path):
    np.save(tmp_path / "a.npy", np.asfortranarray(np.ones((3, 4))))

    with pytest.raises(ValueError, match="a.npy: expected a C-ordered array"):
        RowReader(tmp_path / "a.npy")


def _run_until_killed(script: str, record_folder, cache_folder) -> None:
    """Run ``script`` (a cache build that kills itself) on the records into ``cache_folder``; assert that it
    died of SIGKILL."""
    killed = subprocess.run(
        [sys.executable, "-c", script, str(record_folder), str(cache_folder)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
