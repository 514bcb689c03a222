"""Global fiducials: one set of boundaries per beat for the whole heart, from the leads' own.

The CSE working party (Willems et al. 1985, 1987) measured a 12-lead ECG's intervals between *global*
boundaries: the QRS onset is the earliest onset of ventricular activity in any lead and the offset the latest
end, and likewise for the P wave and the T wave's end. Taken literally, one lead with a misplaced boundary
moves the global one, so a lead's onset (offset) counts only when it lies within
:attr:`~ecgcrnn.delineation.settings.DelineationConfig.global_agreement_s` of the beat's median over the
leads; the earliest (latest) of those is the global boundary. Peaks are the median over leads.
"""

from __future__ import annotations

import numpy as np

from ecgcrnn.delineation.settings import DelineationConfig
from ecgcrnn.domain import FIDUCIALS
from ecgcrnn.signal.arrays import nanmedian

ONSETS = ("P_on", "QRS_on", "T_on")
OFFSETS = ("P_off", "QRS_off", "T_off")


def global_fiducials(per_lead: dict, fs: float, config: DelineationConfig) -> dict[str, np.ndarray]:
    """Per beat, the global fiducials of the leads' own (not pulled together) fiducials.

    Parameters
    ----------
    per_lead : dict of str to numpy.ndarray
        Keys :data:`FIDUCIALS`, shape (n_leads, n_beats), sample indices (NaN where absent).
    fs : float
        Sampling rate of the indices, Hz.
    config : DelineationConfig

    Returns
    -------
    dict of str to numpy.ndarray
        Keys :data:`FIDUCIALS`, shape (n_beats,); NaN where no lead has the fiducial.
    """
    limit = config.global_agreement_s * fs
    out = {}
    for key in FIDUCIALS:
        values = np.asarray(per_lead[key], dtype=np.float64)
        if values.shape[1] == 0:
            out[key] = np.zeros(0)
            continue
        median = nanmedian(values, axis=0)
        if key in ONSETS or key in OFFSETS:
            agree = np.abs(values - median) <= limit
            kept = np.where(agree, values, np.nan)
            with np.errstate(invalid="ignore"):
                reduce = np.fmin.reduce if key in ONSETS else np.fmax.reduce
                out[key] = reduce(kept, axis=0)
        else:
            out[key] = median
    return out
