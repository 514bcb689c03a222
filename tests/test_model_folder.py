"""What a model folder must be to load: bound to its lead set and leads, the package's scored classes,
thresholds that are probabilities, no key this version does not write, one checksum over everything loading
reads, and a network Keras loads in safe mode. Every refusal is one :class:`ModelError` line naming the file
and what to do, and test_model.py ends with it (exit 1).

The folders are copies of the untrained tiny networks of the ``untrained_models`` fixture (no training)."""

import json
import shutil

import pytest

from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.inference.store import META_FILE, ModelError, load_model

CLASSES = default_class_table().names
RETRAIN = "train this lead set again with train_model.py"


@pytest.fixture
def models(untrained_models, tmp_path):
    """A model folder holding a copy of the untrained two-lead model, free to be edited."""
    shutil.copytree(untrained_models / "two", tmp_path / "models" / "two")
    return tmp_path / "models"


def _edit(folder, change) -> None:
    """Apply ``change(meta)`` to the folder's model.json and write it back."""
    meta = json.loads((folder / META_FILE).read_text())
    change(meta)
    (folder / META_FILE).write_text(json.dumps(meta, indent=1))


def _refusal(models, leads=LEAD_SETS["two"]) -> str:
    """The message of the ModelError that loading the model of ``leads`` raises, checked to be one line."""
    with pytest.raises(ModelError) as refused:
        load_model(models, leads)
    message = str(refused.value)
    assert "\n" not in message and "\r" not in message
    return message


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
