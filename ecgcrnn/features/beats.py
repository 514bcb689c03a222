"""Engineered features from the delineation: a beat-by-beat sequence and a record-level vector.

Both are finite always: a value that cannot be measured (an absent P wave, a lead with no beats) is
imputed and flagged in a mask that travels with it (1 = measured, 0 = imputed), so the network can tell a
zero amplitude from a missing one. Feature names and units are listed in :data:`LEAD_FEATURES`,
:data:`BEAT_FEATURES` and :data:`RECORD_FEATURES`; :func:`beat_feature_names` and
:func:`record_feature_names` give the column names for a lead set. The number of beats, the plausible
ranges and the imputed values are settings (:class:`~ecgcrnn.features.settings.FeatureConfig`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ecgcrnn.features.settings import FeatureConfig
from ecgcrnn.signal.arrays import nanmedian

# Per lead and beat: (name, unit, meaning).
LEAD_FEATURES: tuple[tuple[str, str, str], ...] = (
    ("PR", "s", "P onset to QRS onset"),
    ("QRS", "s", "QRS onset to QRS offset"),
    ("QT", "s", "QRS onset to T offset"),
    ("QTc", "s", "QT corrected by Bazett's formula, QT / sqrt(RR before, in s)"),
    ("P_amp", "mV", "P peak above the isoelectric level (the signal at QRS onset)"),
    ("Q_amp", "mV", "lowest point between QRS onset and R, relative to the isoelectric level (<= 0)"),
    ("R_amp", "mV", "highest point of the QRS, relative to the isoelectric level (>= 0)"),
    ("S_amp", "mV", "lowest point between R and QRS offset, relative to the isoelectric level (<= 0)"),
    ("T_amp", "mV", "T peak relative to the isoelectric level"),
    (
        "ST",
        "mV",
        "level at J+60 ms (FeatureConfig.j_offset_s after QRS offset) relative to the isoelectric level",
    ),
    ("T_polarity", "1", "sign of T_amp: +1 upright, -1 inverted"),
)
# Per beat, shared by all leads.
BEAT_FEATURES: tuple[tuple[str, str, str], ...] = (
    ("RR_before", "s", "interval from the previous beat's R"),
    ("RR_after", "s", "interval to the next beat's R"),
)
# Per record (then the per-lead medians of LEAD_FEATURES over beats).
RECORD_FEATURES: tuple[tuple[str, str, str], ...] = (
    ("heart_rate", "1/min", "60 / median RR"),
    ("SDNN", "s", "standard deviation of RR"),
    ("RMSSD", "s", "root mean square of successive RR differences"),
    ("RR_irregularity", "1", "median |successive RR difference| / median RR (high in AF)"),
    ("RR_cv", "1", "coefficient of variation of RR"),
    ("P_presence", "1", "fraction of beats and leads with a P wave"),
    ("beats_per_10s", "1", "number of beats, scaled to 10 s"),
    ("axis_cos", "1", "cosine of the frontal QRS axis (net QRS of I and aVF; aVF = II - I/2 if absent)"),
    ("axis_sin", "1", "sine of the frontal QRS axis"),
)

LEAD = {name: i for i, (name, *_) in enumerate(LEAD_FEATURES)}
"""Column of each per-lead feature in the last axis of the (leads, beats, features) measurements."""
RECORD = {name: i for i, (name, *_) in enumerate(RECORD_FEATURES)}
"""Position of each record feature at the start of :attr:`Features.record`."""
_AMPLITUDES = [LEAD[name] for name in ("P_amp", "Q_amp", "R_amp", "S_amp", "T_amp", "ST")]


@dataclass(frozen=True)
class Features:
    """The feature branch's inputs for one window of one record.

    Attributes
    ----------
    beats : numpy.ndarray
        float32, shape (max_beats, len(beat_feature_names(leads))): beats in time order, zero-padded.
    beats_mask : numpy.ndarray
        float32, same shape: 1 where the value was measured, 0 where it was imputed or is padding.
    record : numpy.ndarray
        float32, shape (len(record_feature_names(leads)),).
    record_mask : numpy.ndarray
        float32, same shape as ``record``: 1 where measured.
    num_beats : int
        Beats detected (before truncation to ``max_beats``).
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


