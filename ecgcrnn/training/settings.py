"""Training settings in one frozen dataclass, with defaults meant for the full 88,253-record training set.

Code hands them to code as arguments: ``train(data, model, config, settings)`` takes a
:class:`TrainingConfig` and the :class:`ecgcrnn.pipeline.PipelineSettings` of the inputs. ``train_model.py``
makes both once (:func:`load_settings`) from the defaults, a JSON file (``--config FILE``; without it, the
file named by the environment variable ``ECGCRNN_CONFIG``) and then the environment variables
``ECGCRNN_<FIELD>`` (upper case), e.g. ``ECGCRNN_EPOCHS=2``, for quick runs at the command line.

The JSON file holds two optional sections: ``"training"``, the fields of :class:`TrainingConfig` with the
network's sizes nested under ``"network"`` (the fields of :class:`ecgcrnn.model.settings.NetworkConfig`),
and ``"pipeline"``, the stages of :class:`~ecgcrnn.pipeline.PipelineSettings` as a saved model's
``model.json`` holds them; a field that is absent keeps its default::

    {"training": {"epochs": 8, "lead_sets": ["twelve", "two"], "network": {"dropout": 0.2}},
     "pipeline": {"features": {"max_beats": 24}}}
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ecgcrnn.domain import LEAD_SETS
from ecgcrnn.model.settings import NetworkConfig
from ecgcrnn.pipeline import PipelineSettings

ENV_PREFIX = "ECGCRNN_"
SECTIONS = ("training", "pipeline")
"""The sections of a settings file: :class:`TrainingConfig`'s fields and :class:`PipelineSettings`' stages."""


@dataclass(frozen=True)
class TrainingConfig:
    """Settings of training and of the network.

    Attributes
    ----------
    seed : int
        The one seed: data split, window sampling, weight initialisation.
    lead_sets : tuple of str
        Names (keys of :data:`ecgcrnn.domain.LEAD_SETS`) of the lead sets to train a model for.
    epochs, batch_size, learning_rate : int, int, float
        Optimisation (Adam); the learning rate is halved when the validation metric stalls.
    patience_epochs : int
        Early stopping: epochs without a better validation challenge metric.
    threshold_folds : int
        The decision thresholds are chosen on out-of-fold predictions of every training record: the
        records are split into this many multilabel-stratified folds, a network is trained on all but one
        (early stopping on the one left out) and predicts the one left out; the model kept is the fold
        networks' average, to which the thresholds apply as they were tuned. 0 is the earlier rule: one
        network, with ``validation_fraction`` of the records held out for early stopping and the
        thresholds.
    validation_fraction : float
        Share of the records held out (multilabel-stratified) for early stopping and thresholds when
        ``threshold_folds`` is 0.
    threshold_grouping : str
        How the threshold folds are made: ``"sources"`` (each source's records in one fold, so every
        threshold is tuned on predictions for hospitals the fold network did not see; stratified folds
        where the records come from fewer sources than folds) or ``"stratified"`` (multilabel-stratified
        folds over the records).
    unknown_labels : str
        Where a label the record's source cannot give (:func:`ecgcrnn.data.sources.label_known`) is left
        out: ``"loss"``, ``"thresholds"`` (the threshold choice, early stopping and the choice between network
        and criterion), ``"both"`` or ``"none"`` (every label read as given, absent ones as negative).
    max_share_ratio : float
        No class is stated on more than this multiple of the largest share of records that any training
        source labels with it (checked on each source's out-of-fold predictions; 0: no limit).
    criteria_fallback : bool
        A class whose network decision scores below its criterion on out-of-fold predictions of held-out
        folds (thresholds tuned on the other folds) is decided by its criterion. Off by default: across
        held-out sources it lowered the mean Challenge metric on every lead set (the criteria it chose
        failed on the next hospital).
    min_positives : int
        A class with fewer positive training records than this is decided by its criterion (grade 0.5 or
        more), not by a threshold learnt from so few (with ``threshold_folds`` above 0).
    residual_prior_sd : float
        How far the wide and deep paths may move the logits from the criteria's: their output kernels
        carry the L2 penalty 1 / (2 sd² n) for n training records (a Gaussian prior of this SD on each
        weight), which fades as the records grow.
    loss : str
        ``"weighted_bce"`` (positives weighted by the square root of the negative/positive ratio) or
        ``"focal"`` (binary focal cross-entropy, gamma 2).
    network : NetworkConfig
        The network's layer sizes and dropout (:class:`ecgcrnn.model.settings.NetworkConfig`).
    gain_jitter, noise_mv : float
        Augmentation of the training signal (see :class:`ecgcrnn.data.batches.WindowBatches`): each lead's
        gain drawn from 1 ± ``gain_jitter``, and white noise of ``noise_mv`` millivolts.
    mixed_precision : str
        ``"auto"`` (float16 computations with float32 weights where a GPU is present, float32 on the CPU),
        ``"on"`` or ``"off"``; the network's sigmoid output stays float32, and saved models are float32.
    steps_per_epoch : int
        At most this many training batches per epoch, for short runs and benchmarks (0: every record once
        per epoch); each epoch still draws its batches from all the training records.
    cache_directory : str
        Where the preprocessed cache lives; empty means ``<model folder>/cache``.
    n_jobs : int
        Processes for building the cache; 0 means every core.
    """

    seed: int = 2021
    lead_sets: tuple[str, ...] = tuple(LEAD_SETS)
    epochs: int = 40
    batch_size: int = 64
    learning_rate: float = 3e-4
    patience_epochs: int = 6
    threshold_folds: int = 2
    validation_fraction: float = 0.15
    threshold_grouping: str = "sources"
    unknown_labels: str = "both"
    max_share_ratio: float = 2.0
    share_confidence: float = 0.95
    criteria_fallback: bool = False
    min_positives: int = 10
    residual_prior_sd: float = 0.1
    loss: str = "weighted_bce"
    network: NetworkConfig = NetworkConfig()
    gain_jitter: float = 0.1
    noise_mv: float = 0.02
    mixed_precision: str = "auto"
    steps_per_epoch: int = 0
    cache_directory: str = ""
    n_jobs: int = 0

    def __post_init__(self):
        unknown = set(self.lead_sets) - set(LEAD_SETS)
        if unknown:
            raise ValueError(f"unknown lead sets {sorted(unknown)}; expected some of {', '.join(LEAD_SETS)}")
        if self.loss not in ("weighted_bce", "focal"):
            raise ValueError(f"loss {self.loss!r}: expected 'weighted_bce' or 'focal'")
        if self.mixed_precision not in ("auto", "on", "off"):
            raise ValueError(f"mixed_precision {self.mixed_precision!r}: expected 'auto', 'on' or 'off'")
        if self.threshold_grouping not in ("sources", "stratified"):
            raise ValueError(
                f"threshold_grouping {self.threshold_grouping!r}: expected 'sources' or 'stratified'"
            )
        if self.unknown_labels not in ("none", "loss", "thresholds", "both"):
            raise ValueError(
                f"unknown_labels {self.unknown_labels!r}: expected 'none', 'loss', 'thresholds' or 'both'"
            )
        if self.max_share_ratio < 0:
            raise ValueError(f"max_share_ratio {self.max_share_ratio}: expected 0 or more")
        if not 0 <= self.share_confidence < 1:
            raise ValueError(f"share_confidence {self.share_confidence}: expected at least 0 and below 1")
        if self.threshold_folds < 0 or self.threshold_folds == 1:
            raise ValueError(f"threshold_folds {self.threshold_folds}: expected 0 or at least 2")
        if self.residual_prior_sd <= 0:
            raise ValueError(f"residual_prior_sd {self.residual_prior_sd}: expected above 0")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction {self.validation_fraction}: expected between 0 and 1")

    def to_json(self) -> dict:
        """Plain values (tuples as lists, the network as a dict), as a settings file's ``"training"`` section
        and model.json's ``"config"`` hold them."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


def load_settings(config_file=None, environ=None) -> tuple[TrainingConfig, PipelineSettings]:
    """What ``train_model.py`` trains with: the defaults, overridden by the JSON file ``config_file`` (without
    one, the file the environment's ``ECGCRNN_CONFIG`` names, if any), then by ``ECGCRNN_<FIELD>`` for a field
    of :class:`TrainingConfig` or of its network (``ECGCRNN_EPOCHS``, ``ECGCRNN_DROPOUT``).

    Raises
    ------
    ValueError
        Naming the file or the variable, for one that cannot be read or names an unknown setting.
    """
    environ = os.environ if environ is None else environ
    config_file = config_file or environ.get(f"{ENV_PREFIX}CONFIG") or None
    values = _read_json(Path(config_file)) if config_file else {}
    config, settings = settings_from_dict(values, str(config_file or "settings"))
    overrides = _environment(environ)
    if overrides:
        training = config.to_json()
        training["network"] |= overrides.pop("network", {})
        config = config_from_dict(training | overrides)
    return config, settings


def read_settings(path) -> tuple[TrainingConfig, PipelineSettings]:
    """The training and pipeline settings of a JSON settings file (see the module docstring)."""
    return settings_from_dict(_read_json(Path(path)), str(path))


def settings_from_dict(values: dict, where: str = "settings") -> tuple[TrainingConfig, PipelineSettings]:
    """The :class:`TrainingConfig` and :class:`PipelineSettings` of a settings file's content (``where``
    names it in errors)."""
    if not isinstance(values, dict) or set(values) - set(SECTIONS):
        unknown = sorted(set(values) - set(SECTIONS)) if isinstance(values, dict) else values
        raise ValueError(f"{where}: unknown sections {unknown}; expected {' and '.join(SECTIONS)}")
    try:
        config = config_from_dict(values.get("training", {}))
        return config, PipelineSettings.from_dict(values.get("pipeline", {}))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: {error}") from None


def config_from_dict(values: dict) -> TrainingConfig:
    """A :class:`TrainingConfig` from plain values (lists become tuples, ``network`` a dict of its fields);
    unknown keys are an error."""
    values = dict(values)
    network = values.pop("network", {})
    if not isinstance(network, NetworkConfig):
        network = NetworkConfig(**_converted(NetworkConfig, dict(network), "network settings"))
    return TrainingConfig(network=network, **_converted(TrainingConfig, values, "training settings"))


def _converted(kind, values: dict, what: str) -> dict:
    """``values`` for the dataclass ``kind``, each converted to its field's type (lists to tuples)."""
    fields = {f.name: f for f in dataclasses.fields(kind) if f.name != "network"}
    unknown = set(values) - set(fields)
    if unknown:
        raise ValueError(f"unknown {what} {sorted(unknown)}; known: {', '.join(fields)}")
    converted = {}
    for name, value in values.items():
        default = fields[name].default
        converted[name] = tuple(value) if isinstance(default, tuple) else type(default)(value)
    return converted


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: cannot read the settings ({error})") from None


def _environment(environ) -> dict:
    """The ``ECGCRNN_<FIELD>`` overrides: the training fields, the network's under ``"network"``."""
    values = _variables(environ, TrainingConfig)
    network = _variables(environ, NetworkConfig)
    return values | {"network": network} if network else values


def _variables(environ, kind) -> dict:
    """The values of the variables ``ECGCRNN_<FIELD>`` set for the fields of the dataclass ``kind``."""
    values = {}
    for f in dataclasses.fields(kind):
        variable = f"{ENV_PREFIX}{f.name.upper()}"
        if f.name != "network" and variable in environ:
            values[f.name] = _parse(environ[variable], f.name)
    return values


def _parse(text: str, name: str):
    try:
        return json.loads(text)
    except ValueError:
        if name in ("loss", "cache_directory", "mixed_precision", "threshold_grouping", "unknown_labels"):
            return text
        if name == "lead_sets":
            return [part.strip() for part in text.split(",") if part.strip()]
        raise ValueError(f"{ENV_PREFIX}{name.upper()}={text!r} is not a valid value") from None
