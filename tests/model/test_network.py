"""The dual-branch CRNN: named inputs and output for every lead set, built-in layers only, and its start:
the fixed criteria path alone, with the wide and deep paths at zero."""

import json
import math
import zipfile
from dataclasses import replace

import keras
import numpy as np
import pytest
from helpers import tiny_config

from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.features.measurements import measurement_names
from ecgcrnn.features.settings import FeatureConfig
from ecgcrnn.model.network import (
    CRITERION_LOGIT,
    PRIOR_LOGIT_LIMIT,
    average_networks,
    build_model,
    criteria_probabilities,
    criteria_weights,
    prior_logits,
)
from ecgcrnn.pipeline import INPUT_NAMES

CLASSES = default_class_table().names
PREVALENCE = np.linspace(0.01, 0.6, len(CLASSES))
RESIDUAL_PATHS = ("wide_logits", "deep_logits")


def _synthetic_inputs(network, batch: int, seed: int = 0) -> dict:
    """Standard normal values, masks of 0 and 1, and criteria within ±0.5, as the pipeline gives them."""
    rng = np.random.default_rng(seed)
    inputs = {}
    for tensor in network.inputs:
        shape = (batch, *tensor.shape[1:])
        if tensor.name.endswith("_mask"):
            inputs[tensor.name] = (rng.random(shape) < 0.5).astype(np.float32)
        elif tensor.name == "criteria":
            inputs[tensor.name] = rng.uniform(-0.5, 0.5, shape).astype(np.float32)
        else:
            inputs[tensor.name] = rng.standard_normal(shape).astype(np.float32)
    return inputs


def _set_residual_weights(network, seed: int = 1) -> None:
    """Random weights in the wide and deep paths, as training would leave them."""
    rng = np.random.default_rng(seed)
    for name in RESIDUAL_PATHS:
        layer = network.get_layer(name)
        layer.set_weights([rng.normal(0.0, 0.5, w.shape).astype(np.float32) for w in layer.get_weights()])


@pytest.mark.parametrize("lead_set", list(LEAD_SETS))
def test_model_has_the_ten_named_inputs_shaped_for_the_lead_set(lead_set):
    leads = LEAD_SETS[lead_set]
    network = build_model(leads, CLASSES, tiny_config().network)

    shapes = {tensor.name: tuple(tensor.shape) for tensor in network.inputs}

    assert set(shapes) == set(INPUT_NAMES) and len(INPUT_NAMES) == 10
    assert shapes["signal"] == (None, 5000, len(leads))
    beats = (None, FeatureConfig().max_beats, 2 + 11 * len(leads))
    assert shapes["beat_values"] == shapes["beat_mask"] == beats
    assert shapes["record_values"] == shapes["record_mask"] == (None, 9 + 11 * len(leads))
    assert shapes["demographics"] == (None, 4)
    assert (
        shapes["measurements"]
        == shapes["measurement_mask"]
        == (None, len(measurement_names()))
        == (None, 209)
    )
    assert shapes["criteria"] == shapes["criteria_mask"] == (None, 26)


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


def test_model_with_trained_wide_and_deep_paths_reads_every_input():
    network = build_model(
        LEAD_SETS["two"], CLASSES, replace(tiny_config().network, dropout=0.0), prevalence=PREVALENCE
    )
    _set_residual_weights(network)
    inputs = _synthetic_inputs(network, 2)
    reference = np.asarray(network(inputs, training=False))

    for name in INPUT_NAMES:
        changed = dict(inputs, **{name: inputs[name] + 1.0})
        assert not np.allclose(np.asarray(network(changed, training=False)), reference), name


def test_untrained_model_outputs_the_criteria_probabilities():
    network = build_model(LEAD_SETS["six"], CLASSES, tiny_config().network, prevalence=PREVALENCE)
    inputs = _synthetic_inputs(network, 4)

    probabilities = np.asarray(network(inputs, training=False))

    expected = criteria_probabilities(inputs["criteria"], inputs["criteria_mask"], PREVALENCE)
    np.testing.assert_allclose(probabilities, expected, rtol=1e-5, atol=1e-6)


