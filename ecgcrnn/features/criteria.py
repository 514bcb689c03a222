"""The published diagnostic criteria of the scored classes, graded on a record's global measurements.

Each :class:`Criterion` turns :mod:`ecgcrnn.features.measurements`' values (with age and sex where the
criterion depends on them) into a grade from 0 to 1, how clearly the criterion is met: a linear ramp across a
small band around each published threshold, 0.5 at the threshold itself, conditions combined with min for
AND and max for OR (:mod:`ecgcrnn.features.grading`). Nothing is fitted to data. A grade is NaN where a
measurement it needs is NaN (a lead the lead set lacks), unless the measured conditions decide it alone.

Sources, cited again in each criterion's function:

- Surawicz B, Childers R, Deal BJ, Gettes LS. AHA/ACC/HRS recommendations for the standardization and
  interpretation of the electrocardiogram, part III: intraventricular conduction disturbances.
  Circulation 2009;119:e235-e240 (bundle branch and fascicular blocks, with the children's QRS limits).
- Rautaharju PM, Surawicz B, Gettes LS. Part IV: the ST segment, T and U waves, and the QT interval.
  Circulation 2009;119:e241-e250 (prolonged QTc: >= 450 ms in men, >= 460 ms in women, with a linear rate
  correction preferred to Bazett's, hence Framingham's; the negative, flat and low T-wave terms).
- Wagner GS, Macfarlane P, Wellens H, et al. Part VI: acute ischemia/infarction. Circulation
  2009;119:e262-e270 (anatomically contiguous leads).
- Mason JW, Hancock EW, Gettes LS. Part II: electrocardiography diagnostic statement list. Circulation
  2007;115:1325-1332 (the statements' wording and the rhythm statements).
- The standard rhythm definitions of the textbooks (sinus rhythm 60-100/min with a P wave of normal axis
  before each QRS; sinus bradycardia < 60/min, tachycardia > 100/min; sinus arrhythmia, P-P variation
  > 0.12-0.16 s or > 10 %; atrial flutter, regular F waves at 240-340/min; premature beats, RR < 85 % of
  the running median) and poor R-wave progression, R in V3 <= 0.3 mV.

:func:`criteria_scores` grades every criterion; :func:`criteria_statements` writes the reading report's
statements of those met, rhythm first, then conduction, axis, voltage and repolarisation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ecgcrnn.domain import sort_leads
from ecgcrnn.features.grading import (
    AMPLITUDE_HALF_BAND_MV,
    CONTIGUOUS_PAIRS,
    FRACTION_HALF_BAND,
    INTERVAL_HALF_BAND_MS,
    NAN,
    PRECORDIAL_LEADS,
    QRS_AXIS_HALF_BAND_DEG,
    QRS_HALF_BAND_MS,
    RATE_HALF_BAND_BPM,
    Reading,
    abnormal_q_leads,
    abnormal_t_leads,
    above,
    all_measured,
    all_of,
    any_of,
    between,
    exceeds,
    flutter_waves,
    in_two_contiguous,
    inverted_t_leads,
    lbbb_morphology,
    negation,
    q_present,
    qrs_limits,
    rbbb_morphology,
    sinus_p_waves,
    t_pairs,
    under,
)

SECTIONS = ("rhythm", "conduction", "axis", "voltage", "repolarisation")
"""The report's sections, in the order its statements come."""
NOT_MEASURABLE = "recording too noisy to measure"


@dataclass(frozen=True)
class Criterion:
    """One scored class's published criterion.

    Attributes
    ----------
    name : str
        The class as in weights.csv (``"713427006|59118001"``).
    statement : str
        How a clinician writes it (``"complete right bundle branch block"``).
    section : str
        One of :data:`SECTIONS`: where its statement goes in a report.
    score : callable
        ``score(reading) -> float``: the grade in [0, 1] or NaN of a
        :class:`~ecgcrnn.features.grading.Reading`; its docstring states the criterion and cites the source.
    evidence : callable
        ``evidence(reading) -> str``: the measurements behind it (``"QRS 148 ms, rsR' in V1/V2"``).
    separator : str, default ", "
        Between the statement and the evidence (``" "`` gives ``"sinus rhythm 72/min"``).
    implied_by : tuple of str, default ()
        Classes whose statement makes this one's redundant (no "bradycardia" beside "sinus bradycardia").
    """

    name: str
    statement: str
    section: str
    score: Callable[[Reading], float]
    evidence: Callable[[Reading], str]
    separator: str = ", "
    implied_by: tuple[str, ...] = ()

    def grade(self, measurements: Mapping[str, float], age: float | None = None, sex: str | None = None):
        """The grade in [0, 1], NaN where it cannot be told."""
        return float(self.score(Reading(measurements, age, sex)))

    def report(self, measurements: Mapping[str, float], age: float | None = None, sex: str | None = None):
        """The statement with its evidence (``"first-degree AV block, PR 236 ms"``)."""
        evidence = self.evidence(Reading(measurements, age, sex))
        return f"{self.statement}{self.separator}{evidence}" if evidence else self.statement

    @property
    def source(self) -> str:
        """The criterion as written in its score function's docstring, with its source."""
        return " ".join((self.score.__doc__ or "").split())


