"""Read one recording: ``python -m ecgcrnn.app.show RECORD [MODEL_DIR] [-o PNG] [--text] [--json JSON]``.

With ``-o``, the first window (10 s) of the preprocessed recording is drawn as an electrocardiograph prints
it, at 25 mm/s on a pink grid of 1 mm and 5 mm squares: a standard 12-lead record in the printed 4 x 3 layout
(2.5 s of each lead, columns I-III, aVR-aVF, V1-V3, V4-V6, a bar where the lead changes) over a rhythm strip
of lead II, any other record one row per lead. The gain is 10 mm/mV, halved to 5 mm/mV for a record whose
tallest complex would not fit its row; a 1 mV calibration pulse drawn at that gain starts every row, and a
complex taller still is cut at its row's edge rather than drawn over the next row. The delineator's onsets,
peaks and offsets are marked, P green, QRS red, T blue (ticks at onsets and offsets, dots at peaks). Above the
traces, a panel gives the record's name, leads, sampling rate, paper speed and gain, the measurements (rate,
PR, QRS, QT and QTc, the P, QRS and T axes) and the criteria met as a clinician writes them
(:mod:`ecgcrnn.app.report`); given a model folder, the classes the lead set's model predicts, with their
probabilities, follow. ``--text`` prints the same reading and ``--json`` writes it for other tools. A
recording too noisy to measure says so instead of giving numbers, and one of noise alone that no ECG was found
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
GAIN_MM_MV = 10.0  # the standard gain; halved for a record whose tallest complex would not fit its row
ROW_MM = 35.0  # one row of the printout, its baseline in the middle: +-1.75 mV at 10 mm/mV
CALIBRATION_MV, CALIBRATION_S = 1.0, 0.2  # the pulse at the start of every row
CALIBRATION_MM = 10.0  # the paper left of the traces that holds the pulse
SEPARATOR_MM = 8.0  # the bar where the printout changes lead
MARGIN_MM, TEXT_PAD_MM = 4.0, 2.0  # around the paper; between it and the text
TITLE_PT, FOOTNOTE_PT, LINE_MM = 9, 8, 4.0  # the text's sizes; a line's height at either
MM_PER_INCH = 25.4
DPI = 150
FOOTNOTE = (
    "calibration pulse 1 mV, 0.2 s; a bar where the lead changes; "
    "P green, QRS red, T blue: ticks at onsets and offsets, dots at peaks"
)
STANDARD_COLUMNS = (("I", "II", "III"), ("aVR", "aVL", "aVF"), ("V1", "V2", "V3"), ("V4", "V5", "V6"))
RHYTHM_LEAD = "II"
WAVES = {  # wave: (onset, peak, offset) keys of the delineation, colour
    "P": (("P_on", "P_peak", "P_off"), "tab:green"),
    "QRS": (("QRS_on", "R", "QRS_off"), "tab:red"),
    "T": (("T_on", "T_peak", "T_off"), "tab:blue"),
}


class Panel(NamedTuple):
    """One trace on the paper: samples ``start:stop`` of signal row ``lead``, drawn from ``x_mm`` along a
    baseline at ``y_mm`` (millimetres from the bottom left corner of the traces; the calibration pulses lie
    left of it)."""

    lead: int
    start: int
    stop: int
    x_mm: float
    y_mm: float


def main(argv=None, prog: str = "python -m ecgcrnn.app.show") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
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
        if model is not None:
            cli.import_tensorflow(args)  # quietly, unless -v
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
    """Where each lead goes on the paper; returns the panels and the traces' width and height in mm.

    The twelve standard leads (in any order) take the printed layout: four columns of three leads, each
    column a quarter of the time, over a rhythm strip of lead II for the whole time. Other leads take one
    row each, for the whole time, in their given order. A row is ``ROW_MM`` high, its baseline in the
    middle; the calibration pulses lie left of the traces, at negative x.
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


def paper_gain(signal: np.ndarray, panels) -> float:
    """The gain (mm/mV) to print at, chosen as an electrocardiograph chooses it: ``GAIN_MM_MV`` (10), halved
    when the tallest deflection of the drawn samples would leave its row at that gain (reach more than
    ``ROW_MM / 2`` above or below the baseline).

    Parameters
    ----------
    signal : numpy.ndarray
        Millivolts, shape (leads, samples).
    panels : sequence of Panel
        The traces drawn (:func:`ecg_layout`).
    """
    return GAIN_MM_MV if tallest_deflection_mv(signal, panels) * GAIN_MM_MV <= ROW_MM / 2 else GAIN_MM_MV / 2


