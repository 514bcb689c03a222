"""One lead set's loaded model, and one recording predicted with it.

``run_model`` is two stages: :attr:`LoadedModel.prepare` (numpy only: :func:`ecgcrnn.pipeline.record_inputs`
with the model's leads and settings, picklable, so it can run in another process) and
:meth:`LoadedModel.finish` (one call of the traced network on all windows, mean, thresholds), or
:meth:`LoadedModel.finish_many` for several prepared records in one call.

A class that training left to its criterion (too few positive records to learn a threshold from, or, with
the ``criteria_fallback`` setting, a criterion that beat the network on hospitals held out in training)
takes the criteria path's probability and is stated where it reaches its threshold: 0.5, or higher where a
share limit raised it.
A recording in which no window could be measured (a flat line, a lead off) gets no diagnosis: every label 0
and each class's training prevalence as its probability, with a warning in the log; a recording of noise
alone (:func:`ecgcrnn.pipeline.judged_noise_only`) every label 0 and every probability 0, with the reason.
"""

from __future__ import annotations

import functools
import logging
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

from ecgcrnn.features.measurements import NO_ECG, measurement_names
from ecgcrnn.model.network import criteria_probabilities
from ecgcrnn.pipeline import INPUT_NAMES, PipelineSettings, judged_noise_only, record_inputs

log = logging.getLogger(__name__)
NETWORK, CRITERIA = "network", "criteria"  # what decides a class (model.json's "decided_by")
_MEASURABLE = measurement_names().index("measurable")


@dataclass
class LoadedModel:
    """One lead set's model with everything ``run_model`` needs.

    The network loads in a background thread (importing TensorFlow and tracing take seconds), so that
    recordings can be prepared meanwhile; :meth:`wait_until_loaded`, :attr:`network` and :attr:`predict`
    wait for it, and raise the :class:`ecgcrnn.inference.store.ModelError` of a network that did not load.
    """

    leads: tuple[str, ...]
    classes: tuple[str, ...]
    thresholds: np.ndarray
    settings: PipelineSettings  # those the model was trained with
    loading: Future  # of (keras.Model, tf.function from the inputs dict to probabilities (B, C))
    by_criteria: np.ndarray  # (C,) bool: the classes decided by their criterion
    prevalence: np.ndarray  # (C,) each class's share of the training records

    def wait_until_loaded(self) -> LoadedModel:
        """This model, once its network has loaded: a caller that runs many recordings waits here, so that a
        network that cannot be loaded fails once rather than at every recording."""
        self.loading.result()
        return self

    @property
    def network(self):
        return self.loading.result()[0]

    @property
    def predict(self):
        return self.loading.result()[1]

    @property
    def prepare(self) -> functools.partial:
        """``prepare(header, recording) -> inputs``: :func:`ecgcrnn.pipeline.record_inputs` with this model's
        leads and settings (picklable)."""
        return functools.partial(record_inputs, self.leads, self.settings)

    def finish(self, inputs: dict, name: str = "") -> tuple[list[str], np.ndarray, np.ndarray]:
        """Classes, 0/1 labels and probabilities (C,) from one record's inputs: the windows' mean.
        ``name`` (the record's) is for the log."""
        return self.finish_many([inputs], [name])[0]

    def finish_many(self, prepared: list[dict], names=None) -> list[tuple[list[str], np.ndarray, np.ndarray]]:
        """:meth:`finish` of several records' inputs, with one call of the network on all their windows."""
        batch = {name: np.concatenate([inputs[name] for inputs in prepared]) for name in INPUT_NAMES}
        ends = np.cumsum([len(inputs["signal"]) for inputs in prepared])[:-1]
        windows = np.split(self.predict(batch).numpy(), ends)
        results = []
        for inputs, part, name in zip(prepared, windows, names or [""] * len(prepared), strict=True):
            probabilities = part.mean(axis=0)
            if self.by_criteria.any():
                start = criteria_probabilities(inputs["criteria"], inputs["criteria_mask"], self.prevalence)
                probabilities = np.where(self.by_criteria, start.mean(axis=0), probabilities)
            labels = (probabilities >= self.thresholds).astype(np.int64)
            if judged_noise_only(inputs):
                log.warning("%s: %s: no diagnosis", name or "a recording", NO_ECG)
                labels, probabilities = np.zeros_like(labels), np.zeros(len(self.classes))
            elif not (inputs["measurements"][:, _MEASURABLE] == 1).any():
                log.warning(
                    "%s: nothing in the recording could be measured (flat, noise or no beats): no diagnosis",
                    name or "a recording",
                )
                labels, probabilities = np.zeros_like(labels), self.prevalence
            results.append((list(self.classes), labels, np.asarray(probabilities, np.float32)))
        return results


def run_model(model: LoadedModel, header, recording) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Classes, 0/1 labels and probabilities for one recording (leads in file order, ADC units).

    The recording goes through :func:`ecgcrnn.pipeline.prepare_record` with the model's leads and the
    settings it was trained with; a recording longer than one window is scored over all the windows that
    cover it and their probabilities averaged; a shorter one is zero-padded.
    """
    return model.finish(model.prepare(header, recording), record_name(header))


def record_name(header) -> str:
    """The record's name, the first word of the header's text (or a parsed header's), for the log."""
    if hasattr(header, "record_name"):
        return header.record_name
    words = str(header).split(maxsplit=1)
    return words[0] if words else "a recording"


def prediction_function(network):
    """A tf.function over the network, traced once for any number of windows (no retracing)."""
    import tensorflow as tf

    signature = {
        name: tf.TensorSpec((None, *network.get_layer(name).output.shape[1:]), tf.float32, name=name)
        for name in INPUT_NAMES
    }
    return tf.function(lambda inputs: network(inputs, training=False), input_signature=[signature])


def sample_inputs(network) -> dict:
    """Zeros of batch size 1 for every input (the shapes the network reads)."""
    shapes = {name: network.get_layer(name).output.shape[1:] for name in INPUT_NAMES}
    return {name: np.zeros((1, *shape), np.float32) for name, shape in shapes.items()}
