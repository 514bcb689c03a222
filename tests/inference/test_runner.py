import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import types
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest
from helpers import REPOSITORY, copy_records, save_untrained_model, tiny_environment

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


def _first_sample_noted(header, recording) -> dict:
    """:func:`_first_sample`, noting the record as prepared in the folder ``PREPARED_DIR`` names."""
    (Path(os.environ["PREPARED_DIR"]) / parse_header(header).record_name).touch()
    return _first_sample(header, recording)


class LoadingEntry(StagedEntry):
    """A two-stage model whose network loads in the background until ``count`` records are prepared (it
    fails after ``timeout_s`` without them)."""

    prepare = staticmethod(_first_sample_noted)

    def __init__(self, prepared: Path, count: int, timeout_s: float = 60.0):
        super().__init__()
        self.prepared, self.count, self.timeout_s = prepared, count, timeout_s
        self.seen_when_loaded = None

    def wait_until_loaded(self):
        deadline = time.monotonic() + self.timeout_s
        while len(list(self.prepared.iterdir())) < self.count:
            if time.monotonic() > deadline:
                raise RuntimeError("no recording was prepared while the network loaded")
            time.sleep(0.05)
        self.seen_when_loaded = sorted(path.name for path in self.prepared.iterdir())
        return self

    def finish_many(self, prepared, names=None):
        assert self.seen_when_loaded is not None, "a recording was finished before the network loaded"
        return super().finish_many(prepared, names)


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


def test_recordings_are_prepared_while_the_network_loads_and_finished_once_it_has(
    test_set, tmp_path, monkeypatch
):
    (tmp_path / "prepared").mkdir()
    monkeypatch.setenv("PREPARED_DIR", str(tmp_path / "prepared"))  # the workers inherit it
    entry = LoadingEntry(tmp_path / "prepared", count=3)

    total, failed = run_test_set(tmp_path, test_set, tmp_path / "out", entry.load_model, None, workers=2)

    assert (total, failed) == (3, 0)
    assert entry.seen_when_loaded == ["C1_15s", "C2_10s", "C5_38s_1000Hz"]
    assert [name for names in entry.names for name in names] == entry.seen_when_loaded


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


@pytest.fixture(scope="module")
def twelve_lead_model(tmp_path_factory) -> Path:
    """A model folder with an untrained tiny twelve-lead model."""
    root = tmp_path_factory.mktemp("model")
    save_untrained_model(root, "twelve")
    return root


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="finds processes in /proc")
@pytest.mark.parametrize(
    ("signum", "to_group"),
    [(signal.SIGTERM, False), (signal.SIGKILL, False), (signal.SIGINT, True)],
    ids=["SIGTERM", "SIGKILL", "Ctrl-C"],
)
def test_worker_processes_end_with_test_model_when_it_is_killed(
    signum, to_group, twelve_lead_model, synthetic_records, tmp_path
):
    """SIGTERM and SIGKILL reach test_model.py alone; Ctrl-C in a terminal sends SIGINT to its whole process
    group, the workers too, which leave it to test_model.py to stop them."""
    records = _copies(synthetic_records, "C4_35s", tmp_path / "test", 40)
    out = tmp_path / "out"
    command = [sys.executable, REPOSITORY / "test_model.py", twelve_lead_model, records, out, "-q"]
    environ = {**tiny_environment(), "ECGCRNN_WORKERS": "2"}
    with open(tmp_path / "stderr.txt", "w") as stderr:
        process = subprocess.Popen(
            command,
            cwd=REPOSITORY,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # its own process group, as a command started in a terminal has
            preexec_fn=_ctrl_c_as_in_a_terminal,
        )
    children = []
    try:
        children = _children_once_running(process, out, tmp_path / "stderr.txt")
        if to_group:
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
        process.wait(timeout=120)
        survivors = _survivors(children, within_s=10.0)
    finally:
        process.kill()
        process.wait()
        for pid in _survivors(children, within_s=0.0):  # leave no worker behind, whatever the outcome
            _kill(pid)

    assert survivors == [], f"{len(survivors)} of {len(children)} child processes outlived test_model.py"
    if signum != signal.SIGKILL:
        assert process.returncode == 130
        lines = (tmp_path / "stderr.txt").read_text().splitlines()
        assert lines[-1] == "test_model.py: interrupted"
        assert not any(line.startswith("Traceback") for line in lines), "\n".join(lines)


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


def _ctrl_c_as_in_a_terminal() -> None:
    """In the child before it starts: SIGINT's default action, as a command run in a terminal has it (a
    test run in the background of a shell without job control inherits SIGINT ignored, and Python then
    installs no handler for it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _copies(source: Path, name: str, folder: Path, count: int) -> Path:
    """``count`` copies of the record ``name`` of ``source``, named T0000, T0001, ..., in ``folder``."""
    folder.mkdir(parents=True)
    text = (source / f"{name}.hea").read_text()
    for k in range(count):
        copy = f"T{k:04d}"
        (folder / f"{copy}.hea").write_text(text.replace(name, copy))
        shutil.copy(source / f"{name}.mat", folder / f"{copy}.mat")
    return folder


def _children_once_running(process: subprocess.Popen, out: Path, stderr: Path, timeout_s=300.0) -> list[int]:
    """The child processes of ``process`` once two of them are workers and a first output is written."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"test_model.py ended ({process.returncode}) before it was killed:\n{stderr.read_text()}"
            )
        children = [pid for pid, (_, parent) in _processes().items() if parent == process.pid]
        workers = [pid for pid in children if b"spawn_main" in _read(f"/proc/{pid}/cmdline")]
        if len(workers) == 2 and any(out.glob("*.csv")):
            return children
        time.sleep(0.05)
    pytest.fail(f"test_model.py started no two workers in {timeout_s:g} s")


def _survivors(pids: list[int], within_s: float) -> list[int]:
    """Those of ``pids`` that are still running after ``within_s`` seconds (zombies count as ended)."""
    deadline = time.monotonic() + within_s
    while True:
        processes = _processes()
        running = [pid for pid in pids if pid in processes and processes[pid][0] not in "ZX"]
        if not running or time.monotonic() >= deadline:
            return running
        time.sleep(0.05)


def _processes() -> dict[int, tuple[str, int]]:
    """Every process's (state, parent pid) by pid, from /proc."""
    processes = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _read(entry / "stat")
            if stat:
                state, parent = stat.rpartition(b")")[2].split()[:2]
                processes[int(entry.name)] = (state.decode(), int(parent))
    return processes


def _read(path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:  # the process ended meanwhile
        return b""


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.kill(pid, signal.SIGKILL)
