"""The evaluator's inputs: a folder of label files and a folder of output files, read into the matrices
that :mod:`ecgcrnn.scoring.metrics` scores.

Labels come from the ``Dx`` line of every header under the label folder (sub-folders included); the rest of
a header is not read, so a label file may hold only a record line and a ``#Dx:`` line. Outputs are looked
up flat, ``<output folder>/<root>.csv`` for ``<root>.hea``. The reading follows docs/scoring.md, and is
robust where the Challenge's evaluator stops: an output file with fewer than four lines, lines of unequal
length, or bytes that are not UTF-8 is scored as all-negative with a warning naming it.

Reading is most of an evaluation's time, so it is written for speed: a file is read with one system call,
the Dx line is found with string methods, and the entries of every output file are parsed in one pass
(bench/speed/scoring.py times it).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from ecgcrnn.domain import ClassTable, default_class_table
from ecgcrnn.io.outputs import is_finite_number, output_lines
from ecgcrnn.io.records import dx_codes, find_header_files, require_unique_names
from ecgcrnn.scoring.metrics import Scores, compute_scores

logger = logging.getLogger(__name__)

_TRUE_STRINGS = frozenset({"True", "true", "T", "t"})
_READ_SIZE = 1 << 16  # bytes read at once; label and output files are a few hundred


def evaluate_model(label_directory, output_directory, table: ClassTable | None = None) -> Scores:
    """Score the output files in ``output_directory`` against the headers in ``label_directory``.

    Parameters
    ----------
    label_directory : str or Path
        Folder of ``*.hea`` files, in sub-folders too, whose ``Dx`` lines hold the labels (recordings are
        not needed).
    output_directory : str or Path
        Folder holding ``<root>.csv`` for every ``<root>.hea`` of the label folder.
    table : ClassTable, optional
        Scored classes and weights; the Challenge's by default.

    Raises
    ------
    FileNotFoundError
        When a folder is missing, it holds no label files, or an output file is missing (both files named).
    ValueError
        When two label files share a name (see :func:`find_output_files`).
    """
    table = default_class_table() if table is None else table
    label_files = find_label_files(label_directory)
    output_files = find_output_files(label_files, output_directory)
    labels = load_labels(label_files, table)
    binary_outputs, scalar_outputs = load_classifier_outputs(output_files, table)
    return compute_scores(labels, binary_outputs, scalar_outputs, table)


def find_label_files(label_directory) -> list[str]:
    """Every ``*.hea`` file under ``label_directory`` (recordings not needed), sorted by file name.

    The folder is searched as :func:`ecgcrnn.io.records.find_header_files` searches a folder of records:
    sub-folders too, hidden files and folders skipped, links to folders followed once; two label files of one
    name raise :class:`ecgcrnn.io.records.DuplicateRecordError` naming both.
    """
    if not os.path.isdir(label_directory):
        raise FileNotFoundError(f"{Path(label_directory)}: label folder not found")
    files = find_header_files(label_directory)
    if not files:
        raise FileNotFoundError(f"{Path(label_directory)}: no label files (*.hea) found")
    return files


def find_output_files(label_files, output_directory) -> list[str]:
    """The output file ``<root>.csv`` in ``output_directory`` (not in sub-folders) for every label file
    ``<root>.hea``.

    Raises
    ------
    FileNotFoundError
        When the folder or an output file is missing (naming the label file too).
    DuplicateRecordError
        When two label files (in different sub-folders) share a name, and so an output file (a ValueError).
    """
    directory = os.fspath(Path(output_directory))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{directory}: output folder not found")
    label_files = [os.fspath(f) for f in label_files]
    require_unique_names(label_files)
    names = [os.path.basename(f).removesuffix(".hea") + ".csv" for f in label_files]
    prefix = os.path.join(directory, "")
    with os.scandir(directory) as scan:
        present = {entry.name for entry in scan if _is_file(entry)}
    for label_file, name in zip(label_files, names, strict=True):
        if name not in present and not os.path.isfile(prefix + name):
            raise FileNotFoundError(f"{prefix + name}: output file missing for label file {label_file}")
    return [prefix + name for name in names]


def load_labels(label_files, table: ClassTable) -> np.ndarray:
    """Label matrix (N, C) of bool from the ``Dx`` lines of N header files (the rest is not read).

    Every Dx line counts, as in the Challenge's evaluator; an entry ``a | b`` names no class, as there, with
    a warning naming the file (see :func:`ecgcrnn.io.records.dx_codes`).
    """
    code_index = table.code_index
    rows, columns = [], []
    for i, label_file in enumerate(label_files):
        for code in dx_codes(_read_bytes(label_file).decode("utf-8", "replace"), str(label_file)):
            j = code_index.get(code)
            if j is not None:
                rows.append(i)
                columns.append(j)
    labels = np.zeros((len(label_files), len(table)), dtype=bool)
    labels[rows, columns] = True
    return labels


def load_classifier_outputs(output_files, table: ClassTable) -> tuple[np.ndarray, np.ndarray]:
    """Binary (N, C) bool and scalar (N, C) float outputs from N output files, in the table's class order.

    An output entry counts for every class whose code set meets its own (``a|b`` is split on ``|``): a class's
    binary output is positive when any such entry is, its scalar output is their mean; 0 and 0 without one.
    A binary entry is positive when it is ``True``, ``true``, ``T``, ``t`` or a number equal to 1; a scalar
    entry that is not a finite number counts as 0. A file with fewer than four lines, lines of unequal
    length or bytes that are not UTF-8 is scored as all-negative with a warning naming it.

    The files' numbers are parsed together, and files that list the same classes in the same order share
    one mapping of entries to classes, so the cost per file is little more than reading it.
    """
    rows, label_lines, value_lines, groups = [], [], [], {}
    for i, output_file in enumerate(output_files):
        lines = _output_lines(output_file)
        if lines is not None:
            groups.setdefault(lines[1], []).append(len(rows))
            rows.append(i)
            label_lines.append(lines[2])
            value_lines.append(lines[3])
    shape = (len(output_files), len(table))
    if not rows:
        return np.zeros(shape, dtype=bool), np.zeros(shape)
    widths = np.array([line.count(",") + 1 for line in value_lines])
    count = int(widths.sum())
    positive = _parse_binaries(",".join(label_lines), count)
    values = _parse_scalars(",".join(value_lines), count)
    # Entry e of file f is at flat position starts[f] + e; pair (entry, class) adds to cell row·C + class.
    starts = np.cumsum(widths) - widths
    rows = np.array(rows)
    entry_at, cell_of = [], []
    for class_line, files in groups.items():
        entries, classes = _class_layout(class_line, table)
        files = np.array(files)
        entry_at.append((starts[files, None] + entries).ravel())
        cell_of.append((rows[files, None] * shape[1] + classes).ravel())
    entry_at, cell_of = np.concatenate(entry_at), np.concatenate(cell_of)
    # np.bincount adds in input order: a class's duplicate entries are summed in entry order, as a loop would.
    total = np.bincount(cell_of, weights=values[entry_at], minlength=shape[0] * shape[1])
    entries_in_cell = np.bincount(cell_of, minlength=shape[0] * shape[1])
    binary = np.zeros(shape[0] * shape[1], dtype=bool)
    binary[cell_of[positive[entry_at]]] = True
    scalar = np.divide(total, entries_in_cell, out=np.zeros_like(total), where=entries_in_cell > 0)
    return binary.reshape(shape), scalar.reshape(shape)


def _is_file(entry: os.DirEntry) -> bool:
    """Whether a folder entry is a file or a link to one; False for a link that loops on itself."""
    try:
        return entry.is_file()
    except OSError:
        return False


def _read_bytes(path) -> bytes:
    """A file's bytes, read with one system call for the small files of an evaluation."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        data = os.read(descriptor, _READ_SIZE)
        if len(data) == _READ_SIZE:
            chunks = [data]
            while chunk := os.read(descriptor, _READ_SIZE):
                chunks.append(chunk)
            data = b"".join(chunks)
    finally:
        os.close(descriptor)
    return data


