"""Errors a user can cause: each ends the Challenge script with exit status 1 and one last line on stderr that
names the path and says what to do (no traceback without --verbose), and leaves no half-written model or
output file. A recording that cannot be read is the exception: test_model.py logs it and carries on.

Read-only folders: root ignores file permissions, so as root those tests run the script under ``setpriv``
without the capabilities that override them, and skip where that is not possible.
"""

import contextlib
import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPOSITORY, copy_records, save_untrained_model, tiny_config, tiny_environment

import evaluate_model
import extract_leads_wfdb
import test_model
import train_model
from ecgcrnn.app import cli
from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.io.extract import extract_leads
from ecgcrnn.io.outputs import load_outputs, save_outputs
from ecgcrnn.model.folder import MODEL_FILE
from ecgcrnn.model.lead_set import LeadSetModel

RECORDS = ("C1_15s", "C2_10s", "C3_10s")
CLASSES = default_class_table().names
NO_SPACE = "no space left on the device: free some space"


@pytest.fixture
def records(synthetic_records, tmp_path) -> Path:
    """Three synthetic 12-lead records in a folder of their own."""
    return copy_records(synthetic_records, tmp_path / "records", RECORDS)


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory) -> Path:
    """A model folder with an untrained tiny twelve-lead model, and no other lead set."""
    root = tmp_path_factory.mktemp("model")
    _save(root, "twelve", _network("twelve"))
    return root


@pytest.fixture
def one_worker(monkeypatch):
    monkeypatch.setenv("ECGCRNN_WORKERS", "1")


# train_model.py


def test_train_model_without_its_data_folder_says_to_check_train_dir(tmp_path, capsys):
    assert train_model.main([str(tmp_path / "absent"), str(tmp_path / "model")]) == 1
    expected = f"{tmp_path / 'absent'}: no such folder: check TRAIN_DIR"
    assert _error_line(capsys) == f"train_model.py: error: {expected}"


def test_train_model_on_a_folder_without_records_asks_for_a_folder_of_records(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "A0001.hea").write_text("a header without its recording\n")
    assert train_model.main([str(tmp_path / "empty"), str(tmp_path / "model")]) == 1
    expected = "empty: no records (.hea with a .mat beside it) found: give a folder of Challenge records as "
    assert _error_line(capsys).endswith(expected + "TRAIN_DIR")
    assert not (tmp_path / "model").exists()


def test_train_model_on_too_few_readable_records_names_the_folder_and_what_it_needs(
    records, tmp_path, monkeypatch, capsys
):
    (records / "C2_10s.mat").write_bytes(b"truncated")
    (records / "C3_10s.mat").write_bytes(b"truncated")
    monkeypatch.setenv("ECGCRNN_CONFIG", "")
    for name, value in tiny_environment(lead_sets=["two"], epochs=1).items():
        monkeypatch.setenv(name, value)

    assert train_model.main([str(records), str(tmp_path / "model")]) == 1
    line = _error_line(capsys)
    assert line.startswith(f"train_model.py: error: {records}: 1 readable records")
    assert line.endswith("give a folder with at least 4 readable records")
    assert not (tmp_path / "model" / "two").exists()


def test_train_model_into_a_read_only_model_folder_asks_for_a_writable_one(records, tmp_path):
    model = tmp_path / "model"
    with _read_only(model):
        result = _run_as_user(["train_model.py", records, model])
    assert result.returncode == 1
    expected = f"{model} is not writable: choose a writable MODEL_DIR"
    assert _last_line(result) == f"train_model.py: error: {expected}"
    assert list(model.iterdir()) == []


def test_train_model_on_a_full_disk_leaves_no_model_and_says_to_free_space(
    records, tmp_path, monkeypatch, capsys
):
    import team_code

    network = _network("two")
    monkeypatch.setattr(network, "save", _disk_full)
    monkeypatch.setattr(
        team_code, "training_code", lambda data, model, *settings: _save(model, "two", network)
    )
    model = tmp_path / "model"

    assert train_model.main([str(records), str(model)]) == 1

    expected = f"{model / 'two'}: {NO_SPACE} or choose another MODEL_DIR and run again"
    assert _error_line(capsys) == f"train_model.py: error: {expected}"
    assert list(model.iterdir()) == []


