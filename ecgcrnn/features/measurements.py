"""The global measurements an interpretive electrocardiograph reports, from a window's delineation.

:func:`measure` gives, for one 10 s window, the rhythm (rate, RR statistics, premature beats, P waves, the
atrial rate, flutter waves, pacing), the intervals between the global fiducials (PR, P, QRS, QT and its
corrections, as medians over the dominant beats), the frontal P, QRS and T axes, and the amplitudes and
shapes read on every lead's representative complex (:mod:`ecgcrnn.features.morphology`), with the voltage
criteria' sums built on them. Names carry their units; :data:`MEASUREMENTS` and :data:`LEAD_MEASUREMENTS`
say what each is. A value the lead set cannot give (Sokolow-Lyon without V1, say) or the window cannot
(a PR interval in atrial fibrillation) is NaN; a window too noisy or flat to measure has ``measurable`` 0
and every other value NaN, except the quality figures that say why. :func:`combine_windows` makes one
record's measurements from its windows'. A recording of noise alone, with no ECG in it
(:func:`ecgcrnn.signal.preprocessing.noise_only`), has :func:`noise_only_measurements` in every window.

QTc formulas (Rautaharju et al., Circulation 2009;119:e241): Bazett QT/√RR, Fridericia QT/∛RR (RR in s)
and Framingham QT + 154 ms (1 - RR) (Sagie et al., Am J Cardiol 1992;70:797).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from ecgcrnn.delineation.qrs import pacing_spikes
from ecgcrnn.domain import FIDUCIALS, STANDARD_LEADS
from ecgcrnn.features import morphology
from ecgcrnn.features.settings import MeasurementConfig
from ecgcrnn.signal.arrays import nanmedian

MEASUREMENTS: tuple[tuple[str, str, str], ...] = (
    ("measurable", "1", "1 when the window could be measured, 0 when noise, too noisy, flat or beatless"),
    ("usable_leads", "1", "leads with beats detected; 0 in noise alone"),
    (
        "noise_mV",
        "mV",
        "white-noise level: median over leads of the robust SD of the 2nd difference / √6; in noise alone, "
        "the median over leads of the RMS",
    ),
    ("beats", "1", "beats detected; 0 in noise alone"),
    ("heart_rate_bpm", "1/min", "60 000 / mean RR (ms)"),
    ("RR_mean_ms", "ms", "mean RR interval"),
    ("RR_sd_ms", "ms", "standard deviation of the RR intervals"),
    ("RR_min_ms", "ms", "shortest RR interval"),
    ("RR_max_ms", "ms", "longest RR interval"),
    ("RR_range_ms", "ms", "longest minus shortest RR interval"),
    ("RR_irregularity", "1", "median |successive RR difference| / median RR (high in atrial fibrillation)"),
    ("premature_beats", "1", "beats whose RR is shorter than 85 % of the running median RR"),
    ("premature_wide_beats", "1", "premature beats with QRS >= 120 ms or >= 40 ms wider than the median"),
    ("premature_narrow_beats", "1", "the other premature beats"),
    ("P_presence", "1", "fraction of beats with a P wave (global P onset and offset)"),
    ("PR_sd_ms", "ms", "standard deviation of the beats' PR intervals"),
    ("atrial_rate_bpm", "1/min", "60 000 / median P-P interval, where P waves are regular"),
    ("flutter_rate_bpm", "1/min", "rate of the sharpest spectral peak at 220-360/min between QRS complexes"),
    ("flutter_regularity", "1", "fraction of the 2-15 Hz power at that peak and its harmonic, 0..1"),
    ("pacing_spikes", "1", "pacemaker spikes found"),
    ("paced_beats", "1", "fraction of beats with a spike 300 ms before to 30 ms after QRS onset"),
    ("PR_ms", "ms", "global P onset to global QRS onset, median over dominant beats"),
    ("P_duration_ms", "ms", "global P onset to offset"),
    ("QRS_ms", "ms", "global QRS onset to offset"),
    ("QT_ms", "ms", "global QRS onset to global T offset"),
    ("QTc_Bazett_ms", "ms", "QT / √(RR in s)"),
    ("QTc_Fridericia_ms", "ms", "QT / ∛(RR in s)"),
    ("QTc_Framingham_ms", "ms", "QT + 154 ms × (1 - RR in s)"),
    ("RR_ms", "ms", "median RR interval"),
    ("P_axis_deg", "deg", "frontal P axis from the limb leads' net P areas"),
    ("QRS_axis_deg", "deg", "frontal QRS axis from the limb leads' net QRS areas"),
    ("T_axis_deg", "deg", "frontal T axis from the limb leads' net T areas"),
    ("Sokolow_Lyon_mV", "mV", "S in V1 + the larger R of V5 and V6 (Sokolow and Lyon 1949)"),
    ("Cornell_mV", "mV", "R in aVL + S in V3 (Casale et al. 1985)"),
    ("limb_QRS_max_mV", "mV", "largest QRS peak-to-peak amplitude of the limb leads"),
    ("precordial_QRS_max_mV", "mV", "largest QRS peak-to-peak amplitude of V1-V6"),
    ("R_prime_V1V2", "1", "1 when V1 or V2 has a terminal R' (rsR', rSR')"),
    ("S_duration_I_V6_ms", "ms", "the longer S wave of I and V6"),
    (
        "notched_R_lateral",
        "1",
        "fraction of I, aVL, V5, V6 (those present) with a notched or slurred broad R",
    ),
    ("R_peak_time_V1V2_ms", "ms", "the later R-peak time of V1 and V2"),
    ("R_peak_time_V5V6_ms", "ms", "the later R-peak time of V5 and V6"),
)
"""Record measurements: (name, unit, meaning)."""
LEAD_MEASUREMENTS: tuple[tuple[str, str, str], ...] = (
    ("P_mV", "mV", "P wave's largest deviation from the isoelectric level, signed"),
    ("Q_mV", "mV", "Q wave (initial negative deflection; a QS complex's depth), <= 0"),
    ("Q_ms", "ms", "Q wave duration"),
    ("R_mV", "mV", "first positive deflection, >= 0"),
    ("R_prime_mV", "mV", "positive deflection after the S wave, >= 0 (0 when none)"),
    ("S_mV", "mV", "negative deflection after the R wave, <= 0"),
    ("S_ms", "ms", "S wave duration"),
    ("QRS_pp_mV", "mV", "QRS peak to peak"),
    ("QRS_net_mV", "mV", "largest positive plus largest negative QRS deflection"),
    ("R_peak_time_ms", "ms", "QRS onset to the peak of the last R wave (R' if present)"),
    ("notched_R", "1", "1 when the R wave is notched, or slurred and broad (50 ms above half its height)"),
    ("T_mV", "mV", "T wave's largest deviation from the isoelectric level, signed"),
    ("ST_J_mV", "mV", "level at the J point (global QRS offset)"),
    ("ST_J60_mV", "mV", "level 60 ms after the J point"),
)
"""Per-lead measurements, named ``"{lead}:{name}"`` for each of the 12 standard leads: (name, unit,
meaning), read on the lead's representative complex relative to the isoelectric level before QRS onset."""
COUNTS = ("beats", "premature_beats", "premature_wide_beats", "premature_narrow_beats", "pacing_spikes")
"""Measurements that :func:`combine_windows` takes the largest of (the others: the median)."""
_QUALITY = ("measurable", "usable_leads", "noise_mV", "beats")
NO_ECG = "no ECG found: noise, no QRS complexes common to the leads"
"""What a reading says of a recording of noise alone (:func:`noise_only_measurements`)."""


