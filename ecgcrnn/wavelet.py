"""Dyadic wavelet transform of Martínez et al. (2004) and small window helpers for the delineator.

The prototype wavelet is the derivative of a quadratic spline smoothing function; the transform is the
undecimated (à trous) filter bank of Mallat with the low-pass filter h = [1, 3, 3, 1] / 8 and the
high-pass filter g = 2 [1, -1], with ``2**(k - 1) - 1`` zeros inserted between the taps at scale 2^k.

Reference
---------
J. P. Martínez, R. Almeida, S. Olmos, A. P. Rocha, P. Laguna, "A wavelet-based ECG delineator: evaluation on
standard databases", IEEE Trans. Biomed. Eng. 51(4):570-581, 2004.
"""

from __future__ import annotations

import numpy as np

WAVELET_OFFSET = 0.5
"""Time, in samples, between index ``n`` of every scale of :func:`quadratic_spline_swt` and the point at
which that coefficient estimates the derivative: ``W[k, ..., n]`` is centred on ``n + 0.5``."""

_H_TAPS = np.array([1.0, 3.0, 3.0, 1.0]) / 8.0


def quadratic_spline_swt(x: np.ndarray, n_scales: int = 5) -> np.ndarray:
    """À trous wavelet transform with the quadratic-spline wavelet, scales 2^1 .. 2^n_scales.

    Every scale keeps the length of the input and has the group delay of its filters removed, so that a
    modulus maximum at index ``n`` marks the steepest slope of the smoothed signal at ``n + 0.5``
    (:data:`WAVELET_OFFSET`) and a zero crossing marks a peak or trough. The ends are extended by
    reflection.

    Parameters
    ----------
    x : np.ndarray, shape (..., n_samples)
        Signals, one per row (e.g. leads), in any unit; float.
    n_scales : int, default 5
        Number of dyadic scales, 2^1 .. 2^n_scales.

    Returns
    -------
    np.ndarray, shape (n_scales, ..., n_samples)
        ``W[k - 1]`` is the transform at scale 2^k, in the unit of ``x`` (twice the smoothed first
        difference at that scale).
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[-1]
    out = np.zeros((n_scales, *x.shape))
    if n == 0:
        return out
    pad = 2**n_scales + 2 ** (n_scales - 1)
    pad_mode = "reflect" if n > 1 else "edge"
    widths = [(0, 0)] * (x.ndim - 1) + [(pad, pad)]
    approx = np.pad(x, widths, mode=pad_mode)
    for k in range(1, n_scales + 1):
        step = 2 ** (k - 1)
        if k == 1:
            detail = 2.0 * (_shift(approx, 1) - approx)
            smooth_offsets = (-1, 0, 1, 2)
        else:
            half = step // 2
            detail = 2.0 * (_shift(approx, half) - _shift(approx, -half))
            smooth_offsets = (-3 * half, -half, half, 3 * half)
        out[k - 1] = detail[..., pad : pad + n]
        if k < n_scales:
            approx = sum(c * _shift(approx, o) for c, o in zip(_H_TAPS, smooth_offsets, strict=True))
    return out


def windows(arr: np.ndarray, start: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Gather equal-length windows from each row of ``arr``.

    Parameters
    ----------
    arr : np.ndarray, shape (n_rows, n_samples)
        Signals, one per row.
    start : np.ndarray of int, shape (n_rows, n_windows)
        First sample of each window in its row; may lie outside the signal.
    length : int
        Window length in samples.

    Returns
    -------
    values : np.ndarray, shape (n_rows, n_windows, length)
        ``arr[r, start[r, w] + j]``, with indices clipped to the signal.
    inside : np.ndarray of bool, shape (n_rows, n_windows, length)
        True where the unclipped index lies inside the signal.
    """
    n_rows, n_samples = arr.shape
    idx = start[..., None] + np.arange(max(length, 0))
    inside = (idx >= 0) & (idx < n_samples)
    flat = np.clip(idx, 0, max(n_samples - 1, 0)).reshape(n_rows, -1)
    values = np.take_along_axis(arr, flat, axis=1).reshape(idx.shape) if n_samples else np.zeros(idx.shape)
    return values, inside


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


def last_true_before(mask: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Index of the last True of each window strictly before ``pos``.

    Parameters
    ----------
    mask : np.ndarray of bool, shape (..., n)
    pos : np.ndarray of int, shape (...)
        Position in the window; the search covers ``0 .. pos - 1``.

    Returns
    -------
    np.ndarray of float, shape (...)
        Window index, NaN where no True lies before ``pos``.
    """
    j = np.arange(mask.shape[-1])
    ok = mask & (j < pos[..., None])
    found = ok.any(axis=-1)
    last = mask.shape[-1] - 1 - np.argmax(ok[..., ::-1], axis=-1)
    return np.where(found, last, np.nan)


def first_true_after(mask: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Index of the first True of each window strictly after ``pos``.

    Parameters
    ----------
    mask : np.ndarray of bool, shape (..., n)
    pos : np.ndarray of int, shape (...)
        Position in the window; the search covers ``pos + 1 .. n - 1``.

    Returns
    -------
    np.ndarray of float, shape (...)
        Window index, NaN where no True lies after ``pos``.
    """
    j = np.arange(mask.shape[-1])
    ok = mask & (j > pos[..., None])
    found = ok.any(axis=-1)
    return np.where(found, np.argmax(ok, axis=-1), np.nan)


def _shift(a: np.ndarray, offset: int) -> np.ndarray:
    """``b[..., n] = a[..., n + offset]``, zero where ``n + offset`` falls outside the array."""
    if offset == 0:
        return a
    out = np.zeros_like(a)
    if offset > 0:
        out[..., :-offset] = a[..., offset:]
    else:
        out[..., -offset:] = a[..., :offset]
    return out
