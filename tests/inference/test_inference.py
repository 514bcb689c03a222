"""Model folders and run_model: atomic, checksummed saving, loading by leads, and scoring recordings of every
kind (synthetic: 10 to 115 s, 500 and 1000 Hz)."""

import json
import logging
import os
import zipfile

import numpy as np
import pytest
from helpers import (
    UNTRAINED_PREVALENCE,
    UNTRAINED_THRESHOLDS,
    copy_records,
    save_untrained_model,
    tiny_config,
)

from ecgcrnn.delineation.delineate import delineate_record
from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.features.beats import features_from_delineation
from ecgcrnn.features.measurements import measure, measurement_names
from ecgcrnn.inference.predict import record_name, run_model
from ecgcrnn.io.extract import extract_leads
from ecgcrnn.io.records import get_age, get_sex, load_header, load_recording, parse_header
from ecgcrnn.model.folder import META_FILE, MODEL_FILE, ModelError
from ecgcrnn.model.lead_set import LeadSetModel
from ecgcrnn.model.network import build_model, criteria_probabilities
from ecgcrnn.pipeline import PipelineSettings, assemble_inputs, demographics
from ecgcrnn.signal.preprocessing import preprocess, windows

CLASSES = default_class_table().names
THRESHOLDS = np.array(UNTRAINED_THRESHOLDS)
MEASURABLE = measurement_names().index("measurable")
UNMEASURABLE = "nothing in the recording could be measured (flat, noise or no beats): no diagnosis"


def _save(root, lead_set, network=None):
    return save_untrained_model(root, lead_set, THRESHOLDS, network=network, extra={"note": "test"})


@pytest.fixture(scope="module")
def twelve_lead_model(untrained_models):
    return LeadSetModel.load(untrained_models, LEAD_SETS["twelve"])


def _run(model, folder, name):
    header = load_header(folder / f"{name}.hea")
    return run_model(model, header, load_recording(folder / f"{name}.mat", header))


def _window_probabilities(model, folder, name):
    header = load_header(folder / f"{name}.hea")
    prepared = preprocess(header, load_recording(folder / f"{name}.mat", header), model.leads)
    batch = windows(prepared.signal)
    delineations = [delineate_record(window, 500.0) for window in batch]
    features, measured = [], []
    for window, delineation in zip(batch, delineations, strict=True):
        features.append(features_from_delineation(window, 500.0, model.leads, delineation.per_lead))
        measured.append(measure(window, 500.0, model.leads, delineation))
    age, sex = get_age(header), get_sex(header)
    inputs = assemble_inputs(batch, features, demographics(age, sex), measured, age, sex)
    return np.asarray(model.network(inputs, training=False))


def test_saved_folder_holds_the_model_and_its_description(untrained_models):
    meta = json.loads((untrained_models / "two" / META_FILE).read_text())

    assert sorted(path.name for path in (untrained_models / "two").iterdir()) == [META_FILE, MODEL_FILE]
    assert meta["leads"] == ["I", "II"] and meta["classes"] == list(CLASSES)
    np.testing.assert_allclose(meta["thresholds"], THRESHOLDS)
    assert meta["decided_by"] == ["network"] * 26
    np.testing.assert_allclose(meta["prevalence"], UNTRAINED_PREVALENCE)
    assert meta["note"] == "test"


def test_load_model_round_trip_gives_identical_predictions(tmp_path):
    network = build_model(LEAD_SETS["three"], CLASSES, tiny_config().network)
    _save(tmp_path, "three", network)
    inputs = {
        tensor.name: np.random.default_rng(1).standard_normal((2, *tensor.shape[1:])).astype(np.float32)
        for tensor in network.inputs
    }

    model = LeadSetModel.load(tmp_path, LEAD_SETS["three"])

    np.testing.assert_array_equal(
        np.asarray(model.window_function(inputs)), np.asarray(network(inputs, training=False))
    )
    np.testing.assert_array_equal(model.thresholds, THRESHOLDS.astype(np.float32))
    assert model.classes == tuple(CLASSES) and model.leads == LEAD_SETS["three"]


