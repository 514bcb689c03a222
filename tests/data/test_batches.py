"""The input pipeline: batches for build_model, window sampling, averaging per record, feature statistics."""

import json

import numpy as np
import pytest
from helpers import CACHE_WINDOWS, tiny_config

from ecgcrnn.data.batches import WindowBatches, average_by_owner, feature_statistics
from ecgcrnn.data.cache import Cache
from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.model.network import build_model
from ecgcrnn.pipeline import INPUT_NAMES, PipelineSettings

TOTAL_WINDOWS = sum(CACHE_WINDOWS.values())


def _batches(cache, lead_set="two", training=True, seed=7, batch_size=4):
    return WindowBatches(cache, lead_set, cache.usable, batch_size, seed, training)


@pytest.mark.parametrize("lead_set", list(LEAD_SETS))
def test_batch_inputs_match_the_models_inputs_in_name_shape_and_dtype(small_cache, lead_set):
    network = build_model(LEAD_SETS[lead_set], default_class_table().names, tiny_config().network)
    inputs, _ = _batches(small_cache, lead_set, training=False)[0]

    assert set(inputs) == set(INPUT_NAMES) == {tensor.name for tensor in network.inputs}
    for tensor in network.inputs:
        assert inputs[tensor.name].shape == (4, *tensor.shape[1:]), tensor.name
        assert inputs[tensor.name].dtype == np.float32, tensor.name


def test_batch_labels_are_float32_of_26_classes(small_cache):
    _, labels = _batches(small_cache)[0]

    assert labels.shape == (4, 26) and labels.dtype == np.float32


def test_batch_labels_and_demographics_are_those_of_each_windows_record(small_cache):
    batches = _batches(small_cache, training=False, batch_size=TOTAL_WINDOWS)
    inputs, labels = batches[0]

    np.testing.assert_array_equal(labels, small_cache.labels[batches.owners])
    np.testing.assert_array_equal(inputs["demographics"], small_cache.demographics[batches.owners])


def test_batch_measurements_and_criteria_are_the_cache_rows_of_each_window(small_cache):
    batches = _batches(small_cache, "two", training=False, batch_size=TOTAL_WINDOWS)
    inputs, _ = batches[0]
    features = small_cache.features("two")

    for name in ("measurements", "measurement_mask", "criteria", "criteria_mask"):
        np.testing.assert_array_equal(inputs[name], np.asarray(features[name], np.float32)[batches.windows])


def test_batch_signal_is_the_lead_sets_rows_of_the_cache_channels_last(small_cache):
    batches = _batches(small_cache, "three", training=False, batch_size=TOTAL_WINDOWS)
    inputs, _ = batches[0]

    expected = np.asarray(small_cache.signals, np.float32)[:, [0, 1, 7]].transpose(0, 2, 1)
    np.testing.assert_array_equal(inputs["signal"], expected)