def criteria_scores(
    measurements: Mapping[str, float], age: float | None = None, sex: str | None = None
) -> dict[str, float]:
    """Every criterion's grade: class name (as in weights.csv) to a float in [0, 1], NaN where unmeasurable.

    Parameters
    ----------
    measurements : mapping of str to float
        A window's or record's measurements (:func:`ecgcrnn.features.measurements.measure`); names that are
        absent read as NaN. With ``measurable`` 0, every grade is NaN.
    age : float, optional
        Years (children's QRS limits below 16); None or NaN when unknown (adult limits).
    sex : str, optional
        ``Male`` or ``Female`` (the QTc limit); unknown takes the mean of the two limits.
    """
    reading = Reading(measurements, age, sex)
    if reading("measurable") == 0:
        return {criterion.name: NAN for criterion in CRITERIA}
    return {criterion.name: float(criterion.score(reading)) for criterion in CRITERIA}


def criteria_statements(
    measurements: Mapping[str, float],
    age: float | None = None,
    sex: str | None = None,
    threshold: float = 0.5,
) -> list[str]:
    """The reading report: a statement with its evidence for each criterion graded ``threshold`` or more,
    in :data:`CRITERIA` order (rhythm, conduction, axis, voltage, repolarisation), leaving out those another
    statement implies; ``[NOT_MEASURABLE]`` for a record whose ``measurable`` is 0.

    Example: ``["sinus rhythm 72/min", "first-degree AV block, PR 236 ms",
    "left axis deviation, QRS axis -48°"]``.
    """
    reading = Reading(measurements, age, sex)
    if reading("measurable") == 0:
        return [NOT_MEASURABLE]
    met = criteria_decisions(criteria_scores(measurements, age, sex), threshold)
    return [criterion.report(measurements, age, sex) for criterion in CRITERIA if criterion.name in met]


def criteria_decisions(scores: Mapping[str, float], threshold: float = 0.5) -> set[str]:
    """The classes a reader of the criteria states: those graded ``threshold`` or more, less those another
    stated class implies (:attr:`Criterion.implied_by`: no "bradycardia" beside "sinus bradycardia").

    Parameters
    ----------
    scores : mapping of str to float
        :func:`criteria_scores`' grades (NaN counts as not met).
    """
    met = {name for name, score in scores.items() if score >= threshold}
    return {
        criterion.name
        for criterion in CRITERIA
        if criterion.name in met and not met & set(criterion.implied_by)
    }


def stated_grades(scores: Mapping[str, float], threshold: float = 0.5) -> dict[str, float]:
    """The grades with :func:`criteria_decisions`' rule folded in: a class that another class graded
    ``threshold`` or more implies (:attr:`Criterion.implied_by`) is capped just below ``threshold``
    (at ``1 - `` that grade, when lower), so that exactly the stated classes keep a grade of ``threshold``
    or more. NaN stays NaN. The network's start (:mod:`ecgcrnn.model.network`) reads these.
    """
    below = float(np.nextafter(threshold, 0.0))
    graded = dict(scores)
    for criterion in CRITERIA:
        implying = [scores.get(name, NAN) for name in criterion.implied_by]
        strongest = max((value for value in implying if value >= threshold), default=None)
        if strongest is not None and criterion.name in graded:
            graded[criterion.name] = min(graded[criterion.name], 1.0 - strongest, below)
    return graded


# Rhythm --------------------------------------------------------------------------------------------------


