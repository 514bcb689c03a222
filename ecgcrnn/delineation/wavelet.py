"""Wavelet-domain building blocks of the delineator (Martínez et al. 2004).

The dyadic transform (:func:`quadratic_spline_swt`); the threshold search for a wave's peak and boundaries
at one scale (:func:`wave_fiducials`); and vectorised window helpers shared by these searches and by the QRS
detector (:mod:`ecgcrnn.delineation.qrs`). Everything works on many rows (leads) and windows (beats) at once.

The prototype wavelet is the derivative of a quadratic spline smoothing function; the transform is the
undecimated (à trous) filter bank of Mallat with the low-pass filter h = [1, 3, 3, 1] / 8 and the
high-pass filter g = 2 [1, -1], with ``2**(k - 1) - 1`` zeros inserted between the taps at scale 2^k: the
stationary wavelet transform of PyWavelets with that filter bank, realigned.

Reference
---------
J. P. Martínez, R. Almeida, S. Olmos, A. P. Rocha, P. Laguna, "A wavelet-based ECG delineator: evaluation on
standard databases", IEEE Trans. Biomed. Eng. 51(4):570-581, 2004.
"""

from __future__ import annotations

import numpy as np
import pywt

WAVELET_OFFSET = 0.5
"""Time, in samples, between index ``n`` of every scale of :func:`quadratic_spline_swt` and the point at
which that coefficient estimates the derivative: ``W[k, ..., n]`` is centred on ``n + 0.5``."""

_H_TAPS = np.array([1.0, 3.0, 3.0, 1.0]) / 8.0
_G_TAPS = np.array([0.0, 2.0, -2.0, 0.0])
"""The high-pass filter 2 [1, -1], padded with zeros to the low-pass filter's length (PyWavelets wants one
length for the whole bank)."""

_QUADRATIC_SPLINE = pywt.Wavelet("quadratic_spline", filter_bank=(_H_TAPS, _G_TAPS, _H_TAPS, _G_TAPS))
"""The filter bank as a PyWavelets wavelet; its reconstruction filters are placeholders (nothing inverts)."""


def quadratic_spline_swt(x: np.ndarray, n_scales: int = 5, first_scale: int = 1) -> np.ndarray:
    """À trous wavelet transform with the quadratic-spline wavelet, scales 2^first_scale .. 2^n_scales.

    Every scale keeps the length of the input and has the group delay of its filters removed, so that a
    modulus maximum at index ``n`` marks the steepest slope of the smoothed signal at ``n + 0.5``
    (:data:`WAVELET_OFFSET`) and a zero crossing marks a peak or trough. The ends are extended by
    reflection (a single sample is repeated).

    Parameters
    ----------
    x : np.ndarray, shape (..., n_samples)
        Signals, one per row (e.g. leads), in any unit; real.
    n_scales : int, default 5
        Number of dyadic scales, 2^1 .. 2^n_scales; at least 1.
    first_scale : int, default 1
        The finest scale returned, 1 .. n_scales: the finer ones are computed all the same (the coarser ones
        are made from their approximations) but not kept.

    Returns
    -------
    np.ndarray of float64, shape (n_scales - first_scale + 1, ..., n_samples)
        ``W[k - first_scale]`` is the transform at scale 2^k, in the unit of ``x`` (twice the smoothed
        first difference at that scale).

    Raises
    ------
    ValueError
        If ``n_scales`` is below 1, or ``first_scale`` outside 1 .. n_scales.

    Notes
    -----
    The filter bank runs as PyWavelets' stationary wavelet transform (``pywt.swt``, ``norm=False``), one
    level per call so that only one level's coefficients are alive at a time. Its level ``k`` (taps
    ``s = 2**(k - 1)`` apart, periodic extension) computes ``a_k[i] = sum_m h[m] a_{k-1}[i + (2 - m) s]``
    and ``d_k[i] = 2 (a_{k-1}[i + s] - a_{k-1}[i])``. The transform of Martínez et al. centres every scale
    on ``n + 0.5``: at scale 2^1 its filters read the same offsets, ``(-1, 0, 1, 2)`` and ``(0, 1)``; further
    on, its low-pass filter reads ``(-3, -1, 1, 3) * s / 2``, ``s / 2`` earlier than PyWavelets', and its
    high-pass filter ``n - s / 2`` and ``n + s / 2``. These delays add up to
    ``W[k - 1, n] = d_k[n - 2**(k - 1) + 1]``. The signal is reflected by ``3 * 2**(n_scales - 1)`` samples
    on either side, the reach of every tap (the zero ones included), and on to a multiple of
    ``2**n_scales`` as PyWavelets requires, so that the periodic wrap reaches no kept coefficient.
    """
    if n_scales < 1:
        raise ValueError(f"quadratic_spline_swt: n_scales must be at least 1, got {n_scales!r}")
    if not 1 <= first_scale <= n_scales:
        raise ValueError(f"quadratic_spline_swt: first_scale must be in 1 .. {n_scales}, got {first_scale!r}")
    x = np.asarray(x, dtype=float)
    n = x.shape[-1]
    out = np.empty((n_scales - first_scale + 1, *x.shape))
    if n == 0:
        return out
    margin = 3 * 2 ** (n_scales - 1)
    right = margin + (-(n + 2 * margin)) % 2**n_scales
    widths = [(0, 0)] * (x.ndim - 1) + [(margin, right)]
    approx = np.pad(x, widths, mode="reflect" if n > 1 else "edge")
    for k in range(1, n_scales + 1):
        ((approx, detail),) = pywt.swt(
            approx, _QUADRATIC_SPLINE, level=1, start_level=k - 1, norm=False, axis=-1
        )
        if k >= first_scale:
            first = margin - 2 ** (k - 1) + 1
            out[k - first_scale] = detail[..., first : first + n]
    return out


