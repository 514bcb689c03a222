"""The fixtures the test modules share: real records from ../shared/data, synthetic records of every kind the
pipeline handles, a small cache of them, one trained model folder, and the figures a test saved.

Tests that read ../shared are marked ``real_data`` and skip where it is absent (see :data:`helpers.SHARED`);
everything built from synthetic records runs on a fresh clone. Training is the expensive part, so the model
folder trained by ``train_model.py`` is made once per test session and, under pytest-xdist, once for all
workers (:func:`helpers.once_per_session`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib.figure
import numpy as np
import pytest
from helpers import (
    CACHE_RECORDS,
    CHALLENGE_DATA,
    LUDB_CHALLENGE_DATA,
    UNTRAINED_PREVALENCE,
    UNTRAINED_THRESHOLDS,
    copy_records,
    once_per_session,
    save_untrained_model,
    train_once,
    write_cache_records,
    write_training_records,
)

from ecgcrnn.data.cache import build_cache
from ecgcrnn.domain import default_class_table
from ecgcrnn.io.records import find_challenge_files, get_labels, load_header

_READS_SHARED = frozenset({"challenge_dir", "ludb_challenge_dir"})


@pytest.fixture(autouse=True)
def _real_data_is_marked(request):
    """Fail a test that reads ../shared through a fixture without being marked ``real_data``."""
    used = _READS_SHARED.intersection(request.fixturenames)
    if used and request.node.get_closest_marker("real_data") is None:
        pytest.fail(f"uses {', '.join(sorted(used))} (../shared) but is not marked real_data")


@pytest.fixture(scope="session")
def challenge_dir() -> Path:
    """The 171 real Challenge records; tests that need them skip only where ../shared is absent."""
    if not CHALLENGE_DATA.is_dir():
        pytest.skip("../shared/data/challenge not found")
    return CHALLENGE_DATA


@pytest.fixture(scope="session")
def ludb_challenge_dir() -> Path:
    """The 200 LUDB records in the Challenge's format (every lead rescaled to 1 mV peak to peak)."""
    if not LUDB_CHALLENGE_DATA.is_dir():
        pytest.skip("../shared/data/ludb_challenge not found")
    return LUDB_CHALLENGE_DATA


@pytest.fixture
def copy_record(challenge_dir, tmp_path):
    """Copy a real record into a temporary folder, optionally editing its header text; returns the .hea."""

    def copy(name: str, edit=None, folder: Path | None = None) -> Path:
        folder = folder or tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(challenge_dir / f"{name}.mat", folder / f"{name}.mat")
        text = (challenge_dir / f"{name}.hea").read_text()
        header_file = folder / f"{name}.hea"
        header_file.write_bytes((edit(text) if edit else text).encode())
        return header_file

    return copy


@pytest.fixture(scope="session")
def synthetic_records(tmp_path_factory) -> Path:
    """The synthetic records :data:`helpers.CACHE_RECORDS`, one of each kind (read-only: copy to change)."""
    return once_per_session(tmp_path_factory, "synthetic_records", write_cache_records)


@pytest.fixture
def record_folder(synthetic_records, tmp_path) -> Path:
    """A private copy of :data:`helpers.CACHE_RECORDS`, free to be damaged by the test."""
    return copy_records(synthetic_records, tmp_path / "records", CACHE_RECORDS)


@pytest.fixture(scope="session")
def small_cache(synthetic_records, tmp_path_factory):
    """A cache of :data:`helpers.CACHE_RECORDS` for all five lead sets (read-only: do not modify it)."""
    root = tmp_path_factory.mktemp("small_cache")
    return build_cache(synthetic_records, root / "cache", n_jobs=2)


@pytest.fixture(scope="session")
def synthetic_training_set(tmp_path_factory) -> Path:
    """:data:`helpers.TRAINING_RECORDS` synthetic 10 s records to train on (read-only)."""
    return once_per_session(tmp_path_factory, "synthetic_training_set", write_training_records)


@pytest.fixture(scope="session")
def training_labels(synthetic_training_set) -> np.ndarray:
    """(records, 26) labels of the synthetic training records, in the order of their headers' names."""
    table = default_class_table()
    header_files, _ = find_challenge_files(synthetic_training_set)
    return np.stack([table.encode(get_labels(load_header(file)), dtype=np.uint8) for file in header_files])


@pytest.fixture(scope="session")
def trained_model(synthetic_training_set, tmp_path_factory):
    """The outcome of ``train_model.py`` on the synthetic training set, once per test run."""
    return train_once(tmp_path_factory, "trained_model", synthetic_training_set)


@pytest.fixture(scope="session")
def untrained_models(tmp_path_factory) -> Path:
    """A model folder with an untrained tiny network for each of the five lead sets, saved as training saves
    a model, with the thresholds :data:`helpers.UNTRAINED_THRESHOLDS`, the prevalence
    :data:`helpers.UNTRAINED_PREVALENCE`, the network deciding every class and ``{"note": "test"}`` in
    model.json (read-only)."""
    from ecgcrnn.domain import LEAD_SETS

    root = tmp_path_factory.mktemp("untrained_models")
    for lead_set in LEAD_SETS:
        save_untrained_model(
            root, lead_set, UNTRAINED_THRESHOLDS, extra={"note": "test"}, prevalence=UNTRAINED_PREVALENCE
        )
    return root


@pytest.fixture
def drawn(monkeypatch):
    """The figures saved during the test, in order."""
    figures, savefig = [], matplotlib.figure.Figure.savefig

    def record(self, *args, **kwargs):
        figures.append(self)
        return savefig(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", record)
    return figures
