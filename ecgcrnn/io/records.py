"""Challenge records: WFDB headers and MATLAB v4 recordings, read strictly and written consistently.

A record is a WFDB header ``<id>.hea`` and a MATLAB file ``<id>.mat`` holding a matrix ``val`` of shape
(leads, samples) in ADC units. Physical values in mV are ``(adc - baseline) / gain``. The reader accepts the
quirks of the real Challenge data (record names carrying ``.mat``, ``# Dx:`` with a space, empty codes,
CRLF line endings, ``1000/mv`` units, ``1000.0(0)/mV`` gains with a baseline, ``Age: NaN``) and rejects
anything it cannot read with a :class:`RecordError` that names the file and what was expected.

Every stage finds records the same way, :func:`find_challenge_files` (training, testing, extraction) and
:func:`find_header_files` (the evaluator's label files, which need no recording): sub-folders searched,
hidden entries skipped, folder links followed once each. A folder that must hold records and holds none
raises the one :class:`NoRecordsError`; two records of one name in different sub-folders, whose outputs
would be one file, raise :class:`DuplicateRecordError` naming both.
"""

from __future__ import annotations

import functools
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecgcrnn.domain import canonical_lead
from ecgcrnn.io.atomic import write_text
from ecgcrnn.io.matfile import RecordError, most_values, read_mat, write_mat

DEFAULT_GAIN = 200.0  # WFDB: a missing or zero gain means 200 ADC units per physical unit
INVALID_ADC = -32768  # WFDB: the value of an invalid (missing) sample in 16-bit formats
# The sampling rates an ECG can have. Below 50 Hz the QRS complex, with most of its energy at 5-40 Hz, is lost
# (Nyquist 25 Hz); the Challenge's sources record at 257 to 1000 Hz and high-resolution electrocardiographs at
# a few kHz. A rate outside is a corrupt header, and resampling it to the pipeline's rate would ask for
# absurd memory (112 GiB for a 10 s record announced at 0.001 Hz).
MIN_FS_HZ = 50.0
MAX_FS_HZ = 10_000.0
# Millivolts per physical unit, by the unit's name in lower case (micro as u, the micro sign or the Greek mu).
_UNITS_TO_MV = {"mv": 1.0, "uv": 1e-3, "\u00b5v": 1e-3, "\u03bcv": 1e-3, "nv": 1e-6, "v": 1e3}

_FLOAT32_MAX = float(np.finfo(np.float32).max)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Signal:
    """One lead's line of a WFDB header."""

    file_name: str
    fmt: str
    gain: float  # ADC units per physical unit
    baseline: int  # ADC value of 0 physical units
    units: str
    adc_resolution: int
    adc_zero: int
    initial_value: int | None
    checksum: int | None
    block_size: int
    name: str  # canonical lead name (aVR, not avr)
    line: str  # the line as written, for rewriting headers


@dataclass(frozen=True)
class Header:
    """A parsed WFDB header: the record line, one :class:`Signal` per lead, and the comments."""

    record_name: str
    fs_hz: float
    num_samples: int
    signals: tuple[Signal, ...]
    comments: tuple[str, ...]  # comment lines without their leading '#'
    record_line: str
    source: str  # file or record name used in error messages

    @property
    def leads(self) -> tuple[str, ...]:
        return tuple(signal.name for signal in self.signals)

    @property
    def num_leads(self) -> int:
        return len(self.signals)

    def comment(self, key: str) -> str | None:
        """The value of the first ``#Key: value`` comment (key matched case-insensitively), else None."""
        key = key.lower()
        for line in self.comments:
            name, sep, value = line.partition(":")
            if sep and name.strip().lower() == key:
                return value.strip()
        return None

    def lead_indices(self, leads) -> list[int]:
        """Row indices of ``leads`` (any case) in the recording; RecordError naming a missing lead."""
        index = {name: i for i, name in enumerate(self.leads)}
        try:
            return [index[canonical_lead(lead)] for lead in leads]
        except KeyError as missing:
            raise RecordError(
                f"{self.source}: lead {missing.args[0]!r} not in {', '.join(self.leads)}"
            ) from None


class NoRecordsError(ValueError):
    """A folder that should hold Challenge records holds none (no ``.hea`` with a ``.mat`` beside it)."""


