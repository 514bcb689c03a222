import math

import numpy as np
import pytest

import helper_code


@pytest.fixture
def header(challenge_dir):
    return helper_code.load_header(challenge_dir / "E00015.hea")


@pytest.mark.real_data
def test_record_line_numbers(header):
    assert helper_code.get_recording_id(header) == "E00015"
    assert helper_code.get_num_leads(header) == 12
    assert helper_code.get_frequency(header) == 500.0
    assert helper_code.get_num_samples(header) == 5000


@pytest.mark.real_data
def test_leads_gains_and_baselines_follow_the_requested_order(header):
    assert helper_code.get_leads(header)[:3] == ("I", "II", "III")
    np.testing.assert_array_equal(helper_code.get_adc_gains(header, ["V1", "I"]), [4880.0, 4880.0])
    np.testing.assert_array_equal(helper_code.get_baselines(header, ["V1", "I"]), [0.0, 0.0])


@pytest.mark.real_data
def test_demographics_and_labels(header):
    assert helper_code.get_age(header) == 67.0
    assert helper_code.get_sex(header) == "Male"
    assert helper_code.get_labels(header) == ["251146004", "284470004", "284470004"]


@pytest.mark.real_data
def test_gain_written_with_baseline_is_the_number_before_the_parenthesis(challenge_dir):
    header = helper_code.load_header(challenge_dir / "Q0013.hea")
    assert helper_code.get_adc_gains(header, ["I"])[0] == 1000.0


@pytest.mark.real_data
def test_load_recording_as_stored_and_in_lead_order(challenge_dir, header):
    stored = helper_code.load_recording(challenge_dir / "E00015.mat")
    assert stored.shape == (12, 5000) and stored.dtype == np.int16
    picked = helper_code.load_recording(challenge_dir / "E00015.mat", header, ("V2", "I"))
    np.testing.assert_array_equal(picked, stored[[7, 0]])
    mv = helper_code.to_millivolts(header, stored, ("I",))
    assert mv.dtype == np.float32 and mv[0, 0] == pytest.approx(58 / 4880)


def test_sort_leads_and_numbers():
    assert helper_code.sort_leads(("V2", "II", "I")) == ("I", "II", "V2")
    assert helper_code.is_number("1e3") and not helper_code.is_number("x")
    assert helper_code.is_integer("3.0") and not helper_code.is_integer("3.5")
    assert helper_code.is_finite_number("2") and not helper_code.is_finite_number("nan")


def test_outputs_round_trip(tmp_path):
    output_file = tmp_path / "A0001.csv"
    helper_code.save_outputs(output_file, "A0001", ["164889003", "733534002|164909002"], [1, 0], [0.75, 1e-9])
    recording_id, classes, labels, probabilities = helper_code.load_outputs(output_file)
    assert recording_id == "A0001"
    assert classes == ("164889003", "733534002|164909002")
    assert labels == ("1", "0")
    assert probabilities == (0.75, 1e-9) and not math.isnan(probabilities[1])