def test_a_model_saved_over_an_older_one_on_a_full_disk_leaves_the_older_one_loadable(tmp_path, monkeypatch):
    _save(tmp_path, "two", _network("two"))
    before = (tmp_path / "two" / MODEL_FILE).read_bytes()
    replace = os.replace

    def fail_into_place(source, target):  # the last step: the new folder takes the old one's place
        if Path(source).name.startswith(".two.tmp"):
            _disk_full()
        replace(source, target)

    monkeypatch.setattr(os, "replace", fail_into_place)
    with pytest.raises(OSError) as raised:
        _save(tmp_path, "two", _network("two"))

    assert (raised.value.errno, raised.value.filename) == (errno.ENOSPC, str(tmp_path / "two"))
    assert [path.name for path in tmp_path.iterdir()] == ["two"]
    assert (tmp_path / "two" / MODEL_FILE).read_bytes() == before
    LeadSetModel.load(tmp_path, LEAD_SETS["two"])


# test_model.py


def test_test_model_without_its_model_folder_says_to_train_one(records, tmp_path, capsys):
    assert test_model.main([str(tmp_path / "absent"), str(records), str(tmp_path / "out")]) == 1
    expected = f"{tmp_path / 'absent'}: no such folder: check MODEL_DIR, or train a model there with "
    assert _error_line(capsys) == f"test_model.py: error: {expected}train_model.py"
    assert not (tmp_path / "out").exists()


def test_test_model_without_its_data_folder_says_to_check_test_dir(model_folder, tmp_path, capsys):
    assert test_model.main([str(model_folder), str(tmp_path / "absent"), str(tmp_path / "out")]) == 1
    expected = f"{tmp_path / 'absent'}: no such folder: check TEST_DIR"
    assert _error_line(capsys) == f"test_model.py: error: {expected}"


