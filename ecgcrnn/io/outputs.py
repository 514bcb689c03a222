"""The Challenge's per-recording output files, and the number tests of its helper API.

An output file has four lines::

    #<recording id>
    <class>,<class>,...
    <0 or 1>,<0 or 1>,...
    <probability>,<probability>,...

A class entry is a SNOMED CT code or ``a|b`` for a class of equivalent codes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from ecgcrnn.io.atomic import write_text


def save_outputs(
    output_file, recording_id: str, classes: Sequence, labels: Sequence, probabilities: Sequence
):
    """Write one recording's output file atomically (see :func:`ecgcrnn.io.atomic.replacing`).

    Parameters
    ----------
    output_file : str or Path
        Destination, usually ``<output folder>/<header root>.csv``; its folder must exist.
    recording_id : str
        Written after ``#`` on the first line.
    classes : sequence of str or of iterable of str
        Class entries, length C; a set of codes is written ``|``-joined in sorted order.
    labels : sequence of int or bool
        Binary outputs, length C, each 0 or 1 (written as integers).
    probabilities : sequence of float
        Scalar outputs, length C, written with full round-trip precision.

    Raises
    ------
    ValueError
        When the three sequences differ in length or a label is not 0 or 1; the message names the file.
    OSError
        When the file cannot be written; it names ``output_file``, and nothing is left behind.
    """
    path = Path(output_file)
    write_text(path, format_outputs(path, recording_id, classes, labels, probabilities))


def format_outputs(
    output_file, recording_id: str, classes: Sequence, labels: Sequence, probabilities: Sequence
) -> str:
    """The text :func:`save_outputs` writes (same parameters); ValueError naming ``output_file`` as there."""
    classes, labels, probabilities = list(classes), list(labels), list(probabilities)
    if not len(classes) == len(labels) == len(probabilities):
        raise ValueError(
            f"{output_file}: expected as many labels and probabilities as classes, got {len(classes)} "
            f"classes, {len(labels)} labels and {len(probabilities)} probabilities"
        )
    if any(label not in (0, 1) for label in labels):
        raise ValueError(f"{output_file}: labels must be 0 or 1, got {labels}")
    lines = [
        f"#{recording_id}",
        ",".join(_class_entry(c) for c in classes),
        ",".join(str(int(label)) for label in labels),
        ",".join(repr(float(p)) for p in probabilities),
    ]
    return "\n".join(lines) + "\n"


def load_outputs(output_file) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[float, ...]]:
    """Read one recording's output file.

    Returns
    -------
    recording_id : str
        The first line without its leading ``#``, stripped.
    classes : tuple of str
        The class entries, stripped.
    labels : tuple of str
        The binary outputs as written, stripped (``"1"``, ``"0"``, ``"True"``...).
    probabilities : tuple of float
        The scalar outputs; NaN for an entry that is not a finite number.

    Raises
    ------
    ValueError
        When the file has fewer than four lines or is not text; the message names the file.
    """
    path = Path(output_file)
    lines = output_lines(path.read_text(encoding="utf-8"), path)
    recording_id = lines[0].strip().removeprefix("#").strip()
    classes = tuple(entry.strip() for entry in lines[1].split(","))
    labels = tuple(entry.strip() for entry in lines[2].split(","))
    probabilities = tuple(
        float(entry) if is_finite_number(entry) else math.nan for entry in lines[3].split(",")
    )
    return recording_id, classes, labels, probabilities


def output_lines(text: str, output_file) -> list[str]:
    """The lines of an output file's text; ValueError naming ``output_file`` if there are fewer than four."""
    lines = text.splitlines()
    if len(lines) < 4:
        raise ValueError(
            f"{output_file}: expected four lines (#id, classes, labels, probabilities), found {len(lines)}"
        )
    return lines


def is_number(x) -> bool:
    """True when ``float(x)`` succeeds (so ``"nan"`` and ``"inf"`` are numbers)."""
    try:
        float(x)
    except (ValueError, TypeError):
        return False
    return True


def is_integer(x) -> bool:
    """True when ``x`` is a number equal to its integer part: ``"3"`` and ``"3.0"``, not ``"inf"``."""
    return is_number(x) and float(x).is_integer()


def is_finite_number(x) -> bool:
    """True when ``x`` is a number other than NaN or ±infinity."""
    return is_number(x) and math.isfinite(float(x))


def _class_entry(entry) -> str:
    return entry.strip() if isinstance(entry, str) else "|".join(sorted(str(code) for code in entry))
