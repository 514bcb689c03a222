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


@dataclass(frozen=True)
class MeasurementConfig:
    """Settings of the global measurements (:mod:`ecgcrnn.features.measurements`).

    Attributes
    ----------
    premature_fraction : float, default 0.85
        A beat is premature when its RR interval is shorter than this fraction of the running median RR.
    running_beats : int, default 5
        Width, in RR intervals, of the running median (centred on the beat).
    wide_qrs_s : float, default 0.12
        A premature beat is wide when its QRS lasts this long or longer...
    wider_than_median_s : float, default 0.04
        ...or is this much wider than the record's median QRS.
    plausible_ms : tuple of (str, float, float)
        Ranges outside which a beat's interval counts as a failed measurement (ms).
    complex_window_s : tuple of float, default (0.4, 0.6)
        The representative (median) beat spans this long before and after the R peaks it is aligned on.
    complex_beats : int, default 9
        Most beats the representative beat is the median of.
    iso_span_s : float, default 0.01
        The isoelectric level of a lead is its mean over this span just before the QRS onset.
    min_wave_mv : float, default 0.05
        A QRS deflection smaller than this is no wave (Q, R, S, R').
    notch_fraction : float, default 0.1
        An R wave is notched when it dips between two peaks by this fraction of its height (and at least
        ``min_wave_mv``).
    broad_r_s : float, default 0.05
        An R wave above half its height for this long or longer counts as slurred and broad.
    pace_z : float, default 3.0
        Pacing spike threshold on the median over leads of the normalised second difference (see
        :func:`ecgcrnn.features.measurements.measure`).
    pace_window_s : tuple of float, default (0.3, 0.03)
        A beat is paced when a pacing spike lies within this span before and after its QRS onset.
    flutter_rate_bpm : tuple of float, default (220.0, 360.0)
        Atrial rates searched for regular flutter waves.
    max_noise_mv : float, default 0.08
        A window is not measurable when its noise estimate (median over leads) exceeds this.
    min_qrs_found : float, default 0.5
        ...or when fewer than this fraction of its beats have a global QRS onset and offset.
    """

    premature_fraction: float = 0.85
    running_beats: int = 5
    wide_qrs_s: float = 0.12
    wider_than_median_s: float = 0.04
    plausible_ms: tuple[tuple[str, float, float], ...] = (
        ("PR", 40.0, 600.0),
        ("P_duration", 20.0, 250.0),
        ("QRS", 20.0, 250.0),
        ("QT", 150.0, 800.0),
    )
    complex_window_s: tuple[float, float] = (0.4, 0.6)
    complex_beats: int = 9
    iso_span_s: float = 0.01
    min_wave_mv: float = 0.05
    notch_fraction: float = 0.1
    broad_r_s: float = 0.05
    pace_z: float = 3.0
    pace_window_s: tuple[float, float] = (0.3, 0.03)
    flutter_rate_bpm: tuple[float, float] = (220.0, 360.0)
    max_noise_mv: float = 0.08
    min_qrs_found: float = 0.5
