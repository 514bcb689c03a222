"""The Challenge's command lines end to end: train_model.py, extract_leads_wfdb.py, test_model.py and
evaluate_model.py on the 171 shared records, with the tiny settings of model_fixtures for all five lead sets.
"""

import math

import pytest
from model_fixtures import model_directory_fixture, run_script, trained_model_fixture  # noqa: F401

from ecgcrnn.domain import LEAD_SETS
from ecgcrnn.training.loop import CHECKPOINTS

pytestmark = pytest.mark.slow


def test_train_model_py_succeeds_for_all_five_lead_sets(trained_model):
    assert trained_model.returncode == 0, trained_model.output[-3000:]
    for lead_set in LEAD_SETS:
        assert f"{lead_set} leads: validation challenge metric" in trained_model.output


def test_train_model_py_leaves_one_model_folder_per_lead_set_and_no_checkpoints(model_directory):
    for lead_set in LEAD_SETS:
        assert (model_directory / lead_set / "model.keras").is_file()
        assert (model_directory / lead_set / "model.json").is_file()
    assert not (model_directory / CHECKPOINTS).exists()


@pytest.mark.parametrize("lead_set", list(LEAD_SETS))
def test_every_recording_of_a_lead_sets_test_set_is_scored_with_finite_scores(
    model_directory, challenge_dir, tmp_path, lead_set
):
    data = challenge_dir
    if lead_set != "twelve":
        data = tmp_path / "data"
        extracted = run_script(
            "extract_leads_wfdb.py", "-i", challenge_dir, "-o", data, "-l", *LEAD_SETS[lead_set]
        )
        assert extracted.returncode == 0, extracted.stderr[-3000:]

    tested = run_script("test_model.py", model_directory, data, tmp_path / "outputs")
    evaluated = run_script("evaluate_model.py", data, tmp_path / "outputs")

    assert tested.returncode == 0, tested.stderr[-3000:]
    assert "171 recordings, 0 failed" in tested.stdout
    assert len(list((tmp_path / "outputs").glob("*.csv"))) == 171
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    names, values = evaluated.stdout.splitlines()
    assert names == "AUROC,AUPRC,Accuracy,F-measure,Challenge metric"
    assert all(math.isfinite(float(value)) for value in values.split(","))
