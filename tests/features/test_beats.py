import math

import numpy as np
import pytest

from ecgcrnn.delineation.delineate import delineate_leads
from ecgcrnn.domain import FIDUCIALS
from ecgcrnn.features.beats import (
    LEAD_FEATURES,
    beat_feature_names,
    features_from_delineation,
    record_feature_names,
)
from ecgcrnn.features.settings import FeatureConfig

FS = 500.0
LEADS = ("I", "II")


def hand_made(rr_samples=(400, 400, 400, 400), baseline=0.1):
    """Two leads with flat segments at known levels and the fiducials that go with them.

    Each beat (R at r): P_on r-100, P_peak r-80 (0.2 mV above baseline), P_off r-60, QRS_on r-20,
    Q at r-10 (-0.1), R at r (1.0 lead I, 0.5 lead II), S at r+10 (-0.3), QRS_off r+25, J+60 = r+55
    (0.05), T_on r+100, T_peak r+150 (0.3 lead I, -0.2 lead II), T_off r+200.
    """
    signal = np.full((2, 5000), baseline)
    r_times = 300 + np.concatenate([[0], np.cumsum(rr_samples)])
    for r in r_times:
        signal[:, r - 80] += 0.2
        signal[:, r - 10] += -0.1
        signal[:, r] += [1.0, 0.5]
        signal[:, r + 10] += -0.3
        signal[:, r + 55] += 0.05
        signal[:, r + 150] += [0.3, -0.2]
    offsets = {"P_on": -100, "P_peak": -80, "P_off": -60, "QRS_on": -20, "R": 0, "QRS_off": 25}
    offsets |= {"T_on": 100, "T_peak": 150, "T_off": 200}
    fiducials = {key: np.tile(r_times + offsets[key], (2, 1)).astype(float) for key in FIDUCIALS}
    return signal, fiducials, r_times


def column(features, name):
    return features.beats[:, beat_feature_names(LEADS).index(name)]


def test_interval_and_amplitude_features_match_hand_computed_values():
    signal, fiducials, _ = hand_made()
    features = features_from_delineation(signal, FS, LEADS, fiducials)
    assert features.num_beats == 5
    expected = {
        "I:PR": 0.16, "I:QRS": 0.09, "I:QT": 0.44, "I:QTc": 0.44 / math.sqrt(0.8),
        "I:P_amp": 0.2, "I:Q_amp": -0.1, "I:R_amp": 1.0, "I:S_amp": -0.3, "I:T_amp": 0.3,
        "I:ST": 0.05, "I:T_polarity": 1.0, "II:R_amp": 0.5, "II:T_amp": -0.2, "II:T_polarity": -1.0,
    }  # fmt: skip
    for name, value in expected.items():
        np.testing.assert_allclose(column(features, name)[1:5], value, atol=1e-6, err_msg=name)


def test_rr_intervals_and_padding():
    signal, fiducials, _ = hand_made(rr_samples=(400, 500, 300, 400))
    features = features_from_delineation(signal, FS, LEADS, fiducials)
    np.testing.assert_allclose(column(features, "RR_before")[:5], [0.8, 0.8, 1.0, 0.6, 0.8])
    np.testing.assert_allclose(column(features, "RR_after")[:5], [0.8, 1.0, 0.6, 0.8, 0.8])
    rr_before = beat_feature_names(LEADS).index("RR_before")
    assert features.beats_mask[0, rr_before] == 0 and features.beats_mask[1, rr_before] == 1
    assert (features.beats[5:] == 0).all() and (features.beats_mask[5:] == 0).all()


def test_missing_p_wave_is_imputed_and_flagged():
    signal, fiducials, _ = hand_made()
    fiducials["P_on"][0, 2] = np.nan
    features = features_from_delineation(signal, FS, LEADS, fiducials)
    pr = beat_feature_names(LEADS).index("I:PR")
    assert features.beats_mask[2, pr] == 0 and features.beats[2, pr] == pytest.approx(0.16)
    assert features.beats_mask[1, pr] == 1


def test_record_features_of_a_regular_rhythm():
    signal, fiducials, _ = hand_made()
    features = features_from_delineation(signal, FS, LEADS, fiducials)
    record = dict(zip(record_feature_names(LEADS), features.record, strict=True))
    assert record["heart_rate"] == pytest.approx(75.0)
    assert record["SDNN"] == pytest.approx(0.0) and record["RMSSD"] == pytest.approx(0.0)
    assert record["P_presence"] == 1.0 and record["beats_per_10s"] == pytest.approx(5.0)
    assert record["I:median_QRS"] == pytest.approx(0.09)
    # net QRS: lead I 1.0 - 0.3 = 0.7; aVF = II - I/2 = (0.5 - 0.3) - 0.35 = -0.15
    angle = math.atan2(-0.15, 0.7)
    assert record["axis_cos"] == pytest.approx(math.cos(angle)) and record["axis_sin"] == pytest.approx(
        math.sin(angle)
    )
    assert (features.record_mask == 1).all()


def test_irregular_rhythm_has_high_irregularity():
    signal, fiducials, _ = hand_made(rr_samples=(300, 520, 350, 480))
    record = dict(
        zip(
            record_feature_names(LEADS),
            features_from_delineation(signal, FS, LEADS, fiducials).record,
            strict=True,
        )
    )
    assert record["RR_irregularity"] > 0.3 and record["RMSSD"] > 0.2


def test_implausible_measurements_are_dropped():
    signal, fiducials, _ = hand_made()
    fiducials["QRS_off"][0] = fiducials["QRS_on"][0] + 300  # a 600 ms QRS
    features = features_from_delineation(signal, FS, LEADS, fiducials)
    qrs = beat_feature_names(LEADS).index("I:QRS")
    assert (features.beats_mask[:5, qrs] == 0).all() and features.beats[0, qrs] == pytest.approx(0.09)


def test_no_beats_gives_defaults_flagged_missing():
    empty = {key: np.full((2, 0), np.nan) for key in FIDUCIALS}
    features = features_from_delineation(np.zeros((2, 5000)), FS, LEADS, empty)
    assert features.num_beats == 0
    assert (features.beats == 0).all() and (features.beats_mask == 0).all()
    assert np.isfinite(features.record).all() and features.record_mask.sum() == 1  # only the beat count


@pytest.mark.parametrize("leads", [("I", "II"), ("I", "II", "V2"), ("V1",)])
def test_features_are_finite_on_noise_and_flat_signals(leads):
    rng = np.random.default_rng(0)
    for signal in (rng.normal(0, 1, (len(leads), 5000)), np.zeros((len(leads), 5000))):
        features = features_from_delineation(signal, FS, leads, delineate_leads(signal, FS))
        assert features.beats.shape == (FeatureConfig().max_beats, 2 + len(LEAD_FEATURES) * len(leads))
        assert features.record.shape == (len(record_feature_names(leads)),)
        assert np.isfinite(features.beats).all() and np.isfinite(features.record).all()


def test_feature_names_cover_every_lead():
    assert beat_feature_names(("I",))[:3] == ["RR_before", "RR_after", "I:PR"]
    assert len(record_feature_names(("I", "II"))) == 9 + 2 * len(LEAD_FEATURES)
