"""How training splits its records and turns out-of-fold predictions into decisions: validation splits and
folds (grouped by source or stratified), labels that are no evidence, share limits, and the choice between a
class's network and its criterion."""

import types

import numpy as np
import pytest
from helpers import tiny_config
from scipy.stats import binom

from ecgcrnn.domain import default_class_table
from ecgcrnn.model.losses import UNKNOWN
from ecgcrnn.training.decisions import DecisionRule, Evidence, fold_records, group_folds, split_records
from ecgcrnn.training.thresholds import share_limits

TABLE = default_class_table()
NSR, AF = TABLE.abbreviations.index("NSR"), TABLE.abbreviations.index("AF")


def test_group_folds_keep_each_group_whole_and_deal_the_largest_first():
    groups = np.array(["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"])

    fold_of = group_folds(groups, 2)

    assert {g: set(fold_of[groups == g].tolist()) for g in "abcd"} == {"a": {0}, "b": {1}, "c": {1}, "d": {0}}


def _labels(count, seed=0):
    labels = np.random.default_rng(seed).random((count, len(TABLE))) < 0.3
    labels[:, NSR] = True
    return labels


def test_fold_records_grouped_by_source_hold_out_whole_sources():
    sources = np.array(["CPSC"] * 10 + ["Georgia"] * 14 + ["PTB-XL"] * 12 + ["Ningbo"] * 8)
    records = np.arange(len(sources))
    config = tiny_config(threshold_folds=2, threshold_grouping="sources")

    folds = list(fold_records(_labels(len(sources)), records, config, sources))

    held_out = [set(sources[h].tolist()) for _, h in folds]
    assert held_out[0].isdisjoint(held_out[1]) and held_out[0] | held_out[1] == set(sources)
    for learn, held in folds:
        assert set(sources[learn].tolist()).isdisjoint(sources[held].tolist())


def test_fold_records_of_one_source_fall_back_to_stratified_folds():
    sources = np.array(["other"] * 40)
    config = tiny_config(threshold_folds=2, threshold_grouping="sources")

    grouped = [h.tolist() for _, h in fold_records(_labels(40), np.arange(40), config, sources)]
    stratified = [h.tolist() for _, h in fold_records(_labels(40), np.arange(40), config)]

    assert grouped == stratified


def test_share_limit_is_the_ratio_times_the_largest_share_any_source_labels():
    sources = np.array(["a"] * 4 + ["b"] * 10)
    labels = np.zeros((14, 2), bool)
    labels[:1, 0] = True  # a: 1 of 4 for class 0
    labels[4:6, 0] = True  # b: 2 of 10
    labels[4:13, 1] = True  # b: 9 of 10 for class 1

    np.testing.assert_allclose(share_limits(labels, sources, 2.0), [0.5, 1.0])
    np.testing.assert_allclose(share_limits(labels, sources, 0.0), [1.0, 1.0])


def _rule(labels, sources, limits=None):
    return DecisionRule(labels, None, sources, np.ones(labels.shape[1]) if limits is None else limits)