class DuplicateRecordError(ValueError):
    """Two records of one name in different sub-folders, whose outputs (named by the record) would be one."""


def find_challenge_files(data_directory, required: bool = False) -> tuple[list[str], list[str]]:
    """Header and recording files under ``data_directory``, sorted by file name.

    A ``.hea`` counts only when its ``.mat`` exists beside it. The folder is searched as
    :func:`find_header_files` searches it (sub-folders, symbolic links, hidden entries skipped).

    Parameters
    ----------
    data_directory : str or Path
        The folder to search.
    required : bool, default False
        Raise :class:`NoRecordsError` instead of returning two empty lists when no record is found.

    Returns
    -------
    header_files, recording_files : list of str
        Paired by position; empty lists for a folder without records (unless ``required``).

    Raises
    ------
    FileNotFoundError
        When ``data_directory`` is not a folder.
    NoRecordsError
        With ``required``, when no record is found: ``<folder>: no records (.hea with a .mat beside it)
        found``.
    DuplicateRecordError
        When two records share a name (see :func:`require_unique_names`).
    """
    header_files = _find_headers(data_directory, with_recording=True)
    if required and not header_files:
        raise NoRecordsError(f"{Path(data_directory)}: no records (.hea with a .mat beside it) found")
    return header_files, [header_file[:-4] + ".mat" for header_file in header_files]


def find_header_files(data_directory) -> list[str]:
    """Every header file (``*.hea``, with or without a ``.mat`` beside it) under ``data_directory``.

    Sub-folders are searched too, so the Challenge's per-source folders can be used as downloaded; hidden
    files and folders (names starting with ``.``) are skipped; symbolic links to folders are followed, each
    folder searched once however many links lead to it (so a link loop ends). A sub-folder that cannot be
    read, and a link that cannot be followed (one that points to itself), are skipped with a warning naming
    them. Files are sorted by file name (then by path, for equal names).

    Raises
    ------
    FileNotFoundError
        When ``data_directory`` is not a folder.
    PermissionError
        When ``data_directory`` itself cannot be read (naming it).
    DuplicateRecordError
        When two header files share a name (see :func:`require_unique_names`).
    """
    return _find_headers(data_directory, with_recording=False)


def require_unique_names(header_files) -> None:
    """Raise :class:`DuplicateRecordError` unless every one of ``header_files`` has a file name of its own.

    Outputs are named by the record alone (``<output folder>/<id>.csv``), so ``a/A1.hea`` and ``b/A1.hea``
    would write one file, the second run's over the first's. The error names the first two files of one name:
    ``a/A1.hea and b/A1.hea: two records named A1, but a record's name must be unique: rename one, or remove
    it``.
    """
    first = {}
    for header_file in map(os.fspath, header_files):
        name = os.path.basename(header_file)
        if name in first:
            raise DuplicateRecordError(
                f"{first[name]} and {header_file}: two records named {name.removesuffix('.hea')}, but a "
                "record's name must be unique: rename one, or remove it"
            )
        first[name] = header_file


def dx_codes(text: str, source: str | None = None) -> list[str]:
    """The SNOMED CT codes of every ``#Dx:`` line (also ``# Dx:``, any case) of a header, read from its text.

    Codes are read as the Challenge's helper reads them: those of every Dx line in turn, split on commas and
    stripped (empty ones dropped here); [] without a Dx line. Only the comment lines are looked at, so a label
    file with no signal lines (or malformed ones) gives its codes too. An entry holding ``|`` (``a | b``) is
    kept as it is, so it names no class, as in the Challenge's evaluator, with a warning naming ``source``
    (or the record).
    """
    first = text.find("#")
    if first < 0:
        return []
    lines = (line.strip() for line in text[text.rfind("\n", 0, first) + 1 :].splitlines())
    comments = [line[1:] for line in lines if line.startswith("#")]
    return _dx_codes(comments, source or _record_name(text))


def load_header(header_file) -> str:
    """The text of a header file, checked to parse (RecordError naming the file otherwise)."""
    text = Path(header_file).read_text(encoding="utf-8", errors="replace")
    parse_header(text, source=str(header_file))
    return text


