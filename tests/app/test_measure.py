"""``ecgcrnn measure``: a folder's records measured into one table."""

import csv
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from helpers import REPOSITORY

from ecgcrnn.app.measure import SEPARATORS, columns, main
from ecgcrnn.domain import STANDARD_LEADS
from ecgcrnn.features.measurements import MEASUREMENTS
from ecgcrnn.io.records import get_labels, load_header
from ecgcrnn.synthetic.generator import LABEL_CODES, generate_record, write_record_files

RECORDS = {  # name: (sub-folder, labels); one each of sinus rhythm, a slow rhythm with a long PR, and AF
    "N1": (".", ("NSR",)),
    "B1": (".", ("SB", "IAVB")),
    "F1": ("sub/deeper", ("AF",)),
}
SEED = 11


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """A folder of the synthetic :data:`RECORDS` (read-only), and each record's true heart rate (bpm)."""
    folder = tmp_path_factory.mktemp("measure") / "data"
    rates = {}
    for index, (name, (sub, labels)) in enumerate(RECORDS.items()):
        record = generate_record(SEED, index, labels)
        (folder / sub).mkdir(parents=True, exist_ok=True)
        write_record_files(folder / sub, name, record)
        rates[name] = 60.0 * record.fs_hz / np.mean(np.diff(record.fiducials["R"]))
    return folder, rates


@pytest.fixture(scope="module")
def table(records, tmp_path_factory):
    """The CSV rows of ``ecgcrnn measure`` on :func:`records` with two processes, by record name."""
    output = tmp_path_factory.mktemp("table") / "out.csv"
    assert main([str(records[0]), str(output), "-j", "2", "-q"]) == 0
    return read_csv(output)


