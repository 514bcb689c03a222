"""Training: the cache, a multilabel-stratified split, one network per lead set, thresholds, saving.

Each lead set's network trains on one random window per record per epoch. After every epoch the
validation records are scored over all their windows, per-class thresholds are chosen for the Challenge
metric, and the metric decides early stopping; the best weights are kept. Every epoch also leaves a
checkpoint (model with optimizer state, and a JSON state), so a run that is interrupted resumes from its
last epoch when started again with the same arguments; a lead set whose model is already saved is skipped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from ecgcrnn.data.cache import build_cache
from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.io.atomic import replacing, write_text
from ecgcrnn.pipeline import PipelineSettings
from ecgcrnn.scoring.metrics import compute_challenge_metric
from ecgcrnn.training.distribute import current_strategy, is_chief, precision, prepare, worker_folder
from ecgcrnn.training.settings import TrainingConfig, load_config
from ecgcrnn.training.thresholds import apply_thresholds, choose_thresholds

log = logging.getLogger(__name__)

CHECKPOINTS = ".checkpoints"
MIN_RECORDS = 4  # readable records needed to train and validate
WARM_START_RECORDS = 20_000  # records (all their windows) the wide path's logistic regression learns from


def train(data_directory, model_directory, config: TrainingConfig | None = None) -> dict[str, float]:
    """Train and save a model for every lead set of ``config``; returns each one's validation metric."""
    config = config or load_config()
    strategy = current_strategy()  # before TensorFlow runs anything (a cluster's collectives need that)
    model_directory = Path(model_directory)
    settings = PipelineSettings()
    cache_directory = Path(config.cache_directory or model_directory / "cache")
    cache = build_cache(data_directory, cache_directory, settings, config.lead_sets, config.n_jobs)
    if len(cache.usable) < MIN_RECORDS:
        raise ValueError(
            f"{data_directory}: {len(cache.usable)} readable records (the others are logged above): too few "
            f"to train; give a folder with at least {MIN_RECORDS} readable records"
        )
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
            cache, lead_set, train_records, validation_records, config, settings, model_directory
        )
    if is_chief(strategy):
        shutil.rmtree(model_directory / CHECKPOINTS, ignore_errors=True)
    else:  # another worker's own folders are gone already; the chief's (shared storage) are its to remove
        with contextlib.suppress(OSError):
            (model_directory / CHECKPOINTS).rmdir()
    return results


def split_records(labels: np.ndarray, usable: np.ndarray, config: TrainingConfig):
    """Multilabel-stratified (iterative stratification) training and validation record indices."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

    if len(usable) < MIN_RECORDS:
        raise ValueError(f"{len(usable)} usable records: too few to train and validate")
    splitter = MultilabelStratifiedShuffleSplit(
        n_splits=1, test_size=config.validation_fraction, random_state=config.seed
    )
    train_index, validation_index = next(splitter.split(np.zeros(len(usable)), labels[usable]))
    return np.sort(usable[train_index]), np.sort(usable[validation_index])


@dataclass
class FittedModel:
    """One lead set's trained network (uncompiled, ready to save) and what was learnt with it."""

    network: keras.Model
    thresholds: np.ndarray
    validation_metric: float
    history: list


