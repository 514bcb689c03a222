import shutil
import subprocess
import sys

import matplotlib.figure
import numpy as np
import pytest
from helpers import CACHE_RECORDS, REPOSITORY, png_size, tiny_config

from ecgcrnn.domain import default_class_table
from ecgcrnn.io.figures import save_figure
from ecgcrnn.io.outputs import save_outputs
from ecgcrnn.io.records import get_labels, load_header
from ecgcrnn.model.lead_set import LeadSetModel
from ecgcrnn.pipeline import PipelineSettings
from ecgcrnn.scoring.metrics import Scores, compute_scores
from ecgcrnn.scoring.plots import class_notes, plot_class_scores
from ecgcrnn.training.curves import plot_learning_curves

SCRIPT = REPOSITORY / "evaluate_model.py"


def scores_of(auroc, auprc, f_measure, codes=("164889003", "426783006")) -> Scores:
    classes = [frozenset({code}) for code in codes]
    arrays = [np.asarray(values, dtype=float) for values in (auroc, auprc, f_measure)]
    return Scores(classes, 0.5, 0.5, arrays[0], arrays[1], 0.5, 0.5, arrays[2], 0.42)


def test_plot_class_scores_writes_a_png_with_one_row_per_class(tmp_path):
    path = plot_class_scores(scores_of([0.9, 0.8], [0.7, 0.6], [0.5, 0.4]), tmp_path / "scores.png")
    width, height = png_size(path)
    assert width >= 400 and height >= 150


def test_plot_class_scores_labels_rows_with_abbreviations_and_titles_the_challenge_metric(tmp_path, drawn):
    plot_class_scores(scores_of([0.9, 0.8], [0.7, 0.6], [0.5, 0.4]), tmp_path / "scores.png")
    ax = drawn[0].axes[0]
    assert [label.get_text() for label in ax.get_yticklabels()] == ["AF", "NSR"]
    assert "0.420" in ax.get_title()


def test_plot_class_scores_draws_no_bar_for_a_nan_score(tmp_path, drawn):
    plot_class_scores(scores_of([np.nan, 0.8], [0.7, np.nan], [0.5, 0.4]), tmp_path / "scores.png")
    widths = [bar.get_width() for bar in drawn[0].axes[0].patches]
    assert sorted(widths) == [0.4, 0.5, 0.7, 0.8]


def notes_drawn(drawn) -> list[tuple[str, float]]:
    return [(text.get_text(), text.get_position()[1]) for text in drawn[0].axes[0].texts]


def test_plot_class_scores_says_a_class_without_positive_labels_that_was_never_stated_on_its_row(
    tmp_path, drawn
):
    plot_class_scores(scores_of([np.nan, 0.8], [np.nan, 0.6], [np.nan, 0.4]), tmp_path / "scores.png")
    assert notes_drawn(drawn) == [("no positive label; never stated", 0)]


def test_plot_class_scores_says_a_class_without_positive_labels_was_stated_wrongly(tmp_path, drawn):
    plot_class_scores(scores_of([0.9, np.nan], [0.7, np.nan], [0.5, 0.0]), tmp_path / "scores.png")
    assert notes_drawn(drawn) == [("no positive label; stated, wrongly (F = 0)", 1)]


def test_plot_class_scores_says_why_an_f_measure_of_0_has_no_bar_beside_its_other_bars(tmp_path, drawn):
    plot_class_scores(scores_of([0.9, 0.8], [0.7, 0.6], [0.5, 0.0]), tmp_path / "scores.png")
    ((note, y),) = notes_drawn(drawn)
    f_bars = [bar for bar in drawn[0].axes[0].patches if bar.get_width() in (0.5, 0.0)]
    assert note == "F = 0: never stated correctly"
    assert y == pytest.approx(f_bars[1].get_y() + f_bars[1].get_height() / 2)  # in the F-measure's place


def test_plot_class_scores_says_why_a_class_every_recording_has_lacks_an_auroc(tmp_path, drawn):
    plot_class_scores(scores_of([0.9, np.nan], [0.7, 0.6], [0.5, 0.4]), tmp_path / "scores.png")
    ((note, y),) = notes_drawn(drawn)
    assert note == "AUROC undefined: no negative label" and 0.5 < y < 1  # in row 1, in the AUROC's place


def test_class_notes_tell_the_cases_apart_from_the_scores_the_metrics_give():
    labels = np.zeros((4, 26), dtype=bool)
    outputs = np.zeros((4, 26), dtype=bool)
    labels[:2, 0] = outputs[:2, 0] = True  # class 0 right everywhere
    outputs[:, 1] = True  # class 1 stated, never true
    labels[:, 2] = outputs[:, 2] = True  # class 2 true everywhere
    labels[:2, 3] = True  # class 3 true, never stated; classes 4 and on neither true nor stated
    notes = class_notes(compute_scores(labels, outputs, outputs.astype(float), default_class_table()))
    assert notes[:5] == [
        [],
        [(None, "no positive label; stated, wrongly (F = 0)")],
        [("AUROC", "AUROC undefined: no negative label")],
        [("F-measure", "F = 0: never stated correctly")],
        [(None, "no positive label; never stated")],
    ]