def features_from_delineation(
    signal: np.ndarray, fs: float, leads, fiducials: dict, config: FeatureConfig = FeatureConfig()
) -> Features:
    """The features of one preprocessed window from its delineation.

    Parameters
    ----------
    signal : numpy.ndarray
        Millivolts, shape (len(leads), samples), filtered (see
        :func:`ecgcrnn.signal.preprocessing.preprocess`).
    fs : float
        Sampling rate in Hz.
    leads : sequence of str
        Standard lead names of the rows; leads I, II and aVF give the frontal axis.
    fiducials : dict of str to numpy.ndarray
        :func:`ecgcrnn.delineation.delineate.delineate_leads` of ``signal``, arrays shaped (leads, beats).
    config : FeatureConfig
    """
    lead_values = _lead_beat_features(
        signal, fs, fiducials, config
    )  # (leads, beats, features), NaN = missing
    r_times = _beat_times(fiducials)
    rr_before, rr_after = _rr_intervals(r_times, fs)
    with np.errstate(invalid="ignore", divide="ignore"):
        lead_values[..., LEAD["QTc"]] = lead_values[..., LEAD["QT"]] / np.sqrt(rr_before)[None, :]
    _drop_implausible(lead_values, config)
    per_beat = np.concatenate(
        [
            np.stack([rr_before, rr_after], axis=1),
            lead_values.transpose(1, 0, 2).reshape(len(r_times), lead_values.shape[0] * lead_values.shape[2]),
        ],
        axis=1,
    )
    lead_names = [name for name, *_ in LEAD_FEATURES]
    defaults = np.array(
        config.imputed_values([name for name, *_ in BEAT_FEATURES] + lead_names * len(leads)), np.float32
    )
    beats, beats_mask = _impute_beats(per_beat, defaults, config.max_beats)
    summary = _record_summary(signal, fs, leads, r_times, rr_before, fiducials, lead_values)
    record_values = np.concatenate([summary, _medians(lead_values)])
    record_defaults = np.array(
        config.imputed_values([name for name, *_ in RECORD_FEATURES] + lead_names * len(leads)), np.float32
    )
    record_mask = np.isfinite(record_values)
    record = np.where(record_mask, record_values, record_defaults).astype(np.float32)
    return Features(beats, beats_mask, record, record_mask.astype(np.float32), len(r_times))


def _beat_times(fiducials: dict) -> np.ndarray:
    """One time (samples) per beat: the median over leads of R."""
    r = np.asarray(fiducials["R"], dtype=np.float64)
    return nanmedian(np.asarray(r, dtype=float), axis=0) if r.size else np.zeros(0)