def _output_lines(path) -> list[str] | None:
    """The lines of an output file; None (with a warning naming it) when it cannot be scored."""
    try:
        lines = output_lines(_read_bytes(path).decode("utf-8"), path)
    except UnicodeDecodeError as error:
        logger.warning("%s: not UTF-8 text (%s); scored as all-negative", path, error.reason)
        return None
    except ValueError as error:
        logger.warning("%s; scored as all-negative", error)
        return None
    if not lines[1].count(",") == lines[2].count(",") == lines[3].count(","):
        widths = [line.count(",") + 1 for line in lines[1:4]]
        logger.warning(
            "%s: %d classes, %d labels and %d probabilities; scored as all-negative", path, *widths
        )
        return None
    return lines


def _class_layout(class_line: str, table: ClassTable) -> tuple[np.ndarray, np.ndarray]:
    """The (entry, class) pairs of an output file's class line, in entry order, as two index arrays."""
    code_index = table.code_index
    pairs = [
        (e, j)
        for e, entry in enumerate(class_line.split(","))
        for j in sorted({code_index.get(code.strip()) for code in entry.split("|")} - {None})
    ]
    entries, classes = np.array(pairs, dtype=np.int64).reshape(-1, 2).T
    return entries, classes


def _parse_binaries(joined: str, count: int) -> np.ndarray:
    """``count`` binary entries, ``,``-joined, as bool (count,): True for ``True``, ``true``, ``T``, ``t``
    and numbers equal to 1. When every entry is one ASCII character (``0,1,1,0``), entry i is character 2i."""
    if len(joined) == 2 * count - 1 and joined.isascii():
        characters = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
        if np.all(characters[1::2] == ord(",")):
            return np.isin(characters[::2], np.frombuffer(b"1Tt", dtype=np.uint8))
    entries = joined.split(",")
    return np.fromiter(map(_PositiveEntries().__getitem__, entries), dtype=bool, count=len(entries))


