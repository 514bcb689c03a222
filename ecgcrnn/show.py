"""Draw one recording on ECG paper: ``python -m ecgcrnn.show RECORD [--model MODEL_DIR] -o out.png``.

The first window (10 s) of the preprocessed recording is drawn at 25 mm/s and 10 mm/mV on a pink grid of
1 mm and 5 mm squares, one row per lead, with the delineator's QRS onsets and offsets (red ticks), P peaks
(green dots) and T peaks (blue dots). Given a model folder, the classes the lead set's model predicts for
the whole recording, with their probabilities, go in the title.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

import numpy as np

from . import cli
from .classes import ABBREVIATIONS
from .delineation import delineate_leads
from .preprocessing import PreprocessConfig, preprocess, windows
from .records import load_header, load_recording, parse_header

SPEED_MM_S = 25.0
GAIN_MM_MV = 10.0
ROW_MM = 25.0
_MARKS = {  # fiducial: (marker, colour, size in points)
    "QRS_on": ("|", "tab:red", 9),
    "QRS_off": ("|", "tab:red", 9),
    "P_peak": ("o", "tab:green", 4),
    "T_peak": ("o", "tab:blue", 4),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecgcrnn.show", description=__doc__.splitlines()[0])
    parser.add_argument("record", type=Path, help="a header file, or a record's path without extension")
    parser.add_argument(
        "--model", type=Path, metavar="MODEL_DIR", help="put this model's predictions in the title"
    )
    parser.add_argument(
        "-o", "--output", type=Path, required=True, metavar="OUT.png", help="the PNG to write"
    )
    cli.add_verbosity(parser)
    args = parser.parse_args(argv)
    cli.configure_logging(args)
    reads = {"RECORD": args.record, "MODEL_DIR": args.model}
    writes = {"OUTPUT": args.output.parent}

    def action() -> None:
        show_record(args.record, args.output, args.model)

    return cli.run(parser.prog, action, reads, writes)


def show_record(record, output_file, model_directory=None) -> str:
    """Draw ``record``'s first window with its delineation (and predictions) into ``output_file``.

    Parameters
    ----------
    record : str or Path
        A ``.hea`` file, or the record's path without extension.
    output_file : str or Path
        The PNG to write; its folder is created if need be.
    model_directory : str or Path, optional
        A folder of trained models (``train_model.py``'s); the model of the record's lead set is run.

    Returns
    -------
    str
        The figure's title: the record's name, and the predicted classes when a model was given.
    """
    header_file = _header_file(Path(record))
    text = load_header(header_file)
    header = parse_header(text, source=str(header_file))
    output_file = Path(output_file)
    cli.writable_folder(output_file.parent, "OUTPUT")
    recording = load_recording(header_file.with_suffix(".mat"), header)
    config = PreprocessConfig()
    signal = preprocess(header, recording, header.leads, config).signal
    first = windows(signal, config)[0][:, : signal.shape[1]]
    title = header.record_name
    if model_directory is not None:
        title = f"{title}: {predicted_classes(model_directory, text, recording)}"
    draw_ecg_paper(
        first, header.leads, config.fs_hz, delineate_leads(first, config.fs_hz), title, output_file
    )
    return title


def predicted_classes(model_directory, header: str, recording: np.ndarray) -> str:
    """The classes predicted by the model of the record's leads, with probabilities, most likely first."""
    from .inference import load_model, run_model

    model = load_model(model_directory, parse_header(header).leads)
    classes, labels, probabilities = run_model(model, header, recording)
    chosen = sorted(np.flatnonzero(labels), key=lambda k: -probabilities[k])
    if not chosen:
        return "no class above its threshold"
    return ", ".join(f"{ABBREVIATIONS.get(classes[k], classes[k])} {probabilities[k]:.2f}" for k in chosen)


def draw_ecg_paper(signal, leads, fs_hz: float, fiducials: dict, title: str, output_file) -> None:
    """Draw leads on ECG paper (25 mm/s, 10 mm/mV, 1 mm and 5 mm grid) with their fiducials marked.

    Parameters
    ----------
    signal : numpy.ndarray
        Millivolts, shape (leads, samples) at ``fs_hz``.
    leads : sequence of str
        The row labels, one per lead.
    fiducials : dict of str to numpy.ndarray
        :func:`ecgcrnn.delineation.delineate_leads` of ``signal``: sample indices, shape (leads, beats).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MultipleLocator

    n_leads, n_samples = signal.shape
    width_mm, height_mm = max(n_samples / fs_hz, 1.0) * SPEED_MM_S, n_leads * ROW_MM
    baselines = height_mm - ROW_MM * (np.arange(n_leads) + 0.5)
    fig, ax = plt.subplots(figsize=((width_mm + 30) / 25.4, (height_mm + 25) / 25.4), dpi=100)
    try:
        time_mm = np.arange(n_samples) / fs_hz * SPEED_MM_S
        ax.plot(time_mm, (baselines[:, None] + signal * GAIN_MM_MV).T, color="black", linewidth=0.7)
        for key, (marker, colour, size) in _MARKS.items():
            rows, beats = np.nonzero(np.isfinite(fiducials[key]))
            samples = np.clip(np.round(fiducials[key][rows, beats]).astype(int), 0, n_samples - 1)
            y = baselines[rows] + signal[rows, samples] * GAIN_MM_MV
            ax.plot(samples / fs_hz * SPEED_MM_S, y, marker, color=colour, markersize=size, linestyle="none")
        for name, baseline in zip(leads, baselines, strict=True):
            ax.text(1, baseline + ROW_MM * 0.3, name, fontsize=9, fontweight="bold")
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(MultipleLocator(5))
            axis.set_minor_locator(MultipleLocator(1))
        ax.grid(which="minor", color="#fbd5d5", linewidth=0.4)
        ax.grid(which="major", color="#f08c8c", linewidth=0.8)
        ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
        ax.set(xlim=(0, width_mm), ylim=(0, height_mm), aspect="equal")
        ax.set_xlabel("25 mm/s, 10 mm/mV")
        ax.set_title("\n".join(textwrap.wrap(title, 110)), fontsize=10)
        fig.tight_layout()
        fig.savefig(output_file)
    finally:
        plt.close(fig)


def _header_file(record: Path) -> Path:
    header_file = record if record.suffix == ".hea" else record.with_name(record.name + ".hea")
    if not header_file.is_file():
        raise FileNotFoundError(
            f"{header_file}: no such header: give a .hea file or a record path without extension"
        )
    return header_file


if __name__ == "__main__":
    sys.exit(main())