def test_test_model_on_a_folder_without_records_asks_for_a_folder_of_records(model_folder, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert test_model.main([str(model_folder), str(tmp_path / "empty"), str(tmp_path / "out")]) == 1
    assert _error_line(capsys).endswith("found: give a folder of Challenge records as TEST_DIR")


def test_test_model_on_one_record_name_in_two_folders_names_both_before_writing_anything(
    model_folder, records, tmp_path, capsys
):
    copy_records(records, records / "sub", ["C2_10s"])
    out = tmp_path / "out"
    assert test_model.main([str(model_folder), str(records), str(out)]) == 1
    both = f"{records / 'C2_10s.hea'} and {records / 'sub' / 'C2_10s.hea'}"
    expected = (
        f"{both}: two records named C2_10s, but a record's name must be unique: rename one, or remove it"
    )
    assert _error_line(capsys) == f"test_model.py: error: {expected}"
    assert not out.exists()


def test_train_model_on_one_record_name_in_two_folders_names_both_before_writing_anything(
    records, tmp_path, capsys
):
    copy_records(records, records / "sub", ["C3_10s"])
    assert train_model.main([str(records), str(tmp_path / "model")]) == 1
    assert _error_line(capsys).endswith(
        ": two records named C3_10s, but a record's name must be unique: rename one, or remove it"
    )
    assert not (tmp_path / "model").exists()


def test_test_model_skips_a_link_that_loops_in_its_test_folder_with_a_warning(
    model_folder, records, tmp_path, one_worker, caplog
):
    (records / "loop").symlink_to("loop")
    out = tmp_path / "out"
    assert test_model.main([str(model_folder), str(records), str(out)]) == 0
    assert f"{records / 'loop'}: Too many levels of symbolic links; skipped" in caplog.text
    assert sorted(path.name for path in out.iterdir()) == [f"{name}.csv" for name in RECORDS]


def test_test_model_without_a_model_for_a_lead_set_writes_every_output_then_says_to_train_it(
    model_folder, records, tmp_path, one_worker, capsys
):
    extract_leads(records, tmp_path / "two", LEAD_SETS["two"])
    shutil.copy(tmp_path / "two" / "C1_15s.hea", records / "T0001.hea")
    shutil.copy(tmp_path / "two" / "C1_15s.mat", records / "T0001.mat")
    (records / "T0001.hea").write_text((records / "T0001.hea").read_text().replace("C1_15s", "T0001"))
    out = tmp_path / "out"

    assert test_model.main([str(model_folder), str(records), str(out)]) == 1

    assert _error_line(capsys) == (
        "test_model.py: error: all-negative outputs for 1 recording with leads I, II: "
        f"{model_folder / 'two'}: no trained model here (expected model.json and model.keras): train the "
        "two-lead model with train_model.py, or give the model folder that holds it"
    )
    assert sorted(path.name for path in out.iterdir()) == [f"{name}.csv" for name in (*RECORDS, "T0001")]


def test_test_model_logs_an_unreadable_record_gives_it_an_all_negative_output_and_carries_on(
    model_folder, records, tmp_path, one_worker, capsys, caplog
):
    (records / "C2_10s.mat").write_bytes((records / "C2_10s.mat").read_bytes()[:1000])

    assert test_model.main([str(model_folder), str(records), str(tmp_path / "out"), "-q"]) == 0

    assert capsys.readouterr().out.splitlines()[-1] == "3 recordings, 1 failed"
    assert "C2_10s: failed (RecordError: " in caplog.text and "truncated MATLAB file" in caplog.text
    _, classes, labels, probabilities = load_outputs(tmp_path / "out" / "C2_10s.csv")
    assert len(classes) == 26 and set(labels) == {"0"} and set(probabilities) == {0.0}


def test_test_model_into_a_read_only_output_folder_asks_for_a_writable_one(model_folder, records, tmp_path):
    out = tmp_path / "out"
    with _read_only(out):
        result = _run_as_user(["test_model.py", model_folder, records, out])
    assert result.returncode == 1
    assert _last_line(result) == f"test_model.py: error: {out} is not writable: choose a writable OUTPUT_DIR"
    assert list(out.iterdir()) == []


def test_test_model_on_an_unreadable_data_folder_says_to_fix_its_permissions(model_folder, records, tmp_path):
    with _read_only(records, mode=0o000):
        result = _run_as_user(["test_model.py", model_folder, records, tmp_path / "out"])
    assert result.returncode == 1
    assert _last_line(result) == (
        f"test_model.py: error: {records} is not readable: fix its permissions or choose another TEST_DIR"
    )


def test_test_model_on_a_full_disk_stops_and_leaves_no_partial_output(
    model_folder, records, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("ECGCRNN_WORKERS", "2")  # the pipeline of worker processes, stopped half-way
    replace = os.replace

    def fail_outputs(source, target):
        if Path(target).suffix == ".csv":
            _disk_full()
        replace(source, target)

    monkeypatch.setattr(os, "replace", fail_outputs)
    out = tmp_path / "out"

    assert test_model.main([str(model_folder), str(records), str(out), "-q"]) == 1

    line = _error_line(capsys)
    assert line.startswith(f"test_model.py: error: {out}{os.sep}")
    assert line.endswith(f".csv: {NO_SPACE} or choose another OUTPUT_DIR and run again")
    assert list(out.iterdir()) == []


# extract_leads_wfdb.py


def test_extract_without_its_input_folder_says_to_check_input_dir(tmp_path, capsys):
    arguments = ["-i", str(tmp_path / "absent"), "-o", str(tmp_path / "out"), "-l", "I", "II"]
    assert extract_leads_wfdb.main(arguments) == 1
    expected = f"{tmp_path / 'absent'}: no such folder: check INPUT_DIR"
    assert _error_line(capsys) == f"extract_leads_wfdb.py: error: {expected}"


def test_extract_of_a_folder_without_records_asks_for_a_folder_of_records(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert (
        extract_leads_wfdb.main(["-i", str(tmp_path / "empty"), "-o", str(tmp_path / "out"), "-l", "I"]) == 1
    )
    assert _error_line(capsys).endswith("found: give a folder of Challenge records as INPUT_DIR")


def test_extract_of_a_truncated_record_names_it_and_says_to_fix_or_remove_it(records, tmp_path, capsys):
    (records / "C2_10s.mat").write_bytes((records / "C2_10s.mat").read_bytes()[:1000])
    out = tmp_path / "out"
    assert extract_leads_wfdb.main(["-i", str(records), "-o", str(out), "-l", "I", "II"]) == 1
    line = _error_line(capsys)
    assert line.startswith(f"extract_leads_wfdb.py: error: {records / 'C2_10s.mat'}: truncated MATLAB file")
    assert line.endswith(": fix that record or remove it")
    assert _hidden(out) == []


def test_extract_skips_a_link_that_loops_in_its_input_folder_with_a_warning(records, tmp_path, caplog):
    (records / "loop").symlink_to("loop")
    out = tmp_path / "out"
    assert extract_leads_wfdb.main(["-i", str(records), "-o", str(out), "-l", "I", "II"]) == 0
    assert f"{records / 'loop'}: Too many levels of symbolic links; skipped" in caplog.text
    assert sorted(path.name for path in out.iterdir()) == sorted(
        f"{r}{s}" for r in RECORDS for s in (".hea", ".mat")
    )


def test_extract_into_a_link_that_loops_names_it_in_one_line(records, tmp_path, capsys):
    (tmp_path / "out").symlink_to("out")
    assert extract_leads_wfdb.main(["-i", str(records), "-o", str(tmp_path / "out"), "-l", "I"]) == 1
    expected = f"{tmp_path / 'out'}: Too many levels of symbolic links: check OUTPUT_DIR"
    assert _error_line(capsys) == f"extract_leads_wfdb.py: error: {expected}"


def test_extract_of_one_record_name_in_two_folders_names_both_before_writing_anything(
    records, tmp_path, capsys
):
    copy_records(records, records / "a", ["C1_15s"])
    copy_records(records, records / "b", ["C1_15s"])
    out = tmp_path / "out"
    assert extract_leads_wfdb.main(["-i", str(records), "-o", str(out), "-l", "I", "II"]) == 1
    both = f"{records / 'C1_15s.hea'} and {records / 'a' / 'C1_15s.hea'}"
    expected = (
        f"{both}: two records named C1_15s, but a record's name must be unique: rename one, or remove it"
    )
    assert _error_line(capsys) == f"extract_leads_wfdb.py: error: {expected}"
    assert not out.exists()


def test_extract_into_a_read_only_output_folder_asks_for_a_writable_one(records, tmp_path):
    out = tmp_path / "out"
    with _read_only(out):
        result = _run_as_user(["extract_leads_wfdb.py", "-i", records, "-o", out, "-l", "I", "II"])
    assert result.returncode == 1
    expected = f"{out} is not writable: choose a writable OUTPUT_DIR"
    assert _last_line(result) == f"extract_leads_wfdb.py: error: {expected}"


def test_extract_on_a_full_disk_leaves_no_partial_file(records, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(os, "replace", _disk_full)
    out = tmp_path / "out"

    assert extract_leads_wfdb.main(["-i", str(records), "-o", str(out), "-l", "I", "II"]) == 1

    expected = f"{out / 'C1_15s.mat'}: {NO_SPACE} or choose another OUTPUT_DIR and run again"
    assert _error_line(capsys) == f"extract_leads_wfdb.py: error: {expected}"
    assert list(out.iterdir()) == []


# evaluate_model.py


def test_evaluate_on_a_full_disk_leaves_no_partial_scores_file(records, tmp_path, monkeypatch, capsys):
    outputs = _negative_outputs(records, tmp_path / "outputs")
    monkeypatch.setattr(os, "replace", _disk_full)
    scores = tmp_path / "scores" / "scores.csv"
    scores.parent.mkdir()

    assert evaluate_model.main([str(records), str(outputs), str(scores)]) == 1

    expected = f"{scores}: {NO_SPACE} or choose another SCORES_FILE and run again"
    assert _error_line(capsys).endswith(f": error: {expected}")  # after the program's name
    assert list(scores.parent.iterdir()) == []


def test_evaluate_into_a_read_only_folder_asks_for_a_writable_scores_file(records, tmp_path):
    outputs = _negative_outputs(records, tmp_path / "outputs")
    scores = tmp_path / "scores" / "scores.csv"
    with _read_only(scores.parent):
        result = _run_as_user(["evaluate_model.py", records, outputs, scores])
    assert result.returncode == 1
    expected = f"{scores.parent} is not writable: choose a writable SCORES_FILE"
    assert _last_line(result) == f"evaluate_model.py: error: {expected}"


def test_evaluate_on_a_read_only_file_system_names_the_scores_file_not_a_temporary_one(
    records, tmp_path, monkeypatch, capsys
):
    outputs = _negative_outputs(records, tmp_path / "outputs")
    scores = tmp_path / "scores" / "scores.csv"
    scores.parent.mkdir()
    _read_only_file_system(monkeypatch, scores.parent)

    assert evaluate_model.main([str(records), str(outputs), str(scores)]) == 1

    expected = f"{scores.parent} is not writable: choose a writable SCORES_FILE"
    assert _error_line(capsys).endswith(f": error: {expected}")  # after the program's name
    assert list(scores.parent.iterdir()) == []


# what every script shares


def test_verbose_shows_the_traceback_above_the_one_line(tmp_path):
    arguments = ["train_model.py", tmp_path / "absent", tmp_path / "model", "--verbose"]
    result = _run_as_user(arguments, prefix=[])
    assert "Traceback" in result.stderr
    expected = f"{tmp_path / 'absent'}: no such folder: check TRAIN_DIR"
    assert _last_line(result) == f"train_model.py: error: {expected}"


def test_an_interrupted_command_says_so_and_exits_130(capsys):
    def interrupted():
        raise KeyboardInterrupt

    assert cli.run("train_model.py", interrupted) == 130
    assert _error_line(capsys) == "train_model.py: interrupted"


def test_a_disk_full_error_naming_no_file_is_told_of_the_only_output_folder(tmp_path):
    error = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    expected = f"{tmp_path}: {NO_SPACE} or choose another OUTPUT_DIR and run again"
    assert cli.describe(error, writes={"OUTPUT_DIR": tmp_path}) == expected


def test_a_folder_that_cannot_be_created_names_the_read_only_folder_above_it(tmp_path):
    error = PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(tmp_path / "new"))
    expected = f"{tmp_path} is not writable: choose a writable OUTPUT_DIR"
    assert cli.describe(error, writes={"OUTPUT_DIR": tmp_path / "new" / "out"}) == expected


@contextlib.contextmanager
def _read_only(folder: Path, mode: int = 0o555):
    """Within ``with``: ``folder`` (created if need be) with the permissions ``mode``; restored after."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(mode)
    try:
        yield
    finally:
        folder.chmod(0o755)


def _run_as_user(arguments, prefix=None) -> subprocess.CompletedProcess:
    """Run a script of the repository as a user that file permissions apply to (see the module docstring)."""
    prefix = _permission_prefix() if prefix is None else prefix
    command = [*prefix, sys.executable, *map(str, arguments)]
    return subprocess.run(
        command, cwd=REPOSITORY, env=tiny_environment(), capture_output=True, text=True, timeout=300
    )


def _permission_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    if shutil.which("setpriv") and subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
        return prefix
    pytest.skip("running as root, which ignores file permissions, and setpriv cannot drop that")


def _last_line(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr or "--verbose" in result.args
    return result.stderr.strip().splitlines()[-1]


def _network(lead_set: str):
    from ecgcrnn.model.network import build_model

    return build_model(LEAD_SETS[lead_set], CLASSES, tiny_config().network)


def _save(root, lead_set, network):
    return save_untrained_model(root, lead_set, network=network)


def _error_line(capsys) -> str:
    """The last line on stderr, checked to come without a traceback."""
    error = capsys.readouterr().err
    assert "Traceback" not in error
    return error.strip().splitlines()[-1]


def _read_only_file_system(monkeypatch, folder: Path) -> None:
    """Make writing a file in ``folder``, and removing one, fail as on a read-only mount: with EROFS, removing
    a file that does not exist too (Linux checks the mount before it looks the name up)."""
    write_text, unlink = Path.write_text, os.unlink

    def refused(path):
        return OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    def writing(path, *args, **kwargs):
        if Path(path).parent == folder:
            raise refused(path)
        return write_text(path, *args, **kwargs)

    def unlinking(path, *args, **kwargs):
        if Path(path).parent == folder:
            raise refused(path)
        return unlink(path, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", writing)
    monkeypatch.setattr(os, "unlink", unlinking)


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _hidden(folder: Path) -> list[str]:
    return [path.name for path in folder.rglob(".*")]


def _negative_outputs(records: Path, folder: Path) -> Path:
    """An all-negative output file for every record of ``records``, in ``folder``."""
    folder.mkdir()
    for header in records.glob("*.hea"):
        negative = [0] * len(CLASSES), [0.0] * len(CLASSES)
        save_outputs(folder / f"{header.stem}.csv", header.stem, CLASSES, *negative)
    return folder
