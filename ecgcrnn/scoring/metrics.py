"""The PhysioNet/CinC Challenge 2021 scores: AUROC, AUPRC, accuracy, F-measure and the challenge metric.

The definitions follow the Challenge's evaluator exactly (docs/scoring.md) and give the same numbers; the
metrics are vectorised over recordings, classes and thresholds. The challenge metric is written once, in
small pieces (:func:`reward_matrix`, :func:`inactive_outputs`, :func:`raw_score`, :func:`normalise_score`)
that the threshold search of :mod:`ecgcrnn.training.thresholds` reuses. Reading the label and output
folders is :mod:`ecgcrnn.scoring.evaluate`'s work.

Reference: Reyna et al., "Will Two Do? Varying Dimensions in Electrocardiography: the PhysioNet/Computing in
Cardiology Challenge 2021", Computing in Cardiology 48, 2021.
"""

from __future__ import annotations

import functools
import os
from typing import NamedTuple

import numpy as np

from ecgcrnn.domain import ClassTable, class_string, default_class_table


class Scores(NamedTuple):
    """The evaluator's results, in the order the Challenge's ``evaluate_model`` returns them.

    ``classes`` holds the C class code sets; the ``*_classes`` arrays have shape (C,) and may hold NaN.
    """

    classes: list[frozenset[str]]
    auroc: float
    auprc: float
    auroc_classes: np.ndarray
    auprc_classes: np.ndarray
    accuracy: float
    f_measure: float
    f_measure_classes: np.ndarray
    challenge_metric: float


def compute_scores(labels, binary_outputs, scalar_outputs, table: ClassTable | None = None) -> Scores:
    """Every score from label and output matrices of shape (N, C) (bool, bool and float)."""
    table = default_class_table() if table is None else table
    auroc, auprc, auroc_classes, auprc_classes = compute_auc(labels, scalar_outputs)
    accuracy = compute_accuracy(labels, binary_outputs)
    f_measure, f_measure_classes = compute_f_measure(labels, binary_outputs)
    challenge_metric = compute_challenge_metric(table.weights, labels, binary_outputs, table.normal_index)
    return Scores(
        list(table.codes),
        auroc,
        auprc,
        auroc_classes,
        auprc_classes,
        accuracy,
        f_measure,
        f_measure_classes,
        challenge_metric,
    )


def compute_accuracy(labels, outputs) -> float:
    """Fraction of recordings whose binary outputs (N, C) equal their labels (N, C) in every class."""
    labels, outputs = _check_binary(labels, outputs)
    return np.count_nonzero(np.all(labels == outputs, axis=1)) / labels.shape[0]


def compute_f_measure(labels, outputs) -> tuple[float, np.ndarray]:
    """Macro F-measure and per-class F-measures (C,) of binary outputs (N, C) against labels (N, C).

    Per class 2·TP / (2·TP + FP + FN), NaN when that denominator is 0; the macro value is the mean over the
    classes that are not NaN, NaN when all are.
    """
    labels, outputs = _check_binary(labels, outputs)
    tp = np.count_nonzero(labels & outputs, axis=0)
    fp = np.count_nonzero(outputs, axis=0) - tp
    fn = np.count_nonzero(labels, axis=0) - tp
    f_measure = _divide(2 * tp, 2 * tp + fp + fn)
    return _nanmean(f_measure), f_measure


