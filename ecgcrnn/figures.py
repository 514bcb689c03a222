"""The README's figures, regenerated from the code and the data: ``python -m ecgcrnn.figures``.

``figures/PQRST.png`` shows beats of a real LUDB record (Kalyakulina et al. 2020) with the delineator's
fiducials beside the cardiologists' marks.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from .delineation import FIDUCIALS, delineate_leads
from .preprocessing import PreprocessConfig, filter_signal, resample

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
LUDB = ROOT.parent / "shared" / "data" / "ludb"

_WAVE_COLOURS = {"P": "tab:green", "QRS": "tab:red", "R": "tab:red", "T": "tab:blue"}
_MARKERS = {"on": ">", "peak": "o", "off": "<"}


def plot_pqrst(output_file, ludb_directory=LUDB, record: str = "1", lead: str = "ii", seconds=(2.0, 5.0)):
    """Draw one LUDB lead with detected fiducials (markers) and the cardiologists' marks (ticks below).

    Parameters
    ----------
    output_file : str or Path
        PNG to write.
    ludb_directory : Path
        The LUDB folder (records ``1`` .. ``200`` with per-lead annotation files).
    record, lead : str
        LUDB record name and lead (annotation extension, ``i`` .. ``v6``).
    seconds : tuple of float
        Start and end of the segment drawn, in seconds.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .ludb import LEADS, read_record, read_reference

    signals, fs = read_record(Path(ludb_directory) / record)
    config = PreprocessConfig()
    filtered = filter_signal(resample(signals, fs, config.fs_hz), config)
    detected = delineate_leads(filtered, config.fs_hz)
    row = LEADS.index(lead)
    reference = read_reference(Path(ludb_directory) / record, lead)
    scale = config.fs_hz / fs

    start, stop = (round(s * config.fs_hz) for s in seconds)
    time = np.arange(start, stop) / config.fs_hz
    trace = filtered[row, start:stop]
    fig, ax = plt.subplots(figsize=(11, 4.2), dpi=130)
    ax.plot(time, trace, color="0.15", linewidth=1.1, label=f"LUDB record {record}, lead {lead.upper()}")
    low = float(trace.min()) - 0.35 * float(np.ptp(trace))
    for key in FIDUCIALS:
        wave, part = _wave_and_part(key)
        colour = _WAVE_COLOURS[wave]
        found = detected[key][row]
        found = found[(found >= start) & (found < stop)]
        ax.plot(
            found / config.fs_hz,
            filtered[row, np.round(found).astype(int)],
            _MARKERS[part],
            color=colour,
            markersize=7,
            markeredgecolor="white",
            label=f"detected {key}",
        )
        marks = reference[key] * scale
        marks = marks[(marks >= start) & (marks < stop)]
        ax.vlines(marks / config.fs_hz, low, low + 0.12 * float(np.ptp(trace)), color=colour, linewidth=2)
    ax.axhline(low, color="0.6", linewidth=0.6)
    ax.text(time[0], low - 0.04 * float(np.ptp(trace)), "cardiologists' marks", va="top", fontsize=9)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mV (filtered)")
    ax.set_title("Wavelet delineation (Martínez et al. 2004) against LUDB's reference marks")
    ax.legend(loc="upper right", fontsize=7, ncol=4, framealpha=0.9)
    ax.set_ylim(low - 0.12 * float(np.ptp(trace)), float(trace.max()) + 0.45 * float(np.ptp(trace)))
    fig.tight_layout()
    Path(output_file).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output_file)
    plt.close(fig)
    log.info("wrote %s", output_file)


def _wave_and_part(key: str) -> tuple[str, str]:
    if key == "R":
        return "R", "peak"
    wave, part = key.split("_")
    return wave, part


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the README's figures.")
    parser.add_argument("--output", type=Path, default=ROOT / "figures", help="folder for the PNGs")
    parser.add_argument("--ludb", type=Path, default=LUDB, help="the LUDB folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    plot_pqrst(args.output / "PQRST.png", args.ludb)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
