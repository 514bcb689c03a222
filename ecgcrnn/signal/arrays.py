"""Array helpers that the later stages share."""

from __future__ import annotations

import numpy as np


def nanmedian(values, axis: int = -1) -> np.ndarray:
    """Median of the finite entries along ``axis``; NaN where there are none (no warning).

    The one median of the delineator, the features and the measurements, many times faster than
    :func:`numpy.nanmedian` and :func:`numpy.median` on the small arrays of one record. Where every entry
    is finite (the common case: a lead's samples, its wavelet coefficients, one beat's values), one partition
    at the lower middle rank and the smallest value above it give the two middle values: numpy's median to
    the bit, but for the sign of a zero median between zeros of opposite signs. Otherwise NaN and ±inf count
    as missing: one sort, the two middle finite entries averaged. Either way in ``values``' floating dtype
    (float64 for integers): a caller that wants float64 arithmetic on float32 data passes float64.

    Parameters
    ----------
    values : array_like of float, shape (..., n, ...)
    axis : int, default -1
        The axis reduced.

    Returns
    -------
    numpy.ndarray of ``values``' floating dtype, ``values``' shape without ``axis``
    """
    values = np.moveaxis(np.asarray(values), axis, -1)
    if values.dtype.kind != "f":
        values = values.astype(float)
    n = values.shape[-1]
    if n >= 2 and np.isfinite(values).all():
        lower, upper = adjacent_order_statistics(values, (n - 1) // 2)
        return lower if n % 2 else np.mean(np.stack((lower, upper), axis=-1), axis=-1)
    finite = np.isfinite(values)
    count = finite.sum(axis=-1)
    ordered = np.sort(np.where(finite, values, np.inf), axis=-1)
    if ordered.shape[-1] == 0:
        return np.full(count.shape, np.nan)
    half = values.dtype.type(0.5)
    lo = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0)[..., None], axis=-1)[..., 0]
    hi = np.take_along_axis(ordered, np.maximum(count // 2, 0)[..., None], axis=-1)[..., 0]
    return np.where(count > 0, half * (lo + hi), values.dtype.type(np.nan))


def adjacent_order_statistics(values: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """The values of rank ``rank`` and ``rank + 1`` (from 0, ascending) along the last axis, by one partition.

    Parameters
    ----------
    values : numpy.ndarray, shape (..., n), n > rank + 1

    Returns
    -------
    tuple of two numpy.ndarray, shape (...)
    """
    part = np.partition(values, rank, axis=-1)
    return part[..., rank], part[..., rank + 1 :].min(axis=-1)