def windows(
    arr: np.ndarray, start: np.ndarray, length: int, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Gather equal-length windows from each row of ``arr``.

    Parameters
    ----------
    arr : np.ndarray, shape (n_rows, n_samples)
        Signals, one per row.
    start : np.ndarray of int, shape (n_rows, n_windows)
        First sample of each window in its row; may lie outside the signal.
    length : int
        Window length in samples.
    rows : np.ndarray of int, shape (n_start_rows,), optional
        The row of ``arr`` that each row of ``start`` (then of shape (n_start_rows, n_windows)) reads; by
        default row ``r`` of ``start`` reads row ``r`` of ``arr`` (n_start_rows = n_rows).

    Returns
    -------
    values : np.ndarray, shape (n_start_rows, n_windows, length)
        ``arr[r, start[r, w] + j]`` (row ``rows[r]`` given ``rows``), with indices clipped to the signal.
    inside : np.ndarray of bool, shape (n_start_rows, n_windows, length)
        True where the unclipped index lies inside the signal.
    """
    n_rows, n_samples = arr.shape
    idx = start[..., None] + np.arange(max(length, 0))
    inside = (idx >= 0) & (idx < n_samples)
    if n_samples == 0:
        return np.zeros(idx.shape), inside
    np.clip(idx, 0, n_samples - 1, out=idx)
    idx += (n_samples * (np.arange(n_rows) if rows is None else rows))[:, None, None]
    return arr.reshape(-1)[idx], inside


def modulus(v: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """``|v|`` where ``inside``, 0 elsewhere: the modulus of gathered windows (:func:`windows`) that the
    searches read, the samples beyond the signal's ends counting as no slope.

    Parameters
    ----------
    v : np.ndarray, shape (..., n)
    inside : np.ndarray of bool, shape (..., n)

    Returns
    -------
    np.ndarray, shape (..., n)
    """
    a = np.abs(v)
    a[~inside] = 0.0
    return a


def take_last(a: np.ndarray, index: np.ndarray) -> np.ndarray:
    """One element of every window: ``a[..., index[...]]`` (``np.take_along_axis`` on the last axis).

    Parameters
    ----------
    a : np.ndarray, shape (..., n)
    index : np.ndarray of int, shape (...)
        Position in each window, 0 .. n - 1.

    Returns
    -------
    np.ndarray, shape (...)
    """
    flat = index + a.shape[-1] * np.arange(index.size).reshape(index.shape)
    return a.reshape(-1)[flat]


def local_maxima(a: np.ndarray) -> np.ndarray:
    """Boolean mask of local maxima along the last axis (``a[j-1] <= a[j] > a[j+1]``); ends excluded.

    Parameters
    ----------
    a : np.ndarray, shape (..., n)

    Returns
    -------
    np.ndarray of bool, shape (..., n)
    """
    mask = np.zeros(a.shape, dtype=bool)
    mask[..., 1:-1] = (a[..., 1:-1] >= a[..., :-2]) & (a[..., 1:-1] > a[..., 2:])
    return mask


def local_minima(a: np.ndarray) -> np.ndarray:
    """Boolean mask of local minima along the last axis (``a[j-1] >= a[j] <= a[j+1]``); ends excluded.

    Parameters
    ----------
    a : np.ndarray, shape (..., n)

    Returns
    -------
    np.ndarray of bool, shape (..., n)
    """
    mask = np.zeros(a.shape, dtype=bool)
    mask[..., 1:-1] = (a[..., 1:-1] <= a[..., :-2]) & (a[..., 1:-1] <= a[..., 2:])
    return mask


def last_true_before(mask: np.ndarray, pos: np.ndarray, missing: float = np.nan) -> np.ndarray:
    """Index of the last True of each window strictly before ``pos``.

    Parameters
    ----------
    mask : np.ndarray of bool, shape (..., n)
    pos : np.ndarray of int, shape (...)
        Position in the window; the search covers ``0 .. pos - 1``.
    missing : float, default nan
        The result where no True lies before ``pos`` (an int gives an int array).

    Returns
    -------
    np.ndarray of float, shape (...)
        Window index, ``missing`` where no True lies before ``pos``.
    """
    j = np.arange(mask.shape[-1])
    ok = mask & (j < pos[..., None])
    last = mask.shape[-1] - 1 - np.argmax(ok[..., ::-1], axis=-1)
    return np.where(take_last(ok, last), last, missing)


def first_true_after(mask: np.ndarray, pos: np.ndarray, missing: float = np.nan) -> np.ndarray:
    """Index of the first True of each window strictly after ``pos``.

    Parameters
    ----------
    mask : np.ndarray of bool, shape (..., n)
    pos : np.ndarray of int, shape (...)
        Position in the window; the search covers ``pos + 1 .. n - 1``.
    missing : float, default nan
        The result where no True lies after ``pos`` (an int gives an int array).

    Returns
    -------
    np.ndarray of float, shape (...)
        Window index, ``missing`` where no True lies after ``pos``.
    """
    j = np.arange(mask.shape[-1])
    ok = mask & (j > pos[..., None])
    first = np.argmax(ok, axis=-1)
    return np.where(take_last(ok, first), first, missing)


def wave_fiducials(w, eps, zone_start, zone_stop, margin: int, xi: tuple[float, float]):
    """Onset, peak and offset of one wave per window, from one scale of the transform (P and T waves).

    The wave is present when a modulus maximum in the zone exceeds ``eps``; its peak is the zero crossing
    between that maximum and the largest maximum of opposite sign in the zone; onset and offset are where
    the modulus falls below ``xi`` times the first / last of those two maxima, or reaches a local minimum,
    searching up to ``margin`` samples outside the zone (Martínez et al. 2004).

    Parameters
    ----------
    w : np.ndarray, shape (n_rows, n_samples)
        One scale of :func:`quadratic_spline_swt`.
    eps : np.ndarray, shape (n_rows,)
        Presence threshold per row, in the unit of ``w``.
    zone_start, zone_stop : np.ndarray of int, shape (n_rows, n_windows)
        Search zone [start, stop) of the wave's maxima, in samples.
    margin : int
        Extra samples searched for the boundaries on either side of the zone.
    xi : (float, float)
        Onset and offset thresholds, fractions of the first / last maximum's modulus.

    Returns
    -------
    onset, peak, offset : np.ndarray of float, shape (n_rows, n_windows)
        Positions in samples of the signal (including :data:`WAVELET_OFFSET`), NaN where absent.
    """
    start = zone_start - margin
    length = int(np.max(zone_stop - zone_start)) + 2 * margin
    v, inside = windows(w, start, length)
    a = modulus(v, inside)
    j = np.arange(length)
    zone = inside & (j >= margin) & (j < (zone_stop - start)[..., None])
    lm = local_maxima(a) & zone
    big = lm & (a > np.maximum(eps, 1e-12)[:, None, None])
    present = big.any(axis=-1)
    main = np.argmax(np.where(big, a, -1.0), axis=-1)
    main_sign = np.sign(take_last(v, main))[..., None]
    opposite = lm & (np.sign(v) == -main_sign)
    partner = np.argmax(np.where(opposite, a, -1.0), axis=-1)
    paired = present & opposite.any(axis=-1)
    first = np.where(paired, np.minimum(main, partner), main)
    last = np.where(paired, np.maximum(main, partner), main)
    crossing = np.zeros(v.shape, dtype=bool)
    crossing[..., :-1] = (v[..., :-1] * v[..., 1:] <= 0) & (v[..., :-1] != 0)
    jz = first_true_after(crossing | (j == last[..., None]), first - 1)
    jz_int = np.clip(np.where(np.isnan(jz), 0, jz).astype(int), 0, length - 2)
    v0, v1 = take_last(v, jz_int), take_last(v, jz_int + 1)
    frac = np.clip(v0 / np.where(v0 != v1, v0 - v1, 1.0), 0.0, 1.0)
    peak = np.where(paired & (jz < last), jz + frac, np.nan)
    a_first, a_last = take_last(a, first)[..., None], take_last(a, last)[..., None]
    minima = local_minima(a)
    on = last_true_before((a < xi[0] * a_first) | minima, first)
    off = first_true_after((a < xi[1] * a_last) | minima, last)
    return tuple(np.where(present, start + t + WAVELET_OFFSET, np.nan) for t in (on, peak, off))


def bridge_spans(x: np.ndarray, on: np.ndarray, off: np.ndarray) -> np.ndarray:
    """Copy of ``x`` with every span [on, off] replaced by the straight line between its end samples.

    Parameters
    ----------
    x : np.ndarray, shape (n_rows, n_samples)
    on, off : np.ndarray of float, shape (n_rows, n_spans)
        Span ends in samples (e.g. QRS onset and offset), rounded outwards.

    Returns
    -------
    np.ndarray, shape (n_rows, n_samples)
    """
    n_leads, n = x.shape
    lo = np.clip(np.floor(on).astype(int), 0, n - 1)
    hi = np.clip(np.ceil(off).astype(int) + 1, 0, n)
    row_start = (n + 1) * np.arange(n_leads)[:, None]
    size = n_leads * (n + 1)
    edges = np.bincount((row_start + lo).ravel(), minlength=size) - np.bincount(
        (row_start + hi).ravel(), minlength=size
    )
    inside = np.cumsum(edges.reshape(n_leads, n + 1)[:, :-1], axis=1) > 0
    idx = np.arange(n)
    left = np.maximum.accumulate(np.where(inside, -1, idx), axis=1)[inside]
    right = np.minimum.accumulate(np.where(inside, n, idx)[:, ::-1], axis=1)[:, ::-1][inside]
    rows, cols = np.nonzero(inside)
    left_ok, right_ok = left >= 0, right < n
    xl = x[rows, np.clip(left, 0, n - 1)]
    xr = x[rows, np.clip(right, 0, n - 1)]
    xl, xr = np.where(left_ok, xl, xr), np.where(right_ok, xr, xl)
    frac = np.where(left_ok & right_ok, (cols - left) / np.maximum(right - left, 1), 0.5)
    out = np.array(x, dtype=np.result_type(x, frac))
    out[rows, cols] = xl + frac * (xr - xl)
    return out
