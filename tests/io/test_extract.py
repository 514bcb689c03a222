import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import wfdb
from helpers import CACHE_RECORDS, REPOSITORY, run_script

from ecgcrnn.domain import LEAD_SETS
from ecgcrnn.io.extract import extract_leads
from ecgcrnn.io.records import (
    RecordError,
    checksum,
    find_challenge_files,
    load_header,
    load_recording,
    parse_header,
)

SAMPLE = ["A0001", "E00015", "E07500", "HR00001", "JS00001", "Q0013", "S0001"]


@pytest.fixture
def sample_dir(challenge_dir, tmp_path):
    """A few records of every source and quirk (a suffixed record name, a gain with baseline, 1000 Hz)."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in SAMPLE:
        for suffix in (".hea", ".mat"):
            shutil.copy(challenge_dir / f"{name}{suffix}", folder / f"{name}{suffix}")
    return folder


def assert_extracted(source_dir: Path, target_dir: Path, leads) -> None:
    for header_file, recording_file in zip(*find_challenge_files(source_dir), strict=True):
        name = Path(header_file).stem
        source = parse_header(load_header(header_file))
        new_text = load_header(target_dir / f"{name}.hea")
        new = parse_header(new_text)
        new_recording = load_recording(target_dir / f"{name}.mat", new)
        expected = load_recording(recording_file, source, leads)
        np.testing.assert_array_equal(new_recording, expected)
        assert new.leads == tuple(leads) and new.num_leads == len(leads)
        assert (new.fs_hz, new.num_samples) == (source.fs_hz, source.num_samples)
        assert new.comments == source.comments
        assert [s.initial_value for s in new.signals] == new_recording[:, 0].tolist()
        assert [s.checksum for s in new.signals] == [checksum(row) for row in new_recording]
        assert [(s.gain, s.baseline, s.fmt) for s in new.signals] == [
            (source.signals[i].gain, source.signals[i].baseline, source.signals[i].fmt)
            for i in source.lead_indices(leads)
        ]
        if not source.record_line.split()[0].endswith(".mat"):  # wfdb rejects a suffixed record name
            record = wfdb.rdrecord(str(target_dir / name), physical=False)
            assert record.sig_name == list(leads)
            np.testing.assert_array_equal(record.d_signal.T, expected)


@pytest.mark.real_data
@pytest.mark.parametrize("lead_set", ["six", "four", "three", "two"])
def test_extract_round_trip_for_each_reduced_lead_set(sample_dir, tmp_path, lead_set):
    assert extract_leads(sample_dir, tmp_path / "out", LEAD_SETS[lead_set]) == len(SAMPLE)
    assert_extracted(sample_dir, tmp_path / "out", LEAD_SETS[lead_set])


@pytest.mark.real_data
def test_extract_in_an_order_other_than_the_source(sample_dir, tmp_path):
    leads = ("V5", "II", "aVR")
    extract_leads(sample_dir, tmp_path / "out", leads)
    assert_extracted(sample_dir, tmp_path / "out", leads)


@pytest.mark.real_data
def test_extract_every_shared_record_to_two_leads(challenge_dir, tmp_path):
    extract_leads(challenge_dir, tmp_path / "out", ("II", "V5"))
    assert_extracted(challenge_dir, tmp_path / "out", ("II", "V5"))


@pytest.mark.real_data
def test_extract_keeps_comments_verbatim(sample_dir, tmp_path):
    extract_leads(sample_dir, tmp_path / "out", ("I",))
    text = (tmp_path / "out" / "Q0013.hea").read_text()
    assert text.splitlines()[0] == "Q0013 1 500 8000"
    assert "# Dx: 427172004,428750005" in text.splitlines()


def test_extract_accepts_lead_names_in_any_case(record_folder, tmp_path):
    extract_leads(record_folder, tmp_path / "out", ("avl", "v2"))
    assert parse_header(load_header(tmp_path / "out" / "C1_15s.hea")).leads == ("aVL", "V2")


def test_extract_unknown_lead_names_record_and_its_leads(record_folder, tmp_path):
    with pytest.raises(RecordError, match=r"C1_15s\.hea: lead 'V7' not in I, II, III, aVR, aVL, aVF, V1"):
        extract_leads(record_folder, tmp_path / "out", ("I", "V7"))


@pytest.mark.parametrize("signal_file", ["../x.mat", "{outside}/x.mat"])
def test_extract_names_the_files_from_the_header_file_never_from_a_path_inside_it(
    record_folder, tmp_path, signal_file
):
    outside = tmp_path / "outside"
    outside.mkdir()
    signal_file = signal_file.format(outside=outside)
    header_file = record_folder / "C2_10s.hea"
    lines = header_file.read_text().splitlines()
    lines[0] = lines[0].replace("C2_10s", "../x", 1)
    lines[1:13] = [f"{signal_file} {line.split(maxsplit=1)[1]}" for line in lines[1:13]]
    header_file.write_text("\n".join(lines) + "\n")
    out = tmp_path / "nested" / "out"

    extract_leads(record_folder, out, ("I", "II"))

    assert list(outside.iterdir()) == [] and list(out.parent.iterdir()) == [out]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{name}{suffix}" for name in CACHE_RECORDS for suffix in (".hea", ".mat")
    )
    new = parse_header(load_header(out / "C2_10s.hea"))
    assert new.record_line.split()[0] == "C2_10s"
    assert [s.file_name for s in new.signals] == ["C2_10s.mat", "C2_10s.mat"]
    source = parse_header(header_file.read_text())
    expected = load_recording(record_folder / "C2_10s.mat", source, ("I", "II"))
    np.testing.assert_array_equal(load_recording(out / "C2_10s.mat", new), expected)


def test_extract_refuses_output_equal_to_input(record_folder):
    with pytest.raises(ValueError, match="must differ from the input"):
        extract_leads(record_folder, record_folder / "." / "", ("I",))


@pytest.mark.parametrize("leads", [("I", "I"), ("II", "V1", "ii")])
def test_extract_refuses_a_lead_named_twice_before_writing_anything(record_folder, tmp_path, leads):
    with pytest.raises(
        ValueError, match=f"^leads {', '.join(leads)}: II? is named twice: name each lead once$"
    ):
        extract_leads(record_folder, tmp_path / "out", leads)
    assert not (tmp_path / "out").exists()


def test_extract_refuses_an_output_folder_inside_the_input_folder(record_folder):
    inside = record_folder / "two"
    expected = f"{inside} is inside the input folder {record_folder}: choose an output folder outside it"
    with pytest.raises(ValueError) as raised:
        extract_leads(record_folder, inside, ("I", "II"))
    assert str(raised.value) == expected
    assert not inside.exists()


def test_extract_cli_refuses_a_lead_named_twice_or_an_output_inside_the_input_in_one_line(record_folder):
    for output, leads, expected in [
        (record_folder.parent / "out", ["I", "I"], "leads I, I: I is named twice: name each lead once"),
        (record_folder / "two", ["I", "II"], f"{record_folder / 'two'} is inside the input folder"),
    ]:
        result = run_script("extract_leads_wfdb.py", "-i", record_folder, "-o", output, "-l", *leads)
        assert result.returncode == 1
        assert result.stderr.startswith(f"extract_leads_wfdb.py: error: {expected}")
        assert result.stderr.strip().count("\n") == 0
        assert not output.exists()


def test_extract_cli_error_is_one_line(record_folder):
    result = subprocess.run(
        [
            sys.executable,
            "extract_leads_wfdb.py",
            "-i",
            str(record_folder),
            "-o",
            str(record_folder),
            "-l",
            "I",
        ],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "must differ from the input" in result.stderr


def test_extract_cli_writes_records(record_folder, tmp_path):
    out = tmp_path / "out"
    command = [
        sys.executable,
        "extract_leads_wfdb.py",
        "-q",
        "-i",
        str(record_folder),
        "-o",
        str(out),
        "-l",
        "I",
        "II",
    ]
    assert subprocess.run(command, cwd=REPOSITORY).returncode == 0
    assert_extracted(record_folder, out, ("I", "II"))
