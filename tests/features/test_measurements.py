"""The global measurements: the hexaxial geometry, the waves read on a complex, and whole windows of
synthetic records whose true fiducials and diagnoses are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ecgcrnn.delineation.delineate import delineate_record
from ecgcrnn.domain import LEAD_SETS, STANDARD_LEADS
from ecgcrnn.features import morphology
from ecgcrnn.features.measurements import (
    COUNTS,
    LEAD_MEASUREMENTS,
    MEASUREMENTS,
    Measurements,
    amplitude_names,
    combine_windows,
    measure,
    measurement_names,
)
from ecgcrnn.features.settings import MeasurementConfig
from ecgcrnn.synthetic.generator import generate_record

FS = 500.0


def _measure(record, leads=STANDARD_LEADS):
    rows = [STANDARD_LEADS.index(lead) for lead in leads]
    signal = record.signal_mv[rows].astype(np.float64)
    return measure(signal, FS, leads, delineate_record(signal, FS))


def _projections(angle_deg: float, size: float = 1.0) -> dict[str, float]:
    """What each limb lead shows of a frontal vector (the hexaxial lead vectors)."""
    out = {}
    for lead, (direction, length) in morphology.LEAD_DIRECTIONS.items():
        out[lead] = size * length * math.cos(math.radians(angle_deg - direction))
    return out


@pytest.mark.parametrize("angle", [0.0, 60.0, -45.0, 120.0, 179.0, -100.0, 85.0])
def test_frontal_axis_recovers_the_angle_of_a_vector_from_its_projections(angle):
    assert morphology.frontal_axis(_projections(angle)) == pytest.approx(angle, abs=1e-9)


def test_frontal_axis_from_lead_i_and_ii_alone_is_einthovens_law():
    projections = _projections(-60.0)
    assert morphology.frontal_axis({"I": projections["I"], "II": projections["II"]}) == pytest.approx(-60.0)


def test_frontal_axis_does_not_take_avf_for_the_vertical_projection():
    """At -30° lead aVF shows -√3/2 · sin(30°) ≈ -0.43 of a vector that lead I shows at 0.87: read as if aVF
    were the full vertical projection, the axis would come out at -26.6°."""
    projections = _projections(-30.0)
    assert morphology.frontal_axis({"I": projections["I"], "aVF": projections["aVF"]}) == pytest.approx(-30.0)


def test_frontal_axis_is_nan_without_two_independent_leads():
    assert math.isnan(morphology.frontal_axis({"I": 1.0}))
    assert math.isnan(morphology.frontal_axis({"I": 1.0, "II": math.nan}))
    assert math.isnan(morphology.frontal_axis({"I": 0.0, "II": 0.0}))


def test_limb_leads_derives_the_four_missing_limb_leads_from_i_and_ii():
    rng = np.random.default_rng(0)
    lead_i, lead_ii = rng.normal(size=(2, 50))
    rows = morphology.limb_leads(np.stack([lead_i, lead_ii]), ("I", "II"))
    assert list(rows) == ["I", "II", "III", "aVR", "aVL", "aVF"]
    np.testing.assert_allclose(rows["III"], lead_ii - lead_i)
    np.testing.assert_allclose(rows["aVR"], -(lead_i + lead_ii) / 2)
    np.testing.assert_allclose(rows["aVL"], lead_i - lead_ii / 2)
    np.testing.assert_allclose(rows["aVF"], lead_ii - lead_i / 2)


def test_limb_leads_derives_lead_i_from_ii_and_iii():
    rng = np.random.default_rng(1)
    lead_ii, lead_iii, v2 = rng.normal(size=(3, 20))
    rows = morphology.limb_leads(np.stack([lead_ii, lead_iii, v2]), ("II", "III", "V2"))
    np.testing.assert_allclose(rows["I"], lead_ii - lead_iii)
    assert "V2" in rows and "V1" not in rows


def _complex(waves, fs=FS, span_s=1.0):
    """A complex of Gaussian deflections (centre s, width s, mV) on a flat line, with its fiducials."""
    t = np.arange(round(span_s * fs)) / fs
    y = sum(a * np.exp(-0.5 * ((t - c) / w) ** 2) for c, w, a in waves)
    return np.asarray(y, dtype=np.float64)[None, :]


def _read(waves, on_s=0.40, off_s=0.50):
    fiducials = {"P_on": math.nan, "P_off": math.nan, "QRS_on": on_s * FS, "QRS_off": off_s * FS,
                 "T_off": math.nan}  # fmt: skip
    values = morphology.read_complexes(_complex(waves), fiducials, FS, MeasurementConfig())
    return {key: float(value[0]) for key, value in values.items()}


def test_read_complexes_finds_q_r_and_s_waves():
    values = _read([(0.42, 0.004, -0.2), (0.445, 0.008, 1.5), (0.47, 0.006, -0.5)])
    assert values["Q_mV"] == pytest.approx(-0.2, abs=0.02)
    assert values["R_mV"] == pytest.approx(1.5, abs=0.02)
    assert values["S_mV"] == pytest.approx(-0.5, abs=0.02)
    assert values["R_prime_mV"] == 0.0
    assert values["R_peak_time_ms"] == pytest.approx(45.0, abs=2.0)  # 0.445 s - 0.40 s
    assert values["QRS_pp_mV"] == pytest.approx(2.0, abs=0.05)


def test_read_complexes_finds_the_terminal_r_prime_of_an_rsr_complex():
    values = _read([(0.415, 0.006, 0.3), (0.44, 0.006, -0.6), (0.47, 0.01, 0.9)], off_s=0.52)
    assert values["R_mV"] == pytest.approx(0.3, abs=0.02)
    assert values["R_prime_mV"] == pytest.approx(0.9, abs=0.02)
    assert values["R_peak_time_ms"] == pytest.approx(70.0, abs=2.0)  # to the R' peak


def test_read_complexes_reads_a_qs_complex_as_a_deep_q_without_r():
    values = _read([(0.45, 0.012, -1.2)])
    assert values["R_mV"] == 0.0
    assert values["Q_mV"] == pytest.approx(-1.2, abs=0.02)
    assert values["Q_ms"] > 40


def test_read_complexes_calls_a_notched_r_notched_and_a_narrow_r_not():
    notched = _read([(0.43, 0.007, 1.0), (0.46, 0.007, 1.0)], off_s=0.52)
    narrow = _read([(0.45, 0.006, 1.0)])
    assert notched["notched_R"] == 1.0
    assert narrow["notched_R"] == 0.0


def test_read_complexes_ignores_deflections_smaller_than_a_wave():
    values = _read([(0.415, 0.004, -0.02), (0.45, 0.008, 1.0)])
    assert values["Q_mV"] == 0.0


def test_read_complexes_is_nan_without_qrs_boundaries():
    fiducials = dict.fromkeys(("P_on", "P_off", "QRS_on", "QRS_off", "T_off"), math.nan)
    values = morphology.read_complexes(np.zeros((2, 100)), fiducials, FS, MeasurementConfig())
    assert all(np.isnan(v).all() for v in values.values())


def test_measurement_names_cover_every_record_and_lead_measurement_once():
    names = measurement_names()
    assert len(names) == len(set(names)) == len(MEASUREMENTS) + 12 * len(LEAD_MEASUREMENTS)
    assert "V1:R_prime_mV" in names and "QTc_Bazett_ms" in names


def test_measurements_refuse_an_unknown_name_and_give_nan_for_a_missing_one():
    with pytest.raises(KeyError, match="unknown measurements"):
        Measurements({"PR": 0.2})
    values = Measurements({"PR_ms": 180.0})
    assert values["PR_ms"] == 180.0 and math.isnan(values["QRS_ms"])
    vector, mask = values.vector()
    assert vector.shape == mask.shape == (len(measurement_names()),)
    assert mask.sum() == 1 and np.isfinite(vector).all()


def test_intervals_of_sinus_records_are_near_the_true_ones():
    errors = {"PR": [], "QRS": [], "QT": []}
    ms = 1000.0 / FS
    for index in range(6):
        record = generate_record(3, index, labels=["NSR"])
        values = _measure(record)
        true = record.fiducials
        errors["PR"].append(values["PR_ms"] - np.nanmedian(true["QRS_on"] - true["P_on"]) * ms)
        errors["QRS"].append(values["QRS_ms"] - np.nanmedian(true["QRS_off"] - true["QRS_on"]) * ms)
        errors["QT"].append(values["QT_ms"] - np.nanmedian(true["T_off"] - true["QRS_on"]) * ms)
        rr = np.median(np.diff(true["R"])) * ms
        assert values["RR_ms"] == pytest.approx(rr, abs=4)
        assert values["QTc_Bazett_ms"] == pytest.approx(values["QT_ms"] / math.sqrt(values["RR_ms"] / 1000))
    limits = {"PR": 12.0, "QRS": 20.0, "QT": 30.0}  # ms, median abs. error (bench/quality/intervals.py: 200)
    assert {k: np.median(np.abs(e)) <= limits[k] for k, e in errors.items()} == dict.fromkeys(limits, True)


def test_a_left_axis_record_has_a_left_axis_and_a_normal_one_does_not():
    assert _measure(generate_record(4, 0, labels=["NSR", "LAD"]))["QRS_axis_deg"] < -30
    assert -30 < _measure(generate_record(4, 1, labels=["NSR"]))["QRS_axis_deg"] < 90


def test_the_axis_of_the_two_lead_set_agrees_with_the_twelve_lead_one():
    record = generate_record(4, 2, labels=["NSR", "RAD"])
    twelve = _measure(record)["QRS_axis_deg"]
    two = _measure(record, LEAD_SETS["two"])["QRS_axis_deg"]
    assert twelve > 90 and two == pytest.approx(twelve, abs=12)


def test_a_lead_set_without_the_precordial_leads_gives_no_sokolow_lyon_voltage():
    values = _measure(generate_record(4, 3, labels=["NSR"]), LEAD_SETS["six"])
    assert math.isnan(values["Sokolow_Lyon_mV"]) and math.isnan(values["V1:R_mV"])
    assert math.isfinite(values["limb_QRS_max_mV"]) and math.isfinite(values["aVL:R_mV"])


def test_premature_ventricular_beats_are_counted_wide():
    values = _measure(generate_record(5, 0, labels=["NSR", "PVC"]))
    assert values["premature_wide_beats"] >= 1


def test_atrial_fibrillation_has_few_p_waves_and_an_irregular_rhythm():
    fibrillation = _measure(generate_record(6, 0, labels=["AF"]))
    sinus = _measure(generate_record(6, 1, labels=["NSR"]))
    assert fibrillation["P_presence"] < 0.5 < sinus["P_presence"]
    assert fibrillation["RR_irregularity"] > 3 * sinus["RR_irregularity"]


def test_low_voltage_record_has_small_limb_lead_complexes():
    assert _measure(generate_record(7, 0, labels=["NSR", "LQRSV"]))["limb_QRS_max_mV"] < 0.6
    assert _measure(generate_record(7, 1, labels=["NSR"]))["limb_QRS_max_mV"] > 0.6


@pytest.mark.parametrize("kind", ["flat", "noise"])
def test_a_window_with_nothing_measurable_says_so_and_gives_no_numbers(kind):
    rng = np.random.default_rng(8)
    signal = np.zeros((12, 5000)) if kind == "flat" else rng.normal(0, 0.3, (12, 5000))
    values = measure(signal, FS, STANDARD_LEADS, delineate_record(signal, FS))
    assert values["measurable"] == 0.0 and not values.measurable
    quality = {"measurable", "usable_leads", "noise_mV", "beats"}
    assert all(math.isnan(values[name]) for name in measurement_names() if name not in quality)


def test_combine_windows_takes_the_median_and_the_largest_count():
    windows = [
        Measurements({"measurable": 1.0, "PR_ms": pr, "premature_beats": count})
        for pr, count in ((150.0, 0.0), (160.0, 2.0), (200.0, 0.0))
    ]
    combined = combine_windows([*windows, Measurements({"measurable": 0.0, "PR_ms": 400.0})])
    assert combined["PR_ms"] == 160.0
    assert combined["premature_beats"] == 2.0
    assert "premature_beats" in COUNTS


def test_combine_windows_of_unmeasurable_windows_is_unmeasurable():
    assert not combine_windows([Measurements({"measurable": 0.0, "noise_mV": 0.5})]).measurable


def test_amplitude_names_are_every_millivolt_measurement_but_the_noise_level():
    units = {name: unit for name, unit, _ in MEASUREMENTS}
    units |= {f"{lead}:{name}": unit for lead in STANDARD_LEADS for name, unit, _ in LEAD_MEASUREMENTS}

    hidden = amplitude_names()

    assert hidden == {n for n, u in units.items() if u == "mV"} - {"noise_mV"}
    assert {"limb_QRS_max_mV", "Sokolow_Lyon_mV", "V3:R_mV", "II:T_mV"} <= hidden
    assert not hidden & {"QRS_axis_deg", "P_axis_deg", "QRS_ms", "PR_ms", "V1:R_peak_time_ms", "R_prime_V1V2"}


def test_measurements_without_amplitudes_keep_the_intervals_rhythm_and_quality():
    measured = _measure(generate_record(7, 0, labels=["NSR", "LQRSV"]))

    kept = measured.without_amplitudes()

    for name in measurement_names():
        if name in amplitude_names():
            assert math.isnan(kept[name]), name
        else:
            assert kept[name] == measured[name] or (math.isnan(kept[name]) and math.isnan(measured[name])), (
                name
            )
    assert math.isfinite(measured["limb_QRS_max_mV"]) and kept.measurable