def measurement_names() -> list[str]:
    """Every measurement's name: the record measurements, then each standard lead's."""
    return list(_names())


@functools.cache
def _names() -> tuple[str, ...]:
    """:func:`measurement_names`, made once (every :class:`Measurements` goes through them)."""
    lead_names = [name for name, *_ in LEAD_MEASUREMENTS]
    return tuple(
        [name for name, *_ in MEASUREMENTS] + [f"{lead}:{n}" for lead in STANDARD_LEADS for n in lead_names]
    )


@functools.cache
def amplitude_names() -> frozenset[str]:
    """The measurements in millivolts; the noise level, a quality figure, is not among them."""
    units = {name: unit for name, unit, _ in MEASUREMENTS + LEAD_MEASUREMENTS}
    return frozenset(n for n in _names() if units[n.split(":")[-1]] == "mV" and n not in _QUALITY)


class Measurements(Mapping):
    """One window's (or record's) measurements: a read-only mapping of every name of
    :func:`measurement_names` to a float, NaN where not measured."""

    def __init__(self, values: Mapping[str, float]):
        self._values = {name: float(values.get(name, math.nan)) for name in _names()}
        unknown = set(values) - self._values.keys()
        if unknown:
            raise KeyError(f"unknown measurements {sorted(unknown)}")

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        shown = {k: round(v, 1) for k, v in self._values.items() if ":" not in k and math.isfinite(v)}
        return f"Measurements({shown})"

    @property
    def measurable(self) -> bool:
        """Whether the window could be measured."""
        return self._values["measurable"] == 1.0

    @property
    def noise_only(self) -> bool:
        """Whether these are :func:`noise_only_measurements`: a recording of noise alone."""
        return bool(noise_only_rows(*self.vector()))

    def without_amplitudes(self) -> Measurements:
        """These measurements with every amplitude NaN (:func:`amplitude_names`): those of leads rescaled to
        one range (:func:`ecgcrnn.signal.preprocessing.leads_rescaled`), whose intervals, rhythm and shapes
        stand but whose millivolts do not. The frontal axes stay: a lead rescaled by a positive factor keeps
        the sign of each wave, and so the axis its quadrant, though not its exact angle."""
        hidden = amplitude_names()
        return Measurements({k: math.nan if k in hidden else v for k, v in self._values.items()})

    def vector(self) -> tuple[np.ndarray, np.ndarray]:
        """The values in :func:`measurement_names` order (float32, NaN as 0) and the mask (1 = measured)."""
        values = np.array(list(self._values.values()), dtype=np.float64)
        mask = np.isfinite(values)
        return np.where(mask, values, 0.0).astype(np.float32), mask.astype(np.float32)


