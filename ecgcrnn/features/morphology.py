"""The representative beat of every lead and what an electrocardiograph reads on it.

Interpretive electrocardiographs measure amplitudes and wave shapes on one representative complex per lead,
the sample-by-sample median of the record's dominant beats aligned on their R peaks, with common (global)
boundaries for all leads, as the CSE study recommended (Willems et al., Circulation 1985;71:523). That is
what this module does: :func:`median_complexes` builds the complexes, :func:`read_complexes` reads each lead's
Q, R, R' and S waves, its R-peak time, a notched or slurred R, the P and T amplitudes and the ST levels, and
:func:`frontal_axis` turns the net areas of the limb leads into a frontal-plane axis.

The frontal leads are lines of the hexaxial reference system: lead I at 0°, II at 60°, III at 120°, aVF at
90°, aVL at -30° and aVR at -150°. Einthoven's law (II = I + III) and Goldberger's definitions (aVR =
-(I + II)/2, aVL = I - II/2, aVF = II - I/2) make the augmented leads the heart vector's projections scaled
by √3/2; :func:`limb_leads` derives the limb leads a lead set lacks from any two of I, II and III.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ecgcrnn.domain import STANDARD_LEADS
from ecgcrnn.features.settings import MeasurementConfig
from ecgcrnn.signal.arrays import nanmedian

LIMB_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF")
LEAD_DIRECTIONS = {  # lead: (angle in the hexaxial system, degrees; length of the lead vector)
    "I": (0.0, 1.0),
    "II": (60.0, 1.0),
    "III": (120.0, 1.0),
    "aVR": (-150.0, math.sqrt(3) / 2),
    "aVL": (-30.0, math.sqrt(3) / 2),
    "aVF": (90.0, math.sqrt(3) / 2),
}
_FROM_I_II = {  # limb lead as (weight of I, weight of II)
    "I": (1.0, 0.0),
    "II": (0.0, 1.0),
    "III": (-1.0, 1.0),
    "aVR": (-0.5, -0.5),
    "aVL": (1.0, -0.5),
    "aVF": (-0.5, 1.0),
}
WAVE_NAMES = ("Q_mV", "Q_ms", "R_mV", "R_prime_mV", "S_mV", "S_ms", "QRS_pp_mV", "QRS_net_mV")
WAVE_NAMES += ("R_peak_time_ms", "notched_R", "P_mV", "T_mV", "ST_J_mV", "ST_J60_mV")
_NETWORK_BEATS = 16
"""Most beats :func:`median_complexes` sorts with compare-exchanges rather than numpy's sort."""


def limb_leads(signal: np.ndarray, leads) -> dict[str, np.ndarray]:
    """Every standard lead the recording has or implies: its own leads, and the limb leads it lacks from any
    two of I, II and III (Einthoven's law and Goldberger's definitions).

    Parameters
    ----------
    signal : numpy.ndarray
        Shape (len(leads), samples), millivolts.
    leads : sequence of str
        Standard lead names of the rows.

    Returns
    -------
    dict of str to numpy.ndarray
        Lead name to its samples (views of ``signal`` for the recorded leads), in :data:`STANDARD_LEADS`
        order.
    """
    rows = {lead: signal[index] for index, lead in enumerate(leads)}
    if "I" not in rows or "II" not in rows:
        if "III" in rows and "I" in rows:
            rows_i, rows_ii = rows["I"], rows["I"] + rows["III"]
        elif "III" in rows and "II" in rows:
            rows_i, rows_ii = rows["II"] - rows["III"], rows["II"]
        else:
            rows_i = rows_ii = None
    else:
        rows_i, rows_ii = rows["I"], rows["II"]
    if rows_i is not None:
        for lead, (a, b) in _FROM_I_II.items():
            rows.setdefault(lead, a * rows_i + b * rows_ii)
    return {lead: rows[lead] for lead in STANDARD_LEADS if lead in rows}


def median_complexes(signals: np.ndarray, r_peaks: np.ndarray, fs: float, config: MeasurementConfig):
    """The sample-by-sample median over beats of every lead, aligned on the beats' R peaks.

    Of the beats the window holds whole, at most ``config.complex_beats`` evenly spaced ones are taken
    (the median of nine beats is as steady as of more, and costs less).

    Parameters
    ----------
    signals : numpy.ndarray
        Shape (leads, samples).
    r_peaks : numpy.ndarray
        Sample indices of the dominant beats' R peaks, shape (beats,).
    fs : float
    config : MeasurementConfig

    Returns
    -------
    complexes : numpy.ndarray
        Shape (leads, span), NaN where no beat covers a sample.
    r_index : int
        Position of the R peak in the complexes.
    """
    before, after = (round(s * fs) for s in config.complex_window_s)
    offsets = np.arange(-before, after + 1)
    index = np.round(r_peaks).astype(np.int64)[:, None] + offsets  # (beats, span)
    inside = (index >= 0) & (index < signals.shape[1])
    whole = np.flatnonzero(inside.all(axis=1))
    if whole.size >= 3:  # beats the window holds whole, at most complex_beats: a plain median, fast
        picks = np.linspace(0, whole.size - 1, min(whole.size, config.complex_beats)).round().astype(np.int64)
        chosen = whole[np.unique(picks)]
        return _median_of_few(signals[:, index[chosen]]), before
    values = signals[:, np.clip(index, 0, signals.shape[1] - 1)]  # (leads, beats, span)
    return nanmedian(np.where(inside[None], values, np.nan).astype(float), axis=1), before