def tallest_deflection_mv(signal: np.ndarray, panels) -> float:
    """The largest absolute value of ``signal`` (mV, shape (leads, samples)) over the samples ``panels``
    draw; 0 for none."""
    peaks = [np.max(np.abs(signal[panel.lead, panel.start : panel.stop]), initial=0.0) for panel in panels]
    return float(max(peaks, default=0.0))


def draw_ecg_paper(signal, leads, fs_hz: float, fiducials: dict, title: str, output_file) -> None:
    """Draw leads on ECG paper (1 mm and 5 mm grid, 25 mm/s) as an electrocardiograph prints them.

    The gain is :func:`paper_gain`'s, 10 mm/mV or 5 when the tallest complex would not fit its row, and is
    printed in the title; each row starts with a 1 mV calibration pulse, 0.2 s wide, drawn at that gain. A
    trace stays within its row: a deflection taller than the row is cut flat at the row's edge rather than
    drawn over the next row. A short bar marks where one lead's segment ends and the next lead's begins,
    and each segment's lead is named at its top left on a white box. The delineation's onsets, peaks and
    offsets are marked (:data:`WAVES`: ticks at onsets and offsets, dots at peaks).

    Parameters
    ----------
    signal : numpy.ndarray
        Millivolts, shape (leads, samples) at ``fs_hz``.
    leads : sequence of str
        The leads' names, one per row of ``signal``; they choose the layout (:func:`ecg_layout`).
    fs_hz : float
        The sampling rate of ``signal``.
    fiducials : dict of str to numpy.ndarray
        The delineation of ``signal`` (:func:`ecgcrnn.delineation.delineate.delineate_leads`): sample
        indices, shape (leads, beats).
    title : str
        The record's name on its first line, then the reading; the leads, sampling rate, paper speed and
        gain are printed after the first line.
    output_file : str or Path
        The PNG to write.
    """
    plt = pyplot()
    panels, width_mm, height_mm = ecg_layout(leads, signal.shape[1], fs_hz)
    gain = paper_gain(signal, panels)
    paper = f"{len(leads)} leads ({', '.join(leads)}), {fs_hz:g} Hz; {SPEED_MM_S:g} mm/s, {gain:g} mm/mV"
    if gain < GAIN_MM_MV:
        tallest = tallest_deflection_mv(signal, panels)
        paper += f" (halved: the tallest complex, {tallest:.1f} mV, would not fit its row)"
    record, *reading = title.splitlines() or [""]
    fig, ax = _figure(plt, width_mm, height_mm, [record, paper, *reading])
    try:
        for panel in panels:
            samples = np.arange(panel.start, panel.stop)
            x, y = _position(panel, samples, signal, fs_hz, gain)
            ax.plot(x, y, color="black", linewidth=0.6, gid="trace")
            if panel.start > 0:  # where the printout changes lead
                bar = [panel.y_mm - SEPARATOR_MM / 2, panel.y_mm + SEPARATOR_MM / 2]
                ax.plot([panel.x_mm] * 2, bar, color="black", linewidth=1.2, gid="separator")
            _lead_name(ax, panel, leads[panel.lead])
        for y_mm in sorted({panel.y_mm for panel in panels}):
            ax.plot(*_calibration_pulse(y_mm, gain), color="black", linewidth=0.8, gid="calibration")
        for keys, colour in WAVES.values():
            for key, marker in zip(keys, ("|", "o", "|"), strict=True):
                x, y = _marks(panels, signal, fiducials[key], fs_hz, gain)
                size = 3 if marker == "o" else 7
                ax.plot(x, y, marker, color=colour, markersize=size, markeredgewidth=1.2, linestyle="none")
        _paper(ax, width_mm, height_mm)
        save_figure(fig, output_file)
    finally:
        plt.close(fig)


