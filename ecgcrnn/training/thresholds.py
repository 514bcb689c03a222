"""Per-class decision thresholds chosen to maximise the Challenge metric on a validation set.

A recording is predicted positive for class k when its probability is at least ``thresholds[k]``. The
thresholds are found by coordinate ascent on the challenge metric (docs/scoring.md): from a start point, each
class in turn takes the candidate threshold that scores best with the other classes held fixed, for a few
passes until none improves. Two start points are climbed, the per-class F-measure optimum and one threshold
for every class, and the better result is kept, so it never scores below either.

Changing one class k changes each recording's numerator Σ_k' R_ik' O_ik' (R = L W) and union size n_i by a
per-recording amount, so the score of every candidate threshold of class k is one cumulative sum over the
recordings sorted by their class-k probability: S(t) = Σ_i off_i + Σ_{i: p_ik >= t} (on_i − off_i), where
on_i and off_i are recording i's score with class k predicted and not predicted.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

from ecgcrnn.scoring.metrics import inactive_outputs, normalise_score, raw_score, reward_matrix

NEVER = 1.0  # the highest threshold: predicts a class only for recordings whose probability is exactly 1
UNKNOWN = -1.0  # stands for the probability of an unknown label: below every threshold, never predicted
TOLERANCE = 1e-12  # a move must raise the metric by more than this


def choose_thresholds(
    labels,
    probabilities,
    weights,
    normal_index: int,
    candidates: int = 100,
    passes: int = 5,
    default=0.5,
    fixed=None,
    known=None,
    floor=None,
) -> np.ndarray:
    """Per-class thresholds that maximise the challenge metric of ``probabilities >= thresholds``.

    Parameters
    ----------
    labels : array_like of bool, shape (N, C)
        Validation labels.
    probabilities : array_like of float, shape (N, C)
        Validation probabilities in [0, 1]; NaN is rejected.
    weights : array_like of float, shape (C, C)
        The Challenge's weights W[j, k] for predicting k when j is true; NaN entries count as 0.
    normal_index : int
        The sinus-rhythm class, the only one the inactive classifier predicts.
    candidates : int, default 100
        Per class, the thresholds tried are the ``candidates + 1`` evenly spaced quantiles of that class's
        probabilities, the grid 0, 1/candidates, ..., 1, and the current threshold.
    passes : int, default 5
        The most passes over the classes; the ascent stops after a pass that changes nothing.
    default : float, default 0.5
        The one threshold of the second start point.
    fixed : array_like of float, shape (C,), optional
        Thresholds that are given, not chosen: a class whose entry is not NaN keeps it (the others are
        chosen with these in place).
    known : array_like of bool, shape (N, C), optional
        False where a label is no evidence (:func:`ecgcrnn.data.sources.label_known`): that entry is left
        out of the metric, as if the class were neither labelled nor predicted there. Default: all known.
    floor : array_like of float, shape (C,), optional
        The lowest threshold each class may take (a given threshold is raised to it too).

    Returns
    -------
    numpy.ndarray of float, shape (C,)
        Thresholds in [0, 1]. A class that is best never predicted gets a threshold above all of its
        validation probabilities (1.0 when one of them is 1.0). When the metric cannot vary (S_true =
        S_inactive), the F-measure start point.

    Raises
    ------
    ValueError
        When the shapes disagree, a probability is NaN or outside [0, 1], or an argument is out of range.
    """
    labels, probabilities = _check_inputs(labels, probabilities)
    classes = labels.shape[1]
    weights = _check_weights(weights, classes)
    _check_options(classes, normal_index, candidates, passes, default)
    fixed, floor = (
        _per_class(values, classes, name) for values, name in ((fixed, "fixed"), (floor, "floor"))
    )
    floor = np.nan_to_num(floor, nan=0.0)
    if known is not None:
        known = np.asarray(known, dtype=bool)
        if known.shape != labels.shape:
            raise ValueError(f"known of shape {known.shape} does not match labels of shape {labels.shape}")
        labels, probabilities = labels & known, np.where(known, probabilities, UNKNOWN)
    metric = IncrementalMetric(labels, probabilities, weights, normal_index)
    given = np.isfinite(fixed)
    grids = [
        grid[:0] if given[k] else np.union1d(grid[grid >= floor[k]], floor[k])
        for k, grid in enumerate(candidate_thresholds(probabilities, candidates))
    ]
    starts = (_f_measure_thresholds(labels, probabilities, candidates), np.full(classes, default))
    starts = tuple(np.maximum(np.where(given, fixed, start), floor) for start in starts)
    results = [_ascend(metric, start, grids, passes) for start in starts]
    scores = [metric.score(apply_thresholds(probabilities, t)) for t in results]
    return results[1] if scores[1] > scores[0] + TOLERANCE else results[0]


def apply_thresholds(probabilities, thresholds) -> np.ndarray:
    """Binary outputs, ``probabilities >= thresholds``, of shape (N, C) (or (C,) for one recording).

    Parameters
    ----------
    probabilities : array_like of float, shape (N, C) or (C,)
        Probabilities; NaN is rejected.
    thresholds : array_like of float, shape (C,)
    """
    probabilities = np.asarray(probabilities, dtype=float)
    thresholds = np.asarray(thresholds, dtype=float)
    if thresholds.ndim != 1 or probabilities.ndim not in (1, 2) or probabilities.shape[-1] != len(thresholds):
        raise ValueError(
            f"probabilities of shape {probabilities.shape} do not match {thresholds.shape} thresholds"
        )
    if np.isnan(probabilities).any() or np.isnan(thresholds).any():
        raise ValueError("probabilities and thresholds must not be NaN")
    return probabilities >= thresholds


def candidate_thresholds(probabilities: np.ndarray, candidates: int) -> list[np.ndarray]:
    """Per class, the sorted distinct candidate thresholds: quantiles of its probabilities and a grid.

    Parameters
    ----------
    probabilities : numpy.ndarray of float, shape (N, C)
    candidates : int
        ``candidates + 1`` quantile levels and grid points, evenly spaced over [0, 1] (both included).

    Returns
    -------
    list of C numpy.ndarray of float, each of at most 2 (candidates + 1) values in [0, 1]
    """
    levels = np.linspace(0.0, 1.0, candidates + 1)
    quantiles = np.clip(np.quantile(probabilities, levels, axis=0), 0.0, 1.0)  # (candidates + 1, C)
    return [np.unique(np.concatenate((levels, column))) for column in quantiles.T]


def best_f_measure_thresholds(labels, probabilities, candidates: int = 100) -> np.ndarray:
    """Per class, the candidate threshold that maximises the F-measure 2 TP / (2 TP + FP + FN).

    A class without positive labels is never predicted (threshold 1.0). Among thresholds of equal
    F-measure, the middle of the first run of best candidates is taken.

    Parameters
    ----------
    labels : array_like of bool, shape (N, C)
    probabilities : array_like of float, shape (N, C)
        In [0, 1].
    candidates : int, default 100
        As in :func:`choose_thresholds`.

    Returns
    -------
    numpy.ndarray of float, shape (C,)
    """
    labels, probabilities = _check_inputs(labels, probabilities)
    _check_options(labels.shape[1], 0, candidates, 0, 0.0)
    return _f_measure_thresholds(labels, probabilities, candidates)


def share_floor(probabilities, groups, limits, confidence: float = 0.0) -> np.ndarray:
    """Per class, the lowest threshold at which no group has more records predicted than its limit allows.

    A group of n records may have ``floor(limit n)`` of them predicted, or, with ``confidence`` q above 0,
    as many as a group whose true share is the limit has with probability q: the q-quantile of
    Binomial(n, limit), if that is more. The quantile keeps a small group from being held to a share its
    size cannot resolve (3 calls of 7 records against a limit of 0.3 is no storm), while a large group
    stays close to the limit itself.

    Parameters
    ----------
    probabilities : array_like of float, shape (N, C)
        Each record's probabilities (for a group's records, from a network that did not see the group).
    groups : array_like, shape (N,)
        Each record's group (its source).
    limits : array_like of float, shape (C,)
        The largest share of a group's records that may be predicted positive, per class (1: no limit).
    confidence : float, default 0
        The binomial quantile's level q in [0, 1); 0 is the plain ``floor(limit n)``.

    Returns
    -------
    numpy.ndarray of float, shape (C,)
        Thresholds in [0, 1] (0 where no group binds); the records beyond the allowed count fall below the
        threshold (ties included).
    """
    probabilities = np.asarray(probabilities, dtype=float)
    groups, limits = np.asarray(groups), np.asarray(limits, dtype=float)
    if not 0 <= confidence < 1:
        raise ValueError(f"confidence {confidence}: expected at least 0 and below 1")
    floor = np.zeros(probabilities.shape[1])
    for group in np.unique(groups):
        descending = -np.sort(-probabilities[groups == group], axis=0)
        allowed = allowed_calls(len(descending), limits, confidence)
        for k in np.flatnonzero(allowed < len(descending)):
            floor[k] = max(floor[k], min(np.nextafter(descending[allowed[k], k], np.inf), NEVER))
    return floor


def allowed_calls(records: int, limits, confidence: float = 0.0) -> np.ndarray:
    """Per class, how many of a source's ``records`` may be stated at the share ``limits`` (C,):
    ``floor(limit records)``, or with ``confidence`` q above 0 the q-quantile of Binomial(records, limit) if
    that is more (what a source whose true share is the limit states with probability q)."""
    limits = np.asarray(limits, dtype=float)
    allowed = np.floor(limits * records + 1e-9).astype(int)
    if confidence > 0:
        allowed = np.maximum(allowed, binom.ppf(confidence, records, limits).astype(int))
    return allowed


def share_limits(evidence_labels: np.ndarray, sources, ratio: float) -> np.ndarray:
    """Per class (C,), the largest share of a source's records that may be stated: ``ratio`` times the
    largest share of records any source labels with it (``evidence_labels``, (N, C) bool, the positive
    labels that are evidence); 1 (no limit) with ratio 0."""
    if ratio == 0:
        return np.ones(evidence_labels.shape[1])
    sources = np.asarray(sources)
    shares = [evidence_labels[sources == source].mean(axis=0) for source in np.unique(sources)]
    return np.minimum(ratio * np.max(shares, axis=0), 1.0)


def _f_measure_thresholds(labels: np.ndarray, probabilities: np.ndarray, candidates: int) -> np.ndarray:
    """:func:`best_f_measure_thresholds` of checked inputs (probabilities may hold :data:`UNKNOWN`)."""
    ascending = np.sort(probabilities, axis=0)
    thresholds = np.full(labels.shape[1], NEVER)
    for k, grid in enumerate(candidate_thresholds(probabilities, candidates)):
        positives = np.sort(probabilities[labels[:, k], k])
        if len(positives) == 0:
            continue
        predicted = len(ascending) - np.searchsorted(ascending[:, k], grid, side="left")
        true_positives = len(positives) - np.searchsorted(positives, grid, side="left")
        f_measure = 2 * true_positives / (predicted + len(positives))
        thresholds[k] = _middle_of_best(grid, f_measure)
    return thresholds


class IncrementalMetric:
    """The challenge metric of thresholded validation probabilities, re-evaluated one class at a time.

    The metric is :mod:`ecgcrnn.scoring.metrics`'s (its reward matrix, raw score and normalisation);
    :meth:`column_scores` is its incremental form, the score of every threshold of one class at once.

    Parameters
    ----------
    labels : numpy.ndarray of bool, shape (N, C)
    probabilities : numpy.ndarray of float, shape (N, C)
    weights : numpy.ndarray of float, shape (C, C)
        NaN entries count as 0.
    normal_index : int
    """

    def __init__(self, labels: np.ndarray, probabilities: np.ndarray, weights: np.ndarray, normal_index: int):
        self.labels = labels
        self.probabilities = probabilities
        self.reward = reward_matrix(weights, labels)  # (N, C): Σ_j L_ij W_jk
        order = np.argsort(probabilities, axis=0, kind="stable")
        self.ascending = np.take_along_axis(probabilities, order, axis=0)  # (N, C), each column sorted
        self.descending_order = np.ascontiguousarray(order[::-1].T)  # (C, N)
        self.inactive_score = raw_score(self.reward, labels, inactive_outputs(labels.shape, normal_index))
        self.correct_score = raw_score(self.reward, labels, labels)

    def outputs(self, thresholds: np.ndarray) -> np.ndarray:
        """Binary outputs (N, C) of the validation probabilities at thresholds (C,)."""
        return self.probabilities >= thresholds

    def score(self, outputs: np.ndarray) -> float:
        """The challenge metric of binary outputs (N, C); 0 when S_true = S_inactive."""
        return self._normalise(raw_score(self.reward, self.labels, outputs))

    def column_scores(self, outputs: np.ndarray, k: int, thresholds: np.ndarray) -> np.ndarray:
        """The metric of ``outputs`` with column k replaced by ``probabilities[:, k] >= t``, per threshold.

        Parameters
        ----------
        outputs : numpy.ndarray of bool, shape (N, C)
            Column k is ignored.
        k : int
        thresholds : numpy.ndarray of float, shape (T,)

        Returns
        -------
        numpy.ndarray of float, shape (T,)
        """
        others = outputs.copy()
        others[:, k] = False
        numerator = np.einsum("ik,ik->i", self.reward, others)
        union = np.count_nonzero(self.labels | others, axis=1)  # counts class k where it is labelled
        off = numerator / np.maximum(union, 1)
        on = (numerator + self.reward[:, k]) / (union + ~self.labels[:, k])
        gain = np.zeros(len(on) + 1)
        np.cumsum((on - off)[self.descending_order[k]], out=gain[1:])
        predicted = len(on) - np.searchsorted(self.ascending[:, k], thresholds, side="left")
        return self._normalise(off.sum() + gain[predicted])

    def _normalise(self, raw):
        return normalise_score(raw, self.correct_score, self.inactive_score)


def _ascend(metric: IncrementalMetric, start: np.ndarray, grids: list[np.ndarray], passes: int) -> np.ndarray:
    """Coordinate ascent from ``start`` (C,): each class moves to its best candidate while that helps."""
    thresholds = start.copy()
    outputs = metric.outputs(thresholds)
    for _ in range(passes):
        moved = False
        for k, grid in enumerate(grids):
            if not len(grid):  # a given threshold
                continue
            scores = metric.column_scores(outputs, k, np.append(grid, thresholds[k]))
            if scores[:-1].max() > scores[-1] + TOLERANCE:
                thresholds[k] = _middle_of_best(grid, scores[:-1])
                outputs[:, k] = metric.probabilities[:, k] >= thresholds[k]
                moved = True
        if not moved:
            break
    return thresholds


def _middle_of_best(values: np.ndarray, scores: np.ndarray) -> float:
    """The middle value of the first run of consecutive ``values`` (T,) whose ``scores`` (T,) are best."""
    best = scores >= scores.max() - TOLERANCE
    start = int(np.argmax(best))
    length = int(np.argmin(best[start:])) if not best[start:].all() else len(best) - start
    return float(values[start + (length - 1) // 2])


def _per_class(values, classes: int, name: str) -> np.ndarray:
    """Per-class values (C,), all NaN where ``values`` is None."""
    values = np.full(classes, np.nan) if values is None else np.asarray(values, dtype=float)
    if values.shape != (classes,):
        raise ValueError(f"{name} thresholds of shape {values.shape} do not match {classes} classes")
    return values


def _check_inputs(labels, probabilities) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels)
    probabilities = np.asarray(probabilities, dtype=float)
    if labels.ndim != 2 or labels.shape[0] == 0 or labels.shape[1] == 0:
        raise ValueError(f"expected a (recordings, classes) label matrix, got shape {labels.shape}")
    if probabilities.shape != labels.shape:
        raise ValueError(
            f"probabilities of shape {probabilities.shape} do not match labels of shape {labels.shape}"
        )
    if np.isnan(probabilities).any():
        raise ValueError(f"{np.count_nonzero(np.isnan(probabilities))} probabilities are NaN")
    if probabilities.min() < 0 or probabilities.max() > 1:
        raise ValueError(
            f"probabilities must lie in [0, 1], got [{probabilities.min():g}, {probabilities.max():g}]"
        )
    return labels.astype(bool), probabilities


def _check_weights(weights, num_classes: int) -> np.ndarray:
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (num_classes, num_classes):
        raise ValueError(f"weights of shape {weights.shape} do not match {num_classes} classes")
    return weights


def _check_options(num_classes: int, normal_index: int, candidates: int, passes: int, default) -> None:
    if not 0 <= normal_index < num_classes:
        raise ValueError(f"normal_index {normal_index} is not one of the {num_classes} classes")
    if candidates < 1:
        raise ValueError(f"candidates must be at least 1, got {candidates}")
    if passes < 0:
        raise ValueError(f"passes must be at least 0, got {passes}")
    if not 0 <= default <= 1:
        raise ValueError(f"default threshold must lie in [0, 1], got {default}")
