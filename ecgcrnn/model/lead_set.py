"""One lead set's trained model: its network, thresholds and rules, and the settings of its inputs.

:class:`LeadSetModel` is what training makes (:func:`ecgcrnn.training.loop.fit_with_thresholds`), what a
model folder holds (:meth:`LeadSetModel.save`, :meth:`LeadSetModel.load`, :mod:`ecgcrnn.model.folder`) and
what ``run_model`` runs: :attr:`LeadSetModel.prepare` (numpy only: :func:`ecgcrnn.pipeline.record_inputs`
with the model's leads and settings, picklable, so that it can run in another process), then
:meth:`LeadSetModel.predict_proba` and :meth:`LeadSetModel.predict` (one call of the traced network on all
the windows of one or more records, each record's mean, thresholds).

A class that training left to its criterion (too few positive records to learn a threshold from, or, with
the ``criteria_fallback`` setting, a criterion that beat the network on hospitals held out in training) takes
the criteria path's probability (:func:`decide`, the one place of that rule) and is stated where it reaches
its threshold: 0.5, or higher where a share limit raised it.
A recording in which no window could be measured (a flat line, a lead off) gets no diagnosis: every label 0
and each class's training prevalence as its probability, with a warning in the log; a recording of noise
alone (:func:`ecgcrnn.pipeline.judged_noise_only`) every label 0 and every probability 0, with the reason.
"""

from __future__ import annotations

import functools
import logging
import zipfile
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ecgcrnn.domain import LEAD_SETS, default_class_table, lead_set_name, sort_leads
from ecgcrnn.features.measurements import NO_ECG, measurement_names
from ecgcrnn.model.folder import (
    CRITERIA,
    META_FILE,
    MODEL_FILE,
    NETWORK,
    RETRAIN,
    ModelError,
    detail,
    read_folder,
    write_folder,
)
from ecgcrnn.model.network import criteria_probabilities
from ecgcrnn.pipeline import (
    INPUT_NAMES,
    PipelineSettings,
    code_digest,
    input_shapes,
    judged_noise_only,
    record_inputs,
)

log = logging.getLogger(__name__)
_MEASURABLE = measurement_names().index("measurable")

__all__ = ["CRITERIA", "NETWORK", "LeadSetModel", "ModelError", "decide", "decided_by_criteria"]


