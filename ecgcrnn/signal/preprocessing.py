"""From a recording as stored to the network's input: millivolts, 500 Hz, filtered, 10 s windows.

:func:`preprocess` is the one function that training and ``run_model`` both call; :func:`windows` cuts its
result into the fixed-length windows the network reads, covering the whole recording. :func:`noise_only`
judges a preprocessed recording to hold noise and no ECG, as an electrocardiograph refuses to interpret a
recording in which it finds no QRS complexes.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy import signal as sps
from scipy.ndimage import uniform_filter1d

from ecgcrnn.domain import canonical_lead
from ecgcrnn.io.records import Header, as_header, to_millivolts

INDEPENDENT_LEADS = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")
"""The leads an electrocardiograph records; III, aVR, aVL and aVF are computed from I and II, so that they
rise and fall with them is arithmetic, not evidence of a heart."""
_ENERGY_S = 0.05  # the QRS-band energy is averaged over about one QRS complex
_ENERGY_STEP_S = 0.01  # and kept every 10 ms
_EDGE_S = 0.5  # left out at either end, where the filters settle
_FLOOR_DB = 20.0  # below each lead's median log energy: flat stretches and deep fades count no lower
_MIN_COINCIDENCE_S = 2.0  # shorter recordings are not judged
_FLAT_MV = 1e-3  # a lead spanning less than this (one step of the Challenge's 1 µV ADC units) is flat


@dataclass(frozen=True)
class PreprocessConfig:
    """Settings of the signal pipeline.

    Attributes
    ----------
    fs_hz : float
        Sampling rate every recording is resampled to.
    window_s : float
        Length of one network input window; shorter recordings are zero-padded at the end.
    bandpass_hz : tuple of float
        Pass band of the zero-phase Butterworth filter: the low edge removes baseline wander, the high edge
        high-frequency noise.
    bandpass_order : int
        Order of each Butterworth section before zero-phase doubling.
    notch_hz : tuple of float
        Powerline frequencies suppressed by zero-phase notch filters (both 50 and 60 Hz: sources differ).
    notch_quality : float
        Quality factor of the notches (centre frequency over -3 dB bandwidth).
    qrs_band_hz : tuple of float
        The band whose energy :func:`qrs_coincidence` follows in each lead: the QRS complexes' (P and T
        waves and baseline wander lie below it, most muscle noise above).
    min_qrs_coincidence : float
        A recording whose :func:`qrs_coincidence` is below this holds noise and no ECG (:func:`noise_only`):
        between the most that 10 s of noise gives and the least that a real ECG gives (0.34 and 0.51).
    """

    fs_hz: float = 500.0
    window_s: float = 10.0
    bandpass_hz: tuple[float, float] = (0.5, 100.0)
    bandpass_order: int = 2
    notch_hz: tuple[float, ...] = (50.0, 60.0)
    notch_quality: float = 30.0
    qrs_band_hz: tuple[float, float] = (10.0, 40.0)
    min_qrs_coincidence: float = 0.4

    @property
    def window_samples(self) -> int:
        return round(self.window_s * self.fs_hz)


@dataclass(frozen=True)
class Preprocessed:
    """A recording ready for the network.

    Attributes
    ----------
    signal : numpy.ndarray
        float32 millivolts, shape (leads, samples) at ``fs_hz``, filtered, finite everywhere.
    fs_hz : float
    repaired : numpy.ndarray
        float32, shape (leads,): the fraction of each lead's samples that were missing (NaN or WFDB's
        invalid value) and were interpolated; 1.0 for a lead that was missing entirely (now zeros).
    rescaled : bool
        Whether the recording's leads, every lead of its header and not only those wanted, were each
        rescaled to one range (:func:`leads_rescaled`): amplitudes that say nothing in millivolts.
    """

    signal: np.ndarray
    fs_hz: float
    repaired: np.ndarray
    rescaled: bool


def preprocess(
    header: str | Header, recording: np.ndarray, leads, config: PreprocessConfig = PreprocessConfig()
) -> Preprocessed:
    """Turn one recording into filtered 500 Hz millivolts in the order of ``leads``.

    Parameters
    ----------
    header : str or Header
        The record's header text (gains, baselines, sampling rate, lead names in file order).
    recording : numpy.ndarray
        The matrix as stored, shape (header leads, samples), ADC units.
    leads : sequence of str
        The leads wanted, in the wanted order (any case).
    config : PreprocessConfig

    Returns
    -------
    Preprocessed
        ``signal`` has shape (len(leads), round(samples * config.fs_hz / header fs)).
    """
    header = as_header(header)
    rows = header.lead_indices(leads)
    every = to_millivolts(header, recording)  # every lead: leads_rescaled judges them all
    mv, repaired = repair_missing(every[rows])
    mv = resample(mv, header.fs_hz, config.fs_hz)
    return Preprocessed(filter_signal(mv, config), config.fs_hz, repaired, leads_rescaled(every))


def leads_rescaled(millivolts: np.ndarray) -> bool:
    """Whether every lead of a recording spans the same range in millivolts (to 1 part in 10,000; three
    leads or more, none flat): the mark of leads each rescaled to a fixed range, whose amplitudes no longer
    say how large the heart's potentials were, nor how they compare between leads. Recorded leads differ in
    range (each sees the heart from another angle); LUDB's copy in the Challenge's format beside this
    repository has every lead at exactly 1 mV peak to peak. Two leads are not enough to tell: in the
    Challenge records at hand, 10 of 11,286 pairs of leads span the same range by chance (integer ADC
    units at 1,000 per mV).

    Parameters
    ----------
    millivolts : numpy.ndarray
        Every lead of the recording as :func:`ecgcrnn.io.records.to_millivolts` gives them (before any
        repair or filter), shape (header leads, samples).
    """
    leads, samples = millivolts.shape
    if leads < 3 or samples < 2 or not np.isfinite(millivolts).any(axis=1).all():
        return False
    span = np.nanmax(millivolts, axis=1) - np.nanmin(millivolts, axis=1)
    return bool(span.min() > 0 and span.max() - span.min() <= 1e-4 * span.max())


def noise_only(signal: np.ndarray, leads, config: PreprocessConfig = PreprocessConfig()) -> bool:
    """Whether a preprocessed recording holds noise and no ECG: its leads carry a signal, but their QRS-band
    energy does not rise and fall together (:func:`qrs_coincidence` under ``config.min_qrs_coincidence``).

    Every QRS complex reaches all the leads at once, since each lead sees the same heart from another
    angle; an electrocardiograph finds the complexes where the leads agree, and refuses to interpret a
    recording in which it finds none. Noise rises and falls in each lead on its own, at any amplitude and
    of any colour. Measured with the defaults: independent Gaussian noise in every lead (white, low-pass
    filtered at 5, 15 or 40 Hz, or with baseline wander; 10 s at 500 or 257 Hz; 300 recordings per lead set
    and rate) gives 0.00 ± 0.09 (at most 0.34) on leads I and II and 0.11 ± 0.04 (at most 0.25) on the eight
    independent leads; 5 s of it spread further (± 0.13 on I and II, at most 0.43, so that about one such
    recording in a thousand is not judged noise-only). Noise drawn per electrode, the leads derived from
    the electrodes as an electrocardiograph derives them (I and II share the right arm's), gives 0.21 ± 0.07
    on I and II (at most 0.35). The 371 real records beside this repository (Challenge and LUDB: noisy,
    paced, fibrillating, low voltage, ventricular tachycardia) give 0.51 and more on leads I and II, 0.70 on
    I, II and V2 and 0.81 on the twelve leads.

    A flat recording, or one with a signal in fewer than two of :data:`INDEPENDENT_LEADS`, or shorter
    than 2 s, cannot be judged so: False.

    Parameters
    ----------
    signal : numpy.ndarray
        Millivolts, shape (len(leads), samples) at ``config.fs_hz``, filtered (:func:`preprocess`).
    leads : sequence of str
        The leads of the rows (any case).
    config : PreprocessConfig
    """
    coincidence = qrs_coincidence(signal, leads, config.fs_hz, config.qrs_band_hz)
    return bool(coincidence < config.min_qrs_coincidence)  # NaN, not judged: False


def qrs_coincidence(signal: np.ndarray, leads, fs_hz: float, band_hz=(10.0, 40.0)) -> float:
    """How closely the leads' QRS-band energy rises and falls together, in [-1, 1]: the median over the
    leads of each lead's best agreement with another; NaN where fewer than two of :data:`INDEPENDENT_LEADS`
    carry a signal (span 1 µV or more) or the recording is shorter than 2 s.

    Each independent lead is band-passed to ``band_hz`` (second-order Butterworth, zero phase), squared
    and averaged over 50 ms, about one QRS complex; the log of that energy, floored 20 dB below its median
    so that a flat stretch or a deep fade of noise does not outweigh the rest, is kept every 10 ms but for
    0.5 s at either end. A lead's agreement with another is the Pearson correlation of their log energies;
    the median over leads of the best one asks most leads to rise and fall with at least one other, so
    that a lead off or a lead of noise does not hide the ECG of the others. The log makes it independent
    of each lead's amplitude.

    Parameters
    ----------
    signal : numpy.ndarray
        Millivolts, shape (len(leads), samples) at ``fs_hz``, filtered (:func:`preprocess`).
    leads : sequence of str
        The leads of the rows (any case).
    fs_hz : float
    band_hz : tuple of float, default (10.0, 40.0)
    """
    rows = [row for row, lead in enumerate(leads) if canonical_lead(lead) in INDEPENDENT_LEADS]
    edge, step = round(_EDGE_S * fs_hz), max(round(_ENERGY_STEP_S * fs_hz), 1)
    x = np.asarray(signal, dtype=np.float64)[rows]
    if x.shape[1] < _MIN_COINCIDENCE_S * fs_hz:
        return math.nan
    x = x[np.ptp(x[:, edge:-edge], axis=1) >= _FLAT_MV]
    if len(x) < 2:
        return math.nan
    band = sps.sosfiltfilt(_band_sections(fs_hz, tuple(band_hz)), x, axis=-1)
    energy = uniform_filter1d(band**2, max(round(_ENERGY_S * fs_hz), 1), axis=-1)[:, edge:-edge:step]
    log_energy = np.log(np.maximum(energy, 1e-30))
    floor = np.median(log_energy, axis=1, keepdims=True) - _FLOOR_DB / 10 * math.log(10)
    with np.errstate(invalid="ignore", divide="ignore"):  # a lead constant after the floor: no agreement
        agreement = np.nan_to_num(np.corrcoef(np.maximum(log_energy, floor)), nan=0.0)
    np.fill_diagonal(agreement, -np.inf)
    return float(np.median(agreement.max(axis=1)))


def repair_missing(signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Replace non-finite samples by linear interpolation between their finite neighbours.

    Parameters
    ----------
    signal : numpy.ndarray
        Shape (leads, samples).

    Returns
    -------
    (repaired_signal, fraction) : float32 array of the same shape (a lead with no finite sample becomes
    zeros), and float32 array of shape (leads,) with the fraction of samples that were replaced.
    """
    signal = np.asarray(signal, dtype=np.float32)
    missing = ~np.isfinite(signal)
    fraction = (
        missing.mean(axis=1, dtype=np.float32) if signal.shape[1] else np.zeros(len(signal), np.float32)
    )
    if not missing.any():
        return signal, fraction
    signal = signal.copy()
    positions = np.arange(signal.shape[1])
    for lead in np.flatnonzero(missing.any(axis=1)):
        good = ~missing[lead]
        if good.any():
            signal[lead, ~good] = np.interp(positions[~good], positions[good], signal[lead, good])
        else:
            signal[lead] = 0.0
    return signal, fraction


def resample(signal: np.ndarray, fs_hz: float, target_hz: float) -> np.ndarray:
    """Polyphase resampling along the last axis (anti-aliased), float32 out.

    The ratio ``target_hz / fs_hz`` is taken as the nearest fraction with a denominator up to 1,000, so
    257 Hz becomes 500/257 exactly and 360 Hz becomes 25/18.
    """
    signal = np.asarray(signal, dtype=np.float32)
    if fs_hz == target_hz or signal.shape[-1] == 0:
        return signal
    ratio = resampling_ratio(fs_hz, target_hz)
    out = sps.resample_poly(signal, ratio.numerator, ratio.denominator, axis=-1)
    return out.astype(np.float32, copy=False)


def resampled_length(samples: int, fs_hz: float, target_hz: float) -> int:
    """The number of samples :func:`resample` gives for ``samples`` at ``fs_hz``."""
    if fs_hz == target_hz or samples == 0:
        return samples
    ratio = resampling_ratio(fs_hz, target_hz)
    return -(-samples * ratio.numerator // ratio.denominator)


def resampling_ratio(fs_hz: float, target_hz: float, max_denominator: int = 1000) -> Fraction:
    """``target_hz / fs_hz`` as the nearest fraction up / down with ``down <= max_denominator`` (never 0).

    With the default, 257 Hz to 500 Hz is 500/257 exactly and 360 Hz is 25/18; the delineator asks for a
    smaller denominator, which keeps the polyphase filter to its internal rate short.
    """
    ratio = Fraction(target_hz / fs_hz).limit_denominator(max_denominator)
    return ratio if ratio.numerator else Fraction(1, max_denominator)


def filter_signal(signal: np.ndarray, config: PreprocessConfig = PreprocessConfig()) -> np.ndarray:
    """Zero-phase band-pass and powerline notches along the last axis, float32 out.

    The ends are extended by up to one second of odd reflection so that the slow high-pass and the sharp
    notches settle before the data starts. Signals shorter than 0.1 s are only mean-centred.
    """
    signal = np.asarray(signal, dtype=np.float32)
    samples = signal.shape[-1]
    if samples < 0.1 * config.fs_hz:
        return signal - signal.mean(axis=-1, keepdims=True) if samples else signal
    padding = min(samples - 1, round(config.fs_hz))
    out = sps.sosfiltfilt(_filter_sections(config), signal, axis=-1, padlen=padding)
    return out.astype(np.float32, copy=False)


def windows(signal: np.ndarray, config: PreprocessConfig = PreprocessConfig()) -> np.ndarray:
    """Cut a preprocessed signal into windows of ``config.window_s`` that together cover all of it.

    A signal no longer than one window gives one window, zero-padded at the end. A longer one gives
    ceil(samples / window) windows, evenly spaced from the first sample to the last (they overlap where
    the length is not a multiple of the window), so no part of the recording is left out.

    Parameters
    ----------
    signal : numpy.ndarray
        Shape (leads, samples).

    Returns
    -------
    numpy.ndarray
        float32, shape (windows, leads, window samples).
    """
    signal = np.asarray(signal, dtype=np.float32)
    size = config.window_samples
    leads, samples = signal.shape
    if samples <= size:
        out = np.zeros((1, leads, size), np.float32)
        out[0, :, :samples] = signal
        return out
    starts = window_starts(samples, size)
    return np.stack([signal[:, start : start + size] for start in starts])


def window_starts(samples: int, size: int) -> np.ndarray:
    """First sample of each of the ceil(samples / size) evenly spaced windows covering ``samples``."""
    count = max(math.ceil(samples / size), 1)
    if count == 1:
        return np.zeros(1, dtype=np.int64)
    return np.round(np.linspace(0, samples - size, count)).astype(np.int64)


@functools.lru_cache(maxsize=8)
def _band_sections(fs_hz: float, band_hz: tuple[float, float]) -> np.ndarray:
    """:func:`qrs_coincidence`'s band-pass, second-order Butterworth, designed once per rate (its design
    took a third of that function's time)."""
    return sps.butter(2, band_hz, "bandpass", fs=fs_hz, output="sos")


@functools.lru_cache(maxsize=8)
def _filter_sections(config: PreprocessConfig) -> np.ndarray:
    nyquist = config.fs_hz / 2
    low, high = config.bandpass_hz
    sections = [sps.butter(config.bandpass_order, low, "highpass", fs=config.fs_hz, output="sos")]
    if high < nyquist:
        sections.append(sps.butter(config.bandpass_order, high, "lowpass", fs=config.fs_hz, output="sos"))
    for frequency in config.notch_hz:
        if frequency < nyquist:
            b, a = sps.iirnotch(frequency, config.notch_quality, fs=config.fs_hz)
            sections.append(sps.tf2sos(b, a))
    return np.concatenate(sections)