def read_complexes(complexes: np.ndarray, fiducials: dict, fs: float, config: MeasurementConfig) -> dict:
    """What every lead's representative complex shows, by the names of :data:`WAVE_NAMES`.

    Parameters
    ----------
    complexes : numpy.ndarray
        Shape (leads, span): the leads' median complexes (:func:`median_complexes`).
    fiducials : dict of str to float
        Global boundaries in the complexes (sample positions, NaN where absent): ``P_on``, ``P_off``,
        ``QRS_on``, ``QRS_off``, ``T_off``.
    fs : float
    config : MeasurementConfig

    Returns
    -------
    dict of str to numpy.ndarray
        Shape (leads,) each. Amplitudes in mV relative to the isoelectric level (the mean over
        ``config.iso_span_s`` before the QRS onset); durations in ms; NaN where the boundaries a value
        needs are missing.
    """
    n_leads, span = complexes.shape
    out = {name: np.full(n_leads, np.nan) for name in WAVE_NAMES}
    on, off = fiducials["QRS_on"], fiducials["QRS_off"]
    if not (math.isfinite(on) and math.isfinite(off) and 0 <= on < off < span):
        return out
    on, off = round(on), round(off)
    iso = complexes[:, max(on - max(round(config.iso_span_s * fs), 1), 0) : on + 1].mean(axis=1)
    qrs = complexes[:, on : off + 1] - iso[:, None]
    out["QRS_pp_mV"] = qrs.max(axis=1) - qrs.min(axis=1)
    out["QRS_net_mV"] = qrs.max(axis=1) + qrs.min(axis=1)
    out["ST_J_mV"] = _levels(complexes, off, iso)
    out["ST_J60_mV"] = _levels(complexes, off + round(0.06 * fs), iso)
    out["P_mV"] = _extremes(complexes, fiducials["P_on"], fiducials["P_off"], iso)
    out["T_mV"] = _extremes(complexes, off + round(0.04 * fs), fiducials["T_off"], iso)
    finite = np.flatnonzero(np.isfinite(qrs).all(axis=1))
    r_waves = []
    for lead, runs in zip(finite.tolist(), _deflections(qrs[finite], config.min_wave_mv), strict=True):
        values, r_wave = _qrs_waves(runs, fs)
        for name, value in values.items():
            out[name][lead] = value
        if r_wave is not None:
            r_waves.append((lead, *r_wave))
    if r_waves:
        leads, *spans = (np.array(column) for column in zip(*r_waves, strict=True))
        out["R_peak_time_ms"][leads], out["notched_R"][leads] = _r_shapes(qrs[leads], *spans, fs, config)
    return out


def wave_areas(complexes: np.ndarray, fiducials: dict) -> dict[str, np.ndarray]:
    """Net areas (mV × samples) of the P wave, the QRS complex and the T wave of every lead's complex.

    The P wave spans P onset to offset, the QRS onset to offset and the T wave QRS offset to T offset, each
    relative to the isoelectric level at its own onset. Returns arrays of shape (leads,), NaN where a
    boundary is missing.
    """
    spans = {"P": ("P_on", "P_off"), "QRS": ("QRS_on", "QRS_off"), "T": ("QRS_off", "T_off")}
    iso_at = {"P": "P_on", "QRS": "QRS_on", "T": "QRS_on"}
    out = {}
    for wave, (first, last) in spans.items():
        start, stop, base = fiducials[first], fiducials[last], fiducials[iso_at[wave]]
        if not all(math.isfinite(v) for v in (start, stop, base)) or stop <= start:
            out[wave] = np.full(complexes.shape[0], np.nan)
            continue
        segment = complexes[:, round(start) : round(stop) + 1]
        out[wave] = np.sum(segment - complexes[:, round(base)][:, None], axis=1)
    return out


