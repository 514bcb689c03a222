"""The Challenge's command lines end to end: train_model.py, extract_leads_wfdb.py, test_model.py and
evaluate_model.py with the tiny settings of helpers for all five lead sets, on two data sets: trained on the
synthetic training records and tested on the synthetic records of every kind (conftest.py), and trained and
tested on the 171 shared records (real_data).
"""

import json
import logging
import math

import numpy as np
import pytest
from helpers import TINY_NETWORK, run_script, train_once

from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.io.records import find_challenge_files, get_labels, load_header, load_recording
from ecgcrnn.training.loop import CHECKPOINTS
from ecgcrnn.training.settings import TrainingConfig

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def real_trained_model(challenge_dir, tmp_path_factory):
    """The outcome of ``train_model.py`` on the 171 shared records, once per test run."""
    return train_once(tmp_path_factory, "real_trained_model", challenge_dir)


@pytest.fixture(name="trained", params=["synthetic", pytest.param("real", marks=pytest.mark.real_data)])
def trained_fixture(request):
    """(the outcome of train_model.py, the folder of records to test its models on), per data set."""
    if request.param == "real":
        return request.getfixturevalue("real_trained_model"), request.getfixturevalue("challenge_dir")
    return request.getfixturevalue("trained_model"), request.getfixturevalue("synthetic_records")


def test_train_model_py_succeeds_for_all_five_lead_sets(trained):
    trained_model, _ = trained
    assert trained_model.returncode == 0, trained_model.output[-3000:]
    for lead_set in LEAD_SETS:
        assert f"{lead_set} leads: out-of-fold challenge metric" in trained_model.output


def test_train_model_py_leaves_one_model_folder_per_lead_set_and_no_checkpoints(trained):
    model_directory = trained[0].model_directory()
    for lead_set in LEAD_SETS:
        assert (model_directory / lead_set / "model.keras").is_file()
        assert (model_directory / lead_set / "model.json").is_file()
    assert not (model_directory / CHECKPOINTS).exists()


@pytest.mark.parametrize("lead_set", list(LEAD_SETS))
def test_every_recording_of_a_lead_sets_test_set_is_scored_with_finite_scores(trained, tmp_path, lead_set):
    trained_model, test_directory = trained
    model_directory, count = trained_model.model_directory(), len(list(test_directory.glob("*.hea")))
    data = test_directory
    if lead_set != "twelve":
        data = tmp_path / "data"
        extracted = run_script(
            "extract_leads_wfdb.py", "-i", test_directory, "-o", data, "-l", *LEAD_SETS[lead_set]
        )
        assert extracted.returncode == 0, extracted.stderr[-3000:]

    tested = run_script("test_model.py", model_directory, data, tmp_path / "outputs")
    evaluated = run_script("evaluate_model.py", data, tmp_path / "outputs")

    assert tested.returncode == 0, tested.stderr[-3000:]
    assert f"{count} recordings, 0 failed" in tested.stdout
    assert len(list((tmp_path / "outputs").glob("*.csv"))) == count
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    names, values = evaluated.stdout.splitlines()
    assert names == "AUROC,AUPRC,Accuracy,F-measure,Challenge metric"
    assert all(math.isfinite(float(value)) for value in values.split(","))


def test_trained_models_leave_at_least_the_classes_with_few_positives_to_their_criteria(
    trained_model, synthetic_training_set
):
    table = default_class_table()
    headers, _ = find_challenge_files(synthetic_training_set)
    positives = sum(table.encode(get_labels(load_header(header)), dtype=np.int64) for header in headers)
    model_directory = trained_model.model_directory()

    for lead_set in LEAD_SETS:
        meta = json.loads((model_directory / lead_set / "model.json").read_text())
        rare = positives < meta["config"]["min_positives"]
        assert (
            meta["config"]["min_positives"] == TrainingConfig().min_positives
            and rare.any()
            and not rare.all()
        )
        by_criteria = np.array([decider == "criteria" for decider in meta["decided_by"]])
        assert set(meta["decided_by"]) <= {"criteria", "network"} and by_criteria[rare].all(), lead_set
        assert np.all(np.asarray(meta["thresholds"])[by_criteria] >= 0.5)  # 0.5, or a share limit's floor
        np.testing.assert_allclose(meta["prevalence"], positives / len(headers))
        assert meta["config"]["threshold_folds"] == TINY_NETWORK["threshold_folds"]
        assert math.isfinite(meta["out_of_fold_challenge_metric"])


def test_a_trained_model_gives_an_all_zero_recording_no_label_and_the_training_prevalence(
    trained_model, synthetic_records, caplog
):
    import team_code

    header = load_header(synthetic_records / "C2_10s.hea")
    zeros = np.zeros_like(load_recording(synthetic_records / "C2_10s.mat", header))
    model_directory = trained_model.model_directory()
    model = team_code.load_model(model_directory, LEAD_SETS["twelve"])

    with caplog.at_level(logging.WARNING):
        _, labels, probabilities = team_code.run_model(model, header, zeros)

    meta = json.loads((model_directory / "twelve" / "model.json").read_text())
    np.testing.assert_array_equal(labels, np.zeros(26))
    np.testing.assert_allclose(probabilities, meta["prevalence"], rtol=1e-6)
    assert "nothing in the recording could be measured" in caplog.text