def fit_lead_set(
    cache, lead_set, train_records, validation_records, config, settings, checkpoint, batches=None
):
    """Train one lead set's network, keeping the epoch with the best validation Challenge metric.

    ``checkpoint`` is the folder for the per-epoch checkpoint; a run that finds one there resumes from it.
    ``batches`` makes the input pipeline (called as :class:`ecgcrnn.data.batches.WindowBatches` is, the
    default). Under a ``tf.distribute`` strategy (call it inside ``strategy.scope()``) a batch holds
    ``config.batch_size`` records per replica.
    """
    import tensorflow as tf

    from ecgcrnn.data.batches import WindowBatches, feature_statistics
    from ecgcrnn.model.losses import make_loss
    from ecgcrnn.model.network import build_model
    from ecgcrnn.training.progress import EpochProgress

    batches = batches or WindowBatches
    table = default_class_table()
    leads = LEAD_SETS[lead_set]
    state = _read_state(checkpoint)
    strategy = tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    batch, seed = config.batch_size * replicas, config.seed
    augmentation = {"gain_jitter": config.gain_jitter, "noise_mv": config.noise_mv}
    steps = {"max_batches": config.steps_per_epoch, "full_batches": replicas > 1}
    training = batches(cache, lead_set, train_records, batch, seed, True, **augmentation, **steps)
    validation = batches(cache, lead_set, validation_records, batch, seed, False)
    stats = feature_statistics(cache, lead_set, train_records)
    if state:
        log.info("%s leads: resuming after epoch %d", lead_set, state["epoch"] + 1)
        network = keras.saving.load_model(checkpoint / "last.keras", safe_mode=True)
        training.start_epoch(state["epoch"] + 1)
    else:
        with precision(config.mixed_precision):
            network = build_model(leads, table.names, config.network, stats, settings)
        sample = np.random.default_rng(seed).permutation(train_records)[:WARM_START_RECORDS]
        features = batches(cache, lead_set, np.sort(sample), batch, seed, False, signal=False)
        warm_start_wide_path(network, features, seed)
        network.get_layer("wide_logits").trainable = False
        positives = cache.labels[train_records].mean(axis=0)
        network.compile(keras.optimizers.Adam(config.learning_rate), make_loss(config.loss, positives))
    prepare(network, strategy)
    labels = cache.labels[validation_records] > 0
    monitor = ChallengeMonitor(validation, labels, table, config, checkpoint, state)
    network.fit(
        training,
        epochs=config.epochs,
        initial_epoch=state["epoch"] + 1 if state else 0,
        callbacks=[monitor, EpochProgress(disable=None if is_chief(strategy) else True)],
        verbose=0,  # EpochProgress draws bars on a terminal; the monitor logs each epoch
        shuffle=False,  # the batches are shuffled already; Keras' own order could differ between workers
    )
    network.load_weights(checkpoint / "best.weights.h5")
    thresholds, metric = tuned_metric(labels, predict_records(network, validation), table)
    inference_network = build_model(leads, table.names, config.network, stats, settings)
    for layer in network.layers:
        inference_network.get_layer(layer.name).set_weights(layer.get_weights())
    return FittedModel(inference_network, thresholds, metric, monitor.history)


def predict_records(network, batches) -> np.ndarray:
    """Per-record probabilities (records, C): the mean over each record's windows, as ``run_model`` does."""
    from ecgcrnn.data.batches import average_by_owner

    windows = network.predict(batches, verbose=0)
    return average_by_owner(windows, batches.owners, batches.records)


def _train_lead_set(cache, lead_set, train_records, validation_records, config, settings, root):
    from ecgcrnn.inference.store import save_model
    from ecgcrnn.training.curves import plot_learning_curves

    strategy = current_strategy()
    checkpoint = worker_folder(root / CHECKPOINTS / lead_set, strategy)
    with strategy.scope():
        fitted = fit_lead_set(
            cache, lead_set, train_records, validation_records, config, settings, checkpoint
        )
    extra = {"validation_challenge_metric": fitted.validation_metric, "history": fitted.history}
    extra["config"] = config.to_json()
    names = default_class_table().names
    chief = is_chief(strategy)  # other workers save into their temporary checkpoint folder, then delete it
    folder = root if chief else checkpoint
    save_model(folder, lead_set, fitted.network, fitted.thresholds, names, settings, extra)
    if chief:
        try:  # beside the model: load_model checks only model.keras against model.json
            plot_learning_curves(fitted.history, root / lead_set / "learning_curves.png")
        except Exception as error:  # a figure is no reason to lose a trained model
            log.warning("%s leads: learning curves not drawn: %s", lead_set, error)
    else:
        shutil.rmtree(checkpoint, ignore_errors=True)
    log.info("%s leads: validation challenge metric %.3f", lead_set, fitted.validation_metric)
    return fitted.validation_metric


def tuned_metric(labels: np.ndarray, probabilities: np.ndarray, table) -> tuple[np.ndarray, float]:
    """Per-class thresholds chosen for the Challenge metric on these records, and the metric they reach."""
    thresholds = choose_thresholds(labels, probabilities, table.weights, table.normal_index)
    outputs = apply_thresholds(probabilities, thresholds)
    return thresholds, compute_challenge_metric(table.weights, labels, outputs, table.normal_index)


