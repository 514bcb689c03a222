import io
import logging
import math

import numpy as np
import pytest
import scipy.io
import scipy.sparse
import wfdb

from ecgcrnn.domain import STANDARD_LEADS, default_class_table
from ecgcrnn.io.matfile import read_mat, write_mat
from ecgcrnn.io.records import (
    RecordError,
    check_recording_size,
    checksum,
    dx_codes,
    find_challenge_files,
    get_age,
    get_labels,
    get_sex,
    load_header,
    load_recording,
    parse_header,
    to_millivolts,
)
from ecgcrnn.scoring.evaluate import load_labels


@pytest.mark.real_data
def test_every_shared_record_loads_with_plausible_values(challenge_dir):
    header_files, recording_files = find_challenge_files(challenge_dir)
    assert len(header_files) == 171
    for header_file, recording_file in zip(header_files, recording_files, strict=True):
        header = parse_header(load_header(header_file))
        check_recording_size(recording_file, header)
        recording = load_recording(recording_file, header)
        assert header.leads == STANDARD_LEADS, header_file
        assert header.fs_hz in (500.0, 1000.0), header_file
        assert recording.shape == (12, header.num_samples) and recording.dtype == np.int16
        assert all(s.gain > 0 for s in header.signals), header_file
        assert get_labels(header) and all(code.isdigit() for code in get_labels(header)), header_file
        assert get_sex(header) in ("Male", "Female"), header_file
        age = get_age(header)
        assert math.isnan(age) or 0 <= age <= 120, header_file
        assert [s.initial_value for s in header.signals] == recording[:, 0].tolist(), header_file
        assert [s.checksum for s in header.signals] == [checksum(row) for row in recording], header_file


@pytest.mark.real_data
def test_every_ludb_challenge_record_loads_as_finite_millivolts(ludb_challenge_dir):
    header_files, recording_files = find_challenge_files(ludb_challenge_dir)
    assert len(header_files) == 200
    for header_file, recording_file in zip(header_files, recording_files, strict=True):
        header = parse_header(load_header(header_file))
        check_recording_size(recording_file, header)
        mv = to_millivolts(header, load_recording(recording_file, header))
        assert header.leads == STANDARD_LEADS and header.fs_hz == 500.0, header_file
        assert mv.shape == (12, header.num_samples) and np.isfinite(mv).all(), header_file


@pytest.mark.real_data
def test_millivolts_equal_wfdb_physical_signal_on_every_record_wfdb_reads(challenge_dir):
    compared = 0
    for header_file, recording_file in zip(*find_challenge_files(challenge_dir), strict=True):
        header = parse_header(load_header(header_file))
        if header.record_line.split()[0].endswith(".mat"):
            continue  # wfdb rejects a record name with a suffix
        expected = wfdb.rdrecord(header_file[:-4]).p_signal.T
        mv = to_millivolts(header, load_recording(recording_file, header))
        assert mv.dtype == np.float32
        np.testing.assert_allclose(mv, expected, rtol=1e-6, atol=1e-6, err_msg=header_file)
        compared += 1
    assert compared > 100


