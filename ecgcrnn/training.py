"""Training: the cache, a multilabel-stratified split, one network per lead set, thresholds, saving.

Each lead set's network trains on one random window per record per epoch. After every epoch the
validation records are scored over all their windows, per-class thresholds are chosen for the Challenge
metric, and the metric decides early stopping; the best weights are kept. Every epoch also leaves a
checkpoint (model with optimizer state, and a JSON state), so a run that is interrupted resumes from its
last epoch when started again with the same arguments; a lead set whose model is already saved is skipped.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import keras
import numpy as np

from .cache import build_cache
from .classes import default_class_table
from .config import TrainingConfig, load_config
from .leads import LEAD_SETS
from .preprocessing import PreprocessConfig
from .scoring import compute_challenge_metric
from .thresholds import apply_thresholds, choose_thresholds

log = logging.getLogger(__name__)

CHECKPOINTS = ".checkpoints"


def train(data_directory, model_directory, config: TrainingConfig | None = None) -> dict[str, float]:
    """Train and save a model for every lead set of ``config``; returns each one's validation metric."""
    config = config or load_config()
    model_directory = Path(model_directory)
    preprocess_config = PreprocessConfig()
    cache_directory = Path(config.cache_directory or model_directory / "cache")
    cache = build_cache(data_directory, cache_directory, preprocess_config, config.lead_sets, config.n_jobs)
    train_records, validation_records = split_records(cache.labels, cache.usable, config)
    log.info("%d training and %d validation records", len(train_records), len(validation_records))
    results = {}
    for lead_set in config.lead_sets:
        meta_file = model_directory / lead_set / "model.json"
        if meta_file.is_file():
            log.info("%s-lead model already trained (%s); skipped", lead_set, meta_file)
            continue
        keras.utils.set_random_seed(config.seed)
        results[lead_set] = _train_lead_set(
            cache, lead_set, train_records, validation_records, config, preprocess_config, model_directory
        )
    shutil.rmtree(model_directory / CHECKPOINTS, ignore_errors=True)
    return results


def split_records(labels: np.ndarray, usable: np.ndarray, config: TrainingConfig):
    """Multilabel-stratified (iterative stratification) training and validation record indices."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

    if len(usable) < 4:
        raise ValueError(f"{len(usable)} usable records: too few to train and validate")
    splitter = MultilabelStratifiedShuffleSplit(
        n_splits=1, test_size=config.validation_fraction, random_state=config.seed
    )
    train_index, validation_index = next(splitter.split(np.zeros(len(usable)), labels[usable]))
    return np.sort(usable[train_index]), np.sort(usable[validation_index])


def _train_lead_set(cache, lead_set, train_records, validation_records, config, preprocess_config, root):
    from .dataset import WindowBatches, feature_statistics
    from .inference import save_model
    from .losses import make_loss
    from .model import build_model

    table = default_class_table()
    leads = LEAD_SETS[lead_set]
    checkpoint = root / CHECKPOINTS / lead_set
    state = _read_state(checkpoint)
    training = WindowBatches(cache, lead_set, train_records, config.batch_size, config.seed, training=True)
    validation = WindowBatches(cache, lead_set, validation_records, config.batch_size, config.seed, False)
    stats = feature_statistics(cache, lead_set, train_records)
    if state:
        log.info("%s leads: resuming after epoch %d", lead_set, state["epoch"] + 1)
        network = keras.saving.load_model(checkpoint / "last.keras", safe_mode=True)
        training.epoch = state["epoch"] + 1
        training.on_epoch_end()
    else:
        network = build_model(leads, table.names, config, stats, preprocess_config)
        positives = cache.labels[train_records].mean(axis=0)
        network.compile(keras.optimizers.Adam(config.learning_rate), make_loss(config.loss, positives))
    labels = cache.labels[validation_records] > 0
    monitor = ChallengeMonitor(validation, labels, table, config, checkpoint, state)
    network.fit(
        training,
        epochs=config.epochs,
        initial_epoch=state["epoch"] + 1 if state else 0,
        callbacks=[monitor],
        verbose=2 if log.isEnabledFor(logging.INFO) else 0,
    )
    network.load_weights(checkpoint / "best.weights.h5")
    thresholds, metric = tuned_metric(labels, monitor.predict(network), table)
    inference_network = build_model(leads, table.names, config, stats, preprocess_config)
    inference_network.set_weights(network.get_weights())
    extra = {"validation_challenge_metric": metric, "history": monitor.history, "config": config.to_json()}
    save_model(root, lead_set, inference_network, thresholds, table.names, preprocess_config, extra)
    log.info("%s leads: validation challenge metric %.3f", lead_set, metric)
    return metric


def tuned_metric(labels: np.ndarray, probabilities: np.ndarray, table) -> tuple[np.ndarray, float]:
    """Per-class thresholds chosen for the Challenge metric on these records, and the metric they reach."""
    thresholds = choose_thresholds(labels, probabilities, table.weights, table.normal_index)
    outputs = apply_thresholds(probabilities, thresholds)
    return thresholds, compute_challenge_metric(table.weights, labels, outputs, table.normal_index)


def _read_state(checkpoint: Path) -> dict | None:
    state_file = checkpoint / "state.json"
    if state_file.is_file() and (checkpoint / "last.keras").is_file():
        return json.loads(state_file.read_text())
    return None


def _write_state(checkpoint: Path, state: dict) -> None:
    temporary = checkpoint / "state.json.tmp"
    temporary.write_text(json.dumps(state))
    os.replace(temporary, checkpoint / "state.json")


class ChallengeMonitor(keras.callbacks.Callback):
    """Validation Challenge metric after each epoch: best weights, early stopping, halving the learning rate,
    and a resumable checkpoint."""

    def __init__(self, validation, labels, table, config: TrainingConfig, checkpoint: Path, state=None):
        super().__init__()
        self.validation, self.labels, self.table, self.config = validation, labels, table, config
        self.checkpoint = checkpoint
        checkpoint.mkdir(parents=True, exist_ok=True)
        state = state or {"epoch": -1, "best": -np.inf, "wait": 0, "history": []}
        self.best, self.wait, self.history = state["best"], state["wait"], state["history"]

    def predict(self, network) -> np.ndarray:
        from .dataset import average_by_owner

        windows = network.predict(self.validation, verbose=0)
        return average_by_owner(windows, self.validation.owners, self.validation.records)

    def on_epoch_end(self, epoch, logs=None):
        _, metric = tuned_metric(self.labels, self.predict(self.model), self.table)
        logs = dict(logs or {}, val_challenge_metric=metric)
        self.history.append({key: float(value) for key, value in logs.items()})
        if metric > self.best:
            self.best, self.wait = metric, 0
            self.model.save_weights(self.checkpoint / "best.weights.h5")
        else:
            self.wait += 1
            if self.wait == max(self.config.patience_epochs // 2, 1):
                rate = self.model.optimizer.learning_rate
                rate.assign(rate * 0.5)
            if self.wait >= self.config.patience_epochs:
                self.model.stop_training = True
        log.info("epoch %d: validation challenge metric %.3f (best %.3f)", epoch + 1, metric, self.best)
        self.model.save(self.checkpoint / "last.keras")
        state = {"epoch": epoch, "best": self.best, "wait": self.wait, "history": self.history}
        _write_state(self.checkpoint, state)
