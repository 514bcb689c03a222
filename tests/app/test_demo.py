"""The one-command demo's own logic (CI runs the demo itself end to end through ``make demo``)."""

import subprocess
import sys
from argparse import Namespace

import pytest

from ecgcrnn.app import demo
from ecgcrnn.app.demo import SCORES, format_table, read_scores
from ecgcrnn.pipeline import PipelineSettings
from ecgcrnn.training.settings import read_settings


def test_read_scores_reads_evaluate_models_scores_file(tmp_path):
    scores_file = tmp_path / "scores.csv"
    scores_file.write_text("AUROC,AUPRC,Accuracy,F-measure,Challenge metric\n0.910,0.780,0.167,0.613,0.589\n")

    assert read_scores(scores_file) == {
        "AUROC": 0.91,
        "AUPRC": 0.78,
        "Accuracy": 0.167,
        "F-measure": 0.613,
        "Challenge metric": 0.589,
    }


def test_format_table_has_one_row_per_lead_set_with_every_score():
    scores = {name: dict.fromkeys(SCORES, 0.5) for name in ("twelve", "two")}
    args = Namespace(train_records=10, test_records=5, epochs=1, seed=1, workdir="demo")

    rows = format_table(scores, args).splitlines()[-2:]

    assert [row.split()[0] for row in rows] == ["twelve", "two"]
    assert all(row.split()[1:] == ["0.500"] * len(SCORES) for row in rows)


@pytest.mark.parametrize("option", [("--train-records", "5"), ("--test-records", "0"), ("--epochs", "0")])
def test_demo_refuses_sizes_too_small_in_one_line(option, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ecgcrnn.app.demo", "--workdir", str(tmp_path), *option],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 2
    assert "error:" in result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr


def test_demo_with_a_file_as_workdir_says_to_choose_a_folder_in_one_line(tmp_path):
    workdir = tmp_path / "a_file"
    workdir.write_text("")

    result = subprocess.run(
        [sys.executable, "-m", "ecgcrnn.app.demo", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].endswith("choose a folder as --workdir")
    assert "Traceback" not in result.stderr


def test_demo_runs_the_challenge_scripts_of_this_repository():
    for script in ("train_model.py", "test_model.py", "evaluate_model.py", "extract_leads_wfdb.py"):
        assert (demo.ROOT / script).is_file(), script


def test_demo_trains_with_its_quick_settings_given_as_a_config_file(tmp_path, monkeypatch):
    steps = []
    monkeypatch.setattr(demo, "step", lambda title, *command: steps.append([str(part) for part in command]))
    monkeypatch.setattr(demo, "read_scores", lambda path: dict.fromkeys(SCORES, 0.5))

    demo.run_demo(tmp_path, train_records=20, test_records=1, epochs=3, seed=7)

    training = next(command for command in steps if command[0] == "train_model.py")
    assert training[3:] == ["--config", str(tmp_path.resolve() / "config.json")]
    config, settings = read_settings(training[4])
    expected = {**demo.QUICK_SETTINGS, "epochs": 3, "seed": 7}
    assert {name: getattr(config, name) for name in expected} == expected
    assert settings == PipelineSettings()
