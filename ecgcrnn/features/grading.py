"""Graded truths for the clinical criteria (:mod:`ecgcrnn.features.criteria`): ramps across a small band
around a published threshold, the logic that combines them, and the conditions several criteria share.

A grade is a float in [0, 1], how clearly a condition is met, or NaN where it cannot be told (the
measurement it needs is NaN). A ramp is linear across the band and 0.5 at the threshold itself, so that a
grade of 0.5 is the published criterion's own cut-off: ``exceeds(PR, 200, 10)`` is 0 at 190 ms, 0.5 at
200 ms and 1 at 210 ms.

Conditions combine as in Kleene's three-valued logic, graded as in fuzzy logic (Zadeh 1965): AND is the
minimum, OR the maximum and NOT the complement, and an unknown (NaN) operand leaves the result unknown
unless the known operands decide it alone: ``all_of(0, NaN)`` is 0 (one condition fails whatever the
other), ``all_of(1, NaN)`` is NaN, ``any_of(1, NaN)`` is 1 and ``any_of(0, NaN)`` is NaN.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

NAN = math.nan

# Half-widths of the ramps around a threshold, by what is measured.
INTERVAL_HALF_BAND_MS = 10.0  # PR, QTc
QRS_HALF_BAND_MS = 5.0  # QRS duration, S-wave duration, R-peak time, Q-wave duration
RATE_HALF_BAND_BPM = 3.0
QRS_AXIS_HALF_BAND_DEG = 5.0
P_AXIS_HALF_BAND_DEG = 15.0  # the P wave is small, its axis less precise
FRACTION_HALF_BAND = 0.2  # fractions of beats or leads (P presence, R', paced beats, notched R)
AMPLITUDE_HALF_BAND_MV = 0.05
LIMB_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF")
PRECORDIAL_LEADS = ("V1", "V2", "V3", "V4", "V5", "V6")
CONTIGUOUS_PAIRS = (
    ("I", "aVL"), ("II", "III"), ("II", "aVF"), ("III", "aVF"),
    ("V1", "V2"), ("V2", "V3"), ("V3", "V4"), ("V4", "V5"), ("V5", "V6"),
)  # fmt: skip
"""Contiguous leads: lateral (I, aVL), inferior (II, III, aVF) and neighbouring precordial leads (Wagner et
al. 2009)."""
VARIABLE_T_LEADS = frozenset({"III", "aVL", "aVF", "V1", "V2"})
"""Leads whose T wave may be negative in health; inverted in a pair of only these leads is no finding."""
FLAT_T_LEADS = ("I", "II", "aVL", "V4", "V5", "V6")
"""Leads where a flat or low T wave is abnormal when the R wave reaches 0.5 mV (Rautaharju et al. 2009)."""


class Reading:
    """A record's measurements with its age and sex, as the criteria read them.

    Parameters
    ----------
    measurements : mapping of str to float
        :mod:`ecgcrnn.features.measurements`' names (``"QRS_ms"``, ``"V1:R_mV"``); a name that is absent
        reads as NaN.
    age : float, optional
        Years; None or NaN when unknown (the adult criteria apply).
    sex : str, optional
        ``Male``/``M`` or ``Female``/``F`` in any case; anything else is unknown.
    """

    def __init__(self, measurements: Mapping[str, float], age: float | None = None, sex: str | None = None):
        self.measurements = measurements
        self.age = float(age) if age is not None and math.isfinite(float(age)) else None
        text = (sex or "").strip().lower()
        self.sex = "male" if text in ("male", "m") else "female" if text in ("female", "f") else None

    def __call__(self, name: str) -> float:
        """The measurement ``name`` as a float, NaN where it is absent or not a number."""
        try:
            return float(self.measurements.get(name, NAN))
        except (TypeError, ValueError):
            return NAN

    def lead(self, lead: str, name: str) -> float:
        """The per-lead measurement ``"{lead}:{name}"``."""
        return self(f"{lead}:{name}")


def above(value: float, low: float, high: float) -> float:
    """0 at or below ``low``, 1 at or above ``high``, linear between; NaN when ``value`` is NaN."""
    if math.isnan(value):
        return NAN
    if value <= low:
        return 0.0
    if value >= high:
        return 1.0
    return (value - low) / (high - low)


def below(value: float, low: float, high: float) -> float:
    """1 at or below ``low``, 0 at or above ``high``, linear between; NaN when ``value`` is NaN."""
    return negation(above(value, low, high))


def exceeds(value: float, threshold: float, half_band: float) -> float:
    """``value > threshold``, graded across ``threshold ± half_band`` (0.5 at the threshold)."""
    return above(value, threshold - half_band, threshold + half_band)


def under(value: float, threshold: float, half_band: float) -> float:
    """``value < threshold``, graded across ``threshold ± half_band`` (0.5 at the threshold)."""
    return below(value, threshold - half_band, threshold + half_band)


def between(value: float, low: float, high: float, half_band: float) -> float:
    """``low <= value <= high``, each limit graded across ± ``half_band``, narrowed to half the range
    where the range is shorter than the band, so the middle of the range always grades 1."""
    half_band = min(half_band, (high - low) / 2)
    return all_of(exceeds(value, low, half_band), under(value, high, half_band))


def negation(grade: float) -> float:
    """NOT: 1 - grade (NaN stays NaN)."""
    return 1.0 - grade


def all_of(*grades: float) -> float:
    """AND: the smallest grade; NaN when one is NaN, unless a known one is 0 (1 when there are none)."""
    known = [g for g in grades if not math.isnan(g)]
    smallest = min(known, default=1.0)
    return smallest if len(known) == len(grades) or smallest == 0.0 else NAN


def any_of(*grades: float) -> float:
    """OR: the largest grade; NaN when one is NaN, unless a known one is 1 (0 when there are none)."""
    known = [g for g in grades if not math.isnan(g)]
    largest = max(known, default=0.0)
    return largest if len(known) == len(grades) or largest == 1.0 else NAN


def all_measured(*grades: float) -> float:
    """AND of the grades that are known (1 when none is): for supportive conditions a lead set may lack."""
    return all_of(*(g for g in grades if not math.isnan(g)))


def in_two_contiguous(per_lead: Mapping[str, float], pairs: Iterable[tuple[str, str]]) -> float:
    """A per-lead finding present in two contiguous leads: OR over ``pairs`` of the AND of its two leads'
    grades (a lead missing from ``per_lead`` is NaN)."""
    return any_of(*(all_of(per_lead.get(a, NAN), per_lead.get(b, NAN)) for a, b in pairs))


# The conditions the criteria share ---------------------------------------------------------------------


def sinus_p_waves(r: Reading) -> float:
    """Sinus P waves: a P wave before (at least 80 % of) the QRS complexes with a normal frontal axis,
    0 to +90° (0 to +75° in the narrower definition, fully met), and no regular flutter waves."""
    return all_of(
        exceeds(r("P_presence"), 0.8, FRACTION_HALF_BAND / 2),
        between(r("P_axis_deg"), 0.0, 90.0, P_AXIS_HALF_BAND_DEG),
        negation(flutter_waves(r)),
    )


def flutter_waves(r: Reading) -> float:
    """Regular F waves at 240-340/min: a spectral peak at that rate holding, with its harmonic, more than
    0.4 of the 2-15 Hz power between the QRS complexes (``flutter_regularity``; a sawtooth at one rate puts
    most of its power there, sinus P and T waves and fibrillation put it elsewhere)."""
    return all_of(
        between(r("flutter_rate_bpm"), 240.0, 340.0, 10.0),
        exceeds(r("flutter_regularity"), 0.4, 0.1),
    )


def qrs_limits(age: float | None) -> tuple[float, tuple[float, float], float]:
    """QRS limits (ms) by age (Surawicz et al. 2009): complete block, incomplete RBBB range, nonspecific."""
    if age is None or age >= 16:
        return 120.0, (110.0, 120.0), 110.0
    if age >= 4:
        return 100.0, (90.0, 100.0), 90.0 if age >= 8 else 80.0
    return 90.0, (86.0, 90.0), 80.0


def rbbb_morphology(r: Reading) -> float:
    """R' in V1 or V2 in most beats and an S wave over 40 ms in I and V6."""
    return all_of(
        exceeds(r("R_prime_V1V2"), 0.5, FRACTION_HALF_BAND),
        exceeds(r("S_duration_I_V6_ms"), 40.0, QRS_HALF_BAND_MS),
    )


