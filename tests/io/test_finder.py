"""The one record finder (ecgcrnn.io.records) that training, testing, extraction and evaluation share, and the
Dx codes the evaluator reads from a header's text alone."""

import errno
import os
from pathlib import Path

import pytest

import evaluate_model
from ecgcrnn.app import cli
from ecgcrnn.io.records import (
    DuplicateRecordError,
    NoRecordsError,
    dx_codes,
    find_challenge_files,
    find_header_files,
    get_labels,
    load_header,
    parse_header,
)
from ecgcrnn.scoring.evaluate import evaluate_model as score_folders
from ecgcrnn.scoring.evaluate import find_label_files, find_output_files

NO_RECORDS = "no records (.hea with a .mat beside it) found"
TWO_RECORDS = "two records named A1, but a record's name must be unique: rename one, or remove it"


def make_records(folder: Path, *paths: str, recording: bool = True) -> None:
    """Empty ``<path>.hea`` files (and ``.mat`` beside them) under ``folder``; the finder reads no content."""
    for path in paths:
        header = folder / f"{path}.hea"
        header.parent.mkdir(parents=True, exist_ok=True)
        header.write_text("")
        if recording:
            header.with_suffix(".mat").write_bytes(b"")


def test_records_in_nested_sub_folders_are_found_sorted_by_file_name(tmp_path):
    make_records(tmp_path, "ptb/deep/er/C3", "A1", "georgia/B2")
    headers, recordings = find_challenge_files(tmp_path)
    assert headers == [str(tmp_path / p) for p in ("A1.hea", "georgia/B2.hea", "ptb/deep/er/C3.hea")]
    assert recordings == [h[:-4] + ".mat" for h in headers]


def test_one_record_name_in_two_folders_is_an_error_naming_both_files(tmp_path):
    make_records(tmp_path, "b/A1", "a/A1", "B2")
    expected = f"{tmp_path / 'a/A1.hea'} and {tmp_path / 'b/A1.hea'}: {TWO_RECORDS}"
    for find in (lambda folder: find_challenge_files(folder)[0], find_header_files, find_label_files):
        with pytest.raises(DuplicateRecordError) as raised:
            find(tmp_path)
        assert str(raised.value) == expected
        assert isinstance(raised.value, ValueError)


def test_a_header_without_recording_clashes_only_among_label_files(tmp_path):
    make_records(tmp_path, "a/A1")
    make_records(tmp_path, "b/A1", recording=False)
    assert find_challenge_files(tmp_path)[0] == [str(tmp_path / "a/A1.hea")]
    with pytest.raises(DuplicateRecordError):
        find_header_files(tmp_path)


def test_hidden_files_and_everything_in_hidden_folders_are_skipped(tmp_path):
    make_records(tmp_path, "A1", ".B2", ".cache/C3", "sub/.git/D4", "sub/E5")
    assert find_challenge_files(tmp_path)[0] == [str(tmp_path / "A1.hea"), str(tmp_path / "sub/E5.hea")]
    assert find_header_files(tmp_path) == find_challenge_files(tmp_path)[0]


def test_a_symlinked_folder_is_followed(tmp_path):
    make_records(tmp_path / "elsewhere", "A1", "deeper/B2")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    headers, recordings = find_challenge_files(tmp_path / "data")
    linked = tmp_path / "data" / "linked"
    assert headers == [str(linked / "A1.hea"), str(linked / "deeper/B2.hea")]
    assert all(os.path.isfile(r) for r in recordings)


def test_a_symlinked_file_counts(tmp_path):
    make_records(tmp_path / "store", "A1")
    (tmp_path / "data").mkdir()
    for suffix in (".hea", ".mat"):
        (tmp_path / "data" / f"A1{suffix}").symlink_to(tmp_path / "store" / f"A1{suffix}")
    assert find_challenge_files(tmp_path / "data")[0] == [str(tmp_path / "data" / "A1.hea")]


def test_a_symlink_loop_terminates_and_finds_each_record_once(tmp_path):
    make_records(tmp_path, "A1", "sub/B2")
    (tmp_path / "sub" / "up").symlink_to(tmp_path, target_is_directory=True)  # sub/up/sub/up/...
    (tmp_path / "self").symlink_to(tmp_path / "sub", target_is_directory=True)
    assert find_challenge_files(tmp_path)[0] == [str(tmp_path / "A1.hea"), str(tmp_path / "self/B2.hea")]


