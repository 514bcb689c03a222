"""Losses: the weighted binary cross-entropy by hand, the positive weights, and serialisation."""

import math

import keras
import numpy as np
import pytest

from ecgcrnn.model.losses import (
    MAX_POSITIVE_WEIGHT,
    UNKNOWN,
    WeightedBinaryCrossentropy,
    make_loss,
    positive_weights,
)

Y_TRUE = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
Y_PRED = np.array([[0.8, 0.3], [0.4, 0.9]], dtype=np.float32)


def test_weighted_bce_per_sample_equals_hand_computation():
    loss = WeightedBinaryCrossentropy([2.0, 1.0], reduction=None)

    first = -(2 * math.log(0.8) + math.log(1 - 0.3)) / 2
    second = -(math.log(1 - 0.4) + 1 * math.log(0.9)) / 2
    np.testing.assert_allclose(np.asarray(loss(Y_TRUE, Y_PRED)), [first, second], rtol=1e-5)


def test_weighted_bce_mean_over_batch_equals_hand_computation():
    loss = WeightedBinaryCrossentropy([2.0, 1.0])

    expected = -(2 * math.log(0.8) + math.log(0.7) + math.log(0.6) + math.log(0.9)) / 4
    assert float(loss(Y_TRUE, Y_PRED)) == pytest.approx(expected, rel=1e-5)


def test_weighted_bce_with_unit_weights_is_keras_binary_crossentropy():
    ours = WeightedBinaryCrossentropy([1.0, 1.0])
    theirs = keras.losses.BinaryCrossentropy()

    assert float(ours(Y_TRUE, Y_PRED)) == pytest.approx(float(theirs(Y_TRUE, Y_PRED)), rel=1e-5)


def test_weighted_bce_is_finite_for_predictions_of_exactly_zero_and_one():
    loss = WeightedBinaryCrossentropy([3.0, 3.0])

    value = float(loss(Y_TRUE, np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)))

    assert math.isfinite(value) and value > 0


def test_positive_weights_are_square_root_of_negative_to_positive_ratio():
    np.testing.assert_allclose(positive_weights([0.2, 0.5]), [2.0, 1.0])


def test_positive_weights_are_clipped_to_one_and_the_maximum():
    weights = positive_weights([0.9, 0.001])

    np.testing.assert_allclose(weights, [1.0, MAX_POSITIVE_WEIGHT])


def test_positive_weight_of_an_absent_class_is_one():
    np.testing.assert_array_equal(positive_weights([0.0, 0.0]), [1.0, 1.0])


def test_weighted_bce_serialises_and_deserialises_with_its_weights():
    loss = WeightedBinaryCrossentropy([2.0, 1.5, 1.0])

    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))

    assert isinstance(restored, WeightedBinaryCrossentropy)
    assert restored.positive_weights == [2.0, 1.5, 1.0]
    y_true, y_pred = np.array([[1.0, 0.0, 1.0]]), np.array([[0.7, 0.2, 0.4]])
    assert float(restored(y_true, y_pred)) == pytest.approx(float(loss(y_true, y_pred)))


def test_compiled_model_with_weighted_bce_survives_a_save_and_load(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="sigmoid")(inputs))
    model.compile("adam", WeightedBinaryCrossentropy([4.0, 1.0]))
    model.save(tmp_path / "m.keras")

    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)

    assert isinstance(restored.loss, WeightedBinaryCrossentropy)
    assert restored.loss.positive_weights == [4.0, 1.0]


def test_make_loss_gives_weighted_bce_with_prevalence_weights():
    loss = make_loss("weighted_bce", np.array([0.2, 0.0]))

    assert isinstance(loss, WeightedBinaryCrossentropy)
    assert loss.positive_weights == [2.0, 1.0]


def test_focal_loss_equals_keras_binary_focal_crossentropy():
    y_true = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]], np.float32)
    y_pred = np.array([[0.9, 0.2, 0.3], [0.6, 0.01, 0.99]], np.float32)

    ours = make_loss("focal", np.array([0.5, 0.5, 0.5]))(y_true, y_pred)
    reference = keras.losses.BinaryFocalCrossentropy(gamma=2.0)(y_true, y_pred)

    assert float(ours) == pytest.approx(float(reference), rel=1e-5)


def test_unknown_targets_add_nothing_to_the_loss():
    loss = WeightedBinaryCrossentropy([3.0, 3.0])
    y_pred = np.array([[0.9, 0.2]], np.float32)

    with_unknown = float(loss(np.array([[1.0, UNKNOWN]], np.float32), y_pred))
    first_alone = float(WeightedBinaryCrossentropy([3.0])(np.array([[1.0]], np.float32), y_pred[:, :1]))

    assert with_unknown == pytest.approx(first_alone / 2, rel=1e-6)  # averaged over both classes
    assert float(loss(np.array([[UNKNOWN, UNKNOWN]], np.float32), y_pred)) == 0.0


def test_make_loss_rejects_an_unknown_name():
    with pytest.raises(ValueError, match="hinge"):
        make_loss("hinge", np.array([0.5]))