@pytest.mark.real_data
@pytest.mark.parametrize(
    "name, fs, samples, age, sex, labels, gain, first_i",
    [
        ("A0001", 500, 7500, 74.0, "Male", ["59118001"], 1000.0, 28),
        ("E00001", 500, 5000, math.nan, "Female", ["426783006"], 1000.0, 136),
        ("E00015", 500, 5000, 67.0, "Male", ["251146004", "284470004", "284470004"], 4880.0, 58),
        ("HR00599", 500, 5000, None, None, None, 200.0, -40),
        ("Q0013", 500, 8000, 67.0, "Male", ["427172004", "428750005"], 1000.0, 20),
        ("S0001", 1000, 38400, 81.0, "Female", ["251146004", "426783006"], 1000.0, -245),
        ("S0003", 1000, 115200, None, None, None, 1000.0, None),
        ("JS00001", 500, 5000, 85.0, "Male", ["164889003", "59118001", "164934002"], 1000.0, -254),
    ],
)
def test_hand_checked_records(challenge_dir, name, fs, samples, age, sex, labels, gain, first_i):
    header = parse_header(load_header(challenge_dir / f"{name}.hea"))
    recording = load_recording(challenge_dir / f"{name}.mat", header)
    assert header.record_name == name
    assert header.fs_hz == fs and header.num_samples == samples and recording.shape == (12, samples)
    assert header.signals[0].gain == gain and header.signals[0].baseline == 0
    if age is not None:
        assert (math.isnan(get_age(header)) and math.isnan(age)) or get_age(header) == age
    if sex is not None:
        assert get_sex(header) == sex
    if labels is not None:
        assert get_labels(header) == labels
    if first_i is not None:
        assert recording[0, 0] == first_i
        assert to_millivolts(header, recording, ["I"])[0, 0] == pytest.approx(first_i / gain)


@pytest.mark.real_data
def test_record_name_carrying_mat_suffix_is_stripped(challenge_dir):
    header = parse_header(load_header(challenge_dir / "E07500.hea"))
    assert header.record_line.startswith("E07500.mat ")
    assert header.record_name == "E07500"


@pytest.mark.real_data
def test_dx_with_space_after_hash_is_read(challenge_dir):
    header = parse_header(load_header(challenge_dir / "Q0013.hea"))
    assert header.comments[2] == " Dx: 427172004,428750005"
    assert get_labels(header) == ["427172004", "428750005"]
    assert get_age(header) == 67.0


@pytest.mark.real_data
def test_gain_with_baseline_in_parentheses(copy_record):
    header_file = copy_record(
        "Q0013", lambda text: text.replace("1000.0(0)/mV 16 0 20", "1000.0(-5)/mV 16 0 20")
    )
    header = parse_header(load_header(header_file))
    assert header.signals[0].gain == 1000.0 and header.signals[0].baseline == -5
    assert header.signals[1].baseline == 0
    recording = load_recording(header_file.with_suffix(".mat"), header)
    assert to_millivolts(header, recording, ["I"])[0, 0] == pytest.approx((20 + 5) / 1000)


@pytest.mark.real_data
def test_baseline_defaults_to_adc_zero(copy_record):
    header_file = copy_record("A0001", lambda text: text.replace("1000/mV 16 0 28", "1000/mV 16 12 28"))
    header = parse_header(load_header(header_file))
    assert header.signals[0].baseline == 12
    recording = load_recording(header_file.with_suffix(".mat"), header)
    assert to_millivolts(header, recording, ["I"])[0, 0] == pytest.approx((28 - 12) / 1000)


@pytest.mark.real_data
def test_lowercase_units_are_millivolts(challenge_dir):
    header = parse_header(load_header(challenge_dir / "HR00001.hea"))
    assert header.signals[0].units == "mv"
    recording = load_recording(challenge_dir / "HR00001.mat", header)
    assert to_millivolts(header, recording, ["I"])[0, 0] == pytest.approx(-115 / 1000)


@pytest.mark.real_data
def test_microvolt_units_are_scaled_to_millivolts(copy_record):
    header_file = copy_record("A0001", lambda text: text.replace("1000/mV", "1/uV"))
    header = parse_header(load_header(header_file))
    recording = load_recording(header_file.with_suffix(".mat"), header)
    assert to_millivolts(header, recording, ["I"])[0, 0] == pytest.approx(28 / 1000)


