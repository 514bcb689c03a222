"""Tests of ecgcrnn.synthetic.generator: Challenge-format files, reproducibility, labels and true fiducial
points.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import wfdb
from helpers import REPOSITORY

from ecgcrnn.delineation.delineate import delineate
from ecgcrnn.domain import FIDUCIALS, STANDARD_LEADS, default_class_table
from ecgcrnn.io.records import (
    checksum,
    find_challenge_files,
    get_age,
    get_labels,
    get_sex,
    load_header,
    load_recording,
    parse_header,
    to_millivolts,
)
from ecgcrnn.synthetic.generator import LABEL_CODES, check_labels, generate_record, main, write_dataset
from ecgcrnn.synthetic.heartvector import LEAD_MATRIX, frontal_axis_deg

FS = 500.0
CODE_NAMES = {code: name for name, code in LABEL_CODES.items()}
LEAD = {name: i for i, name in enumerate(STANDARD_LEADS)}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("synthetic")
    write_dataset(folder, 5, seed=3)
    return folder


def names_of(record) -> set[str]:
    return {CODE_NAMES[code] for code in record.labels}


def normal_beats(record) -> dict[str, np.ndarray]:
    keep = record.beat_types == "N"
    return {key: values[keep] for key, values in record.fiducials.items()}


def normal_qrs(record) -> list[np.ndarray]:
    """The signal (leads, samples) of each normal beat's QRS whose onset and offset are both known."""
    beats = normal_beats(record)
    return [
        record.signal_mv[:, int(on) : int(off) + 1]
        for on, off in zip(beats["QRS_on"], beats["QRS_off"], strict=True)
        if np.isfinite(on) and np.isfinite(off)
    ]


def test_written_records_load_alike_with_our_reader_and_wfdb(dataset):
    headers, recordings = find_challenge_files(dataset)
    assert len(headers) == 5
    for header_file, recording_file in zip(headers, recordings, strict=True):
        header = load_header(header_file)
        ours = to_millivolts(header, load_recording(recording_file, header))
        theirs = wfdb.rdrecord(str(Path(header_file).with_suffix("")))
        assert ours.shape == (12, 5000)
        assert tuple(theirs.sig_name) == STANDARD_LEADS and theirs.fs == FS
        np.testing.assert_allclose(theirs.p_signal.T, ours, atol=1e-6)


def test_files_hold_the_in_memory_signal_to_the_microvolt(dataset):
    record = generate_record(3, 0)
    header = load_header(dataset / "S00001.hea")
    stored = to_millivolts(header, load_recording(dataset / "S00001.mat", header))
    assert np.max(np.abs(stored - record.signal_mv)) <= 0.0005 + 1e-6
    assert get_labels(header) == list(record.labels)


def test_headers_carry_age_sex_dx_and_matching_checksums(dataset):
    for header_file in sorted(dataset.glob("*.hea")):
        header = parse_header(load_header(header_file))
        recording = load_recording(header_file.with_suffix(".mat"), header)
        assert 18 <= get_age(header) <= 95
        assert get_sex(header) in ("Male", "Female")
        assert get_labels(header)
        for signal, values in zip(header.signals, recording, strict=True):
            assert signal.checksum == checksum(values)
            assert signal.initial_value == values[0]


def test_same_seed_writes_byte_identical_files(tmp_path):
    write_dataset(tmp_path / "a", 3, seed=11)
    write_dataset(tmp_path / "b", 3, seed=11)
    names = sorted(path.name for path in (tmp_path / "a").iterdir())
    assert len(names) == 9
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_different_seeds_or_indices_give_different_records():
    first = generate_record(1, 0).signal_mv
    assert not np.array_equal(first, generate_record(2, 0).signal_mv)
    assert not np.array_equal(first, generate_record(1, 1).signal_mv)


@pytest.fixture(scope="module")
def drawn_records():
    return [generate_record(5, index, clean=True) for index in range(150)]


def test_labels_are_scored_codes(drawn_records):
    scored = default_class_table().code_index
    assert set(LABEL_CODES.values()) <= set(scored)
    for record in drawn_records:
        assert record.labels and set(record.labels) <= set(scored)


def test_drawn_labels_hold_one_rhythm_and_compatible_findings(drawn_records):
    for record in drawn_records:
        check_labels(names_of(record))
        assert not ({"AF", "AFL"} & names_of(record) and {"NSR", "SB", "STach", "SA"} & names_of(record))
    drawn = set().union(*(names_of(record) for record in drawn_records))
    assert drawn == set(LABEL_CODES)


