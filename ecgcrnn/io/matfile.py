"""MATLAB level 4 files, the Challenge's recording format, read and written without scipy.

A level 4 file is a sequence of matrices, each a 20-byte header (type, rows, columns, imaginary flag, name
length), the name and the data in column-major order. The Challenge's ``.mat`` files hold one int16 matrix
``val``; its data starts at byte 24, which is why the headers describe them as WFDB format ``16+24``.

Level 5 files, which some tools write, are read here too (their real numeric matrices, compressed or not),
following MathWorks' "MAT-File Format": a 128-byte header, then tagged data elements, each variable an
miMATRIX element, maybe inside a zlib-compressed one. Not through scipy: its reader trusts the type code of
an element's tag, and a damaged file crashes the process (a segmentation fault) instead of raising.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from ecgcrnn.io.atomic import write_bytes

# The P digit of the type field: the stored element type.
_TYPES = {0: "f8", 1: "f4", 2: "i4", 3: "i2", 4: "u2", 5: "u1"}
_CODES = {np.dtype(code).str[1:]: digit for digit, code in _TYPES.items()}
# Level 5: the numeric data types of elements (miINT8 ... miUINT64), the element types that hold other
# elements, the classes of numeric arrays and the names of the others, and an array flag.
_MI_TYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8"}
_MI_MATRIX, _MI_COMPRESSED = 14, 15
_MX_CLASSES = {6: "f8", 7: "f4", 8: "i1", 9: "u1", 10: "i2", 11: "u2", 12: "i4", 13: "u4", 14: "i8", 15: "u8"}
_MX_NAMES = {1: "cells", 2: "a structure", 3: "an object", 4: "text", 5: "a sparse matrix", 16: "a function"}
_COMPLEX_FLAG = 0x800
# What a compressed variable may inflate to: far above any recording (30 min of 12 leads at 1000 Hz in
# float64 is 173 MB), and a damaged or hostile file cannot take all the memory.
_MAX_INFLATED_BYTES = 1 << 31
MAX_DEFLATE_RATIO = 1032
"""The most bytes zlib's deflate makes of one (a 258-byte match coded in 2 bits): what one byte of a
compressed level 5 variable may hold at most."""


class RecordError(ValueError):
    """A header or recording that cannot be read as part of a valid Challenge record."""


def read_mat(path, key: str = "val") -> np.ndarray:
    """The matrix named ``key`` in a MATLAB file, as stored (rows x columns), C-contiguous."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: recording file not found") from None
    if content[:6] == b"MATLAB":
        return _read_level5(path, content, key)
    offset, names = 0, []
    while offset < len(content):
        name, matrix, complex_, offset = _read_level4_matrix(path, content, offset)
        if name == key:
            if complex_:
                raise RecordError(f"{path}: matrix {key!r} is complex, expected real ADC values")
            return matrix
        names.append(name)
    raise _missing(path, key, names)


def most_values(path) -> int:
    """The most numbers a MATLAB file of ``path``'s size can hold, whatever its level, compression and
    number type (one byte each at least, :data:`MAX_DEFLATE_RATIO` per byte compressed): a bound to check a
    header's sample count against without reading the file."""
    return Path(path).stat().st_size * MAX_DEFLATE_RATIO


def write_mat(path, key: str, matrix: np.ndarray) -> None:
    """Write one matrix as a little-endian MATLAB level 4 file, atomically (temporary file, then rename)."""
    path = Path(path)
    matrix = np.asarray(matrix)
    if matrix.ndim != 2:
        raise ValueError(f"{path}: a MATLAB level 4 matrix must be 2-D, got shape {matrix.shape}")
    code = matrix.dtype.str[1:]
    if code not in _CODES:
        raise ValueError(f"{path}: MATLAB level 4 cannot store {matrix.dtype}")
    name = key.encode("ascii") + b"\0"
    header = np.array([_CODES[code] * 10, *matrix.shape, 0, len(name)], "<i4").tobytes()
    data = matrix.astype(f"<{code}").tobytes(order="F")
    write_bytes(path, header + name + data)