@pytest.mark.real_data
@pytest.mark.parametrize(
    "gain, first_mv",
    [("1000", 0.028), ("1/uV", 0.028), ("1/\u00b5V", 0.028), ("1/\u03bcV", 0.028), ("1000000/V", 0.028)],
)
def test_units_without_a_name_or_in_volts_are_scaled_to_millivolts(copy_record, gain, first_mv):
    header_file = copy_record("A0001", lambda text: text.replace("1000/mV 16 0 28", f"{gain} 16 0 28"))
    header = parse_header(load_header(header_file))
    recording = load_recording(header_file.with_suffix(".mat"), header)
    assert to_millivolts(header, recording, ["I"])[0, 0] == pytest.approx(first_mv)


@pytest.mark.real_data
@pytest.mark.parametrize("units", ["furlong", "mmHg", "degC", "bpm"])
def test_unknown_units_are_refused_naming_the_file(copy_record, units):
    header_file = copy_record("A0001", lambda text: text.replace("1000/mV 16 0 28", f"1000/{units} 16 0 28"))
    with pytest.raises(RecordError, match=rf"{header_file.name}: lead I's units '{units}' are not a voltage"):
        load_header(header_file)


@pytest.mark.real_data
def test_crlf_line_endings(copy_record):
    header_file = copy_record("A0001", lambda text: text.replace("\n", "\r\n"))
    assert b"\r\n" in header_file.read_bytes()
    header = parse_header(load_header(header_file))
    assert header.leads == STANDARD_LEADS
    assert get_labels(header) == ["59118001"] and get_sex(header) == "Male" and get_age(header) == 74.0


@pytest.mark.real_data
def test_empty_code_between_commas_is_dropped(copy_record):
    header_file = copy_record(
        "A0001", lambda text: text.replace("#Dx: 59118001", "#Dx: 427084000,,427172004")
    )
    assert get_labels(load_header(header_file)) == ["427084000", "427172004"]


TWO_DX_LINES = "r 1 500 3\nr.mat 16+24 1000/mV 16 0 0 0 0 I\n#Dx: 164889003,59118001\n#Dx: 426783006\n"


def test_every_dx_line_is_read_as_the_challenge_reads_them():
    expected = ["164889003", "59118001", "426783006"]
    assert dx_codes(TWO_DX_LINES) == expected
    assert get_labels(TWO_DX_LINES) == expected
    assert get_labels(parse_header(TWO_DX_LINES, source="r.hea")) == expected


def test_evaluator_labels_of_two_dx_lines_are_their_union(tmp_path):
    (tmp_path / "r.hea").write_text(TWO_DX_LINES)
    table = default_class_table()
    labels = load_labels([tmp_path / "r.hea"], table)
    assert np.flatnonzero(labels[0]).tolist() == sorted(
        table.code_index[code] for code in ("164889003", "59118001", "426783006")
    )


@pytest.mark.parametrize("entry", ["713427006 | 59118001", "713427006|59118001"])
def test_dx_entry_with_a_pipe_counts_as_no_class_with_a_warning_naming_the_file(tmp_path, caplog, entry):
    (tmp_path / "r.hea").write_text(f"r 1 500 3\nr.mat 16+24 1000/mV 16 0 0 0 0 I\n#Dx: {entry},164889003\n")
    table = default_class_table()
    with caplog.at_level(logging.WARNING, logger="ecgcrnn"):
        labels = load_labels([tmp_path / "r.hea"], table)
    assert np.flatnonzero(labels[0]).tolist() == [table.code_index["164889003"]]
    assert f"{tmp_path / 'r.hea'}: Dx entry '{entry}' is not one code" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ecgcrnn"):
        assert get_labels(load_header(tmp_path / "r.hea")) == [entry, "164889003"]
        get_labels(parse_header(load_header(tmp_path / "r.hea"), source="r.hea"))
    assert "r.hea: Dx entry" in caplog.text


@pytest.mark.real_data
def test_missing_age_and_sex_lines_give_none(copy_record):
    edit = lambda text: text.replace("#Age: 74\n", "").replace("#Sex: Male\n", "")  # noqa: E731
    header = load_header(copy_record("A0001", edit))
    assert get_age(header) is None and get_sex(header) is None


