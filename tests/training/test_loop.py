"""Training: the stratified split and folds, out-of-fold thresholds with the rare classes left to their
criteria, the criteria's start, reproducible weights, saved results, and resuming from a checkpoint.

The trainings through ``train`` use one lead set, two epochs, two threshold folds and the tiny network of
helpers on the session's synthetic training records (conftest.py); they share one cache. The rules of
:func:`fit_with_thresholds` are tested with a stand-in for ``fit_lead_set`` that trains nothing, and once with
real tiny networks on the small cache.
"""

import errno
import io
import json
import math
import shutil
import types
from functools import partial
from pathlib import Path

import keras
import numpy as np
import pytest
from helpers import copy_records, once_per_session, tiny_config

from ecgcrnn.data.batches import WindowBatches
from ecgcrnn.data.cache import build_cache
from ecgcrnn.domain import default_class_table
from ecgcrnn.model.folder import META_FILE
from ecgcrnn.model.lead_set import CRITERIA, NETWORK, LeadSetModel
from ecgcrnn.model.network import build_model, criteria_probabilities, criteria_weights
from ecgcrnn.pipeline import PipelineSettings
from ecgcrnn.scoring.metrics import compute_challenge_metric
from ecgcrnn.training import decisions
from ecgcrnn.training import loop as training_module
from ecgcrnn.training.decisions import fold_records, split_records
from ecgcrnn.training.loop import (
    CHECKPOINTS,
    FOLD_NETWORK,
    ChallengeMonitor,
    LeadSetFit,
    NetworkFit,
    criteria_record_probabilities,
    fit_lead_set,
    fit_with_thresholds,
    residual_penalty,
    train,
)
from ecgcrnn.training.settings import config_from_dict
from ecgcrnn.training.thresholds import apply_thresholds, choose_thresholds

TABLE = default_class_table()
# the fold mechanics alone: no criteria fallback and no share limit (tested on their own below)
SMALL = tiny_config(lead_sets=["two"], epochs=1, min_positives=2, criteria_fallback=False, max_share_ratio=0)
"""Settings for the small cache's six records: two folds, and only sinus rhythm (three positives) left to
the network."""


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
        metrics = [train(records, folder / name, config, PipelineSettings()) for name in ("first", "second")]
        (folder / "metrics.json").write_text(json.dumps(metrics))

    folder = once_per_session(tmp_path_factory, "two_trainings", produce)
    return folder / "first", folder / "second", json.loads((folder / "metrics.json").read_text())


class _Observer:
    """What one run did: the (checkpoint folder, epoch) pairs it trained, the training draws read in each, the
    weights its first network started from and those after each epoch."""

    def __init__(self):
        self.epochs, self.draws, self.current, self.start_weights, self.end_weights = [], {}, None, None, {}

    def to_json(self) -> dict:
        draws = {f"{folder}/{epoch}": sorted(d) for (folder, epoch), d in self.draws.items()}
        return {"epochs": [list(key) for key in self.epochs], "draws": draws}