def measure(
    signal: np.ndarray, fs: float, leads, delineation, config: MeasurementConfig = MeasurementConfig()
):
    """The global measurements of one preprocessed window.

    Parameters
    ----------
    signal : numpy.ndarray
        Millivolts, shape (len(leads), samples), filtered (:func:`ecgcrnn.signal.preprocessing.preprocess`).
    fs : float
        Sampling rate in Hz.
    leads : sequence of str
        Standard lead names of the rows.
    delineation : Delineation
        :func:`ecgcrnn.delineation.delineate.delineate_record` of ``signal``: per-lead and global fiducials.
    config : MeasurementConfig

    Returns
    -------
    Measurements
    """
    fid = delineation.global_fiducials
    r = nanmedian(np.asarray(delineation.per_lead["R"], dtype=np.float64), axis=0)
    keep = np.isfinite(r)
    r = r[keep]
    fid = {key: np.asarray(value, dtype=np.float64)[keep] for key, value in fid.items()}
    values = _quality(signal, delineation.per_lead, r, fid, config)
    if not values["measurable"]:
        return Measurements(values)
    ms = 1000.0 / fs
    rr = np.diff(r) * ms
    values.update(_rhythm(rr))
    qrs = (fid["QRS_off"] - fid["QRS_on"]) * ms
    premature, wide, aberrant = _premature(rr, qrs, config)
    values["premature_beats"] = float(premature.sum())
    values["premature_wide_beats"] = float((premature & wide).sum())
    values["premature_narrow_beats"] = float((premature & ~wide).sum())
    dominant = ~premature & ~aberrant
    dominant = dominant if dominant.any() else np.ones(r.size, bool)
    values.update(_intervals(fid, dominant, values["RR_ms"], ms, config))
    values.update(_atrial(fid, signal, fs, config))
    values.update(_pacing(signal, fid, fs, config))
    values.update(_morphology(signal, leads, r[dominant], fid, dominant, fs, config))
    return Measurements(values)


