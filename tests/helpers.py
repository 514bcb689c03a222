"""What the tests share besides their fixtures (those are in conftest.py): where ../shared is, tiny training
settings, the synthetic records of every kind the pipeline handles, running the repository's scripts, work
done once per test session, and a PNG's size.

Tests import these names as any module's (``from helpers import tiny_config``).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.environment import REPOSITORY, shared_root
from ecgcrnn.synthetic.generator import SyntheticConfig, generate_record, write_dataset, write_record_files
from ecgcrnn.training.settings import config_from_dict

# ../shared beside the checkout (devtools.environment.shared_root): the real Challenge records, LUDB and the
# Challenge's scoring tables. Tests that read it are marked real_data and skip where it is absent.
# ECGCRNN_SHARED names another folder, e.g. ECGCRNN_SHARED=/nonexistent to see what a fresh clone runs.
SHARED = shared_root()
CHALLENGE_DATA = SHARED / "data" / "challenge"
LUDB_DATA = SHARED / "data" / "ludb"
LUDB_CHALLENGE_DATA = SHARED / "data" / "ludb_challenge"
SHARED_WEIGHTS = SHARED / "scoring" / "weights.csv"

# A network small enough to train in seconds: eight convolutional blocks leave four steps for the GRU. Two
# threshold folds (the fewest there can be) make a lead set's training two fold networks.
TINY_NETWORK = {
    "network": {
        "conv_filters": [4, 4, 4, 4, 4, 4, 4, 4],
        "signal_rnn_units": 4,
        "feature_rnn_units": 4,
        "dense_units": [8, 8, 8],
    },
    "batch_size": 64,
    "epochs": 1,
    "n_jobs": 2,
    "threshold_folds": 2,
}

# Synthetic records of every kind the cache must handle, as (sampling rate in Hz, duration in s, labels): 10 s
# at 500 Hz, 15 s (two windows), 35 s (four windows), 38 s at 1000 Hz (four windows) and 115 s at 1000 Hz
# (12). Their names sort in this order. The labels vary the rhythm, and the axis deviations and bundle branch
# blocks turn the T wave, so that over the six every lead has an upright and an inverted one (no feature is
# the same in every record, as none is over real records).
CACHE_SPECS = {
    "C1_15s": (500.0, 15.0, ("AF", "RAD")),
    "C2_10s": (500.0, 10.0, ("SB", "LAD")),
    "C3_10s": (500.0, 10.0, ("NSR", "LBBB")),
    "C4_35s": (500.0, 35.0, ("NSR", "RBBB")),
    "C5_38s_1000Hz": (1000.0, 38.0, ("AFL",)),
    "C6_115s_1000Hz": (1000.0, 115.0, ("NSR", "PVC")),
}
CACHE_RECORDS = tuple(CACHE_SPECS)
CACHE_WINDOWS = {
    "C1_15s": 2,
    "C2_10s": 1,
    "C3_10s": 1,
    "C4_35s": 4,
    "C5_38s_1000Hz": 4,
    "C6_115s_1000Hz": 12,
}
SYNTHETIC_SEED = 2021
UNTRAINED_THRESHOLDS = tuple(0.3 + 0.4 * k / 25 for k in range(26))  # of the untrained_models fixture
UNTRAINED_PREVALENCE = tuple(0.01 + 0.02 * k for k in range(26))  # of the untrained_models fixture
TRAINING_RECORDS = 60  # 10 s at 500 Hz, the generator's default: enough for a stratified split


def save_untrained_model(
    root,
    lead_set: str,
    thresholds=0.5,
    settings=None,
    network=None,
    extra=None,
    decided_by=None,
    prevalence=None,
):
    """Save a model folder as training does, with an untrained tiny network (or ``network``) of ``lead_set``,
    ``thresholds`` (one for every class, or one per class), ``settings`` (the default pipeline's),
    ``decided_by`` (per class ``"network"`` or ``"criteria"``; the network decides every class when None)
    and ``prevalence`` (per class; 0 when None), which the untrained network's criteria path is built with
    too; returns the folder's path."""
    import numpy as np

    from ecgcrnn.domain import LEAD_SETS, default_class_table
    from ecgcrnn.model.lead_set import LeadSetModel
    from ecgcrnn.model.network import build_model
    from ecgcrnn.pipeline import PipelineSettings

    settings = settings or PipelineSettings()
    classes = default_class_table().names
    network = network or build_model(
        LEAD_SETS[lead_set], classes, tiny_config().network, settings=settings, prevalence=prevalence
    )
    thresholds = np.broadcast_to(np.asarray(thresholds, dtype=float), (len(classes),))
    rules = {"decided_by": decided_by, "prevalence": prevalence}
    model = LeadSetModel(lead_set, network, thresholds=thresholds, settings=settings, **rules)
    return model.save(root, extra)


def tiny_config(**overrides):
    """A :class:`TrainingConfig` with :data:`TINY_NETWORK` and the given overrides."""
    return config_from_dict({**TINY_NETWORK, **overrides})


def tiny_environment(**overrides) -> dict[str, str]:
    """``os.environ`` with ``ECGCRNN_<FIELD>`` set to :data:`TINY_NETWORK` and the overrides (the network's
    fields by their own names), for the CLIs."""
    values = {**TINY_NETWORK, **overrides}
    values |= values.pop("network")
    environ = {key: value for key, value in os.environ.items() if not key.startswith("ECGCRNN_")}
    environ |= {f"ECGCRNN_{name.upper()}": json.dumps(value) for name, value in values.items()}
    return environ


def run_script(script: str, *arguments, environ=None, timeout=600) -> subprocess.CompletedProcess:
    """Run one of the repository's command-line scripts with this interpreter; output captured as text."""
    return subprocess.run(
        [sys.executable, str(REPOSITORY / script), *map(str, arguments)],
        cwd=REPOSITORY,
        env=environ or tiny_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def copy_records(source: Path, folder: Path, names) -> Path:
    """Copy the records ``names`` (header and recording) from ``source`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        for suffix in (".hea", ".mat"):
            shutil.copy(source / f"{name}{suffix}", folder / f"{name}{suffix}")
    return folder


def write_cache_records(folder: Path) -> Path:
    """Write the synthetic records :data:`CACHE_SPECS` (12 leads, ``#Age``, ``#Sex``, ``#Dx``) into a folder.

    Each is generated at its own sampling rate and duration, so the 1000 Hz ones hold 1000 Hz signals.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for index, (name, (fs_hz, duration_s, labels)) in enumerate(CACHE_SPECS.items()):
        config = SyntheticConfig(fs_hz=fs_hz, duration_s=duration_s)
        write_record_files(folder, name, generate_record(SYNTHETIC_SEED, index, labels, config=config))
    return folder


def write_training_records(folder: Path) -> Path:
    """Write :data:`TRAINING_RECORDS` synthetic records ``S00001`` .. into ``folder``."""
    write_dataset(folder, TRAINING_RECORDS, SYNTHETIC_SEED)
    return folder


def once_per_session(tmp_path_factory, name: str, produce) -> Path:
    """Call ``produce(folder)`` once per test session, even across xdist workers; returns the folder.

    The first caller runs it under a file lock in the session's shared temporary folder, later callers (in
    any worker) wait for the lock and get the folder it filled. A ``produce`` that raises is tried again
    by the next caller.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            produce(folder)
            done.touch()
    return folder


class TrainedModel:
    """What ``train_model.py`` did with the tiny settings on one folder of records, all five lead sets."""

    def __init__(self, directory: Path, returncode: int, output: str):
        self.directory, self.returncode, self.output = directory, returncode, output

    def model_directory(self) -> Path:
        """The trained model folder; fails the test when training did not succeed."""
        if self.returncode != 0:
            pytest.fail(f"train_model.py failed ({self.returncode}):\n{self.output[-3000:]}")
        return self.directory


TRAINING_TIMEOUT_S = 1800  # five lead sets of two fold networks each, beside other tests


def train_once(tmp_path_factory, name: str, data_directory: Path) -> TrainedModel:
    """Run ``train_model.py`` on ``data_directory`` once per test session (:func:`once_per_session`)."""

    def produce(folder: Path) -> None:
        result = run_script("train_model.py", data_directory, folder / "model", timeout=TRAINING_TIMEOUT_S)
        (folder / "outcome.json").write_text(json.dumps([result.returncode, result.stdout + result.stderr]))

    folder = once_per_session(tmp_path_factory, name, produce)
    returncode, output = json.loads((folder / "outcome.json").read_text())
    return TrainedModel(folder / "model", returncode, output)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG file; fails the test unless it starts with the PNG signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
