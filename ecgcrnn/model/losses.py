"""Losses for the heavy class imbalance of the Challenge data (Keras 3, serialisable for checkpoints)."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

MAX_POSITIVE_WEIGHT = 10.0
UNKNOWN = -1.0  # the target of a label that is no evidence either way


@keras.saving.register_keras_serializable(package="ecgcrnn")
class WeightedBinaryCrossentropy(keras.losses.Loss):
    """Binary cross-entropy with each class's positive term weighted, averaged over classes; a target
    below 0 marks an unknown label (:data:`UNKNOWN`), which adds nothing to the loss.

    Parameters
    ----------
    positive_weights : sequence of float
        One weight per class for the positive term (the negative term has weight 1).
    gamma : float, default 0.0
        The focal loss's focusing parameter (Lin et al. 2017): each term is multiplied by (1 - p_t)^gamma,
        p_t the probability given to the target; 0 is plain cross-entropy.
    """

    def __init__(self, positive_weights, gamma=0.0, name="weighted_binary_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.positive_weights = [float(w) for w in positive_weights]
        self.gamma = float(gamma)

    def call(self, y_true, y_pred):
        y_pred = ops.clip(y_pred, keras.backend.epsilon(), 1 - keras.backend.epsilon())
        y_true = ops.cast(y_true, y_pred.dtype)
        known = ops.cast(ops.greater_equal(y_true, 0), y_pred.dtype)
        y_true = ops.maximum(y_true, 0)
        weights = ops.convert_to_tensor(self.positive_weights, dtype=y_pred.dtype)
        positive, negative = -weights * y_true * ops.log(y_pred), -(1 - y_true) * ops.log(1 - y_pred)
        if self.gamma:
            positive *= ops.power(1 - y_pred, self.gamma)
            negative *= ops.power(y_pred, self.gamma)
        return ops.mean(known * (positive + negative), axis=-1)

    def get_config(self):
        return {**super().get_config(), "positive_weights": self.positive_weights, "gamma": self.gamma}


def positive_weights(prevalence: np.ndarray) -> np.ndarray:
    """sqrt(negatives / positives) per class, between 1 and MAX_POSITIVE_WEIGHT (1 for an absent class)."""
    prevalence = np.asarray(prevalence, dtype=np.float64)
    ratio = np.divide(1 - prevalence, prevalence, out=np.ones_like(prevalence), where=prevalence > 0)
    return np.clip(np.sqrt(ratio), 1.0, MAX_POSITIVE_WEIGHT)


def make_loss(name: str, prevalence: np.ndarray) -> keras.losses.Loss:
    """``"weighted_bce"`` or ``"focal"`` (binary focal cross-entropy, gamma 2) for the training prevalence."""
    if name == "weighted_bce":
        return WeightedBinaryCrossentropy(positive_weights(prevalence))
    if name == "focal":
        return WeightedBinaryCrossentropy(np.ones(len(prevalence)), gamma=2.0, name="focal_crossentropy")
    raise ValueError(f"loss {name!r}: expected 'weighted_bce' or 'focal'")
