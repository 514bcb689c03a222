"""The delineator's settings: Martínez et al. (2004) where the paper gives them, else tuned on LUDB.

They shape the network's inputs, so a trained model keeps them (see :mod:`ecgcrnn.pipeline`).
"""

from __future__ import annotations

from dataclasses import dataclass

TINY = 1e-8
"""Floor of scales' RMS and of signal ranges, below which a lead counts as flat."""


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
    qrs_pause_s : float, default 0.024
        The first / last significant maxima are sought only between the pauses either side of the complex's
        largest slope: runs this long where the modulus at scale 2^2 stays below ``qrs_gamma[0]`` of that
        slope (the PR and ST segments), so that a P or T wave's slope is not taken for the QRS. 0: no limit.
    qrs_core_s : float, default 0.06
        Half-width, around the anchor, of the search for the complex's largest modulus maximum at scale 2^2.
    qrs_presence_rms : float, default 0.5
        A lead shows the complex when that maximum exceeds this multiple of the scale's RMS.
    qrs_assumed_s : tuple of float, default (0.05, 0.08)
        Where a lead's QRS onset / offset was not found: assumed this long before / after the anchor, to
        bridge the complex and bound the P and T searches.
    r_search_s : tuple of float, default (0.1, 0.04)
        Half-width of the window searched for the R peak around the anchor, and the span before / after the
        anchor used in place of a QRS boundary that was not found.
    r_wave_fraction : float, default 0.15
        ``R`` is the R wave's peak unless the largest positive QRS deflection is smaller than this fraction of
        the largest negative one (QS-like complexes), in which case it is the deepest point.
    multilead_clip_s : tuple of float, default (0.02, 0.02, 0.02)
        P, QRS and T boundaries of a lead are kept within this distance of the beat's median over leads
        (only with three or more leads).
    multilead_shrink : tuple of float, default (1.0, 0.25, 1.0)
        P, QRS and T: fraction of a lead's (clipped) deviation from the beat's median over leads that is kept.
    pace_z : float, default 6.0
        Pacemaker spike threshold (:func:`~ecgcrnn.delineation.qrs.pacing_spikes`); ``inf`` turns spike
        handling off.
    pace_halfwidth_s : float, default 0.004
        Half-width of the span bridged around every spike sample.
    pace_guard_s : float, default 0.01
        A paced beat's QRS onset is kept at least this long after its spike.
    blank_qrs : bool, default True
        Search P and T waves in the transform of the signal with every QRS replaced by a straight line.
    t_window_s : tuple of float, default (0.04, 0.5)
        T search window: start after QRS offset; and the latest end after the anchor at an RR interval of
        1 s, scaled by sqrt(RR / 1 s) as the QT interval is (Bazett). 0.5 s is the QTc of marked QT
        prolongation; the T wave's slopes, whose maxima are searched, come before its end.
    t_window_rr : float, default 0.7
        End of the T search window after the anchor, as a fraction of the RR interval, where this comes
        before the end above (fast rhythms, where the next P wave follows the T wave closely).
    t_eps_rms : float, default 0.25
        T wave presence threshold at scale 2^4 (2^5), in multiples of the scale's RMS (paper).
    t_xi : tuple of float, default (0.35, 0.45)
        T onset / offset thresholds, fractions of the first / last maximum.
    p_window_s : tuple of float, default (0.28, 0.0)
        P search window: start and end before QRS onset (the start never precedes the previous T offset).
    p_after_beat_s : float, default 0.3
        Where the previous beat's T offset was not found, the P search starts this long after its anchor.
    p_refine_s : float, default 0.1
        Half-width of the second P search around the lead's median P-to-anchor interval.
    p_pr_spread_s : tuple of float, default (0.016, 0.008)
        Largest median absolute deviation of the P-to-anchor interval for P waves to be reported, in a
        regular and in an irregular rhythm, with three or more leads (the median over leads of each lead's
        deviation, :func:`~ecgcrnn.delineation.delineate._pr_spread`).
    p_pr_spread_few_leads_s : tuple of float, default (1.0, 0.008)
        The same limits with one or two leads. One lead's deviation over a few beats, without a median over
        leads to steady it, is large wherever a small P wave loses some beats to the baseline, so in a
        regular rhythm there is no limit (1 s) and :attr:`p_lock_corr` decides alone.
    irregular_rr : float, default 0.15
        A rhythm is irregular when the median absolute difference of successive RR intervals exceeds this
        fraction of the median RR interval (as in atrial fibrillation).
    p_lock_corr : float, default 0.4
        P waves are reported only when the transform before the QRS repeats from beat to beat: the median
        cosine similarity of each beat's P search zone (scale 2^4, aligned on the beat) with the mean of the
        other beats' must reach this value (median over leads). Sinus P waves are locked to the QRS; the
        fibrillatory waves of atrial fibrillation are not.
    p_eps_rms : float, default 0.02
        P wave presence threshold at scale 2^4, in multiples of the scale's RMS (paper).
    p_xi : tuple of float, default (0.65, 0.9)
        P onset / offset thresholds, fractions of the first / last maximum.
    boundary_margin_s : float, default 0.12
        How far boundary searches may run beyond a wave's search window.
    global_agreement_s : float, default 0.03
        A lead's QRS onset or offset takes part in the beat's global one when it lies within this distance
        of the median over leads (:mod:`ecgcrnn.delineation.multilead`).
    global_rank : float, default 0.15
        Which of the agreeing leads gives a global onset (offset): this fraction of the way from the earliest
        (latest) to the latest (earliest), rounded (0: the earliest, as the CSE definition reads literally).
    global_agreement_p_t_s : tuple of float, default (0.05, 0.05)
        The same distance for the P and for the T boundaries, wider than the QRS's: the boundaries of these
        slow waves spread over the leads two to three times as far.
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
    qrs_pause_s: float = 0.024
    qrs_core_s: float = 0.06
    qrs_presence_rms: float = 0.5
    qrs_assumed_s: tuple[float, float] = (0.05, 0.08)
    r_search_s: tuple[float, float] = (0.1, 0.04)
    r_wave_fraction: float = 0.15
    multilead_clip_s: tuple[float, float, float] = (0.02, 0.02, 0.02)
    multilead_shrink: tuple[float, float, float] = (1.0, 0.25, 1.0)
    pace_z: float = 6.0
    pace_halfwidth_s: float = 0.004
    pace_guard_s: float = 0.01
    blank_qrs: bool = True
    t_window_s: tuple[float, float] = (0.04, 0.5)
    t_window_rr: float = 0.7
    t_eps_rms: float = 0.25
    t_xi: tuple[float, float] = (0.35, 0.45)
    p_window_s: tuple[float, float] = (0.28, 0.0)
    p_after_beat_s: float = 0.3
    p_refine_s: float = 0.1
    p_pr_spread_s: tuple[float, float] = (0.016, 0.008)
    p_pr_spread_few_leads_s: tuple[float, float] = (1.0, 0.008)
    irregular_rr: float = 0.15
    p_lock_corr: float = 0.4
    p_eps_rms: float = 0.02
    p_xi: tuple[float, float] = (0.65, 0.9)
    boundary_margin_s: float = 0.12
    global_agreement_s: float = 0.03
    global_rank: float = 0.15
    global_agreement_p_t_s: tuple[float, float] = (0.05, 0.05)
