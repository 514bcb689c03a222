"""What a model folder must be to load: bound to its lead set and leads, the package's scored classes,
thresholds that are probabilities, no key this version does not write, one checksum over everything loading
reads, and a network Keras loads in safe mode. Every refusal is one :class:`ModelError` line naming the file
and what to do, and test_model.py ends with it (exit 1).

The folders are copies of the untrained tiny networks of the ``untrained_models`` fixture (no training)."""

import hashlib
import json
import logging
import math
import re
import shutil
from pathlib import Path

import pytest
from helpers import UNTRAINED_THRESHOLDS, copy_records, run_script, save_untrained_model

import team_code
import test_model
from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.inference.runner import ModelLoadError, run_test_set
from ecgcrnn.io.extract import extract_leads
from ecgcrnn.model.folder import META_FILE, ModelError, folder_digest
from ecgcrnn.model.lead_set import LeadSetModel

CLASSES = default_class_table().names
RETRAIN = "train this lead set again with train_model.py"


@pytest.fixture
def models(untrained_models, tmp_path):
    """A model folder holding a copy of the untrained two-lead model, free to be edited."""
    shutil.copytree(untrained_models / "two", tmp_path / "models" / "two")
    return tmp_path / "models"


@pytest.fixture(scope="module")
def two_lead_records(synthetic_records, tmp_path_factory):
    """Two synthetic records with only the leads I and II, in a folder of their own (read-only)."""
    root = tmp_path_factory.mktemp("two_lead_records")
    copy_records(synthetic_records, root / "twelve", ("C2_10s", "C3_10s"))
    extract_leads(root / "twelve", root / "two", LEAD_SETS["two"])
    return root / "two"


def _edit(folder, change) -> None:
    """Apply ``change(meta)`` to the folder's model.json and write it back."""
    meta = json.loads((folder / META_FILE).read_text())
    change(meta)
    (folder / META_FILE).write_text(json.dumps(meta, indent=1))


def _refusal(models, leads=LEAD_SETS["two"]) -> str:
    """The message of the ModelError that loading the model of ``leads`` raises, checked to be one line."""
    with pytest.raises(ModelError) as refused:
        LeadSetModel.load(models, leads)
    message = str(refused.value)
    assert "\n" not in message and "\r" not in message
    return message


def _test_model(models, records, output, capsys) -> str:
    """Run test_model.py's main in this process (one worker); the last line on stderr, checked to be the
    error line of exit status 1."""
    assert test_model.main([str(models), str(records), str(output)]) == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("test_model.py: error: ")
    return line


# Bound to its lead set and its leads


def test_a_two_lead_model_copied_in_as_the_twelve_lead_model_is_refused_naming_both_lead_sets(models):
    shutil.copytree(models / "two", models / "twelve")

    message = _refusal(models, LEAD_SETS["twelve"])

    assert message == (
        f'{models / "twelve" / META_FILE}: lead set "two", expected "twelve" as the folder\'s name says: '
        "give this folder the twelve-lead model, or train it with train_model.py"
    )


def test_leads_reversed_in_model_json_are_refused_naming_the_leads_expected_in_order(models):
    _edit(models / "two", lambda meta: meta.update(leads=["II", "I"]))

    message = _refusal(models)

    assert message == (
        f'{models / "two" / META_FILE}: leads ["II", "I"], expected the two-lead set\'s leads ["I", "II"] '
        f"in this order: {RETRAIN}"
    )


def test_a_model_json_naming_another_lead_set_is_refused(models):
    _edit(models / "two", lambda meta: meta.update(lead_set="three"))

    assert _refusal(models).startswith(f'{models / "two" / META_FILE}: lead set "three", expected "two"')


# The package's scored classes


def _class(index: int, name):
    def change(meta):
        meta["classes"][index] = name

    return change


