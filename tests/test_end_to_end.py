"""The Challenge's command lines end to end: train_model.py, extract_leads_wfdb.py, test_model.py and
evaluate_model.py with the tiny settings of helpers for all five lead sets, on two data sets: trained on the
synthetic training records and tested on the synthetic records of every kind (conftest.py), and trained and
tested on the 171 shared records (real_data).
"""

import math

import pytest
from helpers import run_script, train_once

from ecgcrnn.domain import LEAD_SETS
from ecgcrnn.training.loop import CHECKPOINTS

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
        assert f"{lead_set} leads: validation challenge metric" in trained_model.output


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
