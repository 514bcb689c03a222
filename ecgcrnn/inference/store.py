"""Saving, loading and running one lead set's trained model.

A model folder ``<model_directory>/<lead set>/`` holds ``model.keras`` (Keras' zip format: architecture as
JSON and weights, no pickle, loaded in safe mode) and ``model.json`` (classes, leads, thresholds,
preprocessing settings, versions, and the SHA-256 of ``model.keras``). Both are written into a temporary
folder that is renamed into place, so a crash never leaves a half-written model that loads; a tampered or
truncated file fails its checksum with a clear error. Training adds ``learning_curves.png`` beside them
(for people; loading ignores it).

``run_model`` is two stages: :func:`prepare_inputs` (numpy only: preprocessing, windows, delineation,
features; picklable through :attr:`LoadedModel.prepare`, so it can run in another process) and
:meth:`LoadedModel.finish` (one call of the traced network on all windows, mean, thresholds), or
:meth:`LoadedModel.finish_many` for several prepared records in one call.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecgcrnn import __version__
from ecgcrnn.domain import LEAD_SETS, lead_set_name, sort_leads
from ecgcrnn.features.beats import extract_features
from ecgcrnn.io.records import get_age, get_sex, parse_header
from ecgcrnn.pipeline import INPUT_NAMES, assemble_inputs, demographics
from ecgcrnn.signal.preprocessing import PreprocessConfig, preprocess, windows

MODEL_FILE, META_FILE = "model.keras", "model.json"
FORMAT_VERSION = 1
_RETRAIN = "train this lead set again with train_model.py"


class ModelError(ValueError):
    """A model folder that is missing, incomplete, tampered with or for other leads."""


@dataclass
class LoadedModel:
    """One lead set's model with everything ``run_model`` needs.

    The network loads in a background thread (importing TensorFlow and tracing take seconds), so that
    recordings can be prepared meanwhile; :attr:`network` and :attr:`predict` wait for it.
    """

    leads: tuple[str, ...]
    classes: tuple[str, ...]
    thresholds: np.ndarray
    preprocess_config: PreprocessConfig
    loading: Future  # of (keras.Model, tf.function from the inputs dict to probabilities (B, C))

    @property
    def network(self):
        return self.loading.result()[0]

    @property
    def predict(self):
        return self.loading.result()[1]

    @property
    def prepare(self) -> functools.partial:
        """``prepare(header, recording) -> inputs``: :func:`prepare_inputs` for this model (picklable)."""
        return functools.partial(prepare_inputs, self.leads, self.preprocess_config)

    def finish(self, inputs: dict) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Classes, 0/1 labels and probabilities (C,) from one record's inputs: the windows' mean."""
        return self.finish_many([inputs])[0]

    def finish_many(self, prepared: list[dict]) -> list[tuple[list[str], np.ndarray, np.ndarray]]:
        """:meth:`finish` of several records' inputs, with one call of the network on all their windows."""
        batch = {name: np.concatenate([inputs[name] for inputs in prepared]) for name in INPUT_NAMES}
        ends = np.cumsum([len(inputs["signal"]) for inputs in prepared])[:-1]
        windows = np.split(self.predict(batch).numpy(), ends)
        results = []
        for probabilities in (part.mean(axis=0) for part in windows):
            labels = (probabilities >= self.thresholds).astype(np.int64)
            results.append((list(self.classes), labels, probabilities.astype(np.float32)))
        return results


def save_model(model_directory, lead_set: str, network, thresholds, classes, preprocess_config, extra=None):
    """Write one lead set's model folder atomically; returns its path.

    The files go into a hidden temporary folder beside ``<model_directory>/<lead_set>``, which then takes
    its place. When anything fails the temporary folder is removed, an earlier model stays as it was, and
    an :class:`OSError` names the model folder rather than the temporary one.
    """
    import keras
    import tensorflow as tf

    root = Path(model_directory)
    target, temporary = root / lead_set, root / f".{lead_set}.tmp{os.getpid()}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(temporary, ignore_errors=True)
        temporary.mkdir()
        network.save(temporary / MODEL_FILE)
        meta = {
            "format": FORMAT_VERSION,
            "lead_set": lead_set,
            "leads": list(LEAD_SETS[lead_set]),
            "classes": list(classes),
            "thresholds": [float(t) for t in thresholds],
            "preprocess": dataclasses.asdict(preprocess_config),
            "sha256": _sha256(temporary / MODEL_FILE),
            "versions": {"ecgcrnn": __version__, "keras": keras.__version__, "tensorflow": tf.__version__},
            **(extra or {}),
        }
        (temporary / META_FILE).write_text(json.dumps(meta, indent=1))
        _replace_folder(temporary, target, root / f".{lead_set}.old{os.getpid()}")
    except OSError as error:
        if error.errno is None:
            raise
        raise OSError(error.errno, error.strerror, str(target)) from error
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return target


