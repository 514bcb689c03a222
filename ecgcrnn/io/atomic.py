"""Files written whole or not at all: every file the package writes goes through :func:`replacing`.

The content is written to a temporary file in the destination's folder, which then replaces the
destination in one ``os.replace``; when anything fails (an exception, a full disk, Ctrl-C) the temporary
file is removed and an earlier file stays as it was, and a process killed outright (SIGKILL, the
out-of-memory killer) leaves at most a hidden temporary file, never a half-written destination. The
temporary name ends with the destination's name, so writers that insist on a suffix (Keras' ``.keras`` and
``.weights.h5``) accept it. Errors name the destination, never the temporary file. Arrays go through
:func:`save_array` (``np.save``) and :func:`save_arrays` (``np.savez``).

The one exception is the training cache's large arrays (:mod:`ecgcrnn.data.cache`): they are created whole
through :func:`replacing`, then filled in place as memory maps, record by record, and a record counts as
done only once its status is set after all its rows are written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


@contextlib.contextmanager
def replacing(path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write; on leaving the block it replaces ``path``.

    An :class:`OSError` with an error number is raised again naming ``path`` rather than the temporary
    file (a failed write on a full disk names no file at all). A temporary file that cannot be removed
    afterwards is logged, never raised in place of the error that stopped the write.
    """
    path = Path(path)
    temporary = path.with_name(f".{os.getpid()}-{uuid.uuid4().hex[:12]}.{path.name}")
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException as error:
        _remove(temporary)
        if isinstance(error, OSError) and error.errno is not None:
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise


def write_text(path, text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically."""
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8", newline="\n")


def write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with replacing(path) as temporary:
        temporary.write_bytes(data)


def save_array(path, array) -> None:
    """Write ``array`` to ``path`` atomically, as ``np.save`` does (``path`` is taken as it is: no ``.npy``
    is added)."""
    with replacing(path) as temporary, open(temporary, "wb") as file:
        np.save(file, array)


def save_arrays(path, **arrays) -> None:
    """Write ``arrays`` to ``path`` atomically, as ``np.savez`` does (``path`` is taken as it is: no
    ``.npz`` is added)."""
    with replacing(path) as temporary, open(temporary, "wb") as file:
        np.savez(file, **arrays)


def _remove(temporary: Path) -> None:
    """Remove ``temporary`` if it is there. On a read-only file system the removal fails (EROFS) even when the
    file was never created, as Linux checks the mount before it looks the name up: that is no error."""
    try:
        temporary.unlink()
    except FileNotFoundError:
        pass
    except OSError as error:
        if os.path.lexists(temporary):
            log.warning("%s: %s; the temporary file is left behind", temporary, error.strerror or error)
