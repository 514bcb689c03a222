import subprocess
import sys

import pytest
from helpers import REPOSITORY

SCRIPT = REPOSITORY / "evaluate_model.py"
LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


def run(*args, cwd):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], cwd=cwd, capture_output=True, text=True
    )


@pytest.fixture
def folders(tmp_path):
    labels, outputs = tmp_path / "labels", tmp_path / "outputs"
    labels.mkdir()
    outputs.mkdir()
    signals = "".join(f"A1.mat 16+24 1000/mV 16 0 0 0 0 {lead}\n" for lead in LEADS)
    (labels / "A1.hea").write_text(f"A1 12 500 5000\n{signals}#Dx: 164889003\n")
    (outputs / "A1.csv").write_text("#A1\n164889003,426783006\n1,0\n0.9,0.1\n")
    return labels, outputs


def test_cli_writes_both_files_from_another_directory(folders, tmp_path):
    labels, outputs = folders
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run(labels, outputs, "scores.csv", "class_scores.csv", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert (elsewhere / "scores.csv").read_text().splitlines() == [
        "AUROC,AUPRC,Accuracy,F-measure,Challenge metric",
        # One recording: AF has no negatives (AUROC NaN, AUPRC 1), every other class no positives (NaN).
        "nan,1.000,1.000,1.000,1.000",
    ]
    rows = (elsewhere / "class_scores.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows] == ["Classes", "AUROC", "AUPRC", "F-measure"]


def test_cli_prints_the_scores_without_file_arguments(folders, tmp_path):
    result = run(*folders, cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == "AUROC,AUPRC,Accuracy,F-measure,Challenge metric"


def test_cli_missing_folder_exits_1_with_one_line_error(tmp_path):
    result = run(tmp_path / "missing", tmp_path, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "label folder not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_missing_output_file_exits_1_naming_both_files(folders, tmp_path):
    labels, outputs = folders
    (outputs / "A1.csv").unlink()
    result = run(labels, outputs, cwd=tmp_path)
    assert result.returncode == 1
    assert "A1.csv" in result.stderr and "A1.hea" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_warns_about_a_malformed_output_file_on_stderr(folders, tmp_path):
    labels, outputs = folders
    (outputs / "A1.csv").write_text("#A1\n")
    result = run(labels, outputs, cwd=tmp_path)
    assert result.returncode == 0
    assert "WARNING" in result.stderr and "A1.csv" in result.stderr


def test_cli_imports_no_heavy_modules(folders, tmp_path):
    code = (
        f"import sys; sys.path.insert(0, {str(SCRIPT.parent)!r}); import evaluate_model; "
        "heavy = ('tensorflow', 'torch', 'scipy', 'wfdb', 'pandas', 'sklearn', 'matplotlib', "
        "'ecgcrnn.scoring.plots', 'ecgcrnn.app.cli'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_cli_draws_the_class_scores_with_plot(folders, tmp_path):
    result = run(*folders, "--plot", tmp_path / "scores.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "scores.png").read_bytes().startswith(b"\x89PNG")
