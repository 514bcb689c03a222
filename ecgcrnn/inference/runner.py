"""Running an entry over a folder of recordings, as the Challenge's ``test_model.py`` does, but robustly.

The recordings are grouped by lead set (sorted into the standard order); ``load_model`` is called once per
lead set and ``run_model(model, header, recording)`` once per recording, with the header's text and the
matrix as stored in the .mat file (leads in file order, ADC units). A recording that cannot be read or
run, or is missing beside its header (the evaluator expects an output for every header), is logged with the
reason and gets a valid all-negative output file; the run carries on. An output that
cannot be written (a read-only folder, a full disk) stops the run; a lead set whose model does not load
fails the run once every recording has its output.

A model that offers two stages, ``model.prepare(header, recording) -> inputs`` (picklable, no network) and
``model.finish_many([inputs, ...], [record name, ...]) -> [(classes, labels, probabilities), ...]``, whose
composition is
``run_model`` (as :class:`ecgcrnn.model.lead_set.LeadSetModel` does), is run as a pipeline when more than one
core is usable: worker processes read and prepare the next recordings while this process runs the network, in
order, on every prepared recording that is ready (up to :data:`FINISH_BATCH` at once), so that the network
keeps up with the workers. Any other model is run one recording at a time, in this thread. The workers end
with this process, however it ends: when the run stops (an exception, Ctrl-C) it ends them at once, and if
it is killed outright they notice and end themselves (see :func:`_start_worker`).
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ecgcrnn.domain import default_class_table, sort_leads
from ecgcrnn.io.atomic import write_text
from ecgcrnn.io.outputs import format_outputs, save_outputs
from ecgcrnn.io.records import (
    find_challenge_files,
    find_header_files,
    load_header,
    load_recording,
    parse_header,
)

log = logging.getLogger(__name__)
WORKERS_VARIABLE = "ECGCRNN_WORKERS"
FINISH_BATCH = 32  # the most prepared recordings the network runs on at once
PARENT_POLL_S = 1.0  # how often a worker checks that its parent process is still there


class ModelLoadError(ValueError):
    """The model of a lead set present in the test data did not load (its recordings got all-negative
    outputs)."""


def run_test_set(
    model_directory,
    data_directory,
    output_directory,
    load_model: Callable,
    run_model: Callable,
    workers: int | None = None,
) -> tuple[int, int]:
    """Write one output file per header of ``data_directory`` into ``output_directory``.

    ``workers`` is the number of processes that prepare recordings for a two-stage model (default: the
    environment's ``ECGCRNN_WORKERS``, else the usable cores); 1 runs every recording in this process.

    Returns
    -------
    (recordings, failed) : tuple of int
        The headers, and those given an all-negative output (unreadable, missing or failed recordings).

    Raises
    ------
    FileNotFoundError, ValueError
        When a folder is missing or ``data_directory`` holds no records.
    OSError
        When an output file cannot be written (naming it); the outputs written so far are complete.
    ModelLoadError
        After every recording has its output, when the model of a lead set did not load: the message is
        ``load_model``'s own error, which should say what to do.
    """
    if not Path(model_directory).is_dir():
        raise FileNotFoundError(f"{model_directory}: no such model folder: train one with train_model.py")
    recordings = dict(zip(*find_challenge_files(data_directory, required=True), strict=True))
    header_files = find_header_files(data_directory)  # the evaluator expects an output for each
    output_directory = Path(output_directory)
    output_directory.mkdir(parents=True, exist_ok=True)

    groups: dict[tuple[str, ...], list[tuple[str, str, str]]] = {}
    failed = 0
    for header_file in header_files:
        output_file = output_directory / (Path(header_file).stem + ".csv")
        recording_file = recordings.get(header_file)
        if recording_file is None:
            failed += _no_recording(output_file, header_file)
            continue
        try:
            header = load_header(header_file)
        except (OSError, ValueError) as error:
            failed += _fail(output_file, Path(header_file).stem, error)
            continue
        groups.setdefault(sort_leads(parse_header(header).leads), []).append(
            (header, recording_file, str(output_file))
        )

    workers = _default_workers() if workers is None else workers
    progress = tqdm(total=len(header_files) - failed, desc="recordings", unit="rec", disable=None)
    unloaded = []
    for leads, members in groups.items():
        try:
            model = load_model(str(model_directory), leads)
        except Exception as error:  # the entry's own code: any failure is that group's failure
            failed += _fail_group(leads, members, error, progress, unloaded)
            continue
        staged = workers > 1 and callable(getattr(model, "finish_many", None)) and hasattr(model, "prepare")
        run = _run_staged if staged else _run_in_turn
        try:
            failed += run(model, run_model, members, workers, progress)
        except _NotLoaded as error:  # the network loading in the background failed, before any output
            failed += _fail_group(leads, members, error.__cause__, progress, unloaded)
    progress.close()
    if unloaded:
        more = f" (and {len(unloaded) - 1} more lead sets, above)" if len(unloaded) > 1 else ""
        raise ModelLoadError(f"all-negative outputs for {unloaded[0]}{more}")
    return len(header_files), failed


class _NotLoaded(Exception):
    """A lead set's network, loading in the background, failed to load (the error is the cause)."""


def _wait_until_loaded(model) -> None:
    """Wait for ``model``'s network where it loads in the background (``model.wait_until_loaded``); a load
    that failed raises :class:`_NotLoaded`, the failure of the model's group, not of every recording."""
    if callable(getattr(model, "wait_until_loaded", None)):
        try:
            model.wait_until_loaded()
        except Exception as error:  # the entry's own code: any failure is the load's
            raise _NotLoaded(error) from error


def _fail_group(leads, members, error: Exception, progress, unloaded: list) -> int:
    """Give every recording of a group whose model did not load an all-negative output; log the error once
    and add the group's line to ``unloaded``. The number failed: all of them."""
    log.error("cannot load the model for leads %s: %s", ", ".join(leads), error)
    for header, _, output_file in members:
        _fail(Path(output_file), parse_header(header).record_name, error, quiet=True)
    progress.update(len(members))
    count = f"{len(members)} recording{'s' if len(members) > 1 else ''}"
    unloaded.append(f"{count} with leads {', '.join(leads)}: {error}")
    return len(members)


def _run_in_turn(model, run_model: Callable, members, workers: int, progress) -> int:
    """Read, run and save each recording in this thread, once the network has loaded; the number that
    failed."""
    _wait_until_loaded(model)
    failed = 0
    for header, recording_file, output_file in members:
        failed += _run_one(model, run_model, header, recording_file, output_file)
        progress.update()
    return failed


def _run_staged(model, run_model: Callable, members, workers: int, progress) -> int:
    """Prepare recordings in ``workers`` processes, up to ``64 * workers`` ahead; finish them here, in order.

    The workers start preparing while the network loads in the background; it is waited for before the
    first recording is finished, so that a network that does not load fails the group before any output.

    A recording whose worker died is run again in this process with ``run_model``. When the run stops (an
    exception, an interruption) the recordings queued are cancelled (:func:`_stop`), and the workers end with
    the one each is preparing.
    """
    failed = 0
    try:
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker)
    except (OSError, NotImplementedError) as error:  # no process support here: run in turn
        log.warning("cannot start worker processes (%s); running recordings one at a time", error)
        return _run_in_turn(model, run_model, members, workers, progress)
    with pool:
        tasks = ((model.prepare, header, recording_file) for header, recording_file, _ in members)
        futures = _submit_ahead(pool, _prepare, tasks, 64 * workers)
        try:
            _wait_until_loaded(model)
            for batch in _ready_batches(zip(members, futures, strict=True), FINISH_BATCH):
                failed += _finish_batch(model, run_model, batch)
                progress.update(len(batch))
        except BaseException:  # stopped (an output that cannot be written, Ctrl-C, SIGTERM in test_model.py)
            _stop(pool)
            raise
    return failed


