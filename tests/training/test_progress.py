"""The training progress bars (ecgcrnn.training.progress) on a trivial Keras model: 16 samples, 4 batches
per epoch.
"""

import io

import keras
import numpy as np
import pytest

from ecgcrnn.training.progress import EpochProgress

EPOCHS, BATCHES = 3, 4


class AddsMetric(keras.callbacks.Callback):
    """Adds ``val_challenge_metric`` to the epoch's logs in place, as a validation callback would."""

    def on_epoch_end(self, epoch, logs=None):
        logs["val_challenge_metric"] = 0.5 + epoch / 10


@pytest.fixture
def fit():
    """``fit(progress, callbacks_before, **options)``: a trivial network fitted with the callback ``progress``
    after :class:`AddsMetric` and ``callbacks_before``."""
    keras.utils.set_random_seed(0)
    network = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    network.compile("sgd", "mse")
    x = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")

    def run(progress, callbacks_before=(), **options):
        callbacks = [AddsMetric(), *callbacks_before, progress]
        network.fit(x, x[:, :1], batch_size=4, epochs=EPOCHS, verbose=0, callbacks=callbacks, **options)
        return progress

    return run


def test_bars_write_nothing_when_stderr_is_not_a_terminal(fit, capsys):
    fit(EpochProgress())
    assert capsys.readouterr().err == ""


def test_bars_go_to_stderr_when_enabled(fit, capsys):
    fit(EpochProgress(disable=False))
    assert "epochs: 100%" in capsys.readouterr().err


def test_epoch_bar_counts_every_epoch(fit):
    progress = fit(EpochProgress(disable=False, file=io.StringIO()))
    assert (progress.epoch_bar.n, progress.epoch_bar.total) == (EPOCHS, EPOCHS)


def test_epoch_bar_shows_the_loss_and_the_validation_challenge_metric(fit):
    output = io.StringIO()
    fit(EpochProgress(disable=False, file=output))
    last = output.getvalue().split("\r")[-1]
    assert f"{EPOCHS}/{EPOCHS}" in last and "loss=" in last and "val_challenge_metric=0.7000" in last


def test_batch_bar_counts_the_batches_of_each_epoch_and_shows_the_running_loss(fit):
    progress = EpochProgress(disable=False, file=io.StringIO())
    seen = []

    class Watch(keras.callbacks.Callback):  # before the bar's own callback, which closes it
        def on_epoch_end(self, epoch, logs=None):
            seen.append((progress.batch_bar.desc, progress.batch_bar.n, progress.batch_bar.postfix))

    fit(progress, callbacks_before=[Watch()])
    assert [(desc, n) for desc, n, _ in seen] == [(f"epoch {e}", BATCHES) for e in range(1, EPOCHS + 1)]
    assert all(postfix.startswith("loss=") for *_, postfix in seen)


def test_without_batches_only_the_epoch_bar_shows(fit):
    output = io.StringIO()
    progress = fit(EpochProgress(batches=False, disable=False, file=output))
    assert progress.batch_bar is None and "epoch 1:" not in output.getvalue()


def test_a_resumed_fit_starts_the_epoch_bar_at_its_initial_epoch(fit):
    output = io.StringIO()
    progress = fit(EpochProgress(disable=False, file=output), initial_epoch=1)
    assert progress.epoch_bar.n == EPOCHS
    assert f"| 1/{EPOCHS} [" in output.getvalue() and f"| 0/{EPOCHS} [" not in output.getvalue()


def test_the_same_callback_shows_a_new_bar_for_a_second_fit(fit):
    progress = fit(EpochProgress(disable=False, file=io.StringIO()))
    first = progress.epoch_bar
    fit(progress)
    assert progress.epoch_bar is not first and progress.epoch_bar.n == EPOCHS