def load_model(model_directory, leads) -> LoadedModel:
    """Load the model of the lead set made of ``leads`` (any order or case).

    Raises
    ------
    ModelError
        When no lead set is made of these leads, its folder is missing, or a file fails its checks.
    """
    name = lead_set_name(leads)
    if name is None:
        raise ModelError(
            f"no model for leads {', '.join(sort_leads(leads))}: models exist for the lead sets "
            + "; ".join(", ".join(members) for members in LEAD_SETS.values())
            + ": give recordings of one of these lead sets (extract_leads_wfdb.py makes them)"
        )
    folder = Path(model_directory) / name
    try:
        meta = _read_meta(folder)
        digest = _sha256(folder / MODEL_FILE)
    except OSError as error:  # found but not readable
        where = error.filename or folder
        raise ModelError(
            f"{where}: cannot be read ({error.strerror or error}): fix its permissions"
        ) from None
    if digest != meta["sha256"]:
        raise ModelError(
            f"{folder / MODEL_FILE}: checksum differs from {META_FILE}; the file is damaged: {_RETRAIN}"
        )
    loading = ThreadPoolExecutor(1, thread_name_prefix=f"load-{name}").submit(
        _load_network, folder / MODEL_FILE
    )
    return LoadedModel(
        leads=tuple(meta["leads"]),
        classes=tuple(meta["classes"]),
        thresholds=np.asarray(meta["thresholds"], dtype=np.float32),
        preprocess_config=PreprocessConfig(**_tuples(meta["preprocess"])),
        loading=loading,
    )


def _load_network(path: Path):
    """The Keras network (safe mode) and its traced prediction function, traced here once."""
    import keras

    try:
        network = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:
        raise ModelError(f"{path}: cannot be loaded ({error}): {_RETRAIN}") from None
    predict = prediction_function(network)
    predict(_empty_inputs(network))
    return network, predict


def run_model(model: LoadedModel, header, recording) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Classes, 0/1 labels and probabilities for one recording (leads in file order, ADC units).

    A recording longer than one window is scored over all the windows that cover it and their
    probabilities averaged; a shorter one is zero-padded.
    """
    return model.finish(model.prepare(header, recording))


def prepare_inputs(leads, config: PreprocessConfig, header, recording) -> dict:
    """The network's inputs for every window of one recording (see :mod:`ecgcrnn.pipeline`); numpy only.

    Parameters
    ----------
    leads : sequence of str
        The model's leads, in the order of its ``signal`` channels.
    config : PreprocessConfig
    header : str or Header
    recording : numpy.ndarray
        Shape (header leads, samples), leads in file order, ADC units.
    """
    parsed = parse_header(header) if isinstance(header, str) else header
    batch = windows(preprocess(parsed, recording, leads, config).signal, config)
    features = [extract_features(window, config.fs_hz, leads) for window in batch]
    return assemble_inputs(batch, features, demographics(get_age(parsed), get_sex(parsed)))


def prediction_function(network):
    """A tf.function over the network, traced once for any number of windows (no retracing)."""
    import tensorflow as tf

    signature = {
        name: tf.TensorSpec((None, *network.get_layer(name).output.shape[1:]), tf.float32, name=name)
        for name in INPUT_NAMES
    }
    return tf.function(lambda inputs: network(inputs, training=False), input_signature=[signature])


def _empty_inputs(network) -> dict:
    """Zeros of batch size 1 for every input (the shapes the network reads)."""
    shapes = {name: network.get_layer(name).output.shape[1:] for name in INPUT_NAMES}
    return {name: np.zeros((1, *shape), np.float32) for name, shape in shapes.items()}


def _read_meta(folder: Path) -> dict:
    try:
        meta = json.loads((folder / META_FILE).read_text())
    except FileNotFoundError:
        raise ModelError(
            f"{folder}: no trained model here (expected {META_FILE} and {MODEL_FILE}): train the "
            f"{folder.name}-lead model with train_model.py, or give the model folder that holds it"
        ) from None
    except ValueError as error:
        raise ModelError(f"{folder / META_FILE}: not valid JSON ({error}): {_RETRAIN}") from None
    required = {"format", "leads", "classes", "thresholds", "preprocess", "sha256"}
    if not isinstance(meta, dict) or not required <= set(meta):
        keys = ", ".join(sorted(required))
        raise ModelError(f"{folder / META_FILE}: expected the keys {keys}: {_RETRAIN}")
    if meta["format"] != FORMAT_VERSION or len(meta["thresholds"]) != len(meta["classes"]):
        problem = "unsupported format or thresholds not one per class"
        raise ModelError(f"{folder / META_FILE}: {problem}: {_RETRAIN}")
    if not (folder / MODEL_FILE).is_file():
        raise ModelError(f"{folder}: {MODEL_FILE} is missing: {_RETRAIN}")
    return meta


def _replace_folder(new: Path, target: Path, old: Path) -> None:
    """Put the folder ``new`` in the place of ``target``: an existing ``target`` is first moved to ``old``,
    moved back when the replacement fails, and deleted once it has succeeded."""
    shutil.rmtree(old, ignore_errors=True)  # left by an earlier process of the same id
    if target.exists():
        os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        if old.exists():
            os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tuples(values: dict) -> dict:
    return {key: tuple(value) if isinstance(value, list) else value for key, value in values.items()}