@pytest.mark.real_data
def test_unknown_sex_and_nan_age(copy_record):
    edit = lambda text: text.replace("#Age: 74", "#Age: NaN").replace("#Sex: Male", "#Sex: Unknown")  # noqa: E731
    header = load_header(copy_record("A0001", edit))
    assert math.isnan(get_age(header)) and get_sex(header) == "Unknown"


@pytest.mark.real_data
def test_missing_dx_line_gives_no_labels(copy_record):
    assert (
        get_labels(load_header(copy_record("A0001", lambda text: text.replace("#Dx: 59118001\n", "")))) == []
    )


@pytest.mark.real_data
def test_lead_names_match_case_insensitively(copy_record):
    header_file = copy_record(
        "A0001", lambda text: text.replace(" aVR\n", " avr\n").replace(" V1\n", " v1\n")
    )
    header = parse_header(load_header(header_file))
    assert header.leads == STANDARD_LEADS
    recording = load_recording(header_file.with_suffix(".mat"), header, ["AVR", "v1"])
    assert recording[:, 0].tolist() == [-17, -290]


@pytest.mark.real_data
def test_leads_in_requested_order(challenge_dir):
    header = load_header(challenge_dir / "A0001.hea")
    recording = load_recording(challenge_dir / "A0001.mat", header, ["V6", "I", "aVF"])
    assert recording[:, 0].tolist() == [-16, 28, -7]
    mv = to_millivolts(header, load_recording(challenge_dir / "A0001.mat"), ["V6", "I"])
    assert mv.shape == (2, 7500) and mv[:, 0].tolist() == pytest.approx([-0.016, 0.028])


@pytest.mark.real_data
def test_unknown_lead_names_the_record_and_its_leads(challenge_dir):
    header = load_header(challenge_dir / "A0001.hea")
    with pytest.raises(RecordError, match=r"A0001: lead 'V7' not in I, II, III, aVR.*V6"):
        load_recording(challenge_dir / "A0001.mat", header, ["I", "V7"])


@pytest.mark.real_data
def test_invalid_samples_become_nan(tmp_path, challenge_dir):
    header = load_header(challenge_dir / "A0001.hea")
    recording = load_recording(challenge_dir / "A0001.mat")
    recording[0, 10:20] = -32768
    mv = to_millivolts(header, recording)
    assert np.isnan(mv[0, 10:20]).all() and np.isfinite(mv[0, :10]).all() and np.isfinite(mv[1:]).all()


@pytest.mark.real_data
@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda text: "", "empty header"),
        (lambda text: text.replace("A0001 12 500 7500", "A0001 twelve 500 7500"), "bad record line"),
        (lambda text: text.replace("A0001 12 500 7500", "A0001 12"), "bad record line"),
        (lambda text: text.replace("A0001 12 500 7500", "A0001 12 0 7500"), "expected positive"),
        (lambda text: text.replace("A0001 12 500", "A0001 13 500"), "announces 13 leads, found 12"),
        (lambda text: text.replace("1000/mV 16 0 28", "abc/mV 16 0 28"), "not a number"),
        (lambda text: text.replace("1000/mV 16 0 28", "1000(inf)/mV 16 0 28"), "not a number"),
        (lambda text: text.replace("1000/mV 16 0 28", "(1E400 16 0 28"), "not a number"),
        (lambda text: text.replace("16 0 28 -1716 0 I", "16 0 28"), "bad signal line"),
    ],
)
def test_corrupt_header_names_the_file(copy_record, edit, message):
    header_file = copy_record("A0001", edit)
    with pytest.raises(RecordError, match=f"{header_file.name}: .*{message}"):
        load_header(header_file)


