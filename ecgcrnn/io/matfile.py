"""MATLAB level 4 files, the Challenge's recording format, read and written without scipy.

A level 4 file is a sequence of matrices, each a 20-byte header (type, rows, columns, imaginary flag, name
length), the name and the data in column-major order. The Challenge's ``.mat`` files hold one int16 matrix
``val``; its data starts at byte 24, which is why the headers describe them as WFDB format ``16+24``.
Level 5 files, which some tools write, are read through scipy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ecgcrnn.io.atomic import write_bytes

# The P digit of the type field: the stored element type.
_TYPES = {0: "f8", 1: "f4", 2: "i4", 3: "i2", 4: "u2", 5: "u1"}
_CODES = {np.dtype(code).str[1:]: digit for digit, code in _TYPES.items()}
# What scipy's reader gives for a level 5 variable that is not a numeric matrix, by numpy's dtype kind.
_KINDS = {"U": "text", "S": "text", "V": "a structure", "O": "cells or a sparse matrix"}


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
        return _read_level5(path, key)
    offset, names = 0, []
    while offset < len(content):
        name, matrix, complex_, offset = _read_level4_matrix(path, content, offset)
        if name == key:
            if complex_:
                raise RecordError(f"{path}: matrix {key!r} is complex, expected real ADC values")
            return matrix
        names.append(name)
    found = ", ".join(repr(name) for name in names) or "no variables"
    raise RecordError(f"{path}: no variable {key!r} in this MATLAB file (found {found})")


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


def _read_level5(path: Path, key: str) -> np.ndarray:
    from scipy.io import loadmat

    try:
        variables = loadmat(path, variable_names=[key])
    except Exception as error:
        raise RecordError(f"{path}: unreadable MATLAB level 5 file ({error})") from None
    if key not in variables:
        raise RecordError(f"{path}: no variable {key!r} in this MATLAB file")
    matrix = np.atleast_2d(variables[key])
    if matrix.dtype.kind == "c":
        raise RecordError(f"{path}: matrix {key!r} is complex, expected real ADC values")
    if matrix.dtype.kind not in "iuf":
        what = _KINDS.get(matrix.dtype.kind, matrix.dtype.name)
        raise RecordError(f"{path}: matrix {key!r} holds {what}, expected real ADC values")
    if matrix.ndim != 2:
        raise RecordError(f"{path}: variable {key!r} has shape {matrix.shape}, expected leads x samples")
    return np.ascontiguousarray(matrix)
