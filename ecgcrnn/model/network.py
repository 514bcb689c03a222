"""The dual-branch convolutional recurrent network (Keras 3), started from the published criteria.

Branch 1 reads the preprocessed 10 s signal: a strided convolution (125 steps per second) and
convolutional blocks (Conv1D, batch normalisation, ReLU, max pooling) shorten 5,000 samples to 19 steps
for a bidirectional GRU. Branch 2 reads the beat feature sequence (values and their mask) through a Conv1D
block (pooled to 24 steps) into a bidirectional GRU; the record-level inputs join after it: the record
features, the global measurements (normalised, with their masks), the criteria's grades, age and sex. Both
branches are concatenated into three fully connected layers.

The logits are the sum of three paths:

- the **criteria** (``criteria_logits``, fixed): each class's criterion grade g
  (:func:`ecgcrnn.pipeline.criteria_inputs`) mapped to the logit :data:`CRITERION_LOGIT` × (g − 0.5), so a
  grade of 1 reads as probability 0.95, 0.5 as 0.5 (the criterion's threshold) and 0 as 0.05; where the
  criterion cannot decide (its grade is NaN) the logit is the class's prior, the log-odds of its prevalence
  in the training records. Before training, the network is the criteria-only classifier.
- the **wide** path (``wide_logits``): a linear function of every record-level input;
- the **deep** path (``deep_logits``): the last fully connected layer's output.

The wide and deep paths start at zero and carry an L2 penalty (``residual_l2``, which training sets to
shrink as the training records grow, :func:`ecgcrnn.training.loop.residual_penalty`), so with few records
the model stays near the criteria and with many it can learn past them. The GRUs are unrolled (their
sequences are short and of fixed length), which makes inference on the CPU about twice as fast. Only
built-in layers are used, so a saved model loads in Keras' safe mode.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ecgcrnn.model.settings import NetworkConfig
from ecgcrnn.pipeline import INPUT_NAMES, PipelineSettings, input_shapes

CRITERION_LOGIT = 2 * math.log(19)
"""The criteria path's slope: a grade of 0.5 ± 0.5 becomes the logit ± ln 19 (probability 0.95 or 0.05)."""
PRIOR_LOGIT_LIMIT = 7.0
"""The prior logits are clipped to ± this (a class absent from the training records)."""


def build_model(
    leads: Sequence[str],
    classes: Sequence[str],
    config: NetworkConfig = NetworkConfig(),
    stats: dict | None = None,
    settings: PipelineSettings = PipelineSettings(),
    prevalence=None,
    residual_l2: float = 0.0,
    unroll: bool = True,
):
    """Build the network for one lead set.

    Parameters
    ----------
    leads : sequence of str
        The lead set, in the order of the ``signal`` input's channels.
    classes : sequence of str
        The output classes (the head has one sigmoid unit per class, the ``criteria`` inputs one per class).
    config : NetworkConfig
        Layer sizes and dropout.
    stats : dict, optional
        ``{name: (mean, variance)}`` for ``beat_values``, ``record_values`` and ``measurements``,
        per-feature arrays for the normalisation layers (the training set's statistics,
        :func:`ecgcrnn.data.batches.feature_statistics`); identity where absent.
    settings : PipelineSettings
        Give the window length and the number of beats.
    prevalence : array_like of float, optional
        Each class's share of the training records: the criteria path's logit where a criterion cannot
        decide (0, probability 0.5, when None).
    residual_l2 : float, default 0
        The L2 penalty on the wide and deep paths' output kernels (toward the criteria's start).
    unroll : bool, default True
        Unroll the GRUs (faster inference on the CPU); training builds them rolled, which traces its
        training step several times faster, and copies the weights into an unrolled network.

    Returns
    -------
    keras.Model
        Inputs named and shaped as :func:`ecgcrnn.pipeline.input_shapes` states them, output ``classes`` of
        shape (batch, len(classes)).
    """
    import keras  # on first use: run_model and the viewer import this module for the criteria path alone
    from keras import layers

    inputs = {
        name: keras.Input(shape, dtype=dtype.name, name=name)
        for name, (shape, dtype) in input_shapes(leads, settings, classes).items()
    }
    signal = _signal_branch(inputs["signal"], config, layers, unroll)
    beats = layers.Concatenate(name="beats")(
        [_normalise("beat_values", inputs["beat_values"], stats, layers), inputs["beat_mask"]]
    )
    beats = _conv_block(beats, config.feature_rnn_units, 3, "beat_block", layers, pool=True)
    beats = layers.Bidirectional(layers.GRU(config.feature_rnn_units, unroll=unroll), name="beat_gru")(beats)
    record = layers.Concatenate(name="record")(
        [
            _normalise("record_values", inputs["record_values"], stats, layers),
            inputs["record_mask"],
            inputs["demographics"],
            _normalise("measurements", inputs["measurements"], stats, layers),
            inputs["measurement_mask"],
            inputs["criteria"],
            inputs["criteria_mask"],
        ]
    )
    features = layers.Concatenate(name="feature_branch")([beats, record])
    x = layers.Concatenate(name="joined")([signal, features])
    for i, units in enumerate(config.dense_units):
        x = layers.Dense(units, activation="relu", name=f"fc_{i + 1}_dense")(x)
        x = layers.Dropout(config.dropout, name=f"fc_{i + 1}_dropout")(x)
    residual = {
        "kernel_initializer": "zeros",
        "bias_initializer": "zeros",
        "kernel_regularizer": keras.regularizers.L2(residual_l2) if residual_l2 > 0 else None,
    }
    deep = layers.Dense(len(classes), name="deep_logits", **residual)(x)
    wide = layers.Dense(len(classes), name="wide_logits", **residual)(record)
    criteria = layers.Concatenate(name="criteria_inputs")([inputs["criteria"], inputs["criteria_mask"]])
    start = layers.Dense(len(classes), trainable=False, name="criteria_logits")
    start_logits = start(criteria)
    start.set_weights(criteria_weights(len(classes), prevalence))
    logits = layers.Add(name="logits")([start_logits, wide, deep])
    outputs = layers.Activation("sigmoid", name="classes", dtype="float32")(logits)  # float32 when mixed
    return keras.Model(inputs=inputs, outputs=outputs, name=f"crnn_{len(leads)}_leads")