def test_links_that_loop_on_themselves_are_skipped_with_a_warning_naming_them(tmp_path, caplog):
    make_records(tmp_path, "A1", "sub/B2")
    (tmp_path / "self").symlink_to("self")
    (tmp_path / "sub" / "ping.hea").symlink_to("pong.hea")
    (tmp_path / "sub" / "pong.hea").symlink_to("ping.hea")
    expected = [str(tmp_path / "A1.hea"), str(tmp_path / "sub/B2.hea")]
    assert find_challenge_files(tmp_path)[0] == expected
    assert find_header_files(tmp_path) == expected
    for link in (tmp_path / "self", tmp_path / "sub" / "ping.hea", tmp_path / "sub" / "pong.hea"):
        assert f"{link}: Too many levels of symbolic links; skipped" in caplog.text


def test_a_broken_symlink_is_ignored(tmp_path):
    make_records(tmp_path, "A1")
    (tmp_path / "B2.hea").symlink_to(tmp_path / "missing.hea")
    (tmp_path / "gone").symlink_to(tmp_path / "missing", target_is_directory=True)
    assert find_header_files(tmp_path) == [str(tmp_path / "A1.hea")]


def test_a_header_without_its_recording_is_a_label_file_but_not_a_record(tmp_path):
    make_records(tmp_path, "A1")
    make_records(tmp_path, "B2", "sub/C3", recording=False)
    (tmp_path / "D4.mat").write_bytes(b"")  # a recording without its header is neither
    assert find_challenge_files(tmp_path) == ([str(tmp_path / "A1.hea")], [str(tmp_path / "A1.mat")])
    expected = [str(tmp_path / p) for p in ("A1.hea", "B2.hea", "sub/C3.hea")]
    assert find_header_files(tmp_path) == expected
    assert find_label_files(tmp_path) == expected


def test_a_folder_named_like_a_header_is_not_a_file(tmp_path):
    (tmp_path / "A1.hea").mkdir()
    (tmp_path / "A1.mat").write_bytes(b"")
    assert find_challenge_files(tmp_path) == ([], [])


def test_a_folder_without_records_gives_empty_lists_unless_required(tmp_path):
    make_records(tmp_path, "A1", recording=False)
    assert find_challenge_files(tmp_path) == ([], [])
    with pytest.raises(NoRecordsError) as raised:
        find_challenge_files(tmp_path, required=True)
    assert str(raised.value) == f"{tmp_path}: {NO_RECORDS}"
    assert isinstance(raised.value, ValueError)


def test_a_missing_folder_is_named(tmp_path):
    for find in (find_challenge_files, find_header_files):
        with pytest.raises(FileNotFoundError, match=f"{tmp_path / 'absent'}: no such folder"):
            find(tmp_path / "absent")


def test_require_records_adds_the_role_to_the_one_message(tmp_path):
    with pytest.raises(NoRecordsError) as raised:
        cli.require_records(tmp_path, "TEST_DIR")
    assert str(raised.value) == f"{tmp_path}: {NO_RECORDS}: give a folder of Challenge records as TEST_DIR"


def test_require_records_accepts_records_in_a_sub_folder(tmp_path):
    make_records(tmp_path, "cpsc/A1")
    cli.require_records(tmp_path, "TEST_DIR")


def refuse_to_list(monkeypatch, folder_name: str) -> None:
    """Make ``os.scandir`` fail on folders of that name as on a folder without read permission (which
    root, who runs the tests in CI, would read anyway)."""
    scandir = os.scandir

    def refusing(path):
        if os.path.basename(path) == folder_name:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)


def test_an_unreadable_sub_folder_is_skipped_with_a_warning(tmp_path, monkeypatch, caplog):
    make_records(tmp_path, "A1", "locked/B2")
    refuse_to_list(monkeypatch, "locked")
    assert find_header_files(tmp_path) == [str(tmp_path / "A1.hea")]
    assert f"{tmp_path / 'locked'}: Permission denied; skipped" in caplog.text


def test_an_unreadable_folder_itself_is_an_error_naming_it(tmp_path, monkeypatch):
    make_records(tmp_path / "locked", "A1")
    refuse_to_list(monkeypatch, "locked")
    with pytest.raises(PermissionError) as raised:
        find_challenge_files(tmp_path / "locked")
    assert raised.value.filename == str(tmp_path / "locked")


# The evaluator: label files found like records, outputs looked up flat