def test_incompatible_imposed_labels_are_refused():
    with pytest.raises(ValueError, match="one rhythm"):
        generate_record(0, labels=["164889003", "426783006"])  # AF with sinus rhythm
    with pytest.raises(ValueError, match="RBBB and LBBB"):
        generate_record(0, labels=["NSR", "RBBB", "LBBB"])


def test_fiducials_file_matches_the_in_memory_fiducials(dataset):
    record = generate_record(3, 1)
    with open(dataset / "S00002.fiducials.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [row["beat_type"] for row in rows] == list(record.beat_types)
    for key in FIDUCIALS:
        written = np.array([float(row[key]) if row[key] else np.nan for row in rows])
        np.testing.assert_array_equal(written, record.fiducials[key])


def test_fiducials_are_in_temporal_order_within_each_beat():
    for index in range(20):
        record = generate_record(8, index, clean=True)
        times = np.stack([record.fiducials[key] for key in FIDUCIALS], axis=1)
        for beat in times:
            present = beat[np.isfinite(beat)]
            assert np.all(np.diff(present) > 0)


@pytest.mark.parametrize("seed", range(6))
def test_atrial_fibrillation_has_irregular_rr_and_no_p_waves(seed):
    record = generate_record(seed, labels=["AF"], clean=True)
    rr = np.diff(record.fiducials["R"])
    assert rr.std() / rr.mean() > 0.1
    assert np.all(np.isnan([record.fiducials[key] for key in ("P_on", "P_peak", "P_off")]))


@pytest.mark.parametrize("seed", range(4))
def test_atrial_flutter_has_regular_rr_and_no_p_waves(seed):
    record = generate_record(seed, labels=["AFL"], clean=True)
    rr = np.diff(record.fiducials["R"])
    assert rr.std() / rr.mean() < 0.01
    assert np.all(np.isnan(record.fiducials["P_on"]))


@pytest.mark.parametrize("labels", [["NSR", "IAVB"], ["SB", "IAVB", "RBBB"], ["NSR", "IAVB", "PAC"]])
def test_first_degree_av_block_has_pr_over_200_ms(labels):
    for seed in range(3):
        record = generate_record(seed, labels=labels, clean=True)
        pr_ms = (record.fiducials["QRS_on"] - record.fiducials["P_on"]) / FS * 1000
        assert np.isfinite(pr_ms).sum() >= 5
        assert np.nanmin(pr_ms) > 200


def test_without_av_block_pr_stays_at_most_200_ms():
    for seed in range(10):
        record = generate_record(seed, labels=["NSR", "PAC"], clean=True)
        pr_ms = (record.fiducials["QRS_on"] - record.fiducials["P_on"]) / FS * 1000
        assert np.nanmin(pr_ms) >= 100 and np.nanmax(pr_ms) <= 200


@pytest.mark.parametrize("block", ["RBBB", "LBBB"])
def test_bundle_branch_blocks_have_qrs_of_at_least_120_ms(block):
    for seed in range(5):
        beats = normal_beats(generate_record(seed, labels=["NSR", block], clean=True))
        qrs_ms = (beats["QRS_off"] - beats["QRS_on"]) / FS * 1000
        assert np.nanmin(qrs_ms) >= 120


def test_rbbb_ends_with_r_prime_in_v1_and_s_waves_in_i_and_v6():
    for seed in range(5):
        record = generate_record(seed, labels=["NSR", "RBBB"], clean=True)
        beats = normal_beats(record)
        late = (beats["QRS_off"] - 0.035 * FS)[np.isfinite(beats["QRS_off"])].astype(int)
        x = record.signal_mv
        assert np.all(x[LEAD["V1"], late] > x[LEAD["V1"], late - int(0.03 * FS)])  # R' rising after S
        assert np.all(x[LEAD["V1"], late] > 0.1)
        assert np.all(x[LEAD["I"], late] < 0) and np.all(x[LEAD["V6"], late] < 0)


def test_lbbb_is_negative_in_v1_and_positive_in_v6_without_a_q_wave():
    for seed in range(5):
        record = generate_record(seed, labels=["NSR", "LBBB"], clean=True)
        for qrs in normal_qrs(record):
            assert qrs[LEAD["V1"]].min() < -0.3 and qrs[LEAD["V1"]].max() < 0.15
            assert qrs[LEAD["V6"]].max() > 0.3 and qrs[LEAD["V6"]].min() > -0.1


@pytest.mark.parametrize(("label", "low", "high"), [("LAD", -90, -30), ("RAD", 90, 180), ("NSR", -30, 90)])
def test_axis_read_from_leads_i_and_ii_matches_the_axis_label(label, low, high):
    for seed in range(5):
        record = generate_record(seed, labels=sorted({"NSR", label}), clean=True)
        area = sum(qrs[[LEAD["I"], LEAD["II"]]].sum(axis=1) for qrs in normal_qrs(record))
        axis = np.degrees(np.arctan2(2 * area[1] - area[0], np.sqrt(3) * area[0]))
        assert low < axis < high


@pytest.mark.parametrize(("lead_i", "lead_ii", "axis"), [(1, 0.5, 0), (0, 1, 90), (1, 0, -30), (0.5, 1, 60)])
def test_frontal_axis_is_the_hexaxial_angle_of_leads_i_and_ii(lead_i, lead_ii, axis):
    dipole = np.append(np.linalg.solve(LEAD_MATRIX[:2, :2], [lead_i, lead_ii]), 0.0)
    assert frontal_axis_deg(dipole) == pytest.approx(axis, abs=1e-9)


def test_low_qrs_voltage_stays_under_half_a_millivolt_in_every_limb_lead():
    for seed in range(5):
        record = generate_record(seed, labels=["NSR", "LQRSV"], clean=True)
        for qrs in normal_qrs(record):
            limb = qrs[:6]
            assert np.all(limb.max(axis=1) - limb.min(axis=1) < 0.5)


def test_prolonged_qt_has_bazett_qtc_over_460_ms():
    for seed in range(5):
        fiducials = generate_record(seed, labels=["SB", "LQT"], clean=True).fiducials
        rr_s = np.diff(fiducials["R"]) / FS
        qt_s = (fiducials["T_off"] - fiducials["QRS_on"])[1:] / FS
        assert np.nanmin(qt_s / np.sqrt(rr_s)) > 0.46


@pytest.mark.parametrize("sinus", ["NSR", "SB"])
def test_premature_beats_come_early_with_the_right_waves(sinus):
    for seed in range(5):
        record = generate_record(seed, labels=[sinus, "PAC", "PVC"], clean=True)
        types, fiducials = record.beat_types, record.fiducials
        assert "A" in types and "V" in types
        rr = np.diff(fiducials["R"])
        ectopic = np.flatnonzero(types[1:-1] != "N")  # index in rr of the interval that ends on one
        assert np.all(rr[ectopic] < 0.8 * rr[ectopic + 1])  # premature, then a pause
        ventricular = types == "V"
        assert np.all(np.isnan(fiducials["P_on"][ventricular]))
        assert np.all(np.isfinite(fiducials["P_on"][types == "A"]))
        assert np.nanmin((fiducials["QRS_off"] - fiducials["QRS_on"])[ventricular]) / FS >= 0.12


def test_limb_leads_obey_einthoven_and_goldberger_despite_noise():
    x = generate_record(4, 0).signal_mv.astype(float)
    lead = {name: x[i] for i, name in enumerate(STANDARD_LEADS)}
    np.testing.assert_allclose(lead["III"], lead["II"] - lead["I"], atol=1e-5)
    np.testing.assert_allclose(lead["aVR"], -(lead["I"] + lead["II"]) / 2, atol=1e-5)
    np.testing.assert_allclose(lead["aVF"], lead["II"] - lead["I"] / 2, atol=1e-5)


@pytest.mark.parametrize("seed", range(4))
def test_delineator_finds_the_true_r_peaks_of_clean_sinus_records(seed):
    record = generate_record(seed, labels=["NSR"], clean=True)
    true_r = record.fiducials["R"]
    lead = int(np.argmax(np.median(record.signal_mv[:, true_r.astype(int)], axis=1)))  # tallest R wave
    found = delineate(record.signal_mv[lead], FS)["R"]
    inner = true_r[(true_r > 0.3 * FS) & (true_r < 9.7 * FS)]
    assert np.max(np.min(np.abs(inner[:, None] - found[None, :]), axis=1)) <= 0.02 * FS


def test_cli_writes_the_requested_number_of_records(tmp_path):
    main([str(tmp_path / "out"), "--records", "4", "--seed", "2", "--quiet"])
    headers, recordings = find_challenge_files(tmp_path / "out")
    assert len(headers) == len(recordings) == 4
    assert len(list((tmp_path / "out").glob("*.fiducials.csv"))) == 4


@pytest.mark.parametrize("count", ["0", "-3", "many"])
def test_cli_refuses_a_record_count_below_one_in_one_error_line(tmp_path, capsys, count):
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path), "--records", count])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("python -m ecgcrnn.synthetic: error: argument --records:")


def test_cli_refuses_an_output_path_that_is_a_file_without_a_traceback(tmp_path):
    existing = tmp_path / "taken.txt"
    existing.write_text("not a folder")
    run = subprocess.run(
        [sys.executable, "-m", "ecgcrnn.synthetic", str(existing), "--records", "2"],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].endswith("taken.txt: exists and is not a folder")