def _read_level4_matrix(path: Path, content: bytes, offset: int) -> tuple[str, np.ndarray, bool, int]:
    """The matrix at ``offset`` as (name, real part, whether it has an imaginary part, offset of the next)."""
    if len(content) - offset < 20:
        raise RecordError(f"{path}: truncated MATLAB file, expected a 20-byte matrix header at byte {offset}")
    kind, rows, columns, imaginary, name_length = np.frombuffer(content, "<i4", 5, offset).tolist()
    endian = "<"
    if not 0 <= kind < 1000:
        kind, rows, columns, imaginary, name_length = np.frombuffer(content, ">i4", 5, offset).tolist()
        endian = ">"
    digit_p, digit_t = (kind // 10) % 10, kind % 10
    if not (0 <= kind < 2000 and (kind // 100) % 10 == 0 and digit_p in _TYPES and digit_t == 0):
        raise RecordError(f"{path}: not a MATLAB level 4 or 5 numeric matrix (type field {kind})")
    if rows < 0 or columns < 0 or not 0 < name_length <= 256:
        raise RecordError(f"{path}: corrupt MATLAB header ({rows}x{columns}, name length {name_length})")
    start = offset + 20 + name_length
    name = content[offset + 20 : start].split(b"\0")[0].decode("ascii", errors="replace")
    dtype = np.dtype(endian + _TYPES[digit_p])
    count = rows * columns
    end = start + count * dtype.itemsize * (2 if imaginary else 1)
    if end > len(content):
        raise RecordError(
            f"{path}: truncated MATLAB file, matrix {name!r} of {rows}x{columns} {dtype.name} needs "
            f"{end - start} bytes of data, found {max(len(content) - start, 0)}"
        )
    matrix = np.frombuffer(content, dtype, count, start).reshape(columns, rows).T
    return name, np.ascontiguousarray(matrix, dtype=dtype.newbyteorder("=")), imaginary != 0, end


def _missing(path: Path, key: str, names: list[str]) -> RecordError:
    found = ", ".join(repr(name) for name in names) or "no variables"
    return RecordError(f"{path}: no variable {key!r} in this MATLAB file (found {found})")


def _read_level5(path: Path, content: bytes, key: str) -> np.ndarray:
    if len(content) < 128:
        raise RecordError(f"{path}: truncated MATLAB level 5 file, expected a 128-byte header")
    endian = {b"IM": "<", b"MI": ">"}.get(content[126:128])
    if endian is None:
        raise RecordError(f"{path}: not a MATLAB level 5 file (endian indicator {content[126:128]!r})")
    version = int.from_bytes(content[124:126], "little" if endian == "<" else "big")
    if version != 0x0100:
        raise RecordError(
            f"{path}: MATLAB file version {version:#06x}, expected level 5's 0x0100 (7.3 files are HDF5: "
            "save with -v7)"
        )
    names = []
    for buffer, start, end in _level5_variables(path, content, endian):
        name, matrix = _level5_matrix(path, buffer, start, end, endian, key)
        if matrix is not None:
            return matrix
        names.append(name)
    raise _missing(path, key, names)


def _level5_variables(path: Path, content: bytes, endian: str):
    """``(buffer, start, end)`` of each variable's miMATRIX data, compressed variables inflated."""
    for kind, start, end in _elements(path, content, 128, len(content), endian):
        if kind == _MI_MATRIX:
            yield content, start, end
        elif kind == _MI_COMPRESSED:
            inflated = _inflate(path, content[start:end])
            for inner, inner_start, inner_end in _elements(path, inflated, 0, len(inflated), endian):
                if inner == _MI_MATRIX:
                    yield inflated, inner_start, inner_end


def _level5_matrix(path: Path, buffer: bytes, start: int, end: int, endian: str, key: str):
    """``(name, matrix)`` of one miMATRIX element's data; the matrix is None unless the name is ``key``."""
    elements = _elements(path, buffer, start, end, endian)
    flags, dimensions, name = (next(elements, None) for _ in range(3))
    if name is None:
        raise RecordError(
            f"{path}: corrupt MATLAB level 5 file, a variable without flags, dimensions or name"
        )
    name = buffer[name[1] : name[2]].split(b"\0")[0].decode("ascii", errors="replace")
    if name != key:
        return name, None
    flags = _numbers(path, buffer, flags, endian, f"the flags of {key!r}", integers=True)[:1].tolist() or [0]
    shape = _numbers(path, buffer, dimensions, endian, f"the dimensions of {key!r}", integers=True).tolist()
    kind = flags[0] & 0xFF
    if kind not in _MX_CLASSES:
        what = _MX_NAMES.get(kind, f"an array of class {kind}")
        raise RecordError(f"{path}: matrix {key!r} holds {what}, expected real ADC values")
    if flags[0] & _COMPLEX_FLAG:
        raise RecordError(f"{path}: matrix {key!r} is complex, expected real ADC values")
    if len(shape) != 2 or min(shape) < 0:
        raise RecordError(f"{path}: variable {key!r} has shape {tuple(shape)}, expected leads x samples")
    data = _numbers(path, buffer, next(elements, None), endian, f"the data of {key!r}")
    dtype = np.dtype(_MX_CLASSES[kind])
    if data.size != shape[0] * shape[1] or not np.can_cast(data.dtype, dtype):
        raise RecordError(
            f"{path}: corrupt MATLAB level 5 file, matrix {key!r} of {shape[0]}x{shape[1]} {dtype.name} "
            f"holds {data.size} {data.dtype.name} numbers"
        )
    return name, np.ascontiguousarray(data.astype(dtype).reshape(shape[1], shape[0]).T)


def _elements(path: Path, buffer: bytes, start: int, end: int, endian: str):
    """``(type, start, end)`` of each tagged data element in ``buffer[start:end]``, small ones included."""
    offset = start
    while offset < end:
        if end - offset < 8:
            raise RecordError(f"{path}: truncated MATLAB level 5 file, expected an 8-byte element tag")
        first, second = np.frombuffer(buffer, f"{endian}u4", 2, offset).tolist()
        if first >> 16:  # a small element: size and type in the tag's first 4 bytes, data in the next 4
            kind, size, data, following = first & 0xFFFF, first >> 16, offset + 4, offset + 8
        else:  # data after the tag, padded to 8 bytes but in a compressed element
            kind, size, data = first, second, offset + 8
            following = data + (size if kind == _MI_COMPRESSED else -(-size // 8) * 8)
        if data + size > min(end, following):
            raise RecordError(
                f"{path}: truncated MATLAB level 5 file, an element of {size} bytes runs past its end"
            )
        yield kind, data, data + size
        offset = following


def _numbers(path: Path, buffer: bytes, element, endian: str, what: str, integers=False) -> np.ndarray:
    """The numbers of a numeric data element (integers only if ``integers``), in the file's byte order."""
    if element is None:
        raise RecordError(f"{path}: corrupt MATLAB level 5 file, {what} missing")
    kind, start, end = element
    if kind not in _MI_TYPES:
        raise RecordError(
            f"{path}: corrupt MATLAB level 5 file, {what} of data type {kind}, expected a number type"
        )
    dtype = np.dtype(endian + _MI_TYPES[kind])
    if integers and dtype.kind not in "iu":
        raise RecordError(f"{path}: corrupt MATLAB level 5 file, {what} of {dtype.name}, expected integers")
    if (end - start) % dtype.itemsize:
        raise RecordError(
            f"{path}: corrupt MATLAB level 5 file, {what} is not a whole number of {dtype.name}"
        )
    return np.frombuffer(buffer, dtype, (end - start) // dtype.itemsize, start)


def _inflate(path: Path, data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(data, _MAX_INFLATED_BYTES)
    except zlib.error as error:
        raise RecordError(f"{path}: corrupt compressed variable in this MATLAB file ({error})") from None
    if inflater.unconsumed_tail:
        raise RecordError(f"{path}: a compressed variable inflates to over {_MAX_INFLATED_BYTES} bytes")
    if not inflater.eof:
        raise RecordError(f"{path}: truncated compressed variable in this MATLAB file")
    return inflated