def _interrupt_and_resume(records, config, folder: Path) -> None:
    """Train, interrupted (KeyboardInterrupt) after the first fold's first epoch, then again; write what
    happened."""
    on_train_begin, on_epoch_end = ChallengeMonitor.on_train_begin, ChallengeMonitor.on_epoch_end
    getitem = WindowBatches.__getitem__
    runs = []

    def epoch_begin(self, epoch, logs=None):
        runs[-1].current = (self.checkpoint.name, epoch)
        runs[-1].epochs.append(runs[-1].current)

    def train_begin(self, logs=None):
        on_train_begin(self, logs)
        if runs[-1].start_weights is None:
            runs[-1].start_weights = self.model.get_weights()

    def epoch_end(self, epoch, logs=None):
        on_epoch_end(self, epoch, logs)
        runs[-1].end_weights[(self.checkpoint.name, epoch)] = self.model.get_weights()
        if len(runs) == 1 and (self.checkpoint.name, epoch) == ("fold1", 0):
            raise KeyboardInterrupt

    def train_end(self, logs=None):  # the next network's fit reads a batch before its first epoch begins
        runs[-1].current = None

    def spy(self, index):
        if self.training and runs[-1].current is not None:
            runs[-1].draws.setdefault(runs[-1].current, set()).add(int(self.epoch))
        return getitem(self, index)

    directory = folder / "model"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ChallengeMonitor, "on_epoch_begin", epoch_begin, raising=False)
        patch.setattr(ChallengeMonitor, "on_train_begin", train_begin)
        patch.setattr(ChallengeMonitor, "on_epoch_end", epoch_end)
        patch.setattr(ChallengeMonitor, "on_train_end", train_end, raising=False)
        patch.setattr(WindowBatches, "__getitem__", spy)
        runs.append(_Observer())
        with pytest.raises(KeyboardInterrupt):
            train(records, directory, config, PipelineSettings())
        fold = directory / CHECKPOINTS / "two" / "fold1"
        interrupted = {
            "state": json.loads((fold / "state.json").read_text()),
            "model_folder_exists": (directory / "two").exists(),
            "fold_predictions_exist": (fold / "out_of_fold.npz").exists(),
        }
        runs.append(_Observer())
        train(records, directory, config, PipelineSettings())
    observed = {"runs": [run.to_json() for run in runs], **interrupted}
    (folder / "observed.json").write_text(json.dumps(observed))
    np.savez(folder / "checkpoint_weights.npz", *runs[0].end_weights[("fold1", 0)])
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


@pytest.mark.slow
def test_training_twice_with_the_same_data_and_seed_gives_the_same_weights(two_trainings):
    first, second, _ = two_trainings

    weights = [LeadSetModel.load(folder, ("I", "II")).network.get_weights() for folder in (first, second)]

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
def test_training_returns_the_out_of_fold_metric_it_saved(two_trainings):
    first, _, metrics = two_trainings
    meta = json.loads((first / "two" / META_FILE).read_text())

    assert set(metrics[0]) == {"two"}
    assert math.isfinite(metrics[0]["two"]) and metrics[0]["two"] == meta["out_of_fold_challenge_metric"]
    assert "validation_challenge_metric" not in meta


@pytest.mark.slow
def test_training_saves_each_folds_history_and_the_settings(two_trainings):
    first, _, _ = two_trainings
    meta = json.loads((first / "two" / META_FILE).read_text())

    assert [epoch["fold"] for epoch in meta["history"]] == [1, 1, 2, 2]
    assert all(math.isfinite(epoch["val_challenge_metric"]) for epoch in meta["history"])
    assert meta["config"]["epochs"] == 2 and meta["config"]["lead_sets"] == ["two"]
    assert meta["config"]["threshold_folds"] == 2


@pytest.mark.slow
def test_training_saves_what_decides_each_class_the_prevalence_and_the_epochs(two_trainings, training_labels):
    first, _, _ = two_trainings
    meta = json.loads((first / "two" / META_FILE).read_text())
    rare = training_labels.sum(axis=0) < tiny_config().min_positives
    by_criteria = np.array([decider == CRITERIA for decider in meta["decided_by"]])

    assert set(meta["decided_by"]) <= {CRITERIA, NETWORK} and np.all(by_criteria[rare]) and rare.any()
    np.testing.assert_allclose(meta["prevalence"], training_labels.mean(axis=0))
    assert meta["epochs"] in (0, 1, 2)
    assert np.all(np.asarray(meta["thresholds"])[by_criteria] >= 0.5)  # 0.5, or a share limit's floor
    model = LeadSetModel.load(first, ("I", "II"))
    np.testing.assert_array_equal(model.by_criteria, by_criteria)
    np.testing.assert_allclose(model.prevalence, training_labels.mean(axis=0), rtol=1e-6)