def _ready_batches(pairs: Iterable[tuple], limit: int) -> Iterator[list]:
    """Consecutive (member, future) pairs in order: each batch is one pair waited for, then the following
    pairs whose futures are already done, up to ``limit``."""
    batch: list = []
    for member, future in pairs:
        if batch and (len(batch) >= limit or not future.done()):
            yield batch
            batch = []
        batch.append((member, future))
    if batch:
        yield batch


def _finish_batch(model, run_model: Callable, batch: list) -> int:
    """Run the network once on the batch's prepared recordings and save each output; the number failed.

    A recording whose worker died is run again here with ``run_model``; one whose preparation raised is
    that recording's failure; if the batched network call raises, the recordings are finished one by one.
    """
    failed, ready = 0, []
    for (header, recording_file, output_file), future in batch:
        error = future.exception()
        if isinstance(error, BrokenProcessPool):
            failed += _run_one(model, run_model, header, recording_file, output_file)
        elif error is not None:
            failed += _save(output_file, header, future.result)
        else:
            ready.append((header, output_file, future.result()))
    names = [parse_header(header).record_name for header, *_ in ready]
    try:
        results = model.finish_many([inputs for *_, inputs in ready], names)
    except Exception:  # the entry's own code: find which recording fails
        results = [None] * len(ready)
    for (header, output_file, inputs), result in zip(ready, results, strict=True):

        def compute(r=result, i=inputs, h=header):
            return r if r is not None else model.finish_many([i], [parse_header(h).record_name])[0]

        failed += _save(output_file, header, compute)
    return failed


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel the recordings queued; each worker ends once the recording it is preparing is done.

    The workers are not terminated: one ended while it writes its result leaves half a message in the pool's
    result pipe, on which the pool's manager thread, and the interpreter at exit with it, would wait for ever.
    A parent killed outright does not come here: its workers end by :func:`_start_worker`'s watch.
    """
    pool.shutdown(wait=False, cancel_futures=True)


def _start_worker() -> None:
    """In a worker process, as the pool's initializer: leave Ctrl-C to the parent, and end the worker as
    soon as its parent process ends.

    Ctrl-C in a terminal sends SIGINT to the whole process group, the workers too; the parent stops the
    pool (:func:`_stop`), where a worker interrupted would print a traceback of its own, however far it was.

    A worker waits for tasks on a queue whose write end it holds itself, so a parent killed outright
    (SIGKILL, the out-of-memory killer, a crash) would leave it waiting for ever, with its memory. A daemon
    thread waits on the parent's sentinel that multiprocessing gives every child (a pipe whose other end only
    the parent holds, so that the system closes it the moment the parent ends; a process handle on Windows)
    and checks every :data:`PARENT_POLL_S` that the worker's parent is still that process (an orphan is
    adopted by another: this covers a sentinel held open by a process the parent forked). Then it ends the
    worker with ``os._exit``: there is nothing to save. Linux's ``prctl(PR_SET_PDEATHSIG)`` is not used: it
    is Linux-only and fires when the thread that started the worker ends, not the process.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is None:  # not started by multiprocessing: no parent to watch
        return

    def watch() -> None:
        while os.getppid() == parent.pid and parent.is_alive():
            parent.join(PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def _prepare(prepare: Callable, header: str, recording_file: str):
    """In a worker process: read one recording and prepare it."""
    return prepare(header, load_recording(recording_file, header))


def _submit_ahead(pool, function: Callable, tasks: Iterable[tuple], depth: int) -> Iterator[Future]:
    """Futures of ``function(*task)`` in the order of ``tasks``, at most ``depth`` submitted ahead: the first
    ``depth`` at once, then one more as each is taken."""
    tasks = iter(tasks)
    pending = deque(_submit(pool, function, task) for task in itertools.islice(tasks, depth))

    def futures() -> Iterator[Future]:
        while pending:
            yield pending.popleft()
            pending.extend(_submit(pool, function, task) for task in itertools.islice(tasks, 1))

    return futures()


def _submit(pool, function: Callable, task: tuple) -> Future:
    """``pool.submit(function, *task)``, or a future that holds the error of a pool already broken."""
    try:
        return pool.submit(function, *task)
    except BrokenProcessPool as error:
        broken: Future = Future()
        broken.set_exception(error)
        return broken


def _run_one(model, run_model: Callable, header: str, recording_file: str, output_file: str) -> int:
    """Read, run and save one recording; 1 if it failed (and got an all-negative output), else 0."""
    return _save(
        output_file, header, lambda: run_model(model, header, load_recording(recording_file, header))
    )


def _save(output_file: str, header: str, compute: Callable) -> int:
    """Save ``compute()``'s (classes, labels, probabilities); 1 if it failed (all-negative output), else 0.

    A failure to write the file is not the recording's: it propagates.
    """
    record_name = parse_header(header).record_name
    try:
        classes, labels, probabilities = compute()
        text = format_outputs(output_file, record_name, classes, _as_binary(labels), _as_float(probabilities))
    except Exception as error:  # the entry's own code: a failure is that recording's failure
        return _fail(Path(output_file), record_name, error)
    write_text(output_file, text)
    return 0


def _default_workers() -> int:
    text = os.environ.get(WORKERS_VARIABLE, "")
    if text.strip():
        try:
            return max(int(text), 1)
        except ValueError:
            raise ValueError(f"{WORKERS_VARIABLE}={text!r}: expected a whole number of processes") from None
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _no_recording(output_file: Path, header_file: str) -> int:
    """Log a header whose recording is missing (or a link to nothing), give it an all-negative output; 1."""
    recording_file = Path(header_file).with_suffix(".mat")
    if recording_file.is_symlink() and not recording_file.exists():
        reason = "a link to a missing file"
    else:
        reason = "not a file" if recording_file.exists() else "no such file"
    log.warning(
        "%s: %s (the recording of %s); writing an all-negative output", recording_file, reason, header_file
    )
    return _fail(output_file, recording_file.stem, FileNotFoundError(reason), quiet=True)


def _fail(output_file: Path, record_name: str, error: Exception, quiet: bool = False) -> int:
    if not quiet:
        log.error(
            "%s: failed (%s: %s); writing an all-negative output", record_name, type(error).__name__, error
        )
    classes = default_class_table().names
    save_outputs(output_file, record_name, classes, [0] * len(classes), [0.0] * len(classes))
    return 1


def _as_binary(labels) -> list[int]:
    values = np.asarray(labels).ravel()
    if values.dtype.kind not in "biuf":
        raise ValueError(f"labels must be numbers or booleans, got {values.dtype}")
    return [int(value) for value in values != 0]


def _as_float(probabilities) -> list[float]:
    return [float(value) for value in np.asarray(probabilities, dtype=float).ravel()]
