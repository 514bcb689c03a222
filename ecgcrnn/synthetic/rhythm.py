"""Synthetic rhythms: beat times (sinus, atrial fibrillation, flutter, ectopic beats) and atrial waves.

Sinus RR intervals follow McSharry et al. (2003): a bimodal spectrum with Mayer waves at 0.1 Hz and
respiratory sinus arrhythmia at the breathing rate. Atrial fibrillation has independent log-normal RR
intervals (an irregularly irregular ventricular response) and f waves; typical atrial flutter has sawtooth
F waves conducted with a fixed ratio. Premature atrial beats reset the sinus node; premature ventricular
beats leave it alone (a full compensatory pause). Times are in s, dipoles in mV in the Frank directions
of :mod:`ecgcrnn.synthetic.heartvector`.

Reference
---------
P. E. McSharry, G. D. Clifford, L. Tarassenko, L. A. Smith, "A dynamical model for generating synthetic
electrocardiogram signals", IEEE Trans. Biomed. Eng. 50(3):289-294, 2003.
"""

from __future__ import annotations

import numpy as np

from ecgcrnn.synthetic.heartvector import unit


def rr_tachogram(
    rng: np.random.Generator,
    mean_rr_s: float,
    std_rr_s: float,
    duration_s: float,
    lf_hf_ratio: float = 0.5,
    hf_hz: float = 0.25,
    fs_hz: float = 2.0,
) -> np.ndarray:
    """RR intervals as a function of time after McSharry et al. (2003), sampled at ``fs_hz`` from t = 0.

    The spectrum is bimodal: Gaussians of SD 0.01 Hz at 0.1 Hz (Mayer waves) and ``hf_hz`` (respiratory
    sinus arrhythmia) with power ratio ``lf_hf_ratio``; random phases and an inverse FFT give the series,
    which is then scaled so that its first ``duration_s`` seconds have mean ``mean_rr_s`` and SD
    ``std_rr_s``. Returns shape (ceil(duration_s * fs_hz) + 1,), in s.
    """
    n_fft = 512
    f = np.fft.rfftfreq(n_fft, 1 / fs_hz)
    power = lf_hf_ratio * np.exp(-0.5 * ((f - 0.1) / 0.01) ** 2) + np.exp(-0.5 * ((f - hf_hz) / 0.01) ** 2)
    phases = np.exp(2j * np.pi * rng.uniform(size=f.size))
    series = np.fft.irfft(np.sqrt(power) * phases, n_fft)[: int(np.ceil(duration_s * fs_hz)) + 1]
    return mean_rr_s + std_rr_s * (series - series.mean()) / series.std()


def sinus_times(
    rng: np.random.Generator,
    mean_rr_s: float,
    cv: float,
    span_s: tuple[float, float],
    lf_hf_ratio: float = 0.5,
    hf_hz: float = 0.25,
) -> np.ndarray:
    """R times of a sinus rhythm in ``span_s`` (start, end), shape (B,): t_k+1 = t_k + RR(t_k).

    ``cv`` is the RR intervals' coefficient of variation; the first beat falls within one mean RR of the
    start. RR(t) comes from :func:`rr_tachogram`.
    """
    start, end = span_s
    rr = rr_tachogram(rng, mean_rr_s, cv * mean_rr_s, end - start + 2 * mean_rr_s, lf_hf_ratio, hf_hz)
    grid = start + np.arange(rr.size) / 2.0
    beats = [start + rng.uniform(0, mean_rr_s)]
    while beats[-1] < end:
        beats.append(beats[-1] + float(np.interp(beats[-1], grid, rr)))
    return np.array(beats[:-1])


def fibrillation_times(rng: np.random.Generator, mean_rr_s: float, cv: float, span_s) -> np.ndarray:
    """R times of atrial fibrillation in ``span_s``, shape (B,): independent log-normal RR intervals.

    Their coefficient of variation is at least ``cv`` (the draw is stretched about its mean when smaller);
    no interval is shorter than 0.25 s.
    """
    start, end = span_s
    rr = mean_rr_s * np.exp(rng.normal(-cv * cv / 2, cv, int((end - start) / 0.25) + 1))
    rr = mean_rr_s + (rr - mean_rr_s) * max(1.0, cv / (rr.std() / rr.mean()))
    r_s = start + rng.uniform(0, mean_rr_s) + np.cumsum(np.maximum(rr, 0.25))
    return r_s[r_s < end]


