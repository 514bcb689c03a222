"""QRS detection and QRS boundaries of the wavelet delineator (Martínez et al. 2004).

Detection: modulus-maximum lines that cross scales 2^4 .. 2^1 above thresholds proportional to each
scale's RMS (:func:`modulus_maxima_lines`), grouped into complexes per lead (:func:`line_complexes`) and
fused into one beat grid over leads (:func:`fuse_complexes`), with a search-back at lower thresholds in long
RR intervals (:func:`detect_beats`). Boundaries: QRS onset and offset from the first and last significant
modulus maxima at scale 2^2 (:func:`qrs_boundaries`). Pacemaker spikes, which the paper does not treat, are
found at the input rate (:func:`pacing_spikes`), bridged before the transform, and the QRS onset of a paced
beat is kept after its spike.

Reference
---------
J. P. Martínez, R. Almeida, S. Olmos, A. P. Rocha, P. Laguna, "A wavelet-based ECG delineator: evaluation on
standard databases", IEEE Trans. Biomed. Eng. 51(4):570-581, 2004.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import maximum_filter1d

from ecgcrnn.delineation import wavelet
from ecgcrnn.delineation.settings import TINY, DelineationConfig
from ecgcrnn.delineation.wavelet import WAVELET_OFFSET
from ecgcrnn.signal.arrays import adjacent_order_statistics, nanmedian


def pacing_spikes(x: np.ndarray, usable: np.ndarray, z_threshold: float) -> np.ndarray:
    """Samples of pacemaker spikes, shared by all leads.

    A spike is a sample whose second difference, in units of the lead's 99th percentile of the absolute
    first difference (its steepest QRS slopes), exceeds ``z_threshold`` in more than half the usable leads:
    a QRS complex, however sharp, spreads its slope over several samples; a stimulus artefact does not.

    Parameters
    ----------
    x : np.ndarray, shape (n_leads, n_samples)
        Leads at the input rate, NaN-free.
    usable : np.ndarray of bool, shape (n_leads,)
        Leads that carry a signal.
    z_threshold : float
        Threshold on the median normalised second difference.

    Returns
    -------
    np.ndarray of bool, shape (n_samples,)
        True at the samples of a spike.
    """
    spikes = np.zeros(x.shape[1], dtype=bool)
    if x.shape[1] < 3 or not usable.any() or not np.isfinite(z_threshold):
        return spikes
    xu = x if usable.all() else x[usable]
    slope = _percentiles(np.abs(np.diff(xu, axis=1)), 99)
    curvature = np.abs(xu[:, 2:] - 2.0 * xu[:, 1:-1] + xu[:, :-2])
    above = curvature > z_threshold * np.maximum(slope, TINY)[:, None]
    spikes[1:-1] = 2 * np.count_nonzero(above, axis=0) > xu.shape[0]
    return spikes


def bridge_spikes(x: np.ndarray, spikes: np.ndarray, half: int) -> np.ndarray:
    """Leads (n_leads, n_samples) with ``half`` samples either side of every spike sample bridged linearly."""
    mask = maximum_filter1d(spikes.astype(np.uint8), 2 * half + 1) > 0
    edges = np.diff(np.concatenate(([0], mask.astype(int), [0])))
    on, off = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    rows = (x.shape[0], on.size)
    return wavelet.bridge_spans(x, np.broadcast_to(on - 1.0, rows), np.broadcast_to(off + 1.0, rows))


def detect_beats(w: np.ndarray, rms: np.ndarray, usable: np.ndarray, fs: float, cfg: DelineationConfig):
    """Beat anchors in internal samples, with a search-back at lower thresholds.

    Where an RR interval exceeds ``searchback_rr`` times the median one, beats found with the thresholds
    scaled by ``searchback_scale`` inside that interval (and beyond the refractory period of its ends) are
    added, as in Martínez et al. (2004).

    Parameters
    ----------
    w : np.ndarray, shape (5, n_leads, n_samples)
        Transform at scales 2^1 .. 2^5 (:func:`ecgcrnn.delineation.wavelet.quadratic_spline_swt`).
    rms : np.ndarray, shape (5, n_leads)
        RMS of every scale and lead.
    usable : np.ndarray of bool, shape (n_leads,)
    fs : float
        Rate of ``w`` in Hz.
    cfg : DelineationConfig

    Returns
    -------
    np.ndarray of int, shape (n_beats,)
        Sorted anchors (strength-weighted mean time of the beat's complexes), in samples.
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


def qrs_boundaries(x, w2, rms2, anchors, spikes, fs: float, cfg: DelineationConfig):
    """QRS onset, peak and offset of every lead and beat from the modulus maxima at scale 2^2.

    The first and last modulus maxima within ``qrs_search_s`` of the anchor that exceed ``qrs_gamma`` of the
    largest one (and ``qrs_noise_factor`` times the median modulus), and lie between the pauses either side
    of it (:func:`_pauses`, ``qrs_pause_s``: the PR and ST segments), are the complex's first and last
    slopes; onset and offset are where the modulus falls below ``qrs_xi`` of those maxima, or reaches a
    local minimum (Martínez et al. 2004). A paced beat's onset is kept ``pace_guard_s`` after its spike.

    Parameters
    ----------
    x : np.ndarray, shape (n_leads, n_samples)
        Leads at the internal rate.
    w2 : np.ndarray, shape (n_leads, n_samples)
        Transform at scale 2^2.
    rms2 : np.ndarray, shape (n_leads,)
        RMS of ``w2``.
    anchors : np.ndarray of int, shape (n_leads, n_beats)
        Beat anchors, in samples.
    spikes : np.ndarray of float, shape (n_spikes,)
        Sorted times of the pacemaker spikes, in samples (:func:`pacing_spikes`, rescaled).
    fs : float
        Internal rate in Hz.
    cfg : DelineationConfig

    Returns
    -------
    onset, peak, offset : np.ndarray of float, shape (n_leads, n_beats)
        In samples; NaN where a lead shows no QRS complex.
    """
    pre, post = (round(s * fs) for s in cfg.qrs_search_s)
    margin = round(cfg.boundary_margin_s * fs)
    start = anchors - pre - margin
    v, inside = wavelet.windows(w2, start, pre + post + 2 * margin + 1)
    a = wavelet.modulus(v, inside)
    j = np.arange(a.shape[-1])
    reach = round(cfg.qrs_core_s * fs)
    core_start = max(pre + margin - reach, 0)
    core = core_start + np.argmax(a[..., core_start : pre + margin + reach + 1], axis=-1)
    peak = wavelet.take_last(a, core)[..., None]
    is_core = j == core[..., None]
    lm = (wavelet.local_maxima(a) & (j >= margin) & (j <= pre + margin + post)) | is_core
    floor = cfg.qrs_noise_factor * nanmedian(np.abs(w2))[:, None, None]
    before, after = _pauses(a < cfg.qrs_gamma[0] * peak, core, round(cfg.qrs_pause_s * fs))
    lm &= (j > before[..., None]) & (j < after[..., None])
    first_mask = lm & (a > np.maximum(cfg.qrs_gamma[0] * peak, floor)) & (j <= core[..., None])
    first = np.argmax(first_mask | is_core, axis=-1)
    last_mask = lm & (a > np.maximum(cfg.qrs_gamma[1] * peak, floor)) & (j >= core[..., None])
    last = a.shape[-1] - 1 - np.argmax((last_mask | is_core)[..., ::-1], axis=-1)
    a_first = wavelet.take_last(a, first)[..., None]
    a_last = wavelet.take_last(a, last)[..., None]
    minima = wavelet.local_minima(a)
    on = wavelet.last_true_before((a < cfg.qrs_xi[0] * a_first) | minima, first)
    off = wavelet.first_true_after((a < cfg.qrs_xi[1] * a_last) | minima, last)
    present = peak[..., 0] > cfg.qrs_presence_rms * np.maximum(rms2, TINY)[:, None]
    on = np.where(present, start + on + WAVELET_OFFSET, np.nan)
    off = np.where(present, start + off + WAVELET_OFFSET, np.nan)
    spike = beat_spikes(anchors, spikes, pre)
    on = np.where(np.isfinite(spike) & np.isfinite(on), np.fmax(on, spike + cfg.pace_guard_s * fs), on)
    r_peak = _qrs_peak(x, on, off, anchors, fs, cfg)
    return on, np.where(present, r_peak, np.nan), off


def beat_spikes(anchors: np.ndarray, spikes: np.ndarray, window: float) -> np.ndarray:
    """Time of the last pacemaker spike within ``window`` samples before each anchor.

    Parameters
    ----------
    anchors : np.ndarray, shape (n_leads, n_beats)
        Beat anchors, in samples.
    spikes : np.ndarray of float, shape (n_spikes,)
        Sorted spike times, in samples.
    window : float
        Longest spike-to-anchor interval, in samples.

    Returns
    -------
    np.ndarray of float, shape (n_leads, n_beats)
        Spike time in samples, NaN for beats without a spike.
    """
    if spikes.size == 0:
        return np.full(anchors.shape, np.nan)
    last = np.searchsorted(spikes, anchors) - 1
    spike = spikes[np.clip(last, 0, spikes.size - 1)]
    return np.where((last >= 0) & (anchors - spike <= window), spike, np.nan)


def refine_peak(x: np.ndarray, peak: np.ndarray, half: int) -> np.ndarray:
    """Move each peak (n_leads, n_beats) to the same-polarity extremum of ``x`` within ``half`` samples."""
    if half < 1 or peak.size == 0:
        return peak
    finite = np.isfinite(peak)
    centre = np.where(finite, np.round(peak), 0).astype(int)
    v, inside = wavelet.windows(x, centre - half, 2 * half + 1)
    polarity = np.sign(v[..., half : half + 1] - np.mean(v, axis=-1, keepdims=True))
    best = np.argmax(np.where(inside, polarity * v, -np.inf), axis=-1)
    return np.where(finite, centre - half + best, np.nan).astype(float)


def modulus_maxima_lines(w: np.ndarray, eps: np.ndarray, halfwidth: int) -> tuple[np.ndarray, ...]:
    """Modulus-maximum lines that cross scales 2^4 .. 2^1 above a threshold at every scale.

    A line starts at a local maximum of ``|W|`` at scale 2^4 above its threshold and continues at each
    finer scale when a coefficient of the same sign within ``halfwidth`` samples exceeds that scale's
    threshold (Martínez et al. 2004, QRS detection).
    The neighbourhoods are gathered around the candidate maxima only, the signal's ends extended by
    reflection (``scipy.ndimage``'s ``"reflect"``, as a running maximum over the whole signal would see them).

    Parameters
    ----------
    w : np.ndarray, shape (n_scales >= 4, n_rows, n_samples)
        Output of :func:`quadratic_spline_swt`.
    eps : np.ndarray, shape (4, n_rows)
        Thresholds at scales 2^1 .. 2^4, per row, in the unit of ``w``.
    halfwidth : int
        Neighbourhood, in samples, searched at the finer scales.

    Returns
    -------
    row, position : np.ndarray of int, shape (n_lines,)
        Row (lead) and sample of each line at scale 2^4, sorted by row then position.
    positive : np.ndarray of bool, shape (n_lines,)
        Sign of the line (True: rising slope).
    modulus : np.ndarray of float, shape (n_lines,)
        Largest same-sign modulus at scale 2^2 near the line.
    """
    a4 = np.abs(w[3])
    row, position = np.nonzero(wavelet.local_maxima(a4) & (a4 > eps[3][:, None]))
    positive = w[3][row, position] > 0
    sign = np.where(positive, 1.0, -1.0)[:, None]
    near = _reflect(position[:, None] + np.arange(-halfwidth, halfwidth + 1), w.shape[-1])
    alive = np.arange(row.size)  # the lines still above every threshold so far, finer scales read only these
    modulus = np.zeros(row.size)
    for k in (2, 1, 0):
        same = np.max(sign[alive] * w[k][row[alive, None], near[alive]], axis=-1, initial=-np.inf)
        passed = same > eps[k][row[alive]]
        alive = alive[passed]
        if k == 1:
            modulus[alive] = same[passed]
    return row[alive], position[alive], positive[alive], modulus[alive]


def line_complexes(lead, pos, positive, strength, gap: int):
    """Group modulus-maximum lines closer than ``gap`` samples in one row into complexes.

    Isolated lines and groups whose lines all share one sign (steps, not waves) are dropped.

    Parameters
    ----------
    lead, pos, positive, strength : np.ndarray, shape (n_lines,)
        Row, position, sign and strength of each line, sorted by row then position (as returned by
        :func:`modulus_maxima_lines`).
    gap : int
        Largest gap, in samples, between consecutive lines of one complex.

    Returns
    -------
    lead, time, strength : np.ndarray, shape (n_complexes,)
        Row of each complex, its time (midway between its strongest rising and strongest falling line, in
        samples) and its largest line strength.
    """
    new = np.ones(lead.size, dtype=bool)
    new[1:] = (lead[1:] != lead[:-1]) | (np.diff(pos) > gap)
    gid = np.cumsum(new) - 1
    n_groups = gid[-1] + 1
    key = 2 * gid + positive
    order = np.lexsort((strength, key))
    ends = np.ones(order.size, dtype=bool)
    ends[:-1] = key[order][1:] != key[order][:-1]
    best_pos = np.full(2 * n_groups, -1)
    best_pos[key[order][ends]] = pos[order][ends]
    neg_pos, pos_pos = best_pos[0::2], best_pos[1::2]
    both = (neg_pos >= 0) & (pos_pos >= 0)
    group_strength = np.zeros(n_groups)
    np.maximum.at(group_strength, gid, strength)
    group_lead = lead[new]
    return group_lead[both], 0.5 * (neg_pos + pos_pos)[both], group_strength[both]


def fuse_complexes(
    lead, time, strength, need: int, gap: float, refractory: float, weak_fraction: float
) -> np.ndarray:
    """Fuse the QRS complexes of several rows (leads) into one grid of beats.

    Complexes closer than ``gap`` belong to one beat; a beat needs complexes in at least ``need`` rows and
    a mean strength of at least ``weak_fraction`` times the median beat's; of two beats closer than
    ``refractory`` the one with the larger (strength x rows) score is kept.

    Parameters
    ----------
    lead, time, strength : np.ndarray, shape (n_complexes,)
        Output of :func:`line_complexes`.
    need : int
        Rows that must show the complex.
    gap, refractory : float
        In samples.
    weak_fraction : float
        Fraction of the median beat strength below which a beat is dropped.

    Returns
    -------
    np.ndarray of int, shape (n_beats,)
        Beat anchors, sorted: strength-weighted mean time of the beat's complexes, in samples.
    """
    order = np.argsort(time, kind="stable")
    lead, time, strength = lead[order], time[order], strength[order]
    cid = np.concatenate(([0], np.cumsum(np.diff(time) > gap)))
    n_clusters = cid[-1] + 1
    pairs = np.unique(cid * (lead.max() + 1) + lead)
    support = np.bincount(pairs // (lead.max() + 1), minlength=n_clusters)
    weight = np.bincount(cid, strength, minlength=n_clusters)
    anchor = np.bincount(cid, strength * time, minlength=n_clusters) / np.maximum(weight, 1e-12)
    keep = support >= need
    mean_strength = weight / np.maximum(np.bincount(cid, minlength=n_clusters), 1)
    if keep.any():
        keep &= mean_strength >= weak_fraction * nanmedian(mean_strength[keep])
    anchor, score = anchor[keep], (weight * support)[keep]
    accepted = np.zeros(anchor.size, dtype=bool)
    times, kept = anchor.tolist(), []
    for i in np.argsort(-score, kind="stable").tolist():
        if all(abs(other - times[i]) >= refractory for other in kept):
            accepted[i] = True
            kept.append(times[i])
    return np.round(anchor[accepted]).astype(int)


def _detect_pass(w, rms, usable, fs: float, cfg: DelineationConfig, scale: float) -> np.ndarray:
    """One detection pass: QRS lines per lead, grouped into complexes, fused over leads (n_beats,)."""
    eps = np.maximum(scale * np.asarray(cfg.qrs_eps_rms)[:, None] * rms[:4], TINY)
    eps[:, ~usable] = np.inf
    lead, pos, sign, strength = modulus_maxima_lines(w, eps, round(cfg.line_halfwidth_s * fs))
    strength = strength / np.maximum(rms[1][lead], TINY)
    if lead.size == 0:
        return np.zeros(0, dtype=int)
    lead, time, strength = line_complexes(lead, pos, sign, strength, round(cfg.complex_gap_s * fs))
    if lead.size == 0:
        return np.zeros(0, dtype=int)
    need = max(1, math.ceil(cfg.min_lead_fraction * usable.sum() - 1e-9))
    return fuse_complexes(
        lead, time, strength, need, cfg.fuse_gap_s * fs, cfg.refractory_s * fs, cfg.weak_beat_fraction
    )


def _reflect(index: np.ndarray, n: int) -> np.ndarray:
    """Indices folded into 0 .. n - 1 by half-sample symmetric reflection (d c b a | a b c d | d c b a)."""
    folded = np.mod(index, 2 * n)
    return np.where(folded < n, folded, 2 * n - 1 - folded)


def _pauses(quiet: np.ndarray, core: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """The pauses either side of each complex's largest slope, as window indices (n_leads, n_beats).

    A pause is a run of at least ``length`` samples where the modulus at scale 2^2 is not significant
    (``quiet``, shape (n_leads, n_beats, n_window)): an isoelectric segment such as PR or ST, which the
    complex does not cross, unlike the brief zero crossings at its own peaks. Returns the centre of the last
    pause before ``core`` and of the first after it (-1 and n_window where there is none).
    """
    n = quiet.shape[-1]
    if length < 2:
        return np.full(core.shape, -1), np.full(core.shape, n)
    # paused[i]: quiet at every sample from i - length // 2 to i + (length - 1) // 2, none beyond the window
    lead = length // 2
    padded = np.zeros((*quiet.shape[:-1], n + length - 1), dtype=bool)
    padded[..., lead : lead + n] = quiet
    paused = padded[..., :n].copy()
    for shift in range(1, length):
        paused &= padded[..., shift : shift + n]
    before = wavelet.last_true_before(paused, core, missing=-1)
    after = wavelet.first_true_after(paused, core, missing=n)
    return before, after


def _qrs_peak(x, on, off, anchors, fs: float, cfg: DelineationConfig) -> np.ndarray:
    """Sample of largest deviation from the onset level between QRS onset and offset (n_leads, n_beats)."""
    half, assumed = round(cfg.r_search_s[0] * fs), cfg.r_search_s[1] * fs
    start = anchors - half
    lo = np.where(np.isfinite(on), on, anchors - assumed) - start
    hi = np.where(np.isfinite(off), off, anchors + assumed) - start
    v, inside = wavelet.windows(x, start, 2 * half + 1)
    j = np.arange(v.shape[-1])
    base_idx = np.clip(np.round(lo).astype(int), 0, v.shape[-1] - 1)
    base = wavelet.take_last(v, base_idx)[..., None]
    outside = ~(inside & (j >= lo[..., None]) & (j <= hi[..., None]))
    up = v - base
    down = -up
    up[outside] = down[outside] = -np.inf
    highest, lowest = np.argmax(up, axis=-1), np.argmax(down, axis=-1)
    use_up = wavelet.take_last(up, highest) >= cfg.r_wave_fraction * wavelet.take_last(down, lowest)
    return start + np.where(use_up, highest, lowest).astype(float)


def _percentiles(values: np.ndarray, percent: float) -> np.ndarray:
    """``np.percentile(values, percent, axis=-1)`` (linear interpolation), bit for bit, by one partition.

    As for a median (:func:`~ecgcrnn.signal.arrays.nanmedian`): numpy partitions at the two ranks either side
    of the percentile's position ``(n - 1) * percent / 100`` and at both ends; one partition and the smallest
    value above it give the two values, interpolated as numpy's ``_lerp`` does (from the upper one when the
    fraction is 0.5 or more); the sign of a zero aside, the result is numpy's to the bit.
    """
    n = values.shape[-1]
    fraction = np.true_divide(percent, 100)
    position = (n - 1) * fraction
    rank = math.floor(position)
    if not 0 <= rank < n - 1 or not np.isfinite(values).all():
        return np.percentile(values, percent, axis=-1)
    lower, upper = adjacent_order_statistics(values, rank)
    weight = float(position - rank)
    step = upper - lower
    return upper - step * (1 - weight) if weight >= 0.5 else lower + step * weight