def test_untrained_model_ignores_every_input_but_the_criteria():
    network = build_model(LEAD_SETS["two"], CLASSES, tiny_config().network, prevalence=PREVALENCE)
    inputs = _synthetic_inputs(network, 2)
    reference = np.asarray(network(inputs, training=False))

    changed = {name: value if name.startswith("criteria") else value + 1.0 for name, value in inputs.items()}

    np.testing.assert_array_equal(np.asarray(network(changed, training=False)), reference)


def test_wide_and_deep_paths_start_at_zero_and_the_criteria_path_is_not_trainable():
    network = build_model(LEAD_SETS["two"], CLASSES, tiny_config().network, prevalence=PREVALENCE)

    for name in RESIDUAL_PATHS:
        layer = network.get_layer(name)
        assert layer.trainable and all(not np.any(w) for w in layer.get_weights()), name
    start = network.get_layer("criteria_logits")
    assert not start.trainable and not start.trainable_weights
    for built, expected in zip(start.get_weights(), criteria_weights(len(CLASSES), PREVALENCE), strict=True):
        np.testing.assert_array_equal(built, expected)


def test_residual_l2_penalises_the_wide_and_deep_kernels_and_nothing_else():
    penalised = build_model(LEAD_SETS["two"], CLASSES, tiny_config().network, residual_l2=0.25)
    free = build_model(LEAD_SETS["two"], CLASSES, tiny_config().network)

    for name in RESIDUAL_PATHS:
        assert penalised.get_layer(name).kernel_regularizer.l2 == pytest.approx(0.25)
        assert free.get_layer(name).kernel_regularizer is None
    others = [layer for layer in penalised.layers if layer.name not in RESIDUAL_PATHS]
    assert not any(getattr(layer, "kernel_regularizer", None) for layer in others)


def test_criteria_weights_give_each_grade_its_logit_and_an_undecided_class_its_prior():
    # Two classes of prevalence 0.2 and 0.5: priors ln(0.2 / 0.8) and 0. Inputs (criteria, criteria_mask).
    kernel, bias = criteria_weights(2, [0.2, 0.5])
    prior = math.log(0.25)

    assert kernel.shape == (4, 2) and bias.shape == (2,)
    expected = [[CRITERION_LOGIT, 0.0], [0.0, CRITERION_LOGIT], [-prior, 0.0], [0.0, 0.0]]
    np.testing.assert_allclose(kernel, expected, rtol=1e-6)
    np.testing.assert_allclose(bias, [prior, 0.0], rtol=1e-6)
    logits = np.array([[0.3, -0.2, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]]) @ kernel + bias
    np.testing.assert_allclose(
        logits, [[0.3 * CRITERION_LOGIT, -0.2 * CRITERION_LOGIT], [prior, 0.0]], rtol=1e-6
    )


def test_criteria_weights_without_a_prevalence_have_prior_zero():
    kernel, bias = criteria_weights(3)

    np.testing.assert_array_equal(kernel[3:], np.zeros((3, 3)))
    np.testing.assert_array_equal(bias, np.zeros(3))


def test_prior_logits_are_the_log_odds_of_the_prevalence_clipped_to_the_limit():
    logits = prior_logits(5, [0.0, 0.1, 0.5, 0.999999, 1.0])

    np.testing.assert_allclose(
        logits, [-PRIOR_LOGIT_LIMIT, math.log(1 / 9), 0.0, PRIOR_LOGIT_LIMIT, PRIOR_LOGIT_LIMIT], rtol=1e-12
    )


def test_prior_logits_without_a_prevalence_are_zero():
    np.testing.assert_array_equal(prior_logits(4), np.zeros(4))


def test_criteria_probabilities_read_grades_one_half_and_zero_as_095_05_and_005():
    criteria = np.array([[0.5, 0.0, -0.5]])

    probabilities = criteria_probabilities(criteria, np.ones((1, 3)))

    np.testing.assert_allclose(probabilities, [[0.95, 0.5, 0.05]], rtol=1e-12)


