"""Engineered features from the delineation: a beat-by-beat sequence and a record-level vector.

Both are finite always: a value that cannot be measured (an absent P wave, a lead with no beats) is
imputed and flagged in a mask that travels with it (1 = measured, 0 = imputed), so the network can tell a
zero amplitude from a missing one. Feature names and units are listed in :data:`LEAD_FEATURES`,
:data:`BEAT_FEATURES` and :data:`RECORD_FEATURES`; :func:`beat_feature_names` and
:func:`record_feature_names` give the column names for a lead set.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from ecgcrnn.delineation.delineate import delineate_leads

# Per lead and beat: (name, unit, meaning, value imputed when not measurable).
LEAD_FEATURES: tuple[tuple[str, str, str, float], ...] = (
    ("PR", "s", "P onset to QRS onset", 0.16),
    ("QRS", "s", "QRS onset to QRS offset", 0.09),
    ("QT", "s", "QRS onset to T offset", 0.40),
    ("QTc", "s", "QT corrected by Bazett's formula, QT / sqrt(RR before, in s)", 0.42),
    ("P_amp", "mV", "P peak above the isoelectric level (the signal at QRS onset)", 0.0),
    ("Q_amp", "mV", "lowest point between QRS onset and R, relative to the isoelectric level (<= 0)", 0.0),
    ("R_amp", "mV", "highest point of the QRS, relative to the isoelectric level (>= 0)", 0.0),
    ("S_amp", "mV", "lowest point between R and QRS offset, relative to the isoelectric level (<= 0)", 0.0),
    ("T_amp", "mV", "T peak relative to the isoelectric level", 0.0),
    ("ST", "mV", "level 60 ms after QRS offset (J+60) relative to the isoelectric level", 0.0),
    ("T_polarity", "1", "sign of T_amp: +1 upright, -1 inverted", 0.0),
)
# Per beat, shared by all leads.
BEAT_FEATURES: tuple[tuple[str, str, str, float], ...] = (
    ("RR_before", "s", "interval from the previous beat's R", 0.8),
    ("RR_after", "s", "interval to the next beat's R", 0.8),
)
# Per record (then the per-lead medians of LEAD_FEATURES over beats).
RECORD_FEATURES: tuple[tuple[str, str, str, float], ...] = (
    ("heart_rate", "1/min", "60 / median RR", 75.0),
    ("SDNN", "s", "standard deviation of RR", 0.05),
    ("RMSSD", "s", "root mean square of successive RR differences", 0.04),
    ("RR_irregularity", "1", "median |successive RR difference| / median RR (high in AF)", 0.03),
    ("RR_cv", "1", "coefficient of variation of RR", 0.05),
    ("P_presence", "1", "fraction of beats and leads with a P wave", 1.0),
    ("beats_per_10s", "1", "number of beats, scaled to 10 s", 12.5),
    ("axis_cos", "1", "cosine of the frontal QRS axis (net QRS of I and aVF; aVF = II - I/2 if absent)", 0.8),
    ("axis_sin", "1", "sine of the frontal QRS axis", 0.5),
)

MAX_BEATS = 48  # 10 s at 220 beats per minute is 37 beats
_J_OFFSET_S = 0.06
_MAX_QRS_S = 0.2
# Plausible ranges: a measurement outside is treated as a failed one.
_LIMITS = {"PR": (0.04, 0.6), "QRS": (0.02, _MAX_QRS_S), "QT": (0.15, 0.8), "QTc": (0.15, 0.9)}
_AMPLITUDE_LIMIT_MV = 10.0


@dataclass(frozen=True)
class Features:
    """The feature branch's inputs for one window of one record.

    Attributes
    ----------
    beats : numpy.ndarray
        float32, shape (MAX_BEATS, len(beat_feature_names(leads))): beats in time order, padded with zeros.
    beats_mask : numpy.ndarray
        float32, same shape: 1 where the value was measured, 0 where it was imputed or is padding.
    record : numpy.ndarray
        float32, shape (len(record_feature_names(leads)),).
    record_mask : numpy.ndarray
        float32, same shape as ``record``: 1 where measured.
    num_beats : int
        Beats detected (before truncation to MAX_BEATS).
    """

    beats: np.ndarray
    beats_mask: np.ndarray
    record: np.ndarray
    record_mask: np.ndarray
    num_beats: int


def beat_feature_names(leads) -> list[str]:
    """Column names of :attr:`Features.beats`: the shared beat features, then each lead's features."""
    shared = [name for name, *_ in BEAT_FEATURES]
    return shared + [f"{lead}:{name}" for lead in leads for name, *_ in LEAD_FEATURES]


def record_feature_names(leads) -> list[str]:
    """Entries of :attr:`Features.record`: the record features, then each lead's median beat features."""
    shared = [name for name, *_ in RECORD_FEATURES]
    return shared + [f"{lead}:median_{name}" for lead in leads for name, *_ in LEAD_FEATURES]