def sinus_rhythm(r: Reading) -> float:
    """Sinus rhythm: sinus P waves (:func:`~ecgcrnn.features.grading.sinus_p_waves`) and a rate of 60-100/min
    (standard definition; Mason et al. 2007, statement list)."""
    return all_of(sinus_p_waves(r), between(r("heart_rate_bpm"), 60.0, 100.0, RATE_HALF_BAND_BPM))


def sinus_bradycardia(r: Reading) -> float:
    """Sinus bradycardia: sinus P waves and a rate below 60/min (standard definition)."""
    return all_of(sinus_p_waves(r), under(r("heart_rate_bpm"), 60.0, RATE_HALF_BAND_BPM))


def sinus_tachycardia(r: Reading) -> float:
    """Sinus tachycardia: sinus P waves and a rate above 100/min (standard definition)."""
    return all_of(sinus_p_waves(r), exceeds(r("heart_rate_bpm"), 100.0, RATE_HALF_BAND_BPM))


def sinus_arrhythmia(r: Reading) -> float:
    """Sinus arrhythmia: sinus P waves with a P-P (here RR) variation over 0.12-0.16 s (the band spans the
    two published limits) or over 10 % of the mean, and no premature beat to explain it (standard
    definition)."""
    variation = any_of(
        above(r("RR_range_ms"), 120.0, 160.0),
        exceeds(r("RR_range_ms") / r("RR_mean_ms"), 0.10, 0.02),
    )
    return all_of(sinus_p_waves(r), variation, under(r("premature_beats"), 0.5, 0.5))


def bradycardia(r: Reading) -> float:
    """Bradycardia: a ventricular rate below 60/min, whatever the rhythm (standard definition)."""
    return under(r("heart_rate_bpm"), 60.0, RATE_HALF_BAND_BPM)


def atrial_fibrillation(r: Reading) -> float:
    """Atrial fibrillation: irregularly irregular RR intervals and no P waves (nor regular flutter waves).
    No guideline puts a number on "irregularly irregular"; successive RR intervals differing by a median
    10 % of the RR are taken as such (the fraction sinus arrhythmia allows over a whole record), and "no P
    waves" as P waves before fewer than half the beats (standard definition; Mason et al. 2007)."""
    return all_of(
        exceeds(r("RR_irregularity"), 0.10, 0.02),
        under(r("P_presence"), 0.5, FRACTION_HALF_BAND),
        negation(flutter_waves(r)),
    )


def atrial_flutter(r: Reading) -> float:
    """Atrial flutter: regular F waves at 240-340/min (:func:`~ecgcrnn.features.grading.flutter_waves`;
    standard definition)."""
    return flutter_waves(r)


def paced_rhythm(r: Reading) -> float:
    """Pacing rhythm: a pacing spike before most QRS complexes (more than half the beats) (standard
    definition; Mason et al. 2007)."""
    return exceeds(r("paced_beats"), 0.5, FRACTION_HALF_BAND)


def premature_atrial(r: Reading) -> float:
    """Premature atrial contractions: at least one premature beat (RR < 85 % of the running median) with a
    narrow QRS (no wider than the dominant beats), outside atrial fibrillation (standard definition; a
    count, so 0 or 1)."""
    return all_of(above(r("premature_narrow_beats"), 0.0, 1.0), negation(atrial_fibrillation(r)))


def premature_ventricular(r: Reading) -> float:
    """Premature ventricular contractions: at least one premature beat (RR < 85 % of the running median)
    with a wide QRS (>= 120 ms or >= 40 ms wider than the dominant beats) (standard definition; a count,
    so 0 or 1)."""
    return above(r("premature_wide_beats"), 0.0, 1.0)


# Conduction ----------------------------------------------------------------------------------------------


def prolonged_pr(r: Reading) -> float:
    """First-degree AV block (prolonged PR interval): PR > 200 ms with P waves before the QRS complexes
    (Mason et al. 2007; standard definition)."""
    return all_of(
        exceeds(r("PR_ms"), 200.0, INTERVAL_HALF_BAND_MS),
        exceeds(r("P_presence"), 0.8, FRACTION_HALF_BAND / 2),
    )


def complete_rbbb(r: Reading) -> float:
    """Complete right bundle branch block (Surawicz et al. 2009): QRS >= 120 ms in adults (> 100 ms at 4-16
    years, > 90 ms under 4), rsr', rsR' or rSR' in V1 or V2 (in most beats), and an S wave longer than
    40 ms in I and V6."""
    complete, _, _ = qrs_limits(r.age)
    return all_of(exceeds(r("QRS_ms"), complete, QRS_HALF_BAND_MS), rbbb_morphology(r))


