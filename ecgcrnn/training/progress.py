"""Progress of training as tqdm bars: one over the epochs, one over the batches of the current epoch.

Keras' own progress output (``fit(verbose=1 or 2)``) writes to stdout whether or not it is a terminal, so a
log file of a long run fills with it. :class:`EpochProgress` shows tqdm bars on stderr instead and, by
default (``disable=None``), nothing at all when stderr is not a terminal; run ``fit`` with ``verbose=0``
beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from tqdm import tqdm

METRICS = ("loss", "val_challenge_metric")


class EpochProgress(keras.callbacks.Callback):
    """A bar over the epochs with the latest metrics in its postfix, and one over each epoch's batches.

    A metric that another callback computes after an epoch (``val_challenge_metric``) shows when that
    callback comes first in ``fit``'s list and adds it to the ``logs`` dict it was given (the same dict is
    passed to every callback in turn). A fit resumed at ``initial_epoch`` starts the epoch bar there.

    Parameters
    ----------
    batches : bool
        Also show a bar over the batches of the current epoch (removed when the epoch ends), with the
        running loss.
    metrics : sequence of str
        The ``logs`` entries shown in the postfix, where present.
    disable : bool or None
        tqdm's: None hides the bars when ``file`` is not a terminal; True always, False never.
    file : text stream, optional
        Where the bars go (default: stderr).
    """

    def __init__(
        self, batches: bool = True, metrics: Sequence[str] = METRICS, disable: bool | None = None, file=None
    ):
        super().__init__()
        self.batches, self.metrics = batches, tuple(metrics)
        self._bar_options = {"disable": disable, "file": file, "dynamic_ncols": True}
        self.epoch_bar: tqdm | None = None
        self.batch_bar: tqdm | None = None

    def on_train_begin(self, logs=None):
        self.epoch_bar = None

    def on_epoch_begin(self, epoch, logs=None):
        options = self._bar_options
        if self.epoch_bar is None:  # created here, as the first epoch (initial_epoch) is known only now
            total = self.params.get("epochs")
            self.epoch_bar = tqdm(total=total, initial=epoch, desc="epochs", unit="epoch", **options)
        if self.batches:
            steps, description = self.params.get("steps"), f"epoch {epoch + 1}"
            self.batch_bar = tqdm(total=steps, desc=description, unit="batch", leave=False, **options)

    def on_train_batch_end(self, batch, logs=None):
        if self.batch_bar is not None:
            self.batch_bar.set_postfix(self._postfix(logs, ("loss",)), refresh=False)
            self.batch_bar.update()

    def on_epoch_end(self, epoch, logs=None):
        self._close_batch_bar()
        if self.epoch_bar is not None:
            self.epoch_bar.set_postfix(self._postfix(logs, self.metrics), refresh=False)
            self.epoch_bar.update()

    def on_train_end(self, logs=None):
        self._close_batch_bar()
        if self.epoch_bar is not None:
            self.epoch_bar.close()

    def _close_batch_bar(self) -> None:
        if self.batch_bar is not None:
            self.batch_bar.close()
            self.batch_bar = None

    @staticmethod
    def _postfix(logs, names) -> dict[str, str]:
        logs = logs or {}
        return {name: f"{float(logs[name]):.4f}" for name in names if name in logs}