def noise_only_measurements(signal: np.ndarray) -> Measurements:
    """The measurements of a recording of noise alone (:func:`ecgcrnn.signal.preprocessing.noise_only`):
    not measurable, no lead with beats and no beats, and as its noise level the median over the leads with
    a signal of their RMS, since all of it is noise; every other value NaN. No other window has a noise
    level without a lead with beats (:func:`noise_only_rows`).

    Parameters
    ----------
    signal : numpy.ndarray
        Millivolts, shape (leads, samples), filtered: the whole preprocessed recording.
    """
    rms = np.sqrt(np.mean(np.square(np.asarray(signal, dtype=np.float64)), axis=1))
    noise = float(np.median(rms[rms > 0])) if (rms > 0).any() else math.nan
    return Measurements({"measurable": 0.0, "usable_leads": 0.0, "noise_mV": noise, "beats": 0.0})


def noise_only_rows(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Which measurement vectors (:meth:`Measurements.vector`' values and mask, shape (..., names)) are
    :func:`noise_only_measurements`': not measurable and no lead with beats, yet a noise level measured (a
    flat recording has none); bool, shape (...)."""
    names = _names()
    measurable, usable, noise = (names.index(name) for name in ("measurable", "usable_leads", "noise_mV"))
    values, mask = np.asarray(values), np.asarray(mask)
    return (
        (mask[..., measurable] == 1) & (values[..., measurable] == 0)
        & (mask[..., usable] == 1) & (values[..., usable] == 0) & (mask[..., noise] == 1)
    )  # fmt: skip


def combine_windows(windows: Sequence[Measurements]) -> Measurements:
    """One record's measurements from its windows': the median over the measurable windows, the largest for
    the :data:`COUNTS`; the first window's quality figures when none is measurable."""
    usable = [w for w in windows if w.measurable]
    if not usable:
        return windows[0] if windows else Measurements({"measurable": 0.0})
    if len(usable) == 1:
        return usable[0]
    table = np.array([[w[name] for name in measurement_names()] for w in usable])
    combined = dict(zip(measurement_names(), nanmedian(np.asarray(table, dtype=float), axis=0), strict=True))
    for name in COUNTS:
        column = table[:, measurement_names().index(name)]
        combined[name] = float(column[np.isfinite(column)].max()) if np.isfinite(column).any() else math.nan
    return Measurements(combined)


def _quality(signal, per_lead, r, fid, config: MeasurementConfig) -> dict:
    """``measurable``, ``usable_leads``, ``noise_mV`` and ``beats``.

    The noise is estimated from the second difference of every fourth sample pair: white noise of SD σ
    gives a second difference of SD σ√6, while the ECG's own curvature is large only in the QRS complexes,
    which a median ignores.
    """
    usable = np.isfinite(np.asarray(per_lead["R"], dtype=np.float64)).any(axis=1)
    noise = math.nan
    if usable.any() and signal.shape[1] >= 3:
        n = signal.shape[1]  # second differences centred on samples 1, 5, 9, ... n - 2
        second = (signal[:, 2:n:4] - 2 * signal[:, 1 : n - 1 : 4] + signal[:, : n - 2 : 4])[usable]
        noise = float(nanmedian(1.4826 * nanmedian(np.abs(second))) / math.sqrt(6))
    found = np.isfinite(fid["QRS_on"]) & np.isfinite(fid["QRS_off"])
    measurable = (
        r.size >= 2 and math.isfinite(noise) and noise <= config.max_noise_mv
        and found.mean() >= config.min_qrs_found
    )  # fmt: skip
    return {"measurable": float(measurable), "usable_leads": float(usable.sum()), "noise_mV": noise,
            "beats": float(r.size)}  # fmt: skip


def _rhythm(rr: np.ndarray) -> dict:
    """Rate and RR statistics (ms) from the RR intervals."""
    median = float(np.median(rr))
    out = {
        "heart_rate_bpm": 60000.0 / float(np.mean(rr)),
        "RR_mean_ms": float(np.mean(rr)),
        "RR_sd_ms": float(np.std(rr)),
        "RR_min_ms": float(rr.min()),
        "RR_max_ms": float(rr.max()),
        "RR_range_ms": float(rr.max() - rr.min()),
        "RR_ms": median,
    }
    if rr.size >= 2:
        out["RR_irregularity"] = float(np.median(np.abs(np.diff(rr)))) / median
    return out


def _premature(rr: np.ndarray, qrs_ms: np.ndarray, config: MeasurementConfig):
    """Per beat: premature (RR before it under a fraction of the running median), wide (QRS >= 120 ms or
    much wider than the median beat's) and aberrant (much wider than the median beat's)."""
    n = rr.size + 1
    premature = np.zeros(n, bool)
    if rr.size >= 3:
        half = config.running_beats // 2
        padded = np.pad(rr, half, mode="edge")
        running = np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=1)
        premature[1:] = rr < config.premature_fraction * running
    with np.errstate(invalid="ignore"):
        aberrant = qrs_ms >= nanmedian(np.asarray(qrs_ms, dtype=float)) + config.wider_than_median_s * 1000
        wide = aberrant | (qrs_ms >= config.wide_qrs_s * 1000)
    return premature, wide, aberrant