def _rr_intervals(r_times: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    if len(r_times) == 0:
        return np.zeros(0), np.zeros(0)
    rr = np.diff(r_times) / fs
    nan = np.full(1, np.nan)
    return np.concatenate([nan, rr]), np.concatenate([rr, nan])


def _lead_beat_features(signal: np.ndarray, fs: float, fid: dict, config: FeatureConfig) -> np.ndarray:
    """Per lead and beat, the LEAD_FEATURES in order (QTc left NaN for the caller), NaN where missing."""
    n_leads, n_beats = np.shape(fid["R"])
    out = np.full((n_leads, n_beats, len(LEAD_FEATURES)), np.nan, dtype=np.float64)
    if n_beats == 0:
        return out
    qrs_on, qrs_off, r = fid["QRS_on"], fid["QRS_off"], fid["R"]
    out[..., LEAD["PR"]] = (qrs_on - fid["P_on"]) / fs
    out[..., LEAD["QRS"]] = (qrs_off - qrs_on) / fs
    out[..., LEAD["QT"]] = (fid["T_off"] - qrs_on) / fs
    iso = _sample(signal, qrs_on)
    qrs_window = round(config.max_qrs_s * fs)
    out[..., LEAD["P_amp"]] = _sample(signal, fid["P_peak"]) - iso
    out[..., LEAD["Q_amp"]] = np.minimum(_extreme(signal, qrs_on, r, qrs_window, np.nanmin) - iso, 0.0)
    out[..., LEAD["R_amp"]] = np.maximum(_extreme(signal, qrs_on, qrs_off, qrs_window, np.nanmax) - iso, 0.0)
    out[..., LEAD["S_amp"]] = np.minimum(_extreme(signal, r, qrs_off, qrs_window, np.nanmin) - iso, 0.0)
    out[..., LEAD["T_amp"]] = _sample(signal, fid["T_peak"]) - iso
    out[..., LEAD["ST"]] = _sample(signal, qrs_off + config.j_offset_s * fs) - iso
    out[..., LEAD["T_polarity"]] = np.sign(out[..., LEAD["T_amp"]])
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


def _drop_implausible(values: np.ndarray, config: FeatureConfig) -> None:
    """Set measurements outside physiological ranges to NaN, in place."""
    for name, low, high in config.plausible_s:
        column = values[..., LEAD[name]]
        column[(column < low) | (column > high)] = np.nan
    amplitudes = values[..., _AMPLITUDES]
    amplitudes[np.abs(amplitudes) > config.amplitude_limit_mv] = np.nan
    values[..., _AMPLITUDES] = amplitudes
    values[..., LEAD["T_polarity"]][np.isnan(values[..., LEAD["T_amp"]])] = np.nan


def _impute_beats(
    per_beat: np.ndarray, defaults: np.ndarray, max_beats: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-size (max_beats, F) values and mask; a missing value takes its column's median over the
    record's beats, or the default where no beat has it."""
    measured = np.isfinite(per_beat)
    fill = np.array(defaults, dtype=np.float64)
    counts = measured.sum(axis=0)
    if per_beat.shape[0]:
        has = counts > 0
        fill[has] = nanmedian(np.asarray(per_beat[:, has], dtype=float), axis=0)
    values = np.where(measured, per_beat, fill[None, :])[:max_beats]
    beats = np.zeros((max_beats, per_beat.shape[1]), np.float32)
    mask = np.zeros_like(beats)
    beats[: len(values)] = values
    mask[: len(values)] = measured[:max_beats]
    return beats, mask


def _medians(lead_values: np.ndarray) -> np.ndarray:
    """Per lead, the median of each feature over beats (NaN where no beat has it), flattened."""
    if lead_values.shape[1] == 0:
        return np.full(lead_values.shape[0] * lead_values.shape[2], np.nan)
    return nanmedian(np.asarray(lead_values, dtype=float), axis=1).ravel()


def _record_summary(signal, fs, leads, r_times, rr_before, fiducials, lead_values) -> np.ndarray:
    """The RECORD_FEATURES in order, NaN where not measurable."""
    rr = rr_before[1:]
    values = np.full(len(RECORD_FEATURES), np.nan)
    if len(rr):
        median_rr = float(np.median(rr))
        values[RECORD["heart_rate"]] = 60.0 / median_rr
        values[RECORD["SDNN"]] = float(np.std(rr))
        values[RECORD["RR_cv"]] = values[RECORD["SDNN"]] / float(np.mean(rr))
        if len(rr) > 1:
            values[RECORD["RR_irregularity"]] = float(np.median(np.abs(np.diff(rr)))) / median_rr
            values[RECORD["RMSSD"]] = float(np.sqrt(np.mean(np.square(np.diff(rr)))))
    usable = np.isfinite(fiducials["R"]).any(axis=1) if len(r_times) else np.zeros(len(leads), bool)
    if len(r_times) and usable.any():
        values[RECORD["P_presence"]] = float(np.isfinite(fiducials["P_on"][usable]).mean())
    duration_s = signal.shape[1] / fs
    values[RECORD["beats_per_10s"]] = len(r_times) * 10.0 / duration_s if duration_s > 0 else np.nan
    values[RECORD["axis_cos"]], values[RECORD["axis_sin"]] = _frontal_axis(leads, lead_values)
    return values


def _frontal_axis(leads, lead_values: np.ndarray) -> tuple[float, float]:
    """(cos, sin) of the frontal QRS axis from the net QRS amplitude (R + S) of leads I and aVF."""
    names = list(leads)
    if lead_values.shape[1] == 0 or "I" not in names:
        return math.nan, math.nan
    net = nanmedian(
        np.asarray(lead_values[..., LEAD["R_amp"]] + lead_values[..., LEAD["S_amp"]], dtype=float), axis=1
    )
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