@pytest.mark.real_data
@pytest.mark.parametrize("fs", ["0.001", "1", "49.9", "10000.5", "20000"])
def test_sampling_rate_no_ecg_has_is_refused_naming_the_file(copy_record, fs):
    header_file = copy_record("A0001", lambda text: text.replace("A0001 12 500 7500", f"A0001 12 {fs} 7500"))
    with pytest.raises(RecordError, match=rf"{header_file.name}: sampling rate {fs} Hz .*50 to 10000 Hz"):
        load_header(header_file)


@pytest.mark.real_data
@pytest.mark.parametrize("fs", ["50", "257", "10000"])
def test_sampling_rates_at_and_inside_the_ecg_range_are_read(copy_record, fs):
    header_file = copy_record("A0001", lambda text: text.replace("A0001 12 500 7500", f"A0001 12 {fs} 7500"))
    assert parse_header(load_header(header_file)).fs_hz == float(fs)


@pytest.mark.real_data
def test_missing_mat_names_the_file(tmp_path, challenge_dir):
    with pytest.raises(FileNotFoundError, match=r"A0001\.mat: recording file not found"):
        load_recording(tmp_path / "A0001.mat", load_header(challenge_dir / "A0001.hea"))


@pytest.mark.real_data
@pytest.mark.parametrize("keep_bytes", [10, 24, 24 + 2 * 12 * 7500 - 1])
def test_truncated_mat_names_the_file(tmp_path, challenge_dir, keep_bytes):
    truncated = tmp_path / "A0001.mat"
    truncated.write_bytes((challenge_dir / "A0001.mat").read_bytes()[:keep_bytes])
    with pytest.raises(RecordError, match=r"A0001\.mat: truncated MATLAB file"):
        load_recording(truncated, load_header(challenge_dir / "A0001.hea"))


@pytest.mark.real_data
def test_shape_disagreeing_with_header_names_both(copy_record):
    header_file = copy_record("A0001", lambda text: text.replace("A0001 12 500 7500", "A0001 12 500 5000"))
    with pytest.raises(RecordError, match=r"A0001\.mat: .* shape 12x7500, header A0001 expects 12x5000"):
        load_recording(header_file.with_suffix(".mat"), load_header(header_file))


def test_garbage_mat_is_rejected(tmp_path):
    garbage = tmp_path / "x.mat"
    garbage.write_bytes(b"\xff" * 200)
    with pytest.raises(RecordError, match=r"x\.mat: not a MATLAB"):
        read_mat(garbage)


@pytest.mark.parametrize("file_format", ["4", "5"])
def test_complex_matrix_is_refused_naming_the_file(tmp_path, file_format):
    scipy.io.savemat(tmp_path / "c.mat", {"val": np.array([[1 + 2j, 3, 4]])}, format=file_format)
    with pytest.raises(RecordError, match=r"c\.mat: matrix 'val' is complex, expected real ADC values"):
        read_mat(tmp_path / "c.mat")


def test_complex_matrix_beside_val_is_skipped(tmp_path):
    matrix = np.arange(6, dtype=np.int16).reshape(2, 3)
    scipy.io.savemat(tmp_path / "v4.mat", {"other": np.array([[1j]]), "val": matrix}, format="4")
    np.testing.assert_array_equal(read_mat(tmp_path / "v4.mat"), matrix)


@pytest.mark.parametrize(
    "value, kind",
    [
        ("text", "text"),
        (np.array([[np.ones(2)], [np.ones(3)]], dtype=object), "cell"),
        (scipy.sparse.csc_matrix(np.eye(2)), "sparse"),
    ],
)
def test_level5_matrix_that_is_not_numbers_is_refused_naming_the_file(tmp_path, value, kind):
    scipy.io.savemat(tmp_path / f"{kind}.mat", {"val": value})
    with pytest.raises(RecordError, match=rf"{kind}\.mat: matrix 'val' holds .*, expected real ADC values"):
        read_mat(tmp_path / f"{kind}.mat")


