"""Tests of devtools.ludb: reading the cardiologists' marks and matching detections to them."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import LUDB_DATA as LUDB

from devtools.ludb import (
    LEADS,
    compare_lead,
    evaluation_span,
    interlead_deviations,
    match_fiducials,
    read_record,
    read_reference,
)
from ecgcrnn.domain import FIDUCIALS

needs_ludb = pytest.mark.skipif(not LUDB.is_dir(), reason="../shared/data/ludb not found")


def test_match_pairs_each_reference_with_nearest_detection_within_tolerance():
    result = match_fiducials(np.array([100.0, 200.0, 300.0]), np.array([103.0, 190.0, 500.0]), tolerance=20)
    assert (result.n_reference, result.n_detected, result.n_matched) == (3, 3, 2)
    np.testing.assert_array_equal(result.errors_samples, [3.0, -10.0])


def test_match_is_one_to_one_so_extra_detections_are_false():
    result = match_fiducials(np.array([100.0, 110.0]), np.array([104.0, 98.0, 99.0]), tolerance=20)
    assert result.n_matched == 2
    np.testing.assert_array_equal(np.sort(result.errors_samples), [-6.0, -1.0])
    assert result.n_detected - result.n_matched == 1


def test_match_lets_the_closer_reference_win_a_shared_detection():
    result = match_fiducials(np.array([100.0, 112.0]), np.array([110.0]), tolerance=20)
    assert result.n_matched == 1
    np.testing.assert_array_equal(result.errors_samples, [-2.0])


def test_match_ignores_nan_and_handles_empty_inputs():
    assert match_fiducials(np.array([np.nan]), np.array([1.0]), 5).n_reference == 0
    assert match_fiducials(np.array([1.0]), np.zeros(0), 5).n_matched == 0


def test_evaluation_span_leaves_out_first_and_last_marked_beats():
    reference = {key: np.zeros(0) for key in FIDUCIALS}
    reference["R"] = np.array([100.0, 500.0, 900.0, 1300.0])
    assert evaluation_span(reference) == (300.0, 1100.0)
    reference["R"] = reference["R"][:2]
    start, stop = evaluation_span(reference)
    assert start >= stop


def test_compare_lead_counts_only_fiducials_inside_the_span():
    reference = {key: np.zeros(0) for key in FIDUCIALS}
    reference["R"] = np.array([100.0, 500.0, 900.0, 1300.0])
    detected = {key: np.zeros(0) for key in FIDUCIALS}
    detected["R"] = np.array([102.0, 497.0, 905.0, 1290.0, 700.0])
    result = compare_lead(reference, detected, tolerance=20)["R"]
    assert (result.n_reference, result.n_detected, result.n_matched) == (2, 3, 2)


@pytest.mark.real_data
@needs_ludb
def test_read_record_gives_twelve_leads_in_mv_at_500_hz():
    signals, fs = read_record(LUDB / "1")
    assert signals.shape == (12, 5000) and fs == 500.0
    assert 0.1 < np.ptp(signals[1]) < 10


@pytest.mark.real_data
@needs_ludb
def test_read_reference_splits_triplets_into_onset_peak_offset():
    reference = read_reference(LUDB / "1", "ii")
    assert reference["QRS_on"][0] == 644 and reference["R"][0] == 662 and reference["QRS_off"][0] == 682
    assert reference["T_on"][0] == 776 and reference["T_peak"][0] == 843 and reference["T_off"][0] == 878
    assert reference["P_on"][0] == 1250 and reference["P_peak"][0] == 1278 and reference["P_off"][0] == 1302


@pytest.mark.real_data
@needs_ludb
def test_read_reference_rejects_unknown_lead():
    with pytest.raises(ValueError, match="v7"):
        read_reference(LUDB / "1", "v7")
    assert "v6" in LEADS


def test_interlead_deviations_are_marks_minus_the_beat_median_over_leads():
    references = []
    for shift in (0.0, 4.0, -2.0, 10.0):
        reference = {key: np.zeros(0) for key in FIDUCIALS}
        reference["R"] = np.array([100.0, 500.0, 900.0, 1300.0])
        reference["QRS_on"] = np.array([480.0, 880.0]) + shift
        references.append(reference)
    deviations = interlead_deviations(references, "QRS_on", gap=50)
    np.testing.assert_allclose(np.sort(deviations), np.repeat([-4.0, -2.0, 2.0, 8.0], 2))
