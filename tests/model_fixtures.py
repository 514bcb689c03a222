"""Fixtures of the model pipeline's tests: tiny settings, a small cache, and one trained model folder.

A test module imports the fixtures it uses (``from model_fixtures import small_cache_fixture``); each is
registered under its name without the ``_fixture`` suffix, which the tests take as their argument.

Training is the expensive part, so the model folder trained by ``train_model.py`` is made once per test
session and, under pytest-xdist, once for all workers: the first worker that needs it trains it under a
file lock in the session's shared temporary folder; the others wait for it and reuse it.
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

from ecgcrnn.data.cache import build_cache
from ecgcrnn.training.settings import config_from_dict

REPOSITORY = Path(__file__).resolve().parents[1]

# A network small enough to train in seconds: eight convolutional blocks leave four steps for the GRU.
TINY_NETWORK = {
    "conv_filters": [4, 4, 4, 4, 4, 4, 4, 4],
    "signal_rnn_units": 4,
    "feature_rnn_units": 4,
    "dense_units": [8, 8, 8],
    "batch_size": 64,
    "epochs": 1,
    "n_jobs": 2,
}

# Real records of every kind the cache must handle: 10 s at 500 Hz (A, E), 15 s (A0001, two windows),
# 35 s (Q0015, four windows), 1000 Hz (S0001, 38 s, four windows) and 115 s at 1000 Hz (S0008, 12 windows).
CACHE_RECORDS = ("A0001", "A0002", "E00001", "Q0015", "S0001", "S0008")
CACHE_WINDOWS = {"A0001": 2, "A0002": 1, "E00001": 1, "Q0015": 4, "S0001": 4, "S0008": 12}


def tiny_config(**overrides):
    """A :class:`TrainingConfig` with :data:`TINY_NETWORK` and the given overrides."""
    return config_from_dict({**TINY_NETWORK, **overrides})


def tiny_environment(**overrides) -> dict[str, str]:
    """``os.environ`` with ``ECGCRNN_<FIELD>`` set to :data:`TINY_NETWORK` and the overrides, for the CLIs."""
    values = {**TINY_NETWORK, **overrides}
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


@pytest.fixture(name="record_folder")
def record_folder_fixture(challenge_dir, tmp_path) -> Path:
    """A private copy of :data:`CACHE_RECORDS`, free to be damaged by the test."""
    return copy_records(challenge_dir, tmp_path / "records", CACHE_RECORDS)


@pytest.fixture(name="small_cache", scope="session")
def small_cache_fixture(challenge_dir, tmp_path_factory):
    """A cache of :data:`CACHE_RECORDS` for all five lead sets (read-only: do not modify it)."""
    root = tmp_path_factory.mktemp("small_cache")
    folder = copy_records(challenge_dir, root / "records", CACHE_RECORDS)
    return build_cache(folder, root / "cache", n_jobs=2)


class TrainedModel:
    """The outcome of ``train_model.py`` on every shared record with the tiny settings, all five lead sets."""

    def __init__(self, directory: Path, returncode: int, output: str):
        self.directory, self.returncode, self.output = directory, returncode, output


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


@pytest.fixture(name="trained_model", scope="session")
def trained_model_fixture(challenge_dir, tmp_path_factory) -> TrainedModel:
    """The outcome of ``train_model.py``, once per test run (see the module docstring)."""

    def produce(folder: Path) -> None:
        result = run_script("train_model.py", challenge_dir, folder / "model")
        (folder / "outcome.json").write_text(json.dumps([result.returncode, result.stdout + result.stderr]))

    folder = once_per_session(tmp_path_factory, "trained_model", produce)
    returncode, output = json.loads((folder / "outcome.json").read_text())
    return TrainedModel(folder / "model", returncode, output)


@pytest.fixture(name="model_directory", scope="session")
def model_directory_fixture(trained_model) -> Path:
    """The trained model folder; fails the test when training did not succeed."""
    if trained_model.returncode != 0:
        pytest.fail(f"train_model.py failed ({trained_model.returncode}):\n{trained_model.output[-3000:]}")
    return trained_model.directory
