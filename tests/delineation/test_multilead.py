"""Tests of ecgcrnn.delineation.multilead: the global fiducials (CSE) from the leads' own fiducials."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import LUDB_DATA as LUDB

from ecgcrnn.delineation.multilead import global_fiducials
from ecgcrnn.delineation.settings import DelineationConfig
from ecgcrnn.domain import FIDUCIALS

FS = 500.0
CONFIG = DelineationConfig(global_agreement_s=0.03, global_agreement_p_t_s=(0.05, 0.05))


def _leads(**columns) -> dict[str, np.ndarray]:
    """Per-lead fiducials (n_leads, n_beats): the given keys' values, every other key NaN of that shape."""
    shape = np.asarray(next(iter(columns.values()))).shape
    out = {key: np.full(shape, np.nan) for key in FIDUCIALS}
    out.update({key: np.asarray(value, dtype=float) for key, value in columns.items()})
    return out


def test_outlying_qrs_onset_of_one_lead_is_ignored():
    onsets = np.array([[100.0], [102.0], [104.0], [103.0], [60.0]])  # 60: 40 samples (80 ms) early
    result = global_fiducials(_leads(QRS_on=onsets), FS, CONFIG)
    assert result["QRS_on"][0] == 100.0


def test_earliest_onset_and_latest_offset_of_agreeing_leads_are_taken():
    fid = _leads(
        QRS_on=[[100.0, 600.0], [96.0, 604.0], [104.0, 598.0]],
        QRS_off=[[150.0, 650.0], [158.0, 646.0], [152.0, 655.0]],
        R=[[120.0, 620.0], [124.0, 622.0], [121.0, 630.0]],
    )
    result = global_fiducials(fid, FS, CONFIG)
    np.testing.assert_array_equal(result["QRS_on"], [96.0, 598.0])
    np.testing.assert_array_equal(result["QRS_off"], [158.0, 655.0])
    np.testing.assert_array_equal(result["R"], [121.0, 622.0])


def test_twelve_leads_give_the_third_earliest_onset_and_the_third_latest_offset():
    """The earliest of twelve noisy estimates falls well before the true boundary: a low order statistic
    (global_rank 0.15 of the way from the earliest: the third of twelve) is taken instead."""
    onsets = np.arange(100.0, 112.0)[::-1, None]  # 100 .. 111 in some lead order
    offsets = np.arange(150.0, 162.0)[:, None]
    result = global_fiducials(_leads(QRS_on=onsets, QRS_off=offsets), FS, CONFIG)
    assert (result["QRS_on"][0], result["QRS_off"][0]) == (102.0, 159.0)
    literal = global_fiducials(_leads(QRS_on=onsets, QRS_off=offsets), FS, DelineationConfig(global_rank=0.0))
    assert (literal["QRS_on"][0], literal["QRS_off"][0]) == (100.0, 161.0)


def test_p_boundaries_accept_leads_further_from_the_median_than_qrs_boundaries():
    values = [[100.0], [100.0], [80.0]]  # 20 samples = 40 ms early: within 50 ms, beyond 30 ms
    result = global_fiducials(_leads(P_on=values, QRS_on=values), FS, CONFIG)
    assert result["P_on"][0] == 80.0
    assert result["QRS_on"][0] == 100.0


def test_nan_where_no_lead_has_the_fiducial():
    fid = _leads(QRS_on=[[100.0, np.nan], [101.0, np.nan]], T_off=[[np.nan, 400.0], [np.nan, np.nan]])
    result = global_fiducials(fid, FS, CONFIG)
    assert np.isnan(result["QRS_on"][1]) and result["QRS_on"][0] == 100.0
    assert np.isnan(result["T_off"][0]) and result["T_off"][1] == 400.0
    assert np.isnan(result["P_on"]).all() and np.isnan(result["P_peak"]).all()


def test_no_beats_give_empty_arrays():
    result = global_fiducials(_leads(R=np.zeros((12, 0))), FS, CONFIG)
    assert set(result) == set(FIDUCIALS)
    assert all(value.shape == (0,) for value in result.values())


def test_paced_beat_qrs_onset_is_the_end_of_the_spike():
    # leads' onsets held pace_guard_s (10 ms = 5 samples) after the spike at 90; unpaced second beat
    fid = _leads(QRS_on=[[95.0, 600.0], [95.0, 602.0]], R=[[130.0, 630.0], [130.0, 630.0]])
    result = global_fiducials(fid, FS, CONFIG, spikes=np.array([90]))
    assert result["QRS_on"][0] == 90 + CONFIG.pace_halfwidth_s * FS
    assert result["QRS_on"][1] == 600.0


@pytest.mark.real_data
@pytest.mark.skipif(not LUDB.is_dir(), reason="../shared/data/ludb not found")
def test_ludb_global_qrs_onset_is_near_the_cardiologists_earliest_onset():
    from devtools.ludb import LEADS, compare_lead, global_reference, read_record, read_reference
    from ecgcrnn.delineation.delineate import delineate_record

    signals, fs = read_record(LUDB / "1")
    reference = global_reference([read_reference(LUDB / "1", lead) for lead in LEADS], 0.1 * fs)
    detected = delineate_record(signals, fs).global_fiducials
    result = compare_lead(reference, detected, 0.15 * fs)["QRS_on"]
    errors_ms = result.errors_samples * 1000.0 / fs
    assert result.n_reference >= 4 and result.n_matched == result.n_reference
    assert np.all(np.abs(errors_ms) <= 20.0), errors_ms