def _intervals(fid, dominant, rr_ms: float, ms: float, config: MeasurementConfig) -> dict:
    """PR, P duration, QRS, QT: medians over the dominant beats of the plausible values; QTc."""
    spans = {
        "PR": fid["QRS_on"] - fid["P_on"],
        "P_duration": fid["P_off"] - fid["P_on"],
        "QRS": fid["QRS_off"] - fid["QRS_on"],
        "QT": fid["T_off"] - fid["QRS_on"],
    }
    out = {}
    for name, low, high in config.plausible_ms:
        value = spans[name][dominant] * ms
        with np.errstate(invalid="ignore"):
            value = value[(value >= low) & (value <= high)]
        out[f"{name}_ms"] = float(np.median(value)) if value.size else math.nan
    pr = spans["PR"][dominant] * ms
    pr = pr[np.isfinite(pr)]
    out["PR_sd_ms"] = float(np.std(pr)) if pr.size >= 2 else math.nan
    qt, rr_s = out["QT_ms"], rr_ms / 1000.0
    out["QTc_Bazett_ms"] = qt / math.sqrt(rr_s)
    out["QTc_Fridericia_ms"] = qt / rr_s ** (1 / 3)
    out["QTc_Framingham_ms"] = qt + 154.0 * (1.0 - rr_s)
    return out


def _atrial(fid, signal, fs: float, config: MeasurementConfig) -> dict:
    """P-wave presence, the atrial rate of regular P waves, and flutter waves' rate and regularity."""
    has_p = np.isfinite(fid["P_on"]) & np.isfinite(fid["P_off"])
    out = {"P_presence": float(has_p.mean())}
    p = fid["P_peak"][np.isfinite(fid["P_peak"])]
    pp = np.diff(p) * 1000.0 / fs
    if out["P_presence"] >= 0.5 and pp.size >= 2 and np.std(pp) <= 0.15 * np.mean(pp):
        out["atrial_rate_bpm"] = 60000.0 / float(np.median(pp))
    rate, regularity = _flutter(signal, fid, fs, config)
    out["flutter_rate_bpm"], out["flutter_regularity"] = rate, regularity
    return out


