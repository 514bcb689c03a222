"""Rows of an array on disk, read without a memory map (the cache's arrays, batch by batch)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


class RowReader:
    """Rows of a ``.npy`` array read from disk with ``os.preadv`` into a new array, without a memory map.

    Pages of a memory map that have been read stay mapped into the process, and count in its resident
    memory, for as long as the map is open: an epoch that reads the whole cache through one would grow the
    process by the size of the cache. A reader copies the rows it is asked for and keeps nothing, so its
    memory is that of one batch (the kernel's page cache still serves repeated reads).

    Parameters
    ----------
    path : path-like
        A C-ordered ``.npy`` file of shape (rows, ...).

    Examples
    --------
    ``reader[np.array([7, 3, 4])]`` is ``np.load(path)[[7, 3, 4]]``, shape (3, ...).
    """

    def __init__(self, path):
        self.path = Path(path)
        with open(self.path, "rb") as file:
            version = np.lib.format.read_magic(file)
            read_header = np.lib.format.read_array_header_1_0
            if version != (1, 0):
                read_header = np.lib.format.read_array_header_2_0
            shape, fortran_order, self.dtype = read_header(file)
            self.offset = file.tell()
        if fortran_order or not shape or self.dtype.hasobject:
            raise ValueError(f"{self.path}: expected a C-ordered array of rows without objects")
        self.shape = tuple(shape)
        self.row_bytes = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        """The given rows (an integer array, any order, repeats allowed), shape (len(rows), ...)."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if len(rows) and (rows.min() < 0 or rows.max() >= self.shape[0]):
            raise IndexError(f"{self.path}: rows outside 0..{self.shape[0] - 1}")
        out = np.empty((len(rows), *self.shape[1:]), self.dtype)
        if not len(rows):
            return out
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        # runs of consecutive rows (in file order) are read with one call each
        breaks = np.flatnonzero(np.diff(ordered) != 1) + 1
        buffer = np.empty_like(out)
        flat = memoryview(buffer.reshape(-1).view(np.uint8))
        with open(self.path, "rb", buffering=0) as file:
            for start, stop in zip(np.r_[0, breaks], np.r_[breaks, len(rows)], strict=True):
                first, count = int(ordered[start]), int(ordered[stop - 1] - ordered[start] + 1)
                self._read(file.fileno(), flat[start * self.row_bytes :], first, count)
        out[order] = buffer
        return out

    def _read(self, descriptor: int, target: memoryview, first_row: int, rows: int) -> None:
        size, done = rows * self.row_bytes, 0
        position = self.offset + first_row * self.row_bytes
        while done < size:
            count = os.preadv(descriptor, [target[done:size]], position + done)
            if count == 0:
                raise OSError(f"{self.path}: file ends before row {first_row + rows}")
            done += count
