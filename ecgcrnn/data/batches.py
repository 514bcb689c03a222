"""The input pipeline: batches for one lead set, streamed from the cache's arrays on disk (a Keras PyDataset).

In training, each epoch takes one window per record, chosen at random among the windows that cover it (a
random crop of a long record), in a shuffled order; the choice depends only on the seed and the epoch. For
validation and prediction every window of every record comes once, in order, and ``owners`` says which
record each belongs to, so that window predictions can be averaged per record as ``run_model`` does.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from ecgcrnn.data.cache import Cache
from ecgcrnn.domain import LEAD_SETS, STANDARD_LEADS

NOISE_BANK_SAMPLES = 1 << 23  # standard normal samples drawn once per training dataset (32 MB)
NORMALISED = {"beat_values": "beat_mask", "record_values": "record_mask", "measurements": "measurement_mask"}
"""The inputs the network normalises, each with its mask."""


class WindowBatches(keras.utils.PyDataset):
    """Batches ``(inputs, labels)`` of one lead set.

    Parameters
    ----------
    cache : Cache
    lead_set : str
        A key of :data:`ecgcrnn.domain.LEAD_SETS`.
    records : numpy.ndarray
        Indices of the cache's records to draw from.
    batch_size : int
    seed : int
    training : bool
        One random window per record per epoch, shuffled (True), or every window in order (False).
    gain_jitter, noise_mv : float
        Training only, augmentation of the signal: each lead of each window is scaled by a factor drawn
        uniformly from [1 - gain_jitter, 1 + gain_jitter], and white Gaussian noise of this standard
        deviation (mV) is added. The features, measured on the clean signal, are left as they are.
    max_batches : int
        At most this many batches per epoch (0: all); a training epoch still draws from every record, and
        the next epoch draws anew.
    full_batches : bool
        Leave out the last batch when it is short (training under a strategy with several replicas, so
        that every replica gets its share of every batch); at least one batch is kept.
    signal : bool
        Read the signal (False: the inputs hold every input but ``signal``, for what needs only the
        features, without reading the largest array).
    targets : numpy.ndarray, optional
        The targets of every record of the cache (records, C), e.g. with unknown labels marked -1 for the
        loss (:data:`ecgcrnn.model.losses.UNKNOWN`); default the cache's labels.

    The arrays are read with :class:`ecgcrnn.data.reader.RowReader`, not through memory maps, so that the
    process does not grow with the cache as an epoch reads it.
    """

    def __init__(
        self,
        cache: Cache,
        lead_set: str,
        records,
        batch_size: int,
        seed: int,
        training: bool,
        gain_jitter: float = 0.0,
        noise_mv: float = 0.0,
        max_batches: int = 0,
        full_batches: bool = False,
        signal: bool = True,
        targets: np.ndarray | None = None,
    ):
        super().__init__()
        self.targets = (cache.labels if targets is None else np.asarray(targets)).astype(np.float32)
        self.max_batches, self.full_batches, self.with_signal = max_batches, full_batches, signal
        self._noise_bank = None  # drawn at the first augmented batch
        self.cache, self.lead_set, self.training = cache, lead_set, training
        self.gain_jitter, self.noise_mv = gain_jitter, noise_mv
        self.records = np.asarray(records, dtype=np.int64)
        self.batch_size, self.seed, self.epoch, self.served = batch_size, seed, 0, False
        self.rows = [STANDARD_LEADS.index(lead) for lead in LEAD_SETS[lead_set]]
        self.signals, self.features = cache.reader("signals"), cache.readers(lead_set)
        self.windows, self.owners = cache.windows_of(self.records)
        if training:
            self._draw()

    def __len__(self) -> int:
        if self.full_batches:
            count = max(len(self.windows) // self.batch_size, 1)
        else:
            count = math.ceil(len(self.windows) / self.batch_size)
        return min(count, self.max_batches) if self.max_batches else count

    def __getitem__(self, index: int):
        self.served = True
        chosen = self.windows[index * self.batch_size : (index + 1) * self.batch_size]
        owners = self.owners[index * self.batch_size : (index + 1) * self.batch_size]
        inputs = {}
        if self.with_signal:
            # the readers keep the order of ``chosen``
            signal = np.asarray(self.signals[chosen][:, self.rows], dtype=np.float32)
            if self.training and (self.gain_jitter or self.noise_mv):
                signal = self._augment(signal, index)
            inputs["signal"] = np.ascontiguousarray(signal.transpose(0, 2, 1))
        for name, array in self.features.items():
            inputs[name] = np.asarray(array[chosen], dtype=np.float32)
        inputs["demographics"] = self.cache.demographics[owners]
        return inputs, self.targets[owners]

    def on_epoch_end(self) -> None:
        """Draw the next epoch's windows; a call before any batch was served (Keras makes one before the
        first epoch) changes nothing, so epoch e always uses the draw of epoch e."""
        if self.training and self.served:
            self.start_epoch(self.epoch + 1)

    def start_epoch(self, epoch: int) -> None:
        """Draw the windows of ``epoch`` (used when training resumes)."""
        self.epoch, self.served = epoch, False
        if self.training:
            self._draw()

    def _augment(self, signal: np.ndarray, index: int) -> np.ndarray:
        """Random per-lead gain and white noise for the windows (B, leads, samples) of batch ``index``.

        The noise is a stretch, at a random place, of a bank of standard normal samples drawn once: drawing
        fresh samples for every batch took three times as long as the rest of the pipeline.
        """
        rng = np.random.default_rng([self.seed, self.epoch, index])
        gain = rng.uniform(1 - self.gain_jitter, 1 + self.gain_jitter, signal.shape[:2] + (1,))
        signal *= gain.astype(np.float32)
        if self.noise_mv:
            if self._noise_bank is None:
                bank = np.random.default_rng([self.seed, NOISE_BANK_SAMPLES])
                self._noise_bank = bank.standard_normal(NOISE_BANK_SAMPLES, dtype=np.float32)
            if signal.size <= NOISE_BANK_SAMPLES:
                start = rng.integers(NOISE_BANK_SAMPLES - signal.size + 1)
                noise = self._noise_bank[start : start + signal.size].reshape(signal.shape)
            else:
                noise = rng.standard_normal(signal.shape, dtype=np.float32)
            signal += noise * np.float32(self.noise_mv)
        return signal

    def _draw(self) -> None:
        """One window per record, at random, in a shuffled order."""
        rng = np.random.default_rng([self.seed, self.epoch])
        starts = self.cache.offsets[self.records]
        counts = self.cache.offsets[self.records + 1] - starts
        windows = starts + (rng.random(len(starts)) * counts).astype(np.int64)
        order = rng.permutation(len(windows))
        self.windows, self.owners = windows[order], self.records[order]


def average_by_owner(window_predictions: np.ndarray, owners: np.ndarray, records: np.ndarray) -> np.ndarray:
    """Mean of the window predictions (W, C) of each record, in the order of ``records``, shape (R, C)."""
    position = {record: i for i, record in enumerate(np.asarray(records).tolist())}
    index = np.array([position[owner] for owner in owners.tolist()], dtype=np.int64)
    sums = np.zeros((len(records), window_predictions.shape[1]))
    np.add.at(sums, index, window_predictions)
    counts = np.bincount(index, minlength=len(records))[:, None]
    return sums / np.maximum(counts, 1)


def feature_statistics(cache: Cache, lead_set: str, records, chunk_windows: int = 512) -> dict:
    """Per-feature mean and variance of the measured (mask 1) values over the records' windows.

    Returns ``{name: (mean, variance)}`` for ``beat_values``, ``record_values`` and ``measurements``, for the
    model's normalisation layers; a feature never measured gets mean 0 and variance 1, one that never
    varied variance 1. The windows are read
    ``chunk_windows`` at a time, twice (mean, then variance about it), so memory does not grow with them.
    """
    windows = np.sort(cache.windows_of(np.asarray(records))[0])
    chunks = [windows[i : i + chunk_windows] for i in range(0, len(windows), chunk_windows)]
    readers = cache.readers(lead_set)
    stats = {}
    for name, mask_name in NORMALISED.items():
        values, mask = readers[name], readers[mask_name]

        def measured(rows, values=values, mask=mask):
            width = values.shape[-1]
            return values[rows].reshape(-1, width).astype(np.float64), mask[rows].reshape(-1, width) > 0

        count, total, squares = (np.zeros(values.shape[-1]) for _ in range(3))
        for rows in chunks:
            x, m = measured(rows)
            count, total = count + m.sum(axis=0), total + (x * m).sum(axis=0)
        mean = np.where(count > 0, total / np.maximum(count, 1), 0.0)
        for rows in chunks:
            x, m = measured(rows)
            squares = squares + (((x - mean) ** 2) * m).sum(axis=0)
        variance = squares / np.maximum(count, 1)
        # a feature that never varied (measured at most once, or constant) gets variance 1, so that another
        # value at inference is not multiplied by a thousand
        stats[name] = (mean, np.where((count > 1) & (variance > 1e-6), variance, 1.0))
    return stats