def flutter_times(cycle_s: float, ratio: int, first_s: float, end_s: float) -> np.ndarray:
    """R times of ``ratio``:1 flutter: every ``ratio``-th F wave from ``first_s`` to ``end_s``, shape (B,)."""
    return first_s + ratio * cycle_s * np.arange(int(np.ceil((end_s - first_s) / (ratio * cycle_s))))


def insert_ectopics(
    rng: np.random.Generator, r_s: np.ndarray, kinds, window_s
) -> tuple[np.ndarray, np.ndarray]:
    """Make some beats premature: ``kinds`` lists their types, ``A`` (atrial) or ``V`` (ventricular).

    Ectopic beats replace every other beat at most (never two in a row) among those whose R and the R
    before lie in ``window_s`` (start, end); when there are too few, the first ``kinds`` are kept. An
    atrial beat comes at 60-75 % of the RR interval and resets the sinus node (the following beats move
    earlier, a pause of one RR plus 0-80 ms); a ventricular beat comes at 50-68 % and the next beat keeps
    its time (a full compensatory pause).

    Returns
    -------
    (np.ndarray, np.ndarray)
        The new R times, shape (B,), and the beat types (``N``, ``A``, ``V``), shape (B,).
    """
    types = np.full(r_s.size, "N")
    inside = np.flatnonzero((r_s[:-1] > window_s[0]) & (r_s[1:] < window_s[1])) + 1
    candidates = inside[rng.integers(2) :: 2]
    kinds = list(kinds)[: candidates.size]
    chosen = np.sort(rng.choice(candidates, len(kinds), replace=False))
    r_s = r_s.copy()
    for k, kind in zip(chosen, rng.permutation(kinds), strict=True):
        rr = r_s[k] - r_s[k - 1]
        early = r_s[k - 1] + rr * (rng.uniform(0.6, 0.75) if kind == "A" else rng.uniform(0.5, 0.68))
        if kind == "A":
            r_s[k + 1 :] += early - r_s[k] + rng.uniform(0.0, 0.08)
        r_s[k], types[k] = early, kind
    return r_s, types


def fibrillatory_waves(rng: np.random.Generator, t_s: np.ndarray, amplitude_mv: float) -> np.ndarray:
    """Atrial fibrillation's f waves at times ``t_s`` (n,): the atrial dipole, shape (3, n), mV.

    Two frequency- and amplitude-modulated oscillations at 4.5-8.5 Hz (270-510 per minute), each along its
    own mostly anterior direction, so that they are largest in V1.
    """
    dipole = np.zeros((3, t_s.size))
    for _ in range(2):
        rate_hz, swing_hz, drift_hz = rng.uniform(4.5, 8.5), rng.uniform(0.3, 1.0), rng.uniform(0.1, 0.5)
        phase = 2 * np.pi * rate_hz * t_s + swing_hz / drift_hz * np.sin(2 * np.pi * drift_hz * t_s)
        envelope = 1 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t_s + rng.uniform(0, 2 * np.pi))
        direction = unit(np.array([0.15, 0.35, -0.9]) + rng.normal(0, 0.2, 3))
        dipole += np.outer(direction, amplitude_mv / 2 * envelope * np.sin(phase + rng.uniform(0, 2 * np.pi)))
    return dipole


def flutter_waves(t_s: np.ndarray, cycle_s: float, start_s: float, amplitude_mv: float) -> np.ndarray:
    """Typical atrial flutter's F waves at times ``t_s`` (n,): the atrial dipole, shape (3, n), mV.

    A band-limited sawtooth (6 harmonics, Lanczos-smoothed) of period ``cycle_s`` and peak-to-peak
    ``amplitude_mv``, slow ramp then fast return, along a superior-anterior direction: a negative sawtooth
    in II, III and aVF, positive F waves in V1.
    """
    harmonics = np.arange(1, 7)
    sigma = np.sinc(harmonics / 7)
    phase = 2 * np.pi * (t_s - start_s) / cycle_s
    ramp = (((-1.0) ** (harmonics + 1)) * sigma / harmonics) @ np.sin(np.outer(harmonics, phase))
    return np.outer(unit([0.1, -1.0, -0.9]), amplitude_mv * ramp / np.pi)