def _flutter(signal, fid, fs: float, config: MeasurementConfig) -> tuple[float, float]:
    """Rate and regularity of flutter waves: the sharpest spectral peak at flutter rates between the QRS
    complexes.

    The signal, averaged to about 125 Hz (F waves lie below 6 Hz), has every QRS (global onset to offset,
    20 ms more each side) bridged by a straight line; of the power spectrum of its first difference summed
    over leads (10 s: 0.1 Hz resolution), the peak at the rates of ``config.flutter_rate_bpm`` is the
    flutter rate, and the fraction of the 2-15 Hz power within 0.3 Hz of it or of its harmonic the
    regularity: regular F waves, a sawtooth at one rate, put much of the power there; P and T waves, slow and
    apart, and fibrillation, spread over many rates, little.
    """
    step = max(round(fs / 125.0), 1)
    rate_hz = fs / step
    m = signal.shape[1] // step
    if m < 64:
        return math.nan, 0.0
    blocks = signal[:, : m * step].reshape(signal.shape[0], m, step)
    if step < 8:  # numpy's mean (its pairwise sums add under eight values in order) at a tenth of the cost
        y = blocks[..., 0]
        for k in range(1, step):
            y = y + blocks[..., k]
        y = y / step
    else:
        y = blocks.mean(axis=2)
    y = _bridge(y, fid, step, round(0.02 * fs), m)
    d = np.diff(y, axis=1) * np.hanning(m - 1)
    size = 1 << (m - 1).bit_length()  # 10 s: 2048 points, 0.06 Hz apart
    power = np.sum(np.abs(np.fft.rfft(d, size, axis=1)) ** 2, axis=0)
    freq = np.fft.rfftfreq(size, 1.0 / rate_hz)
    low, high = (rate / 60.0 for rate in config.flutter_rate_bpm)
    band = np.flatnonzero((freq >= low) & (freq <= high))
    total = power[(freq >= 2.0) & (freq <= 15.0)].sum()
    if band.size == 0 or total <= 0:
        return math.nan, 0.0
    peak = freq[band[np.argmax(power[band])]]
    near = (np.abs(freq - peak) <= 0.3) | (np.abs(freq - 2 * peak) <= 0.3)
    return 60.0 * peak, float(power[near].sum() / total)


def _bridge(y: np.ndarray, fid, step: int, pad: int, m: int) -> np.ndarray:
    """``y`` (leads, m samples, each ``step`` input samples) with every QRS replaced by a straight line."""
    on, off = fid["QRS_on"], fid["QRS_off"]
    found = np.isfinite(on) & np.isfinite(off)
    first = np.clip(np.floor((on[found] - pad) / step), 0, m - 1).astype(np.int64)
    last = np.clip(np.ceil((off[found] + pad) / step), 0, m - 1).astype(np.int64)
    marks = np.zeros(m + 1)
    np.add.at(marks, first, 1)
    np.add.at(marks, last + 1, -1)
    inside = np.cumsum(marks)[:m] > 0
    kept = np.flatnonzero(~inside)
    if kept.size < 2 or not inside.any():
        return y
    where = np.flatnonzero(inside)
    right = np.clip(np.searchsorted(kept, where), 1, kept.size - 1)
    left = right - 1
    weight = np.clip((where - kept[left]) / (kept[right] - kept[left]), 0.0, 1.0)
    y = y.copy()
    y[:, where] = y[:, kept[left]] * (1 - weight) + y[:, kept[right]] * weight
    return y


