import logging
import sys
import types
from concurrent.futures import Future

import numpy as np
import pytest
from helpers import copy_records

import test_model
from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.inference.runner import ModelLoadError, _ready_batches, run_test_set
from ecgcrnn.io.outputs import load_outputs
from ecgcrnn.io.records import load_recording, parse_header


class FakeEntry:
    """load_model/run_model that record their calls; run_model echoes the recording's first sample."""

    def __init__(self, fail_leads=()):
        self.loaded, self.runs, self.fail_leads = [], [], set(fail_leads)

    def load_model(self, model_directory, leads):
        if leads in self.fail_leads:
            raise FileNotFoundError(f"no model for {leads}")
        self.loaded.append(leads)
        return {"leads": leads}

    def run_model(self, model, header, recording):
        assert parse_header(header).num_leads == recording.shape[0]
        self.runs.append((model["leads"], parse_header(header).record_name, recording.shape))
        classes = default_class_table().names
        labels = np.zeros(len(classes), bool)
        labels[0] = recording[0, 0] > 0
        return classes, labels, np.full(len(classes), 0.25, np.float32)


def _first_sample(header, recording) -> dict:
    """A two-stage model's ``prepare``: picklable, as the worker processes need it."""
    return {"first": float(recording[0, 0])}


class StagedEntry:
    """A two-stage model (``prepare`` and ``finish_many``) that records the record names it is given."""

    prepare = staticmethod(_first_sample)

    def __init__(self):
        self.names = []

    def load_model(self, model_directory, leads):
        return self

    def finish_many(self, prepared, names=None):
        self.names.append(list(names))
        classes = default_class_table().names
        return [
            (classes, np.zeros(len(classes), bool), np.full(len(classes), 0.25, np.float32)) for _ in prepared
        ]


@pytest.fixture
def test_set(synthetic_records, tmp_path):
    """Three synthetic 12-lead records in a test folder."""
    return copy_records(synthetic_records, tmp_path / "test", ("C1_15s", "C2_10s", "C5_38s_1000Hz"))


def test_each_recording_gets_its_output_and_models_load_once_per_lead_set(test_set, tmp_path):
    entry = FakeEntry()
    total, failed = run_test_set(tmp_path, test_set, tmp_path / "out", entry.load_model, entry.run_model)
    assert (total, failed) == (3, 0)
    assert entry.loaded == [LEAD_SETS["twelve"]]
    assert [run[1] for run in entry.runs] == ["C1_15s", "C2_10s", "C5_38s_1000Hz"]
    assert all(run[2][0] == 12 for run in entry.runs)
    recording_id, classes, labels, probabilities = load_outputs(tmp_path / "out" / "C1_15s.csv")
    first_sample_positive = str(int(load_recording(test_set / "C1_15s.mat")[0, 0] > 0))
    assert recording_id == "C1_15s" and classes == default_class_table().names
    assert labels[0] == first_sample_positive and set(labels[1:]) == {"0"} and set(probabilities) == {0.25}


def test_a_two_stage_model_is_given_the_record_names_of_the_recordings_it_finishes(test_set, tmp_path):
    entry = StagedEntry()

    def run_model(model, header, recording):
        raise AssertionError("a two-stage model is run in two stages")

    total, failed = run_test_set(tmp_path, test_set, tmp_path / "out", entry.load_model, run_model, workers=2)

    assert (total, failed) == (3, 0)
    assert [name for names in entry.names for name in names] == ["C1_15s", "C2_10s", "C5_38s_1000Hz"]
    assert load_outputs(tmp_path / "out" / "C2_10s.csv")[0] == "C2_10s"


def test_recordings_are_grouped_by_sorted_lead_set(test_set, tmp_path):
    from ecgcrnn.io.extract import extract_leads

    extract_leads(test_set, tmp_path / "two", ("ii", "I"))
    entry = FakeEntry()
    run_test_set(tmp_path, tmp_path / "two", tmp_path / "out", entry.load_model, entry.run_model)
    assert entry.loaded == [("I", "II")]
    assert [run[2][0] for run in entry.runs] == [2, 2, 2]


def test_a_failing_recording_gets_an_all_negative_output_and_the_run_goes_on(test_set, tmp_path, caplog):
    (test_set / "C2_10s.mat").write_bytes((test_set / "C2_10s.mat").read_bytes()[:1000])
    entry = FakeEntry()
    with caplog.at_level(logging.ERROR):
        total, failed = run_test_set(tmp_path, test_set, tmp_path / "out", entry.load_model, entry.run_model)
    assert (total, failed) == (3, 1)
    assert "C2_10s: failed (RecordError: " in caplog.text and "truncated" in caplog.text
    _, classes, labels, probabilities = load_outputs(tmp_path / "out" / "C2_10s.csv")
    assert len(classes) == 26 and set(labels) == {"0"} and set(probabilities) == {0.0}
    assert (tmp_path / "out" / "C5_38s_1000Hz.csv").is_file()