def as_header(header: str | Header) -> Header:
    """``header`` parsed, whether it is a header's text or already a :class:`Header`."""
    return header if isinstance(header, Header) else parse_header(header)


@functools.lru_cache(maxsize=256)
def parse_header(text: str, source: str | None = None) -> Header:
    """Parse a WFDB header's text; RecordError naming ``source`` (or the record) and what was expected.

    Besides malformed lines, a sampling rate outside :data:`MIN_FS_HZ` to :data:`MAX_FS_HZ` is refused.
    """
    lines = [line.strip() for line in text.splitlines()]
    comments = tuple(line[1:] for line in lines if line.startswith("#"))
    body = [line for line in lines if line and not line.startswith("#")]
    where = source or (body[0].split()[0] if body else "header")
    if not body:
        raise RecordError(f"{where}: empty header, expected a record line '<record> <leads> <fs> <samples>'")
    name, num_leads, fs_hz, num_samples = _parse_record_line(body[0], where)
    if len(body) - 1 != num_leads:
        raise RecordError(f"{where}: record line announces {num_leads} leads, found {len(body) - 1} lines")
    signals = tuple(_parse_signal_line(line, where) for line in body[1:])
    return Header(name, fs_hz, num_samples, signals, comments, body[0], where)


def load_recording(recording_file, header: str | Header | None = None, leads=None, key: str = "val"):
    """The recording's matrix as stored, shape (leads, samples), in ADC units.

    Given ``header`` the shape is checked against it; given ``leads`` too, the rows come in that order.
    """
    recording = read_mat(recording_file, key)
    if header is None:
        return recording
    header = as_header(header)
    expected = (header.num_leads, header.num_samples)
    if recording.shape != expected:
        raise RecordError(
            f"{recording_file}: matrix '{key}' has shape {recording.shape[0]}x{recording.shape[1]}, "
            f"header {header.source} expects {expected[0]}x{expected[1]} (leads x samples)"
        )
    if leads is not None:
        recording = recording[header.lead_indices(leads)]
    return recording


def check_recording_size(recording_file, header: Header) -> None:
    """Raise a RecordError when ``header`` announces more samples than ``recording_file`` can hold
    (:func:`ecgcrnn.io.matfile.most_values`): checked before the file is read, so that a typo's extra
    digits in a sample count cannot make room for a recording that does not exist."""
    most = most_values(recording_file)
    if header.num_leads * header.num_samples > most:
        raise RecordError(
            f"{recording_file}: header {header.source} announces {header.num_samples} samples of "
            f"{header.num_leads} leads, more than a file of its size holds ({most} numbers at most)"
        )


def to_millivolts(header: str | Header, recording: np.ndarray, leads=None) -> np.ndarray:
    """A recording (leads in file order, ADC units) as float32 millivolts, shape (len(leads), samples).

    ``leads`` picks and orders the rows (any case); all leads in file order when None. Invalid samples
    (WFDB's -32768 in 16-bit formats) and non-finite values become NaN. A recording that is not real numbers,
    or a sample whose millivolts are beyond float32 (a gain or unit wrong for the data), is a RecordError.
    """
    header = as_header(header)
    recording = np.asarray(recording)
    if recording.ndim != 2 or recording.shape[0] != header.num_leads:
        raise RecordError(
            f"{header.source}: recording of shape {recording.shape} does not match the header's "
            f"{header.num_leads} leads"
        )
    rows = header.lead_indices(leads) if leads is not None else list(range(header.num_leads))
    signals = [header.signals[i] for i in rows]
    gain = np.array([s.gain / _UNITS_TO_MV[s.units.lower()] for s in signals], np.float64)
    baseline = np.array([s.baseline for s in signals], np.float64)
    raw = recording[rows]
    if raw.dtype.kind not in "iuf":
        raise RecordError(f"{header.source}: recording of {raw.dtype} values, expected real ADC values")
    with np.errstate(over="ignore", invalid="ignore"):
        mv = (raw - baseline[:, None]) / gain[:, None]
    invalid = raw == INVALID_ADC if raw.dtype == np.int16 else ~np.isfinite(raw)
    overflow = ~(np.abs(mv) <= _FLOAT32_MAX) & ~invalid
    if overflow.any():
        row, column = np.argwhere(overflow)[0]
        raise RecordError(
            f"{header.source}: lead {signals[row].name} sample {column} is {raw[row, column]} ADC units, "
            f"{mv[row, column]:.3g} mV, beyond float32; expected an ECG (are its gain and units right?)"
        )
    mv[invalid] = np.nan
    return mv.astype(np.float32)


