"""The README's figures, regenerated from the code and the data: ``python -m devtools.figures`` from the
repository's root (``make figures``).

``figures/PQRST.png`` shows beats of a real LUDB record (Kalyakulina et al. 2020) with the delineator's
fiducials beside the cardiologists' marks. ``figures/model_scheme.png`` draws the network's real graph,
read from the built Keras model's configuration (a convolutional block's layers share one box).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from devtools.environment import REPOSITORY, data_root
from devtools.ludb import LEADS, read_record, read_reference
from ecgcrnn.delineation.delineate import delineate_leads
from ecgcrnn.domain import FIDUCIALS, LEAD_SETS, default_class_table
from ecgcrnn.io.figures import pyplot, save_figure
from ecgcrnn.signal.preprocessing import PreprocessConfig, filter_signal, resample

log = logging.getLogger(__name__)

_WAVE_COLOURS = {"P": "tab:green", "QRS": "tab:red", "R": "tab:red", "T": "tab:blue"}
_MARKERS = {"on": ">", "peak": "o", "off": "<"}


def plot_pqrst(output_file, ludb_directory=None, record: str = "1", lead: str = "ii", seconds=(2.0, 5.0)):
    """Draw one LUDB lead with detected fiducials (markers) and the cardiologists' marks (ticks below).

    Parameters
    ----------
    output_file : str or Path
        PNG to write.
    ludb_directory : Path, optional
        The LUDB folder (records ``1`` .. ``200`` with per-lead annotation files); None: the data root's
        (:func:`devtools.environment.data_root`).
    record, lead : str
        LUDB record name and lead (annotation extension, ``i`` .. ``v6``).
    seconds : tuple of float
        Start and end of the segment drawn, in seconds.
    """
    plt = pyplot()
    ludb_directory = Path(ludb_directory) if ludb_directory is not None else data_root() / "ludb"
    signals, fs = read_record(ludb_directory / record)
    config = PreprocessConfig()
    filtered = filter_signal(resample(signals, fs, config.fs_hz), config)
    detected = delineate_leads(filtered, config.fs_hz)
    row = LEADS.index(lead)
    reference = read_reference(ludb_directory / record, lead)
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
    _save(plt, fig, output_file)


LANE_X = (0.0, 1.45, 3.55, 5.7)  # the signal branch, the feature branch, the record inputs, the criteria


def plot_model_scheme(output_file, lead_set: str = "twelve") -> None:
    """Draw the graph of the network built by :func:`ecgcrnn.model.network.build_model` for one lead set."""
    from ecgcrnn.model.network import build_model  # imports TensorFlow: only for this figure

    plt = pyplot()
    network = build_model(LEAD_SETS[lead_set], default_class_table().names)
    boxes, edges = _layer_groups(network)
    depth = _depths(boxes, edges)
    lanes = {name: _lane(name) for name in boxes}
    fig, ax = plt.subplots(figsize=(14, 11), dpi=120)
    position = {}
    for name in boxes:
        same = sorted(n for n in boxes if depth[n] == depth[name] and lanes[n] == lanes[name])
        offset = (same.index(name) - (len(same) - 1) / 2) * 0.62
        position[name] = (LANE_X[lanes[name]] + offset, -depth[name])
    for source, target in edges:
        (x0, y0), (x1, y1) = position[source], position[target]
        ax.annotate("", (x1, y1 + 0.28), (x0, y0 - 0.28), arrowprops={"arrowstyle": "->", "color": "0.5"})
    for name, text in boxes.items():
        x, y = position[name]
        colour = {0: "#dbe9f6", 1: "#e3f1dd", 2: "#fbe6cf", 3: "#f3dcdc"}.get(lanes[name], "#eeeeee")
        ax.text(x, y, text, ha="center", va="center", fontsize=7.2, bbox={"boxstyle": "round", "fc": colour})
    ax.set_xlim(-0.8, 6.4)
    ax.set_ylim(-max(depth.values()) - 0.7, 0.7)
    ax.axis("off")
    ax.set_title(f"Dual-branch CRNN, {lead_set}-lead model ({network.count_params():,} parameters)")
    fig.tight_layout()
    _save(plt, fig, output_file)


def _save(plt, fig, output_file) -> None:
    """Write ``fig`` atomically (:func:`ecgcrnn.io.figures.save_figure`), creating its folder; close it."""
    try:
        Path(output_file).parent.mkdir(parents=True, exist_ok=True)
        save_figure(fig, output_file)
    finally:
        plt.close(fig)
    log.info("wrote %s", output_file)


def _layer_groups(network) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """Boxes (group name -> label) and edges between groups, from the model's configuration."""
    groups, labels, edges = {}, {}, set()
    for layer in network.get_config()["layers"]:
        name = layer["name"]
        group = (
            name.rsplit("_", 1)[0]
            if name.endswith(("_conv", "_bn", "_relu", "_pool", "_dense", "_dropout"))
            else name
        )
        groups[name] = group
        shape = tuple(network.get_layer(name).output.shape[1:])
        kind = layer["class_name"]
        if kind == "Conv1D":
            config = layer["config"]
            kind = f"Conv1D {config['filters']}x{config['kernel_size'][0]}/{config['strides'][0]}, BN, ReLU"
        elif kind == "Bidirectional":
            kind = f"BiGRU {layer['config']['layer']['config']['units']}"
        elif kind == "Dense":
            kind = f"Dense {layer['config']['units']} {layer['config']['activation']}"
            kind += "" if layer["config"].get("trainable", True) else ", fixed"
        if group not in labels:
            labels[group] = f"{group}\n{kind}\n{shape}"
        elif name.endswith("_pool"):  # a block's pooling: the block's box shows the pooled shape
            title, text, _ = labels[group].split("\n")
            labels[group] = f"{title}\n{text} + pool\n{shape}"
        for node in layer["inbound_nodes"]:
            for source in _sources(node):
                if groups[source] != group:
                    edges.add((groups[source], group))
    return labels, edges


def _sources(node) -> list[str]:
    """Names of the layers feeding one inbound node of a layer's configuration."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                found.append(value["config"]["keras_history"][0])
            else:
                for item in value.values():
                    walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    walk(node)
    return found


def _depths(boxes, edges) -> dict[str, int]:
    depth = dict.fromkeys(boxes, 0)
    for _ in boxes:
        for source, target in edges:
            depth[target] = max(depth[target], depth[source] + 1)
    return depth


def _lane(name: str) -> int:
    if name.startswith("signal"):
        return 0
    if name.startswith("beat"):
        return 1
    if name.startswith("criteria"):
        return 3
    if name.startswith(("record", "demographics", "wide", "measurement")):
        return 2
    return 1


def _wave_and_part(key: str) -> tuple[str, str]:
    if key == "R":
        return "R", "peak"
    wave, part = key.split("_")
    return wave, part


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the README's figures.")
    parser.add_argument("--output", type=Path, default=REPOSITORY / "figures", help="folder for the PNGs")
    parser.add_argument("--ludb", type=Path, default=data_root() / "ludb", help="the LUDB folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    plot_pqrst(args.output / "PQRST.png", args.ludb)
    plot_model_scheme(args.output / "model_scheme.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
