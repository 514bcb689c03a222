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
    scoring order from the top; the overall Challenge metric is in the title. Where a bar would be missing
    or of no length, a note says why (:func:`class_notes`), so that a blank is never read as a score of 0
    or as a class forgotten.

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
    offsets = {name: (k - (len(columns) - 1) / 2) * height for k, name in enumerate(columns)}
    values = {name: np.asarray(column, dtype=float) for name, column in columns.items()}
    fig, ax = plt.subplots(figsize=(7, 1.8 + 0.3 * len(labels)), dpi=100, layout="constrained")
    try:
        for name, column in values.items():
            shown = np.isfinite(column)
            ax.barh(
                rows[shown] + offsets[name], column[shown], height, label=name, color=_SCORE_COLOURS[name]
            )
        for row, notes in enumerate(class_notes(scores)):
            for score, note in notes:
                y, size = (row, "small") if score is None else (row + offsets[score], 7.5)
                ax.text(0.01, y, note, va="center", fontsize=size, style="italic", color="dimgrey")
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


def class_notes(scores) -> list[list[tuple[str | None, str]]]:
    """Per class, why bars of the figure are missing or of no length: a list of (the score the note stands
    in for, None for the whole row; the note), empty where every bar is drawn.

    The scores tell the cases apart (:mod:`ecgcrnn.scoring.metrics`): a NaN AUPRC means that no recording
    has the class (the AUROC is NaN then too, and the F-measure NaN when it was never stated either, else
    0); a NaN AUROC beside an AUPRC, that every recording has it; an F-measure of 0 beside an AUPRC, that it
    was never stated where it is true (stated nowhere, or only wrongly).
    """
    notes = []
    for auroc, auprc, f_measure in zip(
        scores.auroc_classes, scores.auprc_classes, scores.f_measure_classes, strict=True
    ):
        if np.isnan(auprc):
            stated = "never stated" if np.isnan(f_measure) else "stated, wrongly (F = 0)"
            notes.append([(None, f"no positive label; {stated}")])
            continue
        row = [("AUROC", "AUROC undefined: no negative label")] if np.isnan(auroc) else []
        if f_measure == 0:
            row.append(("F-measure", "F = 0: never stated correctly"))
        notes.append(row)
    return notes


def _abbreviations(classes) -> list[str]:
    """Each class's abbreviation from the Challenge's table; its codes as the scores files write them else."""
    table = default_class_table()
    known = dict(zip(table.codes, table.abbreviations, strict=True))
    return [known.get(frozenset(codes), class_string(codes)) for codes in classes]


def _number(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.3f}"
