"""team_code.py's interface before May 2021: one loader and one runner per lead set.

The model folder holds untrained tiny networks (no training run needed) and the recordings are synthetic
records reduced to each lead set's leads, so nothing here reads ../shared.
"""

import logging

import numpy as np
import pytest
from helpers import UNTRAINED_PREVALENCE, UNTRAINED_THRESHOLDS

import team_code
from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.io.extract import extract_leads
from ecgcrnn.io.records import find_challenge_files, load_header, load_recording
from ecgcrnn.synthetic.generator import write_dataset

CLASSES = default_class_table().names


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> dict:
    """``{lead set: [(header text, recording)]}``: two synthetic records with only that lead set's leads."""
    root = tmp_path_factory.mktemp("recordings")
    write_dataset(root / "twelve_leads", 2, seed=0)
    found = {}
    for lead_set, leads in LEAD_SETS.items():
        extract_leads(root / "twelve_leads", root / lead_set, leads)
        found[lead_set] = []
        for header_file, recording_file in zip(*find_challenge_files(root / lead_set), strict=True):
            header = load_header(header_file)
            found[lead_set].append((header, load_recording(recording_file, header)))
    return found


@pytest.fixture(scope="module")
def loaded(untrained_models) -> dict:
    """``{lead set: the model that team_code's load_<lead set>_lead_model loads from the folder}``."""
    return {name: getattr(team_code, f"load_{name}_lead_model")(untrained_models) for name in LEAD_SETS}


@pytest.mark.parametrize("lead_set", list(LEAD_SETS))
def test_each_lead_sets_loader_loads_the_model_of_its_leads(loaded, lead_set):
    model = loaded[lead_set]

    assert model.leads == LEAD_SETS[lead_set]
    assert model.classes == CLASSES
    np.testing.assert_allclose(model.thresholds, UNTRAINED_THRESHOLDS, rtol=1e-6)
    assert model.network.get_layer("signal").output.shape[-1] == len(LEAD_SETS[lead_set])


@pytest.mark.parametrize("lead_set", list(LEAD_SETS))
def test_each_lead_sets_runner_gives_what_run_model_gives(loaded, recordings, lead_set):
    run = getattr(team_code, f"run_{lead_set}_lead_model")

    for header, recording in recordings[lead_set]:
        classes, labels, probabilities = run(loaded[lead_set], header, recording)
        expected = team_code.run_model(loaded[lead_set], header, recording)

        assert classes == expected[0] == list(CLASSES)
        np.testing.assert_array_equal(labels, expected[1])
        np.testing.assert_allclose(probabilities, expected[2], rtol=1e-6)
        assert probabilities.shape == (len(CLASSES),)


@pytest.fixture(scope="module")
def flat_twelve_lead(recordings) -> tuple[str, np.ndarray, str]:
    """(header, an all-zero recording of its shape, the record's name): a lead off in every lead."""
    header, recording = recordings["twelve"][0]
    return header, np.zeros_like(recording), header.split()[0]


def test_an_all_zero_recording_gets_no_label_the_prevalence_and_a_warning(loaded, flat_twelve_lead, caplog):
    header, zeros, _ = flat_twelve_lead

    with caplog.at_level(logging.WARNING):
        classes, labels, probabilities = team_code.run_model(loaded["twelve"], header, zeros)

    assert classes == list(CLASSES)
    np.testing.assert_array_equal(labels, np.zeros(len(CLASSES)))
    np.testing.assert_allclose(probabilities, UNTRAINED_PREVALENCE, rtol=1e-6)
    assert "nothing in the recording could be measured" in caplog.text


def test_the_warning_for_an_all_zero_recording_names_the_record(loaded, flat_twelve_lead, caplog):
    header, zeros, name = flat_twelve_lead

    with caplog.at_level(logging.WARNING):
        team_code.run_model(loaded["twelve"], header, zeros)

    assert f"{name}: nothing in the recording could be measured" in caplog.text
