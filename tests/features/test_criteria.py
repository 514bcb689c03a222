"""The clinical criteria (ecgcrnn.features.criteria, grading): each met, not met, graded in between and NaN
where unmeasurable on hand-built measurements, their age and sex dependence, the report's statements, the
stated grades the network starts from, and each criterion the generator can draw on a synthetic record of its
class and on one without it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ecgcrnn.domain import ABBREVIATIONS, LEAD_SETS, STANDARD_LEADS, default_class_table
from ecgcrnn.features import grading
from ecgcrnn.features.criteria import (
    CRITERIA,
    NOT_MEASURABLE,
    SECTIONS,
    criteria_decisions,
    criteria_scores,
    criteria_statements,
    stated_grades,
)

NAME = {abbreviation.split("|")[0]: name for name, abbreviation in ABBREVIATIONS.items()}
"""Class name (as in weights.csv) by its first abbreviation: NAME["CRBBB"] == "713427006|59118001"."""


def normal(**changes) -> dict[str, float]:
    """A normal adult 12-lead ECG's measurements (sinus rhythm 72/min, PR 160 ms, QRS 90 ms, axis +45°,
    QTc 410 ms, upright T waves), with ``changes`` (``V1__R_mV`` sets ``V1:R_mV``)."""
    values = {
        "measurable": 1.0, "usable_leads": 12.0, "noise_mV": 0.01, "beats": 12.0,
        "heart_rate_bpm": 72.0, "RR_mean_ms": 833.0, "RR_sd_ms": 15.0, "RR_min_ms": 810.0,
        "RR_max_ms": 850.0, "RR_range_ms": 40.0, "RR_irregularity": 0.02, "premature_beats": 0.0,
        "premature_wide_beats": 0.0, "premature_narrow_beats": 0.0, "P_presence": 1.0, "PR_sd_ms": 4.0,
        "atrial_rate_bpm": 72.0, "flutter_rate_bpm": 300.0, "flutter_regularity": 0.1, "pacing_spikes": 0.0,
        "paced_beats": 0.0, "PR_ms": 160.0, "P_duration_ms": 100.0, "QRS_ms": 90.0, "QT_ms": 380.0,
        "QTc_Bazett_ms": 416.0, "QTc_Fridericia_ms": 404.0, "QTc_Framingham_ms": 410.0, "RR_ms": 833.0,
        "P_axis_deg": 50.0, "QRS_axis_deg": 45.0, "T_axis_deg": 40.0, "Sokolow_Lyon_mV": 2.5,
        "Cornell_mV": 1.2, "limb_QRS_max_mV": 1.2, "precordial_QRS_max_mV": 2.0, "R_prime_V1V2": 0.0,
        "S_duration_I_V6_ms": 20.0, "notched_R_lateral": 0.0, "R_peak_time_V1V2_ms": 25.0,
        "R_peak_time_V5V6_ms": 40.0,
    }  # fmt: skip
    for lead in STANDARD_LEADS:
        values |= {
            f"{lead}:P_mV": 0.1, f"{lead}:Q_mV": 0.0, f"{lead}:Q_ms": 0.0, f"{lead}:R_mV": 1.0,
            f"{lead}:R_prime_mV": 0.0, f"{lead}:S_mV": -0.3, f"{lead}:S_ms": 20.0, f"{lead}:QRS_pp_mV": 1.3,
            f"{lead}:QRS_net_mV": 0.7, f"{lead}:R_peak_time_ms": 35.0, f"{lead}:notched_R": 0.0,
            f"{lead}:T_mV": 0.3, f"{lead}:ST_J_mV": 0.0, f"{lead}:ST_J60_mV": 0.05,
        }  # fmt: skip
    values |= {"aVR:R_mV": 0.2, "aVR:S_mV": -1.0, "aVR:QRS_net_mV": -0.8, "aVR:T_mV": -0.3}
    values |= {"V1:R_mV": 0.3, "V1:S_mV": -1.2, "V1:T_mV": -0.1, "V2:R_mV": 0.5, "V3:R_mV": 0.8}
    values |= {"V1:QRS_pp_mV": 1.5, "V2:QRS_pp_mV": 2.0, "V3:QRS_pp_mV": 1.8}
    return values | {key.replace("__", ":"): value for key, value in changes.items()}


def leads(names, **wave) -> dict[str, float]:
    """``{"II__Q_mV": -0.3, ...}``: the same per-lead values in each of ``names``."""
    return {f"{lead}__{key}": value for lead in names for key, value in wave.items()}


CRBBB = {"QRS_ms": 148.0, "R_prime_V1V2": 1.0, "S_duration_I_V6_ms": 60.0}
LBBB = {"QRS_ms": 150.0, "notched_R_lateral": 1.0, "R_peak_time_V5V6_ms": 80.0}
LAFB = {"QRS_axis_deg": -60.0, "aVL__Q_mV": -0.1, "aVL__R_peak_time_ms": 50.0, "QRS_ms": 100.0}
AF = {"RR_irregularity": 0.2, "P_presence": 0.0, "P_axis_deg": math.nan, "PR_ms": math.nan}
# class: (changes that meet it, changes that grade it in between, that grade, changes that leave it NaN)
CASES = {
    "NSR": ({}, {"heart_rate_bpm": 101.5}, 0.25, {"P_axis_deg": math.nan}),
    "SB": ({"heart_rate_bpm": 50.0}, {"heart_rate_bpm": 59.0}, 2 / 3, {"heart_rate_bpm": math.nan}),
    "STach": ({"heart_rate_bpm": 120.0}, {"heart_rate_bpm": 101.0}, 2 / 3, {"heart_rate_bpm": math.nan}),
    "SA": ({"RR_range_ms": 200.0}, {"RR_range_ms": 140.0, "RR_mean_ms": 2000.0}, 0.5,
           {"RR_range_ms": math.nan}),
    "Brady": ({"heart_rate_bpm": 45.0}, {"heart_rate_bpm": 61.0}, 1 / 3, {"heart_rate_bpm": math.nan}),
    "AF": (AF, AF | {"RR_irregularity": 0.11}, 0.75, AF | {"RR_irregularity": math.nan}),
    "AFL": ({"flutter_regularity": 0.9, "P_axis_deg": -80.0}, {"flutter_regularity": 0.45}, 0.75,
            {"flutter_regularity": math.nan}),
    "PR": ({"paced_beats": 1.0, "pacing_spikes": 12.0}, {"paced_beats": 0.6}, 0.75,
           {"paced_beats": math.nan}),
    "PAC": ({"premature_narrow_beats": 2.0, "premature_beats": 2.0}, {"premature_narrow_beats": 0.5}, 0.5,
            {"premature_narrow_beats": math.nan}),
    "PVC": ({"premature_wide_beats": 1.0, "premature_beats": 1.0}, {"premature_wide_beats": 0.25}, 0.25,
            {"premature_wide_beats": math.nan}),
    "IAVB": ({"PR_ms": 236.0}, {"PR_ms": 205.0}, 0.75, {"PR_ms": math.nan}),
    "LPR": ({"PR_ms": 236.0}, {"PR_ms": 195.0}, 0.25, {"PR_ms": math.nan}),
    "CRBBB": (CRBBB, CRBBB | {"QRS_ms": 122.0}, 0.7, CRBBB | {"R_prime_V1V2": math.nan}),
    "IRBBB": (CRBBB | {"QRS_ms": 115.0}, CRBBB | {"QRS_ms": 121.0}, 0.4, CRBBB | {"QRS_ms": math.nan}),
    "CLBBB": (LBBB, LBBB | {"notched_R_lateral": 0.6}, 0.75, LBBB | {"notched_R_lateral": math.nan}),
    "BBB": (LBBB, CRBBB | {"S_duration_I_V6_ms": 42.0}, 0.7, CRBBB | {"S_duration_I_V6_ms": math.nan}),
    "NSIVCB": ({"QRS_ms": 130.0}, {"QRS_ms": 112.0}, 0.7, {"QRS_ms": 130.0, "notched_R_lateral": math.nan}),
    "LAnFB": (LAFB, LAFB | {"aVL__R_peak_time_ms": 46.0}, 0.6, LAFB | {"QRS_axis_deg": math.nan}),
    "LAD": ({"QRS_axis_deg": -48.0}, {"QRS_axis_deg": -31.0}, 0.6, {"QRS_axis_deg": math.nan}),
    "RAD": ({"QRS_axis_deg": 120.0}, {"QRS_axis_deg": 92.0}, 0.7, {"QRS_axis_deg": math.nan}),
    "LQRSV": ({"limb_QRS_max_mV": 0.3}, {"limb_QRS_max_mV": 0.52}, 0.3, {"limb_QRS_max_mV": math.nan}),
    "PRWP": ({"V3__R_mV": 0.1}, {"V3__R_mV": 0.31}, 0.4, {"V3__R_mV": math.nan}),
    "QAb": (leads(("II", "III", "aVF"), Q_mV=-0.3, Q_ms=50.0, R_mV=0.5),
            leads(("II", "aVF"), Q_mV=-0.3, Q_ms=42.0, R_mV=2.0), 0.7, leads(("V1", "V2"), Q_mV=math.nan)),
    "LQT": ({"QTc_Framingham_ms": 480.0}, {"QTc_Framingham_ms": 455.0}, 0.5,
            {"QTc_Framingham_ms": math.nan}),
    "TInv": (leads(("V4", "V5"), T_mV=-0.3), leads(("V5", "V6"), T_mV=-0.09), 0.4,
             leads(("V3", "V4"), T_mV=math.nan)),
    "TAb": (leads(("V5", "V6"), T_mV=0.02, R_mV=1.5), leads(("V5", "V6"), T_mV=0.12, R_mV=1.0), 0.3,
            leads(("V5", "V6"), T_mV=math.nan)),
}  # fmt: skip


def grade(abbreviation: str, measurements, age=None, sex=None) -> float:
    return criteria_scores(measurements, age, sex)[NAME[abbreviation]]


def test_every_scored_class_has_one_criterion_named_as_in_the_weights_file():
    names = [criterion.name for criterion in CRITERIA]
    assert sorted(names) == sorted(default_class_table().names)
    assert set(CASES) == set(NAME)


def test_every_criterion_cites_its_source_and_comes_in_report_order():
    assert all("et al." in c.source or "definition" in c.source for c in CRITERIA)
    order = [SECTIONS.index(criterion.section) for criterion in CRITERIA]
    assert order == sorted(order)


def test_a_normal_ecg_meets_sinus_rhythm_only_and_every_other_criterion_grades_zero():
    scores = criteria_scores(normal(), age=50, sex="Male")
    assert scores.pop(NAME["NSR"]) == 1.0
    assert scores == dict.fromkeys(scores, 0.0)
    assert criteria_statements(normal()) == ["sinus rhythm 72/min"]


@pytest.mark.parametrize("abbreviation", list(CASES))
def test_criterion_is_met(abbreviation):
    assert grade(abbreviation, normal(**CASES[abbreviation][0])) == 1.0


@pytest.mark.parametrize("abbreviation", [a for a in CASES if a != "NSR"])
def test_criterion_is_not_met_on_a_normal_ecg(abbreviation):
    assert grade(abbreviation, normal()) == 0.0


def test_sinus_rhythm_is_not_met_in_atrial_fibrillation():
    assert grade("NSR", normal(**AF)) == 0.0


@pytest.mark.parametrize("abbreviation", list(CASES))
def test_criterion_grades_in_between_near_its_threshold(abbreviation):
    _, changes, expected, _ = CASES[abbreviation]
    assert grade(abbreviation, normal(**changes)) == pytest.approx(expected)


@pytest.mark.parametrize("abbreviation", list(CASES))
def test_criterion_is_nan_where_a_measurement_it_needs_is_nan(abbreviation):
    assert math.isnan(grade(abbreviation, normal(**CASES[abbreviation][3])))


def test_a_criterion_that_fails_on_what_is_measured_is_zero_even_where_the_rest_is_nan():
    narrow_without_v1 = normal(**CRBBB | {"R_prime_V1V2": math.nan, "QRS_ms": 90.0})
    assert grade("CRBBB", narrow_without_v1) == 0.0
    assert math.isnan(grade("CRBBB", normal(**CRBBB | {"R_prime_V1V2": math.nan})))
    assert grade("CRBBB", normal(**CRBBB | {"R_prime_V1V2": math.nan, "S_duration_I_V6_ms": 20.0})) == 0.0


def test_children_have_lower_qrs_limits_for_bundle_branch_blocks():
    child_rbbb = normal(**CRBBB | {"QRS_ms": 110.0})
    assert grade("CRBBB", child_rbbb, age=10) == 1.0
    assert grade("CRBBB", child_rbbb, age=40) == 0.0
    assert grade("CRBBB", child_rbbb, age=None) == 0.0
    assert grade("CRBBB", child_rbbb, age=math.nan) == 0.0
    assert grade("IRBBB", normal(**CRBBB | {"QRS_ms": 95.0}), age=10) == 1.0
    assert grade("IRBBB", normal(**CRBBB | {"QRS_ms": 88.0}), age=2) == 1.0
    assert grade("CLBBB", normal(**LBBB | {"QRS_ms": 96.0}), age=3) == 1.0


def test_children_have_lower_qrs_limits_for_nonspecific_conduction_delay():
    assert grade("NSIVCB", normal(QRS_ms=95.0), age=12) == 1.0
    assert grade("NSIVCB", normal(QRS_ms=86.0), age=6) == 1.0
    assert grade("NSIVCB", normal(QRS_ms=84.0), age=12) == 0.0
    assert grade("NSIVCB", normal(QRS_ms=95.0), age=30) == 0.0


def test_prolonged_qtc_limit_is_450_ms_in_men_and_460_ms_in_women():
    borderline = normal(QTc_Framingham_ms=455.0)
    assert grade("LQT", borderline, sex="Male") == pytest.approx(0.75)
    assert grade("LQT", borderline, sex="F") == pytest.approx(0.25)
    assert grade("LQT", borderline, sex="Unknown") == pytest.approx(0.5)
    assert grade("LQT", normal(QTc_Framingham_ms=450.0), sex="male") == pytest.approx(0.5)
    assert grade("LQT", normal(QTc_Framingham_ms=460.0), sex="female") == pytest.approx(0.5)


def test_right_axis_deviation_is_continuous_across_180_degrees():
    assert grade("RAD", normal(QRS_axis_deg=179.0)) == pytest.approx(0.6)
    assert grade("RAD", normal(QRS_axis_deg=-179.0)) == pytest.approx(0.4)
    assert grade("LAD", normal(QRS_axis_deg=-179.0)) == 0.0


def test_low_voltage_is_met_by_the_precordial_leads_alone():
    low_precordial = normal(**leads(("V1", "V2", "V3", "V4", "V5", "V6"), QRS_pp_mV=0.8))
    assert grade("LQRSV", low_precordial) == 1.0
    one_lead_missing = low_precordial | {"V6:QRS_pp_mV": math.nan}
    assert math.isnan(grade("LQRSV", one_lead_missing))


def test_q_waves_or_t_inversion_in_one_lead_or_only_where_normal_are_no_finding():
    assert grade("QAb", normal(**leads(("aVF",), Q_mV=-0.3, Q_ms=50.0))) == 0.0
    assert grade("QAb", normal(**leads(("aVR", "I"), Q_mV=-0.3, Q_ms=50.0))) == 0.0
    assert grade("TInv", normal(**leads(("V1", "V2"), T_mV=-0.3))) == 0.0
    assert grade("TInv", normal(**leads(("III", "aVF"), T_mV=-0.3))) == 0.0
    assert grade("TInv", normal(**leads(("II", "III"), T_mV=-0.3))) == 1.0


def test_left_bundle_branch_block_leaves_out_supportive_leads_the_lead_set_lacks():
    limb_only = normal(**LBBB) | {f"{v}:{k}": math.nan for v in ("V5", "V6") for k in ("Q_mV", "R_mV")}
    assert grade("CLBBB", limb_only | {"R_peak_time_V5V6_ms": math.nan}) == 1.0
    assert grade("CLBBB", normal(**LBBB | {"I__Q_mV": -0.2})) == 0.0


def test_an_unmeasurable_record_has_every_score_nan_and_one_statement():
    noisy = normal(measurable=0.0)
    assert all(math.isnan(score) for score in criteria_scores(noisy).values())
    assert criteria_statements(noisy) == [NOT_MEASURABLE]


def test_statements_come_rhythm_first_with_their_evidence():
    record = normal(
        PR_ms=236.0, QRS_axis_deg=-48.0, QTc_Framingham_ms=480.0, **leads(("V4", "V5"), T_mV=-0.3)
    )
    assert criteria_statements(record, age=60, sex="Male") == [
        "sinus rhythm 72/min",
        "first-degree AV block, PR 236 ms",
        "left axis deviation, QRS axis -48°",
        "prolonged QT, QTc 480 ms (Framingham)",
        "T-wave inversion, in V4, V5",
    ]


def test_statements_leave_out_what_a_more_specific_statement_implies():
    statements = criteria_statements(normal(heart_rate_bpm=50.0, PR_ms=236.0, **CRBBB))
    assert statements == [
        "sinus bradycardia 50/min",
        "first-degree AV block, PR 236 ms",
        "complete right bundle branch block, QRS 148 ms, rsR' in V1/V2, S 60 ms in I/V6",
    ]


def test_statements_threshold_is_the_grade_a_criterion_needs():
    borderline = normal(PR_ms=205.0)
    assert "first-degree AV block, PR 205 ms" in criteria_statements(borderline, threshold=0.5)
    assert "first-degree AV block, PR 205 ms" not in criteria_statements(borderline, threshold=0.9)


def _grades(**grades) -> dict[str, float]:
    """Every criterion graded 0.2, but those given by abbreviation (``SB=0.8``)."""
    return {criterion.name: 0.2 for criterion in CRITERIA} | {NAME[k]: v for k, v in grades.items()}


def test_stated_grades_cap_a_class_another_stated_class_implies_at_one_minus_its_grade():
    graded = stated_grades(_grades(SB=0.8, Brady=0.9))

    assert graded[NAME["Brady"]] == pytest.approx(0.2)
    assert graded[NAME["SB"]] == 0.8


def test_stated_grades_cap_an_implied_class_just_below_one_half_when_the_implying_grade_is_one_half():
    graded = stated_grades(_grades(IAVB=0.5, LPR=1.0))

    assert 0.5 - 1e-12 < graded[NAME["LPR"]] < 0.5
    assert graded[NAME["IAVB"]] == 0.5


def test_stated_grades_cap_by_the_strongest_of_the_stated_classes_that_imply_it():
    graded = stated_grades(_grades(CRBBB=0.6, CLBBB=0.9, BBB=1.0))

    assert graded[NAME["BBB"]] == pytest.approx(0.1)


def test_stated_grades_leave_an_implied_class_below_the_cap_as_it_is():
    assert stated_grades(_grades(SB=0.8, Brady=0.1))[NAME["Brady"]] == 0.1


def test_stated_grades_leave_an_implied_class_whose_implying_class_is_not_stated_as_it_is():
    graded = stated_grades(_grades(SB=0.3, Brady=0.9, TInv=math.nan, TAb=0.7))

    assert graded[NAME["Brady"]] == 0.9 and graded[NAME["TAb"]] == 0.7


def test_stated_grades_keep_nan():
    graded = stated_grades(_grades(SB=0.9, Brady=math.nan))

    assert math.isnan(graded[NAME["Brady"]])


def test_stated_grades_leave_every_class_nothing_implies_unchanged():
    scores = _grades(SB=0.9, Brady=0.8, IAVB=0.7, LPR=0.6, CRBBB=1.0, BBB=0.95, TInv=0.55, TAb=0.75, AF=0.6)
    implied = {NAME[k] for k in ("Brady", "LPR", "BBB", "TAb")}

    graded = stated_grades(scores)

    assert graded.keys() == scores.keys()
    assert {k: v for k, v in graded.items() if k not in implied} == {
        k: v for k, v in scores.items() if k not in implied
    }
    assert all(graded[k] < 0.5 for k in implied)


@pytest.mark.parametrize("threshold", [0.5, 0.3, 0.8])
def test_stated_grades_at_or_above_the_threshold_are_exactly_the_criteria_decisions(threshold):
    rng = np.random.default_rng(int(threshold * 10))
    for _ in range(200):
        values = rng.choice([0.0, 0.3, 0.5, 0.8, 1.0, math.nan], len(CRITERIA))
        scores = dict(zip((criterion.name for criterion in CRITERIA), values, strict=True))

        graded = stated_grades(scores, threshold)

        assert {k for k, v in graded.items() if v >= threshold} == criteria_decisions(scores, threshold)
        assert all(math.isnan(graded[k]) == math.isnan(v) for k, v in scores.items())


def test_absent_measurements_read_as_nan_and_missing_evidence_as_a_question_mark():
    assert math.isnan(grade("IAVB", {"measurable": 1.0, "P_presence": 1.0}))
    assert criteria_statements({"heart_rate_bpm": 40.0}) == ["bradycardia 40/min"]
    lad = [c for c in CRITERIA if c.name == NAME["LAD"]][0]
    assert lad.report({}) == "left axis deviation, QRS axis ?°"


def test_kleene_logic_decides_with_unknowns_only_where_the_known_grades_do():
    nan = math.nan
    assert grading.all_of(0.0, nan) == 0.0 and math.isnan(grading.all_of(1.0, nan))
    assert grading.any_of(1.0, nan) == 1.0 and math.isnan(grading.any_of(0.0, nan))
    assert grading.all_of(0.3, 0.8) == 0.3 and grading.any_of(0.3, 0.8) == 0.8
    assert grading.all_measured(nan, 0.4) == 0.4 and grading.all_measured(nan) == 1.0


def test_ramps_are_half_at_the_threshold_and_linear_across_the_band():
    assert grading.exceeds(200.0, 200.0, 10.0) == 0.5
    assert grading.exceeds(190.0, 200.0, 10.0) == 0.0 and grading.exceeds(210.0, 200.0, 10.0) == 1.0
    assert grading.exceeds(205.0, 200.0, 10.0) == 0.75
    assert grading.under(205.0, 200.0, 10.0) == 0.25
    assert grading.between(88.0, 86.0, 90.0, 5.0) == 1.0  # the band narrowed to half the range
    assert math.isnan(grading.exceeds(math.nan, 200.0, 10.0))


# On synthetic records through the pipeline ---------------------------------------------------------------

GENERATED = {
    "NSR": ("NSR",), "SB": ("SB",), "STach": ("STach",), "SA": ("SA",), "AF": ("AF",), "AFL": ("AFL",),
    "IAVB": ("NSR", "IAVB"), "CRBBB": ("NSR", "RBBB"), "CLBBB": ("NSR", "LBBB"), "LAD": ("NSR", "LAD"),
    "RAD": ("NSR", "RAD"), "PAC": ("NSR", "PAC"), "PVC": ("NSR", "PVC"), "LQT": ("NSR", "LQT"),
    "TInv": ("NSR", "TInv"), "LQRSV": ("NSR", "LQRSV"),
}  # fmt: skip
"""The criterion of each class the generator draws, and the labels of a synthetic record with it."""
WITHOUT = {"NSR": ("AF",), "SB": ("NSR",), "STach": ("NSR",), "SA": ("NSR",), "AF": ("NSR",), "AFL": ("NSR",)}
"""A record without the class: sinus rhythm for all but the rhythms, which get another rhythm."""
_SEED = 2021


def synthetic_scores(folder, labels, index: int, lead_set: str = "twelve") -> dict[str, float]:
    """The criteria scores of a synthetic 10 s record with ``labels``, written to ``folder`` and read back
    through the pipeline as any record is."""
    from ecgcrnn.io.records import get_age, get_sex, load_header, load_recording
    from ecgcrnn.pipeline import prepare_record
    from ecgcrnn.synthetic.generator import generate_record, write_record_files

    record = generate_record(_SEED, index, labels=list(labels), clean=False)
    header_file = write_record_files(folder, f"S{index:05d}", record)
    header = load_header(header_file)
    recording = load_recording(header_file.with_suffix(".mat"))
    prepared = prepare_record(header, recording, LEAD_SETS[lead_set])
    return criteria_scores(prepared.record_measurements(), get_age(header), get_sex(header))


_SAMPLES = 3


@pytest.mark.parametrize("abbreviation", list(GENERATED))
def test_criterion_is_met_on_most_synthetic_records_of_its_class(abbreviation, tmp_path):
    index = 100 + 10 * list(GENERATED).index(abbreviation)
    scores = [synthetic_scores(tmp_path, GENERATED[abbreviation], index + k) for k in range(_SAMPLES)]
    grades = [s[NAME[abbreviation]] for s in scores]
    assert sum(g >= 0.5 for g in grades) > _SAMPLES / 2, grades


@pytest.mark.parametrize("abbreviation", list(GENERATED))
def test_criterion_is_not_met_on_most_synthetic_records_without_its_class(abbreviation, tmp_path):
    index = 300 + 10 * list(GENERATED).index(abbreviation)
    labels = WITHOUT.get(abbreviation, ("NSR",))
    grades = [synthetic_scores(tmp_path, labels, index + k)[NAME[abbreviation]] for k in range(_SAMPLES)]
    assert sum(g >= 0.5 for g in grades) < _SAMPLES / 2, grades


def test_two_leads_leave_precordial_criteria_unknown_and_grade_the_frontal_ones(tmp_path):
    scores = synthetic_scores(tmp_path, ("NSR", "LAD"), 500, "two")
    assert math.isnan(scores[NAME["PRWP"]])
    assert scores[NAME["LAD"]] == 1.0
    assert scores[NAME["AF"]] == 0.0
