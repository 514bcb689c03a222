"""Saving and loading one lead set's trained model.

A model folder ``<model_directory>/<lead set>/`` holds ``model.keras`` (Keras' zip format: architecture as
JSON and weights, no pickle, loaded in safe mode) and ``model.json`` (classes, leads, thresholds, the
classes their criterion decides, the training prevalence, every setting of the pipeline that made its
inputs (:class:`ecgcrnn.pipeline.PipelineSettings`) with the digest of the code that computed them,
versions, and one SHA-256 over the rest of ``model.json`` and ``model.keras``, :func:`folder_digest`);
:func:`load_model` runs the model with the settings it was trained with. Both are written into a temporary
folder that is renamed into place, so a crash never leaves a half-written model that loads; a tampered or
truncated file fails the checksum with a clear error.
Training adds ``learning_curves.png`` beside them (for people; loading ignores it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ecgcrnn import __version__
from ecgcrnn.domain import LEAD_SETS, default_class_table, lead_set_name, sort_leads
from ecgcrnn.inference.predict import (
    CRITERIA,
    NETWORK,
    LoadedModel,
    prediction_function,
    sample_inputs,
)
from ecgcrnn.pipeline import PipelineSettings, code_digest

log = logging.getLogger(__name__)

MODEL_FILE, META_FILE = "model.keras", "model.json"
FORMAT_VERSION = 4  # 4: sha256 of model.json and model.keras; no key but _KEYS and the "extra_keys" named
_RETRAIN = "train this lead set again with train_model.py"
_KEYS = (
    "format", "lead_set", "leads", "classes", "thresholds", "decided_by", "prevalence", "settings",
    "pipeline_code", "versions", "extra_keys", "sha256",
)  # fmt: skip
_PER_CLASS = ("thresholds", "decided_by", "prevalence")


class ModelError(ValueError):
    """A model folder that is missing, incomplete, tampered with or for other leads."""


def save_model(
    model_directory,
    lead_set: str,
    network,
    thresholds,
    classes,
    settings: PipelineSettings,
    extra=None,
    decided_by=None,
    prevalence=None,
):
    """Write one lead set's model folder atomically; returns its path.

    ``decided_by`` gives per class ``"network"`` or ``"criteria"`` (default: the network decides every
    class); ``prevalence`` each class's share of the training records (default 0); ``extra`` more keys for
    people (a training's history, its metric), which model.json lists under ``"extra_keys"`` and loading
    ignores.

    The files go into a hidden temporary folder beside ``<model_directory>/<lead_set>``, which then takes
    its place. When anything fails the temporary folder is removed, an earlier model stays as it was, and
    an :class:`OSError` names the model folder rather than the temporary one.

    Raises
    ------
    ModelError
        Before anything is written, for a model :func:`load_model` would refuse (classes other than the
        scored ones, a threshold that is not a probability) or an ``extra`` key that is one of model.json's.
    """
    import keras
    import tensorflow as tf

    root = Path(model_directory)
    target, temporary = root / lead_set, root / f".{lead_set}.tmp{os.getpid()}"
    extra = dict(extra or {})
    clash = sorted(set(extra) & set(_KEYS))
    if clash:
        raise ModelError(f"{target / META_FILE}: extra keys {clash} are model.json's own: rename them")
    meta = {
        "format": FORMAT_VERSION,
        "lead_set": lead_set,
        "leads": list(LEAD_SETS[lead_set]),
        "classes": list(classes),
        "thresholds": [float(t) for t in thresholds],
        "decided_by": list(decided_by or [NETWORK] * len(classes)),
        "prevalence": [float(p) for p in (np.zeros(len(classes)) if prevalence is None else prevalence)],
        "settings": settings.to_dict(),
        "pipeline_code": code_digest(),
        "versions": {"ecgcrnn": __version__, "keras": keras.__version__, "tensorflow": tf.__version__},
        "extra_keys": sorted(extra),
        **extra,
    }
    _check_meta(meta, target / META_FILE, lead_set)
    try:
        root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(temporary, ignore_errors=True)
        temporary.mkdir()
        network.save(temporary / MODEL_FILE)
        meta = json.loads(json.dumps(meta))  # as load_model will read it, for the digest
        meta["sha256"] = folder_digest(meta, temporary / MODEL_FILE)
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
        When no lead set is made of these leads, its folder is missing, or a file fails its checks; the
        model's :meth:`~LoadedModel.wait_until_loaded` (and its network) when Keras cannot load the
        network in safe mode, or it is not one for the leads, window and classes of model.json.
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
        _check_meta(meta, folder / META_FILE, name)
        digest = folder_digest(meta, folder / MODEL_FILE)
    except OSError as error:  # found but not readable
        where = error.filename or folder
        raise ModelError(
            f"{where}: cannot be read ({error.strerror or error}): fix its permissions"
        ) from None
    if digest != meta["sha256"]:
        raise ModelError(
            f"{folder}: checksum of {META_FILE} and {MODEL_FILE} differs from the sha256 {META_FILE} holds; "
            f"a file was damaged or edited: {_RETRAIN}"
        )
    try:
        settings = PipelineSettings.from_dict(meta["settings"])
    except (AttributeError, TypeError, ValueError) as error:
        raise ModelError(
            f"{folder / META_FILE}: settings this version cannot use ({_detail(error)}): {_RETRAIN}"
        ) from None
    if meta.get("pipeline_code") != code_digest():
        log.warning(
            "%s: trained with another version of the preprocessing, delineation or feature code; its inputs "
            "may now be computed differently: %s",
            folder,
            _RETRAIN,
        )
    reads = (settings.preprocess.window_samples, len(meta["leads"]), len(meta["classes"]))
    loading = ThreadPoolExecutor(1, thread_name_prefix=f"load-{name}").submit(
        _load_network, folder / MODEL_FILE, reads
    )
    return LoadedModel(
        leads=tuple(meta["leads"]),
        classes=tuple(meta["classes"]),
        thresholds=np.asarray(meta["thresholds"], dtype=np.float32),
        settings=settings,
        loading=loading,
        by_criteria=np.array([rule == CRITERIA for rule in meta["decided_by"]]),
        prevalence=np.asarray(meta["prevalence"], dtype=np.float32),
    )


def folder_digest(meta: dict, model_file) -> str:
    """The SHA-256 that model.json's ``"sha256"`` holds: of ``meta`` (model.json's content) but that key, as
    JSON with sorted keys and no spaces, then of ``model_file``'s bytes, each preceded by its length in bytes
    (8 bytes, big-endian). Everything :func:`load_model` reads is in it."""
    others = {key: value for key, value in meta.items() if key != "sha256"}
    content = json.dumps(others, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(len(content).to_bytes(8, "big") + content)
    with open(model_file, "rb") as f:
        digest.update(os.fstat(f.fileno()).st_size.to_bytes(8, "big"))
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _load_network(path: Path, expected: tuple[int, int, int]):
    """The Keras network (safe mode) and its prediction function, traced here once; a :class:`ModelError`
    when it cannot be loaded or is not a network of ``expected`` (window samples, leads, classes)."""
    import keras

    try:
        if not zipfile.is_zipfile(path):
            raise ValueError("not a zip archive, as a .keras file is")
        network = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:
        detail = _detail(error)
        raise ModelError(f"{path}: cannot be loaded in Keras' safe mode ({detail}): {_RETRAIN}") from None
    try:
        reads = (*network.get_layer("signal").output.shape[1:], network.output.shape[-1])
    except Exception as error:
        raise ModelError(f"{path}: not a network of this package ({_detail(error)}): {_RETRAIN}") from None
    if tuple(reads) != expected:
        raise ModelError(
            f"{path}: its network reads windows of {reads[0]} samples of {reads[1]} leads and gives "
            f"{reads[2]} classes, {META_FILE} expects {expected[0]} samples of {expected[1]} leads and "
            f"{expected[2]} classes: {_RETRAIN}"
        )
    try:
        predict = prediction_function(network)
        predict(sample_inputs(network))
    except Exception as error:
        raise ModelError(f"{path}: not a network of this package ({_detail(error)}): {_RETRAIN}") from None
    return network, predict


def _detail(error: Exception, limit: int = 400) -> str:
    """An error's message on one line, cut to ``limit`` characters."""
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_meta(folder: Path) -> dict:
    """model.json's content, checked to hold the keys of this version's format and no other."""
    file = folder / META_FILE
    try:
        meta = json.loads(file.read_text(), object_pairs_hook=_without_duplicates)
    except _DuplicateKey as duplicate:
        raise ModelError(f"{file}: key {_shown(duplicate.args[0])} written twice: {_RETRAIN}") from None
    except FileNotFoundError:
        raise ModelError(
            f"{folder}: no trained model here (expected {META_FILE} and {MODEL_FILE}): train the "
            f"{folder.name}-lead model with train_model.py, or give the model folder that holds it"
        ) from None
    except ValueError as error:
        raise ModelError(f"{file}: not valid JSON ({error}): {_RETRAIN}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise ModelError(f"{file}: format {_shown(found)}, this version reads {FORMAT_VERSION}: {_RETRAIN}")
    if not set(_KEYS) <= set(meta):
        raise ModelError(f"{file}: expected the keys {', '.join(sorted(_KEYS))}: {_RETRAIN}")
    extra = meta["extra_keys"]
    if not (isinstance(extra, list) and all(isinstance(key, str) for key in extra)):
        raise ModelError(f"{file}: extra_keys {_shown(extra)}, expected a list of key names: {_RETRAIN}")
    unknown = [key for key in meta if key not in _KEYS and key not in extra]
    if unknown:
        raise ModelError(f"{file}: unknown key {_shown(unknown[0])} (save_model writes none): {_RETRAIN}")
    if not (folder / MODEL_FILE).is_file():
        raise ModelError(f"{folder}: {MODEL_FILE} is missing: {_RETRAIN}")
    return meta


def _check_meta(meta: dict, file: Path, name: str) -> None:
    """Raise a :class:`ModelError` naming ``file`` unless ``meta`` describes a model of the lead set ``name``
    (its folder's name) with that lead set's leads in their standard order, for the package's scored classes
    in their order (:func:`ecgcrnn.domain.default_class_table`), with per class a threshold and a
    prevalence in [0, 1] and what decides it (``"network"`` or ``"criteria"``)."""
    if meta["lead_set"] != name:
        raise ModelError(
            f"{file}: lead set {_shown(meta['lead_set'])}, expected {_shown(name)} as the folder's name "
            f"says: give this folder the {name}-lead model, or train it with train_model.py"
        )
    expected = list(LEAD_SETS[name])
    if meta["leads"] != expected:
        raise ModelError(
            f"{file}: leads {_shown(meta['leads'])}, expected the {name}-lead set's leads {_shown(expected)} "
            f"in this order: {_RETRAIN}"
        )
    found, names = meta["classes"], list(default_class_table().names)
    if found != names:
        found = found if isinstance(found, list) else [found]
        k = next((k for k in range(min(len(found), len(names))) if found[k] != names[k]), None)
        if k is not None:
            differs = f"class {k + 1} is {_shown(found[k])}, expected {_shown(names[k])}"
        else:
            differs = f"{len(found)} classes, expected {len(names)}"
        raise ModelError(
            f"{file}: classes are not the {len(names)} scored classes of the package's weights.csv in their "
            f"order ({differs}): {_RETRAIN}"
        )
    for key in _PER_CLASS:
        values = meta[key]
        if not isinstance(values, list) or len(values) != len(names):
            raise ModelError(f"{file}: {key} not one per class: {_RETRAIN}")
        rule = key == "decided_by"
        wrong = [k for k, value in enumerate(values) if not (_is_rule if rule else _is_probability)(value)]
        if wrong:
            allowed = f'"{NETWORK}" or "{CRITERIA}"' if rule else "numbers in [0, 1]"
            raise ModelError(
                f"{file}: {key} must be {allowed}, found {_shown(values[wrong[0]])} for class "
                f"{names[wrong[0]]}: {_RETRAIN}"
            )


def _is_probability(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0


def _is_rule(value) -> bool:
    return value in (NETWORK, CRITERIA)


class _DuplicateKey(Exception):
    """A key that a JSON object holds twice (its name is the argument)."""


def _without_duplicates(pairs: list) -> dict:
    """A JSON object as a dict (``json.loads``' ``object_pairs_hook``); :class:`_DuplicateKey` for a key
    written twice, which ``json.loads`` would let the last one win."""
    meta = {}
    for key, value in pairs:
        if key in meta:
            raise _DuplicateKey(key)
        meta[key] = value
    return meta


def _shown(value, limit: int = 120) -> str:
    """``value`` as JSON on one line (a newline in it escaped), cut to ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
