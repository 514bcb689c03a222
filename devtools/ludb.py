"""Lobachevsky University Database (LUDB): records, cardiologists' wave marks and their comparison.

LUDB (Kalyakulina et al., 2020, PhysioNet) holds 200 ten-second, 12-lead, 500 Hz ECGs. Every lead has its own
WFDB annotation file (extensions ``i``, ``ii``, ``iii``, ``avr``, ``avl``, ``avf``, ``v1`` .. ``v6``) in which
each wave is a triplet ``(`` onset, peak symbol, ``)`` offset, with the peak symbol ``p`` (P wave), ``N``
(QRS complex) or ``t`` (T wave). Only the central part of each record is marked.

The delineator's accuracy benches (bench/quality/delineation.py, bench/quality/measure.py), its speed benches
(bench/speed/delineation.py, bench/speed/wavelet.py), the tests and the figures read LUDB through this
module; the package never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import wfdb

from ecgcrnn.domain import FIDUCIALS

LEADS = ("i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6")
"""LUDB lead names, which are also the extensions of the per-lead annotation files."""

_WAVE_KEYS = {
    "p": ("P_on", "P_peak", "P_off"),
    "N": ("QRS_on", "R", "QRS_off"),
    "t": ("T_on", "T_peak", "T_off"),
}


@dataclass(frozen=True)
class MatchResult:
    """Comparison of one fiducial kind between reference marks and detections.

    Attributes
    ----------
    n_reference : int
        Reference marks considered.
    n_detected : int
        Detections considered.
    errors_samples : np.ndarray of float, shape (n_matched,)
        Detected minus reference position of every matched pair, in samples.
    """

    n_reference: int
    n_detected: int
    errors_samples: np.ndarray

    @property
    def n_matched(self) -> int:
        """Number of one-to-one matched pairs (true positives)."""
        return int(self.errors_samples.size)


def read_record(record_path: str | Path) -> tuple[np.ndarray, float]:
    """Read one LUDB record.

    Parameters
    ----------
    record_path : str or Path
        Record path without extension, e.g. ``.../ludb/1``.

    Returns
    -------
    signals : np.ndarray of float, shape (12, n_samples)
        Leads in the order of :data:`LEADS`, in mV.
    fs_hz : float
        Sampling rate in Hz (500).
    """
    record = wfdb.rdrecord(str(record_path))
    names = [name.lower() for name in record.sig_name]
    if tuple(names) != LEADS:
        raise ValueError(f"{record_path}.hea: leads {names}, expected {list(LEADS)}")
    return np.ascontiguousarray(record.p_signal.T, dtype=float), float(record.fs)


def read_reference(record_path: str | Path, lead: str) -> dict[str, np.ndarray]:
    """Read the cardiologists' marks of one lead.

    Parameters
    ----------
    record_path : str or Path
        Record path without extension.
    lead : str
        One of :data:`LEADS` (the annotation file's extension).

    Returns
    -------
    dict of str to np.ndarray of float
        For each key of :data:`ecgcrnn.domain.FIDUCIALS`, the sorted sample indices of every mark of
        that kind in the lead (one entry per wave, not aligned across keys; a wave whose onset or offset
        bracket is missing simply has no entry under that key).
    """
    if lead not in LEADS:
        raise ValueError(f"{record_path}: lead {lead!r} not in {', '.join(LEADS)}")
    ann = wfdb.rdann(str(record_path), lead)
    symbols = np.asarray(ann.symbol)
    samples = np.asarray(ann.sample, dtype=float)
    out = {key: [] for key in FIDUCIALS}
    for symbol, (on_key, peak_key, off_key) in _WAVE_KEYS.items():
        peaks = np.flatnonzero(symbols == symbol)
        before = peaks[peaks > 0] - 1
        after = peaks[peaks < symbols.size - 1] + 1
        out[peak_key] = samples[peaks]
        out[on_key] = samples[before[symbols[before] == "("]]
        out[off_key] = samples[after[symbols[after] == ")"]]
    return {key: np.sort(np.asarray(out[key], dtype=float)) for key in FIDUCIALS}


def evaluation_span(reference: dict[str, np.ndarray]) -> tuple[float, float]:
    """Part of a lead over which marks and detections are compared.

    LUDB marks only the central beats, and the first and last marked beats may be cut by the edge of the
    marked part, so they are left out: the span runs from halfway between the first and second marked QRS
    peaks to halfway between the last two. Every fiducial, reference or detected, is counted only when it
    lies in this span, so the same rule applies to both sides.

    Parameters
    ----------
    reference : dict of str to np.ndarray
        Output of :func:`read_reference`.

    Returns
    -------
    (start, stop) : tuple of float
        Span in samples; empty (start >= stop) when fewer than three QRS complexes are marked.
    """
    peaks = reference["R"]
    if peaks.size < 3:
        return 0.0, 0.0
    return 0.5 * (peaks[0] + peaks[1]), 0.5 * (peaks[-2] + peaks[-1])


def match_fiducials(reference: np.ndarray, detected: np.ndarray, tolerance: float) -> MatchResult:
    """One-to-one matching of detections to reference marks of the same kind.

    Each reference mark is paired with the nearest detection within ``tolerance``; when two marks claim the
    same detection, the closer pair wins and the other mark counts as missed. Unpaired detections are
    false detections (so sensitivity = n_matched / n_reference and PPV = n_matched / n_detected).

    Parameters
    ----------
    reference, detected : np.ndarray of float, shape (n_reference,), (n_detected,)
        Positions in samples; NaN entries are ignored.
    tolerance : float
        Largest accepted distance, in samples (e.g. 150 ms times fs).

    Returns
    -------
    MatchResult
    """
    ref = np.sort(reference[np.isfinite(reference)])
    det = np.sort(detected[np.isfinite(detected)])
    if ref.size == 0 or det.size == 0:
        return MatchResult(int(ref.size), int(det.size), np.zeros(0))
    right = np.clip(np.searchsorted(det, ref), 0, det.size - 1)
    left = np.clip(right - 1, 0, det.size - 1)
    nearest = np.where(np.abs(det[left] - ref) <= np.abs(det[right] - ref), left, right)
    err = det[nearest] - ref
    ok = np.abs(err) <= tolerance
    order = np.lexsort((np.abs(err), nearest))
    first_claim = np.ones(order.size, dtype=bool)
    first_claim[1:] = nearest[order][1:] != nearest[order][:-1]
    keep = np.zeros(ref.size, dtype=bool)
    keep[order[first_claim]] = True
    return MatchResult(int(ref.size), int(det.size), err[ok & keep])


def compare_lead(
    reference: dict[str, np.ndarray], detected: dict[str, np.ndarray], tolerance: float
) -> dict[str, MatchResult]:
    """Compare every fiducial kind of one lead inside its :func:`evaluation_span`.

    Parameters
    ----------
    reference : dict of str to np.ndarray
        Output of :func:`read_reference`.
    detected : dict of str to np.ndarray
        The lead's row of the delineator's output, same keys, positions in samples (NaN = absent).
    tolerance : float
        Matching tolerance in samples.

    Returns
    -------
    dict of str to MatchResult
        One entry per key of :data:`ecgcrnn.domain.FIDUCIALS`.
    """
    start, stop = evaluation_span(reference)
    results = {}
    for key in FIDUCIALS:
        ref, det = reference[key], np.asarray(detected[key], dtype=float)
        ref = ref[(ref >= start) & (ref < stop)]
        det = det[(det >= start) & (det < stop)]
        results[key] = match_fiducials(ref, det, tolerance)
    return results


def interlead_deviations(references: list[dict[str, np.ndarray]], key: str, gap: float) -> np.ndarray:
    """How far each lead's mark of a beat lies from the median of that beat's marks over the leads.

    Marks of one kind from all leads (each inside its lead's :func:`evaluation_span`) are grouped into beats
    where consecutive marks are closer than ``gap``; beats marked in fewer than three leads are skipped.
    Computed like a delineator's error against the marks, this is the error of a delineator that put every
    lead's boundary at the cardiologists' own consensus.

    Parameters
    ----------
    references : list of dict of str to np.ndarray
        :func:`read_reference` of every lead of one record.
    key : str
        One of :data:`ecgcrnn.domain.FIDUCIALS`.
    gap : float
        Largest gap between marks of one beat, in samples (e.g. 100 ms times fs).

    Returns
    -------
    np.ndarray of float, shape (n_marks,)
        Mark minus beat median, in samples.
    """
    marks = []
    for reference in references:
        start, stop = evaluation_span(reference)
        marks.append(reference[key][(reference[key] >= start) & (reference[key] < stop)])
    pos = np.sort(np.concatenate(marks)) if marks else np.zeros(0)
    if pos.size == 0:
        return np.zeros(0)
    beat = np.concatenate(([0], np.cumsum(np.diff(pos) > gap)))
    counts = np.bincount(beat)
    median = np.array([np.median(pos[beat == b]) for b in range(counts.size)])
    keep = counts[beat] >= 3
    return (pos - median[beat])[keep]


def global_reference(references: list[dict[str, np.ndarray]], gap: float) -> dict[str, np.ndarray]:
    """LUDB's global fiducials: per beat, the earliest onset and the latest offset marked in any lead.

    The CSE study's global boundaries (Willems et al. 1985) taken from the cardiologists' marks. Beats are
    the groups of QRS peak marks of all leads whose consecutive marks lie closer than ``gap``; a beat's
    ``R`` is the median of its group. Every P mark belongs to the first beat after it (a P wave precedes its
    QRS), every T mark to the last beat before it, every QRS mark to the nearest beat. Onsets are the
    earliest and offsets the latest of a beat's marks over the leads, peaks the median.

    Compare with the delineator's global fiducials through :func:`compare_lead`: its
    :func:`evaluation_span` then applies to the beats (halfway between the first two to halfway between the
    last two), on both sides.

    Parameters
    ----------
    references : list of dict of str to np.ndarray
        :func:`read_reference` of every lead of one record.
    gap : float
        Largest gap between QRS peak marks of one beat, in samples (e.g. 100 ms times fs).

    Returns
    -------
    dict of str to np.ndarray of float, shape (n_beats,)
        Keys :data:`ecgcrnn.domain.FIDUCIALS`, sample indices; NaN where no lead marks the fiducial.
    """
    peaks = np.sort(np.concatenate([reference["R"] for reference in references]))
    if peaks.size == 0:
        return {key: np.zeros(0) for key in FIDUCIALS}
    group = np.concatenate(([0], np.cumsum(np.diff(peaks) > gap)))
    beats = np.array([np.median(peaks[group == b]) for b in range(group[-1] + 1)])
    out = {}
    for index, key in enumerate(FIDUCIALS):
        marks = np.concatenate([reference[key] for reference in references])
        wave = index // 3
        if wave == 0:
            beat = np.searchsorted(beats, marks, side="right")
        elif wave == 2:
            beat = np.searchsorted(beats, marks, side="right") - 1
        else:
            beat = np.abs(marks[:, None] - beats[None, :]).argmin(axis=1)
        inside = (beat >= 0) & (beat < beats.size)
        out[key] = _per_beat(marks[inside], beat[inside], beats.size, index % 3)
    out["R"] = beats
    return out


def _per_beat(marks: np.ndarray, beat: np.ndarray, n_beats: int, role: int) -> np.ndarray:
    """Reduce marks (n_marks,) to their beats (n_beats,): role 0 earliest, 1 median, 2 latest; NaN if none."""
    if role == 1:
        medians = [np.median(marks[beat == b]) if (beat == b).any() else np.nan for b in range(n_beats)]
        return np.array(medians)
    out = np.full(n_beats, np.inf if role == 0 else -np.inf)
    (np.minimum if role == 0 else np.maximum).at(out, beat, marks)
    return np.where(np.isfinite(out), out, np.nan)
