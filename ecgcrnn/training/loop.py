"""Training: the cache, one network per lead set, thresholds that transfer, saving.

Each lead set's network trains on one random window per record per epoch, from the criteria's start (see
:mod:`ecgcrnn.model.network`). The decision thresholds are chosen for the Challenge metric on out-of-fold
predictions of every training record (:attr:`TrainingConfig.threshold_folds
<ecgcrnn.training.settings.TrainingConfig>` folds, each source's records in one fold, so that every
prediction is one for a hospital its network did not see): a network learns from all folds but one,
early-stopped on the one left out (its epochs scored over all their windows, the thresholds tuned on them;
the start itself, epoch 0, competes), and predicts it. The model kept is the fold networks' average
(:func:`ecgcrnn.model.network.average_networks`), so the thresholds apply to the networks they were tuned
on.

A label the record's source never gives, or cannot read from its signals, is no evidence: it is left out
of the loss and of every choice below (:mod:`ecgcrnn.training.decisions`, which also makes the folds and
holds the decision rule). A class with fewer than ``min_positives`` positive records is decided by its
criterion; with ``criteria_fallback`` (off by default), so is a class whose criterion scores better than
its network across held-out folds. No class is stated, on any source's out-of-fold predictions, on more
than ``max_share_ratio`` times the largest share of records any training source labels with it
(:func:`ecgcrnn.training.thresholds.share_limits`), counted as a source of its size at that share could
reach (``share_confidence``, a binomial quantile). Every epoch leaves a checkpoint (model with optimizer
state, and a JSON state) and every finished fold its network and predictions, so a run that is interrupted
resumes where it stopped when started again with the same arguments; a lead set whose model is already
saved is skipped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from ecgcrnn.data.batches import WindowBatches, average_by_owner, feature_statistics
from ecgcrnn.data.cache import build_cache
from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.io.atomic import replacing, save_arrays, write_text
from ecgcrnn.model.lead_set import CRITERIA, NETWORK, LeadSetModel, decide
from ecgcrnn.model.losses import make_loss
from ecgcrnn.model.network import average_networks, build_model, criteria_probabilities
from ecgcrnn.pipeline import PipelineSettings
from ecgcrnn.training.curves import plot_learning_curves
from ecgcrnn.training.decisions import (
    MIN_RECORDS,
    DecisionRule,
    Evidence,
    fold_records,
    split_records,
    tuned_metric,
)
from ecgcrnn.training.distribute import current_strategy, is_chief, precision, prepare, worker_folder
from ecgcrnn.training.progress import EpochProgress
from ecgcrnn.training.settings import TrainingConfig
from ecgcrnn.training.thresholds import apply_thresholds, share_limits

log = logging.getLogger(__name__)

CHECKPOINTS = ".checkpoints"
FOLD_NETWORK = "network.keras"  # a finished fold's inference network, in its checkpoint folder


def train(
    data_directory, model_directory, config: TrainingConfig, settings: PipelineSettings
) -> dict[str, float]:
    """Train and save a model for every lead set of ``config``, its inputs made by the pipeline with
    ``settings`` (the cache's, which each saved model keeps); returns each one's out-of-fold (or, with
    ``threshold_folds`` 0, validation) Challenge metric."""
    strategy = current_strategy()  # before TensorFlow runs anything (a cluster's collectives need that)
    model_directory = Path(model_directory)
    cache_directory = Path(config.cache_directory or model_directory / "cache")
    cache = build_cache(data_directory, cache_directory, settings, config.lead_sets, config.n_jobs)
    if len(cache.usable) < MIN_RECORDS:
        raise ValueError(
            f"{data_directory}: {len(cache.usable)} readable records (the others are logged above): too few "
            f"to train; give a folder with at least {MIN_RECORDS} readable records"
        )
    log.info("%d records to learn from", len(cache.usable))
    results = {}
    for lead_set in config.lead_sets:
        meta_file = model_directory / lead_set / "model.json"
        if meta_file.is_file():
            log.info("%s-lead model already trained (%s); skipped", lead_set, meta_file)
            continue
        keras.utils.set_random_seed(config.seed)
        results[lead_set] = _train_lead_set(cache, lead_set, cache.usable, config, model_directory)
    if is_chief(strategy):
        shutil.rmtree(model_directory / CHECKPOINTS, ignore_errors=True)
    else:  # another worker's own folders are gone already; the chief's (shared storage) are its to remove
        with contextlib.suppress(OSError):
            (model_directory / CHECKPOINTS).rmdir()
    return results


@dataclass(frozen=True)
class NetworkFit:
    """One network trained with early stopping (:func:`fit_lead_set`) and what was learnt with it.

    Attributes
    ----------
    network : keras.Model
        The network of the best epoch, uncompiled, ready to save.
    thresholds : numpy.ndarray
        Per class (C,), tuned on the validation records; None for a network trained for no epoch.
    metric : float
        The Challenge metric of the thresholds on the validation records; NaN without them.
    history : list of dict
        Per epoch, the losses and the validation metric.
    prevalence : numpy.ndarray
        Each class's share of the training records (the criteria path's prior).
    best_epoch : int
        The epoch kept (0: the start, before any training).
    validation : numpy.ndarray
        The network's probabilities of the validation records (records, C); empty without thresholds.
    """

    network: keras.Model
    thresholds: np.ndarray | None
    metric: float
    history: list
    prevalence: np.ndarray
    best_epoch: int = 0
    validation: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


@dataclass(frozen=True)
class LeadSetFit:
    """One lead set's trained model (:func:`fit_with_thresholds`) and how its training went.

    Attributes
    ----------
    model : LeadSetModel
        The network (one, or the fold networks' average, :func:`ecgcrnn.model.network.average_networks`),
        its thresholds, what decides each class, the training prevalence and the cache's settings.
    metric : float
        The Challenge metric of the thresholds on the records they were chosen on (out-of-fold or
        validation); NaN without them.
    history : list of dict
        Per epoch, the losses and validation metric (per fold, ``{"fold": f, ...}``, with folds).
    best_epoch : int
        The epoch kept (0: the start, before any training); for fold networks, the median of theirs.
    """

    model: LeadSetModel
    metric: float
    history: list
    best_epoch: int = 0


def fit_with_thresholds(cache, lead_set, records, config, checkpoint, batches=None) -> LeadSetFit:
    """One lead set's model from ``records``, with thresholds chosen by ``config``'s rule, for inputs made
    with the cache's settings.

    With ``config.threshold_folds`` k >= 2: k fold networks (:func:`fold_records`) give out-of-fold
    probabilities of every record, on which :class:`DecisionRule` chooses what decides each class and the
    thresholds (a class left to its criterion takes the criteria path's probability and the threshold 0.5,
    or its share limit's floor); the network kept is the fold networks' average, and ``best_epoch`` the
    median of their best epochs. ``checkpoint`` holds the folds' checkpoints; each finished fold leaves its
    network and its predictions there (``network.keras``, ``out_of_fold.npz``), from which an interrupted
    run resumes. With k = 0: :func:`fit_lead_set` on a ``config.validation_fraction`` split, thresholds
    tuned on the validation records, every class decided by the network.
    """
    records = np.sort(np.asarray(records))
    labels = cache.labels[records] > 0
    prevalence = labels.mean(axis=0)
    if config.threshold_folds == 0:
        train_records, validation_records = split_records(cache.labels, records, config)
        fit = fit_lead_set(cache, lead_set, train_records, validation_records, config, checkpoint, batches)
        model = LeadSetModel(
            lead_set,
            fit.network,
            thresholds=fit.thresholds,
            settings=cache.settings,
            prevalence=fit.prevalence,
        )
        return LeadSetFit(model, fit.metric, fit.history, fit.best_epoch)
    evidence = Evidence.of(cache, config)
    folds = fold_records(cache.labels, records, config, evidence.sources)
    oof, fold_of, networks, best_epochs, history = _fold_networks(
        cache, lead_set, records, folds, config, checkpoint, batches
    )
    rule = DecisionRule(
        labels,
        evidence.for_thresholds(records),
        evidence.sources[records],
        share_limits(labels & evidence.known[records], evidence.sources[records], config.max_share_ratio),
        config.share_confidence,
    )
    criteria = criteria_record_probabilities(cache, lead_set, records, prevalence)
    few = labels.sum(axis=0) < config.min_positives
    by_criteria = rule.fallback(oof, criteria, few, fold_of) if config.criteria_fallback else few
    decided_by = tuple(CRITERIA if flag else NETWORK for flag in by_criteria)
    oof = decide(oof, criteria, by_criteria)
    thresholds = rule.thresholds(oof, by_criteria)
    metric = rule.metric(apply_thresholds(oof, thresholds))
    log.info(
        "%s leads: out-of-fold challenge metric %.3f; the fold networks' best epochs %s; decided by the "
        "criteria: %d classes",
        lead_set,
        metric,
        best_epochs,
        int(by_criteria.sum()),
    )
    network = average_networks(networks, f"crnn_{len(LEAD_SETS[lead_set])}_leads")
    rules = {"decided_by": decided_by, "prevalence": prevalence}
    model = LeadSetModel(lead_set, network, thresholds=thresholds, settings=cache.settings, **rules)
    return LeadSetFit(model, metric, history, int(np.median(best_epochs)))


def _fold_networks(cache, lead_set, records, folds, config, checkpoint, batches):
    """Each fold's network trained (or, finished before an interruption, loaded) and its predictions of the
    records it held out: (out-of-fold probabilities (N, C), each record's fold (N,), the networks, their best
    epochs, the history of the folds trained now)."""
    oof, fold_of = np.zeros((len(records), len(default_class_table()))), np.zeros(len(records), dtype=int)
    networks, best_epochs, history = [], [], []
    for fold, (learn, held_out) in enumerate(folds):
        folder = checkpoint / f"fold{fold + 1}"
        done = folder / "out_of_fold.npz"
        if done.is_file():  # finished before an interruption
            saved = np.load(done)
            probabilities, best, fold_history = saved["probabilities"], int(saved["best_epoch"]), []
            network = _load_network(folder / FOLD_NETWORK)
        else:
            fit = fit_lead_set(cache, lead_set, learn, held_out, config, folder, batches)
            probabilities, best, fold_history = fit.validation, fit.best_epoch, fit.history
            network = fit.network
            _save_atomically(network.save, folder / FOLD_NETWORK)  # before the predictions: they mark it done
            save_arrays(done, probabilities=probabilities, best_epoch=best, thresholds=fit.thresholds)
        oof[np.searchsorted(records, held_out)] = probabilities
        fold_of[np.searchsorted(records, held_out)] = fold
        networks.append(network)
        best_epochs.append(best)
        history += [{"fold": fold + 1, **epoch} for epoch in fold_history]
        log.info("%s leads: fold %d of %d, best epoch %d", lead_set, fold + 1, config.threshold_folds, best)
    return oof, fold_of, networks, best_epochs, history


def criteria_record_probabilities(cache, lead_set: str, records, prevalence) -> np.ndarray:
    """The criteria path's probabilities (records, C), each record's mean over its windows, from the cache."""
    windows, owners = cache.windows_of(np.asarray(records))
    readers = cache.readers(lead_set)
    grades, known = (np.asarray(readers[n][windows], np.float64) for n in ("criteria", "criteria_mask"))
    return average_by_owner(criteria_probabilities(grades, known, prevalence), owners, records)


def fit_lead_set(
    cache,
    lead_set,
    train_records,
    validation_records,
    config,
    checkpoint,
    batches=None,
) -> NetworkFit:
    """Train one lead set's network from the criteria's start, for inputs made with the cache's settings.

    The epoch with the best Challenge metric on ``validation_records`` is kept (early stopping after
    ``config.patience_epochs`` without progress; the start, epoch 0, competes), with the thresholds tuned
    on them; with ``config.epochs`` 0 the network is the start, without thresholds.

    ``checkpoint`` is the folder for the per-epoch checkpoint; a run that finds one there resumes from it.
    ``batches`` makes the input pipeline (called as :class:`ecgcrnn.data.batches.WindowBatches` is, the
    default). Under a ``tf.distribute`` strategy (call it inside ``strategy.scope()``) a batch holds
    ``config.batch_size`` records per replica.
    """
    batches = batches or WindowBatches
    table = default_class_table()
    leads = LEAD_SETS[lead_set]
    state = _read_state(checkpoint)
    strategy = tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    batch, seed = config.batch_size * replicas, config.seed
    evidence = Evidence.of(cache, config)
    augmentation = {"gain_jitter": config.gain_jitter, "noise_mv": config.noise_mv}
    steps = {"max_batches": config.steps_per_epoch, "full_batches": replicas > 1}
    if evidence.in_loss:
        steps["targets"] = evidence.targets(cache.labels)
    training = batches(cache, lead_set, train_records, batch, seed, True, **augmentation, **steps)
    stats = feature_statistics(cache, lead_set, train_records)
    prevalence = cache.labels[train_records].mean(axis=0)
    shape = {"stats": stats, "settings": cache.settings, "prevalence": prevalence}
    shape["residual_l2"] = residual_penalty(len(train_records), config.residual_prior_sd)
    if state:
        log.info("%s leads: resuming after epoch %d", lead_set, state["epoch"] + 1)
        network = keras.saving.load_model(checkpoint / "last.keras", safe_mode=True)
        training.start_epoch(state["epoch"] + 1)
    else:
        with precision(config.mixed_precision):
            network = build_model(leads, table.names, config.network, **shape, unroll=False)
        network.compile(
            keras.optimizers.Adam(config.learning_rate),
            make_loss(config.loss, evidence.loss_prevalence(cache.labels, train_records)),
        )
    prepare(network, strategy)
    validation = batches(cache, lead_set, validation_records, batch, seed, False)
    labels = cache.labels[validation_records] > 0
    validation_known = evidence.for_thresholds(validation_records)
    monitor = ChallengeMonitor(validation, labels, table, config, checkpoint, state, validation_known)
    stopped = bool(state) and state["wait"] >= config.patience_epochs  # early, before a restart
    if config.epochs > (state["epoch"] + 1 if state else 0) and not stopped:
        network.fit(
            training,
            epochs=config.epochs,
            initial_epoch=state["epoch"] + 1 if state else 0,
            callbacks=[monitor, EpochProgress(disable=None if is_chief(strategy) else True)],
            verbose=0,  # EpochProgress draws bars on a terminal; the monitor logs each epoch
            shuffle=False,  # the batches are shuffled already; Keras' own order could differ between workers
        )
    probabilities = np.zeros((0, len(table)))
    if (checkpoint / "best.weights.h5").is_file():
        network.load_weights(checkpoint / "best.weights.h5")
        probabilities = predict_records(network, validation)
        thresholds, metric = tuned_metric(labels, probabilities, table, validation_known)
    else:
        thresholds, metric = None, float("nan")
    inference_network = build_model(leads, table.names, config.network, **shape)
    for layer in network.layers:
        inference_network.get_layer(layer.name).set_weights(layer.get_weights())
    return NetworkFit(
        inference_network, thresholds, metric, monitor.history, prevalence, monitor.best_epoch, probabilities
    )


def residual_penalty(records: int, prior_sd: float) -> float:
    """The L2 factor of the wide and deep paths' output kernels for ``records`` training records: a
    Gaussian prior of SD ``prior_sd`` on each weight against a loss averaged over the records,
    1 / (2 sd² n)."""
    return 1.0 / (2.0 * prior_sd**2 * max(records, 1))


def predict_records(network, batches) -> np.ndarray:
    """Per-record probabilities (records, C): the mean over each record's windows, as ``run_model`` does."""
    windows = network.predict(batches, verbose=0)
    return average_by_owner(windows, batches.owners, batches.records)


def _train_lead_set(cache, lead_set, records, config, root):
    strategy = current_strategy()
    checkpoint = worker_folder(root / CHECKPOINTS / lead_set, strategy)
    with strategy.scope():
        fitted = fit_with_thresholds(cache, lead_set, records, config, checkpoint)
    rule = "out_of_fold" if config.threshold_folds else "validation"
    extra = {f"{rule}_challenge_metric": fitted.metric, "history": fitted.history}
    extra |= {"epochs": fitted.best_epoch, "config": config.to_json()}
    chief = is_chief(strategy)  # other workers save into their temporary checkpoint folder, then delete it
    fitted.model.save(root if chief else checkpoint, extra)
    if chief:
        try:  # beside the model: loading checks only model.keras against model.json
            plot_learning_curves(fitted.history, root / lead_set / "learning_curves.png")
        except Exception as error:  # a figure is no reason to lose a trained model
            log.warning("%s leads: learning curves not drawn: %s", lead_set, error)
    else:
        shutil.rmtree(checkpoint, ignore_errors=True)
    log.info("%s leads: %s challenge metric %.3f", lead_set, rule.replace("_", "-"), fitted.metric)
    return fitted.metric


def _load_network(path: Path):
    return keras.saving.load_model(path, compile=False, safe_mode=True)


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
    """After each epoch: the validation Challenge metric, best weights, early stopping and halving the
    learning rate, and a resumable checkpoint.

    ``best_epoch`` is the epoch of the best weights (0: the start, scored before the first epoch).
    """

    def __init__(
        self, validation, labels, table, config: TrainingConfig, checkpoint: Path, state=None, known=None
    ):
        super().__init__()
        self.validation, self.labels, self.table, self.config = validation, labels, table, config
        self.known = known
        self.checkpoint = checkpoint
        checkpoint.mkdir(parents=True, exist_ok=True)
        state = state or {"epoch": -1, "best": -np.inf, "wait": 0, "history": [], "best_epoch": 0}
        self.best, self.wait, self.history = state["best"], state["wait"], state["history"]
        self.best_epoch = state.get("best_epoch", 0)

    def on_train_begin(self, logs=None):
        if not self.model.optimizer.built:  # so that every saved weights file has the same variables
            self.model.optimizer.build(self.model.trainable_variables)
        if not self.history:  # a fresh start: score the start as epoch 0
            _, metric = tuned_metric(
                self.labels, predict_records(self.model, self.validation), self.table, self.known
            )
            self.best, self.best_epoch = metric, 0
            _save_atomically(self.model.save_weights, self.checkpoint / "best.weights.h5")
            log.info("epoch 0: validation challenge metric %.3f", metric)

    def on_epoch_end(self, epoch, logs=None):
        self._validate(epoch, {} if logs is None else logs)
        _save_atomically(self.model.save, self.checkpoint / "last.keras")
        state = {"epoch": epoch, "best": self.best, "wait": self.wait, "history": self.history}
        _write_state(self.checkpoint, state | {"best_epoch": self.best_epoch})

    def _validate(self, epoch: int, logs: dict) -> None:
        _, metric = tuned_metric(
            self.labels, predict_records(self.model, self.validation), self.table, self.known
        )
        logs["val_challenge_metric"] = metric  # in place: the progress bar after this callback shows it
        self.history.append({key: float(value) for key, value in logs.items()})
        if metric > self.best:
            self.best, self.wait, self.best_epoch = metric, 0, epoch + 1
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
