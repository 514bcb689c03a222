"""The dual-branch CRNN: named inputs and output for every lead set, built-in layers only."""

import json
import zipfile

import keras
import numpy as np
import pytest
from helpers import tiny_config

from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.features.settings import FeatureConfig
from ecgcrnn.model.network import build_model
from ecgcrnn.pipeline import INPUT_NAMES

CLASSES = default_class_table().names


def _synthetic_inputs(network, batch: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        tensor.name: rng.standard_normal((batch, *tensor.shape[1:])).astype(np.float32)
        for tensor in network.inputs
    }


@pytest.mark.parametrize("lead_set", list(LEAD_SETS))
def test_model_has_the_six_named_inputs_shaped_for_the_lead_set(lead_set):
    leads = LEAD_SETS[lead_set]
    network = build_model(leads, CLASSES, tiny_config().network)

    shapes = {tensor.name: tuple(tensor.shape) for tensor in network.inputs}

    assert set(shapes) == set(INPUT_NAMES)
    assert shapes["signal"] == (None, 5000, len(leads))
    beats = (None, FeatureConfig().max_beats, 2 + 11 * len(leads))
    assert shapes["beat_values"] == shapes["beat_mask"] == beats
    assert shapes["record_values"] == shapes["record_mask"] == (None, 9 + 11 * len(leads))
    assert shapes["demographics"] == (None, 4)


@pytest.mark.parametrize("lead_set", list(LEAD_SETS))
def test_model_outputs_one_probability_per_scored_class(lead_set):
    network = build_model(LEAD_SETS[lead_set], CLASSES, tiny_config().network)

    probabilities = np.asarray(network(_synthetic_inputs(network, 3), training=False))

    assert tuple(network.output.shape) == (None, 26)
    assert probabilities.shape == (3, 26)
    assert np.all((probabilities >= 0) & (probabilities <= 1))


def test_model_with_default_config_outputs_26_classes():
    network = build_model(LEAD_SETS["two"], CLASSES)

    assert tuple(network.output.shape) == (None, 26)


def test_model_uses_recurrent_layers_in_both_branches():
    network = build_model(LEAD_SETS["two"], CLASSES, tiny_config().network)

    for name in ("signal_gru", "beat_gru"):
        layer = network.get_layer(name)
        assert isinstance(layer, keras.layers.Bidirectional)
        assert isinstance(layer.forward_layer, keras.layers.GRU)


def test_model_reads_every_input():
    network = build_model(LEAD_SETS["two"], CLASSES, tiny_config(dropout=0.0).network)
    inputs = _synthetic_inputs(network, 2)
    reference = np.asarray(network(inputs, training=False))

    for name in INPUT_NAMES:
        changed = dict(inputs, **{name: inputs[name] + 1.0})
        assert not np.allclose(np.asarray(network(changed, training=False)), reference), name


def test_model_without_statistics_has_no_normalisation_layers():
    network = build_model(LEAD_SETS["two"], CLASSES, tiny_config().network)

    assert not any(isinstance(layer, keras.layers.Normalization) for layer in network.layers)


def test_model_normalises_features_with_the_given_statistics():
    n_beat, n_record = 2 + 22, 9 + 22
    stats = {
        "beat_values": (np.full(n_beat, 2.0), np.full(n_beat, 4.0)),
        "record_values": (np.full(n_record, -1.0), np.zeros(n_record)),
    }
    network = build_model(LEAD_SETS["two"], CLASSES, tiny_config(), stats)
    layer = network.get_layer("beat_values_norm")

    out = np.asarray(layer(np.full((1, FeatureConfig().max_beats, n_beat), 6.0, np.float32)))

    np.testing.assert_allclose(out, 2.0, rtol=1e-5)
    assert np.all(np.isfinite(np.asarray(network.get_layer("record_values_norm").variance)))


def test_model_is_built_only_from_keras_layers():
    network = build_model(LEAD_SETS["twelve"], CLASSES, tiny_config().network)

    modules = {type(layer).__module__ for layer in network.layers}

    assert all(module.startswith("keras.") for module in modules), modules
    assert not any(isinstance(layer, keras.layers.Lambda) for layer in network.layers)


def test_saved_model_loads_in_safe_mode_with_the_same_outputs(tmp_path):
    network = build_model(LEAD_SETS["three"], CLASSES, tiny_config().network)
    inputs = _synthetic_inputs(network, 2)
    network.save(tmp_path / "model.keras")

    loaded = keras.saving.load_model(tmp_path / "model.keras", compile=False, safe_mode=True)

    np.testing.assert_array_equal(
        np.asarray(loaded(inputs, training=False)), np.asarray(network(inputs, training=False))
    )


def test_saved_model_config_names_only_keras_classes(tmp_path):
    build_model(LEAD_SETS["four"], CLASSES, tiny_config().network).save(tmp_path / "model.keras")

    with zipfile.ZipFile(tmp_path / "model.keras") as archive:
        config = json.loads(archive.read("config.json"))
    modules = set()

    def collect(node):
        if isinstance(node, dict):
            if "class_name" in node and "module" in node:
                modules.add(node["module"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(config)
    assert modules and all(module.startswith("keras") for module in modules), modules
