"""Wavelet delineation of P, QRS and T waves after Martínez et al. (2004).

The signal is resampled to 250 Hz (the rate the paper's scales are defined for) and transformed with the
quadratic-spline à trous wavelet at scales 2^1 .. 2^5 (:mod:`ecgcrnn.delineation.wavelet`). QRS complexes are
found as modulus-maximum lines that cross scales 2^4 .. 2^1 above thresholds proportional to each scale's
RMS; with several leads, the complexes of all leads are fused into one beat grid. QRS onset and offset come
from the first and last significant modulus maxima at scale 2^2, the T wave from scale 2^4 (2^5 when nothing
is found there) in an RR-dependent window after the QRS, and the P wave from scale 2^4 in a window before it;
each boundary is where the modulus falls below a fraction of its wave's maximum, or its local minimum.

Departures from the paper
-------------------------
Parameters the paper does not give (and some it does, e.g. the P and T thresholds) were tuned on LUDB
records 1-80 only. Several leads are delineated on one fused beat grid, and each lead's P, QRS and T
boundaries are pulled towards the beat's median over leads (clipped to ``multilead_clip_s``, the QRS
deviation also shrunk by ``multilead_shrink``): LUDB marks every lead, but its own marks of one beat spread
over the leads about as much as our errors, and the per-lead deviations the transform finds predict
theirs only weakly. P and T waves are searched in a transform of the signal with every QRS complex
bridged by a straight line. P waves are reported only when the waves before the QRS repeat from beat to
beat and the P-to-QRS interval is stable (an atrial fibrillation gate, stricter in an irregular rhythm).
The first and last significant QRS maxima are sought only between the isoelectric pauses either side of
the complex, so that the slopes of a P wave close to the QRS are not taken for the complex's. Pacemaker
spikes are bridged before the transform used for boundaries (beats are still detected on the raw
transform) and a paced beat's QRS onset is not placed before its spike (:mod:`ecgcrnn.delineation.qrs`).

Output format
-------------
A dict with the nine keys of :data:`FIDUCIALS`, each a float array of sample indices at the input's
rate (fractional, NaN where the wave is absent or its boundary was not found). :func:`delineate` returns
1-D arrays of shape (n_beats,); :func:`delineate_leads` arrays of shape (n_leads, n_beats) on one beat grid
shared by all leads. Beats are sorted by time. ``R`` is the peak of the R wave (the largest positive QRS
deflection from the onset level), or the deepest point of a QS-like complex (see
:attr:`DelineationConfig.r_wave_fraction`); P and T peaks are the wave's extremum (zero crossing of the
transform), whatever its polarity.

Reference
---------
J. P. Martínez, R. Almeida, S. Olmos, A. P. Rocha, P. Laguna, "A wavelet-based ECG delineator: evaluation on
standard databases", IEEE Trans. Biomed. Eng. 51(4):570-581, 2004.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import firwin, resample_poly

from ecgcrnn.delineation import multilead, qrs, wavelet
from ecgcrnn.delineation.settings import TINY, DelineationConfig
from ecgcrnn.delineation.wavelet import quadratic_spline_swt
from ecgcrnn.domain import FIDUCIALS
from ecgcrnn.signal.arrays import nanmedian
from ecgcrnn.signal.preprocessing import repair_missing, resampling_ratio

_MAX_DENOMINATOR = 64  # of the ratio to the internal rate: a short polyphase filter


def delineate(
    signal: np.ndarray, fs: float, config: DelineationConfig | None = None
) -> dict[str, np.ndarray]:
    """Delineate one ECG lead.

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,)
        One lead, in mV (any real dtype; NaN samples are bridged by linear interpolation).
    fs : float
        Sampling rate in Hz (designed for 250 .. 1000 Hz).
    config : DelineationConfig, optional
        Parameters; the defaults when None.

    Returns
    -------
    dict of str to np.ndarray of float, shape (n_beats,)
        Keys :data:`FIDUCIALS`; sample indices at ``fs``, NaN where absent; beats sorted by R. A lead
        without any QRS complex gives arrays of length 0.

    Raises
    ------
    ValueError
        If ``signal`` is not 1-D or ``fs`` is not a positive finite number.
    """
    x = np.asarray(signal)
    if x.ndim != 1:
        raise ValueError(
            f"delineate: signal must be 1-D (n_samples,), got shape {x.shape}; "
            "use delineate_leads for (n_leads, n_samples)"
        )
    result = delineate_leads(x[None, :], fs, config)
    keep = np.isfinite(result["R"][0])
    return {key: value[0, keep] for key, value in result.items()}


@dataclass(frozen=True)
class Delineation:
    """One record's delineation: every lead's fiducials, and the global ones across the leads.

    Attributes
    ----------
    per_lead : dict of str to numpy.ndarray
        Keys :data:`FIDUCIALS`, shape (n_leads, n_beats): what :func:`delineate_leads` returns.
    global_fiducials : dict of str to numpy.ndarray
        Keys :data:`FIDUCIALS`, shape (n_beats,): per beat, the boundaries of the whole heart's activity as
        the CSE study defined them (onsets a low order statistic of the onsets of the leads that agree with
        the beat's median, within a window that depends on the wave, offsets likewise from the latest; a
        paced beat's QRS onset at the end of its spike; peaks the median;
        :func:`ecgcrnn.delineation.multilead.global_fiducials`), NaN where no lead has it.
    """

    per_lead: dict
    global_fiducials: dict


def delineate_leads(
    signals: np.ndarray, fs: float, config: DelineationConfig | None = None
) -> dict[str, np.ndarray]:
    """Delineate all leads of a record on one beat grid.

    QRS complexes detected in the separate leads are fused into beats (a beat needs complexes in at least
    ``config.min_lead_fraction`` of the usable leads), then every lead is delineated around every beat.

    Parameters
    ----------
    signals : np.ndarray, shape (n_leads, n_samples)
        Leads in mV (any real dtype; NaN samples bridged by linear interpolation). A 1-D array is one lead.
    fs : float
        Sampling rate in Hz (designed for 250 .. 1000 Hz).
    config : DelineationConfig, optional
        Parameters; the defaults when None.

    Returns
    -------
    dict of str to np.ndarray of float, shape (n_leads, n_beats)
        Keys :data:`FIDUCIALS`; sample indices at ``fs``, NaN where a wave is absent in a lead (every key is
        NaN in a flat or all-NaN lead). Column ``b`` is the same heartbeat in every lead; beats are sorted.

    Raises
    ------
    ValueError
        If ``signals`` has more than two dimensions or ``fs`` is not a positive finite number.
    """
    return delineate_record(signals, fs, config).per_lead


def delineate_record(signals: np.ndarray, fs: float, config: DelineationConfig | None = None) -> Delineation:
    """:func:`delineate_leads`, with the global fiducials across the leads beside the per-lead ones.

    Parameters and errors are :func:`delineate_leads`'s.
    """
    cfg = config or DelineationConfig()
    x, usable = _prepare(signals, fs)
    n_leads, n_samples = x.shape
    if n_samples < 4 or not usable.any():
        empty = {key: np.full((n_leads, 0), np.nan) for key in FIDUCIALS}
        return Delineation(empty, {key: np.zeros(0) for key in FIDUCIALS})
    ratio = resampling_ratio(fs, cfg.internal_fs_hz, _MAX_DENOMINATOR)
    up, down = ratio.numerator, ratio.denominator
    fsi = fs * up / down
    xi, w, rms = _transform(x, up, down)
    anchors = qrs.detect_beats(w, rms, usable, fsi, cfg)
    spikes = qrs.pacing_spikes(x, usable, cfg.pace_z)
    if spikes.any():
        x = qrs.bridge_spikes(x, spikes, round(cfg.pace_halfwidth_s * fs))
        xi, w, rms = _transform(x, up, down)
    pulled, raw = _delineate_around(xi, w, rms, anchors, np.flatnonzero(spikes) * (up / down), fsi, cfg)
    scale = down / up
    last = n_samples - 1

    def at_input_rate(fid: dict) -> dict:
        value = np.stack([fid[key] for key in FIDUCIALS]) * scale
        value[:, ~usable] = np.nan
        return dict(zip(FIDUCIALS, np.where((value >= 0) & (value <= last), value, np.nan), strict=True))

    per_lead = at_input_rate(pulled)
    per_lead["R"] = qrs.refine_peak(x, per_lead["R"], math.ceil(scale))
    raw = at_input_rate(raw)
    raw["R"] = per_lead["R"]
    starts = np.flatnonzero(spikes[1:] & ~spikes[:-1]) + 1
    first = np.flatnonzero(spikes[:1])
    spike_starts = np.concatenate([first, starts])
    return Delineation(per_lead, multilead.global_fiducials(raw, fs, cfg, spike_starts))


def _prepare(signals: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Validate arguments; return (n_leads, n_samples) float leads, NaN bridged, and the usable-lead mask."""
    if isinstance(fs, bool) or not isinstance(fs, (int, float, np.integer, np.floating)):
        raise ValueError(f"delineate: fs must be a number in Hz, got {fs!r}")
    if not (math.isfinite(fs) and fs > 0):
        raise ValueError(f"delineate: fs must be a positive finite rate in Hz, got {fs!r}")
    x = np.asarray(signals)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"delineate_leads: signals must be (n_leads, n_samples), got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool) or np.iscomplexobj(x):
        raise ValueError(f"delineate_leads: signals must be real numbers, got dtype {x.dtype}")
    x, missing = repair_missing(x)
    x = x.astype(float)
    usable = missing < 1
    if x.size:
        x -= nanmedian(x)[:, None]
        usable &= np.ptp(x, axis=-1) > TINY
    return x, usable