def get_labels(header: str | Header) -> list[str]:
    """The SNOMED CT codes on every ``#Dx:`` (or ``# Dx:``) line, empty entries dropped; [] when absent.

    Given a header's text, only its comment lines are read (see :func:`dx_codes`, which also says how an
    entry ``a | b`` is read).
    """
    if isinstance(header, Header):
        return _dx_codes(header.comments, header.source)
    return dx_codes(header)


def get_age(header: str | Header) -> float | None:
    """Age in years; NaN when the Age line is not a number, None when there is no Age line."""
    header = as_header(header)
    value = header.comment("Age")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return math.nan


def get_sex(header: str | Header) -> str | None:
    """The Sex line's text (``Male``, ``Female``, ``Unknown``...), None when absent."""
    header = as_header(header)
    return header.comment("Sex")


def write_record(output_directory, header: Header, recording: np.ndarray, leads) -> Path:
    """Write ``leads`` (in that order) of a record as a new header and MATLAB v4 file.

    Comments and every field of the kept signal lines are preserved; the record line's lead count, and
    each line's initial value and checksum, are set from the data. Both files are written atomically.
    Returns the new header's path.
    """
    rows = header.lead_indices(leads)
    data = np.ascontiguousarray(np.asarray(recording)[rows])
    record_tokens = header.record_line.split()
    record_tokens[1] = str(len(rows))
    lines = [" ".join(record_tokens)]
    for row, values in zip(rows, data, strict=True):
        lines.append(_rewrite_signal_line(header.signals[row].line, values))
    lines += [f"#{comment}" for comment in header.comments]
    mat_name = header.signals[rows[0]].file_name if rows else f"{header.record_name}.mat"
    output_directory = Path(output_directory)
    write_mat(output_directory / mat_name, "val", data)
    header_file = output_directory / (Path(mat_name).stem + ".hea")
    write_text(header_file, "\n".join(lines) + "\n")
    return header_file


def checksum(values: np.ndarray) -> int:
    """WFDB's 16-bit checksum of one signal: the sum of its samples modulo 65536, as a signed value."""
    total = int(np.sum(values, dtype=np.int64)) % 65536
    return total - 65536 if total > 32767 else total


def _parse_record_line(line: str, where: str) -> tuple[str, int, float, int]:
    tokens = line.split()
    try:
        name = tokens[0].split("/")[0]
        num_leads = int(tokens[1])
        fs_hz = float(tokens[2].split("/")[0].split("(")[0])
        num_samples = int(tokens[3])
    except (IndexError, ValueError):
        raise RecordError(
            f"{where}: bad record line {line!r}, expected '<record> <leads> <fs> <samples> [date time]'"
        ) from None
    if num_leads < 1 or not fs_hz > 0 or not math.isfinite(fs_hz) or num_samples < 0:
        raise RecordError(f"{where}: bad record line {line!r}, expected positive leads, fs and samples")
    if not MIN_FS_HZ <= fs_hz <= MAX_FS_HZ:
        raise RecordError(
            f"{where}: sampling rate {fs_hz:g} Hz on the record line, expected an ECG's "
            f"{MIN_FS_HZ:g} to {MAX_FS_HZ:g} Hz"
        )
    for suffix in (".mat", ".hea"):
        name = name.removesuffix(suffix)
    return name, num_leads, fs_hz, num_samples


