"""What every stage shares: the twelve leads and the Challenge's five lead sets, the fiducial points of a
beat, and the Challenge's 26 scored classes with their SNOMED CT codes, abbreviations and weights.

The classes and weights come from the Challenge's ``weights.csv`` (a copy lives next to this module): the
header row lists the classes in scoring order, and an entry ``a|b`` is one class whose code set is {a, b}
(four pairs of equivalent codes are scored as one class). The square body holds the reward W[j, k] for
predicting class k when class j is true.
"""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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


FIDUCIALS = ("P_on", "P_peak", "P_off", "QRS_on", "R", "QRS_off", "T_on", "T_peak", "T_off")
"""Keys of a delineation, in temporal order within a beat."""

NORMAL_CODE = "426783006"  # sinus rhythm: the class an inactive classifier predicts for every recording
WEIGHTS_FILE = Path(__file__).with_name("weights.csv")

# Abbreviations of the scored classes (the Challenge's weights_abbreviations.csv), keyed by weights.csv entry.
ABBREVIATIONS = {
    "164889003": "AF",
    "164890007": "AFL",
    "6374002": "BBB",
    "426627000": "Brady",
    "733534002|164909002": "CLBBB|LBBB",
    "713427006|59118001": "CRBBB|RBBB",
    "270492004": "IAVB",
    "713426002": "IRBBB",
    "39732003": "LAD",
    "445118002": "LAnFB",
    "164947007": "LPR",
    "251146004": "LQRSV",
    "111975006": "LQT",
    "698252002": "NSIVCB",
    "426783006": "NSR",
    "284470004|63593006": "PAC|SVPB",
    "10370003": "PR",
    "365413008": "PRWP",
    "427172004|17338001": "PVC|VPB",
    "164917005": "QAb",
    "47665007": "RAD",
    "427393009": "SA",
    "426177001": "SB",
    "427084000": "STach",
    "164934002": "TAb",
    "59931005": "TInv",
}


@dataclass(frozen=True, eq=False)
class ClassTable:
    """The scored classes in weights-file order and their weight matrix.

    Attributes
    ----------
    codes : tuple of frozenset of str
        Each class's SNOMED CT code set, length C.
    names : tuple of str
        Each class as written in the weights file (``a|b`` for a pair), length C.
    abbreviations : tuple of str
        Short names for figures (``AF``, ``CLBBB|LBBB``); the name itself where none is known, length C.
    weights : numpy.ndarray
        Read-only float array of shape (C, C); NaN entries are ignored by the challenge metric.
    source : str
        The file the table was read from, for error messages.
    """

    codes: tuple[frozenset[str], ...]
    names: tuple[str, ...]
    abbreviations: tuple[str, ...]
    weights: np.ndarray
    source: str

    def __len__(self) -> int:
        return len(self.codes)

    @functools.cached_property
    def code_index(self) -> dict[str, int]:
        """Map each SNOMED CT code to the index of the class that contains it."""
        return {code: j for j, codes in enumerate(self.codes) for code in codes}

    @property
    def normal_index(self) -> int:
        """Index of the sinus-rhythm class (code 426783006)."""
        try:
            return self.code_index[NORMAL_CODE]
        except KeyError:
            raise ValueError(f"{self.source}: normal class {NORMAL_CODE} is not a scored class") from None

    def encode(self, dx_codes: Iterable[str], dtype=np.float32) -> np.ndarray:
        """Multi-hot vector of shape (C,): 1 for every class whose code set meets ``dx_codes``.

        Codes outside the scored classes are ignored; codes are stripped before lookup.
        """
        vector = np.zeros(len(self.codes), dtype=dtype)
        indices = [self.code_index.get(str(code).strip()) for code in dx_codes]
        vector[[j for j in indices if j is not None]] = 1
        return vector


def load_class_table(weights_file) -> ClassTable:
    """Read a Challenge weights file into a :class:`ClassTable`.

    Parameters
    ----------
    weights_file : str or Path
        CSV whose header row is an empty cell then the C class entries, followed by C rows each starting with
        the same class entry as the column of the same position, then C numbers.

    Raises
    ------
    ValueError
        When the table is not square, its row and column classes differ, or a weight is not a number.
    """
    path = Path(weights_file)
    with path.open(newline="", encoding="utf-8") as f:
        rows = [[cell.strip() for cell in row] for row in csv.reader(f) if any(cell.strip() for cell in row)]
    if not rows or len(rows[0]) < 2:
        raise ValueError(f"{path}: expected a header row of class codes")
    names = tuple(rows[0][1:])
    body = rows[1:]
    if len(body) != len(names):
        raise ValueError(f"{path}: expected {len(names)} rows of weights (one per class), found {len(body)}")
    for i, (name, row) in enumerate(zip(names, body, strict=True)):
        if len(row) != len(names) + 1:
            raise ValueError(f"{path}: row {i + 2} has {len(row) - 1} weights, expected {len(names)}")
        if row[0] != name:
            raise ValueError(f"{path}: row {i + 2} is class {row[0]!r}, expected {name!r} as in the header")
    weights = np.array([[_parse_weight(cell, path) for cell in row[1:]] for row in body], dtype=float)
    weights.setflags(write=False)
    codes = tuple(frozenset(code.strip() for code in name.split("|")) for name in names)
    if len(set().union(*codes)) != sum(len(c) for c in codes):
        raise ValueError(f"{path}: a SNOMED CT code appears in more than one class")
    abbreviations = tuple(ABBREVIATIONS.get(name, name) for name in names)
    return ClassTable(codes, names, abbreviations, weights, str(path))


@functools.lru_cache(maxsize=1)
def default_class_table() -> ClassTable:
    """The Challenge's 26 scored classes and weights, read once from the weights.csv beside this module."""
    return load_class_table(WEIGHTS_FILE)


def class_string(codes: Iterable[str]) -> str:
    """A class as the Challenge's scores files write it: codes sorted as strings, ``|``-joined."""
    return "|".join(sorted(codes))


def _parse_weight(cell: str, path: Path) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"{path}: weight {cell!r} is not a number") from None
    if math.isinf(value):
        raise ValueError(f"{path}: weight {cell!r} is not finite")
    return value
