"""Read one recording: ``python -m ecgcrnn.app.show RECORD [MODEL_DIR] [-o PNG] [--text] [--json JSON]``.

With ``-o``, the first window (10 s) of the preprocessed recording is drawn at 25 mm/s and 10 mm/mV on a
pink grid of 1 mm and 5 mm squares: a standard 12-lead record in the printed 4 x 3 layout (2.5 s of each
lead, columns I-III, aVR-aVF, V1-V3, V4-V6) over a rhythm strip of lead II, any other record one row per
lead. The delineator's onsets, peaks and offsets are marked, P green, QRS red, T blue (ticks at onsets and
offsets, dots at peaks). Above the traces, a panel gives the measurements (rate, PR, QRS, QT and QTc, the P,
QRS and T axes) and the criteria met as a clinician writes them (:mod:`ecgcrnn.app.report`); given a model
folder, the classes the lead set's model predicts, with their probabilities, follow. ``--text`` prints the
same reading and ``--json`` writes it for other tools. A recording too noisy to measure says so instead of
giving numbers, and one of noise alone that no ECG was found
(:data:`~ecgcrnn.features.measurements.NO_ECG`) instead of a diagnosis.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import textwrap
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ecgcrnn.app import cli
from ecgcrnn.app.report import Reading, panel_lines, reading_of, report_text
from ecgcrnn.domain import STANDARD_LEADS, canonical_lead
from ecgcrnn.io.atomic import write_text
from ecgcrnn.io.figures import pyplot, save_figure
from ecgcrnn.io.records import load_header, load_recording, parse_header
from ecgcrnn.model.lead_set import LeadSetModel
from ecgcrnn.pipeline import PipelineSettings, prepare_record
from ecgcrnn.signal.preprocessing import resampled_length

SPEED_MM_S = 25.0
GAIN_MM_MV = 10.0
ROW_MM = 25.0
DPI = 150
STANDARD_COLUMNS = (("I", "II", "III"), ("aVR", "aVL", "aVF"), ("V1", "V2", "V3"), ("V4", "V5", "V6"))
RHYTHM_LEAD = "II"
WAVES = {  # wave: (onset, peak, offset) keys of the delineation, colour
    "P": (("P_on", "P_peak", "P_off"), "tab:green"),
    "QRS": (("QRS_on", "R", "QRS_off"), "tab:red"),
    "T": (("T_on", "T_peak", "T_off"), "tab:blue"),
}


class Panel(NamedTuple):
    """One trace on the paper: samples ``start:stop`` of signal row ``lead``, drawn from ``x_mm`` along a
    baseline at ``y_mm`` (millimetres from the paper's bottom left corner)."""

    lead: int
    start: int
    stop: int
    x_mm: float
    y_mm: float


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecgcrnn.app.show", description=__doc__.splitlines()[0])
    parser.add_argument(
        "record", type=Path, metavar="RECORD", help="a header file, or a record's path without extension"
    )
    parser.add_argument(
        "model", type=Path, nargs="?", metavar="MODEL_DIR", help="add this model's predicted classes"
    )
    parser.add_argument("--model", type=Path, dest="model_option", metavar="MODEL_DIR", help="as MODEL_DIR")
    parser.add_argument("-o", "--output", type=Path, metavar="OUT.png", help="draw the ECG into this PNG")
    parser.add_argument("--text", action="store_true", help="print the reading")
    parser.add_argument("--json", type=Path, metavar="OUT.json", help="write the reading as JSON")
    cli.add_verbosity(parser)
    args = parser.parse_args(argv)
    if args.model is not None and args.model_option is not None:
        parser.error("give MODEL_DIR once, as a positional argument or with --model")
    if args.output is None and not args.text and args.json is None:
        parser.error("say what to make: -o OUT.png, --text or --json OUT.json")
    model = args.model if args.model is not None else args.model_option
    cli.configure_logging(args)
    reads = {"RECORD": args.record, "MODEL_DIR": model}
    writes = {
        "OUTPUT": args.output.parent if args.output else None,
        "JSON": args.json.parent if args.json else None,
    }

    def action() -> None:
        reading = show_record(args.record, args.output, model, args.json)
        if args.text:
            print(report_text(reading))

    return cli.run(parser.prog, action, reads, writes)


def show_record(record, output_file=None, model_directory=None, json_file=None) -> Reading:
    """Read ``record``; draw its first window with its delineation and reading, and write the reading.

    Parameters
    ----------
    record : str or Path
        A ``.hea`` file, or the record's path without extension.
    output_file : str or Path, optional
        The PNG to draw; its folder is created if need be.
    model_directory : str or Path, optional
        A folder of trained models (``train_model.py``'s); the model of the record's lead set is run on
        the same prepared record.
    json_file : str or Path, optional
        Where to write the reading (:meth:`Reading.to_json`).

    Returns
    -------
    Reading
    """
    header_file = _header_file(Path(record))
    header = parse_header(load_header(header_file), source=str(header_file))
    for target, role in ((output_file, "OUTPUT"), (json_file, "JSON")):
        if target is not None:
            cli.writable_folder(Path(target).parent, role)
    recording = load_recording(header_file.with_suffix(".mat"), header)
    model = LeadSetModel.load(model_directory, header.leads) if model_directory is not None else None
    settings = model.settings if model is not None else PipelineSettings()
    leads = model.leads if model is not None else header.leads
    prepared = prepare_record(header, recording, leads, settings)
    reading = reading_of(header, leads, prepared, model)
    if json_file is not None:
        write_text(Path(json_file), json.dumps(reading.to_json(), indent=1, ensure_ascii=False) + "\n")
    if output_file is not None:
        samples = min(header_samples(header, settings), prepared.windows.shape[-1])
        first = prepared.windows[0][:, :samples]
        title = "\n".join([header.record_name, *panel_lines(reading)])
        fs_hz = settings.preprocess.fs_hz
        draw_ecg_paper(first, leads, fs_hz, prepared.delineations[0].per_lead, title, Path(output_file))
    return reading


def header_samples(header, settings: PipelineSettings) -> int:
    """The recording's length in samples once resampled to the pipeline's rate."""
    return resampled_length(header.num_samples, header.fs_hz, settings.preprocess.fs_hz)


def ecg_layout(leads, n_samples: int, fs_hz: float) -> tuple[list[Panel], float, float]:
    """Where each lead goes on the paper; returns the panels and the paper's width and height in mm.

    The twelve standard leads (in any order) take the printed layout: four columns of three leads, each
    column a quarter of the time, over a rhythm strip of lead II for the whole time. Other leads take one
    row each, for the whole time, in their given order.
    """
    names = [canonical_lead(lead) for lead in leads]
    width_mm = max(n_samples / fs_hz, 1.0) * SPEED_MM_S
    if len(names) != len(STANDARD_LEADS) or set(names) != set(STANDARD_LEADS):
        height_mm = len(names) * ROW_MM
        rows = [Panel(i, 0, n_samples, 0.0, height_mm - ROW_MM * (i + 0.5)) for i in range(len(names))]
        return rows, width_mm, height_mm
    rows_per_column = len(STANDARD_COLUMNS[0])
    height_mm = (rows_per_column + 1) * ROW_MM
    step = math.ceil(n_samples / len(STANDARD_COLUMNS))
    panels = [
        Panel(
            names.index(lead),
            column * step,
            min((column + 1) * step, n_samples),
            column * step / fs_hz * SPEED_MM_S,
            height_mm - ROW_MM * (row + 0.5),
        )
        for column, leads_of_column in enumerate(STANDARD_COLUMNS)
        for row, lead in enumerate(leads_of_column)
    ]
    panels.append(Panel(names.index(RHYTHM_LEAD), 0, n_samples, 0.0, ROW_MM * 0.5))
    return panels, width_mm, height_mm


def draw_ecg_paper(signal, leads, fs_hz: float, fiducials: dict, title: str, output_file) -> None:
    """Draw leads on ECG paper (25 mm/s, 10 mm/mV, 1 mm and 5 mm grid) with their fiducials marked.

    Parameters
    ----------
    signal : numpy.ndarray
        Millivolts, shape (leads, samples) at ``fs_hz``.
    leads : sequence of str
        The leads' names, one per row of ``signal``; they choose the layout (:func:`ecg_layout`).
    fiducials : dict of str to numpy.ndarray
        The delineation of ``signal`` (:func:`ecgcrnn.delineation.delineate.delineate_leads`): sample
        indices, shape (leads, beats).
    """
    plt = pyplot()
    panels, width_mm, height_mm = ecg_layout(leads, signal.shape[1], fs_hz)
    fig, ax = plt.subplots(figsize=((width_mm + 30) / 25.4, (height_mm + 25) / 25.4), dpi=DPI)
    try:
        for panel in panels:
            samples = np.arange(panel.start, panel.stop)
            ax.plot(*_position(panel, samples, signal, fs_hz), color="black", linewidth=0.6)
            ax.text(panel.x_mm + 1, panel.y_mm + ROW_MM * 0.3, leads[panel.lead], fontsize=8, weight="bold")
            if panel.start > 0:  # where the printout changes lead
                ax.plot([panel.x_mm] * 2, [panel.y_mm - 3, panel.y_mm + 3], color="black", linewidth=0.8)
        for keys, colour in WAVES.values():
            for key, marker in zip(keys, ("|", "o", "|"), strict=True):
                x, y = _marks(panels, signal, fiducials[key], fs_hz)
                size = 3 if marker == "o" else 7
                ax.plot(x, y, marker, color=colour, markersize=size, markeredgewidth=1.2, linestyle="none")
        _paper(ax, width_mm, height_mm)
        ax.set_xlabel(
            "25 mm/s, 10 mm/mV; P green, QRS red, T blue: ticks at onsets and offsets, dots at peaks"
        )
        lines = [part for line in title.splitlines() for part in textwrap.wrap(line, 130) or [""]]
        ax.set_title("\n".join(lines), fontsize=9, loc="left")
        fig.tight_layout()
        save_figure(fig, output_file)
    finally:
        plt.close(fig)


def _position(panel: Panel, samples: np.ndarray, signal: np.ndarray, fs_hz: float):
    """Paper coordinates (mm) of ``samples`` of the panel's lead."""
    x = panel.x_mm + (samples - panel.start) / fs_hz * SPEED_MM_S
    return x, panel.y_mm + signal[panel.lead, samples] * GAIN_MM_MV


def _marks(panels, signal, positions: np.ndarray, fs_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Paper coordinates of one fiducial (``positions``: samples, shape (leads, beats), NaN where absent)
    in every panel whose time span holds it."""
    xs, ys = [np.zeros(0)], [np.zeros(0)]
    for panel in panels:
        row = positions[panel.lead]
        samples = np.round(row[np.isfinite(row)]).astype(int)
        samples = samples[(samples >= panel.start) & (samples < panel.stop)]
        x, y = _position(panel, samples, signal, fs_hz)
        xs.append(x)
        ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


def _paper(ax, width_mm: float, height_mm: float) -> None:
    """The pink grid: 1 mm squares, 5 mm squares darker; no ticks or numbers, one mm per unit both ways."""
    from matplotlib.ticker import MultipleLocator  # matplotlib on first use, as io.figures.pyplot imports it

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MultipleLocator(5))
        axis.set_minor_locator(MultipleLocator(1))
    ax.grid(which="minor", color="#fbd5d5", linewidth=0.4)
    ax.grid(which="major", color="#f08c8c", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set(xlim=(0, width_mm), ylim=(0, height_mm), aspect="equal")


def _header_file(record: Path) -> Path:
    header_file = record if record.suffix == ".hea" else record.with_name(record.name + ".hea")
    if not header_file.is_file():
        raise FileNotFoundError(
            f"{header_file}: no such header: give a .hea file or a record path without extension"
        )
    return header_file


if __name__ == "__main__":
    sys.exit(main())
