"""Where a record comes from, and which of its labels are evidence.

The Challenge names every record after its source (Reyna et al. 2021): A CPSC, Q CPSC-Extra, I St
Petersburg (INCART), S PTB, HR PTB-XL, E Georgia, and JS for both Chapman-Shaoxing (JS00001-JS10646) and
Ningbo (JS10647 onwards); LUDB's records in the Challenge's format are named L. Each hospital labels its own
subset of the 26 scored classes: CPSC states six of them and no axis, no interval and no T-wave class at all.
A source that never states a class gives no evidence that the class is absent from its records, so such a
(record, class) label is *unknown*, not negative. So is a label that cannot be read from the signals a
source gives: the axis and voltage classes of a recording whose leads were each rescaled to one range
(:func:`ecgcrnn.signal.preprocessing.leads_rescaled`), as in the LUDB copy at hand.

:data:`LABELLED` lists, for each source, the scored classes with at least one record in the Challenge's
``dx_mapping_scored.csv`` (its per-source counts of the 88,253 training records), and for LUDB the classes
its cardiologists' diagnoses map to (Kalyakulina et al. 2020: rhythms, axis deviations, conduction blocks,
extrasystoles, pacing). A record of a source not listed here keeps every label as evidence.
"""

from __future__ import annotations

import re

import numpy as np

from ecgcrnn.domain import ClassTable, default_class_table

CPSC, CPSC_EXTRA, ST_PETERSBURG, PTB, PTB_XL = "CPSC", "CPSC-Extra", "St Petersburg", "PTB", "PTB-XL"
GEORGIA, CHAPMAN, NINGBO, LUDB, OTHER = "Georgia", "Chapman-Shaoxing", "Ningbo", "LUDB", "other"
CHALLENGE_SOURCES = (CPSC, CPSC_EXTRA, ST_PETERSBURG, PTB, PTB_XL, GEORGIA, CHAPMAN, NINGBO)
"""The Challenge 2021's eight sources of training data (Chapman-Shaoxing and Ningbo share the prefix JS)."""

_PREFIXES = {  # prefix: (source, digits of the record number)
    "A": (CPSC, 4), "Q": (CPSC_EXTRA, 4), "I": (ST_PETERSBURG, 2), "S": (PTB, 4), "HR": (PTB_XL, 5),
    "E": (GEORGIA, 5), "JS": (CHAPMAN, 5), "L": (LUDB, 4),
}  # fmt: skip
_NAME = re.compile(r"([A-Z]+)(\d+)$")
_LAST_CHAPMAN = 10646  # JS00001-JS10646 are Chapman-Shaoxing's, the higher numbers Ningbo's

LABELLED: dict[str, frozenset[str]] = {
    source: frozenset(classes.split())
    for source, classes in {
        CPSC: "AF CLBBB|LBBB CRBBB|RBBB IAVB NSR PAC|SVPB",
        CPSC_EXTRA: "AF AFL Brady CLBBB|LBBB CRBBB|RBBB IAVB IRBBB LQT NSIVCB NSR PAC|SVPB PR PVC|VPB QAb "
        "RAD SA SB STach TAb TInv",
        ST_PETERSBURG: "AF BBB Brady CRBBB|RBBB NSIVCB PAC|SVPB SA STach TInv",
        PTB: "AF AFL BBB NSR STach",
        PTB_XL: "AF AFL CLBBB|LBBB CRBBB|RBBB IAVB IRBBB LAD LAnFB LPR LQRSV LQT NSIVCB NSR PAC|SVPB PR QAb "
        "RAD SA SB STach TAb TInv",
        GEORGIA: "AF AFL BBB Brady CLBBB|LBBB CRBBB|RBBB IAVB IRBBB LAD LAnFB LQRSV LQT NSIVCB NSR PAC|SVPB "
        "PVC|VPB QAb RAD SA SB STach TAb TInv",
        CHAPMAN: "AF AFL CLBBB|LBBB CRBBB|RBBB IAVB LAD LPR LQRSV LQT NSIVCB NSR PAC|SVPB PVC|VPB QAb RAD SB "
        "STach TAb TInv",
        NINGBO: "AFL BBB Brady CLBBB|LBBB CRBBB|RBBB IAVB IRBBB LAD LAnFB LPR LQRSV LQT NSIVCB NSR PAC|SVPB "
        "PR PRWP PVC|VPB QAb RAD SA SB STach TAb TInv",
        LUDB: "AF AFL CLBBB|LBBB CRBBB|RBBB IAVB IRBBB LAD LAnFB NSIVCB NSR PAC|SVPB PR PVC|VPB RAD SA SB "
        "STach",
    }.items()
}
"""Per source, the abbreviations (:data:`ecgcrnn.domain.ABBREVIATIONS`) of the scored classes it states."""

AMPLITUDE_CLASSES = frozenset({"LAD", "RAD", "LQRSV", "PRWP"})
"""Classes read from the leads' relative amplitudes: unknown where each lead was rescaled to one range."""


def source_of(record_id: str) -> str:
    """The source of a record from its Challenge name, prefix and number of digits (``A0001`` ->
    ``"CPSC"``, ``JS20001`` -> ``"Ningbo"``), else :data:`OTHER` (``S00001``, ``A1``, ``patient7``)."""
    match = _NAME.match(str(record_id).strip())
    if not match or match.group(1) not in _PREFIXES:
        return OTHER
    (source, digits), number = _PREFIXES[match.group(1)], match.group(2)
    if len(number) != digits:
        return OTHER
    return NINGBO if source == CHAPMAN and int(number) > _LAST_CHAPMAN else source


def sources_of(record_ids) -> np.ndarray:
    """:func:`source_of` of every record, as an array of str (N,)."""
    return np.array([source_of(record_id) for record_id in record_ids], dtype=object)


def label_known(sources, labels, amplitudes_recorded=None, table: ClassTable | None = None) -> np.ndarray:
    """Which labels are evidence: a bool array (N, C), False where the record's source never states the
    class (:data:`LABELLED`) or where the class is read from amplitudes a rescaled recording lacks.

    Parameters
    ----------
    sources : array_like of str, shape (N,)
        Each record's source (:func:`source_of`).
    labels : array_like, shape (N, C)
        The records' labels, classes in ``table``'s order; a positive label is evidence (but for an
        amplitude class of a rescaled recording, which is no evidence either way).
    amplitudes_recorded : array_like of bool, shape (N,), optional
        False for a recording whose leads were each rescaled to one range; default all True.
    table : ClassTable, optional
        The scored classes (default: :func:`ecgcrnn.domain.default_class_table`).
    """
    table = table or default_class_table()
    labels = np.asarray(labels) > 0
    sources = np.asarray(sources, dtype=object)
    if labels.shape != (len(sources), len(table)):
        raise ValueError(
            f"labels of shape {labels.shape} do not match {len(sources)} records, {len(table)} classes"
        )
    known = np.ones(labels.shape, dtype=bool)
    for source, stated in LABELLED.items():
        rows = sources == source
        known[np.ix_(rows, [name not in stated for name in table.abbreviations])] = False
    known |= labels
    if amplitudes_recorded is not None:
        rescaled = ~np.asarray(amplitudes_recorded, dtype=bool)
        known[np.ix_(rescaled, [name in AMPLITUDE_CLASSES for name in table.abbreviations])] = False
    return known