def extract_features(signal: np.ndarray, fs: float, leads) -> Features:
    """Delineate a preprocessed window and compute its features.

    Parameters
    ----------
    signal : numpy.ndarray
        Millivolts, shape (len(leads), samples), filtered (see
        :func:`ecgcrnn.signal.preprocessing.preprocess`).
    fs : float
        Sampling rate in Hz.
    leads : sequence of str
        Standard lead names of the rows; leads I, II and aVF give the frontal axis.
    """
    signal = np.asarray(signal, dtype=np.float32)
    return features_from_delineation(signal, fs, leads, delineate_leads(signal, fs))


def features_from_delineation(signal: np.ndarray, fs: float, leads, fiducials: dict) -> Features:
    """:func:`extract_features` for a delineation already at hand (arrays shaped (leads, beats))."""
    lead_values = _lead_beat_features(signal, fs, fiducials)  # (leads, beats, features), NaN = missing
    r_times = _beat_times(fiducials)
    rr_before, rr_after = _rr_intervals(r_times, fs)
    with np.errstate(invalid="ignore", divide="ignore"):
        lead_values[..., 3] = lead_values[..., 2] / np.sqrt(rr_before)[None, :]
    _drop_implausible(lead_values)
    per_beat = np.concatenate(
        [
            np.stack([rr_before, rr_after], axis=1),
            lead_values.transpose(1, 0, 2).reshape(len(r_times), lead_values.shape[0] * lead_values.shape[2]),
        ],
        axis=1,
    )
    defaults = np.array(
        [d for *_, d in BEAT_FEATURES] + [d for *_, d in LEAD_FEATURES] * len(leads), dtype=np.float32
    )
    beats, beats_mask = _impute_beats(per_beat, defaults)
    summary = _record_summary(signal, fs, leads, r_times, rr_before, fiducials, lead_values)
    record_values = np.concatenate([summary, _medians(lead_values)])
    record_defaults = np.array(
        [d for *_, d in RECORD_FEATURES] + [d for *_, d in LEAD_FEATURES] * len(leads), dtype=np.float32
    )
    record_mask = np.isfinite(record_values)
    record = np.where(record_mask, record_values, record_defaults).astype(np.float32)
    return Features(beats, beats_mask, record, record_mask.astype(np.float32), len(r_times))


def _beat_times(fiducials: dict) -> np.ndarray:
    """One time (samples) per beat: the median over leads of R."""
    r = np.asarray(fiducials["R"], dtype=np.float64)
    return _nanmedian(r, axis=0) if r.size else np.zeros(0)