def compute_auc(labels, outputs) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Macro AUROC, macro AUPRC, and per-class AUROC and AUPRC (C,) of scalar outputs against labels.

    Per class the thresholds are the distinct outputs in descending order after (largest + 1); at each, a
    recording is predicted positive when its output is at least the threshold. AUROC is the trapezoidal sum
    over TPR (x) and TNR, AUPRC the step sum Σ ΔTPR · PPV. TPR, TNR and PPV are NaN where their denominator
    is 0 and a NaN makes the class NaN; macro values ignore NaN classes.

    Parameters
    ----------
    labels : array_like of bool, shape (N, C)
    outputs : array_like of float, shape (N, C)
        Finite scalar outputs.
    """
    labels = _check_labels(labels)
    outputs = np.asarray(outputs, dtype=float)
    _check_same_shape(labels, outputs)
    if not np.all(np.isfinite(outputs)):
        raise ValueError("scalar outputs must be finite numbers")
    terms_roc, terms_prc, class_of_term = _auc_terms(labels, outputs)
    auroc = np.bincount(class_of_term, weights=terms_roc, minlength=labels.shape[1])
    auprc = np.bincount(class_of_term, weights=terms_prc, minlength=labels.shape[1])
    return _nanmean(auroc), _nanmean(auprc), auroc, auprc


def compute_modified_confusion_matrix(labels, outputs) -> np.ndarray:
    """The Challenge's normalised multi-label confusion matrix A of shape (C, C).

    Each recording adds 1/n to A[j, k] for every labelled class j and every output class k, where n is the
    number of classes positive in its labels or its outputs (at least 1): A = (L / n)ᵀ O.
    """
    labels, outputs = _check_binary(labels, outputs)
    return (labels / _normalisation(labels, outputs)[:, None]).T @ outputs.astype(float)


def compute_challenge_metric(weights, labels, outputs, normal_index: int) -> float:
    """The challenge metric of binary outputs (N, C) against labels (N, C) under weights W (C, C).

    With score(O) = Σ W∘A(O) (NaN weights ignored), the metric is (S_obs − S_inactive) / (S_true −
    S_inactive), where the inactive outputs predict only class ``normal_index``; 0 when S_true = S_inactive.
    The scores are computed per recording, Σ W∘A = Σ_i (L_i W) · O_i / n_i, without forming A: see
    :func:`reward_matrix`, :func:`raw_score`, :func:`inactive_outputs` and :func:`normalise_score`.
    """
    labels, outputs = _check_binary(labels, outputs)
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (labels.shape[1],) * 2:
        raise ValueError(f"weights of shape {weights.shape} do not match {labels.shape[1]} classes")
    reward = reward_matrix(weights, labels)
    inactive = inactive_outputs(labels.shape, normal_index)
    observed, correct, inactive_score = (raw_score(reward, labels, o) for o in (outputs, labels, inactive))
    return float(normalise_score(observed, correct, inactive_score))


def reward_matrix(weights: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """R = L W, shape (N, C): R[i, k] = Σ_j L[i, j] W[j, k], what predicting class k earns recording i.

    Parameters
    ----------
    weights : numpy.ndarray of float, shape (C, C)
        W[j, k], the reward for predicting k when j is true; NaN entries count as 0.
    labels : numpy.ndarray of bool, shape (N, C)
    """
    return labels.astype(float) @ np.nan_to_num(weights, nan=0.0)


def inactive_outputs(shape: tuple[int, int], normal_index: int) -> np.ndarray:
    """The inactive classifier's binary outputs of shape (N, C): only class ``normal_index``, everywhere."""
    outputs = np.zeros(shape, dtype=bool)
    outputs[:, normal_index] = True
    return outputs


def raw_score(reward: np.ndarray, labels: np.ndarray, outputs: np.ndarray) -> float:
    """Σ W∘A(O) = Σ_i (L_i W) · O_i / max(|L_i ∪ O_i|, 1), the unnormalised score of binary outputs.

    Parameters
    ----------
    reward : numpy.ndarray of float, shape (N, C)
        :func:`reward_matrix` of the weights and labels.
    labels, outputs : numpy.ndarray of bool, shape (N, C)
    """
    return float(np.sum(np.einsum("ik,ik->i", reward, outputs) / _normalisation(labels, outputs)))


def normalise_score(observed, correct: float, inactive: float):
    """The challenge metric (observed − inactive) / (correct − inactive) of raw scores; 0 when the
    correct and inactive scores are equal.

    Parameters
    ----------
    observed : float or numpy.ndarray of float
        :func:`raw_score` of the outputs (or of several, as an array).
    correct, inactive : float
        :func:`raw_score` of the labels themselves and of :func:`inactive_outputs`.

    Returns
    -------
    float or numpy.ndarray of float
        Of the shape of ``observed``.
    """
    if correct == inactive:
        return np.zeros_like(observed) if np.ndim(observed) else 0.0
    return (observed - inactive) / (correct - inactive)


