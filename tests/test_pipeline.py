"""The one path from a recording to the network's inputs, and the settings that travel with a model and key
the cache (synthetic records: no ../shared data needed)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from helpers import save_untrained_model

from ecgcrnn import pipeline
from ecgcrnn.data import cache as cache_module
from ecgcrnn.data.cache import build_cache
from ecgcrnn.delineation.delineate import delineate_leads
from ecgcrnn.delineation.settings import DelineationConfig
from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.features.beats import features_from_delineation
from ecgcrnn.features.criteria import criteria_scores, stated_grades
from ecgcrnn.features.measurements import Measurements, amplitude_names, measure, measurement_names
from ecgcrnn.features.settings import FeatureConfig
from ecgcrnn.io.records import get_age, get_sex, load_header, load_recording, parse_header
from ecgcrnn.model.folder import FORMAT_VERSION, META_FILE, ModelError
from ecgcrnn.model.lead_set import LeadSetModel
from ecgcrnn.model.settings import NetworkConfig
from ecgcrnn.pipeline import PipelineSettings, assemble_inputs, criteria_inputs, demographics, prepare_record
from ecgcrnn.signal.preprocessing import PreprocessConfig, preprocess, windows
from ecgcrnn.synthetic.generator import write_dataset

STANDARD_12 = LEAD_SETS["twelve"]
TINY = NetworkConfig(conv_filters=(4,) * 8, signal_rnn_units=4, feature_rnn_units=4, dense_units=(8, 8, 8))
OTHER = PipelineSettings(
    delineation=DelineationConfig(p_eps_rms=0.5), features=FeatureConfig(j_offset_s=0.08)
)


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """Four synthetic 12-lead records."""
    folder = tmp_path_factory.mktemp("records")
    write_dataset(folder, 4, seed=7)
    return folder


def _read(folder, name="S00001"):
    header = load_header(folder / f"{name}.hea")
    return header, load_recording(folder / f"{name}.mat", header)


def test_settings_survive_a_round_trip_through_json():
    restored = PipelineSettings.from_dict(json.loads(json.dumps(OTHER.to_dict())))

    assert restored == OTHER
    assert restored.features.plausible_s == FeatureConfig().plausible_s  # tuples again, not lists


def test_settings_missing_from_a_dict_take_their_defaults_and_unknown_ones_are_refused():
    assert PipelineSettings.from_dict({"features": {"max_beats": 40}}).features.max_beats == 40
    with pytest.raises(ValueError, match="unknown features settings.*'beats'"):
        PipelineSettings.from_dict({"features": {"beats": 40}})
    with pytest.raises(ValueError, match="unknown pipeline stages"):
        PipelineSettings.from_dict({"filters": {}})


def test_digest_changes_with_any_setting_and_with_the_stages_code(monkeypatch):
    default = PipelineSettings().digest()
    changed = [
        PipelineSettings(preprocess=PreprocessConfig(notch_quality=20.0)),
        PipelineSettings(delineation=DelineationConfig(t_eps_rms=0.3)),
        PipelineSettings(features=FeatureConfig(max_beats=40)),
    ]
    assert len({default, *(settings.digest() for settings in changed)}) == 4
    assert PipelineSettings().digest() == default

    monkeypatch.setattr(pipeline, "code_digest", lambda: "another version")
    assert PipelineSettings().digest() != default


@pytest.mark.parametrize("lead_set", list(LEAD_SETS))
def test_input_shapes_state_every_input_in_order_with_its_shape_for_one_window_and_dtype(lead_set):
    n, classes = len(LEAD_SETS[lead_set]), default_class_table().names

    shapes = pipeline.input_shapes(LEAD_SETS[lead_set], PipelineSettings(), classes)

    assert [(name, spec.shape) for name, spec in shapes.items()] == [
        ("signal", (5000, n)),
        ("beat_values", (48, 2 + 11 * n)),
        ("beat_mask", (48, 2 + 11 * n)),
        ("record_values", (9 + 11 * n,)),
        ("record_mask", (9 + 11 * n,)),
        ("demographics", (4,)),
        ("measurements", (209,)),
        ("measurement_mask", (209,)),
        ("criteria", (26,)),
        ("criteria_mask", (26,)),
    ]
    assert all(spec.dtype == np.float32 for spec in shapes.values())
    assert tuple(shapes) == pipeline.INPUT_NAMES


def test_input_shapes_follow_the_window_the_beats_and_the_classes():
    settings = PipelineSettings(
        PreprocessConfig(fs_hz=250.0, window_s=8.0), features=FeatureConfig(max_beats=5)
    )

    shapes = pipeline.input_shapes(("I", "V2"), settings, ("a", "b", "c"))

    assert shapes["signal"].shape == (2000, 2) and shapes["beat_mask"].shape == (5, 24)
    assert shapes["criteria"].shape == shapes["criteria_mask"].shape == (3,)


@pytest.mark.parametrize("lead_set", list(LEAD_SETS))
def test_prepare_record_gives_the_inputs_input_shapes_states(records, lead_set):
    header, recording = _read(records, "S00003")
    settings = PipelineSettings(features=FeatureConfig(max_beats=5))

    inputs = prepare_record(header, recording, LEAD_SETS[lead_set], settings).inputs

    shapes = pipeline.input_shapes(LEAD_SETS[lead_set], settings, default_class_table().names)
    assert list(inputs) == list(shapes)
    for name, (shape, dtype) in shapes.items():
        assert inputs[name].shape[1:] == shape and inputs[name].dtype == dtype, name


def test_prepare_record_keeps_the_recording_it_preprocessed(records):
    header, recording = _read(records)

    prepared = prepare_record(header, recording, LEAD_SETS["three"], OTHER)

    expected = preprocess(header, recording, LEAD_SETS["three"], OTHER.preprocess)
    np.testing.assert_array_equal(prepared.preprocessed.signal, expected.signal)
    np.testing.assert_array_equal(prepared.preprocessed.repaired, expected.repaired)
    np.testing.assert_array_equal(prepared.windows, windows(expected.signal, OTHER.preprocess))
    assert not prepared.preprocessed.rescaled and prepared.amplitudes_recorded


def test_prepare_record_is_preprocess_windows_delineate_features_stage_by_stage(records):
    header, recording = _read(records)
    leads = LEAD_SETS["three"]

    prepared = prepare_record(header, recording, leads, OTHER)

    cut = windows(preprocess(header, recording, leads, OTHER.preprocess).signal, OTHER.preprocess)
    np.testing.assert_array_equal(prepared.windows, cut)
    fiducials = delineate_leads(cut[0], 500.0, OTHER.delineation)
    for key, value in fiducials.items():
        np.testing.assert_array_equal(prepared.delineations[0].per_lead[key], value)
    features = features_from_delineation(cut[0], 500.0, leads, fiducials, OTHER.features)
    np.testing.assert_array_equal(prepared.inputs["record_values"][0], features.record)
    np.testing.assert_array_equal(prepared.inputs["beat_values"][0], features.beats)
    assert prepared.inputs["signal"].shape == (1, 5000, len(leads))
    measured = measure(cut[0], 500.0, leads, prepared.delineations[0], OTHER.measurements)
    values, mask = measured.vector()
    np.testing.assert_array_equal(prepared.inputs["measurements"][0], values)
    np.testing.assert_array_equal(prepared.inputs["measurement_mask"][0], mask)
    grades, known = criteria_inputs(measured, get_age(header), get_sex(header))
    np.testing.assert_array_equal(prepared.inputs["criteria"][0], grades)
    np.testing.assert_array_equal(prepared.inputs["criteria_mask"][0], known)


def test_a_recording_with_every_lead_rescaled_to_one_range_is_measured_without_amplitudes(records):
    header, recording = _read(records)
    span = np.ptp(recording, axis=1, keepdims=True).astype(np.float64)
    rescaled = np.round((recording - recording.min(axis=1, keepdims=True)) / span * 1000).astype(np.int16)
    gains = [float(signal.gain) for signal in parse_header(header).signals]
    assert len(set(gains)) == 1  # so that equal ADC spans are equal spans in millivolts

    as_recorded = prepare_record(header, recording, STANDARD_12)
    prepared = prepare_record(header, rescaled, STANDARD_12)

    assert as_recorded.amplitudes_recorded and not prepared.amplitudes_recorded
    names = measurement_names()
    hidden = np.array([name in amplitude_names() for name in names])
    assert (as_recorded.inputs["measurement_mask"][:, hidden] == 1).any()
    np.testing.assert_array_equal(prepared.inputs["measurement_mask"][:, hidden], 0)
    kept = names.index("QRS_ms")
    assert prepared.inputs["measurement_mask"][0, kept] == 1
    low_voltage = default_class_table().names.index("251146004")
    np.testing.assert_array_equal(prepared.inputs["criteria_mask"][:, low_voltage], 0)


def test_criteria_inputs_of_a_record_are_its_stated_grades_less_one_half_and_zero_where_nan(records):
    header, recording = _read(records, "S00002")
    measured = prepare_record(header, recording, LEAD_SETS["twelve"]).measurements[0]
    age, sex = get_age(header), get_sex(header)

    grades, known = criteria_inputs(measured, age, sex)

    assert grades.shape == known.shape == (26,) and grades.dtype == known.dtype == np.float32
    stated = stated_grades(criteria_scores(measured, age, sex))
    expected = np.array([stated[name] for name in default_class_table().names])
    np.testing.assert_array_equal(known, np.isfinite(expected))
    np.testing.assert_allclose(grades, np.where(np.isfinite(expected), expected - 0.5, 0.0), rtol=1e-6)
    assert known.any() and np.all(np.abs(grades) <= 0.5)


def test_criteria_inputs_of_an_unmeasurable_window_decide_nothing():
    grades, known = criteria_inputs(Measurements({"measurable": 0.0}), 50.0, "Male")

    np.testing.assert_array_equal(grades, np.zeros(26))
    np.testing.assert_array_equal(known, np.zeros(26))


def test_criteria_inputs_grade_with_the_records_age_and_sex_and_cap_what_a_stated_class_implies(monkeypatch):
    names = default_class_table().names
    sb, brady, af, afl = "426177001", "426627000", "164889003", "164890007"
    seen = []

    def scores(measurements, age, sex):
        seen.append((age, sex))
        return {name: 0.25 for name in names} | {sb: 0.9, brady: 0.8, af: float("nan")}

    monkeypatch.setattr(pipeline, "criteria_scores", scores)
    grades, known = criteria_inputs(Measurements({"measurable": 1.0}), 7.0, "Female")

    assert seen == [(7.0, "Female")]
    graded = dict(zip(names, grades.tolist(), strict=True))
    assert graded[sb] == pytest.approx(0.4)
    assert graded[brady] == pytest.approx(0.1 - 0.5)  # sinus bradycardia stated: capped at 1 - 0.9
    assert graded[af] == 0.0 and known[names.index(af)] == 0.0
    assert graded[afl] == pytest.approx(-0.25) and known.sum() == 25


def test_assemble_inputs_stack_each_windows_measurements_and_criteria(records):
    header, recording = _read(records)
    prepared = prepare_record(header, recording, LEAD_SETS["two"])
    age, sex = get_age(header), get_sex(header)
    twice = [prepared.measurements[0], Measurements({"measurable": 0.0})]
    features = [prepared.features[0]] * 2

    inputs = assemble_inputs(
        np.repeat(prepared.windows[:1], 2, axis=0), features, demographics(age, sex), twice, age, sex
    )

    n = len(measurement_names())
    assert inputs["measurements"].shape == inputs["measurement_mask"].shape == (2, n)
    assert inputs["criteria"].shape == inputs["criteria_mask"].shape == (2, 26)
    assert all(inputs[name].dtype == np.float32 for name in pipeline.INPUT_NAMES)
    for row, measured in enumerate(twice):
        values, mask = measured.vector()
        np.testing.assert_array_equal(inputs["measurements"][row], values)
        np.testing.assert_array_equal(inputs["measurement_mask"][row], mask)
        grades, known = criteria_inputs(measured, age, sex)
        np.testing.assert_array_equal(inputs["criteria"][row], grades)
        np.testing.assert_array_equal(inputs["criteria_mask"][row], known)
    assert inputs["measurement_mask"][1].sum() == 1 and not inputs["criteria_mask"][1].any()


def test_every_window_of_a_noise_recording_is_marked_as_holding_no_ecg(records):
    header, _ = _read(records)
    noise = np.random.default_rng(3).normal(0.0, 300.0, (12, 7500)).round()  # 15 s of 0.3 mV: two windows

    prepared = prepare_record(header, noise, STANDARD_12)

    assert len(prepared.windows) == 2 and pipeline.judged_noise_only(prepared.inputs)
    assert all(m.noise_only and not m.measurable for m in prepared.measurements)
    combined = prepared.record_measurements()
    assert combined["usable_leads"] == combined["beats"] == 0
    assert 0.15 < combined["noise_mV"] < 0.2  # the RMS of what the 0.5-100 Hz band-pass keeps: 0.3 √(2/5) mV
    assert not prepared.inputs["criteria_mask"].any()


def test_neither_an_ecg_nor_a_flat_recording_is_marked_as_holding_no_ecg(records):
    header, recording = _read(records)

    assert not pipeline.judged_noise_only(prepare_record(header, recording, LEAD_SETS["two"]).inputs)
    flat = prepare_record(header, np.zeros_like(recording), LEAD_SETS["two"])
    assert not pipeline.judged_noise_only(flat.inputs) and not flat.measurements[0].measurable


def test_feature_settings_change_the_features(records):
    header, recording = _read(records)

    default = prepare_record(header, recording, LEAD_SETS["two"]).inputs
    five_beats = PipelineSettings(features=FeatureConfig(max_beats=5))
    shorter = prepare_record(header, recording, LEAD_SETS["two"], five_beats).inputs

    assert default["beat_values"].shape[1] == 48 and shorter["beat_values"].shape[1] == 5
    np.testing.assert_array_equal(shorter["beat_values"][0], default["beat_values"][0, :5])


def _count_allocations(monkeypatch):
    calls, allocate = [], cache_module._allocate
    monkeypatch.setattr(cache_module, "_allocate", lambda *args: calls.append(1) or allocate(*args))
    return calls


def test_cache_is_reused_under_the_same_settings_and_rebuilt_under_others(records, tmp_path, monkeypatch):
    calls = _count_allocations(monkeypatch)
    first = build_cache(records, tmp_path / "cache", lead_sets=("two",), n_jobs=1)
    again = build_cache(records, tmp_path / "cache", lead_sets=("two",), n_jobs=1)
    assert len(calls) == 1

    rebuilt = build_cache(records, tmp_path / "cache", OTHER, lead_sets=("two",), n_jobs=1)

    assert len(calls) == 2
    meta = json.loads((tmp_path / "cache" / "meta.json").read_text())
    assert PipelineSettings.from_dict(meta["settings"]) == OTHER
    header, recording = _read(records)
    expected = prepare_record(header, recording, LEAD_SETS["two"], OTHER).inputs["record_values"][0]
    np.testing.assert_allclose(rebuilt.features("two")["record_values"][0], expected)
    np.testing.assert_array_equal(
        again.features("two")["record_values"], first.features("two")["record_values"]
    )


def test_cache_built_by_another_version_of_the_feature_code_is_rebuilt(records, tmp_path, monkeypatch):
    calls = _count_allocations(monkeypatch)
    build_cache(records, tmp_path / "cache", lead_sets=("two",), n_jobs=1)

    monkeypatch.setattr(pipeline, "code_digest", lambda: "another version")
    build_cache(records, tmp_path / "cache", lead_sets=("two",), n_jobs=1)

    assert len(calls) == 2


def _save(root, settings):
    return save_untrained_model(root, "two", settings=settings)


def test_a_model_keeps_its_settings_and_runs_with_them(records, tmp_path):
    _save(tmp_path, OTHER)
    meta = json.loads((tmp_path / "two" / META_FILE).read_text())
    assert PipelineSettings.from_dict(meta["settings"]) == OTHER
    assert meta["pipeline_code"] == pipeline.code_digest()

    model = LeadSetModel.load(tmp_path, ("I", "II"))
    header, recording = _read(records)

    assert model.settings == OTHER
    inputs = model.prepare(header, recording)
    expected = prepare_record(header, recording, LEAD_SETS["two"], OTHER).inputs
    default = prepare_record(header, recording, LEAD_SETS["two"]).inputs
    np.testing.assert_array_equal(inputs["record_values"], expected["record_values"])
    assert not np.array_equal(inputs["record_values"], default["record_values"])


def test_a_model_of_the_old_format_without_its_settings_is_refused(tmp_path):
    _save(tmp_path, PipelineSettings())
    meta_file = tmp_path / "two" / META_FILE
    meta = json.loads(meta_file.read_text())
    meta["format"] = 1
    meta["preprocess"] = dataclasses.asdict(PreprocessConfig())
    del meta["settings"]
    meta_file.write_text(json.dumps(meta))

    with pytest.raises(
        ModelError, match=f"format 1, this version reads {FORMAT_VERSION}: train this lead set again"
    ):
        LeadSetModel.load(tmp_path, ("I", "II"))


def test_a_model_trained_with_other_feature_code_loads_with_a_warning(tmp_path, monkeypatch, caplog):
    _save(tmp_path, PipelineSettings())
    monkeypatch.setattr(pipeline, "code_digest", lambda: "another version")
    monkeypatch.setattr("ecgcrnn.model.lead_set.code_digest", lambda: "another version")

    with caplog.at_level("WARNING"):
        LeadSetModel.load(tmp_path, ("I", "II"))

    assert "trained with another version of the preprocessing, delineation or feature code" in caplog.text
