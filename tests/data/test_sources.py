"""Sources of records and which of their labels are evidence."""

import csv

import numpy as np
import pytest
from helpers import SHARED

from ecgcrnn.data.sources import (
    AMPLITUDE_CLASSES,
    CHALLENGE_SOURCES,
    LABELLED,
    LUDB,
    OTHER,
    label_known,
    source_of,
    sources_of,
)
from ecgcrnn.domain import default_class_table

TABLE = default_class_table()
SCORED_MAPPING = SHARED / "scoring" / "dx_mapping_scored.csv"
TABLE_COLUMNS = dict(
    zip(
        CHALLENGE_SOURCES,
        ("CPSC", "CPSC_Extra", "StPetersburg", "PTB", "PTB_XL", "Georgia", "Chapman_Shaoxing", "Ningbo"),
        strict=True,
    )
)


@pytest.mark.parametrize(
    ("record_id", "source"),
    [
        ("A0001", "CPSC"),
        ("Q3581", "CPSC-Extra"),
        ("I75", "St Petersburg"),
        ("S0549", "PTB"),
        ("HR21837", "PTB-XL"),
        ("E10344", "Georgia"),
        ("JS00001", "Chapman-Shaoxing"),
        ("JS10646", "Chapman-Shaoxing"),
        ("JS10647", "Ningbo"),
        ("JS45551", "Ningbo"),
        ("L0200", LUDB),
    ],
)
def test_a_challenge_record_name_gives_its_source(record_id, source):
    assert source_of(record_id) == source


@pytest.mark.parametrize("record_id", ["S00001", "A1", "a0001", "patient7", "HR0001", "X0001", "", "JS"])
def test_a_name_outside_the_challenges_naming_has_no_known_source(record_id):
    assert source_of(record_id) == OTHER


def test_every_labelled_class_is_a_scored_class():
    for classes in LABELLED.values():
        assert classes <= set(TABLE.abbreviations)
    assert set(TABLE.abbreviations) >= AMPLITUDE_CLASSES


def _labels(*abbreviations):
    return np.array([[name in abbreviations for name in TABLE.abbreviations]])


def _known(record_id, labels, recorded=True):
    return dict(
        zip(TABLE.abbreviations, label_known(sources_of([record_id]), labels, [recorded])[0], strict=True)
    )


def test_a_class_the_source_never_states_is_unknown_and_one_it_states_is_known():
    known = _known("A0001", _labels("AF"))

    assert known["LAD"] is np.False_ and known["TAb"] is np.False_  # CPSC states no axis, no T wave
    assert known["AF"] and known["NSR"] and known["CRBBB|RBBB"]


def test_a_positive_label_is_evidence_even_where_the_source_is_not_known_to_state_it():
    assert _known("A0001", _labels("LAD"))["LAD"]


def test_amplitude_classes_of_a_rescaled_recording_are_unknown_even_when_labelled():
    known = _known("L0001", _labels("LAD", "NSR"), recorded=False)

    assert not any(known[name] for name in AMPLITUDE_CLASSES)
    assert known["NSR"] and known["IAVB"]


def test_every_label_of_a_record_from_an_unknown_source_is_evidence():
    assert all(_known("S00001", _labels("NSR")).values())


def test_label_known_rejects_labels_that_do_not_match_the_records():
    with pytest.raises(ValueError, match="do not match"):
        label_known(["CPSC", "CPSC"], np.zeros((1, len(TABLE))))


@pytest.mark.real_data
def test_each_challenge_sources_classes_are_those_the_challenges_table_counts(challenge_dir):
    with SCORED_MAPPING.open() as file:
        rows = list(csv.DictReader(file))
    for source, column in TABLE_COLUMNS.items():
        counted = {
            abbreviation
            for abbreviation, codes in zip(TABLE.abbreviations, TABLE.codes, strict=True)
            if sum(int(row[column]) for row in rows if row["SNOMEDCTCode"] in codes)
        }
        assert LABELLED[source] == counted, source