def test_criteria_probabilities_of_an_undecided_class_are_its_prevalence():
    prevalence = np.array([0.02, 0.3, 0.9])

    probabilities = criteria_probabilities(np.zeros((2, 3)), np.zeros((2, 3)), prevalence)

    np.testing.assert_allclose(probabilities, np.tile(prevalence, (2, 1)), rtol=1e-12)


def test_rolled_network_weights_give_the_unrolled_network_the_same_outputs():
    rolled = build_model(
        LEAD_SETS["two"], CLASSES, tiny_config().network, prevalence=PREVALENCE, unroll=False
    )
    _set_residual_weights(rolled)
    unrolled = build_model(LEAD_SETS["two"], CLASSES, tiny_config().network, prevalence=PREVALENCE)
    for layer in rolled.layers:
        unrolled.get_layer(layer.name).set_weights(layer.get_weights())
    inputs = _synthetic_inputs(rolled, 3)

    assert not rolled.get_layer("signal_gru").forward_layer.unroll
    assert unrolled.get_layer("signal_gru").forward_layer.unroll
    np.testing.assert_allclose(
        np.asarray(unrolled(inputs, training=False)),
        np.asarray(rolled(inputs, training=False)),
        rtol=1e-5,
        atol=1e-6,
    )


def test_model_without_statistics_has_no_normalisation_layers():
    network = build_model(LEAD_SETS["two"], CLASSES, tiny_config().network)

    assert not any(isinstance(layer, keras.layers.Normalization) for layer in network.layers)


def test_model_normalises_features_with_the_given_statistics():
    n_beat, n_record, n_measurements = 2 + 22, 9 + 22, len(measurement_names())
    stats = {
        "beat_values": (np.full(n_beat, 2.0), np.full(n_beat, 4.0)),
        "record_values": (np.full(n_record, -1.0), np.zeros(n_record)),
        "measurements": (np.full(n_measurements, 10.0), np.full(n_measurements, 25.0)),
    }
    network = build_model(LEAD_SETS["two"], CLASSES, tiny_config().network, stats)
    layer = network.get_layer("beat_values_norm")

    out = np.asarray(layer(np.full((1, FeatureConfig().max_beats, n_beat), 6.0, np.float32)))
    measured = np.asarray(network.get_layer("measurements_norm")(np.zeros((1, n_measurements), np.float32)))

    np.testing.assert_allclose(out, 2.0, rtol=1e-5)
    np.testing.assert_allclose(measured, -2.0, rtol=1e-5)
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


def _fold_networks(count: int, lead_set: str = "two") -> list:
    """``count`` tiny networks with different wide and deep paths, as fold networks are."""
    networks = [build_model(LEAD_SETS[lead_set], CLASSES, tiny_config().network) for _ in range(count)]
    for seed, network in enumerate(networks, start=1):
        _set_residual_weights(network, seed)
    return networks


def test_averaged_networks_output_the_mean_of_their_probabilities():
    networks = _fold_networks(3)
    inputs = _synthetic_inputs(networks[0], 4)
    each = [np.asarray(network(inputs, training=False)) for network in networks]

    average = average_networks(networks, "crnn_2_leads")

    assert not np.allclose(each[0], each[1])
    np.testing.assert_allclose(np.asarray(average(inputs, training=False)), np.mean(each, axis=0), rtol=1e-6)
    assert [tensor.name for tensor in average.inputs] == [tensor.name for tensor in networks[0].inputs]
    assert average.layers[-1].name == "classes"
    assert [n.name for n in networks] == ["fold_1", "fold_2", "fold_3"]


def test_averaging_one_network_returns_it():
    network = build_model(LEAD_SETS["two"], CLASSES, tiny_config().network)

    assert average_networks([network]) is network


def test_averaged_networks_load_in_safe_mode_with_the_same_outputs(tmp_path):
    average = average_networks(_fold_networks(2, "six"))
    inputs = _synthetic_inputs(average, 2)
    average.save(tmp_path / "model.keras")

    loaded = keras.saving.load_model(tmp_path / "model.keras", compile=False, safe_mode=True)

    np.testing.assert_array_equal(
        np.asarray(loaded(inputs, training=False)), np.asarray(average(inputs, training=False))
    )