def _transform(x: np.ndarray, up: int, down: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leads resampled by up / down (n_leads, n_int), their transform (5, n_leads, n_int) and its RMS."""
    if up != down:
        x = resample_poly(x, up, down, axis=-1, window=_resampling_filter(up, down), padtype="line")
    w = quadratic_spline_swt(x, 5)
    return x, w, np.sqrt([np.mean(scale**2, axis=-1) for scale in w])  # by scale: no (5, ...) temporary


@functools.lru_cache(maxsize=16)
def _resampling_filter(up: int, down: int) -> np.ndarray:
    """The low-pass filter of :func:`scipy.signal.resample_poly` for the ratio up / down (coprime): its own
    design, a Kaiser-windowed (beta 5) sinc reaching 10 zero crossings either side at the higher of the two
    rates, designed once per ratio rather than on every call; read-only."""
    rate = max(up, down)
    taps = firwin(2 * 10 * rate + 1, 1.0 / rate, window=("kaiser", 5.0))
    taps.flags.writeable = False
    return taps


def _delineate_around(x, w, rms, anchors, spikes, fs: float, cfg: DelineationConfig) -> dict[str, np.ndarray]:
    """Delineate every lead around every anchor; positions (n_leads, n_beats) in internal samples.

    Returns the fiducials pulled towards the beat's median over leads (:func:`_pull_to_median`) and the
    leads' own, before that pull (for the global fiducials).
    """
    n_leads = x.shape[0]
    anchors = np.broadcast_to(anchors, (n_leads, anchors.size))
    if anchors.shape[1] == 0:
        empty = {key: np.zeros((n_leads, 0)) for key in FIDUCIALS}
        return empty, dict(empty)
    qrs_on, r_peak, qrs_off = qrs.qrs_boundaries(x, w[1], rms[1], anchors, spikes, fs, cfg)
    clip_p, clip_qrs, clip_t = (c * fs for c in cfg.multilead_clip_s)
    shrink_p, shrink_qrs, shrink_t = cfg.multilead_shrink
    raw_qrs = (qrs_on, qrs_off)
    qrs_on, qrs_off = _pull_to_median(np.stack(raw_qrs), clip_qrs, shrink_qrs)
    on = np.where(np.isfinite(qrs_on), qrs_on, anchors - cfg.qrs_assumed_s[0] * fs)
    spike = qrs.beat_spikes(anchors, spikes, cfg.qrs_search_s[0] * fs)
    on = np.fmin(on, spike - cfg.pace_halfwidth_s * fs)
    off = np.where(np.isfinite(qrs_off), qrs_off, anchors + cfg.qrs_assumed_s[1] * fs)
    wb = quadratic_spline_swt(wavelet.bridge_spans(x, on, off), 5, first_scale=4) if cfg.blank_qrs else w[3:]
    t_wave = _t_wave(wb, rms, anchors, off, fs, cfg)
    t_on, t_peak, t_off = _pull_to_median(np.stack(t_wave), clip_t, shrink_t)
    p_wave = _p_wave(wb[0], rms, anchors, on, t_off, fs, cfg)
    p_on, p_peak, p_off = _pull_to_median(np.stack(p_wave), clip_p, shrink_p)
    pulled = (p_on, p_peak, p_off, qrs_on, r_peak, qrs_off, t_on, t_peak, t_off)
    raw = (*p_wave, raw_qrs[0], r_peak, raw_qrs[1], *t_wave)
    return dict(zip(FIDUCIALS, pulled, strict=True)), dict(zip(FIDUCIALS, raw, strict=True))


def _t_wave(wb, rms, anchors, qrs_off, fs: float, cfg: DelineationConfig):
    """T onset, peak, offset (n_leads, n_beats) at scale 2^4, or 2^5 where 2^4 shows no T wave.

    The T wave's modulus maxima are sought from ``t_window_s[0]`` after the QRS offset to
    ``t_window_rr`` of the RR interval or ``t_window_s[1] * sqrt(RR / 1 s)`` after the anchor, whichever
    comes first: the QT interval lengthens with the square root of RR (Bazett), so the window follows a
    late T in a slow rhythm without reaching, at normal rates, into the U wave or the next P wave.
    """
    rr = _rr_intervals(anchors[0], fs)
    margin = round(cfg.boundary_margin_s * fs)
    start = np.round(qrs_off + cfg.t_window_s[0] * fs).astype(int)
    qt_limit = cfg.t_window_s[1] * fs * np.sqrt(rr / fs)
    stop = anchors + np.round(np.minimum(cfg.t_window_rr * rr, qt_limit)).astype(int)
    stop = np.maximum(stop, start + 1)
    length = int(np.max(stop - start)) + 2 * margin
    at4 = _t_fiducials(wb[0], cfg.t_eps_rms * rms[3], start, stop, margin, cfg.t_xi, length)
    lead, beat = np.nonzero(~np.isfinite(at4[1]))
    if lead.size:
        zone = (start[lead, beat][:, None], stop[lead, beat][:, None])
        at5 = _t_fiducials(wb[1], cfg.t_eps_rms * rms[4][lead], *zone, margin, cfg.t_xi, length, lead)
        for four, five in zip(at4, at5, strict=True):
            four[lead, beat] = five[:, 0]
    return at4


def _t_fiducials(w, eps, zone_start, zone_stop, margin: int, xi: tuple[float, float], length: int, rows=None):
    """T onset, peak and offset per window from one scale of the transform.

    As :func:`ecgcrnn.delineation.wavelet.wave_fiducials` (same arguments and returns), except for the
    maximum paired with the wave's largest one (:func:`_t_partner`): the largest of the two lobes of
    opposite sign that border its lobe, rather than the largest of opposite sign anywhere in the zone. And
    the samples searched from ``zone_start - margin``, ``length``, are given: the boundary searches run to
    the end of the windows, so some of the windows searched on their own keep their fiducials only with the
    length of all. ``rows``, optional, is the row of ``w`` each row of the zones reads
    (:func:`ecgcrnn.delineation.wavelet.windows`).
    """
    start = zone_start - margin
    v, inside = wavelet.windows(w, start, length, rows)
    a = wavelet.modulus(v, inside)
    j = np.arange(length)
    zone = inside & (j >= margin) & (j < (zone_stop - start)[..., None])
    lm = wavelet.local_maxima(a) & zone
    big = lm & (a > np.maximum(eps, 1e-12)[:, None, None])
    present = big.any(axis=-1)
    main = np.argmax(np.where(big, a, -1.0), axis=-1)
    crossing = np.zeros(v.shape, dtype=bool)
    crossing[..., :-1] = (v[..., :-1] * v[..., 1:] <= 0) & (v[..., :-1] != 0)
    partner, paired = _t_partner(a, lm, crossing, main)
    paired &= present
    first = np.where(paired, np.minimum(main, partner), main)
    last = np.where(paired, np.maximum(main, partner), main)
    jz = wavelet.first_true_after(crossing | (j == last[..., None]), first - 1)
    jz_int = np.clip(np.where(np.isnan(jz), 0, jz).astype(int), 0, length - 2)
    v0, v1 = wavelet.take_last(v, jz_int), wavelet.take_last(v, jz_int + 1)
    frac = np.clip(v0 / np.where(v0 != v1, v0 - v1, 1.0), 0.0, 1.0)
    peak = np.where(paired & (jz < last), jz + frac, np.nan)
    a_first, a_last = wavelet.take_last(a, first)[..., None], wavelet.take_last(a, last)[..., None]
    minima = wavelet.local_minima(a)
    on = wavelet.last_true_before((a < xi[0] * a_first) | minima, first)
    off = wavelet.first_true_after((a < xi[1] * a_last) | minima, last)
    return tuple(np.where(present, start + t + wavelet.WAVELET_OFFSET, np.nan) for t in (on, peak, off))


def _t_partner(a, lm, crossing, main):
    """The modulus maximum paired with each window's largest one, ``main`` (int, (n_rows, n_windows)).

    A T wave's two slopes are adjacent lobes of the transform, one zero crossing (the peak) apart, whatever
    its polarity; the slower one (the upslope of an upright T, usually) may stay below the presence
    threshold. So the partner is the largest local maximum of ``a`` (modulus, (n_rows, n_windows, n);
    ``lm`` its local maxima in the zone) in the lobe just before or just after the main one's, whichever
    is larger (lobes are the runs between the zero ``crossing`` marks). Pairing with the largest maximum
    of opposite sign anywhere in the zone took the next P wave's, a U wave's or the baseline's.

    Returns
    -------
    partner : np.ndarray of int, shape (n_rows, n_windows)
        Window index of the partner (meaningless where not paired).
    paired : np.ndarray of bool, shape (n_rows, n_windows)
        Whether either neighbouring lobe holds a local maximum in the zone.
    """
    lobe = np.zeros(a.shape, dtype=int)
    lobe[..., 1:] = np.cumsum(crossing[..., :-1], axis=-1)
    main_lobe = wavelet.take_last(lobe, main)[..., None]
    before, after = (np.where(lm & (lobe == main_lobe + k), a, -1.0) for k in (-1, 1))
    at_before, at_after = np.argmax(before, axis=-1), np.argmax(after, axis=-1)
    largest_before, largest_after = wavelet.take_last(before, at_before), wavelet.take_last(after, at_after)
    partner = np.where(largest_after > largest_before, at_after, at_before)
    return partner, np.maximum(largest_before, largest_after) > 0


def _p_wave(w4, rms, anchors, qrs_on, t_off, fs: float, cfg: DelineationConfig):
    """P onset, peak, offset (n_leads, n_beats) at scale 2^4, between the previous T and the QRS onset.

    A first pass searches the whole window; a second pass searches ``p_refine_s`` around the lead's median
    P-to-anchor interval of the first (the median over leads where a lead has no P), which keeps stray
    maxima of the baseline from being taken for the P wave. There are no P waves (atrial fibrillation)
    when the transform before the QRS does not repeat from beat to beat (:func:`_p_locking` below
    ``p_lock_corr``), or when the first pass's P-to-anchor intervals wander (:func:`_pr_spread` above
    ``p_pr_spread_s``, or ``p_pr_spread_few_leads_s`` with fewer than three leads; the lower limit in an
    irregular rhythm).
    """
    margin = round(cfg.boundary_margin_s * fs)
    eps = cfg.p_eps_rms * rms[3]
    stop = np.round(qrs_on - cfg.p_window_s[1] * fs).astype(int)
    start = np.round(qrs_on - cfg.p_window_s[0] * fs).astype(int)
    prev_end = np.full(anchors.shape, -(10**9))
    prev_end[:, 1:] = np.where(
        np.isfinite(t_off[:, :-1]), t_off[:, :-1], anchors[:, :-1] + cfg.p_after_beat_s * fs
    )
    start = np.maximum(start, np.round(prev_end).astype(int))
    stop = np.maximum(stop, start + 1)
    first = wavelet.wave_fiducials(w4, eps, start, stop, margin, cfg.p_xi)
    limits = cfg.p_pr_spread_s if anchors.shape[0] >= 3 else cfg.p_pr_spread_few_leads_s
    spread_limit = limits[_irregular(anchors[0], cfg.irregular_rr)] * fs
    if _pr_spread(first[1], anchors) > spread_limit or _p_locking(w4, anchors, start, stop) < cfg.p_lock_corr:
        return tuple(np.full(anchors.shape, np.nan) for _ in range(3))
    return _refine_p(w4, eps, anchors, first, start, stop, margin, fs, cfg)


def _refine_p(w4, eps, anchors, first, start, stop, margin: int, fs: float, cfg: DelineationConfig):
    """Second P search, ``p_refine_s`` around each lead's median P-to-anchor interval of the first pass."""
    if cfg.p_refine_s <= 0 or not np.isfinite(first[1]).any():
        return first
    interval = nanmedian(anchors - first[1])
    interval = np.where(np.isfinite(interval), interval, nanmedian(interval))
    expected = anchors - interval[:, None]
    half = cfg.p_refine_s * fs
    start2 = np.maximum(np.round(expected - half).astype(int), start)
    stop2 = np.maximum(np.minimum(np.round(expected + half).astype(int), stop), start2 + 1)
    return wavelet.wave_fiducials(w4, eps, start2, stop2, margin, cfg.p_xi)