def write_label(path: Path, dx: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{path.stem} 1 500 5000\n#Dx: {dx}\n")


def write_output(folder: Path, record: str, binary: str, scalar: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{record}.csv").write_text(f"#{record}\n164889003,426783006\n{binary}\n{scalar}\n")


def test_label_files_in_sub_folders_are_scored_against_flat_outputs(tmp_path):
    labels, outputs = tmp_path / "labels", tmp_path / "outputs"
    write_label(labels / "georgia" / "A1.hea", "164889003")
    write_label(labels / "ptb" / "A2.hea", "426783006")
    write_output(outputs, "A1", "1,0", "0.9,0.1")
    write_output(outputs, "A2", "0,1", "0.2,0.8")
    assert [Path(f).name for f in find_label_files(labels)] == ["A1.hea", "A2.hea"]
    assert find_output_files(find_label_files(labels), outputs) == [
        str(outputs / "A1.csv"),
        str(outputs / "A2.csv"),
    ]
    scores = score_folders(labels, outputs)
    assert scores.accuracy == 1.0 and scores.challenge_metric == 1.0


def test_two_label_files_of_one_name_are_an_error_naming_both(tmp_path):
    labels, outputs = tmp_path / "labels", tmp_path / "outputs"
    write_label(labels / "a" / "A1.hea", "164889003")
    write_label(labels / "b" / "A1.hea", "164889003")
    write_output(outputs, "A1", "1,0", "0.9,0.1")
    with pytest.raises(DuplicateRecordError, match=rf"a/A1\.hea and .*b/A1\.hea: {TWO_RECORDS}"):
        score_folders(labels, outputs)
    with pytest.raises(DuplicateRecordError, match=rf"a/A1\.hea and .*b/A1\.hea: {TWO_RECORDS}"):
        find_output_files([labels / "a" / "A1.hea", labels / "b" / "A1.hea"], outputs)


def test_evaluate_model_cli_on_a_folder_of_sub_folders(tmp_path, capsys):
    labels, outputs = tmp_path / "labels", tmp_path / "outputs"
    write_label(labels / "x" / "A1.hea", "164889003")
    write_output(outputs, "A1", "1,0", "0.9,0.1")
    assert evaluate_model.main([str(labels), str(outputs)]) == 0
    assert capsys.readouterr().out.splitlines()[1].endswith(",1.000,1.000,1.000")


def test_evaluate_model_cli_skips_links_that_loop_in_either_folder(tmp_path, capsys):
    labels, outputs = tmp_path / "labels", tmp_path / "outputs"
    write_label(labels / "x" / "A1.hea", "164889003")
    write_output(outputs, "A1", "1,0", "0.9,0.1")
    for folder in (labels, outputs):
        (folder / "loop").symlink_to("loop")
    assert evaluate_model.main([str(labels), str(outputs)]) == 0
    assert capsys.readouterr().out.splitlines()[1].endswith(",1.000,1.000,1.000")


# Dx codes read from a header's text alone


@pytest.mark.parametrize(
    "line",
    [
        "#Dx: 164889003,59118001",
        "# Dx: 164889003,59118001",
        "#dx:164889003, 59118001",
        "  #DX : 164889003,59118001",
    ],
)
def test_dx_codes_accept_the_spellings_of_the_dx_line(line):
    assert dx_codes(f"A1 12 500 5000\n#Age: 60\n{line}\n#Sex: Male\n") == ["164889003", "59118001"]


def test_dx_codes_of_a_label_file_without_signal_lines():
    # As people write label files by hand: the record line announces 12 leads that are not there.
    assert dx_codes("A1 12 500 5000\n#Dx: 426783006\n") == ["426783006"]
    assert get_labels("A1 12 500 5000\n#Dx: 426783006\n") == ["426783006"]


def test_dx_codes_drop_empty_codes_on_every_dx_line():
    assert dx_codes("#Dx: 1,, 2 ,\r\n#Dx: 3\r\n") == ["1", "2", "3"]


def test_dx_codes_ignore_lines_that_only_mention_dx():
    text = "A1 1 500 10\nA1.mat 16 1000/mV 16 0 0 0 0 Dx: 5\n#Dxx: 6\n#Note Dx: 7\n#Dx 8\n"
    assert dx_codes(text) == []
    assert dx_codes("") == [] and dx_codes("#Dx:\n") == []


@pytest.mark.real_data
def test_dx_codes_equal_the_parsed_header_labels_on_every_shared_record(challenge_dir):
    for header_file in find_challenge_files(challenge_dir)[0]:
        text = load_header(header_file)
        assert dx_codes(text) == get_labels(parse_header(text)), header_file
