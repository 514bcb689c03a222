"""Training: the stratified split, reproducible weights, saved results, and resuming from a checkpoint.

The trainings here use one lead set, two epochs and the tiny network of helpers on the session's synthetic
training records (conftest.py); they share one cache.
"""

import json
import math
from functools import partial
from pathlib import Path

import keras
import numpy as np
import pytest
from helpers import copy_records, once_per_session, tiny_config

from ecgcrnn.data.batches import WindowBatches
from ecgcrnn.data.cache import build_cache
from ecgcrnn.domain import default_class_table
from ecgcrnn.inference.store import META_FILE, load_model
from ecgcrnn.io.records import find_challenge_files, get_labels, load_header
from ecgcrnn.pipeline import PipelineSettings
from ecgcrnn.training import loop as training_module
from ecgcrnn.training.loop import CHECKPOINTS, ChallengeMonitor, split_records, train
from ecgcrnn.training.settings import config_from_dict


@pytest.fixture(scope="module")
def training_labels(synthetic_training_set):
    """(records, 26) labels of the synthetic training records."""
    table = default_class_table()
    header_files, _ = find_challenge_files(synthetic_training_set)
    return np.stack([table.encode(get_labels(load_header(file)), dtype=np.uint8) for file in header_files])


def _setup(source: Path, folder: Path):
    names = sorted(path.stem for path in source.glob("*.hea"))
    records = copy_records(source, folder / "records", names)
    config = tiny_config(lead_sets=["two"], epochs=2, cache_directory=str(folder / "cache"))
    build_cache(records, folder / "cache", lead_sets=config.lead_sets, n_jobs=config.n_jobs)
    (folder / "config.json").write_text(json.dumps(config.to_json()))


@pytest.fixture(name="training_setup", scope="session")
def training_setup_fixture(synthetic_training_set, tmp_path_factory):
    """(records folder, config) for the trainings of this module, with their cache already built."""
    folder = once_per_session(tmp_path_factory, "training_setup", partial(_setup, synthetic_training_set))
    return folder / "records", config_from_dict(json.loads((folder / "config.json").read_text()))


@pytest.fixture(name="two_trainings", scope="session")
def two_trainings_fixture(training_setup, tmp_path_factory):
    """Two model folders trained from the same data and settings, and the metrics train() returned."""
    records, config = training_setup

    def produce(folder: Path) -> None:
        metrics = [train(records, folder / name, config) for name in ("first", "second")]
        (folder / "metrics.json").write_text(json.dumps(metrics))

    folder = once_per_session(tmp_path_factory, "two_trainings", produce)
    return folder / "first", folder / "second", json.loads((folder / "metrics.json").read_text())


class _Observer:
    """What one run did: the epochs it ran, the training draws read in each, its weights."""

    def __init__(self):
        self.epochs, self.draws, self.current, self.start_weights, self.end_weights = [], {}, None, [], {}

    def to_json(self) -> dict:
        return {"epochs": self.epochs, "draws": {e: sorted(d) for e, d in self.draws.items()}}


def _interrupt_and_resume(records, config, folder: Path) -> None:
    """Train, interrupted (KeyboardInterrupt) after the first epoch, then again; write what happened."""
    on_epoch_end, getitem = ChallengeMonitor.on_epoch_end, WindowBatches.__getitem__
    runs = []

    def epoch_begin(self, epoch, logs=None):
        runs[-1].current = epoch
        runs[-1].epochs.append(epoch)

    def train_begin(self, logs=None):
        runs[-1].start_weights = self.model.get_weights()

    def epoch_end(self, epoch, logs=None):
        on_epoch_end(self, epoch, logs)
        runs[-1].end_weights[epoch] = self.model.get_weights()
        if len(runs) == 1 and epoch == 0:
            raise KeyboardInterrupt

    def spy(self, index):
        if self.training and runs[-1].current is not None:
            runs[-1].draws.setdefault(runs[-1].current, set()).add(int(self.epoch))
        return getitem(self, index)

    directory = folder / "model"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ChallengeMonitor, "on_epoch_begin", epoch_begin, raising=False)
        patch.setattr(ChallengeMonitor, "on_train_begin", train_begin, raising=False)
        patch.setattr(ChallengeMonitor, "on_epoch_end", epoch_end)
        patch.setattr(WindowBatches, "__getitem__", spy)
        runs.append(_Observer())
        with pytest.raises(KeyboardInterrupt):
            train(records, directory, config)
        state = json.loads((directory / CHECKPOINTS / "two" / "state.json").read_text())
        interrupted = {"state": state, "model_folder_exists": (directory / "two").exists()}
        runs.append(_Observer())
        train(records, directory, config)
    observed = {"runs": [run.to_json() for run in runs], **interrupted}
    (folder / "observed.json").write_text(json.dumps(observed))
    np.savez(folder / "checkpoint_weights.npz", *runs[0].end_weights[0])
    np.savez(folder / "resumed_start_weights.npz", *runs[1].start_weights)