def _normalisation(labels: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """Per recording, the number of classes positive in its labels or outputs, at least 1."""
    return np.maximum(np.count_nonzero(labels | outputs, axis=1), 1)


def format_scores(scores: Scores) -> str:
    """The scores file: a header row and the five macro scores with 3 decimals."""
    values = (scores.auroc, scores.auprc, scores.accuracy, scores.f_measure, scores.challenge_metric)
    return "AUROC,AUPRC,Accuracy,F-measure,Challenge metric\n" + ",".join(f"{v:.3f}" for v in values) + "\n"


def format_class_scores(scores: Scores) -> str:
    """The class scores file: rows Classes (``a|b`` with codes sorted), AUROC, AUPRC and F-measure."""
    rows = [("Classes", [class_string(c) for c in scores.classes])]
    for name, values in (
        ("AUROC", scores.auroc_classes),
        ("AUPRC", scores.auprc_classes),
        ("F-measure", scores.f_measure_classes),
    ):
        rows.append((name, [f"{v:.3f}" for v in values]))
    return "".join(",".join([name, *cells]) + "\n" for name, cells in rows)


def _auc_terms(labels: np.ndarray, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The AUROC and AUPRC terms of every step between consecutive thresholds, and each step's class.

    The thresholds of a class are its distinct outputs; at threshold v, TP + FP is the number of outputs
    >= v and TP the number of positive recordings' outputs >= v. Each distinct value is a step from the
    previous, higher threshold (the highest from the zero point above every output). Steps come grouped by
    class in descending threshold order, so ``np.bincount`` adds them in the evaluator's order.
    """
    num_recordings, num_classes = labels.shape
    values = _sorted_rows(outputs.T)
    is_new = np.ones(values.shape, dtype=bool)
    np.not_equal(values[:, 1:], values[:, :-1], out=is_new[:, 1:])
    class_of_step, first_at = (a[::-1] for a in _nonzero(is_new))  # descending class, then threshold
    predicted = num_recordings - first_at
    positive_class, positive_recording = _nonzero(labels.T)
    positives = np.bincount(positive_class, minlength=num_classes)
    # Positive outputs sorted by (class, value); a class's positives below v sit between its start and
    # the insertion point of (class, v).
    positive_keys = np.sort(_pair_keys(positive_class, outputs[positive_recording, positive_class]))
    insertion = np.searchsorted(positive_keys, _pair_keys(class_of_step, values[class_of_step, first_at]))
    class_start = np.cumsum(positives) - positives
    tp = positives[class_of_step] - (insertion - class_start[class_of_step])
    fp = predicted - tp
    p, n = positives[class_of_step], (num_recordings - positives)[class_of_step]
    tpr, tnr, ppv = _divide(tp, p), _divide(n - fp, n), _divide(tp, predicted)
    first = np.ones(len(tp), dtype=bool)
    first[1:] = class_of_step[1:] != class_of_step[:-1]
    previous_tpr, previous_tnr = np.roll(tpr, 1), np.roll(tnr, 1)
    previous_tpr[first] = _divide(np.zeros_like(p[first]), p[first])
    previous_tnr[first] = _divide(n[first], n[first])
    d_tpr = tpr - previous_tpr
    return 0.5 * d_tpr * (tnr + previous_tnr), d_tpr * ppv, class_of_step


def _pair_keys(classes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Complex keys class + i·value: numpy orders complex numbers by real part, then imaginary part."""
    keys = np.empty(len(classes), dtype=complex)
    keys.real, keys.imag = classes, values
    return keys


def _sorted_rows(matrix: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of ``matrix`` with every row sorted; large ones are split over two threads
    (numpy's sort releases the GIL)."""
    rows = np.array(matrix, dtype=float, order="C")
    if rows.size < 50_000 or len(rows) < 2:
        rows.sort(axis=1)
        return rows
    half = len(rows) // 2
    list(_sort_pool().map(lambda part: part.sort(axis=1), (rows[:half], rows[half:])))
    return rows


@functools.lru_cache(maxsize=1)
def _sort_pool():
    from concurrent.futures import ThreadPoolExecutor  # imported when first needed: start-up time counts

    return ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1))


def _nonzero(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the True entries of a 2-D mask, in row-major order (``np.nonzero``)."""
    return np.divmod(np.flatnonzero(np.ascontiguousarray(mask)), mask.shape[1])


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator as floats, NaN where the denominator is 0 (no warning)."""
    out = np.full(np.shape(denominator), np.nan)
    return np.divide(numerator, denominator, out=out, where=denominator != 0)


def _nanmean(values: np.ndarray) -> float:
    return float("nan") if np.all(np.isnan(values)) else float(np.nanmean(values))


def _check_labels(labels) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.shape[0] == 0:
        raise ValueError(
            f"expected a (recordings, classes) matrix with at least one recording, got {labels.shape}"
        )
    return labels.astype(bool)


def _check_same_shape(labels: np.ndarray, outputs: np.ndarray) -> None:
    if outputs.shape != labels.shape:
        raise ValueError(f"outputs of shape {outputs.shape} do not match labels of shape {labels.shape}")


def _check_binary(labels, outputs) -> tuple[np.ndarray, np.ndarray]:
    labels = _check_labels(labels)
    outputs = np.asarray(outputs).astype(bool)
    _check_same_shape(labels, outputs)
    return labels, outputs