def test_an_unreadable_header_fails_only_that_recording(test_set, tmp_path):
    (test_set / "C5_38s_1000Hz.hea").write_text("garbage\n")
    entry = FakeEntry()
    assert run_test_set(tmp_path, test_set, tmp_path / "out", entry.load_model, entry.run_model) == (3, 1)
    assert load_outputs(tmp_path / "out" / "C5_38s_1000Hz.csv")[0] == "C5_38s_1000Hz"


@pytest.mark.parametrize("recording", ["missing", "a dangling link"])
def test_a_header_without_its_recording_is_logged_and_gets_an_all_negative_output(
    recording, test_set, tmp_path, caplog
):
    (test_set / "C2_10s.mat").unlink()
    if recording == "a dangling link":
        (test_set / "C2_10s.mat").symlink_to(tmp_path / "gone.mat")
    entry = FakeEntry()

    with caplog.at_level(logging.WARNING):
        total, failed = run_test_set(tmp_path, test_set, tmp_path / "out", entry.load_model, entry.run_model)

    assert (total, failed) == (3, 1)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(str(test_set / "C2_10s.mat") in message for message in warnings)
    recording_id, classes, labels, probabilities = load_outputs(tmp_path / "out" / "C2_10s.csv")
    assert recording_id == "C2_10s" and len(classes) == 26
    assert set(labels) == {"0"} and set(probabilities) == {0.0}


def test_a_lead_set_whose_model_fails_to_load_fails_the_run_after_writing_its_outputs(test_set, tmp_path):
    entry = FakeEntry(fail_leads=[LEAD_SETS["twelve"]])
    with pytest.raises(ModelLoadError, match="all-negative outputs for 3 recordings with leads I, II, "):
        run_test_set(tmp_path, test_set, tmp_path / "out", entry.load_model, entry.run_model)
    assert len(list((tmp_path / "out").glob("*.csv"))) == 3


def test_bad_run_model_return_is_a_failure(test_set, tmp_path):
    def run_model(model, header, recording):
        return ["164889003"], ["maybe"], [0.5]

    assert run_test_set(tmp_path, test_set, tmp_path / "out", FakeEntry().load_model, run_model) == (3, 3)


def test_missing_or_empty_data_folder_is_an_error(tmp_path):
    entry = FakeEntry()
    with pytest.raises(FileNotFoundError, match="no such folder"):
        run_test_set(tmp_path, tmp_path / "absent", tmp_path / "out", entry.load_model, entry.run_model)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no records"):
        run_test_set(tmp_path, tmp_path / "empty", tmp_path / "out", entry.load_model, entry.run_model)


@pytest.fixture
def fake_team_code(monkeypatch):
    entry = FakeEntry()
    module = types.ModuleType("team_code")
    module.load_model, module.run_model = entry.load_model, entry.run_model
    monkeypatch.setitem(sys.modules, "team_code", module)
    return entry


def test_cli_ends_with_a_summary_line(test_set, tmp_path, fake_team_code, capsys):
    (test_set / "C1_15s.mat").unlink()
    (test_set / "C2_10s.mat").write_bytes(b"")
    assert test_model.main([str(tmp_path), str(test_set), str(tmp_path / "out"), "-q"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "3 recordings, 2 failed"


def test_cli_missing_folder_is_a_one_line_error(tmp_path, fake_team_code, capsys):
    assert test_model.main([str(tmp_path), str(tmp_path / "absent"), str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "absent: no such folder" in error


def test_train_cli_missing_or_empty_folder_is_a_one_line_error(tmp_path, capsys):
    import train_model

    assert train_model.main([str(tmp_path / "absent"), str(tmp_path / "model")]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    (tmp_path / "empty").mkdir()
    assert train_model.main([str(tmp_path / "empty"), str(tmp_path / "model")]) == 1
    assert "no records" in capsys.readouterr().err


def _done(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


def test_ready_batches_keep_the_order_and_take_only_what_is_done_after_the_first():
    pending: Future = Future()
    pairs = [(0, _done(0)), (1, _done(1)), (2, pending), (3, _done(3)), (4, _done(4)), (5, _done(5))]

    batches = [[member for member, _ in batch] for batch in _ready_batches(iter(pairs), limit=2)]

    assert batches == [[0, 1], [2, 3], [4, 5]]