@pytest.fixture(name="resumed_training", scope="session")
def resumed_training_fixture(training_setup, tmp_path_factory):
    """The outcome of a training interrupted after its first epoch and started again."""
    folder = once_per_session(
        tmp_path_factory, "resumed_training", partial(_interrupt_and_resume, *training_setup)
    )
    return {
        "directory": folder / "model",
        "folder": folder,
        **json.loads((folder / "observed.json").read_text()),
    }


def _weights(path: Path) -> list[np.ndarray]:
    with np.load(path) as archive:
        return [archive[f"arr_{i}"] for i in range(len(archive.files))]


def test_split_records_is_disjoint_and_covers_the_usable_records(training_labels):
    usable = np.arange(len(training_labels))

    train_records, validation_records = split_records(training_labels, usable, tiny_config())

    assert not set(train_records) & set(validation_records)
    assert sorted([*train_records, *validation_records]) == usable.tolist()


def test_split_records_holds_out_the_validation_fraction(training_labels):
    _, validation = split_records(
        training_labels, np.arange(len(training_labels)), tiny_config(validation_fraction=0.2)
    )

    assert abs(len(validation) - 0.2 * len(training_labels)) <= 2


def test_split_records_is_multilabel_stratified(training_labels):
    _, validation = split_records(
        training_labels, np.arange(len(training_labels)), tiny_config(validation_fraction=0.2)
    )

    positives = training_labels.sum(axis=0)
    held_out = training_labels[validation].sum(axis=0)
    for k in np.flatnonzero(positives >= 10):
        assert abs(held_out[k] - 0.2 * positives[k]) <= 2, (k, held_out[k], positives[k])


def test_split_records_is_deterministic_for_a_seed(training_labels):
    first = split_records(training_labels, np.arange(len(training_labels)), tiny_config(seed=5))
    second = split_records(training_labels, np.arange(len(training_labels)), tiny_config(seed=5))

    np.testing.assert_array_equal(first[1], second[1])


def test_split_records_differs_between_seeds(training_labels):
    first = split_records(training_labels, np.arange(len(training_labels)), tiny_config(seed=5))
    second = split_records(training_labels, np.arange(len(training_labels)), tiny_config(seed=6))

    assert not np.array_equal(first[1], second[1])


def test_split_records_uses_only_the_usable_records(training_labels):
    usable = np.arange(0, len(training_labels), 2)

    train_records, validation_records = split_records(training_labels, usable, tiny_config())

    assert set(train_records) | set(validation_records) == set(usable.tolist())


def test_split_records_of_too_few_records_raises_value_error(training_labels):
    with pytest.raises(ValueError, match="3 usable records"):
        split_records(training_labels, np.arange(3), tiny_config())