def warm_start_wide_path(network, batches, seed: int) -> None:
    """Set the wide path to a logistic regression on the record-level inputs, and the deep path's output
    layer to zero, so that training starts from what the record features alone can do. Training then keeps
    the wide path fixed (it is already fitted, with regularisation) and the deep path learns what it misses.

    One L2-regularised logistic regression per class is fitted (scikit-learn) on every window of
    ``batches``, with exactly the inputs the wide path sees (the network's own ``record`` layer: normalised
    record features, their mask, age and sex). A class without positives gets a strongly negative bias.
    """
    from sklearn.linear_model import LogisticRegression

    names = ("record_values", "record_mask", "demographics")
    record = keras.Model({n: network.get_layer(n).output for n in names}, network.get_layer("record").output)
    rows, labels = [], []
    for index in range(len(batches)):
        inputs, targets = batches[index]
        rows.append(np.asarray(record({name: inputs[name] for name in names}), np.float64))
        labels.append(targets > 0)
    inputs, labels = np.concatenate(rows), np.concatenate(labels)
    kernel = np.zeros((inputs.shape[1], labels.shape[1]), np.float32)
    bias = np.full(labels.shape[1], -7.0, np.float32)
    for k in range(labels.shape[1]):
        if labels[:, k].all() or not labels[:, k].any():
            bias[k] = 7.0 if labels[:, k].all() else -7.0
            continue
        model = LogisticRegression(C=0.1, max_iter=1000, random_state=seed).fit(inputs, labels[:, k])
        kernel[:, k], bias[k] = model.coef_[0], model.intercept_[0]
    network.get_layer("wide_logits").set_weights([kernel, bias])
    deep = network.get_layer("deep_logits")
    deep.set_weights([np.zeros_like(w) for w in deep.get_weights()])


def _save_atomically(save, path: Path) -> None:
    """``save(temporary)``, then the temporary replaces ``path``: never half a checkpoint."""
    with replacing(path) as temporary:
        save(temporary)


def _read_state(checkpoint: Path) -> dict | None:
    state_file = checkpoint / "state.json"
    if state_file.is_file() and (checkpoint / "last.keras").is_file():
        return json.loads(state_file.read_text())
    return None


def _write_state(checkpoint: Path, state: dict) -> None:
    write_text(checkpoint / "state.json", json.dumps(state))


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

    def on_train_begin(self, logs=None):
        if not self.history:  # a fresh start: score the initial (warm-started) network as epoch 0
            _, metric = tuned_metric(self.labels, predict_records(self.model, self.validation), self.table)
            self.best = metric
            if not self.model.optimizer.built:  # so that every saved weights file has the same variables
                self.model.optimizer.build(self.model.trainable_variables)
            _save_atomically(self.model.save_weights, self.checkpoint / "best.weights.h5")
            log.info("epoch 0: validation challenge metric %.3f", metric)

    def on_epoch_end(self, epoch, logs=None):
        _, metric = tuned_metric(self.labels, predict_records(self.model, self.validation), self.table)
        logs = {} if logs is None else logs
        logs["val_challenge_metric"] = metric  # in place: the progress bar after this callback shows it
        self.history.append({key: float(value) for key, value in logs.items()})
        if metric > self.best:
            self.best, self.wait = metric, 0
            _save_atomically(self.model.save_weights, self.checkpoint / "best.weights.h5")
        else:
            self.wait += 1
            if self.wait == max(self.config.patience_epochs // 2, 1):
                rate = self.model.optimizer.learning_rate
                rate.assign(rate * 0.5)
            if self.wait >= self.config.patience_epochs:
                self.model.stop_training = True
        log.info(
            "epoch %d: loss %.4f, validation challenge metric %.3f (best %.3f)",
            epoch + 1,
            logs.get("loss", float("nan")),
            metric,
            self.best,
        )
        _save_atomically(self.model.save, self.checkpoint / "last.keras")
        state = {"epoch": epoch, "best": self.best, "wait": self.wait, "history": self.history}
        _write_state(self.checkpoint, state)
