"""The twelve standard leads and the Challenge's five lead sets, defined once for the whole package."""

from __future__ import annotations

from collections.abc import Iterable

STANDARD_LEADS: tuple[str, ...] = (
    "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
)  # fmt: skip

LEAD_SETS: dict[str, tuple[str, ...]] = {
    "twelve": STANDARD_LEADS,
    "six": ("I", "II", "III", "aVR", "aVL", "aVF"),
    "four": ("I", "II", "III", "V2"),
    "three": ("I", "II", "V2"),
    "two": ("I", "II"),
}

_CANONICAL = {name.lower(): name for name in STANDARD_LEADS}
_ORDER = {name: i for i, name in enumerate(STANDARD_LEADS)}


def canonical_lead(name: str) -> str:
    """The standard spelling of a lead name, matched case-insensitively (``avr`` -> ``aVR``).

    Names outside the twelve standard leads come back stripped but otherwise as given.
    """
    name = name.strip()
    return _CANONICAL.get(name.lower(), name)


def sort_leads(leads: Iterable[str]) -> tuple[str, ...]:
    """Leads in the standard 12-lead order; unknown names follow in their given order."""
    leads = [canonical_lead(lead) for lead in leads]
    known = sorted((lead for lead in leads if lead in _ORDER), key=_ORDER.__getitem__)
    return tuple(known) + tuple(lead for lead in leads if lead not in _ORDER)


def lead_set_name(leads: Iterable[str]) -> str | None:
    """The name of the Challenge lead set made of exactly these leads (any order or case), else None."""
    key = sort_leads(leads)
    return next((name for name, members in LEAD_SETS.items() if members == key), None)
