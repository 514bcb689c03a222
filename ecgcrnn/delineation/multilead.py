"""Global fiducials: one set of boundaries per beat for the whole heart, from the leads' own.

The CSE working party (Willems et al. 1985, 1987) measured a 12-lead ECG's intervals between *global*
boundaries: the QRS onset is the earliest onset of ventricular activity in any lead and the offset the latest
end, and likewise for the P wave and the T wave's end. Taken literally, one lead with a misplaced boundary
moves the global one, so a lead's onset (offset) counts only when it lies within an agreement window of the
beat's median over the leads. Of those, the earliest (latest) is not taken either: each lead's boundary is
an estimate with an error of about 10 ms SD, and the earliest of twelve such estimates falls about 1.6 SD
before the true one (the expected minimum of twelve normal deviates), which made the global QRS of normal
records 8-10 ms longer than the normal values of interpretive electrocardiographs (median 104 ms on the
Challenge's sinus-rhythm-only records, against about 95 ms) and of the simulator's true fiducials (+13 ms).
The global onset is a low order statistic instead, :attr:`~ecgcrnn.delineation.settings.DelineationConfig.
global_rank` of the way from the earliest to the latest agreeing lead (the third of twelve leads, the
second of six, the earliest of two or three), the offset the same from the latest. Peaks are the median
over leads.

The window depends on the wave. The boundaries of the slow P and T waves spread over the leads two to three
times as far as the QRS boundaries do (LUDB's own marks: an SD over the leads of 18 ms for the P boundaries
and 23 ms for the T offset, against 8 ms for the QRS onset), so a lead's P or T boundary is an outlier only
further from the median: :attr:`~ecgcrnn.delineation.settings.DelineationConfig.global_agreement_s` for the
QRS, :attr:`~ecgcrnn.delineation.settings.DelineationConfig.global_agreement_p_t_s` for P and T.

In a paced beat (a pacemaker spike within ``qrs_search_s[0]`` before the beat's R) ventricular activation
starts with the stimulus, so the global QRS onset is the end of the spike (``pace_halfwidth_s`` after its
first sample) unless a lead's onset is earlier still; the leads' own onsets are held ``pace_guard_s`` after
the spike, clear of the artefact, and would put the global onset late.
"""

from __future__ import annotations

import numpy as np

from ecgcrnn.delineation.qrs import beat_spikes
from ecgcrnn.delineation.settings import DelineationConfig
from ecgcrnn.domain import FIDUCIALS
from ecgcrnn.signal.arrays import nanmedian

ONSETS = ("P_on", "QRS_on", "T_on")
OFFSETS = ("P_off", "QRS_off", "T_off")


def global_fiducials(
    per_lead: dict, fs: float, config: DelineationConfig, spikes: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Per beat, the global fiducials of the leads' own (not pulled together) fiducials.

    Parameters
    ----------
    per_lead : dict of str to numpy.ndarray
        Keys :data:`FIDUCIALS`, shape (n_leads, n_beats), sample indices (NaN where absent).
    fs : float
        Sampling rate of the indices, Hz.
    config : DelineationConfig
    spikes : numpy.ndarray, shape (n_spikes,), optional
        Sorted sample indices of the pacemaker spikes (their first samples); none when None.

    Returns
    -------
    dict of str to numpy.ndarray
        Keys :data:`FIDUCIALS`, shape (n_beats,); NaN where no lead has the fiducial.
    """
    p_window, t_window = config.global_agreement_p_t_s
    windows = {"P": p_window, "QRS": config.global_agreement_s, "T": t_window}
    values = np.stack([np.asarray(per_lead[key], dtype=np.float64) for key in FIDUCIALS])
    medians = nanmedian(np.asarray(values, dtype=float), axis=1)
    out = dict(zip(FIDUCIALS, medians, strict=True))
    for keys, earliest in ((ONSETS, True), (OFFSETS, False)):
        rows = [FIDUCIALS.index(key) for key in keys]
        window = np.array([windows[key.split("_")[0]] * fs for key in keys])
        chosen = _extreme(values[rows], medians[rows], window, earliest, config.global_rank)
        out.update(zip(keys, chosen, strict=True))
    if spikes is not None and np.size(spikes) and out["R"].size:
        window = config.qrs_search_s[0] * fs
        spike = beat_spikes(out["R"][None, :], np.asarray(spikes, dtype=np.float64), window)
        paced = spike[0] + config.pace_halfwidth_s * fs
        out["QRS_on"] = np.where(np.isfinite(paced), np.fmin(out["QRS_on"], paced), out["QRS_on"])
    return out


def _extreme(values: np.ndarray, median: np.ndarray, window: np.ndarray, earliest: bool, rank: float):
    """A low (onsets) or high (offsets) order statistic of the leads' values within ``window`` of the beat's
    median: of the n agreeing leads, the one ``round(rank * (n - 1))`` places from the earliest (latest).

    ``values`` has shape (n_fiducials, n_leads, n_beats), ``median`` (n_fiducials, n_beats) and ``window``
    (n_fiducials,), in samples; returns shape (n_fiducials, n_beats).
    """
    kept = np.where(np.abs(values - median[:, None, :]) <= window[:, None, None], values, np.nan)
    if kept.shape[1] == 0:
        return np.full(median.shape, np.nan)
    count = np.isfinite(kept).sum(axis=1)
    ordered = np.sort(np.where(np.isfinite(kept), kept if earliest else -kept, np.inf), axis=1)
    place = np.floor(rank * np.maximum(count - 1, 0) + 0.5).astype(np.int64)
    chosen = np.take_along_axis(ordered, place[:, None, :], axis=1)[:, 0]
    return np.where(count > 0, chosen if earliest else -chosen, np.nan)
