"""The dual-branch convolutional recurrent network (Keras 3).

Branch 1 reads the preprocessed 10 s signal: a strided convolution (125 steps per second) and
convolutional blocks (Conv1D, batch normalisation, ReLU, max pooling) shorten 5,000 samples to 19 steps
for a bidirectional GRU. Branch 2 reads the beat feature sequence (values and their mask) through a Conv1D
block (pooled to 24 steps) into a bidirectional GRU; the record-level features, age and sex join after it.
Both branches are concatenated into three fully connected layers and a sigmoid head with one output per
scored class. A linear "wide" path from the record-level inputs (normalised features, mask, age and sex)
adds its logits to the head's, so the network can do at least what a logistic regression on those features
does (training starts it there, see :func:`ecgcrnn.training.loop.warm_start_wide_path`), which matters when
training data are few. The GRUs are unrolled (their sequences are short and of fixed length), which makes
inference on the CPU about twice as fast. Only built-in layers are used, so a saved model loads in Keras'
safe mode.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ecgcrnn.features.beats import beat_feature_names, record_feature_names
from ecgcrnn.model.settings import NetworkConfig
from ecgcrnn.pipeline import DEMOGRAPHICS, PipelineSettings


def build_model(
    leads: Sequence[str],
    classes: Sequence[str],
    config: NetworkConfig = NetworkConfig(),
    stats: dict | None = None,
    settings: PipelineSettings = PipelineSettings(),
):
    """Build the network for one lead set.

    Parameters
    ----------
    leads : sequence of str
        The lead set, in the order of the ``signal`` input's channels.
    classes : sequence of str
        The output classes (the head has one sigmoid unit per class).
    config : NetworkConfig
        Layer sizes and dropout.
    stats : dict, optional
        ``{"beat_values": (mean, variance), "record_values": (mean, variance)}``, per-feature arrays for the
        normalisation layers (the training set's statistics); identity when None.
    settings : PipelineSettings
        Give the window length and the number of beats.

    Returns
    -------
    keras.Model
        Inputs named as :data:`ecgcrnn.pipeline.INPUT_NAMES`, output ``classes`` of shape (batch,
        len(classes)).
    """
    import keras
    from keras import layers

    n_beat, max_beats = len(beat_feature_names(leads)), settings.features.max_beats
    n_record = len(record_feature_names(leads))
    inputs = {
        "signal": keras.Input((settings.preprocess.window_samples, len(leads)), name="signal"),
        "beat_values": keras.Input((max_beats, n_beat), name="beat_values"),
        "beat_mask": keras.Input((max_beats, n_beat), name="beat_mask"),
        "record_values": keras.Input((n_record,), name="record_values"),
        "record_mask": keras.Input((n_record,), name="record_mask"),
        "demographics": keras.Input((len(DEMOGRAPHICS),), name="demographics"),
    }
    signal = _signal_branch(inputs["signal"], config, layers)
    beats = layers.Concatenate(name="beats")(
        [_normalise("beat_values", inputs["beat_values"], stats, layers), inputs["beat_mask"]]
    )
    beats = _conv_block(beats, config.feature_rnn_units, 3, "beat_block", layers, pool=True)
    beats = layers.Bidirectional(layers.GRU(config.feature_rnn_units, unroll=True), name="beat_gru")(beats)
    record = layers.Concatenate(name="record")(
        [
            _normalise("record_values", inputs["record_values"], stats, layers),
            inputs["record_mask"],
            inputs["demographics"],
        ]
    )
    features = layers.Concatenate(name="feature_branch")([beats, record])
    x = layers.Concatenate(name="joined")([signal, features])
    for i, units in enumerate(config.dense_units):
        x = layers.Dense(units, activation="relu", name=f"fc_{i + 1}_dense")(x)
        x = layers.Dropout(config.dropout, name=f"fc_{i + 1}_dropout")(x)
    deep = layers.Dense(len(classes), name="deep_logits")(x)
    wide = layers.Dense(len(classes), name="wide_logits")(record)
    logits = layers.Add(name="logits")([deep, wide])
    outputs = layers.Activation("sigmoid", name="classes", dtype="float32")(logits)  # float32 when mixed
    return keras.Model(inputs=inputs, outputs=outputs, name=f"crnn_{len(leads)}_leads")


def _signal_branch(x, config: NetworkConfig, layers):
    first, *rest = config.conv_filters
    x = _conv_block(x, first, 9, "signal_0", layers, pool=False, strides=4)
    for i, filters in enumerate(rest, start=1):
        x = _conv_block(x, filters, 5, f"signal_{i}", layers, pool=True)
    x = layers.MaxPooling1D(2, name="signal_final_pool")(x)
    return layers.Bidirectional(layers.GRU(config.signal_rnn_units, unroll=True), name="signal_gru")(x)


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