def _figure(plt, width_mm: float, height_mm: float, title_lines: list[str]):
    """A figure that holds the paper (the traces' ``width_mm`` and ``height_mm`` and the calibration pulses)
    at its true size, the title above it and :data:`FOOTNOTE` below, both wrapped to the paper's width;
    returns the figure and the paper's axes."""
    paper_mm = width_mm + CALIBRATION_MM
    title = _wrap(title_lines, paper_mm, TITLE_PT)
    footnote = _wrap([FOOTNOTE], paper_mm, FOOTNOTE_PT)
    top_mm, bottom_mm = (MARGIN_MM + TEXT_PAD_MM + LINE_MM * len(lines) for lines in (title, footnote))
    figure_mm = (paper_mm + 2 * MARGIN_MM, height_mm + top_mm + bottom_mm)
    fig = plt.figure(figsize=[size / MM_PER_INCH for size in figure_mm], dpi=DPI)
    left, bottom = MARGIN_MM / figure_mm[0], bottom_mm / figure_mm[1]
    ax = fig.add_axes((left, bottom, paper_mm / figure_mm[0], height_mm / figure_mm[1]))
    pad_pt = TEXT_PAD_MM / MM_PER_INCH * 72
    ax.set_title("\n".join(title), fontsize=TITLE_PT, loc="left", pad=pad_pt, gid="title")
    ax.set_xlabel("\n".join(footnote), fontsize=FOOTNOTE_PT, labelpad=pad_pt)
    return fig, ax


def _wrap(lines, width_mm: float, size_pt: float) -> list[str]:
    """``lines`` broken at spaces into lines that fit ``width_mm`` in matplotlib's font at ``size_pt``."""
    from matplotlib.font_manager import FontProperties  # matplotlib on first use, as io.figures.pyplot
    from matplotlib.textpath import TextToPath

    measure, font = TextToPath().get_text_width_height_descent, FontProperties(size=size_pt)
    width_pt = 0.97 * width_mm / MM_PER_INCH * 72  # the margin for rendering's rounding

    def fits(parts) -> bool:
        return all(measure(part, font, ismath=False)[0] <= width_pt for part in parts)

    wrapped = []
    for line in lines:
        columns, parts = len(line), [line]
        while not fits(parts) and columns > 1:
            columns = max(columns * 9 // 10, 1)
            parts = textwrap.wrap(line, columns, break_long_words=False)
        wrapped.extend(parts or [""])
    return wrapped


def _lead_name(ax, panel: Panel, name: str) -> None:
    """The lead's name at the top left of its segment, clear of the baseline, on a white box over the grid
    and over any complex that reaches that high."""
    box = {"facecolor": "white", "edgecolor": "none", "pad": 1.0}
    x, y = panel.x_mm + 1.5, panel.y_mm + ROW_MM / 2 - 1.5
    ax.text(x, y, name, ha="left", va="top", fontsize=8, weight="bold", bbox=box, zorder=4, gid="lead")


def _calibration_pulse(y_mm: float, gain: float) -> tuple[list[float], list[float]]:
    """Paper coordinates of a 1 mV pulse at ``gain`` mm/mV on the baseline ``y_mm``, in the space left of
    the traces: a step up, ``CALIBRATION_S`` wide, and back down."""
    width_mm = CALIBRATION_S * SPEED_MM_S
    start_mm = -(CALIBRATION_MM + width_mm) / 2
    x = [-CALIBRATION_MM, start_mm, start_mm, start_mm + width_mm, start_mm + width_mm, 0.0]
    top = y_mm + CALIBRATION_MV * gain
    return x, [y_mm, y_mm, top, top, y_mm, y_mm]


def _position(panel: Panel, samples: np.ndarray, signal: np.ndarray, fs_hz: float, gain: float):
    """Paper coordinates (mm) of ``samples`` of the panel's lead at ``gain`` mm/mV, cut at the row's edges."""
    x = panel.x_mm + (samples - panel.start) / fs_hz * SPEED_MM_S
    y = np.clip(signal[panel.lead, samples] * gain, -ROW_MM / 2, ROW_MM / 2)
    return x, panel.y_mm + y


def _marks(panels, signal, positions: np.ndarray, fs_hz: float, gain: float) -> tuple[np.ndarray, np.ndarray]:
    """Paper coordinates of one fiducial (``positions``: samples, shape (leads, beats), NaN where absent)
    in every panel whose time span holds it."""
    xs, ys = [np.zeros(0)], [np.zeros(0)]
    for panel in panels:
        row = positions[panel.lead]
        samples = np.round(row[np.isfinite(row)]).astype(int)
        samples = samples[(samples >= panel.start) & (samples < panel.stop)]
        x, y = _position(panel, samples, signal, fs_hz, gain)
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
    ax.set(xlim=(-CALIBRATION_MM, width_mm), ylim=(0, height_mm), aspect="equal")


def _header_file(record: Path) -> Path:
    header_file = record if record.suffix == ".hea" else record.with_name(record.name + ".hea")
    if not header_file.is_file():
        raise FileNotFoundError(
            f"{header_file}: no such header: give a .hea file or a record path without extension"
        )
    return header_file


if __name__ == "__main__":
    sys.exit(main())
