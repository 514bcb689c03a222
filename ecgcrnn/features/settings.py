"""The features' settings: how many beats the sequence holds, where amplitudes are read, what counts as a
plausible measurement, and the value imputed where one is missing.

They shape the network's inputs, so a trained model keeps them (see :mod:`ecgcrnn.pipeline`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FeatureConfig:
    """Settings of :func:`ecgcrnn.features.beats.features_from_delineation`.

    Attributes
    ----------
    max_beats : int, default 48
        Length of the beat sequence (10 s at 220 beats per minute is 37 beats); later beats are dropped,
        missing ones padded with zeros.
    j_offset_s : float, default 0.06
        The ST level is read this long after the QRS offset (J+60 ms).
    max_qrs_s : float, default 0.2
        Longest span searched for the Q, R and S amplitudes.
    plausible_s : tuple of (str, float, float), default PR 0.04-0.6, QRS 0.02-0.2, QT 0.15-0.8, QTc 0.15-0.9
        Physiological ranges in seconds: an interval outside its range counts as a failed measurement.
    amplitude_limit_mv : float, default 10.0
        An amplitude larger than this in magnitude counts as a failed measurement.
    imputed : tuple of (str, float)
        The value given to a feature that could not be measured (and is flagged so in its mask), by name,
        in the feature's unit (see :data:`ecgcrnn.features.beats.LEAD_FEATURES`, ``BEAT_FEATURES`` and
        ``RECORD_FEATURES``): typical adult values for intervals and rates, 0 for amplitudes.
    """

    max_beats: int = 48
    j_offset_s: float = 0.06
    max_qrs_s: float = 0.2
    plausible_s: tuple[tuple[str, float, float], ...] = (
        ("PR", 0.04, 0.6),
        ("QRS", 0.02, 0.2),
        ("QT", 0.15, 0.8),
        ("QTc", 0.15, 0.9),
    )
    amplitude_limit_mv: float = 10.0
    imputed: tuple[tuple[str, float], ...] = (
        ("PR", 0.16),
        ("QRS", 0.09),
        ("QT", 0.40),
        ("QTc", 0.42),
        ("P_amp", 0.0),
        ("Q_amp", 0.0),
        ("R_amp", 0.0),
        ("S_amp", 0.0),
        ("T_amp", 0.0),
        ("ST", 0.0),
        ("T_polarity", 0.0),
        ("RR_before", 0.8),
        ("RR_after", 0.8),
        ("heart_rate", 75.0),
        ("SDNN", 0.05),
        ("RMSSD", 0.04),
        ("RR_irregularity", 0.03),
        ("RR_cv", 0.05),
        ("P_presence", 1.0),
        ("beats_per_10s", 12.5),
        ("axis_cos", 0.8),
        ("axis_sin", 0.5),
    )

    def imputed_values(self, names) -> list[float]:
        """The imputed value of each feature in ``names``; KeyError naming a feature without one."""
        table = dict(self.imputed)
        try:
            return [table[name] for name in names]
        except KeyError as missing:
            raise KeyError(f"FeatureConfig.imputed has no value for feature {missing.args[0]!r}") from None