@pytest.mark.slow
def test_the_saved_model_is_the_average_of_the_fold_networks(two_trainings):
    first, _, _ = two_trainings

    network = LeadSetModel.load(first, ("I", "II")).network

    assert [layer.name for layer in network.layers if isinstance(layer, keras.Model)] == ["fold_1", "fold_2"]


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

    assert train(folder, first, config, PipelineSettings()) == {}
    assert (first / "two" / META_FILE).read_text() == before


@pytest.mark.slow
def test_interrupted_training_leaves_a_checkpoint_of_its_first_epoch_and_no_model(resumed_training):
    assert resumed_training["state"]["epoch"] == 0
    assert len(resumed_training["state"]["history"]) == 1
    assert not resumed_training["model_folder_exists"]
    assert not resumed_training["fold_predictions_exist"]


@pytest.mark.slow
def test_resumed_training_runs_only_the_remaining_epochs(resumed_training):
    interrupted, resumed = resumed_training["runs"]
    meta = json.loads((resumed_training["directory"] / "two" / META_FILE).read_text())

    assert interrupted["epochs"] == [["fold1", 0]]
    assert resumed["epochs"] == [["fold1", 1], ["fold2", 0], ["fold2", 1]]
    assert meta["epochs"] in (0, 1, 2)


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

    assert len(meta["history"]) == 4
    assert meta["history"][0] == {"fold": 1, **resumed_training["state"]["history"][0]}


@pytest.mark.slow
def test_resumed_training_saves_a_loadable_model_and_removes_the_checkpoint(resumed_training):
    directory = resumed_training["directory"]

    assert isinstance(LeadSetModel.load(directory, ("I", "II")).network, keras.Model)
    assert not (directory / CHECKPOINTS).exists()


@pytest.mark.slow
def test_resumed_training_draws_the_windows_an_uninterrupted_run_would_draw(resumed_training):
    interrupted, resumed = resumed_training["runs"]

    assert resumed["draws"]["fold1/1"] == [interrupted["draws"]["fold1/0"][0] + 1]


# fit_with_thresholds, with a stand-in for fit_lead_set --------------------------------------------------


def _fold_probabilities(cache, records) -> np.ndarray:
    """What a stand-in fold network "predicts" for records: 0.8 where a class is positive, 0.3 where not."""
    return np.where(cache.labels[np.asarray(records)] > 0, 0.8, 0.3)


class _FakeNetwork:
    """A stand-in network: its name, saved as the file's text."""

    def __init__(self, name: str):
        self.name = name

    def save(self, path):
        Path(path).write_text(self.name)


class _FakeFits:
    """Stands in for ``fit_lead_set`` and trains nothing: records each call; the network of fold f ("fold
    network f") predicts :func:`_fold_probabilities` for its held-out records with best epoch
    ``best_epochs[f - 1]``."""

    def __init__(self, best_epochs=(1, 2)):
        self.best_epochs, self.calls = list(best_epochs), []

    def __call__(self, cache, lead_set, train, validation, config, checkpoint, batches=None):
        self.calls.append(
            {
                "train": np.asarray(train).tolist(),
                "validation": np.asarray(validation).tolist(),
                "checkpoint": checkpoint.name,
            }
        )
        checkpoint.mkdir(parents=True, exist_ok=True)  # as fit_lead_set's monitor does
        fold = int(checkpoint.name.removeprefix("fold")) if checkpoint.name.startswith("fold") else 1
        best = self.best_epochs[fold - 1]
        history = [{"loss": 0.4, "val_challenge_metric": 0.25}] * max(best, 1)
        probabilities = _fold_probabilities(cache, validation)
        network = _FakeNetwork(f"fold network {fold}")
        prevalence = cache.labels[np.asarray(train)].mean(axis=0)
        return NetworkFit(
            network, np.full(26, 0.4), 0.25, history, prevalence, best_epoch=best, validation=probabilities
        )