@pytest.mark.parametrize("name", [CLASSES[2] + "\n#INJECTED,999", "999999999", CLASSES[3], "", 6374002, None])
def test_a_class_other_than_the_scored_one_in_its_place_is_refused_on_one_line(models, name):
    _edit(models / "two", _class(2, name))

    message = _refusal(models)

    assert message.startswith(f"{models / 'two' / META_FILE}: classes are not the 26 scored classes")
    assert f"class 3 is {json.dumps(name)}, expected {json.dumps(CLASSES[2])}" in message
    assert message.endswith(RETRAIN)


def test_a_missing_class_is_refused(models):
    def drop_last(meta):
        for key in ("classes", "thresholds", "decided_by", "prevalence"):
            meta[key] = meta[key][:-1]

    _edit(models / "two", drop_last)

    assert "classes are not the 26 scored classes" in _refusal(models)


# Thresholds, rules and prevalence: values that mean something; keys this version writes


@pytest.mark.parametrize("value", [math.nan, math.inf, -0.1, 1.5, "0.5", None, True])
@pytest.mark.parametrize("key", ["thresholds", "prevalence"])
def test_a_threshold_or_prevalence_that_is_not_a_probability_is_refused_naming_the_class(models, key, value):
    def change(meta):
        meta[key][4] = value

    _edit(models / "two", change)

    message = _refusal(models)

    assert message == (
        f"{models / 'two' / META_FILE}: {key} must be numbers in [0, 1], found {json.dumps(value)} for class "
        f"{CLASSES[4]}: {RETRAIN}"
    )


def test_a_rule_other_than_network_or_criteria_is_refused(models):
    def change(meta):
        meta["decided_by"][0] = "oracle"

    _edit(models / "two", change)

    assert _refusal(models) == (
        f'{models / "two" / META_FILE}: decided_by must be "network" or "criteria", found "oracle" for class '
        f"{CLASSES[0]}: {RETRAIN}"
    )


@pytest.mark.parametrize("value", [0.5, {"a": 1}, "thresholds"])
def test_a_per_class_entry_that_is_not_a_list_is_refused(models, value):
    _edit(models / "two", lambda meta: meta.update(thresholds=value))

    assert _refusal(models).startswith(f"{models / 'two' / META_FILE}: thresholds not one per class")


@pytest.mark.parametrize("key", ["threshold", "temperature", "bad\nkey"])
def test_an_unknown_key_is_refused_naming_it(models, key):
    _edit(models / "two", lambda meta: meta.update({key: list(UNTRAINED_THRESHOLDS)}))

    message = _refusal(models)

    assert message == (
        f"{models / 'two' / META_FILE}: unknown key {json.dumps(key)} (LeadSetModel.save writes none): "
        f"{RETRAIN}"
    )


def test_a_key_written_twice_is_refused_naming_it(models):
    text = (models / "two" / META_FILE).read_text()
    (models / "two" / META_FILE).write_text(text.replace("{", '{\n "thresholds": [],', 1))

    assert _refusal(models) == f'{models / "two" / META_FILE}: key "thresholds" written twice: {RETRAIN}'


def test_the_keys_a_caller_added_to_model_json_are_declared_and_load(untrained_models):
    meta = json.loads((untrained_models / "two" / META_FILE).read_text())

    assert meta["note"] == "test" and meta["extra_keys"] == ["note"]
    assert LeadSetModel.load(untrained_models, LEAD_SETS["two"]).classes == CLASSES


# One checksum over everything loading reads


def _set(*path_and_value):
    """A change of model.json that sets the entry at ``path`` (keys and indices) to ``value``."""
    *path, key, value = path_and_value

    def change(meta):
        entry = meta
        for step in path:
            entry = entry[step]
        entry[key] = value

    return change