def incomplete_rbbb(r: Reading) -> float:
    """Incomplete right bundle branch block (Surawicz et al. 2009): QRS 110-120 ms in adults (90-100 ms at
    4-16 years, 86-90 ms under 4; the guideline's "under 8" band is taken below 4, where the complete
    block's limit drops to 90 ms), with the morphology of complete RBBB (R' in V1 or V2, S > 40 ms in I and
    V6)."""
    _, (low, high), _ = qrs_limits(r.age)
    return all_of(between(r("QRS_ms"), low, high, QRS_HALF_BAND_MS), rbbb_morphology(r))


def complete_lbbb(r: Reading) -> float:
    """Complete left bundle branch block (Surawicz et al. 2009): QRS >= 120 ms in adults (> 100 ms at 4-16
    years, > 90 ms under 4) and a broad notched or slurred R in the lateral leads (I, aVL, V5, V6; in at
    least half of those present); where measured, also no q wave in I, V5 and V6 and an R-peak time over
    60 ms in V5 and V6 (supportive: left out where the lead set lacks the leads)."""
    complete, _, _ = qrs_limits(r.age)
    no_q = [negation(q_present(r, lead)) for lead in ("I", "V5", "V6")]
    return all_of(
        exceeds(r("QRS_ms"), complete, QRS_HALF_BAND_MS),
        lbbb_morphology(r),
        all_measured(*no_q, exceeds(r("R_peak_time_V5V6_ms"), 60.0, QRS_HALF_BAND_MS)),
    )


def bundle_branch_block(r: Reading) -> float:
    """Bundle branch block: complete right or complete left bundle branch block (Surawicz et al. 2009)."""
    return any_of(complete_rbbb(r), complete_lbbb(r))


def nonspecific_ivcd(r: Reading) -> float:
    """Nonspecific intraventricular conduction disturbance (Surawicz et al. 2009): QRS > 110 ms in adults
    (> 90 ms at 8-16 years, > 80 ms under 8) without the morphology of right or left bundle branch block,
    and not paced."""
    _, _, nonspecific = qrs_limits(r.age)
    return all_of(
        exceeds(r("QRS_ms"), nonspecific, QRS_HALF_BAND_MS),
        negation(rbbb_morphology(r)),
        negation(lbbb_morphology(r)),
        negation(paced_rhythm(r)),
    )


def left_anterior_fascicular_block(r: Reading) -> float:
    """Left anterior fascicular block (Surawicz et al. 2009): frontal QRS axis between -45° and -90°, a qR
    pattern in aVL (a q wave and a net positive QRS), R-peak time in aVL of 45 ms or more, and QRS under
    120 ms."""
    return all_of(
        between(r("QRS_axis_deg"), -90.0, -45.0, QRS_AXIS_HALF_BAND_DEG),
        q_present(r, "aVL"),
        exceeds(r.lead("aVL", "QRS_net_mV"), 0.0, AMPLITUDE_HALF_BAND_MV),
        exceeds(r.lead("aVL", "R_peak_time_ms"), 45.0, QRS_HALF_BAND_MS),
        under(r("QRS_ms"), 120.0, QRS_HALF_BAND_MS),
    )


# Axis ----------------------------------------------------------------------------------------------------


def left_axis_deviation(r: Reading) -> float:
    """Left axis deviation: frontal QRS axis between -30° and -90° (normal adult axis -30° to +90°;
    Surawicz et al. 2009, Mason et al. 2007)."""
    return between(r("QRS_axis_deg"), -90.0, -30.0, QRS_AXIS_HALF_BAND_DEG)


def right_axis_deviation(r: Reading) -> float:
    """Right axis deviation: frontal QRS axis between +90° and +180° (normal adult axis -30° to +90°; some
    readers take +100°; Mason et al. 2007)."""
    axis = r("QRS_axis_deg")
    axis = axis + 360.0 if axis <= -90.0 else axis  # +180° and -179° are neighbours
    return between(axis, 90.0, 180.0, QRS_AXIS_HALF_BAND_DEG)


# Voltage and QRS -----------------------------------------------------------------------------------------


