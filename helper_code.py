"""The Challenge's helper API (the names and return values other entries and the organisers' scripts use).

Each function delegates to the ``ecgcrnn`` package, which reads the real data's quirks that the original
helper trips on. ``header`` arguments are a header file's text, as ``load_header`` returns it.
"""

from __future__ import annotations

import numpy as np

from ecgcrnn.domain import sort_leads
from ecgcrnn.io.outputs import is_finite_number, is_integer, is_number, load_outputs, save_outputs
from ecgcrnn.io.records import (
    find_challenge_files,
    get_age,
    get_labels,
    get_sex,
    load_header,
    load_recording,
    parse_header,
    to_millivolts,
)

__all__ = [
    "find_challenge_files",
    "get_adc_gains",
    "get_age",
    "get_baselines",
    "get_frequency",
    "get_labels",
    "get_leads",
    "get_num_leads",
    "get_num_samples",
    "get_recording_id",
    "get_sex",
    "is_finite_number",
    "is_integer",
    "is_number",
    "load_header",
    "load_outputs",
    "load_recording",
    "save_outputs",
    "sort_leads",
    "to_millivolts",
]


def get_recording_id(header: str) -> str:
    """The record name on the record line (without the ``.mat`` some real headers append to it)."""
    return parse_header(header).record_name


def get_leads(header: str) -> tuple[str, ...]:
    """Lead names in file order, standard names in their standard spelling (``avr`` -> ``aVR``)."""
    return parse_header(header).leads


def get_num_leads(header: str) -> int:
    return parse_header(header).num_leads


def get_frequency(header: str) -> float:
    """Sampling frequency in Hz."""
    return parse_header(header).fs_hz


def get_num_samples(header: str) -> int:
    return parse_header(header).num_samples


def get_adc_gains(header: str, leads) -> np.ndarray:
    """Gains (ADC units per mV) of ``leads``, in that order, shape (len(leads),)."""
    parsed = parse_header(header)
    return np.array([parsed.signals[i].gain for i in parsed.lead_indices(leads)], dtype=np.float64)


def get_baselines(header: str, leads) -> np.ndarray:
    """Baselines (ADC value of 0 mV) of ``leads``, in that order, shape (len(leads),)."""
    parsed = parse_header(header)
    return np.array([parsed.signals[i].baseline for i in parsed.lead_indices(leads)], dtype=np.float64)