@pytest.mark.parametrize("leads", [("II", "I"), ("i", "ii"), ("v2", "II", "i")])
def test_load_model_finds_the_lead_set_in_any_order_or_case(untrained_models, leads):
    model = LeadSetModel.load(untrained_models, leads)

    assert set(model.leads) == {lead.upper() for lead in leads}


def test_load_model_for_leads_without_a_lead_set_raises_model_error_listing_the_lead_sets(untrained_models):
    with pytest.raises(ModelError, match=r"no model for leads I, V5: .*I, II, III, V2"):
        LeadSetModel.load(untrained_models, ("I", "V5"))


def test_load_model_of_a_lead_set_never_saved_raises_model_error_naming_the_folder(tmp_path):
    _save(tmp_path, "twelve")

    with pytest.raises(ModelError, match=r"two: no trained model here"):
        LeadSetModel.load(tmp_path, ("I", "II"))


def test_truncated_model_file_raises_model_error_naming_the_file_and_checksum(tmp_path):
    folder = _save(tmp_path, "two")
    data = (folder / MODEL_FILE).read_bytes()
    (folder / MODEL_FILE).write_bytes(data[: len(data) // 2])

    with pytest.raises(ModelError, match=r"two: checksum of model\.json and model\.keras differs"):
        LeadSetModel.load(tmp_path, ("I", "II"))


def test_tampered_model_file_raises_model_error_naming_the_file_and_checksum(tmp_path):
    folder = _save(tmp_path, "two")
    data = bytearray((folder / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / MODEL_FILE).write_bytes(bytes(data))

    with pytest.raises(ModelError, match=r"two: checksum of model\.json and model\.keras differs"):
        LeadSetModel.load(tmp_path, ("I", "II"))


def test_missing_model_json_raises_model_error(tmp_path):
    folder = _save(tmp_path, "two")
    (folder / META_FILE).unlink()

    with pytest.raises(ModelError, match="model.json"):
        LeadSetModel.load(tmp_path, ("I", "II"))


def test_missing_model_file_raises_model_error_naming_it(tmp_path):
    folder = _save(tmp_path, "two")
    (folder / MODEL_FILE).unlink()

    with pytest.raises(ModelError, match="model.keras is missing"):
        LeadSetModel.load(tmp_path, ("I", "II"))


def test_model_json_that_is_not_json_raises_model_error_naming_it(tmp_path):
    folder = _save(tmp_path, "two")
    (folder / META_FILE).write_text("{not json")

    with pytest.raises(ModelError, match=r"two/model\.json: not valid JSON"):
        LeadSetModel.load(tmp_path, ("I", "II"))


def test_model_json_without_thresholds_raises_model_error_naming_the_keys(tmp_path):
    folder = _save(tmp_path, "two")
    meta = json.loads((folder / META_FILE).read_text())
    del meta["thresholds"]
    (folder / META_FILE).write_text(json.dumps(meta))

    with pytest.raises(ModelError, match="thresholds"):
        LeadSetModel.load(tmp_path, ("I", "II"))


@pytest.mark.parametrize("key", ["decided_by", "prevalence"])
def test_model_json_without_what_decides_each_class_raises_model_error_naming_the_keys(tmp_path, key):
    folder = _save(tmp_path, "two")
    meta = json.loads((folder / META_FILE).read_text())
    del meta[key]
    (folder / META_FILE).write_text(json.dumps(meta))

    with pytest.raises(
        ModelError, match=rf"two/model\.json: expected the keys .*{key}.*: train this lead set again"
    ):
        LeadSetModel.load(tmp_path, ("I", "II"))


@pytest.mark.parametrize("key", ["decided_by", "prevalence"])
def test_model_json_whose_rules_are_not_one_per_class_raises_model_error(tmp_path, key):
    folder = _save(tmp_path, "two")
    meta = json.loads((folder / META_FILE).read_text())
    meta[key] = meta[key][:3]
    (folder / META_FILE).write_text(json.dumps(meta))

    with pytest.raises(ModelError, match=rf"two/model\.json: {key} not one per class"):
        LeadSetModel.load(tmp_path, ("I", "II"))


def test_load_model_reads_which_classes_the_criteria_decide_and_the_prevalence(tmp_path):
    decided_by = ["criteria" if k % 3 == 0 else "network" for k in range(26)]
    save_untrained_model(tmp_path, "two", decided_by=decided_by, prevalence=UNTRAINED_PREVALENCE)

    model = LeadSetModel.load(tmp_path, ("I", "II"))

    np.testing.assert_array_equal(model.by_criteria, [k % 3 == 0 for k in range(26)])
    np.testing.assert_allclose(model.prevalence, UNTRAINED_PREVALENCE, rtol=1e-6)


def test_model_file_holds_no_pickle_and_no_lambda(untrained_models):
    with zipfile.ZipFile(untrained_models / "twelve" / MODEL_FILE) as archive:
        names = archive.namelist()
        config = archive.read("config.json").decode()

    assert not [name for name in names if name.endswith((".pkl", ".pickle", ".joblib", ".npy"))]
    assert "lambda" not in config.lower()


def test_crash_while_saving_creates_no_model_folder_and_leaves_no_temporary(tmp_path, monkeypatch):
    network = build_model(LEAD_SETS["two"], CLASSES, tiny_config().network)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(network, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        _save(tmp_path, "two", network)

    assert list(tmp_path.iterdir()) == []


def test_crash_while_saving_over_a_model_keeps_the_old_one_loadable(tmp_path, monkeypatch):
    _save(tmp_path, "two")
    before = (tmp_path / "two" / MODEL_FILE).read_bytes()
    network = build_model(LEAD_SETS["two"], CLASSES, tiny_config().network)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(network, "save", crash)
    with pytest.raises(OSError):
        _save(tmp_path, "two", network)

    assert sorted(path.name for path in tmp_path.iterdir()) == ["two"]
    assert (tmp_path / "two" / MODEL_FILE).read_bytes() == before
    LeadSetModel.load(tmp_path, ("I", "II"))


def test_saving_again_replaces_the_model(tmp_path):
    _save(tmp_path, "two")
    first = json.loads((tmp_path / "two" / META_FILE).read_text())["sha256"]

    _save(tmp_path, "two")

    assert json.loads((tmp_path / "two" / META_FILE).read_text())["sha256"] != first
    assert sorted(path.name for path in tmp_path.iterdir()) == ["two"]


@pytest.mark.parametrize("name", ["C2_10s", "C4_35s", "C6_115s_1000Hz", "C5_38s_1000Hz"])
def test_run_model_outputs_26_probabilities_and_labels_from_the_thresholds(
    twelve_lead_model, synthetic_records, name
):
    classes, labels, probabilities = _run(twelve_lead_model, synthetic_records, name)

    assert classes == list(CLASSES)
    assert probabilities.shape == labels.shape == (26,)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    assert set(labels.tolist()) <= {0, 1}
    np.testing.assert_array_equal(labels, (probabilities >= THRESHOLDS).astype(int))


@pytest.mark.parametrize(
    ("name", "count"), [("C2_10s", 1), ("C4_35s", 4), ("C6_115s_1000Hz", 12), ("C5_38s_1000Hz", 4)]
)
def test_run_model_averages_the_probabilities_of_every_window(
    twelve_lead_model, synthetic_records, name, count
):
    per_window = _window_probabilities(twelve_lead_model, synthetic_records, name)

    _, _, probabilities = _run(twelve_lead_model, synthetic_records, name)

    assert len(per_window) == count
    np.testing.assert_allclose(probabilities, per_window.mean(axis=0), rtol=1e-5, atol=1e-6)


def test_run_model_gives_the_same_probabilities_for_leads_stored_in_another_order(
    twelve_lead_model, synthetic_records, tmp_path
):
    copy_records(synthetic_records, tmp_path / "original", ["C1_15s"])
    reordered = tuple(reversed(LEAD_SETS["twelve"]))
    extract_leads(tmp_path / "original", tmp_path / "reordered", reordered)

    _, _, original = _run(twelve_lead_model, tmp_path / "original", "C1_15s")
    _, _, shuffled = _run(twelve_lead_model, tmp_path / "reordered", "C1_15s")

    assert load_header(tmp_path / "reordered" / "C1_15s.hea").splitlines()[1].split()[-1] == "V6"
    np.testing.assert_allclose(shuffled, original, rtol=1e-5, atol=1e-6)


def test_run_model_of_a_reduced_lead_set_reads_only_its_leads_from_a_twelve_lead_recording(
    untrained_models, synthetic_records, tmp_path
):
    model = LeadSetModel.load(untrained_models, ("I", "II", "V2"))
    copy_records(synthetic_records, tmp_path / "original", ["C3_10s"])
    extract_leads(tmp_path / "original", tmp_path / "three", ("V2", "I", "II"))

    _, _, from_twelve = _run(model, tmp_path / "original", "C3_10s")
    _, _, from_three = _run(model, tmp_path / "three", "C3_10s")

    np.testing.assert_allclose(from_three, from_twelve, rtol=1e-5, atol=1e-6)


def test_run_model_of_a_recording_without_the_models_leads_raises_value_error(
    untrained_models, synthetic_records, tmp_path
):
    model = LeadSetModel.load(untrained_models, LEAD_SETS["twelve"])
    copy_records(synthetic_records, tmp_path / "original", ["C3_10s"])
    extract_leads(tmp_path / "original", tmp_path / "two", ("I", "II"))

    with pytest.raises(ValueError, match="lead 'III' not in I, II"):
        _run(model, tmp_path / "two", "C3_10s")


def test_prediction_function_is_traced_once_for_any_number_of_windows(twelve_lead_model, synthetic_records):
    _run(twelve_lead_model, synthetic_records, "C2_10s")
    _run(twelve_lead_model, synthetic_records, "C6_115s_1000Hz")

    assert twelve_lead_model.window_function.experimental_get_tracing_count() == 1


def test_loaded_models_share_no_state_between_lead_sets(untrained_models):
    two, six = (
        LeadSetModel.load(untrained_models, LEAD_SETS["two"]),
        LeadSetModel.load(untrained_models, LEAD_SETS["six"]),
    )

    assert two.network is not six.network
    assert two.network.get_layer("signal").output.shape[-1] == 2
    assert six.network.get_layer("signal").output.shape[-1] == 6


def test_saved_model_folder_names_only_the_lead_set(untrained_models):
    assert sorted(os.listdir(untrained_models)) == sorted(LEAD_SETS)


def test_finish_many_gives_each_records_own_result_in_one_network_call(twelve_lead_model, synthetic_records):
    names = ("C2_10s", "C1_15s", "C5_38s_1000Hz")  # 1, 2 and 4 windows
    prepared = []
    for name in names:
        header = load_header(synthetic_records / f"{name}.hea")
        prepared.append(
            twelve_lead_model.prepare(header, load_recording(synthetic_records / f"{name}.mat", header))
        )

    together = twelve_lead_model.finish_many(prepared)

    assert len(together) == len(names)
    for inputs, (classes, labels, probabilities) in zip(prepared, together, strict=True):
        alone = twelve_lead_model.finish(inputs)
        assert classes == alone[0]
        np.testing.assert_allclose(probabilities, alone[2], rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(labels, (probabilities >= THRESHOLDS).astype(int))


def test_predict_proba_and_predict_give_each_records_probabilities_and_labels_as_finish_many(
    twelve_lead_model, synthetic_records
):
    names = ("C2_10s", "C4_35s")
    prepared = [_prepared(twelve_lead_model, synthetic_records, name) for name in names]

    probabilities = twelve_lead_model.predict_proba(prepared)
    labels = twelve_lead_model.predict(prepared)

    finished = twelve_lead_model.finish_many(prepared)
    assert probabilities.shape == labels.shape == (2, 26) and probabilities.dtype == np.float32
    np.testing.assert_array_equal(probabilities, [result[2] for result in finished])
    np.testing.assert_array_equal(labels, [result[1] for result in finished])
    np.testing.assert_array_equal(labels, (probabilities >= THRESHOLDS.astype(np.float32)).astype(int))


def test_a_model_made_in_memory_predicts_as_the_same_model_saved_and_loaded(tmp_path, synthetic_records):
    network = build_model(LEAD_SETS["two"], CLASSES, tiny_config().network, prevalence=UNTRAINED_PREVALENCE)
    rules = {"decided_by": ["criteria"] * 3 + ["network"] * 23, "prevalence": UNTRAINED_PREVALENCE}
    model = LeadSetModel("two", network, thresholds=THRESHOLDS, settings=PipelineSettings(), **rules)
    prepared = [_prepared(model, synthetic_records, name) for name in ("C1_15s", "C3_10s")]

    model.save(tmp_path)
    loaded = LeadSetModel.load(tmp_path, ("I", "II"))

    assert loaded.decided_by == model.decided_by and loaded.settings == model.settings
    np.testing.assert_allclose(loaded.predict_proba(prepared), model.predict_proba(prepared), rtol=1e-6)
    np.testing.assert_array_equal(loaded.predict(prepared), model.predict(prepared))


def _prepared(model, folder, name):
    header = load_header(folder / f"{name}.hea")
    return model.prepare(header, load_recording(folder / f"{name}.mat", header))


def _unmeasurable(inputs, windows=slice(None)):
    """A copy of the inputs with ``measurable`` 0 in the given windows."""
    changed = dict(inputs, measurements=inputs["measurements"].copy())
    changed["measurements"][windows, MEASURABLE] = 0.0
    return changed


@pytest.fixture(scope="module")
def four_windows(twelve_lead_model, synthetic_records):
    """The twelve-lead inputs of C4_35s: four windows, each measurable."""
    inputs = _prepared(twelve_lead_model, synthetic_records, "C4_35s")
    assert len(inputs["signal"]) == 4 and np.all(inputs["measurements"][:, MEASURABLE] == 1)
    return inputs


def test_a_recording_with_no_measurable_window_gets_no_label_and_the_prevalence_with_a_warning(
    twelve_lead_model, four_windows, caplog
):
    _, diagnosed, _ = twelve_lead_model.finish(four_windows, "C4_35s")

    with caplog.at_level(logging.WARNING, logger="ecgcrnn.model.lead_set"):
        classes, labels, probabilities = twelve_lead_model.finish(_unmeasurable(four_windows), "C4_35s")

    assert diagnosed.any()  # the rule, not the network, leaves every label 0
    assert classes == list(CLASSES)
    np.testing.assert_array_equal(labels, np.zeros(26))
    np.testing.assert_array_equal(probabilities, np.asarray(UNTRAINED_PREVALENCE, np.float32))
    assert probabilities.dtype == np.float32
    assert f"C4_35s: {UNMEASURABLE}" in caplog.text


def test_one_measurable_window_is_enough_for_a_diagnosis(twelve_lead_model, four_windows, caplog):
    with caplog.at_level(logging.WARNING, logger="ecgcrnn.model.lead_set"):
        _, labels, probabilities = twelve_lead_model.finish(
            _unmeasurable(four_windows, slice(1, None)), "C4_35s"
        )

    network = np.asarray(twelve_lead_model.network(four_windows, training=False)).mean(axis=0)
    np.testing.assert_allclose(probabilities, network, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(labels, (probabilities >= THRESHOLDS).astype(int))
    assert UNMEASURABLE not in caplog.text


def test_finish_many_names_in_its_warning_only_the_record_with_nothing_measurable(
    twelve_lead_model, four_windows, synthetic_records, caplog
):
    other = _prepared(twelve_lead_model, synthetic_records, "C2_10s")

    with caplog.at_level(logging.WARNING, logger="ecgcrnn.model.lead_set"):
        results = twelve_lead_model.finish_many([other, _unmeasurable(four_windows)], ["C2_10s", "C4_35s"])

    assert [record.getMessage() for record in caplog.records] == [f"C4_35s: {UNMEASURABLE}"]
    np.testing.assert_allclose(results[0][2], twelve_lead_model.finish(other)[2], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(results[1][1], np.zeros(26))


def test_run_model_of_an_all_zero_recording_warns_naming_the_record(
    twelve_lead_model, synthetic_records, caplog
):
    header = load_header(synthetic_records / "C2_10s.hea")
    zeros = np.zeros_like(load_recording(synthetic_records / "C2_10s.mat", header))

    with caplog.at_level(logging.WARNING, logger="ecgcrnn.model.lead_set"):
        _, labels, probabilities = run_model(twelve_lead_model, header, zeros)

    np.testing.assert_array_equal(labels, np.zeros(26))
    np.testing.assert_array_equal(probabilities, np.asarray(UNTRAINED_PREVALENCE, np.float32))
    assert f"C2_10s: {UNMEASURABLE}" in caplog.text


def test_record_name_is_the_first_word_of_the_header_text_or_the_parsed_headers_name(synthetic_records):
    header = load_header(synthetic_records / "C5_38s_1000Hz.hea")

    assert record_name(header) == record_name(parse_header(header)) == "C5_38s_1000Hz"
    assert record_name("") == "a recording"


@pytest.fixture(scope="module")
def criteria_model(tmp_path_factory):
    """A twelve-lead model whose first five classes the criteria decide (threshold 0.5), and whose network's
    wide path adds 1.5 to every logit, so that the network's probabilities are not the criteria's."""
    root = tmp_path_factory.mktemp("criteria_model")
    network = build_model(
        LEAD_SETS["twelve"], CLASSES, tiny_config().network, prevalence=UNTRAINED_PREVALENCE
    )
    wide = network.get_layer("wide_logits")
    kernel, bias = wide.get_weights()
    wide.set_weights([kernel, np.full_like(bias, 1.5)])
    decided_by = ["criteria"] * 5 + ["network"] * 21
    thresholds = np.where(np.arange(26) < 5, 0.5, THRESHOLDS)
    save_untrained_model(
        root, "twelve", thresholds, network=network, decided_by=decided_by, prevalence=UNTRAINED_PREVALENCE
    )
    return LeadSetModel.load(root, LEAD_SETS["twelve"])


def test_classes_decided_by_the_criteria_take_the_criteria_paths_mean_probability(
    criteria_model, four_windows
):
    _, labels, probabilities = criteria_model.finish(four_windows, "C4_35s")

    start = criteria_probabilities(
        four_windows["criteria"], four_windows["criteria_mask"], UNTRAINED_PREVALENCE
    )
    network = np.asarray(criteria_model.network(four_windows, training=False)).mean(axis=0)
    np.testing.assert_allclose(probabilities[:5], start.mean(axis=0)[:5], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probabilities[5:], network[5:], rtol=1e-5, atol=1e-6)
    assert np.all(np.abs(network[:5] - start.mean(axis=0)[:5]) > 1e-3)  # the network alone would differ
    np.testing.assert_array_equal(labels, (probabilities >= criteria_model.thresholds).astype(int))
    np.testing.assert_array_equal(criteria_model.thresholds[:5], 0.5)