def frontal_axis(net: dict[str, float]) -> float:
    """The frontal axis in degrees, (-180, 180], from limb leads' net QRS (or P, T) areas or amplitudes.

    The heart vector's frontal projection is the least-squares solution of ``net[lead] = L_lead · H`` over
    the limb leads given (finite values only), with the lead vectors of :data:`LEAD_DIRECTIONS`; two
    independent leads determine it exactly (from I and II alone it is Einthoven's law). NaN with fewer
    than two independent leads or a zero vector.
    """
    given = [(lead, value) for lead, value in net.items() if lead in LEAD_DIRECTIONS and math.isfinite(value)]
    matrix = _lead_vectors(tuple(lead for lead, _ in given))
    if matrix is None:
        return math.nan
    (x, y), *_ = np.linalg.lstsq(matrix, np.array([value for _, value in given]), rcond=None)
    if math.hypot(x, y) == 0:
        return math.nan
    degrees = math.degrees(math.atan2(y, x))
    return 180.0 if degrees == -180.0 else degrees


@functools.lru_cache(maxsize=128)
def _lead_vectors(leads: tuple[str, ...]) -> np.ndarray | None:
    """The frontal lead vectors of ``leads`` (:data:`LEAD_DIRECTIONS`), shape (len(leads), 2), read-only;
    None unless they span the plane (at least two independent leads). Cached: a lead set asks for the same
    few sets again and again."""
    if len(leads) < 2:
        return None
    rows = []
    for lead in leads:
        angle, length = LEAD_DIRECTIONS[lead]
        rows.append((length * math.cos(math.radians(angle)), length * math.sin(math.radians(angle))))
    matrix = np.array(rows)
    if np.linalg.matrix_rank(matrix) < 2:
        return None
    matrix.flags.writeable = False
    return matrix