def _fake_fits(monkeypatch, best_epochs=(1, 2)) -> _FakeFits:
    """``fit_lead_set`` replaced by :class:`_FakeFits`; the fold networks' average is ("average", their
    names) and a saved fold network loads as its name followed by " (loaded)"."""
    fits = _FakeFits(best_epochs)
    monkeypatch.setattr(training_module, "fit_lead_set", fits)
    monkeypatch.setattr(
        training_module, "average_networks", lambda nets, name: ("average", [n.name for n in nets])
    )
    monkeypatch.setattr(
        training_module, "_load_network", lambda path: _FakeNetwork(f"{path.read_text()} (loaded)")
    )
    return fits


@pytest.fixture
def fake_fits(monkeypatch):
    return _fake_fits(monkeypatch)


def _fit(cache, checkpoint, config=SMALL):
    return fit_with_thresholds(cache, "two", cache.usable, config, checkpoint)


def test_fit_with_thresholds_trains_one_network_per_fold_and_keeps_their_average(
    small_cache, fake_fits, tmp_path
):
    fitted = _fit(small_cache, tmp_path)

    folds = list(fold_records(small_cache.labels, small_cache.usable, SMALL))
    assert [(c["train"], c["validation"]) for c in fake_fits.calls] == [
        (a.tolist(), b.tolist()) for a, b in folds
    ]
    assert [c["checkpoint"] for c in fake_fits.calls] == ["fold1", "fold2"]
    assert fitted.model.network == ("average", ["fold network 1", "fold network 2"])


def test_best_epoch_of_fold_networks_is_the_median_of_theirs(small_cache, monkeypatch, tmp_path):
    fits = _fake_fits(monkeypatch, best_epochs=(1, 6, 4))

    fitted = _fit(small_cache, tmp_path, tiny_config(lead_sets=["two"], threshold_folds=3, min_positives=2))

    assert len(fits.calls) == 3 and fitted.best_epoch == 4


def test_classes_with_fewer_positives_than_min_positives_are_decided_by_their_criteria_at_one_half(
    small_cache, fake_fits, tmp_path
):
    fitted = _fit(small_cache, tmp_path)

    rare = small_cache.labels.sum(axis=0) < SMALL.min_positives
    assert rare.sum() == 25 and not rare[TABLE.names.index("426783006")]  # all but sinus rhythm
    assert fitted.model.decided_by == tuple(CRITERIA if r else NETWORK for r in rare)
    np.testing.assert_array_equal(fitted.model.thresholds[rare], 0.5)
    assert fitted.model.thresholds.shape == (26,)


def _chosen_on(cache, probabilities: np.ndarray):
    """The thresholds and metric that out-of-fold ``probabilities`` (records, C) of the small cache's records
    should give: the rare classes take their criteria's probabilities and the threshold 0.5."""
    records = cache.usable
    labels = cache.labels[records] > 0
    rare = labels.sum(axis=0) < SMALL.min_positives
    probabilities = probabilities.copy()
    probabilities[:, rare] = criteria_record_probabilities(cache, "two", records, labels.mean(axis=0))[
        :, rare
    ]
    fixed = np.where(rare, 0.5, np.nan)
    thresholds = choose_thresholds(labels, probabilities, TABLE.weights, TABLE.normal_index, fixed=fixed)
    outputs = apply_thresholds(probabilities, thresholds)
    return thresholds, compute_challenge_metric(TABLE.weights, labels, outputs, TABLE.normal_index)


def test_thresholds_are_chosen_on_the_folds_predictions_and_the_criteria_of_the_rare_classes(
    small_cache, fake_fits, tmp_path
):
    fitted = _fit(small_cache, tmp_path)

    thresholds, metric = _chosen_on(small_cache, _fold_probabilities(small_cache, small_cache.usable))
    np.testing.assert_array_equal(fitted.model.thresholds, thresholds)
    assert fitted.metric == metric
    nsr = TABLE.names.index("426783006")
    assert 0.3 < fitted.model.thresholds[nsr] <= 0.8  # the folds' predictions of sinus rhythm are separable