def read_csv(path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as stream:
        return {row["record"]: row for row in csv.DictReader(stream)}


def test_measure_writes_one_row_per_record_with_every_column(table):
    assert set(table) == set(RECORDS)
    assert all(list(row) == columns() for row in table.values())


def test_columns_carry_the_intervals_qtc_axes_and_voltages_with_their_units():
    names = columns()
    for name in ("heart_rate_bpm", "RR_sd_ms", "PR_ms", "P_duration_ms", "QRS_ms", "QT_ms", "QRS_axis_deg"):
        assert name in names
    assert {"QTc_Bazett_ms", "QTc_Fridericia_ms", "QTc_Framingham_ms", "Sokolow_Lyon_mV"} <= set(names)
    assert names[:8] == ["record", "folder", "leads", "rate_hz", "duration_s", "age", "sex", "dx"]
    assert {"measurable", "criteria", "statements", "error"} <= set(names)
    assert names[8 : 8 + len(MEASUREMENTS)] == [name for name, *_ in MEASUREMENTS]


def test_heart_rate_is_the_records_true_rate(table, records):
    for name, rate in records[1].items():
        assert float(table[name]["heart_rate_bpm"]) == pytest.approx(rate, abs=2.0)


def test_intervals_and_axes_are_plausible_and_a_record_without_p_waves_has_no_pr(table):
    for name in ("N1", "B1"):
        row = table[name]
        assert row["measurable"] == "1" and row["error"] == ""
        assert 60 <= float(row["QRS_ms"]) <= 160 and 300 <= float(row["QT_ms"]) <= 520
        assert -180 <= float(row["QRS_axis_deg"]) <= 180
        assert float(row["QTc_Framingham_ms"]) == pytest.approx(
            float(row["QT_ms"]) + 154 * (1 - float(row["RR_ms"]) / 1000), abs=0.01
        )
    assert 100 <= float(table["N1"]["PR_ms"]) <= 210 < float(table["B1"]["PR_ms"])
    assert table["F1"]["PR_ms"] == ""


def test_criteria_state_each_records_rhythm_as_abbreviations_with_the_statements(table):
    assert "NSR" in table["N1"]["criteria"].split()
    assert {"SB", "IAVB"} <= set(table["B1"]["criteria"].split())
    assert "AF" in table["F1"]["criteria"].split()
    statements = table["B1"]["statements"].split(SEPARATORS["statements"])
    assert any(s.startswith("sinus bradycardia") for s in statements)
    assert any(s.startswith("first-degree AV block, PR") for s in statements)


def test_header_fields_are_the_headers(table, records):
    for name, (sub, labels) in RECORDS.items():
        row = table[name]
        header = load_header(records[0] / sub / f"{name}.hea")
        assert row["dx"].split() == get_labels(header) == [LABEL_CODES[label] for label in labels]
        assert row["leads"].split() == list(STANDARD_LEADS)
        assert (row["rate_hz"], row["duration_s"]) == ("500", "10")
        assert f"#Age: {row['age']}" in header and f"#Sex: {row['sex']}" in header


def test_records_in_sub_folders_are_measured_with_their_folder(table):
    assert (table["N1"]["folder"], table["F1"]["folder"]) == (".", "sub/deeper")
    assert table["F1"]["measurable"] == "1"


def test_a_record_that_cannot_be_read_gets_its_error_and_the_run_goes_on(records, tmp_path, caplog):
    folder = shutil.copytree(records[0], tmp_path / "data")
    (folder / "bad.hea").write_text("not a header\n")
    shutil.copy(folder / "N1.mat", folder / "bad.mat")
    shutil.copy(folder / "N1.hea", folder / "sub" / "lonely.hea")  # no recording beside it
    assert main([str(folder), str(tmp_path / "out.csv"), "-j", "1"]) == 0
    rows = read_csv(tmp_path / "out.csv")
    assert set(rows) == {*RECORDS, "bad", "lonely"}
    assert "bad.hea: bad record line 'not a header'" in rows["bad"]["error"]
    assert "lonely.mat: recording file not found" in rows["lonely"]["error"]
    assert rows["lonely"]["dx"] == rows["N1"]["dx"] and rows["lonely"]["measurable"] == "0"
    assert all(rows[name]["error"] == "" and rows[name]["measurable"] == "1" for name in RECORDS)
    assert "bad.hea: bad record line" in caplog.text


def test_json_lines_hold_the_same_rows(records, table, tmp_path):
    assert main([str(records[0]), str(tmp_path / "out.jsonl"), "--json", "-j", "1", "-q"]) == 0
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    rows = {row["record"]: row for row in map(json.loads, lines)}
    assert len(lines) == len(RECORDS) and set(rows) == set(table)
    for name, row in rows.items():
        assert list(row) == columns()
        for column, value in row.items():
            assert _as_cell(column, value) == table[name][column], (name, column)


def test_the_table_is_the_same_with_one_process_or_several(records, table, tmp_path):
    assert main([str(records[0]), str(tmp_path / "one.csv"), "--jobs", "1", "-q"]) == 0
    assert read_csv(tmp_path / "one.csv") == table


def test_per_lead_adds_every_standard_leads_amplitudes(records, tmp_path):
    assert main([str(records[0]), str(tmp_path / "out.csv"), "--per-lead", "-j", "1", "-q"]) == 0
    rows = read_csv(tmp_path / "out.csv")
    assert list(rows["N1"]) == columns(per_lead=True)
    assert {f"{lead}:R_mV" for lead in STANDARD_LEADS} <= set(rows["N1"])
    assert 0.1 <= float(rows["N1"]["V5:R_mV"]) <= 5.0 and float(rows["N1"]["V1:S_mV"]) <= 0
    assert rows["N1"]["amplitudes_recorded"] == "1"


def test_an_earlier_table_is_replaced_whole(records, tmp_path):
    output = tmp_path / "out.csv"
    output.write_text("an earlier table\n")
    assert main([str(records[0]), str(output), "-j", "1", "-q"]) == 0
    assert output.read_text().startswith("record,folder,") and len(read_csv(output)) == len(RECORDS)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.csv"]


@pytest.mark.parametrize(
    ("data", "output", "expected"),
    [
        ("missing", "out.csv", "missing: no such folder: check DATA_DIR"),
        ("empty", "out.csv", "no records (.hea with a .mat beside it) found"),
        ("data", ".", "is a folder: give a file name as OUT.csv"),
    ],
    ids=["missing-folder", "no-records", "output-a-folder"],
)
def test_errors_a_user_can_cause_end_in_one_line(records, tmp_path, data, output, expected):
    (tmp_path / "empty").mkdir()
    shutil.copytree(records[0], tmp_path / "data")
    result = subprocess.run(
        [sys.executable, "-m", "ecgcrnn", "measure", tmp_path / data, tmp_path / output, "-j", "1"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("ecgcrnn measure: error: ") and len(result.stderr.splitlines()) == 1
    assert expected in result.stderr


def test_measure_imports_no_tensorflow(records, tmp_path):
    arguments = ["measure", str(records[0]), str(tmp_path / "out.csv"), "-j", "1", "-q"]
    code = (
        "import sys\n"
        "from ecgcrnn.app.main import main\n"
        f"assert main({arguments!r}) == 0\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'tensorflow', 'keras'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.real_data
def test_real_challenge_records_are_measured(copy_record, challenge_dir, tmp_path):
    names = sorted(path.stem for path in challenge_dir.glob("*.hea"))[::60]
    for name in names:
        copy_record(name, folder=tmp_path / "data")
    assert main([str(tmp_path / "data"), str(tmp_path / "out.csv"), "-j", "2", "-q"]) == 0
    rows = read_csv(tmp_path / "out.csv")
    assert sorted(rows) == names
    for name, row in rows.items():
        assert row["error"] == "" and row["measurable"] == "1", name
        assert 30 <= float(row["heart_rate_bpm"]) <= 200 and 50 <= float(row["QRS_ms"]) <= 200
        assert row["dx"].split() == get_labels(load_header(challenge_dir / f"{name}.hea"))
        statements = row["statements"].split(SEPARATORS["statements"]) if row["statements"] else []
        assert len(statements) == len(row["criteria"].split())  # one statement for each class stated


def _as_cell(column: str, value) -> str:
    """A JSON value as the CSV holds it."""
    if value is None:
        return ""
    if isinstance(value, list):
        return SEPARATORS[column].join(value)
    return str(value)
