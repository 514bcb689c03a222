"""The model folder: how one lead set's trained model is kept on disk, and what it must be to load.

A model folder ``<model_directory>/<lead set>/`` holds ``model.keras`` (Keras' zip format: architecture as
JSON and weights, no pickle, loaded in safe mode) and ``model.json``:

| key | content |
|---|---|
| ``format`` | :data:`FORMAT_VERSION` |
| ``lead_set``, ``leads`` | the lead set's name (the folder's name) and its leads in the standard order |
| ``classes`` | the 26 scored classes in weights.csv's order |
| ``thresholds``, ``prevalence`` | per class, numbers in [0, 1] |
| ``decided_by`` | per class, :data:`NETWORK` or :data:`CRITERIA` |
| ``settings`` | the pipeline's settings that made its inputs (:class:`~ecgcrnn.pipeline.PipelineSettings`) |
| ``pipeline_code`` | the digest of the code that computed them (:func:`ecgcrnn.pipeline.code_digest`) |
| ``versions`` | of ecgcrnn, Keras and TensorFlow |
| ``extra_keys`` | the keys added for people (training adds its history, metric, epochs and ``config``) |
| ``sha256`` | one SHA-256 over the rest of model.json and model.keras (:func:`folder_digest`) |

:class:`ecgcrnn.model.lead_set.LeadSetModel` saves and loads its folder through :func:`write_folder` and
:func:`read_folder`. Both files are written into a temporary folder that is renamed into place, so a crash
never leaves a half-written model that loads; a tampered or truncated file fails the checksum with a clear
error. Training adds ``learning_curves.png`` beside them (for people; loading ignores it).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from ecgcrnn import __version__
from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.pipeline import code_digest

MODEL_FILE, META_FILE = "model.keras", "model.json"
FORMAT_VERSION = 4  # 4: sha256 of model.json and model.keras; no key but _KEYS and the "extra_keys" named
NETWORK, CRITERIA = "network", "criteria"  # what decides a class (model.json's "decided_by")
RETRAIN = "train this lead set again with train_model.py"
_KEYS = (
    "format", "lead_set", "leads", "classes", "thresholds", "decided_by", "prevalence", "settings",
    "pipeline_code", "versions", "extra_keys", "sha256",
)  # fmt: skip
_PER_CLASS = ("thresholds", "decided_by", "prevalence")


class ModelError(ValueError):
    """A model folder that is missing, incomplete, tampered with or for other leads."""


def write_folder(model_directory, content: dict, extra: dict, save_network: Callable) -> Path:
    """Write one lead set's model folder atomically; returns its path.

    ``content`` holds model.json's keys ``lead_set``, ``leads``, ``classes``, ``thresholds``,
    ``decided_by``, ``prevalence`` and ``settings`` as plain values; this adds the others. ``extra`` holds
    more keys for people, which model.json lists under ``"extra_keys"`` and loading ignores.
    ``save_network(path)`` writes model.keras.

    The files go into a hidden temporary folder beside ``<model_directory>/<lead_set>``, which then takes
    its place. When anything fails the temporary folder is removed, an earlier model stays as it was, and
    an :class:`OSError` names the model folder rather than the temporary one.

    Raises
    ------
    ModelError
        Before anything is written, for a model :func:`read_folder` would refuse (classes other than the
        scored ones, a threshold that is not a probability) or an ``extra`` key that is one of model.json's.
    """
    import keras  # for their versions; on first use: test_model.py loads model.json before TensorFlow
    import tensorflow as tf

    root, lead_set = Path(model_directory), content["lead_set"]
    target, temporary = root / lead_set, root / f".{lead_set}.tmp{os.getpid()}"
    extra = dict(extra or {})
    clash = sorted(set(extra) & set(_KEYS))
    if clash:
        raise ModelError(f"{target / META_FILE}: extra keys {clash} are model.json's own: rename them")
    meta = {
        "format": FORMAT_VERSION,
        **content,
        "pipeline_code": code_digest(),
        "versions": {"ecgcrnn": __version__, "keras": keras.__version__, "tensorflow": tf.__version__},
        "extra_keys": sorted(extra),
        **extra,
    }
    check_meta(meta, target / META_FILE, lead_set)
    try:
        root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(temporary, ignore_errors=True)
        temporary.mkdir()
        save_network(temporary / MODEL_FILE)
        meta = json.loads(json.dumps(meta))  # as read_folder will read it, for the digest
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


def read_folder(folder: Path) -> dict:
    """model.json's content of the model folder ``folder``, checked: this version's format and keys, no
    other key, bound to the folder's lead set and its leads, the scored classes, per class a threshold and a
    prevalence in [0, 1] and what decides it, and the checksum over model.json and model.keras.

    Raises
    ------
    ModelError
        Naming the file and what to do, for a folder that fails any check or cannot be read.
    """
    try:
        meta = _read_meta(folder)
        check_meta(meta, folder / META_FILE, folder.name)
        digest = folder_digest(meta, folder / MODEL_FILE)
    except OSError as error:  # found but not readable
        where = error.filename or folder
        raise ModelError(
            f"{where}: cannot be read ({error.strerror or error}): fix its permissions"
        ) from None
    if digest != meta["sha256"]:
        raise ModelError(
            f"{folder}: checksum of {META_FILE} and {MODEL_FILE} differs from the sha256 {META_FILE} holds; "
            f"a file was damaged or edited: {RETRAIN}"
        )
    return meta


def folder_digest(meta: dict, model_file) -> str:
    """The SHA-256 that model.json's ``"sha256"`` holds: of ``meta`` (model.json's content) but that key, as
    JSON with sorted keys and no spaces, then of ``model_file``'s bytes, each preceded by its length in bytes
    (8 bytes, big-endian). Everything :func:`read_folder` reads is in it."""
    others = {key: value for key, value in meta.items() if key != "sha256"}
    content = json.dumps(others, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(len(content).to_bytes(8, "big") + content)
    with open(model_file, "rb") as f:
        digest.update(os.fstat(f.fileno()).st_size.to_bytes(8, "big"))
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_meta(meta: dict, file: Path, name: str) -> None:
    """Raise a :class:`ModelError` naming ``file`` unless ``meta`` describes a model of the lead set ``name``
    (its folder's name) with that lead set's leads in their standard order, for the package's scored classes
    in their order (:func:`ecgcrnn.domain.default_class_table`), with per class a threshold and a
    prevalence in [0, 1] and what decides it (:data:`NETWORK` or :data:`CRITERIA`)."""
    if meta["lead_set"] != name:
        raise ModelError(
            f"{file}: lead set {shown(meta['lead_set'])}, expected {shown(name)} as the folder's name "
            f"says: give this folder the {name}-lead model, or train it with train_model.py"
        )
    expected = list(LEAD_SETS[name])
    if meta["leads"] != expected:
        raise ModelError(
            f"{file}: leads {shown(meta['leads'])}, expected the {name}-lead set's leads {shown(expected)} "
            f"in this order: {RETRAIN}"
        )
    found, names = meta["classes"], list(default_class_table().names)
    if found != names:
        found = found if isinstance(found, list) else [found]
        k = next((k for k in range(min(len(found), len(names))) if found[k] != names[k]), None)
        if k is not None:
            differs = f"class {k + 1} is {shown(found[k])}, expected {shown(names[k])}"
        else:
            differs = f"{len(found)} classes, expected {len(names)}"
        raise ModelError(
            f"{file}: classes are not the {len(names)} scored classes of the package's weights.csv in their "
            f"order ({differs}): {RETRAIN}"
        )
    for key in _PER_CLASS:
        values = meta[key]
        if not isinstance(values, list) or len(values) != len(names):
            raise ModelError(f"{file}: {key} not one per class: {RETRAIN}")
        rule = key == "decided_by"
        wrong = [k for k, value in enumerate(values) if not (_is_rule if rule else _is_probability)(value)]
        if wrong:
            allowed = f'"{NETWORK}" or "{CRITERIA}"' if rule else "numbers in [0, 1]"
            raise ModelError(
                f"{file}: {key} must be {allowed}, found {shown(values[wrong[0]])} for class "
                f"{names[wrong[0]]}: {RETRAIN}"
            )


def detail(error: Exception, limit: int = 400) -> str:
    """An error's message on one line, cut to ``limit`` characters."""
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown(value, limit: int = 120) -> str:
    """``value`` as JSON on one line (a newline in it escaped), cut to ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_meta(folder: Path) -> dict:
    """model.json's content, checked to hold the keys of this version's format and no other."""
    file = folder / META_FILE
    try:
        meta = json.loads(file.read_text(), object_pairs_hook=_without_duplicates)
    except _DuplicateKey as duplicate:
        raise ModelError(f"{file}: key {shown(duplicate.args[0])} written twice: {RETRAIN}") from None
    except FileNotFoundError:
        raise ModelError(
            f"{folder}: no trained model here (expected {META_FILE} and {MODEL_FILE}): train the "
            f"{folder.name}-lead model with train_model.py, or give the model folder that holds it"
        ) from None
    except ValueError as error:
        raise ModelError(f"{file}: not valid JSON ({error}): {RETRAIN}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise ModelError(f"{file}: format {shown(found)}, this version reads {FORMAT_VERSION}: {RETRAIN}")
    if not set(_KEYS) <= set(meta):
        raise ModelError(f"{file}: expected the keys {', '.join(sorted(_KEYS))}: {RETRAIN}")
    extra = meta["extra_keys"]
    if not (isinstance(extra, list) and all(isinstance(key, str) for key in extra)):
        raise ModelError(f"{file}: extra_keys {shown(extra)}, expected a list of key names: {RETRAIN}")
    unknown = [key for key in meta if key not in _KEYS and key not in extra]
    if unknown:
        raise ModelError(
            f"{file}: unknown key {shown(unknown[0])} (LeadSetModel.save writes none): {RETRAIN}"
        )
    if not (folder / MODEL_FILE).is_file():
        raise ModelError(f"{folder}: {MODEL_FILE} is missing: {RETRAIN}")
    return meta


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