def _pacing(signal: np.ndarray, fid, fs: float, config: MeasurementConfig) -> dict:
    """Pacemaker spikes, and the fraction of beats whose QRS follows one.

    A stimulus artefact is a bend sharper than any QRS's in every lead at once: the second difference,
    in units of each lead's 99th percentile of the absolute first difference (its steepest QRS slopes),
    is above ``config.pace_z`` in more than half the leads: the delineator's test
    (:func:`ecgcrnn.delineation.qrs.pacing_spikes`) on every lead. After the 500 Hz band-pass a spike of
    0.5 ms is spread over a few samples, so the threshold sits lower than on a raw recording; each run of
    such samples counts as one spike.
    """
    marked = pacing_spikes(signal, np.ones(signal.shape[0], dtype=bool), config.pace_z)
    spikes = np.flatnonzero(marked[1:] & ~marked[:-1]) + 1.0
    out = {"pacing_spikes": float(spikes.size), "paced_beats": 0.0}
    on = fid["QRS_on"]
    if spikes.size and on.size:
        before, after = (s * fs for s in config.pace_window_s)
        gap = on[:, None] - spikes[None, :]
        with np.errstate(invalid="ignore"):
            out["paced_beats"] = float(((gap <= before) & (gap >= -after)).any(axis=1).mean())
    return out


def _morphology(signal, leads, r_dominant, fid, dominant, fs: float, config: MeasurementConfig) -> dict:
    """Per-lead waves on the representative complexes, the frontal axes and the voltage and shape sums."""
    rows = morphology.limb_leads(signal, leads)
    names = list(rows)
    complexes, r_index = morphology.median_complexes(np.stack(list(rows.values())), r_dominant, fs, config)
    relative = nanmedian(
        np.asarray(np.stack([fid[key][dominant] for key in FIDUCIALS]) - r_dominant, dtype=float), axis=1
    )
    at = {key: float(value) + r_index for key, value in zip(FIDUCIALS, relative, strict=True)}
    waves = morphology.read_complexes(complexes, at, fs, config)
    columns = {key: values.tolist() for key, values in waves.items()}
    per_lead = {name: {key: column[k] for key, column in columns.items()} for k, name in enumerate(names)}
    out = {f"{name}:{key}": value for name, lead in per_lead.items() for key, value in lead.items()}
    areas = morphology.wave_areas(complexes, at)
    for wave in ("P", "QRS", "T"):
        out[f"{wave}_axis_deg"] = morphology.frontal_axis(dict(zip(names, areas[wave].tolist(), strict=True)))
    out.update(_sums(per_lead))
    return out


def _sums(per_lead: dict) -> dict:
    """Voltage criteria's sums and the shape markers that combine leads (NaN where a lead is missing)."""

    def get(lead: str, key: str) -> float:
        return per_lead.get(lead, {}).get(key, math.nan)

    def largest(values) -> float:
        values = [v for v in values if math.isfinite(v)]
        return max(values) if values else math.nan

    out = {
        "Sokolow_Lyon_mV": -get("V1", "S_mV") + largest([get("V5", "R_mV"), get("V6", "R_mV")]),
        "Cornell_mV": get("aVL", "R_mV") - get("V3", "S_mV"),
        "limb_QRS_max_mV": largest(get(lead, "QRS_pp_mV") for lead in morphology.LIMB_LEADS),
        "precordial_QRS_max_mV": largest(get(f"V{k}", "QRS_pp_mV") for k in range(1, 7)),
        "R_prime_V1V2": largest(
            float(get(lead, "R_prime_mV") > 0) if math.isfinite(get(lead, "R_prime_mV")) else math.nan
            for lead in ("V1", "V2")
        ),  # fmt: skip
        "S_duration_I_V6_ms": largest([get("I", "S_ms"), get("V6", "S_ms")]),
        "R_peak_time_V1V2_ms": largest([get("V1", "R_peak_time_ms"), get("V2", "R_peak_time_ms")]),
        "R_peak_time_V5V6_ms": largest([get("V5", "R_peak_time_ms"), get("V6", "R_peak_time_ms")]),
    }
    lateral = [get(lead, "notched_R") for lead in ("I", "aVL", "V5", "V6")]
    lateral = [v for v in lateral if math.isfinite(v)]
    out["notched_R_lateral"] = float(np.mean(lateral)) if lateral else math.nan
    return out