def test_fit_with_thresholds_gives_the_training_records_prevalence(small_cache, fake_fits, tmp_path):
    fitted = _fit(small_cache, tmp_path)

    np.testing.assert_allclose(
        fitted.model.prevalence, (small_cache.labels[small_cache.usable] > 0).mean(axis=0)
    )


def test_history_holds_each_folds_epochs_numbered_by_fold(small_cache, fake_fits, tmp_path):
    fitted = _fit(small_cache, tmp_path)

    assert [epoch["fold"] for epoch in fitted.history] == [1, 2, 2]
    assert all(epoch["val_challenge_metric"] == 0.25 for epoch in fitted.history)


def test_each_finished_fold_leaves_its_network_predictions_and_best_epoch_for_a_resumed_run(
    small_cache, fake_fits, tmp_path
):
    _fit(small_cache, tmp_path)

    for fold, (_, held_out) in enumerate(
        fold_records(small_cache.labels, small_cache.usable, SMALL), start=1
    ):
        assert (tmp_path / f"fold{fold}" / FOLD_NETWORK).read_text() == f"fold network {fold}"
        with np.load(tmp_path / f"fold{fold}" / "out_of_fold.npz") as saved:
            np.testing.assert_array_equal(saved["probabilities"], _fold_probabilities(small_cache, held_out))
            assert int(saved["best_epoch"]) == fake_fits.best_epochs[fold - 1]


def test_a_finished_folds_predictions_are_reused_and_its_network_not_trained_again(
    small_cache, fake_fits, tmp_path
):
    records = small_cache.usable
    (_, held_out), _ = fold_records(small_cache.labels, records, SMALL)
    saved = 1.0 - _fold_probabilities(small_cache, held_out)  # not what a fold network here would predict
    (tmp_path / "fold1").mkdir()
    np.savez(tmp_path / "fold1" / "out_of_fold.npz", probabilities=saved, best_epoch=5)
    (tmp_path / "fold1" / FOLD_NETWORK).write_text("saved network")

    fitted = _fit(small_cache, tmp_path)

    assert [c["checkpoint"] for c in fake_fits.calls] == ["fold2"]
    assert fitted.model.network == ("average", ["saved network (loaded)", "fold network 2"])
    assert fitted.best_epoch == int(np.median([5, fake_fits.best_epochs[1]]))
    read = _fold_probabilities(small_cache, records)
    read[np.isin(records, held_out)] = saved
    thresholds, metric = _chosen_on(small_cache, read)
    np.testing.assert_array_equal(fitted.model.thresholds, thresholds)
    assert fitted.metric == metric != _chosen_on(small_cache, _fold_probabilities(small_cache, records))[1]