def average_networks(networks: Sequence, name: str = "fold_average"):
    """One network whose output is the mean of ``networks``' outputs (the fold networks' probabilities) on
    the same inputs: the model kept when the thresholds are chosen on the fold networks' out-of-fold
    predictions, so that they are applied to the networks they were tuned on. The members are renamed
    ``fold_1``, ``fold_2``, ... (a model's layers need unique names); one network is returned as it is."""
    import keras  # on first use, as in build_model

    if len(networks) == 1:
        return networks[0]
    first = networks[0]
    inputs = {n: keras.Input(first.get_layer(n).output.shape[1:], name=n) for n in INPUT_NAMES}
    outputs = []
    for i, network in enumerate(networks, start=1):
        network.name = f"fold_{i}"
        outputs.append(network(inputs))
    return keras.Model(inputs, keras.layers.Average(name="classes")(outputs), name=name)


def criteria_weights(classes: int, prevalence=None) -> list[np.ndarray]:
    """The criteria path's kernel (2 C, C) and bias (C,): logit_k = :data:`CRITERION_LOGIT` × criteria_k
    + prior_k × (1 − criteria_mask_k), prior_k the clipped log-odds of class k's prevalence."""
    prior = prior_logits(classes, prevalence)
    kernel = np.concatenate([CRITERION_LOGIT * np.eye(classes), -np.diag(prior)]).astype(np.float32)
    return [kernel, prior.astype(np.float32)]


def prior_logits(classes: int, prevalence=None) -> np.ndarray:
    """The log-odds of each class's prevalence, clipped to ± :data:`PRIOR_LOGIT_LIMIT` (0 when None)."""
    if prevalence is None:
        return np.zeros(classes)
    p = np.clip(np.asarray(prevalence, np.float64), 1e-6, 1 - 1e-6)
    return np.clip(np.log(p / (1 - p)), -PRIOR_LOGIT_LIMIT, PRIOR_LOGIT_LIMIT)


def criteria_probabilities(criteria: np.ndarray, known: np.ndarray, prevalence=None) -> np.ndarray:
    """What the criteria path alone gives (windows, C): sigmoid of its logits, computed as the layer does."""
    prior = prior_logits(criteria.shape[-1], prevalence)
    logits = CRITERION_LOGIT * np.asarray(criteria, np.float64) + prior * (1 - np.asarray(known, np.float64))
    return 1 / (1 + np.exp(-logits))


def _signal_branch(x, config: NetworkConfig, layers, unroll: bool):
    first, *rest = config.conv_filters
    x = _conv_block(x, first, 9, "signal_0", layers, pool=False, strides=4)
    for i, filters in enumerate(rest, start=1):
        x = _conv_block(x, filters, 5, f"signal_{i}", layers, pool=True)
    x = layers.MaxPooling1D(2, name="signal_final_pool")(x)
    return layers.Bidirectional(layers.GRU(config.signal_rnn_units, unroll=unroll), name="signal_gru")(x)


def _conv_block(x, filters: int, kernel: int, name: str, layers, pool: bool, strides: int = 1):
    x = layers.Conv1D(filters, kernel, strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    x = layers.ReLU(name=f"{name}_relu")(x)
    return layers.MaxPooling1D(2, name=f"{name}_pool")(x) if pool else x


def _normalise(name: str, x, stats: dict | None, layers):
    if stats is None or name not in stats:
        return x
    mean, variance = (np.asarray(a, np.float32) for a in stats[name])
    return layers.Normalization(mean=mean, variance=np.maximum(variance, 1e-6), name=f"{name}_norm")(x)