def low_qrs_voltage(r: Reading) -> float:
    """Low QRS voltage: QRS peak to peak under 0.5 mV in every limb lead, or under 1.0 mV in every
    precordial lead (the standard definition of the "low voltage" statement; Mason et al. 2007)."""
    limb = under(r("limb_QRS_max_mV"), 0.5, AMPLITUDE_HALF_BAND_MV)
    precordial = all_of(*(under(r.lead(v, "QRS_pp_mV"), 1.0, 0.1) for v in PRECORDIAL_LEADS))
    return any_of(limb, precordial)


def poor_r_progression(r: Reading) -> float:
    """Poor R-wave progression: R wave in V3 of 0.3 mV or less (the common definition; no AHA 2009
    criterion)."""
    return under(r.lead("V3", "R_mV"), 0.3, AMPLITUDE_HALF_BAND_MV)


def abnormal_q(r: Reading) -> float:
    """Abnormal Q waves: a Q wave of 40 ms or more, or deeper than 1/4 of the R wave, in two contiguous leads
    (:data:`~ecgcrnn.features.grading.CONTIGUOUS_PAIRS`; aVR excluded) (standard definition; Mason et al.
    2007; Wagner et al. 2009 for contiguity)."""
    return in_two_contiguous(abnormal_q_leads(r), CONTIGUOUS_PAIRS)


# Repolarisation ------------------------------------------------------------------------------------------


def prolonged_qt(r: Reading) -> float:
    """Prolonged QT: QTc >= 450 ms in men, >= 460 ms in women, 455 ms where the sex is unknown (Rautaharju
    et al. 2009), with Framingham's linear correction, which the guideline prefers to Bazett's."""
    limit = {"male": 450.0, "female": 460.0}.get(r.sex, 455.0)
    return exceeds(r("QTc_Framingham_ms"), limit, INTERVAL_HALF_BAND_MS)


def t_inversion(r: Reading) -> float:
    """T-wave inversion: T of -0.1 mV or deeper (the "negative T wave") in two contiguous leads, one of
    which at least has a normally upright T (see :data:`~ecgcrnn.features.grading.VARIABLE_T_LEADS`)
    (Rautaharju et al. 2009; Wagner et al. 2009 for contiguity)."""
    return in_two_contiguous(inverted_t_leads(r), t_pairs())


def t_abnormality(r: Reading) -> float:
    """T-wave abnormality: in two contiguous leads (one of them with a normally upright T), an inverted T or,
    where the R wave reaches 0.5 mV in I, II, aVL, V4-V6, a flat T (between -0.1 and +0.1 mV) or a low T
    (under 10 % of the R wave) (Rautaharju et al. 2009)."""
    return in_two_contiguous(abnormal_t_leads(r), t_pairs())


# The table -----------------------------------------------------------------------------------------------


def _number(value: float, spec: str = ".0f") -> str:
    return "?" if value != value else format(value, spec)


def _rate(r: Reading) -> str:
    return f"{_number(r('heart_rate_bpm'))}/min"


def _qrs(r: Reading) -> str:
    return f"QRS {_number(r('QRS_ms'))} ms"


def _axis(r: Reading) -> str:
    return f"QRS axis {_number(r('QRS_axis_deg'))}°"


def _pr(r: Reading) -> str:
    return f"PR {_number(r('PR_ms'))} ms"


def _beats(count: float, kind: str) -> str:
    return f"{_number(count)} premature {kind} beat{'' if count == 1 else 's'}"


def _rbbb(r: Reading) -> str:
    return f"{_qrs(r)}, rsR' in V1/V2, S {_number(r('S_duration_I_V6_ms'))} ms in I/V6"


def _lbbb(r: Reading) -> str:
    notched = [lead for lead in ("I", "aVL", "V5", "V6") if r.lead(lead, "notched_R") >= 0.5]
    return f"{_qrs(r)}, notched or slurred broad R in {', '.join(notched) or 'lateral leads'}"


def _low_voltage(r: Reading) -> str:
    limb, precordial = (_number(r(f"{name}_QRS_max_mV"), ".2f") for name in ("limb", "precordial"))
    return f"largest QRS {limb} mV in the limb leads, {precordial} mV in the precordial leads"


def _in_pairs(per_lead: Mapping[str, float], pairs) -> str:
    """The leads of the contiguous pairs in which both leads' grades reach 0.5: ``"in II, III, aVF"``."""
    met = {lead for pair in pairs if all(per_lead.get(lead, NAN) >= 0.5 for lead in pair) for lead in pair}
    return f"in {', '.join(sort_leads(met))}" if met else ""