def test_fallback_takes_the_criterion_where_it_beats_the_network_on_held_out_folds():
    rng = np.random.default_rng(3)
    count = 120
    labels = np.zeros((count, len(TABLE)), bool)
    labels[:, NSR] = rng.random(count) < 0.6
    labels[:, AF] = ~labels[:, NSR]
    sources = np.array(["a", "b", "c", "d"] * (count // 4))
    fold_of = (np.arange(count) % 4 >= 2).astype(int)
    network = np.where(labels, 0.9, 0.1)
    network[:, AF] = rng.random(count)  # the network knows nothing of AF
    criteria = np.where(labels, 0.95, 0.05)
    criteria[:, NSR] = rng.random(count)  # the criterion knows nothing of sinus rhythm

    chosen = _rule(labels, sources).fallback(network, criteria, np.zeros(len(TABLE), bool), fold_of)

    assert chosen[AF] and not chosen[NSR]


def test_fallback_keeps_the_classes_given_to_their_criterion():
    labels = _labels(40)
    given = np.zeros(len(TABLE), bool)
    given[AF] = True
    probabilities = np.where(labels, 0.9, 0.1)

    chosen = _rule(labels, np.array(["a", "b"] * 20)).fallback(
        probabilities, np.full(labels.shape, 0.5), given, np.arange(40) % 2
    )

    assert chosen[AF]


def test_thresholds_keep_every_source_within_its_share_limit():
    rng = np.random.default_rng(4)
    labels = _labels(100, seed=5)
    probabilities = rng.random(labels.shape)
    sources = np.array(["a"] * 60 + ["b"] * 40)
    limits = np.full(len(TABLE), 0.2)

    thresholds = _rule(labels, sources, limits).thresholds(probabilities, np.zeros(len(TABLE), bool))

    for source in ("a", "b"):
        shares = (probabilities[sources == source] >= thresholds).mean(axis=0)
        assert np.all(shares <= 0.2)


def test_thresholds_keep_every_source_within_the_binomial_quantile_of_its_limit_with_a_confidence():
    rng = np.random.default_rng(4)
    labels = _labels(100, seed=5)
    probabilities = rng.random(labels.shape)
    sources = np.array(["a"] * 60 + ["b"] * 40)
    limits = np.full(len(TABLE), 0.2)
    rule = DecisionRule(labels, None, sources, limits, confidence=0.9)

    thresholds = rule.thresholds(probabilities, np.zeros(len(TABLE), bool))

    for source, count in (("a", 60), ("b", 40)):
        calls = (probabilities[sources == source] >= thresholds).sum(axis=0)
        assert np.all(calls <= binom.ppf(0.9, count, 0.2))


def _evidence(mode):
    cache = types.SimpleNamespace(
        record_ids=["A0001", "S00001"],
        labels=np.vstack(
            [np.isin(TABLE.abbreviations, ["AF"]), np.isin(TABLE.abbreviations, ["NSR", "TAb"])]
        ),
        amplitudes_recorded=np.ones(2, bool),
    )
    return cache, Evidence.of(cache, tiny_config(unknown_labels=mode))


@pytest.mark.parametrize(
    ("mode", "in_loss", "in_thresholds"), [("none", 0, 0), ("loss", 1, 0), ("both", 1, 1)]
)
def test_evidence_leaves_unknown_labels_out_where_the_setting_says(mode, in_loss, in_thresholds):
    cache, evidence = _evidence(mode)
    lad = TABLE.abbreviations.index("LAD")

    targets = evidence.targets(cache.labels)

    assert targets[0, lad] == (UNKNOWN if in_loss else 0.0)  # CPSC states no axis
    assert targets[0, AF] == 1.0 and np.all(targets[1] >= 0)  # a record of an unknown source: all known
    assert (evidence.for_thresholds([0]) is not None) == bool(in_thresholds)


@pytest.mark.parametrize("mode", ["none", "loss", "thresholds", "both"])
def test_loss_prevalence_is_a_share_of_the_labels_the_loss_reads(mode):
    cache, evidence = _evidence(mode)

    prevalence = evidence.loss_prevalence(cache.labels, [0, 1])

    tab = TABLE.abbreviations.index("TAb")
    assert np.all((prevalence >= 0) & (prevalence <= 1))
    assert prevalence[AF] == 0.5  # evidence on both records: CPSC states AF, the other source all classes
    assert prevalence[tab] == (1.0 if evidence.in_loss else 0.5)  # CPSC states no T-wave class


# Splits and folds -----------------------------------------------------------------------------------------


def test_split_records_is_disjoint_and_covers_the_usable_records(training_labels):
    usable = np.arange(len(training_labels))

    train_records, validation_records = split_records(training_labels, usable, tiny_config())

    assert not set(train_records) & set(validation_records)
    assert sorted([*train_records, *validation_records]) == usable.tolist()


def test_split_records_holds_out_the_validation_fraction(training_labels):
    _, validation = split_records(
        training_labels, np.arange(len(training_labels)), tiny_config(validation_fraction=0.2)
    )

    assert abs(len(validation) - 0.2 * len(training_labels)) <= 2


def test_split_records_is_multilabel_stratified(training_labels):
    _, validation = split_records(
        training_labels, np.arange(len(training_labels)), tiny_config(validation_fraction=0.2)
    )

    positives = training_labels.sum(axis=0)
    held_out = training_labels[validation].sum(axis=0)
    for k in np.flatnonzero(positives >= 10):
        assert abs(held_out[k] - 0.2 * positives[k]) <= 2, (k, held_out[k], positives[k])


def test_split_records_is_deterministic_for_a_seed(training_labels):
    first = split_records(training_labels, np.arange(len(training_labels)), tiny_config(seed=5))
    second = split_records(training_labels, np.arange(len(training_labels)), tiny_config(seed=5))

    np.testing.assert_array_equal(first[1], second[1])


def test_split_records_differs_between_seeds(training_labels):
    first = split_records(training_labels, np.arange(len(training_labels)), tiny_config(seed=5))
    second = split_records(training_labels, np.arange(len(training_labels)), tiny_config(seed=6))

    assert not np.array_equal(first[1], second[1])


def test_split_records_uses_only_the_usable_records(training_labels):
    usable = np.arange(0, len(training_labels), 2)

    train_records, validation_records = split_records(training_labels, usable, tiny_config())

    assert set(train_records) | set(validation_records) == set(usable.tolist())


def test_split_records_of_too_few_records_raises_value_error(training_labels):
    with pytest.raises(ValueError, match="3 usable records"):
        split_records(training_labels, np.arange(3), tiny_config())


def test_fold_records_hold_out_disjoint_folds_that_cover_the_records(training_labels):
    records = np.arange(len(training_labels))

    folds = list(fold_records(training_labels, records, tiny_config(threshold_folds=3)))

    held_out = [set(held.tolist()) for _, held in folds]
    assert len(folds) == 3 and all(held_out)
    assert sum(len(h) for h in held_out) == len(records) and set().union(*held_out) == set(records.tolist())


def test_fold_records_learn_from_every_record_but_those_held_out(training_labels):
    records = np.arange(len(training_labels))

    for learn, held_out in fold_records(training_labels, records, tiny_config(threshold_folds=3)):
        np.testing.assert_array_equal(learn, np.setdiff1d(records, held_out))
        assert np.all(np.diff(learn) > 0) and np.all(np.diff(held_out) > 0)


def test_fold_records_are_multilabel_stratified(training_labels):
    folds = fold_records(training_labels, np.arange(len(training_labels)), tiny_config(threshold_folds=3))

    positives = training_labels.sum(axis=0)
    for _, held_out in folds:
        counts = training_labels[held_out].sum(axis=0)
        for k in np.flatnonzero(positives >= 9):
            assert abs(counts[k] - positives[k] / 3) <= 2, (k, counts[k], positives[k])


def test_fold_records_are_deterministic_for_a_seed_and_differ_between_seeds(training_labels):
    records = np.arange(len(training_labels))

    first, second, other = (
        [held.tolist() for _, held in fold_records(training_labels, records, tiny_config(seed=seed))]
        for seed in (5, 5, 6)
    )

    assert first == second and first != other


def test_fold_records_of_a_subset_use_only_those_records_in_any_order(training_labels):
    subset = np.arange(0, len(training_labels), 2)[::-1]

    folds = list(fold_records(training_labels, subset, tiny_config()))

    assert sorted(r for _, held in folds for r in held.tolist()) == sorted(subset.tolist())
    assert all(set(learn.tolist()) <= set(subset.tolist()) for learn, _ in folds)


@pytest.mark.parametrize(("count", "folds"), [(3, 2), (4, 5)])
def test_fold_records_of_too_few_records_raise_value_error(training_labels, count, folds):
    with pytest.raises(ValueError, match=f"{count} usable records: too few for {folds} folds"):
        list(fold_records(training_labels, np.arange(count), tiny_config(threshold_folds=folds)))