@pytest.mark.slow
def test_training_twice_with_the_same_data_and_seed_gives_the_same_weights(two_trainings):
    first, second, _ = two_trainings

    weights = [load_model(folder, ("I", "II")).network.get_weights() for folder in (first, second)]

    for a, b in zip(*weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


@pytest.mark.slow
def test_training_twice_with_the_same_data_and_seed_gives_the_same_thresholds(two_trainings):
    first, second, metrics = two_trainings

    thresholds = [
        json.loads((folder / "two" / META_FILE).read_text())["thresholds"] for folder in (first, second)
    ]

    assert thresholds[0] == thresholds[1]
    assert metrics[0] == metrics[1]


@pytest.mark.slow
def test_training_returns_the_validation_metric_it_saved(two_trainings):
    first, _, metrics = two_trainings
    meta = json.loads((first / "two" / META_FILE).read_text())

    assert set(metrics[0]) == {"two"}
    assert math.isfinite(metrics[0]["two"]) and metrics[0]["two"] == meta["validation_challenge_metric"]


@pytest.mark.slow
def test_training_saves_its_history_and_settings(two_trainings):
    first, _, _ = two_trainings
    meta = json.loads((first / "two" / META_FILE).read_text())

    assert len(meta["history"]) == 2
    assert all(math.isfinite(epoch["val_challenge_metric"]) for epoch in meta["history"])
    assert meta["config"]["epochs"] == 2 and meta["config"]["lead_sets"] == ["two"]


@pytest.mark.slow
def test_training_removes_its_checkpoints_when_done(two_trainings):
    first, _, _ = two_trainings

    assert not (first / CHECKPOINTS).exists()


@pytest.mark.slow
def test_training_skips_a_lead_set_already_saved(two_trainings, training_setup, monkeypatch):
    first, _, _ = two_trainings
    folder, config = training_setup
    before = (first / "two" / META_FILE).read_text()

    def fail(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(training_module, "_train_lead_set", fail)

    assert train(folder, first, config) == {}
    assert (first / "two" / META_FILE).read_text() == before


@pytest.mark.slow
def test_interrupted_training_leaves_a_checkpoint_of_its_first_epoch_and_no_model(resumed_training):
    assert resumed_training["state"]["epoch"] == 0
    assert len(resumed_training["state"]["history"]) == 1
    assert not resumed_training["model_folder_exists"]


@pytest.mark.slow
def test_resumed_training_runs_only_the_remaining_epochs(resumed_training):
    interrupted, resumed = resumed_training["runs"]

    assert interrupted["epochs"] == [0]
    assert resumed["epochs"] == [1]


@pytest.mark.slow
def test_resumed_training_starts_from_the_weights_of_the_checkpoint(resumed_training):
    folder = resumed_training["folder"]
    checkpoint, start = (
        _weights(folder / "checkpoint_weights.npz"),
        _weights(folder / "resumed_start_weights.npz"),
    )

    assert len(checkpoint) == len(start) > 0
    for a, b in zip(start, checkpoint, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_resumed_training_keeps_the_history_of_the_earlier_epoch(resumed_training):
    meta = json.loads((resumed_training["directory"] / "two" / META_FILE).read_text())

    assert len(meta["history"]) == 2
    assert meta["history"][0] == resumed_training["state"]["history"][0]


@pytest.mark.slow
def test_resumed_training_saves_a_loadable_model_and_removes_the_checkpoint(resumed_training):
    directory = resumed_training["directory"]

    assert isinstance(load_model(directory, ("I", "II")).network, keras.Model)
    assert not (directory / CHECKPOINTS).exists()


@pytest.mark.slow
def test_resumed_training_draws_the_windows_an_uninterrupted_run_would_draw(resumed_training):
    interrupted, resumed = resumed_training["runs"]

    assert resumed["draws"]["1"] == [interrupted["draws"]["0"][0] + 1]


def test_training_keeps_the_wide_path_as_the_warm_start_fitted_it(small_cache, tmp_path, monkeypatch):
    warm_start, started = training_module.warm_start_wide_path, {}

    def spy(network, batches, seed):
        warm_start(network, batches, seed)
        started["wide"] = network.get_layer("wide_logits").get_weights()

    monkeypatch.setattr(training_module, "warm_start_wide_path", spy)
    records = small_cache.usable
    config = tiny_config(lead_sets=["two"], epochs=1)
    fitted = training_module.fit_lead_set(
        small_cache, "two", records[:4], records[4:], config, PipelineSettings(), tmp_path / "checkpoint"
    )

    assert np.any(started["wide"][0] != 0)
    for trained, initial in zip(
        fitted.network.get_layer("wide_logits").get_weights(), started["wide"], strict=True
    ):
        np.testing.assert_array_equal(trained, initial)
