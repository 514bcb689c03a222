"""How training turns out-of-fold predictions into decisions: folds grouped by source, labels that are no
evidence, share limits, and the choice between a class's network and its criterion."""

import types

import numpy as np
import pytest
from helpers import tiny_config
from scipy.stats import binom

from ecgcrnn.domain import default_class_table
from ecgcrnn.model.losses import UNKNOWN
from ecgcrnn.training.loop import DecisionRule, Evidence, fold_records, group_folds
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