@dataclass(frozen=True, eq=False, init=False)
class LeadSetModel:
    """One lead set's trained model, as an estimator: it predicts, saves and loads, and keeps every setting
    that shaped its inputs.

    Parameters
    ----------
    lead_set : str
        A key of :data:`ecgcrnn.domain.LEAD_SETS`.
    network : keras.Model
        Inputs named as :data:`ecgcrnn.pipeline.INPUT_NAMES`, one probability per class. :meth:`load` gives
        instead a :class:`~concurrent.futures.Future` of the network and its traced function, which load in
        a background thread (importing TensorFlow and tracing take seconds) while recordings are prepared.
    thresholds : array_like of float, shape (C,)
        Each class is stated where its probability reaches its threshold.
    settings : PipelineSettings
        Those of the pipeline that made the network's inputs, and that ``run_model`` prepares them with.
    decided_by : sequence of str, shape (C,), optional
        Per class :data:`NETWORK` (its network's probability) or :data:`CRITERIA` (its criteria path's, see
        :func:`decide`); the network decides every class when None.
    prevalence : array_like of float, shape (C,), optional
        Each class's share of the training records (the criteria path's prior where a criterion cannot
        decide); 0 when None.

    Attributes
    ----------
    leads : tuple of str
        The lead set's leads, in the order of the ``signal`` input's channels.
    classes : tuple of str
        The scored classes in weights.csv's order (:func:`ecgcrnn.domain.default_class_table`).
    """

    lead_set: str
    leads: tuple[str, ...]
    classes: tuple[str, ...]
    thresholds: np.ndarray
    decided_by: tuple[str, ...]
    prevalence: np.ndarray
    settings: PipelineSettings
    _loading: Future = field(repr=False)  # of (keras.Model, its traced function or None)

    def __init__(self, lead_set: str, network, *, thresholds, settings, decided_by=None, prevalence=None):
        classes = default_class_table().names
        if not isinstance(network, Future):
            network = _done((network, None))
        values = {
            "lead_set": lead_set,
            "leads": LEAD_SETS[lead_set],
            "classes": tuple(classes),
            "thresholds": _frozen(thresholds),
            "decided_by": tuple(decided_by or (NETWORK,) * len(classes)),
            "prevalence": _frozen(np.zeros(len(classes)) if prevalence is None else prevalence),
            "settings": settings,
            "_loading": network,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def load(cls, model_directory, leads) -> LeadSetModel:
        """The model of the lead set made of ``leads`` (any order or case), from its folder in
        ``model_directory``, with the pipeline settings it was trained with.

        Raises
        ------
        ModelError
            When no lead set is made of these leads, its folder is missing, or a file fails its checks
            (:func:`ecgcrnn.model.folder.read_folder`); :meth:`wait_until_loaded` (and :attr:`network`) when
            Keras cannot load the network in safe mode, or it is not one for the leads, window and classes
            of model.json.
        """
        name = lead_set_name(leads)
        if name is None:
            raise ModelError(
                f"no model for leads {', '.join(sort_leads(leads))}: models exist for the lead sets "
                + "; ".join(", ".join(members) for members in LEAD_SETS.values())
                + ": give recordings of one of these lead sets (extract_leads_wfdb.py makes them)"
            )
        folder = Path(model_directory) / name
        meta = read_folder(folder)
        try:
            settings = PipelineSettings.from_dict(meta["settings"])
        except (AttributeError, TypeError, ValueError) as error:
            raise ModelError(
                f"{folder / META_FILE}: settings this version cannot use ({detail(error)}): {RETRAIN}"
            ) from None
        if meta.get("pipeline_code") != code_digest():
            log.warning(
                "%s: trained with another version of the preprocessing, delineation or feature code; its "
                "inputs may now be computed differently: %s",
                folder,
                RETRAIN,
            )
        signal = input_shapes(meta["leads"], settings, meta["classes"])["signal"]
        reads = (*signal.shape, len(meta["classes"]))
        loading = ThreadPoolExecutor(1, thread_name_prefix=f"load-{name}").submit(
            _load_network, folder / MODEL_FILE, reads
        )
        return cls(
            name,
            loading,
            thresholds=np.asarray(meta["thresholds"], dtype=np.float32),
            settings=settings,
            decided_by=meta["decided_by"],
            prevalence=np.asarray(meta["prevalence"], dtype=np.float32),
        )

    def save(self, model_directory, extra=None) -> Path:
        """Write the model folder ``<model_directory>/<lead set>`` atomically; returns its path. ``extra``
        holds more keys for model.json, for people (a training's history, its metric), which loading
        ignores (:func:`ecgcrnn.model.folder.write_folder`, which raises a :class:`ModelError` before
        writing anything for a model that loading would refuse)."""
        content = {
            "lead_set": self.lead_set,
            "leads": list(self.leads),
            "classes": list(self.classes),
            "thresholds": [float(t) for t in self.thresholds],
            "decided_by": list(self.decided_by),
            "prevalence": [float(p) for p in self.prevalence],
            "settings": self.settings.to_dict(),
        }
        return write_folder(model_directory, content, extra or {}, self.network.save)

    def wait_until_loaded(self) -> LeadSetModel:
        """This model, once its network has loaded: a caller that runs many recordings waits here, so that a
        network that cannot be loaded fails once rather than at every recording."""
        self._loading.result()
        return self

    @property
    def network(self):
        """The Keras network (waits for it to load)."""
        return self._loading.result()[0]

    @functools.cached_property
    def window_function(self):
        """A tf.function from a batch of windows' inputs (dict of arrays (B, ...)) to their probabilities
        (B, C), traced once for any number of windows (waits for the network to load)."""
        network, function = self._loading.result()
        return function or prediction_function(network)

    @property
    def by_criteria(self) -> np.ndarray:
        """(C,) bool: the classes decided by their criterion."""
        return decided_by_criteria(self.decided_by)

    @property
    def prepare(self) -> functools.partial:
        """``prepare(header, recording) -> inputs``: :func:`ecgcrnn.pipeline.record_inputs` with this model's
        leads and settings (picklable)."""
        return functools.partial(record_inputs, self.leads, self.settings)

    def predict_proba(self, prepared: Sequence[dict], names=None) -> np.ndarray:
        """Probabilities (records, C), float32, of records' inputs (each a dict of (windows, ...) arrays, as
        :attr:`prepare` gives them): the mean over each record's windows, a class decided by its criterion
        taking its criteria path's mean (:func:`decide`), and no diagnosis for a recording of noise alone
        (0) or with nothing measurable (the prevalence), logged naming ``names`` (the records')."""
        return np.stack([probabilities for _, probabilities in self._outputs(prepared, names)])

    def predict(self, prepared: Sequence[dict], names=None) -> np.ndarray:
        """0/1 labels (records, C): each class where :meth:`predict_proba` reaches its threshold, none for a
        recording given no diagnosis."""
        return np.stack([labels for labels, _ in self._outputs(prepared, names)])

    def finish(self, inputs: dict, name: str = "") -> tuple[list[str], np.ndarray, np.ndarray]:
        """Classes, 0/1 labels and probabilities (C,) from one record's inputs. ``name`` (the record's) is
        for the log."""
        return self.finish_many([inputs], [name])[0]

    def finish_many(self, prepared: list[dict], names=None) -> list[tuple[list[str], np.ndarray, np.ndarray]]:
        """:meth:`finish` of several records' inputs, with one call of the network on all their windows."""
        return [(list(self.classes), *outputs) for outputs in self._outputs(prepared, names)]

    def _outputs(self, prepared: Sequence[dict], names=None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per record, labels (C,) int64 and probabilities (C,) float32."""
        batch = {
            name: np.concatenate([inputs[name] for inputs in prepared], dtype=spec.dtype)
            for name, spec in input_shapes(self.leads, self.settings, self.classes).items()
        }
        ends = np.cumsum([len(inputs["signal"]) for inputs in prepared])[:-1]
        windows = np.split(self.window_function(batch).numpy(), ends)
        results, by_criteria = [], self.by_criteria
        for inputs, part, name in zip(prepared, windows, names or [""] * len(prepared), strict=True):
            criteria = criteria_probabilities(inputs["criteria"], inputs["criteria_mask"], self.prevalence)
            probabilities = decide(part.mean(axis=0), criteria.mean(axis=0), by_criteria)
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
            results.append((labels, np.asarray(probabilities, np.float32)))
        return results


def decide(network: np.ndarray, criteria: np.ndarray, by_criteria) -> np.ndarray:
    """Probabilities (..., C): a class decided by its criterion (``by_criteria`` (C,) True, see
    :func:`decided_by_criteria`) takes the criteria path's probability from ``criteria`` (..., C), every
    other class the network's from ``network`` (..., C). Training chooses the thresholds on what this gives,
    and a model predicts with it."""
    return np.where(np.asarray(by_criteria, dtype=bool), criteria, network)


def decided_by_criteria(decided_by) -> np.ndarray:
    """(C,) bool: the classes whose ``decided_by`` entry is :data:`CRITERIA`."""
    return np.array([rule == CRITERIA for rule in decided_by], dtype=bool)


def prediction_function(network):
    """A tf.function over the network, traced once for any number of windows (no retracing)."""
    import tensorflow as tf  # on first use: loading a model starts at once, TensorFlow imports meanwhile

    signature = {
        name: tf.TensorSpec((None, *network.get_layer(name).output.shape[1:]), tf.float32, name=name)
        for name in INPUT_NAMES
    }
    return tf.function(lambda inputs: network(inputs, training=False), input_signature=[signature])


def sample_inputs(network) -> dict:
    """Zeros of batch size 1 for every input (the shapes the network reads)."""
    shapes = {name: network.get_layer(name).output.shape[1:] for name in INPUT_NAMES}
    return {name: np.zeros((1, *shape), np.float32) for name, shape in shapes.items()}


def _load_network(path: Path, expected: tuple[int, int, int]):
    """The Keras network (safe mode) and its prediction function, traced here once; a :class:`ModelError`
    when it cannot be loaded or is not a network of ``expected`` (window samples, leads, classes)."""
    import keras  # in the loading thread: TensorFlow imports while the first recordings are prepared

    try:
        if not zipfile.is_zipfile(path):
            raise ValueError("not a zip archive, as a .keras file is")
        network = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:
        raise ModelError(
            f"{path}: cannot be loaded in Keras' safe mode ({detail(error)}): {RETRAIN}"
        ) from None
    try:
        reads = (*network.get_layer("signal").output.shape[1:], network.output.shape[-1])
    except Exception as error:
        raise ModelError(f"{path}: not a network of this package ({detail(error)}): {RETRAIN}") from None
    if tuple(reads) != expected:
        raise ModelError(
            f"{path}: its network reads windows of {reads[0]} samples of {reads[1]} leads and gives "
            f"{reads[2]} classes, {META_FILE} expects {expected[0]} samples of {expected[1]} leads and "
            f"{expected[2]} classes: {RETRAIN}"
        )
    try:
        predict = prediction_function(network)
        predict(sample_inputs(network))
    except Exception as error:
        raise ModelError(f"{path}: not a network of this package ({detail(error)}): {RETRAIN}") from None
    return network, predict


def _done(value) -> Future:
    """A future that already holds ``value``."""
    future: Future = Future()
    future.set_result(value)
    return future


def _frozen(values) -> np.ndarray:
    """A read-only copy of ``values`` as an array (its dtype kept)."""
    array = np.array(values)
    array.setflags(write=False)
    return array