def _nanmedian(values: np.ndarray, axis: int) -> np.ndarray:
    """np.nanmedian without the warning for all-NaN slices (which give NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(values, axis=axis)


def _rr_intervals(r_times: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    if len(r_times) == 0:
        return np.zeros(0), np.zeros(0)
    rr = np.diff(r_times) / fs
    nan = np.full(1, np.nan)
    return np.concatenate([nan, rr]), np.concatenate([rr, nan])


def _lead_beat_features(signal: np.ndarray, fs: float, fid: dict) -> np.ndarray:
    """Per lead and beat, the LEAD_FEATURES in order (QTc left NaN for the caller), NaN where missing."""
    n_leads, n_beats = np.shape(fid["R"])
    out = np.full((n_leads, n_beats, len(LEAD_FEATURES)), np.nan, dtype=np.float64)
    if n_beats == 0:
        return out
    qrs_on, qrs_off, r = fid["QRS_on"], fid["QRS_off"], fid["R"]
    out[..., 0] = (qrs_on - fid["P_on"]) / fs
    out[..., 1] = (qrs_off - qrs_on) / fs
    out[..., 2] = (fid["T_off"] - qrs_on) / fs
    iso = _sample(signal, qrs_on)
    qrs_window = round(_MAX_QRS_S * fs)
    out[..., 4] = _sample(signal, fid["P_peak"]) - iso
    out[..., 5] = np.minimum(_extreme(signal, qrs_on, r, qrs_window, np.nanmin) - iso, 0.0)
    out[..., 6] = np.maximum(_extreme(signal, qrs_on, qrs_off, qrs_window, np.nanmax) - iso, 0.0)
    out[..., 7] = np.minimum(_extreme(signal, r, qrs_off, qrs_window, np.nanmin) - iso, 0.0)
    out[..., 8] = _sample(signal, fid["T_peak"]) - iso
    out[..., 9] = _sample(signal, qrs_off + _J_OFFSET_S * fs) - iso
    out[..., 10] = np.sign(out[..., 8])
    return out


def _sample(signal: np.ndarray, index: np.ndarray) -> np.ndarray:
    """signal[lead, round(index[lead, beat])], NaN where the index is NaN or outside the signal."""
    index = np.asarray(index, dtype=np.float64)
    valid = np.isfinite(index) & (index >= 0) & (index <= signal.shape[1] - 1)
    safe = np.where(valid, np.round(np.nan_to_num(index)), 0).astype(np.int64)
    values = np.take_along_axis(signal, safe, axis=1).astype(np.float64)
    return np.where(valid, values, np.nan)


def _extreme(signal: np.ndarray, start: np.ndarray, stop: np.ndarray, width: int, reduce) -> np.ndarray:
    """reduce(signal[lead, start:stop + 1]) per lead and beat (at most ``width`` samples), NaN if empty."""
    start = np.asarray(start, dtype=np.float64)
    stop = np.asarray(stop, dtype=np.float64)
    valid = np.isfinite(start) & np.isfinite(stop) & (stop >= start)
    first = np.where(valid, np.round(np.nan_to_num(start)), 0).astype(np.int64)
    last = np.where(valid, np.round(np.nan_to_num(stop)), -1).astype(np.int64)
    offsets = np.arange(width + 1)
    index = first[..., None] + offsets  # (leads, beats, width + 1)
    inside = (index <= last[..., None]) & (index >= 0) & (index < signal.shape[1])
    leads = np.arange(signal.shape[0])[:, None, None]
    values = np.where(inside, signal[leads, np.clip(index, 0, signal.shape[1] - 1)], np.nan)
    result = np.full(start.shape, np.nan)
    has = inside.any(axis=-1)
    result[has] = reduce(values[has], axis=-1)
    return result


def _drop_implausible(values: np.ndarray) -> None:
    """Set measurements outside physiological ranges to NaN, in place."""
    names = [name for name, *_ in LEAD_FEATURES]
    for name, (low, high) in _LIMITS.items():
        column = values[..., names.index(name)]
        column[(column < low) | (column > high)] = np.nan
    amplitudes = values[..., 4:10]
    amplitudes[np.abs(amplitudes) > _AMPLITUDE_LIMIT_MV] = np.nan
    values[..., 10][np.isnan(values[..., 8])] = np.nan


def _impute_beats(per_beat: np.ndarray, defaults: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-size (MAX_BEATS, F) values and mask; a missing value takes its column's median over the
    record's beats, or the default where no beat has it."""
    measured = np.isfinite(per_beat)
    fill = np.array(defaults, dtype=np.float64)
    counts = measured.sum(axis=0)
    if per_beat.shape[0]:
        has = counts > 0
        fill[has] = _nanmedian(per_beat[:, has], axis=0)
    values = np.where(measured, per_beat, fill[None, :])[:MAX_BEATS]
    beats = np.zeros((MAX_BEATS, per_beat.shape[1]), np.float32)
    mask = np.zeros_like(beats)
    beats[: len(values)] = values
    mask[: len(values)] = measured[:MAX_BEATS]
    return beats, mask


def _medians(lead_values: np.ndarray) -> np.ndarray:
    """Per lead, the median of each feature over beats (NaN where no beat has it), flattened."""
    if lead_values.shape[1] == 0:
        return np.full(lead_values.shape[0] * lead_values.shape[2], np.nan)
    return _nanmedian(lead_values, axis=1).ravel()


def _record_summary(signal, fs, leads, r_times, rr_before, fiducials, lead_values) -> np.ndarray:
    rr = rr_before[1:]
    values = np.full(len(RECORD_FEATURES), np.nan)
    if len(rr):
        median_rr = float(np.median(rr))
        values[0] = 60.0 / median_rr
        values[1] = float(np.std(rr))
        values[3] = float(np.median(np.abs(np.diff(rr)))) / median_rr if len(rr) > 1 else np.nan
        values[4] = values[1] / float(np.mean(rr))
        if len(rr) > 1:
            values[2] = float(np.sqrt(np.mean(np.square(np.diff(rr)))))
    usable = np.isfinite(fiducials["R"]).any(axis=1) if len(r_times) else np.zeros(len(leads), bool)
    if len(r_times) and usable.any():
        values[5] = float(np.isfinite(fiducials["P_on"][usable]).mean())
    duration_s = signal.shape[1] / fs
    values[6] = len(r_times) * 10.0 / duration_s if duration_s > 0 else np.nan
    values[7], values[8] = _frontal_axis(leads, lead_values)
    return values


def _frontal_axis(leads, lead_values: np.ndarray) -> tuple[float, float]:
    """(cos, sin) of the frontal QRS axis from the net QRS amplitude (R + S) of leads I and aVF."""
    names = list(leads)
    if lead_values.shape[1] == 0 or "I" not in names:
        return math.nan, math.nan
    net = _nanmedian(lead_values[..., 6] + lead_values[..., 7], axis=1)
    lead_i = net[names.index("I")]
    if "aVF" in names:
        lead_avf = net[names.index("aVF")]
    elif "II" in names:
        lead_avf = net[names.index("II")] - lead_i / 2  # Einthoven: aVF = II - I/2
    else:
        return math.nan, math.nan
    length = math.hypot(lead_i, lead_avf)
    if not math.isfinite(length) or length == 0:
        return math.nan, math.nan
    return lead_i / length, lead_avf / length
