"""The figure of an evaluation: per-class AUROC, AUPRC and F-measure (``evaluate_model.py --plot``).

Matplotlib is imported only when a figure is drawn (Agg backend, no display needed).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ecgcrnn.domain import class_string, default_class_table
from ecgcrnn.io.figures import pyplot, save_figure

_SCORE_COLOURS = {"AUROC": "tab:blue", "AUPRC": "tab:orange", "F-measure": "tab:green"}


def plot_class_scores(scores, output_file) -> Path:
    """Draw the per-class AUROC, AUPRC and F-measure as grouped horizontal bars; returns the PNG's path.

    One row per scored class, labelled with its abbreviation (:data:`ecgcrnn.domain.ABBREVIATIONS`), in
    scoring order from the top; the overall Challenge metric is in the title. A NaN score (a class without
    positives, or without negatives for the AUROC) draws no bar; a row with no score at all (a NaN
    F-measure means no positives) says "no positives", so that it is not read as scores of 0.

    Parameters
    ----------
    scores : ecgcrnn.scoring.metrics.Scores
        ``classes`` (C code sets) and the ``auroc_classes``, ``auprc_classes``, ``f_measure_classes``
        arrays of shape (C,).
    output_file : str or Path
        The PNG to write.
    """
    plt = pyplot()
    labels = _abbreviations(scores.classes)
    columns = {
        "AUROC": scores.auroc_classes,
        "AUPRC": scores.auprc_classes,
        "F-measure": scores.f_measure_classes,
    }
    rows = np.arange(len(labels))
    height = 0.8 / len(columns)
    values = {name: np.asarray(column, dtype=float) for name, column in columns.items()}
    fig, ax = plt.subplots(figsize=(7, 1.8 + 0.3 * len(labels)), dpi=100, layout="constrained")
    try:
        for k, (name, column) in enumerate(values.items()):
            shown = np.isfinite(column)
            offset = (k - (len(columns) - 1) / 2) * height
            ax.barh(rows[shown] + offset, column[shown], height, label=name, color=_SCORE_COLOURS[name])
        for row in np.flatnonzero(np.all([~np.isfinite(column) for column in values.values()], axis=0)):
            ax.text(0.01, row, "no positives", va="center", fontsize="small", style="italic", color="grey")
        ax.set_yticks(rows, labels)
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set_xlim(0, 1)
        ax.set_xlabel("score")
        ax.grid(axis="x", alpha=0.3)
        fig.legend(loc="outside lower center", ncols=len(columns), fontsize="small")
        ax.set_title(f"Per-class scores (Challenge metric {_number(scores.challenge_metric)})")
        save_figure(fig, output_file)
    finally:
        plt.close(fig)
    return Path(output_file)


def _abbreviations(classes) -> list[str]:
    """Each class's abbreviation from the Challenge's table; its codes as the scores files write them else."""
    table = default_class_table()
    known = dict(zip(table.codes, table.abbreviations, strict=True))
    return [known.get(frozenset(codes), class_string(codes)) for codes in classes]


def _number(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.3f}"