def _median_of_few(values: np.ndarray) -> np.ndarray:
    """Median over the beats of ``values`` (leads, beats, span): the mean of the two middle beats' values
    once sorted, NaN counting as the largest.

    Sorting thousands of rows of a few values costs numpy mostly its overhead per row; an odd-even
    transposition sort of the beats (as many rounds as beats, each a compare-exchange of neighbouring
    beats with ``np.minimum`` and ``np.maximum`` over all leads and samples at once) puts the same values
    in the middle at about half that cost. Its cost grows with the square of the beats, so more than
    :data:`_NETWORK_BEATS` beats, and values with NaN (which the compare-exchanges would spread), are
    sorted by numpy.
    """
    count = values.shape[1]
    if count <= _NETWORK_BEATS and np.isfinite(values).all():
        ordered = list(values.transpose(1, 0, 2))
        for round_ in range(count):
            for k in range(round_ % 2, count - 1, 2):
                low, high = ordered[k], ordered[k + 1]
                ordered[k], ordered[k + 1] = np.minimum(low, high), np.maximum(low, high)
    else:
        ordered = np.sort(values, axis=1).transpose(1, 0, 2)
    return 0.5 * (ordered[(count - 1) // 2] + ordered[count // 2])


def _qrs_waves(runs: list, fs: float) -> tuple[dict, tuple | None]:
    """Q, R, S, R' of one QRS (mV from the isoelectric level, ms) from its waves (:func:`_deflections`).

    Returns the values and, where there is an R wave, what :func:`_r_shapes` reads: the R wave's first and
    stop samples and height, and the first and stop samples of the last R wave (R' where there is one),
    which holds the R peak; None for a QS complex, whose R-peak time is NaN and which is not notched.
    """
    ms = 1000.0 / fs
    out = {"Q_mV": 0.0, "Q_ms": 0.0, "R_mV": 0.0, "R_prime_mV": 0.0, "S_mV": 0.0, "S_ms": 0.0}
    positive = [k for k, (sign, *_) in enumerate(runs) if sign > 0]
    if not positive:  # a QS complex: all negative; its depth is reported as Q
        if runs:
            out["Q_mV"] = min(peak for _, _, _, peak in runs)
            out["Q_ms"] = (runs[-1][2] - runs[0][1]) * ms
        out["R_peak_time_ms"] = math.nan
        out["notched_R"] = 0.0
        return out, None
    first_r = positive[0]
    if first_r > 0:
        out["Q_mV"] = runs[0][3]
        out["Q_ms"] = (runs[first_r - 1][2] - runs[0][1]) * ms
    _, r_start, r_stop, r_peak = runs[first_r]
    out["R_mV"] = r_peak
    last_r = first_r
    if first_r + 1 < len(runs):
        _, s_start, s_stop, s_peak = runs[first_r + 1]
        out["S_mV"], out["S_ms"] = s_peak, (s_stop - s_start) * ms
        if first_r + 2 < len(runs):
            last_r = first_r + 2
            out["R_prime_mV"] = runs[last_r][3]
    _, start, stop, _ = runs[last_r]
    return out, (r_start, r_stop, r_peak, start, stop)


def _r_shapes(qrs, r_start, r_stop, height, peak_start, peak_stop, fs: float, config: MeasurementConfig):
    """R-peak time (ms from QRS onset) and notched R (1.0 or 0.0) of several leads' QRS complexes at once.

    ``qrs`` has shape (leads, samples); the other arrays, shape (leads,), are :func:`_qrs_waves`' spans.
    The R peak is the largest sample of the last R wave; an R wave is notched when it dips between two
    peaks by ``config.notch_fraction`` of its height (and at least ``config.min_wave_mv``), or slurred and
    broad when it stays above half its height for ``config.broad_r_s`` or longer. Each wave is read on its
    own span of its row, the other samples masked out; thresholds are compared in ``qrs``' dtype, as the
    numbers they are read from.
    """
    j = np.arange(qrs.shape[1])
    in_peak = (j >= peak_start[:, None]) & (j < peak_stop[:, None])
    peak_time = np.argmax(np.where(in_peak, qrs, -np.inf), axis=1) * (1000.0 / fs)
    in_r = (j >= r_start[:, None]) & (j < r_stop[:, None])
    high = in_r & (qrs >= (0.5 * height).astype(qrs.dtype)[:, None])
    spread = qrs.shape[1] - np.argmax(high[:, ::-1], axis=1) - np.argmax(high, axis=1)
    broad = high.any(axis=1) & (spread >= round(config.broad_r_s * fs))
    wave = np.where(in_r, qrs, -np.inf)
    rising = np.maximum.accumulate(wave, axis=1)
    falling = np.maximum.accumulate(wave[:, ::-1], axis=1)[:, ::-1]
    dip = np.where(in_r, np.minimum(rising, falling) - qrs, -np.inf).max(axis=1)
    limit = np.maximum(config.notch_fraction * height, config.min_wave_mv).astype(qrs.dtype)
    notched = broad | ((r_stop - r_start >= 3) & (dip >= limit))
    return peak_time, notched.astype(float)


def _deflections(qrs: np.ndarray, min_wave_mv: float) -> list[list[tuple[int, int, int, float]]]:
    """Every lead's QRS waves: runs of one sign as (sign, first sample, stop sample, peak mV), small runs
    merged into their neighbours (a deflection under ``min_wave_mv`` is no wave).

    ``qrs`` has shape (leads, samples), finite. The runs of all leads are found at once: one starts at every
    lead's first sample and wherever the sign changes (zero counts as positive), so a ``reduceat`` over the
    flattened leads gives every run's peak without crossing from one lead into the next.
    """
    n_leads, n = qrs.shape
    if n_leads == 0:
        return []
    sign = np.where(qrs >= 0, 1, -1)
    begins = np.ones(qrs.shape, dtype=bool)
    begins[:, 1:] = sign[:, 1:] != sign[:, :-1]
    first = np.flatnonzero(begins)
    flat = qrs.ravel()
    signs = sign.ravel()[first]
    peaks = np.where(signs > 0, np.maximum.reduceat(flat, first), np.minimum.reduceat(flat, first))
    lead, start = np.divmod(first, n)
    stop = np.append(first[1:], flat.size) - lead * n
    runs = [[] for _ in range(n_leads)]
    for k, s, begin, end, peak in zip(
        lead.tolist(), signs.tolist(), start.tolist(), stop.tolist(), peaks.tolist(), strict=True
    ):
        if abs(peak) < min_wave_mv:
            continue
        waves = runs[k]
        if waves and waves[-1][0] == s:
            _, merged_begin, _, old = waves[-1]
            waves[-1] = (s, merged_begin, end, max(old, peak) if s > 0 else min(old, peak))
        else:
            waves.append((s, begin, end, peak))
    return runs


def _levels(complexes: np.ndarray, index: int, iso: np.ndarray) -> np.ndarray:
    """Every lead's level at one position relative to ``iso``; NaN outside the complexes."""
    if 0 <= index < complexes.shape[1]:
        return complexes[:, index] - iso
    return np.full(complexes.shape[0], np.nan)


def _extremes(complexes: np.ndarray, start: float, stop: float, iso: np.ndarray) -> np.ndarray:
    """Every lead's largest deviation from ``iso`` between two positions, with its sign; NaN if either
    position is missing."""
    if not (math.isfinite(start) and math.isfinite(stop)) or stop <= start:
        return np.full(complexes.shape[0], np.nan)
    part = complexes[:, max(round(start), 0) : min(round(stop), complexes.shape[1] - 1) + 1] - iso[:, None]
    if part.shape[1] == 0:
        return np.full(complexes.shape[0], np.nan)
    largest = np.argmax(np.abs(np.nan_to_num(part)), axis=1)
    return np.take_along_axis(part, largest[:, None], axis=1)[:, 0]
