"""Training settings in one frozen dataclass, with defaults meant for the full 88,253-record training set.

Every field can be overridden for quick runs and tests, from a JSON file named by ``ECGCRNN_CONFIG`` and then
from environment variables ``ECGCRNN_<FIELD>`` (upper case), e.g. ``ECGCRNN_EPOCHS=2``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ecgcrnn.domain import LEAD_SETS
from ecgcrnn.model.settings import NetworkConfig

ENV_PREFIX = "ECGCRNN_"


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
    conv_filters, signal_rnn_units, feature_rnn_units, dense_units, dropout
        The network's layer sizes and dropout, as :class:`ecgcrnn.model.settings.NetworkConfig` defines them
        (:attr:`network` gives them as one); set here so that one file or environment sets everything.
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
    criteria_fallback: bool = False
    min_positives: int = 10
    residual_prior_sd: float = 0.1
    loss: str = "weighted_bce"
    conv_filters: tuple[int, ...] = NetworkConfig.conv_filters
    signal_rnn_units: int = NetworkConfig.signal_rnn_units
    feature_rnn_units: int = NetworkConfig.feature_rnn_units
    dense_units: tuple[int, ...] = NetworkConfig.dense_units
    dropout: float = NetworkConfig.dropout
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
        if self.threshold_folds < 0 or self.threshold_folds == 1:
            raise ValueError(f"threshold_folds {self.threshold_folds}: expected 0 or at least 2")
        if self.residual_prior_sd <= 0:
            raise ValueError(f"residual_prior_sd {self.residual_prior_sd}: expected above 0")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction {self.validation_fraction}: expected between 0 and 1")

    @property
    def network(self) -> NetworkConfig:
        """The network's architecture settings."""
        names = [field.name for field in dataclasses.fields(NetworkConfig)]
        return NetworkConfig(**{name: getattr(self, name) for name in names})

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def load_config(environ=None) -> TrainingConfig:
    """The defaults, overridden by the JSON file in ``ECGCRNN_CONFIG``, then by ``ECGCRNN_<FIELD>``."""
    environ = os.environ if environ is None else environ
    values: dict = {}
    if environ.get(f"{ENV_PREFIX}CONFIG"):
        path = Path(environ[f"{ENV_PREFIX}CONFIG"])
        try:
            values.update(json.loads(path.read_text()))
        except (OSError, ValueError) as error:
            raise ValueError(f"{path}: cannot read the training configuration ({error})") from None
    for f in dataclasses.fields(TrainingConfig):
        key = f"{ENV_PREFIX}{f.name.upper()}"
        if key in environ:
            values[f.name] = _parse(environ[key], f.name)
    return config_from_dict(values)


def config_from_dict(values: dict) -> TrainingConfig:
    """A :class:`TrainingConfig` from plain values (lists become tuples); unknown keys are an error."""
    fields = {f.name: f for f in dataclasses.fields(TrainingConfig)}
    unknown = set(values) - set(fields)
    if unknown:
        raise ValueError(f"unknown training settings {sorted(unknown)}; known: {', '.join(fields)}")
    converted = {}
    for name, value in values.items():
        default = fields[name].default
        converted[name] = tuple(value) if isinstance(default, tuple) else type(default)(value)
    return TrainingConfig(**converted)


def _parse(text: str, name: str):
    try:
        return json.loads(text)
    except ValueError:
        if name in ("loss", "cache_directory", "mixed_precision", "threshold_grouping", "unknown_labels"):
            return text
        if name == "lead_sets":
            return [part.strip() for part in text.split(",") if part.strip()]
        raise ValueError(f"{ENV_PREFIX}{name.upper()}={text!r} is not a valid value") from None