EDITS = {
    "threshold": _set("thresholds", 0, 0.9),
    "decided_by": _set("decided_by", 0, "criteria"),
    "prevalence": _set("prevalence", 0, 0.5),
    "setting": _set("settings", "preprocess", "bandpass_hz", [1.0, 40.0]),
    "pipeline_code": _set("pipeline_code", "0" * 64),
    "versions": _set("versions", "ecgcrnn", "0.0"),
    "extra": _set("note", "edited"),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edit_of_model_json_that_loading_would_accept_fails_the_checksum(models, edit):
    _edit(models / "two", EDITS[edit])

    assert _refusal(models) == (
        f"{models / 'two'}: checksum of model.json and model.keras differs from the sha256 model.json holds; "
        f"a file was damaged or edited: {RETRAIN}"
    )


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_model_json_edited_and_signed_again_loads_with_the_edit(models, edit):
    def edit_and_sign(meta):
        EDITS[edit](meta)
        meta["sha256"] = folder_digest(meta, models / "two" / "model.keras")

    _edit(models / "two", edit_and_sign)

    model = LeadSetModel.load(models, LEAD_SETS["two"])

    assert model.thresholds[0] == pytest.approx(0.9 if edit == "threshold" else UNTRAINED_THRESHOLDS[0])
    assert model.settings.preprocess.bandpass_hz == ((1.0, 40.0) if edit == "setting" else (0.5, 100.0))


def test_the_checksum_is_one_digest_of_model_json_but_its_sha256_and_of_model_keras(untrained_models):
    folder = untrained_models / "two"
    meta = json.loads((folder / META_FILE).read_text())
    others = {key: value for key, value in meta.items() if key != "sha256"}
    content = json.dumps(others, sort_keys=True, separators=(",", ":"))
    model_file = (folder / "model.keras").read_bytes()
    expected = hashlib.sha256()
    for part in (content.encode(), model_file):
        expected.update(len(part).to_bytes(8, "big") + part)

    assert meta["sha256"] == expected.hexdigest()


# A network Keras loads in safe mode, for the leads and classes of model.json: refused once, at load time


class _Damaged:
    """Saves, in place of a network, a file that is not a Keras archive (so model.json signs it)."""

    def save(self, path):
        Path(path).write_bytes(b"PK\x03\x04 not a keras file" * 64)


def _with_lambda():
    """A network with a Lambda layer, which Keras saves but its safe mode refuses to load."""
    import keras

    return keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2)])


UNLOADABLE = "cannot be loaded in Keras' safe mode"
NETWORKS = {
    "lambda": (_with_lambda, f"{UNLOADABLE} (Requested the deserialization of a `Lambda` layer"),
    "damaged": (_Damaged, f"{UNLOADABLE} (not a zip archive, as a .keras file is)"),
}


@pytest.fixture(params=list(NETWORKS))
def unloadable(request, tmp_path):
    """A model folder whose two-lead model.json is valid and signs a model.keras Keras cannot load; returns
    the folder and the start of the message that refuses it (after the file's path)."""
    network, message = NETWORKS[request.param]
    save_untrained_model(tmp_path / "models", "two", network=network())
    return tmp_path / "models", message


def test_a_network_that_does_not_load_raises_model_error_once_waited_for(unloadable):
    models, message = unloadable
    model = LeadSetModel.load(models, LEAD_SETS["two"])

    with pytest.raises(ModelError) as refused:
        model.wait_until_loaded()

    assert str(refused.value).startswith(f"{models / 'two' / 'model.keras'}: {message}")
    assert str(refused.value).endswith(RETRAIN) and "\n" not in str(refused.value)


def test_a_network_that_does_not_load_fails_the_test_run_once_before_any_recording(
    unloadable, two_lead_records, tmp_path, caplog
):
    models, message = unloadable

    with pytest.raises(ModelLoadError) as refused, caplog.at_level(logging.ERROR):
        run_test_set(models, two_lead_records, tmp_path / "out", team_code.load_model, team_code.run_model)

    start = f"all-negative outputs for 2 recordings with leads I, II: {models / 'two' / 'model.keras'}: "
    assert str(refused.value).startswith(start + message)
    assert [record.getMessage().count("model.keras") for record in caplog.records] == [1]
    assert len(list((tmp_path / "out").iterdir())) == 2


