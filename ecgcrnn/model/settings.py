"""The network's architecture settings (the sizes of its layers), part of the training settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NetworkConfig:
    """Layer sizes of the dual-branch CRNN (:func:`ecgcrnn.model.network.build_model`).

    Attributes
    ----------
    conv_filters : tuple of int, default (16, 32, 32, 64, 64, 96)
        Filters of the signal branch's convolutional blocks: the first is strided (4), each later one halves
        the time axis.
    signal_rnn_units, feature_rnn_units : int, default 48 and 32
        Units per direction of the two branches' bidirectional GRUs.
    dense_units : tuple of int, default (128, 64, 64)
        The fully connected layers after the branches are joined.
    dropout : float, default 0.3
        After each fully connected layer.
    """

    conv_filters: tuple[int, ...] = (16, 32, 32, 64, 64, 96)
    signal_rnn_units: int = 48
    feature_rnn_units: int = 32
    dense_units: tuple[int, ...] = (128, 64, 64)
    dropout: float = 0.3