class _PositiveEntries(dict):
    """Binary entry as written -> positive or not, each distinct spelling worked out once."""

    def __missing__(self, entry: str) -> bool:
        stripped = entry.strip()
        positive = stripped in _TRUE_STRINGS or (is_finite_number(stripped) and float(stripped) == 1)
        self[entry] = positive
        return positive


def _parse_scalars(joined: str, count: int) -> np.ndarray:
    """``count`` scalar entries, ``,``-joined, as float (count,), 0 for any that is not a finite number.

    Python's ``float`` decides what a number is. numpy's parser is used first where it agrees: on ASCII
    entries that are neither empty nor hold blanks (it reads a blank entry as -1) it accepts only what
    ``float`` accepts and gives the same value, or NaN for ``nan(...)``, which counts as 0 either way.
    """
    values = None
    blank = (
        " " in joined or "\t" in joined or ",," in joined or joined.startswith(",") or joined.endswith(",")
    )
    if joined.isascii() and not blank:
        try:
            values = np.fromstring(joined, sep=",")
        except ValueError:  # an entry that is not a number: numpy stops there
            values = None
    if values is None or len(values) != count:
        entries = joined.split(",")
        try:
            values = np.fromiter(map(float, entries), dtype=float, count=len(entries))
        except ValueError:
            values = np.fromiter(map(_scalar, entries), dtype=float, count=len(entries))
    values[~np.isfinite(values)] = 0.0
    return values


def _scalar(entry: str) -> float:
    return float(entry) if is_finite_number(entry) else 0.0