def test_last_batch_holds_the_remainder(small_cache):
    batches = _batches(small_cache, training=False, batch_size=4)

    assert len(batches) == -(-TOTAL_WINDOWS // 4)
    assert len(batches[len(batches) - 1][1]) == TOTAL_WINDOWS - 4 * (len(batches) - 1)


def test_training_epoch_takes_one_window_of_each_record(small_cache):
    batches = _batches(small_cache)

    assert sorted(batches.owners.tolist()) == small_cache.usable.tolist()
    starts, stops = small_cache.offsets[batches.owners], small_cache.offsets[batches.owners + 1]
    assert np.all((starts <= batches.windows) & (batches.windows < stops))


def test_training_epochs_have_one_batch_per_batch_of_records(small_cache):
    assert len(_batches(small_cache, batch_size=4)) == -(-len(small_cache.usable) // 4)


def test_training_windows_are_the_same_for_the_same_seed(small_cache):
    first, second = _batches(small_cache, seed=3), _batches(small_cache, seed=3)
    first.on_epoch_end()
    second.on_epoch_end()

    np.testing.assert_array_equal(first.windows, second.windows)
    np.testing.assert_array_equal(first.owners, second.owners)


def test_training_windows_differ_between_epochs(small_cache):
    batches = _batches(small_cache, seed=3)
    before = batches.windows.copy()

    batches[0]
    batches.on_epoch_end()

    assert not np.array_equal(batches.windows, before)


def test_epoch_end_before_any_batch_keeps_the_draw(small_cache):
    batches = _batches(small_cache, seed=3)
    before = batches.windows.copy()

    batches.on_epoch_end()  # Keras calls this once before the first epoch

    np.testing.assert_array_equal(batches.windows, before)
    assert batches.epoch == 0


def test_training_windows_differ_between_seeds(small_cache):
    assert not np.array_equal(_batches(small_cache, seed=3).windows, _batches(small_cache, seed=4).windows)


def test_training_windows_reach_every_window_of_a_long_record_over_epochs(small_cache):
    batches = _batches(small_cache, seed=3)
    long_record = small_cache.record_ids.index("C6_115s_1000Hz")
    seen = set()
    for _ in range(200):
        seen.add(int(batches.windows[batches.owners == long_record][0]))
        batches.start_epoch(batches.epoch + 1)

    assert seen == set(range(small_cache.offsets[long_record], small_cache.offsets[long_record + 1]))


def test_validation_covers_every_window_once_in_order(small_cache):
    batches = _batches(small_cache, training=False)

    np.testing.assert_array_equal(batches.windows, np.arange(TOTAL_WINDOWS))
    np.testing.assert_array_equal(batches.owners, np.repeat(small_cache.usable, np.diff(small_cache.offsets)))


def test_validation_windows_do_not_change_at_epoch_end(small_cache):
    batches = _batches(small_cache, training=False)

    batches.on_epoch_end()

    np.testing.assert_array_equal(batches.windows, np.arange(TOTAL_WINDOWS))


def test_average_by_owner_is_the_mean_of_each_records_windows_in_records_order():
    predictions = np.array([[0.2, 1.0], [0.4, 0.0], [0.9, 0.5], [0.1, 0.3], [0.3, 0.6]])
    owners = np.array([5, 5, 2, 5, 2])

    averaged = average_by_owner(predictions, owners, np.array([2, 5, 8]))

    np.testing.assert_allclose(averaged, [[0.6, 0.55], [0.7 / 3, 1.3 / 3], [0.0, 0.0]])


@pytest.fixture
def hand_cache(tmp_path):
    """A cache folder written by hand: lead set ``x``, two records owning windows 0:2 and 2:3, two
    measurements, and criteria of no consequence here."""
    record_values = np.array([[1.0, 100.0, 4.0], [3.0, 5.0, 9.0], [5.0, 7.0, 2.0]], np.float32)
    record_mask = np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1]], np.uint8)
    beat_values = np.array([[[2.0], [50.0]], [[4.0], [0.0]], [[9.0], [6.0]]], np.float16)
    beat_mask = np.array([[[1], [0]], [[1], [0]], [[0], [0]]], np.uint8)
    measurements = np.array([[2.0, 10.0], [70.0, 20.0], [4.0, -90.0]], np.float32)
    measurement_mask = np.array([[1, 1], [0, 1], [1, 0]], np.uint8)
    for name, array in {
        "record_values": record_values,
        "record_mask": record_mask,
        "beat_values": beat_values,
        "beat_mask": beat_mask,
        "measurements": measurements,
        "measurement_mask": measurement_mask,
        "criteria": np.zeros((3, 26), np.float32),
        "criteria_mask": np.zeros((3, 26), np.uint8),
    }.items():
        np.save(tmp_path / f"x_{name}.npy", array)
    (tmp_path / "meta.json").write_text(json.dumps({"record_ids": ["a", "b"]}))
    return Cache(
        directory=tmp_path,
        record_ids=["a", "b"],
        labels=np.zeros((2, 26), np.uint8),
        demographics=np.zeros((2, 4), np.float32),
        offsets=np.array([0, 2, 3]),
        status=np.ones(2, np.uint8),
        amplitudes_recorded=np.ones(2, bool),
        settings=PipelineSettings(),
    )


def test_feature_statistics_average_only_measured_values(hand_cache):
    mean, variance = feature_statistics(hand_cache, "x", [0, 1])["record_values"]

    np.testing.assert_allclose(mean, [3.0, 6.0, 2.0])
    np.testing.assert_allclose(variance[:2], [8 / 3, 1.0])


def test_feature_statistics_give_variance_one_to_a_feature_measured_once(hand_cache):
    _, variance = feature_statistics(hand_cache, "x", [0, 1])["record_values"]

    assert variance[2] == 1.0


def test_feature_statistics_give_mean_zero_variance_one_to_a_feature_never_measured(hand_cache):
    mean, variance = feature_statistics(hand_cache, "x", [1])["beat_values"]

    np.testing.assert_array_equal(mean, [0.0])
    np.testing.assert_array_equal(variance, [1.0])