def test_plot_learning_curves_of_several_epochs_marks_the_best(tmp_path, drawn):
    history = [{"loss": 0.9 - 0.1 * i, "val_challenge_metric": m} for i, m in enumerate([0.2, 0.5, 0.4])]
    width, height = png_size(plot_learning_curves(history, tmp_path / "curves.png"))
    assert width >= 400 and height >= 300
    top, bottom = drawn[0].axes
    assert "epoch 2" in top.get_title()
    assert list(bottom.lines[0].get_ydata()) == [0.2, 0.5, 0.4]


@pytest.mark.parametrize(
    "history", [[], [{"loss": 0.7, "val_challenge_metric": 0.3}], [{"loss": 0.7}]], ids=str
)
def test_plot_learning_curves_writes_a_png_for_a_short_history(tmp_path, history):
    width, height = png_size(plot_learning_curves(history, tmp_path / "curves.png"))
    assert width >= 400 and height >= 300


def test_a_failed_save_leaves_the_earlier_figure_and_no_temporary_file(tmp_path, monkeypatch):
    earlier = plot_learning_curves([], tmp_path / "curves.png").read_bytes()
    figure = matplotlib.figure.Figure()

    def fail(self, *args, **kwargs):
        raise RuntimeError("renderer failed")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", fail)
    with pytest.raises(RuntimeError):
        save_figure(figure, tmp_path / "curves.png")
    assert [path.name for path in tmp_path.iterdir()] == ["curves.png"]
    assert (tmp_path / "curves.png").read_bytes() == earlier


@pytest.fixture
def evaluated_folders(synthetic_records, tmp_path):
    """Labels of the synthetic records, and outputs that predict exactly those labels."""
    labels, outputs = tmp_path / "labels", tmp_path / "outputs"
    labels.mkdir()
    outputs.mkdir()
    table = default_class_table()
    for name in CACHE_RECORDS:
        shutil.copy(synthetic_records / f"{name}.hea", labels / f"{name}.hea")
        dx = set(get_labels(load_header(labels / f"{name}.hea")))
        truth = [int(bool(codes & dx)) for codes in table.codes]
        save_outputs(outputs / f"{name}.csv", name, table.codes, truth, [0.1 + 0.8 * t for t in truth])
    return labels, outputs


def test_evaluate_model_plot_writes_a_png_of_the_records_scores(evaluated_folders, tmp_path):
    plot = tmp_path / "scores.png"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *evaluated_folders, "--plot", str(plot)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].endswith(",1.000")  # perfect outputs: Challenge metric 1
    width, height = png_size(plot)
    assert width >= 400 and height >= 26 * 20


def test_evaluate_model_plot_into_a_missing_folder_exits_1_with_one_line(evaluated_folders, tmp_path):
    plot = tmp_path / "missing" / "scores.png"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *evaluated_folders, "--plot", str(plot)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "PLOT_FILE" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def tiny_fit(monkeypatch):
    """``fit_with_thresholds`` (which calls ``fit_lead_set`` per fold) replaced by an untrained tiny two-lead
    network with a two-epoch history of one fold."""
    from ecgcrnn.model.network import build_model
    from ecgcrnn.training import loop as training

    table = default_class_table()
    network = build_model(("I", "II"), table.names, tiny_config().network)
    history = [
        {"fold": 1, "loss": 0.9, "val_challenge_metric": 0.1},
        {"fold": 1, "loss": 0.8, "val_challenge_metric": 0.3},
    ]
    rules = {"thresholds": np.full(len(table), 0.5), "prevalence": np.full(len(table), 0.1)}
    model = LeadSetModel("two", network, settings=PipelineSettings(), **rules)
    fitted = training.LeadSetFit(model, 0.3, history)
    monkeypatch.setattr(training, "fit_with_thresholds", lambda *args: fitted)
    return lambda root: training._train_lead_set(None, "two", [], tiny_config(), root)


def test_training_draws_learning_curves_beside_a_model_that_still_loads(tiny_fit, tmp_path):
    tiny_fit(tmp_path)
    png_size(tmp_path / "two" / "learning_curves.png")
    model = LeadSetModel.load(tmp_path, ("I", "II"))
    assert model.network is not None


def test_training_only_warns_when_the_learning_curves_cannot_be_drawn(
    tiny_fit, tmp_path, monkeypatch, caplog
):
    from ecgcrnn.training import loop as training

    def fail(history, path):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(training, "plot_learning_curves", fail)
    assert tiny_fit(tmp_path) == 0.3
    assert "learning curves not drawn: no fonts" in caplog.text
    assert (tmp_path / "two" / "model.keras").is_file()


def test_training_on_a_worker_other_than_the_chief_draws_no_learning_curves(tiny_fit, tmp_path, monkeypatch):
    from ecgcrnn.training import loop as training

    monkeypatch.setattr(training, "is_chief", lambda strategy: False)
    tiny_fit(tmp_path)
    assert not list(tmp_path.rglob("*.png"))