def _p_locking(w4: np.ndarray, anchors: np.ndarray, start: np.ndarray, stop: np.ndarray) -> float:
    """How closely the scale-2^4 transform before the QRS repeats from beat to beat (median over leads).

    Every beat's P search zone [start, stop), aligned on its anchor, is compared with the mean of the other
    beats' zones (cosine similarity over the samples both cover); a lead's locking is the median over its
    beats. Sinus P waves are locked to the QRS and repeat (near 1); the fibrillatory waves of atrial
    fibrillation are not and average out (near 0). 1.0 with fewer than three beats.
    """
    n_beats = anchors.shape[1]
    if n_beats < 3:
        return 1.0
    lead_in = start - anchors
    first = int(np.min(lead_in))
    length = int(np.max(stop - anchors)) - first
    v, inside = wavelet.windows(w4, anchors + first, max(length, 1))
    j = np.arange(v.shape[-1]) + first
    valid = inside & (j >= lead_in[..., None]) & (j < (stop - anchors)[..., None])
    v = np.where(valid, v, 0.0)
    others = (v.sum(axis=1, keepdims=True) - v) / (n_beats - 1)
    others = np.where(valid, others, 0.0)
    norm = np.sqrt(np.sum(v**2, axis=-1) * np.sum(others**2, axis=-1))
    similarity = np.where(norm > 0, np.sum(v * others, axis=-1) / np.where(norm > 0, norm, 1.0), np.nan)
    per_lead = nanmedian(similarity, axis=1)
    per_lead = per_lead[np.isfinite(per_lead)]
    return float(np.median(per_lead)) if per_lead.size else 1.0


