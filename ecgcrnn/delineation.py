"""Wavelet delineation of P, QRS and T waves after Martínez et al. (2004).

The signal is resampled to 250 Hz (the rate the paper's scales are defined for) and transformed with the
quadratic-spline à trous wavelet at scales 2^1 .. 2^5 (:mod:`ecgcrnn.wavelet`). QRS complexes are found as
modulus-maximum lines that cross scales 2^4 .. 2^1 above thresholds proportional to each scale's RMS; with
several leads, the complexes of all leads are fused into one beat grid. QRS onset and offset come from the
first and last significant modulus maxima at scale 2^2, the T wave from scale 2^4 (2^5 when nothing is
found there) in an RR-dependent window after the QRS, and the P wave from scale 2^4 in a window before it;
each boundary is where the modulus falls below a fraction of its wave's maximum, or its local minimum.

Output format
-------------
A dict with the nine keys of :data:`FIDUCIALS`, each a float array of sample indices at the input's
rate (fractional, NaN where the wave is absent or its boundary was not found). :func:`delineate` returns
1-D arrays of shape (n_beats,); :func:`delineate_leads` arrays of shape (n_leads, n_beats) on one beat grid
shared by all leads. Beats are sorted by time. ``R`` is the peak of the R wave (the largest positive QRS
deflection from the onset level), or the deepest point of a QS-like complex (see :data:`R_WAVE_FRACTION`);
P and T peaks are the wave's extremum (zero crossing of the transform), whatever its polarity.

Reference
---------
J. P. Martínez, R. Almeida, S. Olmos, A. P. Rocha, P. Laguna, "A wavelet-based ECG delineator: evaluation on
standard databases", IEEE Trans. Biomed. Eng. 51(4):570-581, 2004.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

from ecgcrnn import wavelet
from ecgcrnn.wavelet import WAVELET_OFFSET, quadratic_spline_swt

FIDUCIALS = ("P_on", "P_peak", "P_off", "QRS_on", "R", "QRS_off", "T_on", "T_peak", "T_off")
"""Keys of the delineation, in temporal order within a beat."""

R_WAVE_FRACTION = 0.15
"""``R`` is the R wave's peak unless the largest positive QRS deflection is smaller than this fraction of the
largest negative one (QS-like complexes), in which case it is the deepest point."""

_TINY = 1e-8


@dataclass(frozen=True)
class DelineationConfig:
    """Parameters of the delineator: Martínez et al. (2004) where the paper gives them, else tuned on LUDB.

    Attributes
    ----------
    internal_fs_hz : float, default 250.0
        Rate the signal is resampled to before the transform (the paper's scales assume 250 Hz).
    qrs_eps_rms : tuple of float, default (1.0, 1.0, 1.0, 0.5)
        QRS line thresholds at scales 2^1 .. 2^4, in multiples of each scale's RMS (paper).
    line_halfwidth_s : float, default 0.02
        Half-width of the neighbourhood searched for a modulus-maximum line at the finer scales.
    complex_gap_s : float, default 0.12
        Largest gap between modulus-maximum lines of one QRS complex.
    fuse_gap_s : float, default 0.06
        Largest gap between complexes of different leads that belong to one beat.
    min_lead_fraction : float, default 0.3
        Fraction of the usable leads that must show a complex for a beat to be kept.
    weak_beat_fraction : float, default 0.5
        Beats whose mean QRS strength (scale 2^2 modulus over its RMS) is below this fraction of the
        median beat's are dropped (large T waves, artefacts).
    refractory_s : float, default 0.2
        Shortest RR interval; of two closer beats the weaker is dropped.
    searchback_rr : float, default 1.5
        RR intervals longer than this multiple of the median are searched again at lower thresholds.
    searchback_scale : float, default 0.5
        Scale of the QRS thresholds in the search-back.
    qrs_search_s : tuple of float, default (0.1, 0.12)
        Time before and after the beat's anchor searched for QRS modulus maxima at scale 2^2.
    qrs_gamma : tuple of float, default (0.06, 0.09)
        Significance of the first / last QRS maxima, fractions of the largest one (paper).
    qrs_noise_factor : float, default 6.0
        The first / last QRS maxima must also exceed this multiple of the median modulus at scale 2^2.
    qrs_xi : tuple of float, default (0.05, 0.125)
        QRS onset / offset thresholds, fractions of the first / last significant maximum (paper).
    multilead_clip_s : tuple of float, default (0.02, 0.01, 0.02)
        P, QRS and T boundaries of a lead are kept within this distance of the beat's median over leads
        (only with three or more leads).
    blank_qrs : bool, default True
        Search P and T waves in the transform of the signal with every QRS replaced by a straight line.
    t_window_s : tuple of float, default (0.04, 0.6)
        T search window: start after QRS offset, and the cap on its end after the anchor.
    t_window_rr : float, default 0.7
        End of the T search window after the anchor, as a fraction of the RR interval.
    t_eps_rms : float, default 0.25
        T wave presence threshold at scale 2^4 (2^5), in multiples of the scale's RMS (paper).
    t_xi : tuple of float, default (0.35, 0.45)
        T onset / offset thresholds, fractions of the first / last maximum.
    p_window_s : tuple of float, default (0.28, 0.0)
        P search window: start and end before QRS onset (the start never precedes the previous T offset).
    p_refine_s : float, default 0.1
        Half-width of the second P search around the lead's median P-to-anchor interval.
    p_pr_spread_s : float, default 0.016
        Largest median absolute deviation of the P-to-anchor interval for P waves to be reported.
    p_eps_rms : float, default 0.02
        P wave presence threshold at scale 2^4, in multiples of the scale's RMS (paper).
    p_xi : tuple of float, default (0.65, 0.9)
        P onset / offset thresholds, fractions of the first / last maximum.
    boundary_margin_s : float, default 0.12
        How far boundary searches may run beyond a wave's search window.
    """

    internal_fs_hz: float = 250.0
    qrs_eps_rms: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 0.5)
    line_halfwidth_s: float = 0.02
    complex_gap_s: float = 0.12
    fuse_gap_s: float = 0.06
    min_lead_fraction: float = 0.3
    weak_beat_fraction: float = 0.5
    refractory_s: float = 0.2
    searchback_rr: float = 1.5
    searchback_scale: float = 0.5
    qrs_search_s: tuple[float, float] = (0.1, 0.12)
    qrs_gamma: tuple[float, float] = (0.06, 0.09)
    qrs_noise_factor: float = 6.0
    qrs_xi: tuple[float, float] = (0.05, 0.125)
    multilead_clip_s: tuple[float, float, float] = (0.02, 0.01, 0.02)
    blank_qrs: bool = True
    t_window_s: tuple[float, float] = (0.04, 0.6)
    t_window_rr: float = 0.7
    t_eps_rms: float = 0.25
    t_xi: tuple[float, float] = (0.35, 0.45)
    p_window_s: tuple[float, float] = (0.28, 0.0)
    p_refine_s: float = 0.1
    p_pr_spread_s: float = 0.016
    p_eps_rms: float = 0.02
    p_xi: tuple[float, float] = (0.65, 0.9)
    boundary_margin_s: float = 0.12


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
    cfg = config or DelineationConfig()
    x, usable = _prepare(signals, fs)
    n_leads, n_samples = x.shape
    if n_samples < 4 or not usable.any():
        return {key: np.full((n_leads, 0), np.nan) for key in FIDUCIALS}
    up, down = _resample_ratio(fs, cfg.internal_fs_hz)
    xi = resample_poly(x, up, down, axis=-1, padtype="line") if up != down else x
    fsi = fs * up / down
    w = quadratic_spline_swt(xi, 5)
    rms = np.sqrt(np.mean(w**2, axis=-1))
    anchors = _detect_beats(w, rms, usable, fsi, cfg)
    fid = _delineate_around(xi, w, rms, anchors, fsi, cfg)
    scale = down / up
    last = n_samples - 1
    out = {}
    for key in FIDUCIALS:
        value = fid[key] * scale
        value[~usable] = np.nan
        out[key] = np.where((value >= 0) & (value <= last), value, np.nan)
    out["R"] = _refine_peak(x, out["R"], math.ceil(scale))
    return out


def _refine_peak(x: np.ndarray, peak: np.ndarray, half: int) -> np.ndarray:
    """Move each peak (n_leads, n_beats) to the same-polarity extremum of ``x`` within ``half`` samples."""
    if half < 1 or peak.size == 0:
        return peak
    finite = np.isfinite(peak)
    centre = np.where(finite, np.round(peak), 0).astype(int)
    v, inside = wavelet.windows(x, centre - half, 2 * half + 1)
    polarity = np.sign(v[..., half : half + 1] - np.mean(v, axis=-1, keepdims=True))
    best = np.argmax(np.where(inside, polarity * v, -np.inf), axis=-1)
    return np.where(finite, centre - half + best, np.nan).astype(float)


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
    x = x.astype(float, copy=True)
    finite = np.isfinite(x)
    usable = finite.sum(axis=-1) >= 2
    for lead in np.flatnonzero(usable & ~finite.all(axis=-1)):
        good = np.flatnonzero(finite[lead])
        x[lead] = np.interp(np.arange(x.shape[1]), good, x[lead, good])
    x[~usable] = 0.0
    if x.size:
        x -= np.median(x, axis=-1, keepdims=True)
        usable &= np.ptp(x, axis=-1) > _TINY
    return x, usable


def _resample_ratio(fs: float, target_hz: float) -> tuple[int, int]:
    """Small integers (up, down) with fs * up / down close to ``target_hz``."""
    ratio = Fraction(target_hz / fs).limit_denominator(64)
    if ratio.numerator == 0:
        ratio = Fraction(1, 64)
    return ratio.numerator, ratio.denominator


def _detect_beats(w: np.ndarray, rms: np.ndarray, usable: np.ndarray, fs: float, cfg: DelineationConfig):
    """Beat anchors (n_beats,) in internal samples, with a search-back at lower thresholds.

    Where an RR interval exceeds ``searchback_rr`` times the median one, beats found with the thresholds
    scaled by ``searchback_scale`` inside that interval (and beyond the refractory period of its ends) are
    added, as in Martínez et al. (2004).
    """
    anchors = _detect_pass(w, rms, usable, fs, cfg, 1.0)
    if anchors.size < 2:
        return anchors
    rr = np.diff(anchors)
    long_gap = rr > cfg.searchback_rr * np.median(rr)
    if not long_gap.any():
        return anchors
    extra = _detect_pass(w, rms, usable, fs, cfg, cfg.searchback_scale)
    gap = np.clip(np.searchsorted(anchors, extra) - 1, 0, rr.size - 1)
    margin = cfg.refractory_s * fs
    inside = long_gap[gap] & (extra > anchors[gap] + margin) & (extra < anchors[gap + 1] - margin)
    return np.sort(np.concatenate((anchors, extra[inside])))


def _detect_pass(w, rms, usable, fs: float, cfg: DelineationConfig, scale: float) -> np.ndarray:
    """One detection pass: QRS lines per lead, grouped into complexes, fused over leads (n_beats,)."""
    eps = np.maximum(scale * np.asarray(cfg.qrs_eps_rms)[:, None] * rms[:4], _TINY)
    eps[:, ~usable] = np.inf
    lead, pos, sign, strength = wavelet.modulus_maxima_lines(w, eps, round(cfg.line_halfwidth_s * fs))
    strength = strength / np.maximum(rms[1][lead], _TINY)
    if lead.size == 0:
        return np.zeros(0, dtype=int)
    lead, time, strength = wavelet.line_complexes(lead, pos, sign, strength, round(cfg.complex_gap_s * fs))
    if lead.size == 0:
        return np.zeros(0, dtype=int)
    need = max(1, math.ceil(cfg.min_lead_fraction * usable.sum() - 1e-9))
    return wavelet.fuse_complexes(
        lead, time, strength, need, cfg.fuse_gap_s * fs, cfg.refractory_s * fs, cfg.weak_beat_fraction
    )


def _delineate_around(x, w, rms, anchors, fs: float, cfg: DelineationConfig) -> dict[str, np.ndarray]:
    """Delineate every lead around every anchor; positions (n_leads, n_beats) in internal samples."""
    n_leads = x.shape[0]
    anchors = np.broadcast_to(anchors, (n_leads, anchors.size))
    if anchors.shape[1] == 0:
        return {key: np.zeros((n_leads, 0)) for key in FIDUCIALS}
    noise = np.median(np.abs(w[1]), axis=-1)
    qrs_on, r_peak, qrs_off = _qrs(x, w[1], rms[1], noise, anchors, fs, cfg)
    clip_p, clip_qrs, clip_t = (c * fs for c in cfg.multilead_clip_s)
    qrs_on, qrs_off = _pull_to_median(qrs_on, clip_qrs), _pull_to_median(qrs_off, clip_qrs)
    on = np.where(np.isfinite(qrs_on), qrs_on, anchors - 0.05 * fs)
    off = np.where(np.isfinite(qrs_off), qrs_off, anchors + 0.08 * fs)
    wb = quadratic_spline_swt(wavelet.bridge_spans(x, on, off), 5)[3:] if cfg.blank_qrs else w[3:]
    t_wave = _t_wave(wb, rms, anchors, off, fs, cfg)
    t_on, t_peak, t_off = (_pull_to_median(v, clip_t) for v in t_wave)
    p_wave = _p_wave(wb[0], rms, anchors, on, t_off, fs, cfg)
    p_on, p_peak, p_off = (_pull_to_median(v, clip_p) for v in p_wave)
    values = (p_on, p_peak, p_off, qrs_on, r_peak, qrs_off, t_on, t_peak, t_off)
    return dict(zip(FIDUCIALS, values, strict=True))


def _t_wave(wb, rms, anchors, qrs_off, fs: float, cfg: DelineationConfig):
    """T onset, peak, offset (n_leads, n_beats) at scale 2^4, or 2^5 where 2^4 shows no T wave."""
    rr = _rr_intervals(anchors[0], fs)
    margin = round(cfg.boundary_margin_s * fs)
    start = np.round(qrs_off + cfg.t_window_s[0] * fs).astype(int)
    stop = anchors + np.round(np.minimum(cfg.t_window_rr * rr, cfg.t_window_s[1] * fs)).astype(int)
    stop = np.maximum(stop, start + 1)
    at4 = wavelet.wave_fiducials(wb[0], cfg.t_eps_rms * rms[3], start, stop, margin, cfg.t_xi)
    at5 = wavelet.wave_fiducials(wb[1], cfg.t_eps_rms * rms[4], start, stop, margin, cfg.t_xi)
    missing = ~np.isfinite(at4[1])
    return tuple(np.where(missing, b, a) for a, b in zip(at4, at5, strict=True))


def _p_wave(w4, rms, anchors, qrs_on, t_off, fs: float, cfg: DelineationConfig):
    """P onset, peak, offset (n_leads, n_beats) at scale 2^4, between the previous T and the QRS onset.

    A first pass searches the whole window. When its P-to-anchor intervals wander (:func:`_pr_spread` above
    ``p_pr_spread_s``, as in atrial fibrillation) there are no P waves; otherwise a second pass searches
    ``p_refine_s`` around the lead's median P-to-anchor interval (the median over leads where a lead has
    no P), which keeps stray maxima of the baseline from being taken for the P wave.
    """
    margin = round(cfg.boundary_margin_s * fs)
    eps = cfg.p_eps_rms * rms[3]
    stop = np.round(qrs_on - cfg.p_window_s[1] * fs).astype(int)
    start = np.round(qrs_on - cfg.p_window_s[0] * fs).astype(int)
    prev_end = np.full(anchors.shape, -(10**9))
    prev_end[:, 1:] = np.where(np.isfinite(t_off[:, :-1]), t_off[:, :-1], anchors[:, :-1] + 0.3 * fs)
    start = np.maximum(start, np.round(prev_end).astype(int))
    stop = np.maximum(stop, start + 1)
    first = wavelet.wave_fiducials(w4, eps, start, stop, margin, cfg.p_xi)
    if _pr_spread(first[1], anchors) > cfg.p_pr_spread_s * fs:
        return tuple(np.full(anchors.shape, np.nan) for _ in range(3))
    if cfg.p_refine_s <= 0 or not np.isfinite(first[1]).any():
        return first
    interval = wavelet.nanmedian_rows(anchors - first[1])
    interval = np.where(np.isfinite(interval), interval, np.nanmedian(interval))
    expected = anchors - interval[:, None]
    half = cfg.p_refine_s * fs
    start2 = np.maximum(np.round(expected - half).astype(int), start)
    stop2 = np.maximum(np.minimum(np.round(expected + half).astype(int), stop), start2 + 1)
    return wavelet.wave_fiducials(w4, eps, start2, stop2, margin, cfg.p_xi)


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
    return float(np.median(wavelet.nanmedian_rows(np.abs(pr - wavelet.nanmedian_rows(pr)[:, None]))))


def _pull_to_median(values: np.ndarray, limit: float) -> np.ndarray:
    """Clip each lead's value (n_leads, n_beats) to within ``limit`` of the beat's median over leads."""
    if values.shape[0] < 3 or not np.isfinite(limit):
        return values
    median = np.where(np.isfinite(values).sum(axis=0) >= 3, wavelet.nanmedian_rows(values.T), np.nan)
    return np.where(np.isfinite(median), np.clip(values, median - limit, median + limit), values)


def _rr_intervals(anchors: np.ndarray, fs: float) -> np.ndarray:
    """RR interval following each beat (the previous one for the last beat; 1 s for a lone beat)."""
    if anchors.size < 2:
        return np.full(anchors.shape, fs)
    rr = np.diff(anchors).astype(float)
    return np.concatenate((rr, rr[-1:]))


def _qrs(x, w2, rms2, noise, anchors, fs: float, cfg: DelineationConfig):
    """QRS onset, peak and offset (n_leads, n_beats) from the modulus maxima at scale 2^2."""
    pre, post = (round(s * fs) for s in cfg.qrs_search_s)
    margin = round(cfg.boundary_margin_s * fs)
    core_half = round(0.06 * fs)
    start = anchors - pre - margin
    v, inside = wavelet.windows(w2, start, pre + post + 2 * margin + 1)
    a = np.where(inside, np.abs(v), 0.0)
    j = np.arange(a.shape[-1])
    centre = pre + margin
    core_zone = np.abs(j - centre) <= core_half
    core = np.argmax(np.where(core_zone, a, -1.0), axis=-1)
    peak = np.take_along_axis(a, core[..., None], axis=-1)
    zone = (j >= margin) & (j <= centre + post)
    lm = (wavelet.local_maxima(a) & zone) | (j == core[..., None])
    floor = cfg.qrs_noise_factor * noise[:, None, None]
    is_core = j == core[..., None]
    first_mask = lm & (a > np.maximum(cfg.qrs_gamma[0] * peak, floor)) & (j <= core[..., None])
    first = np.argmax(first_mask | is_core, axis=-1)
    last_mask = lm & (a > np.maximum(cfg.qrs_gamma[1] * peak, floor)) & (j >= core[..., None])
    last = a.shape[-1] - 1 - np.argmax((last_mask | is_core)[..., ::-1], axis=-1)
    a_first = np.take_along_axis(a, first[..., None], axis=-1)
    a_last = np.take_along_axis(a, last[..., None], axis=-1)
    minima = wavelet.local_minima(a)
    on = wavelet.last_true_before((a < cfg.qrs_xi[0] * a_first) | minima, first)
    off = wavelet.first_true_after((a < cfg.qrs_xi[1] * a_last) | minima, last)
    present = peak[..., 0] > 0.5 * np.maximum(rms2, _TINY)[:, None]
    on = np.where(present, start + on + WAVELET_OFFSET, np.nan)
    off = np.where(present, start + off + WAVELET_OFFSET, np.nan)
    r_peak = _qrs_peak(x, on, off, anchors, fs)
    return on, np.where(present, r_peak, np.nan), off


def _qrs_peak(x, on, off, anchors, fs: float) -> np.ndarray:
    """Sample of largest deviation from the onset level between QRS onset and offset (n_leads, n_beats)."""
    half = round(0.1 * fs)
    start = anchors - half
    lo = np.where(np.isfinite(on), on, anchors - 0.04 * fs) - start
    hi = np.where(np.isfinite(off), off, anchors + 0.04 * fs) - start
    v, inside = wavelet.windows(x, start, 2 * half + 1)
    j = np.arange(v.shape[-1])
    base_idx = np.clip(np.round(lo).astype(int), 0, v.shape[-1] - 1)
    base = np.take_along_axis(v, base_idx[..., None], axis=-1)
    zone = inside & (j >= lo[..., None]) & (j <= hi[..., None])
    up = np.where(zone, v - base, -np.inf)
    down = np.where(zone, base - v, -np.inf)
    use_up = np.max(up, axis=-1) >= R_WAVE_FRACTION * np.max(down, axis=-1)
    return start + np.where(use_up, np.argmax(up, axis=-1), np.argmax(down, axis=-1)).astype(float)