def test_feature_statistics_pool_beats_of_all_windows_of_the_records(hand_cache):
    mean, variance = feature_statistics(hand_cache, "x", [0])["beat_values"]

    np.testing.assert_allclose(mean, [3.0])
    np.testing.assert_allclose(variance, [1.0])


def test_feature_statistics_of_the_measurements_average_only_measured_values(hand_cache):
    # Measurement 0 is measured in windows 0 and 2 (2 and 4), measurement 1 in windows 0 and 1 (10 and 20).
    mean, variance = feature_statistics(hand_cache, "x", [0, 1])["measurements"]

    np.testing.assert_allclose(mean, [3.0, 15.0])
    np.testing.assert_allclose(variance, [1.0, 25.0])


def test_feature_statistics_of_a_built_cache_are_finite_for_every_normalised_input(small_cache):
    stats = feature_statistics(small_cache, "twelve", small_cache.usable)

    assert set(stats) == {"beat_values", "record_values", "measurements"}
    for mean, variance in stats.values():
        assert np.all(np.isfinite(mean)) and np.all(np.isfinite(variance)) and np.all(variance >= 0)
    assert np.all(stats["beat_values"][1] > 0) and np.all(stats["record_values"][1] > 0)


def _augmented(cache, seed=7, training=True):
    return WindowBatches(cache, "two", cache.usable, 4, seed, training, gain_jitter=0.1, noise_mv=0.02)


def test_augmentation_changes_the_training_signal_by_gain_and_noise_only(small_cache):
    clean, noisy = _batches(small_cache)[0][0], _augmented(small_cache)[0][0]

    difference = noisy["signal"] - clean["signal"]
    assert 0 < np.abs(difference).mean() < 0.2
    gain = (noisy["signal"] * clean["signal"]).sum(axis=1) / (clean["signal"] ** 2).sum(axis=1)
    assert np.all(np.abs(gain - 1) <= 0.1 + 0.02)


def test_augmentation_leaves_the_features_as_they_are(small_cache):
    clean, noisy = _batches(small_cache)[0][0], _augmented(small_cache)[0][0]

    for name in INPUT_NAMES[1:]:
        np.testing.assert_array_equal(noisy[name], clean[name])


def test_augmentation_is_the_same_for_the_same_seed_epoch_and_batch(small_cache):
    first, second = _augmented(small_cache)[1][0], _augmented(small_cache)[1][0]

    np.testing.assert_array_equal(first["signal"], second["signal"])
    assert not np.array_equal(first["signal"], _augmented(small_cache, seed=8)[1][0]["signal"])


def test_augmentation_is_not_applied_outside_training(small_cache):
    clean, evaluated = (
        _batches(small_cache, training=False)[0][0],
        _augmented(small_cache, training=False)[0][0],
    )

    np.testing.assert_array_equal(evaluated["signal"], clean["signal"])


def test_max_batches_caps_the_batches_of_an_epoch(small_cache):
    batches = WindowBatches(small_cache, "two", small_cache.usable, 2, 7, training=True, max_batches=2)

    assert len(batches) == 2


def test_capped_training_epochs_draw_from_every_record_anew(small_cache):
    batches = WindowBatches(small_cache, "two", small_cache.usable, 2, 7, training=True, max_batches=1)
    first = batches[0][1]
    batches.on_epoch_end()

    assert sorted(batches.owners.tolist()) == small_cache.usable.tolist()
    assert not np.array_equal(batches[0][1], first)


def test_full_batches_leave_out_a_short_last_batch(small_cache):
    batches = WindowBatches(small_cache, "two", small_cache.usable, 4, 7, training=True, full_batches=True)

    assert len(batches) == len(small_cache.usable) // 4 == 1
    assert len(batches[0][1]) == 4


def test_full_batches_keep_one_batch_when_there_are_fewer_records(small_cache):
    batches = WindowBatches(small_cache, "two", small_cache.usable, 8, 7, training=True, full_batches=True)

    assert len(batches) == 1 and len(batches[0][1]) == len(small_cache.usable)


def test_batches_without_the_signal_hold_every_other_input_unchanged(small_cache):
    full, features = (
        _batches(small_cache, training=False)[0][0],
        WindowBatches(small_cache, "two", small_cache.usable, 4, 7, False, signal=False)[0][0],
    )

    assert set(features) == set(INPUT_NAMES) - {"signal"}
    for name in features:
        np.testing.assert_array_equal(features[name], full[name])