def lbbb_morphology(r: Reading) -> float:
    """A broad notched or slurred R in at least half of the lateral leads present."""
    return exceeds(r("notched_R_lateral"), 0.5, FRACTION_HALF_BAND)


def q_present(r: Reading, lead: str) -> float:
    """A q wave of 0.05 mV or deeper in ``lead``."""
    return exceeds(-r.lead(lead, "Q_mV"), 0.05, AMPLITUDE_HALF_BAND_MV / 2)


def abnormal_q_leads(r: Reading) -> dict[str, float]:
    """Per lead (not aVR): a q wave lasting 40 ms or more, or deeper than 1/4 of the R (a QS complex too)."""
    grades = {}
    for lead in LIMB_LEADS + PRECORDIAL_LEADS:
        if lead == "aVR":
            continue
        depth, height = -r.lead(lead, "Q_mV"), r.lead(lead, "R_mV")
        ratio = depth / height if height > 0 else (math.inf if depth > 0 else depth * height)
        wide = exceeds(r.lead(lead, "Q_ms"), 40.0, QRS_HALF_BAND_MS)
        grades[lead] = all_of(q_present(r, lead), any_of(wide, exceeds(ratio, 0.25, 0.05)))
    return grades


def inverted_t_leads(r: Reading) -> dict[str, float]:
    """Per lead (not aVR): T at -0.1 mV or deeper."""
    leads = [lead for lead in LIMB_LEADS + PRECORDIAL_LEADS if lead != "aVR"]
    return {lead: under(r.lead(lead, "T_mV"), -0.1, AMPLITUDE_HALF_BAND_MV) for lead in leads}


def abnormal_t_leads(r: Reading) -> dict[str, float]:
    """Per lead (not aVR): T inverted, or, in :data:`FLAT_T_LEADS` with an R of 0.5 mV or more, flat
    (under 0.1 mV) or low (under 10 % of the R)."""
    grades = inverted_t_leads(r)
    for lead in FLAT_T_LEADS:
        t, height = r.lead(lead, "T_mV"), r.lead(lead, "R_mV")
        flat_or_low = any_of(
            under(t, 0.1, AMPLITUDE_HALF_BAND_MV), under(t / height if height > 0 else NAN, 0.1, 0.05)
        )
        grades[lead] = any_of(grades[lead], all_of(exceeds(height, 0.5, 0.1), flat_or_low))
    return grades


def t_pairs() -> tuple[tuple[str, str], ...]:
    """The contiguous pairs with at least one normally upright T wave."""
    return tuple(pair for pair in CONTIGUOUS_PAIRS if not VARIABLE_T_LEADS.issuperset(pair))