def _pr_spread(p_peak: np.ndarray, anchors: np.ndarray) -> float:
    """Median over leads of each lead's median absolute deviation of the P-to-anchor interval (samples).

    A stable PR interval marks true P waves; in atrial fibrillation the "P waves" found in the fibrillatory
    baseline wander from beat to beat, which makes this spread large.
    """
    pr = anchors - p_peak
    rows = np.isfinite(pr).sum(axis=1) >= 2
    if not rows.any():
        return 0.0
    pr = pr[rows]
    return float(np.median(nanmedian(np.abs(pr - nanmedian(pr)[:, None]))))


def _irregular(anchors: np.ndarray, fraction: float) -> bool:
    """Whether successive RR intervals of ``anchors`` (n_beats,) differ by more than ``fraction`` of RR."""
    rr = np.diff(anchors)
    if rr.size < 3:
        return False
    return bool(np.median(np.abs(np.diff(rr))) > fraction * np.median(rr))


def _pull_to_median(values: np.ndarray, limit: float, shrink: float = 1.0) -> np.ndarray:
    """Pull each lead's value (n_leads, n_beats) towards the beat's median over leads.

    The deviation from the median is clipped to ``limit`` and scaled by ``shrink`` (1: clip only; 0: every
    lead takes the median). Beats with fewer than three finite leads are left as they are. Several
    fiducials at once may come stacked, shape (n_fiducials, n_leads, n_beats).
    """
    if values.shape[-2] < 3 or not np.isfinite(limit):
        return values
    median = np.where(np.isfinite(values).sum(axis=-2) >= 3, nanmedian(values, axis=-2), np.nan)[..., None, :]
    pulled = median + shrink * np.clip(values - median, -limit, limit)
    return np.where(np.isfinite(median), pulled, values)


def _rr_intervals(anchors: np.ndarray, fs: float) -> np.ndarray:
    """RR interval following each beat (the previous one for the last beat; 1 s for a lone beat)."""
    if anchors.size < 2:
        return np.full(anchors.shape, fs)
    rr = np.diff(anchors).astype(float)
    return np.concatenate((rr, rr[-1:]))
