"""What the network reads: its named inputs, assembled the same way for training batches and ``run_model``.

For a lead set of L leads and a batch of B windows:

| input | shape | content |
|---|---|---|
| ``signal`` | (B, 5000, L) | preprocessed millivolts, 500 Hz, 10 s, channels last |
| ``beat_values`` | (B, MAX_BEATS, 2 + 11 L) | :attr:`Features.beats` (seconds, millivolts) |
| ``beat_mask`` | (B, MAX_BEATS, 2 + 11 L) | 1 where measured, 0 where imputed or padding |
| ``record_values`` | (B, 9 + 11 L) | :attr:`Features.record` |
| ``record_mask`` | (B, 9 + 11 L) | 1 where measured |
| ``demographics`` | (B, 4) | age / 100 (0 if unknown), age known, male, female |
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ecgcrnn.features.beats import Features

INPUT_NAMES = ("signal", "beat_values", "beat_mask", "record_values", "record_mask", "demographics")
DEMOGRAPHICS = ("age_per_100_years", "age_known", "male", "female")


def demographics(age: float | None, sex: str | None) -> np.ndarray:
    """The ``demographics`` vector, shape (4,), from age (years; None or NaN if unknown) and sex."""
    known = age is not None and math.isfinite(age) and 0 <= age <= 120
    sex = (sex or "").strip().lower()
    return np.array(
        [
            age / 100 if known else 0.0,
            float(known),
            float(sex in ("male", "m")),
            float(sex in ("female", "f")),
        ],
        dtype=np.float32,
    )


def assemble_inputs(signals: np.ndarray, features: Sequence[Features], demographic: np.ndarray) -> dict:
    """The network's inputs for windows of one or more records.

    Parameters
    ----------
    signals : numpy.ndarray
        Shape (B, L, samples): windows as :func:`ecgcrnn.signal.preprocessing.windows` gives them.
    features : sequence of Features
        One per window.
    demographic : numpy.ndarray
        Shape (4,) for one record (repeated for every window) or (B, 4).
    """
    count = len(signals)
    demographic = np.broadcast_to(np.asarray(demographic, np.float32), (count, len(DEMOGRAPHICS)))
    return {
        "signal": np.ascontiguousarray(np.asarray(signals, np.float32).transpose(0, 2, 1)),
        "beat_values": np.stack([f.beats for f in features]),
        "beat_mask": np.stack([f.beats_mask for f in features]),
        "record_values": np.stack([f.record for f in features]),
        "record_mask": np.stack([f.record_mask for f in features]),
        "demographics": np.ascontiguousarray(demographic),
    }