def _level5_bytes(matrix: np.ndarray, **options) -> bytearray:
    stream = io.BytesIO()
    scipy.io.savemat(stream, {"val": matrix}, **options)
    return bytearray(stream.getvalue())


def test_level5_element_of_an_unknown_data_type_is_refused_without_crashing(tmp_path):
    # scipy's reader indexes a table with the element's type code unchecked: this file made it segfault.
    content = _level5_bytes(np.arange(6, dtype=np.int16).reshape(2, 3))
    assert content[176:184] == bytes([3, 0, 0, 0, 12, 0, 0, 0])  # the data's tag: miINT16, 12 bytes
    content[176] = 253
    (tmp_path / "bad.mat").write_bytes(content)
    with pytest.raises(RecordError, match=r"bad\.mat: .*data type 253"):
        read_mat(tmp_path / "bad.mat")


@pytest.mark.parametrize("dtype", ["int16", "int32", "uint8", "float32", "float64"])
def test_compressed_level5_mat_files_are_read(tmp_path, dtype):
    matrix = (np.arange(24).reshape(3, 8) - 5).astype(dtype)
    (tmp_path / "v5.mat").write_bytes(_level5_bytes(matrix, do_compression=True))
    read = read_mat(tmp_path / "v5.mat")
    assert read.dtype == matrix.dtype
    np.testing.assert_array_equal(read, matrix)


def test_level5_val_among_other_variables_is_found(tmp_path):
    matrix = np.arange(6, dtype=np.int16).reshape(2, 3)
    scipy.io.savemat(tmp_path / "v5.mat", {"a": "text", "b": np.ones((2, 2)), "val": matrix})
    np.testing.assert_array_equal(read_mat(tmp_path / "v5.mat"), matrix)
    with pytest.raises(
        RecordError, match=r"v5\.mat: no variable 'x' in this MATLAB file \(found 'a', 'b', 'val'\)"
    ):
        read_mat(tmp_path / "v5.mat", "x")


def test_hdf5_mat_file_is_refused_naming_the_file(tmp_path):
    content = _level5_bytes(np.ones((1, 1)))
    content[124:128] = b"\x00\x02IM"  # the version field of a MATLAB 7.3 (HDF5) file
    (tmp_path / "v73.mat").write_bytes(content)
    with pytest.raises(RecordError, match=r"v73\.mat: MATLAB file version 0x0200"):
        read_mat(tmp_path / "v73.mat")


def _one_lead_header(gain: str = "1000/mV") -> str:
    return f"r 1 500 3\nr.mat 16+24 {gain} 16 0 0 0 0 I\n"


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    "gain, values",
    [
        ("1e-30/mV", np.array([[2_000_000_000, 0, 1]], np.int32)),
        ("1e-300/mV", np.array([[30_000, 0, 1]], np.int16)),
        ("1000/mV", np.array([[1e300, 0.0, 1.0]])),
        ("1/V", np.array([[1e36, 0.0, 1.0]])),
    ],
)
def test_values_beyond_float32_after_scaling_are_refused_without_numpy_warnings(gain, values):
    header = parse_header(_one_lead_header(gain), source="r.hea")
    with pytest.raises(RecordError, match=r"r\.hea: lead I sample 0 .* mV, beyond float32"):
        to_millivolts(header, values)


@pytest.mark.filterwarnings("error")
def test_non_finite_float_values_become_nan_without_numpy_warnings():
    header = parse_header(_one_lead_header(), source="r.hea")
    mv = to_millivolts(header, np.array([[np.inf, -np.inf, np.nan]]))
    assert mv.dtype == np.float32 and np.isnan(mv).all()


def test_recording_of_complex_values_is_refused_by_to_millivolts():
    header = parse_header(_one_lead_header(), source="r.hea")
    with pytest.raises(RecordError, match=r"r\.hea: recording of complex128 values, expected real ADC"):
        to_millivolts(header, np.array([[1j, 2, 3]]))