def test_a_fold_whose_predictions_were_written_half_way_is_trained_again_when_resumed(
    small_cache, fake_fits, monkeypatch, tmp_path
):
    savez = np.savez

    def half_then_disk_full(file, **arrays):  # the fold's "done" marker, cut off by a full disk
        whole = io.BytesIO()
        savez(whole, **arrays)
        file.write(whole.getvalue()[: len(whole.getvalue()) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(np, "savez", half_then_disk_full)
        with pytest.raises(OSError, match="out_of_fold.npz"):
            _fit(small_cache, tmp_path)
    assert [path.name for path in (tmp_path / "fold1").iterdir()] == [FOLD_NETWORK]

    fitted = _fit(small_cache, tmp_path)

    assert [c["checkpoint"] for c in fake_fits.calls] == ["fold1", "fold1", "fold2"]
    assert fitted.model.network == ("average", ["fold network 1", "fold network 2"])
    thresholds, metric = _chosen_on(small_cache, _fold_probabilities(small_cache, small_cache.usable))
    np.testing.assert_array_equal(fitted.model.thresholds, thresholds)
    assert fitted.metric == metric


def test_threshold_folds_zero_trains_one_network_on_a_validation_split_that_decides_every_class(
    training_labels, fake_fits, tmp_path
):
    cache = types.SimpleNamespace(labels=training_labels, settings=PipelineSettings())  # all this rule reads
    records = np.arange(len(training_labels))
    config = tiny_config(lead_sets=["two"], threshold_folds=0, validation_fraction=0.2)

    fitted = fit_with_thresholds(cache, "two", records, config, tmp_path / "checkpoint")

    train_records, validation_records = split_records(training_labels, records, config)
    assert [(c["train"], c["validation"]) for c in fake_fits.calls] == [
        (train_records.tolist(), validation_records.tolist())
    ]
    assert fitted.model.decided_by == (NETWORK,) * 26
    np.testing.assert_array_equal(fitted.model.thresholds, np.full(26, 0.4))


def test_out_of_fold_predictions_stay_with_their_records_whatever_the_order_given(
    small_cache, fake_fits, monkeypatch, tmp_path
):
    seen, choose = [], decisions.choose_thresholds
    monkeypatch.setattr(
        decisions,
        "choose_thresholds",
        lambda labels, p, *args, **kw: seen.append((labels, p)) or choose(labels, p, *args, **kw),
    )
    config = tiny_config(min_positives=0, criteria_fallback=False)
    records = small_cache.usable[::-1].copy()

    reversed_fit = fit_with_thresholds(small_cache, "two", records, config, tmp_path / "a")
    sorted_fit = fit_with_thresholds(small_cache, "two", np.sort(records), config, tmp_path / "b")

    labels, probabilities = seen[0]
    np.testing.assert_array_equal(labels, small_cache.labels[np.sort(records)] > 0)
    np.testing.assert_array_equal(probabilities, _fold_probabilities(small_cache, np.sort(records)))
    np.testing.assert_array_equal(reversed_fit.model.thresholds, sorted_fit.model.thresholds)


def test_criteria_record_probabilities_are_each_records_mean_over_its_windows(small_cache):
    records = np.array([5, 0, 3])
    prevalence = np.linspace(0.05, 0.5, 26)

    probabilities = criteria_record_probabilities(small_cache, "two", records, prevalence)

    features = small_cache.features("two")
    for row, record in enumerate(records):
        rows = slice(small_cache.offsets[record], small_cache.offsets[record + 1])
        windows = criteria_probabilities(
            features["criteria"][rows], features["criteria_mask"][rows], prevalence
        )
        np.testing.assert_allclose(probabilities[row], windows.mean(axis=0), rtol=1e-12)


def test_residual_penalty_is_one_over_twice_the_prior_variance_times_the_records():
    assert residual_penalty(100, 0.1) == pytest.approx(0.5)
    assert residual_penalty(2000, 0.5) == pytest.approx(1 / 1000)
    assert residual_penalty(0, 0.1) == residual_penalty(1, 0.1) == pytest.approx(50.0)


# Real tiny networks on the small cache ------------------------------------------------------------------


def _call(cache, lead_set, train, validation, config, checkpoint, batches=None) -> str:
    return checkpoint.name


def _fit_small_cache(cache, folder: Path) -> None:
    """fit_with_thresholds with :data:`SMALL` on the small cache; writes what it gave and fit_lead_set's
    calls."""
    calls, fit = [], training_module.fit_lead_set

    def spy(*args):
        calls.append(_call(*args))
        return fit(*args)

    keras.utils.set_random_seed(SMALL.seed)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training_module, "fit_lead_set", spy)
        fitted = _fit(cache, folder / "checkpoint")
    _, inputs = _start_inputs(cache, cache.usable)
    outcome = {
        "outputs": np.asarray(fitted.model.network(inputs, training=False)).tolist(),
        "thresholds": fitted.model.thresholds.tolist(),
        "decided_by": list(fitted.model.decided_by),
        "metric": fitted.metric,
        "best_epoch": fitted.best_epoch,
        "calls": calls,
    }
    (folder / "fitted.json").write_text(json.dumps(outcome))


@pytest.fixture(name="small_fit", scope="session")
def small_fit_fixture(small_cache, tmp_path_factory) -> dict:
    """What fit_with_thresholds gave on the small cache, with its checkpoint folder (read-only)."""
    folder = once_per_session(tmp_path_factory, "small_fit", partial(_fit_small_cache, small_cache))
    return {"checkpoint": folder / "checkpoint", **json.loads((folder / "fitted.json").read_text())}


@pytest.mark.slow
def test_fit_with_thresholds_of_tiny_networks_gives_one_threshold_per_class(small_fit):
    thresholds = np.asarray(small_fit["thresholds"])

    assert thresholds.shape == (26,) and np.all((thresholds >= 0) & (thresholds <= 1))
    assert math.isfinite(small_fit["metric"]) and small_fit["best_epoch"] in (0, 1)
    assert small_fit["calls"] == ["fold1", "fold2"]


@pytest.mark.slow
def test_fit_with_thresholds_of_tiny_networks_leaves_the_rare_classes_to_their_criteria(
    small_fit, small_cache
):
    rare = small_cache.labels[small_cache.usable].sum(axis=0) < SMALL.min_positives

    assert small_fit["decided_by"] == [CRITERIA if r else NETWORK for r in rare]
    np.testing.assert_array_equal(np.asarray(small_fit["thresholds"])[rare], 0.5)


@pytest.mark.slow
def test_fit_with_thresholds_of_tiny_networks_saves_each_folds_predictions(small_fit, small_cache):
    for fold, (_, held_out) in enumerate(
        fold_records(small_cache.labels, small_cache.usable, SMALL), start=1
    ):
        with np.load(small_fit["checkpoint"] / f"fold{fold}" / "out_of_fold.npz") as saved:
            probabilities = saved["probabilities"]
            assert probabilities.shape == (len(held_out), 26)
            assert np.all((probabilities >= 0) & (probabilities <= 1))
            assert int(saved["best_epoch"]) in (0, 1)


@pytest.mark.slow
def test_fit_with_thresholds_run_again_on_its_checkpoint_trains_no_fold_again(
    small_fit, small_cache, tmp_path
):
    checkpoint = shutil.copytree(small_fit["checkpoint"], tmp_path / "checkpoint")
    calls, fit = [], training_module.fit_lead_set

    def spy(*args):
        calls.append(_call(*args))
        return fit(*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training_module, "fit_lead_set", spy)
        fitted = _fit(small_cache, checkpoint)

    assert calls == []
    assert (
        fitted.model.thresholds.tolist() == small_fit["thresholds"] and fitted.metric == small_fit["metric"]
    )
    _, inputs = _start_inputs(small_cache, small_cache.usable)  # the saved fold networks, averaged
    np.testing.assert_allclose(fitted.model.network(inputs, training=False), small_fit["outputs"], rtol=1e-6)


def _start_inputs(cache, records):
    batches = WindowBatches(cache, "two", records, 64, 7, False)
    return batches, batches[0][0]


def test_network_trained_for_no_epoch_is_the_criteria_start(small_cache, tmp_path):
    records = small_cache.usable
    config = tiny_config(lead_sets=["two"], epochs=0)

    fitted = fit_lead_set(small_cache, "two", records, records, config, tmp_path / "ck")

    prevalence = small_cache.labels[records].mean(axis=0)
    batches, inputs = _start_inputs(small_cache, records)
    probabilities = np.asarray(fitted.network(inputs, training=False))
    np.testing.assert_allclose(
        probabilities,
        criteria_probabilities(inputs["criteria"], inputs["criteria_mask"], prevalence),
        rtol=1e-5,
    )
    assert fitted.thresholds is None and math.isnan(fitted.metric)
    assert fitted.history == [] and fitted.best_epoch == 0
    np.testing.assert_allclose(fitted.prevalence, prevalence)
    assert len(batches.owners) == sum(np.diff(small_cache.offsets))


def test_an_epoch_of_training_moves_the_wide_and_deep_paths_and_not_the_criteria_path(small_cache, tmp_path):
    records = small_cache.usable
    config = tiny_config(lead_sets=["two"], residual_prior_sd=0.2)
    checkpoint = tmp_path / "checkpoint"
    learn, held_out = records[::2], records[1::2]

    fitted = fit_lead_set(small_cache, "two", learn, held_out, config, checkpoint)

    trained = keras.saving.load_model(
        checkpoint / "last.keras", compile=False, safe_mode=True
    )  # after the epoch
    for name in ("wide_logits", "deep_logits"):
        layer = trained.get_layer(name)
        assert np.any(layer.get_weights()[0] != 0), name
        assert layer.kernel_regularizer.l2 == pytest.approx(residual_penalty(len(learn), 0.2))
    prevalence = small_cache.labels[learn].mean(axis=0)
    for network in (trained, fitted.network):
        kept = network.get_layer("criteria_logits").get_weights()
        for weights, expected in zip(kept, criteria_weights(26, prevalence), strict=True):
            np.testing.assert_array_equal(weights, expected)
    assert len(fitted.history) == 1 and "val_challenge_metric" in fitted.history[0]
    assert json.loads((checkpoint / "state.json").read_text())["epoch"] == 0


# Saving ---------------------------------------------------------------------------------------------------


@pytest.fixture
def saved_fit(monkeypatch, tmp_path):
    """``save(config)``: _train_lead_set with fit_with_thresholds replaced by an untrained tiny network with
    criteria deciding two classes; returns the model folder's model.json."""
    decided_by = (CRITERIA, CRITERIA) + (NETWORK,) * 24
    prevalence = np.linspace(0.02, 0.5, 26)
    network = build_model(("I", "II"), TABLE.names, tiny_config().network, prevalence=prevalence)
    history = [{"fold": 1, "loss": 0.9, "val_challenge_metric": 0.1}]
    rules = {"decided_by": decided_by, "prevalence": prevalence}
    model = LeadSetModel("two", network, thresholds=np.full(26, 0.5), settings=PipelineSettings(), **rules)
    fitted = LeadSetFit(model, 0.3, history, best_epoch=3)
    monkeypatch.setattr(training_module, "fit_with_thresholds", lambda *args: fitted)

    def save(config):
        training_module._train_lead_set(None, "two", np.arange(4), config, tmp_path)
        return json.loads((tmp_path / "two" / META_FILE).read_text())

    return save


def test_saved_model_names_the_out_of_fold_metric_what_decides_each_class_and_the_prevalence(
    saved_fit, tmp_path
):
    meta = saved_fit(tiny_config())

    assert meta["out_of_fold_challenge_metric"] == 0.3 and "validation_challenge_metric" not in meta
    assert meta["decided_by"] == [CRITERIA, CRITERIA] + [NETWORK] * 24 and meta["epochs"] == 3
    np.testing.assert_allclose(meta["prevalence"], np.linspace(0.02, 0.5, 26))
    model = LeadSetModel.load(tmp_path, ("I", "II"))
    np.testing.assert_array_equal(model.by_criteria, [True, True] + [False] * 24)
    np.testing.assert_allclose(model.prevalence, np.linspace(0.02, 0.5, 26), rtol=1e-6)


def test_saved_model_names_the_validation_metric_when_there_are_no_threshold_folds(saved_fit):
    meta = saved_fit(tiny_config(threshold_folds=0))

    assert meta["validation_challenge_metric"] == 0.3 and "out_of_fold_challenge_metric" not in meta
