"""The delineator's wavelet transform as it was written before PyWavelets computed it: the reference that
:func:`ecgcrnn.delineation.wavelet.quadratic_spline_swt` is tested against
(tests/delineation/test_wavelet.py) and timed beside (bench/speed/wavelet.py).

Reference
---------
J. P. Martínez, R. Almeida, S. Olmos, A. P. Rocha, P. Laguna, "A wavelet-based ECG delineator: evaluation on
standard databases", IEEE Trans. Biomed. Eng. 51(4):570-581, 2004.
"""

from __future__ import annotations

import numpy as np

H_TAPS = np.array([1.0, 3.0, 3.0, 1.0]) / 8.0
"""The low-pass filter h = [1, 3, 3, 1] / 8."""


def hand_written_swt(x: np.ndarray, n_scales: int = 5) -> np.ndarray:
    """À trous filter bank with h = [1, 3, 3, 1] / 8 and g = 2 [1, -1] (Martínez et al. 2004), each scale
    realigned so that index ``n`` is centred on ``n + 0.5``, ends extended by reflection.

    Parameters
    ----------
    x : np.ndarray, shape (..., n_samples)
        Signals, one per row, in any unit.
    n_scales : int, default 5
        Number of dyadic scales, 2^1 .. 2^n_scales; at least 1.

    Returns
    -------
    np.ndarray, shape (n_scales, ..., n_samples)
        ``W[k - 1]`` is the transform at scale 2^k, in the unit of ``x``.
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[-1]
    out = np.zeros((n_scales, *x.shape))
    if n == 0:
        return out
    pad = 2**n_scales + 2 ** (n_scales - 1)
    widths = [(0, 0)] * (x.ndim - 1) + [(pad, pad)]
    approx = np.pad(x, widths, mode="reflect" if n > 1 else "edge")
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
            approx = sum(c * _shift(approx, o) for c, o in zip(H_TAPS, smooth_offsets, strict=True))
    return out


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