def test_a_network_of_other_leads_than_its_signed_model_json_is_refused_once_waited_for(models):
    shutil.copytree(models / "two", models / "twelve")

    def twelve(meta):
        meta.update(lead_set="twelve", leads=list(LEAD_SETS["twelve"]))
        meta["sha256"] = folder_digest(meta, models / "twelve" / "model.keras")

    _edit(models / "twelve", twelve)
    model = LeadSetModel.load(models, LEAD_SETS["twelve"])

    with pytest.raises(ModelError) as refused:
        model.wait_until_loaded()

    assert str(refused.value) == (
        f"{models / 'twelve' / 'model.keras'}: its network reads windows of 5000 samples of 2 leads and "
        f"gives 26 classes, model.json expects 5000 samples of 12 leads and 26 classes: {RETRAIN}"
    )


@pytest.mark.slow
def test_test_model_with_a_network_safe_mode_refuses_ends_with_one_line_and_exit_1(
    two_lead_records, tmp_path
):
    save_untrained_model(tmp_path / "models", "two", network=_with_lambda())

    result = run_script("test_model.py", tmp_path / "models", two_lead_records, tmp_path / "out")

    assert result.returncode == 1
    line = result.stderr.strip().splitlines()[-1]
    start = "test_model.py: error: all-negative outputs for 2 recordings with leads I, II: "
    assert line.startswith(f"{start}{tmp_path / 'models' / 'two' / 'model.keras'}: {NETWORKS['lambda'][1]}")
    assert line.endswith(RETRAIN)
    assert "Traceback" not in result.stderr and "failed (ModelError" not in result.stderr


def test_a_model_folder_of_the_previous_format_is_refused_saying_to_train_again(models):
    _edit(models / "two", lambda meta: meta.update(format=3))

    assert _refusal(models) == f"{models / 'two' / META_FILE}: format 3, this version reads 4: {RETRAIN}"


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"thresholds": [math.nan] * 26}, "thresholds must be numbers in [0, 1], found NaN"),
        ({"extra": {"sha256": "0" * 64}}, "extra keys ['sha256'] are model.json's own: rename them"),
    ],
)
def test_saving_refuses_what_loading_would_refuse_and_writes_nothing(tmp_path, rules, message):
    with pytest.raises(ModelError, match=re.escape(f"{tmp_path / 'two' / META_FILE}: {message}")):
        save_untrained_model(tmp_path, "two", **rules)

    assert list(tmp_path.iterdir()) == []


def test_test_model_with_a_forged_class_writes_no_forged_line_and_ends_with_one_line(
    models, two_lead_records, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("ECGCRNN_WORKERS", "1")
    _edit(models / "two", _class(2, CLASSES[2] + "\n#INJECTED,999"))

    line = _test_model(models, two_lead_records, tmp_path / "out", capsys)

    start = "test_model.py: error: all-negative outputs for 2 recordings with leads I, II: "
    assert line.startswith(f"{start}{models / 'two' / META_FILE}: classes are not the 26 scored classes")
    assert f'(class 3 is "{CLASSES[2]}\\n#INJECTED,999", expected "{CLASSES[2]}")' in line
    assert line.endswith(RETRAIN)
    for output in (tmp_path / "out").iterdir():
        assert len(output.read_text().splitlines()) == 4 and "INJECTED" not in output.read_text()


REFUSALS = {
    "reversed leads": (_set("leads", ["II", "I"]), '/model.json: leads ["II", "I"], expected'),
    "NaN threshold": (_set("thresholds", 4, math.nan), "/model.json: thresholds must be numbers in [0, 1]"),
    "unknown key": (_set("threshold", 0.5), '/model.json: unknown key "threshold"'),
    "edited threshold": (_set("thresholds", 4, 0.9), ": checksum of model.json and model.keras differs"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_test_model_with_a_refused_model_folder_ends_with_one_line_naming_it_and_exit_1(
    models, two_lead_records, tmp_path, capsys, monkeypatch, case
):
    monkeypatch.setenv("ECGCRNN_WORKERS", "1")
    change, message = REFUSALS[case]
    _edit(models / "two", change)

    line = _test_model(models, two_lead_records, tmp_path / "out", capsys)

    start = "test_model.py: error: all-negative outputs for 2 recordings with leads I, II: "
    assert line.startswith(f"{start}{models / 'two'}{message}")
    assert line.endswith(RETRAIN)
