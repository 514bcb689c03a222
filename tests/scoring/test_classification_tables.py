"""What the classification bench measures on each held-out source (devtools.classification_tables): every
hospital weighed the same, and storms told apart from what a source's labels or size explain."""

import numpy as np
import pytest
from scipy.stats import binom

from devtools.classification_tables import (
    CHANCE,
    STORM_RATIO,
    chance_storm_count,
    measure,
    source_measures,
    storm_count,
)
from ecgcrnn.domain import default_class_table
from ecgcrnn.scoring.metrics import compute_challenge_metric

TABLE = default_class_table()
CLASSES = len(TABLE)
NSR, AF = TABLE.abbreviations.index("NSR"), TABLE.abbreviations.index("AF")


def _sinus(records: int) -> np.ndarray:
    labels = np.zeros((records, CLASSES), bool)
    labels[:, NSR] = True
    return labels


def test_a_class_called_beyond_twice_its_largest_training_share_is_a_storm_of_false_calls():
    labels, calls = _sinus(10), _sinus(10)
    calls[:4, AF] = True  # 0.4 of the records, against a limit of 2 x 0.1
    largest = np.zeros(CLASSES)
    largest[[AF, NSR]] = 0.1, 1.0

    measured = source_measures(labels, calls, largest)

    assert measured["storms"] == ["AF"] and measured["false_storms"] == ["AF"]
    assert (measured["calls"][AF], measured["true"][AF], measured["labelled"][AF]) == (4, 0, 0)


def test_a_storm_of_true_calls_is_not_a_storm_of_false_calls():
    labels = _sinus(10)
    labels[:4, AF] = True  # the source labels AF on 0.4 of its records
    largest = np.zeros(CLASSES)
    largest[[AF, NSR]] = 0.1, 1.0

    measured = source_measures(labels, labels.copy(), largest)

    assert measured["storms"] == ["AF"] and measured["false_storms"] == []


def test_calls_within_the_ratio_are_no_storm():
    labels, calls = _sinus(10), _sinus(10)
    calls[:2, AF] = True  # exactly 2 x 0.1: not more
    largest = np.full(CLASSES, 0.1)
    largest[NSR] = 1.0

    measured = source_measures(labels, calls, largest)

    assert measured["storms"] == [] and STORM_RATIO == 2.0


@pytest.mark.parametrize("records", [9, 40, 200])
def test_false_calls_count_beyond_chance_only_above_the_binomial_quantile_of_the_source_size(records):
    limit = 0.2
    allowed = int(max(np.floor(limit * records), binom.ppf(CHANCE, records, limit)))
    largest = {"A": [limit / STORM_RATIO] * CLASSES}

    def entry(false_calls):
        calls = np.zeros(CLASSES, int)
        calls[AF] = false_calls
        measured = {"records": records, "calls": calls.tolist(), "true": [0] * CLASSES}
        return {"sources": {"A": measured}}

    assert chance_storm_count(entry(allowed), largest) == 0
    assert chance_storm_count(entry(allowed + 1), largest) == 1


def test_the_main_figure_weighs_each_source_the_same_and_the_challenge_figure_leaves_ludb_out():
    rng = np.random.default_rng(3)
    sources = np.array(["Georgia"] * 30 + ["Ningbo"] * 10 + ["LUDB"] * 60)
    labels = _sinus(len(sources))
    labels[:, AF] = rng.random(len(sources)) < 0.3
    binary = labels ^ (rng.random(labels.shape) < 0.1)
    largest = {source: np.full(CLASSES, 0.5) for source in ("Georgia", "Ningbo", "LUDB")}

    measured = measure(labels, binary, binary.astype(float), sources, largest)

    each = {
        source: compute_challenge_metric(
            TABLE.weights, labels[sources == source], binary[sources == source], NSR
        )
        for source in largest
    }
    assert measured["mean_over_sources"] == pytest.approx(np.mean(list(each.values())))
    assert measured["mean_over_challenge_sources"] == pytest.approx((each["Georgia"] + each["Ningbo"]) / 2)
    assert measured["pooled"]["challenge_metric"] == pytest.approx(
        compute_challenge_metric(TABLE.weights, labels, binary, NSR)
    )
    assert storm_count(measured) == sum(len(m["storms"]) for m in measured["sources"].values())
