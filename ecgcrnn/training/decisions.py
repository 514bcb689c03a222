"""How a lead set's training records become decisions: the splits, the evidence, the decision rule.

The records are split for early stopping and thresholds (:func:`split_records`, one validation share; or
:func:`fold_records`, threshold folds, each source's records in one fold so that every out-of-fold
prediction is one for a hospital its network did not see). A label the record's source never gives, or
cannot read from its signals, is no evidence (:class:`Evidence`). :class:`DecisionRule` turns the
out-of-fold predictions into each class's threshold, chosen for the Challenge metric
(:func:`ecgcrnn.training.thresholds.choose_thresholds`) within the share limits, and chooses between a
class's network and its criterion.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold, MultilabelStratifiedShuffleSplit

from ecgcrnn.data.sources import label_known, sources_of
from ecgcrnn.domain import default_class_table
from ecgcrnn.model.lead_set import decide
from ecgcrnn.model.losses import UNKNOWN
from ecgcrnn.scoring.metrics import compute_challenge_metric
from ecgcrnn.training.settings import TrainingConfig
from ecgcrnn.training.thresholds import TOLERANCE, apply_thresholds, choose_thresholds, share_floor

log = logging.getLogger(__name__)

MIN_RECORDS = 4  # readable records needed to train and validate


def split_records(labels: np.ndarray, usable: np.ndarray, config: TrainingConfig):
    """Multilabel-stratified (iterative stratification) training and validation record indices."""
    if len(usable) < MIN_RECORDS:
        raise ValueError(f"{len(usable)} usable records: too few to train and validate")
    splitter = MultilabelStratifiedShuffleSplit(
        n_splits=1, test_size=config.validation_fraction, random_state=config.seed
    )
    train_index, validation_index = next(splitter.split(np.zeros(len(usable)), labels[usable]))
    return np.sort(usable[train_index]), np.sort(usable[validation_index])


def fold_records(labels: np.ndarray, records: np.ndarray, config: TrainingConfig, sources=None):
    """``config.threshold_folds`` (learn, held out) pairs of sorted record indices.

    With ``config.threshold_grouping`` ``"sources"`` and ``sources`` (each cache record's source), every
    source's records fall in one fold, the sources dealt largest first to the fold with the fewest records;
    otherwise (or where the records come from fewer sources than folds) the folds are
    multilabel-stratified."""
    records = np.sort(np.asarray(records))
    if len(records) < max(MIN_RECORDS, config.threshold_folds):
        raise ValueError(f"{len(records)} usable records: too few for {config.threshold_folds} folds")
    if config.threshold_grouping == "sources" and sources is not None:
        groups = np.asarray(sources)[records]
        if len(set(groups)) >= config.threshold_folds:
            fold_of = group_folds(groups, config.threshold_folds)
            for fold in range(config.threshold_folds):
                log.info("threshold fold %d: %s", fold + 1, ", ".join(sorted(set(groups[fold_of == fold]))))
                yield records[fold_of != fold], records[fold_of == fold]
            return
        log.info(
            "records from %d sources, fewer than the threshold folds: stratified folds", len(set(groups))
        )
    splitter = MultilabelStratifiedKFold(config.threshold_folds, shuffle=True, random_state=config.seed)
    for learn, held_out in splitter.split(np.zeros(len(records)), labels[records]):
        yield records[learn], records[held_out]


def group_folds(groups, folds: int) -> np.ndarray:
    """The fold (0 .. folds - 1) of each record (N,), every group in one fold: the groups, largest first
    (ties by name), each go to the fold that holds the fewest records so far."""
    names, counts = np.unique(np.asarray(groups), return_counts=True)
    sizes = np.zeros(folds, dtype=int)
    fold_of_group = {}
    for index in sorted(range(len(names)), key=lambda i: (-counts[i], str(names[i]))):
        fold = int(np.argmin(sizes))
        fold_of_group[names[index]] = fold
        sizes[fold] += counts[index]
    return np.array([fold_of_group[group] for group in groups], dtype=int)


@dataclass(frozen=True)
class Evidence:
    """Which of the cache's labels are evidence (:func:`ecgcrnn.data.sources.label_known`), and where
    ``config.unknown_labels`` leaves the others out.

    Attributes
    ----------
    sources : numpy.ndarray of str, shape (records,)
    known : numpy.ndarray of bool, shape (records, C)
    in_loss, in_thresholds : bool
        Whether unknown labels are left out of the loss, and of the threshold choice, early stopping and
        the choice between network and criterion.
    """

    sources: np.ndarray
    known: np.ndarray
    in_loss: bool
    in_thresholds: bool

    @classmethod
    def of(cls, cache, config: TrainingConfig) -> Evidence:
        sources = sources_of(cache.record_ids)
        known = label_known(sources, cache.labels, cache.amplitudes_recorded)
        mode = config.unknown_labels
        return cls(sources, known, mode in ("loss", "both"), mode in ("thresholds", "both"))

    def targets(self, labels: np.ndarray) -> np.ndarray:
        """The loss's targets (records, C): the labels, unknown ones :data:`ecgcrnn.model.losses.UNKNOWN`."""
        targets = (np.asarray(labels) > 0).astype(np.float32)
        return np.where(self.known | (not self.in_loss), targets, np.float32(UNKNOWN))

    def loss_prevalence(self, labels: np.ndarray, records) -> np.ndarray:
        """Each class's share (C,) of positives among ``records`` whose label the loss reads."""
        labels = np.asarray(labels)[records] > 0
        read = self.known[records] if self.in_loss else np.ones(labels.shape, bool)
        return (labels & read).sum(axis=0) / np.maximum(read.sum(axis=0), 1)

    def for_thresholds(self, records) -> np.ndarray | None:
        """The known mask of ``records`` for the threshold choice, or None where every label counts."""
        return self.known[records] if self.in_thresholds else None


@dataclass(frozen=True)
class DecisionRule:
    """How the out-of-fold predictions of a lead set's training records become decisions.

    Each class is stated where its probability reaches its threshold, chosen for the Challenge metric
    (:func:`ecgcrnn.training.thresholds.choose_thresholds`) with unknown labels left out (``known``), never
    below the threshold at which some source would have more than its share limit stated
    (:func:`~ecgcrnn.training.thresholds.share_limits`, :func:`~ecgcrnn.training.thresholds.share_floor`);
    a class decided by its criterion keeps 0.5 (or that floor).

    Attributes
    ----------
    labels : numpy.ndarray of bool, shape (N, C)
    known : numpy.ndarray of bool, shape (N, C), or None
    sources : numpy.ndarray of str, shape (N,)
    limits : numpy.ndarray of float, shape (C,)
    confidence : float
        The share floor's binomial quantile level (:func:`~ecgcrnn.training.thresholds.share_floor`).
    """

    labels: np.ndarray
    known: np.ndarray | None
    sources: np.ndarray
    limits: np.ndarray
    confidence: float = 0.0

    def thresholds(self, probabilities: np.ndarray, by_criteria: np.ndarray, rows=slice(None)) -> np.ndarray:
        """Thresholds (C,) chosen on ``probabilities`` (N, C) of the records ``rows``."""
        table = default_class_table()
        known = None if self.known is None else self.known[rows]
        floor = share_floor(probabilities[rows], self.sources[rows], self.limits, self.confidence)
        fixed = np.where(by_criteria, 0.5, np.nan)
        return choose_thresholds(
            self.labels[rows],
            probabilities[rows],
            table.weights,
            table.normal_index,
            fixed=fixed,
            known=known,
            floor=floor,
        )

    def metric(self, outputs: np.ndarray, rows=slice(None)) -> float:
        """The Challenge metric of binary ``outputs`` (N, C) on the records ``rows``, unknown labels out."""
        known = None if self.known is None else self.known[rows]
        return evidence_metric(self.labels[rows], outputs[rows], known)

    def source_mean(self, outputs: np.ndarray) -> float:
        """The mean over sources of each source's :meth:`metric`: every hospital counts the same."""
        return float(np.mean([self.metric(outputs, self.sources == s) for s in np.unique(self.sources)]))

    def cross_fitted(self, probabilities: np.ndarray, by_criteria: np.ndarray, fold_of: np.ndarray):
        """Binary outputs (N, C), each fold's records thresholded as chosen on the other folds' records."""
        outputs = np.zeros(probabilities.shape, dtype=bool)
        for fold in np.unique(fold_of):
            part = fold_of == fold
            outputs[part] = probabilities[part] >= self.thresholds(probabilities, by_criteria, ~part)
        return outputs

    def fallback(self, network, criteria, by_criteria, fold_of) -> np.ndarray:
        """Which classes (C,) are decided by their criterion: ``by_criteria``, and each class in turn whose
        criterion raises the mean over sources of the cross-fitted metric (:meth:`cross_fitted`: each
        threshold chosen on other hospitals than those it is scored on) above its network's."""
        chosen = np.asarray(by_criteria, dtype=bool).copy()
        best = self.source_mean(self.cross_fitted(decide(network, criteria, chosen), chosen, fold_of))
        for k in np.flatnonzero(~chosen):
            trial = chosen.copy()
            trial[k] = True
            score = self.source_mean(self.cross_fitted(decide(network, criteria, trial), trial, fold_of))
            if score > best + TOLERANCE:
                chosen, best = trial, score
        return chosen


def tuned_metric(
    labels: np.ndarray, probabilities: np.ndarray, table, known=None
) -> tuple[np.ndarray, float]:
    """Per-class thresholds chosen for the Challenge metric on these records, and the metric they reach;
    ``known`` (N, C), where given, leaves the labels that are no evidence out of both."""
    thresholds = choose_thresholds(labels, probabilities, table.weights, table.normal_index, known=known)
    return thresholds, evidence_metric(labels, apply_thresholds(probabilities, thresholds), known)


def evidence_metric(labels: np.ndarray, outputs: np.ndarray, known=None) -> float:
    """The Challenge metric of binary ``outputs`` (N, C) against ``labels`` (N, C), the entries ``known``
    (N, C) marks False (labels that are no evidence) left out of both; all count without ``known``."""
    table = default_class_table()
    if known is not None:
        labels, outputs = labels & known, outputs & known
    return compute_challenge_metric(table.weights, labels, outputs, table.normal_index)