_SB, _IAVB, _CRBBB, _CLBBB = "426177001", "270492004", "713427006|59118001", "733534002|164909002"
_TINV = "59931005"
CRITERIA: tuple[Criterion, ...] = (
    Criterion("426783006", "sinus rhythm", "rhythm", sinus_rhythm, _rate, " "),
    Criterion(_SB, "sinus bradycardia", "rhythm", sinus_bradycardia, _rate, " "),
    Criterion("427084000", "sinus tachycardia", "rhythm", sinus_tachycardia, _rate, " "),
    Criterion("427393009", "sinus arrhythmia", "rhythm", sinus_arrhythmia,
              lambda r: f"RR {_number(r('RR_min_ms'))}-{_number(r('RR_max_ms'))} ms"),
    Criterion("426627000", "bradycardia", "rhythm", bradycardia, _rate, " ", implied_by=(_SB,)),
    Criterion("164889003", "atrial fibrillation", "rhythm", atrial_fibrillation,
              lambda r: f"ventricular rate {_rate(r)}, irregularity {_number(r('RR_irregularity'), '.2f')}"),
    Criterion("164890007", "atrial flutter", "rhythm", atrial_flutter,
              lambda r: f"F waves {_number(r('flutter_rate_bpm'))}/min, ventricular rate {_rate(r)}"),
    Criterion("10370003", "paced rhythm", "rhythm", paced_rhythm,
              lambda r: f"{_number(100 * r('paced_beats'))} % of beats paced"),
    Criterion("284470004|63593006", "premature atrial contractions", "rhythm", premature_atrial,
              lambda r: _beats(r("premature_narrow_beats"), "narrow")),
    Criterion("427172004|17338001", "premature ventricular contractions", "rhythm",
              premature_ventricular, lambda r: _beats(r("premature_wide_beats"), "wide")),
    Criterion(_IAVB, "first-degree AV block", "conduction", prolonged_pr, _pr),
    Criterion("164947007", "prolonged PR interval", "conduction", prolonged_pr, _pr,
              implied_by=(_IAVB,)),
    Criterion(_CRBBB, "complete right bundle branch block", "conduction", complete_rbbb, _rbbb),
    Criterion("713426002", "incomplete right bundle branch block", "conduction", incomplete_rbbb,
              _rbbb),
    Criterion(_CLBBB, "complete left bundle branch block", "conduction", complete_lbbb, _lbbb),
    Criterion("6374002", "bundle branch block", "conduction", bundle_branch_block, _qrs,
              implied_by=(_CRBBB, _CLBBB)),
    Criterion("698252002", "nonspecific intraventricular conduction delay", "conduction",
              nonspecific_ivcd, _qrs),
    Criterion("445118002", "left anterior fascicular block", "conduction",
              left_anterior_fascicular_block, lambda r: f"{_axis(r)}, qR in aVL, {_qrs(r)}"),
    Criterion("39732003", "left axis deviation", "axis", left_axis_deviation, _axis),
    Criterion("47665007", "right axis deviation", "axis", right_axis_deviation, _axis),
    Criterion("251146004", "low QRS voltage", "voltage", low_qrs_voltage, _low_voltage),
    Criterion("365413008", "poor R-wave progression", "voltage", poor_r_progression,
              lambda r: f"R in V3 {_number(r.lead('V3', 'R_mV'), '.2f')} mV"),
    Criterion("164917005", "abnormal Q waves", "voltage", abnormal_q,
              lambda r: _in_pairs(abnormal_q_leads(r), CONTIGUOUS_PAIRS)),
    Criterion("111975006", "prolonged QT", "repolarisation", prolonged_qt,
              lambda r: f"QTc {_number(r('QTc_Framingham_ms'))} ms (Framingham)"),
    Criterion(_TINV, "T-wave inversion", "repolarisation", t_inversion,
              lambda r: _in_pairs(inverted_t_leads(r), t_pairs())),
    Criterion("164934002", "T-wave abnormality", "repolarisation", t_abnormality,
              lambda r: _in_pairs(abnormal_t_leads(r), t_pairs()), implied_by=(_TINV,)),
)  # fmt: skip
"""Every criterion, in the report's order (:data:`SECTIONS`)."""