def test_level5_mat_files_are_read(tmp_path):
    matrix = np.arange(24, dtype=np.int16).reshape(3, 8)
    scipy.io.savemat(tmp_path / "v5.mat", {"val": matrix})
    np.testing.assert_array_equal(read_mat(tmp_path / "v5.mat"), matrix)


@pytest.mark.parametrize("dtype", ["<i2", "<i4", "<f4", "<f8", "<u2", "u1", ">i2"])
def test_level4_round_trip_with_scipy(tmp_path, dtype):
    matrix = (np.arange(36).reshape(4, 9) - 3).astype(np.uint8 if dtype.endswith("u1") else dtype)
    write_mat(tmp_path / "m.mat", "val", matrix)
    np.testing.assert_array_equal(read_mat(tmp_path / "m.mat"), matrix)
    np.testing.assert_array_equal(scipy.io.loadmat(tmp_path / "m.mat")["val"], matrix)


def test_scipy_level4_files_are_read(tmp_path):
    matrix = np.arange(-12, 12, dtype=np.int16).reshape(2, 12)
    scipy.io.savemat(tmp_path / "v4.mat", {"other": np.ones((1, 1)), "val": matrix}, format="4")
    np.testing.assert_array_equal(read_mat(tmp_path / "v4.mat"), matrix)
    with pytest.raises(RecordError, match="no variable 'x'"):
        read_mat(tmp_path / "v4.mat", "x")


def test_find_challenge_files_pairs_sorts_and_skips(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    for path in ["B1.hea", "B1.mat", "sub/A2.hea", "sub/A2.mat", "C3.hea", ".D4.hea", ".D4.mat"]:
        (tmp_path / path).write_text("")
    (tmp_path / ".hidden" / "E5.hea").write_text("")
    (tmp_path / ".hidden" / "E5.mat").write_text("")
    headers, recordings = find_challenge_files(tmp_path)
    assert headers == [str(tmp_path / "sub/A2.hea"), str(tmp_path / "B1.hea")]
    assert recordings == [str(tmp_path / "sub/A2.mat"), str(tmp_path / "B1.mat")]


def test_find_challenge_files_on_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        find_challenge_files(tmp_path / "absent")


def test_checksum_is_signed_16_bit_sum():
    assert checksum(np.array([32767, 1], np.int16)) == -32768
    assert checksum(np.array([-1, -1], np.int16)) == -2
    assert checksum(np.array([], np.int16)) == 0


def test_the_most_compressible_recording_fits_the_size_its_file_allows(tmp_path):
    # zeros of one byte each, compressed: the most samples per byte of file a recording can have
    matrix = np.zeros((12, 100_000), dtype=np.uint8)
    (tmp_path / "zeros.mat").write_bytes(_level5_bytes(matrix, do_compression=True))
    header = parse_header(_header_text("zeros", 12, matrix.shape[1]))
    check_recording_size(tmp_path / "zeros.mat", header)
    np.testing.assert_array_equal(load_recording(tmp_path / "zeros.mat", header), matrix)


def test_a_header_announcing_more_samples_than_its_file_can_hold_is_refused_naming_both(tmp_path):
    write_mat(tmp_path / "r.mat", "val", np.zeros((2, 5000), dtype=np.int16))
    header = parse_header(_header_text("r", 2, 5000 * 10**6), source="r.hea")
    with pytest.raises(RecordError, match=r"r\.mat: header r\.hea announces 5000000000 samples of 2 leads"):
        check_recording_size(tmp_path / "r.mat", header)


def _header_text(name: str, leads: int, samples: int) -> str:
    signals = [f"{name}.mat 16+24 1000/mV 16 0 0 0 0 {lead}" for lead in STANDARD_LEADS[:leads]]
    return "\n".join([f"{name} {leads} 500 {samples}", *signals]) + "\n"
