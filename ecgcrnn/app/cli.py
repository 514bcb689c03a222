"""What the command-line faces share: the --verbose/--quiet choice and the logging it sets, TensorFlow
imported without its start-up noise unless --verbose, checks of the folders they are given, and one line on
stderr for every error a user can cause.

A script's ``main`` parses its arguments and hands the work to :func:`run`, naming the folders it reads and
writes by the names its usage line gives them (``TEST_DIR``, ``OUTPUT_DIR``): an error then ends the run
with ``<script>: error: <what happened to which path>: <what to do>``, exit status 1, and the traceback only
with ``--verbose``.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from ecgcrnn.io.records import NoRecordsError, RecordError, find_challenge_files

log = logging.getLogger(__name__)

_NOT_PERMITTED = {errno.EACCES, errno.EPERM, errno.EROFS}
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


def whole_number(minimum: int = 0) -> Callable[[str], int]:
    """An argparse ``type``: a whole number of at least ``minimum``, else a usage error saying so."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {text}")
        return value

    return parse


def add_verbosity(parser: argparse.ArgumentParser) -> None:
    """Add ``-v/--verbose`` (debug messages) and ``-q/--quiet`` (errors only)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="store_true", help="debug messages, tracebacks of errors")
    group.add_argument("-q", "--quiet", action="store_true", help="only errors")


def configure_logging(args: argparse.Namespace) -> None:
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")


def import_tensorflow(args: argparse.Namespace) -> None:
    """Import TensorFlow now, without the start-up lines it writes on a machine without a GPU ("Could not
    find cuda drivers on your machine", "failed call to cuInit: ... CUDA error"), which read as failures.

    A command calls it where it is about to use TensorFlow, before starting any thread or process: standard
    error goes to /dev/null while TensorFlow's libraries load, since they write before reading any setting
    (absl's "before InitializeLog" lines), and ``TF_CPP_MIN_LOG_LEVEL=3`` keeps TensorFlow's C++ log quiet
    after (it is read when TensorFlow starts, and child processes inherit it). With ``--verbose``, or when
    the environment sets ``TF_CPP_MIN_LOG_LEVEL`` itself (the user's choice wins), nothing is done here and
    TensorFlow logs as it does. Python warnings and errors, and TensorFlow's own exceptions, are untouched.
    """
    if args.verbose or "TF_CPP_MIN_LOG_LEVEL" in os.environ or "tensorflow" in sys.modules:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    with _standard_error_discarded():
        import tensorflow  # noqa: F401  (here, for the lines its libraries write as they load)


def run(prog: str, action: Callable[[], int | None], reads=None, writes=None) -> int:
    """Call ``action()`` and return the exit status: its own (None counts as 0), or 1 after an error.

    An :class:`OSError`, :class:`ValueError` (which includes unreadable records and models) or
    :class:`NotImplementedError` is printed as one line, ``<prog>: error: <message>`` (see
    :func:`describe`), its traceback logged at debug level; an interruption (Ctrl-C, or SIGTERM, which
    stops the work as Ctrl-C does instead of ending the process alone) exits with 130.

    Parameters
    ----------
    prog : str
        The script's name, as the line starts.
    action : callable
        The work, without arguments.
    reads, writes : dict of str to path-like or None, optional
        The folders (or files) the command reads and writes, keyed by the names its usage line gives
        them; None for an optional one not given.
    """
    try:
        with _sigterm_interrupts():
            return action() or 0
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError, NotImplementedError) as error:
        log.debug("%s stopped by this error:", prog, exc_info=error)
        print(f"{prog}: error: {describe(error, reads, writes)}", file=sys.stderr)
        return 1


def describe(error: Exception, reads=None, writes=None) -> str:
    """One line for ``error``: what happened to which path, and what to do about it.

    An operating system error that names a file (permission denied, disk full, ...) is told in terms of the
    folder argument that holds the file (``reads``, ``writes``: name -> folder or file, as for :func:`run`;
    None stands for an argument not given); any other error's own message is used as it is, so it must
    name its file and what was expected.
    """
    reads, writes = ({k: v for k, v in (d or {}).items() if v is not None} for d in (reads, writes))
    if isinstance(error, RecordError):
        return f"{error}: fix that record or remove it"
    if not (isinstance(error, OSError) and error.errno is not None):
        return str(error)
    if error.filename is not None:
        path = Path(os.fsdecode(error.filename))
    elif error.errno in _NO_SPACE and len(writes) == 1:  # a failed write names no file
        path = Path(*writes.values())
    else:
        return str(error)
    written, read = _holder(path, writes), _holder(path, reads)
    role = written or read
    if error.errno in _NOT_PERMITTED:
        if written:
            return f"{path.parent} is not writable: choose a writable {written}"
        if read:
            return f"{path} is not readable: fix its permissions or choose another {read}"
        return f"{path}: permission denied: fix its permissions"
    if error.errno in _NO_SPACE:
        elsewhere = f" or choose another {role}" if role else ""
        return f"{path}: no space left on the device: free some space{elsewhere} and run again"
    if error.errno == errno.EEXIST and path.exists() and not path.is_dir():
        return f"{path} is a file, not a folder: choose a folder as {role or 'this argument'}"
    return f"{path}: {error.strerror}: check {role or 'this path'}"


def require_folder(path, role: str, hint: str = "") -> Path:
    """``path`` as a Path; FileNotFoundError naming it and ``role`` when it is not an existing folder.

    ``hint`` replaces the default advice, ``check <role>``.
    """
    folder = Path(path)
    if not folder.is_dir():
        what = "not a folder" if folder.exists() else "no such folder"
        raise FileNotFoundError(f"{folder}: {what}: {hint or f'check {role}'}")
    return folder


def require_records(path, role: str) -> None:
    """Raise naming ``path`` and ``role`` unless it is a folder holding at least one Challenge record.

    Raises
    ------
    FileNotFoundError
        When ``path`` is not a folder (see :func:`require_folder`).
    PermissionError
        When the folder cannot be read (naming it).
    NoRecordsError
        When it holds no record: ``<path>: no records (.hea with a .mat beside it) found: give a folder of
        Challenge records as <role>``.
    """
    require_folder(path, role)
    try:
        find_challenge_files(path, required=True)
    except NoRecordsError as error:
        raise NoRecordsError(f"{error}: give a folder of Challenge records as {role}") from None


def writable_folder(path, role: str) -> Path:
    """Create the folder ``path`` if need be and check that a file can be written there.

    Raises the :class:`OSError` that :func:`describe` tells as ``... is not writable: choose a writable
    <role>`` (with ``role`` among :func:`run`'s ``writes``); for a link that loops, the error naming it.
    """
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        os.stat(folder)  # a link that loops or leads nowhere raises naming it and why
        raise
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
        pass
    return folder


@contextlib.contextmanager
def _standard_error_discarded():
    """File descriptor 2 pointed at /dev/null for the block (what libraries write there too), then back."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _holder(path: Path, folders) -> str | None:
    """The name of the folder among ``folders`` (name -> folder) that is ``path``, holds it, or is to be
    created inside it, else None. Links are resolved as far as they go (``os.path.realpath``, which, unlike
    ``Path.resolve``, stops at a link that loops rather than raising)."""
    absolute = Path(os.path.realpath(path))
    for name, folder in folders.items():
        folder = Path(os.path.realpath(folder))
        if absolute == folder or folder in absolute.parents or absolute in folder.parents:
            return name
    return None


@contextlib.contextmanager
def _sigterm_interrupts():
    """Make SIGTERM raise KeyboardInterrupt, as Ctrl-C does, so that a command stops its worker processes
    and says so; the previous handler is restored after. Only the main thread sets handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