def _parse_signal_line(line: str, where: str) -> Signal:
    tokens = line.split(maxsplit=8)
    if len(tokens) < 9:
        raise RecordError(
            f"{where}: bad signal line {line!r}, expected '<file> <format> <gain>/<units> <resolution> "
            "<ADC zero> <initial value> <checksum> <block size> <lead name>'"
        )
    try:
        adc_zero = int(tokens[4])
        gain, baseline, units = _parse_gain(tokens[2], adc_zero)
        signal = Signal(
            file_name=tokens[0],
            fmt=tokens[1],
            gain=gain,
            baseline=baseline,
            units=units,
            adc_resolution=int(tokens[3]),
            adc_zero=adc_zero,
            initial_value=int(tokens[5]),
            checksum=int(tokens[6]),
            block_size=int(tokens[7]),
            name=canonical_lead(tokens[8]),
            line=line,
        )
    except ValueError:
        raise RecordError(f"{where}: bad signal line {line!r}, a numeric field is not a number") from None
    if signal.units.lower() not in _UNITS_TO_MV:
        raise RecordError(
            f"{where}: lead {signal.name}'s units {signal.units!r} are not a voltage, expected mV, uV or V"
        )
    return signal


def _parse_gain(token: str, adc_zero: int) -> tuple[float, int, str]:
    """``1000/mV``, ``1000.0(-5)/mV`` or ``200`` as (gain, baseline, units)."""
    value, _, units = token.partition("/")
    baseline = adc_zero
    if "(" in value:
        value, _, rest = value.partition("(")
        baseline = float(rest.rstrip(")"))
        if not math.isfinite(baseline):
            raise ValueError(token)
        baseline = int(baseline)
    gain = float(value)
    if not math.isfinite(gain):
        raise ValueError(token)
    return (gain if gain != 0 else DEFAULT_GAIN), baseline, (units or "mV")


def _rewrite_signal_line(line: str, values: np.ndarray) -> str:
    tokens = line.split(maxsplit=8)
    tokens[5] = str(int(values[0])) if values.size else "0"
    tokens[6] = str(checksum(values))
    return " ".join(tokens)


def _split_codes(value: str) -> list[str]:
    return [code.strip() for code in value.split(",") if code.strip()]


def _dx_codes(comments, source: str) -> list[str]:
    """The codes of every Dx line among ``comments`` (lines without their '#'), in order."""
    codes = []
    for comment in comments:
        name, sep, value = comment.partition(":")
        if sep and name.strip().lower() == "dx":
            codes += _split_codes(value)
    for code in codes:
        if "|" in code:
            log.warning(
                "%s: Dx entry %r is not one code, so it names no class (as in the Challenge's evaluator); "
                "separate codes with commas",
                source,
                code,
            )
    return codes


def _record_name(text: str) -> str:
    """The first word of a header's first line that is not a comment, for messages; 'header' if none."""
    for line in text.splitlines():
        words = line.split()
        if words and not words[0].startswith("#"):
            return words[0]
    return "header"


def _find_headers(data_directory, with_recording: bool) -> list[str]:
    """The ``.hea`` files under ``data_directory`` (only those with a ``.mat`` beside them if
    ``with_recording``), sorted by file name, then path."""
    pairs = sorted(
        (name, prefix + name)
        for prefix, names in _walk_files(data_directory)
        for name in names
        if name.endswith(".hea") and (not with_recording or name[:-4] + ".mat" in names)
    )
    header_files = [path for _, path in pairs]
    require_unique_names(header_files)
    return header_files


def _walk_files(data_directory):
    """``(prefix, names)`` for ``data_directory`` and every folder below it, depth first in name order.

    ``prefix`` is the folder's path with a separator after it; ``names`` is the set of the folder's files
    (links to files included) that are not hidden. Folders are told apart by (device, inode), so a folder
    reached again through a symbolic link is not searched twice; a link that cannot be followed (one that
    points to itself, or to a link back to it) is skipped with a warning naming it.
    """
    top = os.fspath(Path(data_directory))
    if not os.path.isdir(top):
        raise FileNotFoundError(f"{top}: no such folder")
    visited = set()
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in visited:
                continue
            visited.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as scan:
                entries = [entry for entry in scan if not entry.name.startswith(".")]
        except OSError as error:
            if folder == top:
                raise
            log.warning("%s: %s; skipped", folder, error.strerror or error)
            continue
        names = set()
        subfolders = []
        for entry in entries:
            try:
                if entry.is_dir():
                    subfolders.append(entry.path)
                elif entry.is_file():
                    names.add(entry.name)
            except OSError as error:  # a link that cannot be followed: one that loops (ELOOP)
                log.warning("%s: %s; skipped", entry.path, error.strerror or error)
        stack.extend(sorted(subfolders, reverse=True))
        yield os.path.join(folder, ""), names
