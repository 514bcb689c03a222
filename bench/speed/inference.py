"""Speed of inference: ``test_model.py`` on 1,000 recordings, and ``run_model`` per stage on one core.

Untrained networks with the entry's architecture are built with :func:`ecgcrnn.model.network.build_model`,
averaged as training keeps them (``TrainingConfig.threshold_folds`` fold networks), and saved with
:meth:`ecgcrnn.model.lead_set.LeadSetModel.save` into a temporary folder, so the timed code path is the
entry's (``load_model``, ``run_model``, the CLI) without a training run. After the machine line, three
tables, in this order:

1. ``test_model.py`` as a subprocess on ``--recordings`` copies of the real records (renamed; written to a
   temporary folder), wall clock and CPU time, with the pipelined runner and with ``ECGCRNN_WORKERS=1``,
   on every core; the one-time start-up (imports, model loading) is the wall clock of the CLI on one
   recording. Target: 40 recordings per second.
2. ``run_model`` by stage, on one core (TF intra/inter-op threads 1, BLAS/OpenMP threads 1, pinned to one
   CPU), over the real 10 s 500 Hz records of ``--data`` (the data root's ``challenge``), for each of the
   five lead sets: the best of ``--passes`` passes per record (other processes share the machine), then the
   median and 90th percentile over records. Target: 25 ms per record, everything included.
3. Keras' ``model.predict`` per record (the original entry's way) beside the traced function, on the first
   ``--predict-records`` records.

Usage: ``.venv/bin/python bench/speed/inference.py [--data DIR] [--passes 3] [--recordings 1000]
[--cli-runs 1] [--predict-records 20]``
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's root, for devtools

from devtools.environment import (
    REPOSITORY,
    data_root,
    limit_threads,
    pin_to_one_core,
    print_machine_line,
    quiet_tensorflow,
)

# One thread for BLAS and OpenMP, read once when numpy loads them: set before numpy is first imported, here
# or by the package's modules below (hence their E402; inside main it would be too late, since numpy is
# already loaded by then). The CLI runs get the environment as it was before.
_ORIGINAL_ENVIRONMENT = limit_threads(1)
quiet_tensorflow()

import numpy as np  # noqa: E402

from ecgcrnn.delineation.delineate import delineate_record  # noqa: E402
from ecgcrnn.domain import LEAD_SETS, default_class_table  # noqa: E402
from ecgcrnn.features.beats import features_from_delineation  # noqa: E402
from ecgcrnn.features.measurements import measure  # noqa: E402
from ecgcrnn.io.records import find_challenge_files, get_age, get_sex, load_recording, parse_header  # noqa: E402
from ecgcrnn.pipeline import PipelineSettings, assemble_inputs, demographics  # noqa: E402
from ecgcrnn.signal.preprocessing import preprocess, windows  # noqa: E402

RUN_MODEL_BUDGET_MS = 25.0
THROUGHPUT_TARGET = 40.0
STAGES = ("preprocess", "windows", "delineate", "features", "measure", "assemble", "network", "total")


def main() -> None:
    """Build the models, run the CLI tables on every core, then pin to one core for the stage table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=data_root() / "challenge", help="folder of Challenge records"
    )
    parser.add_argument("--passes", type=int, default=3, help="timing passes (best per record is kept)")
    parser.add_argument("--recordings", type=int, default=1000, help="recordings for the CLI table")
    parser.add_argument("--cli-runs", type=int, default=1, help="CLI runs per row (median is shown)")
    parser.add_argument("--predict-records", type=int, default=20, help="records timed with model.predict")
    args = parser.parse_args()
    limit_threads(1, tensorflow=True)  # before TF initialises (the CLI is unaffected)
    records = read_records(args.data)
    with tempfile.TemporaryDirectory(prefix="bench_inference_") as folder:
        models = Path(folder, "models")
        save_untrained_models(models)
        print_machine_line()
        print()
        test_set = copy_records(args.data, Path(folder, "test"), args.recordings)
        print_cli_table(models, test_set, Path(folder), args.recordings, args.cli_runs)
        pin_to_one_core()
        print_stage_table(models, records, args.passes)
        print_predict_line(models, records[: args.predict_records])
    print()
    print_machine_line()


def read_records(data: Path) -> list[tuple[str, np.ndarray]]:
    """(header text, recording) of every 10 s record at 500 Hz under ``data``."""
    records = []
    for header_file, recording_file in zip(*find_challenge_files(data), strict=True):
        text = Path(header_file).read_text()
        header = parse_header(text)
        if header.fs_hz == 500 and header.num_samples == 5000:
            records.append((text, load_recording(recording_file, header)))
    if not records:
        raise ValueError(f"{data}: no 10 s records at 500 Hz")
    return records


def save_untrained_models(models: Path) -> None:
    """One untrained model per lead set (the default number of fold networks, averaged), saved as training
    would save it."""
    from ecgcrnn.model.lead_set import LeadSetModel
    from ecgcrnn.model.network import average_networks, build_model
    from ecgcrnn.training.settings import TrainingConfig

    classes = default_class_table().names
    members = max(TrainingConfig().threshold_folds, 1)
    for lead_set, leads in LEAD_SETS.items():
        network = average_networks([build_model(leads, classes) for _ in range(members)])
        thresholds = np.full(len(classes), 0.5)
        LeadSetModel(lead_set, network, thresholds=thresholds, settings=PipelineSettings()).save(models)


def copy_records(data: Path, target: Path, count: int) -> Path:
    """``count`` records cycling over those under ``data``, renamed ``<name>r<copy>`` (header and .mat)."""
    target.mkdir(parents=True)
    header_files, recording_files = find_challenge_files(data)
    for index in range(count):
        source = index % len(header_files)
        header = parse_header(Path(header_files[source]).read_text())
        name = f"{header.record_name}r{index // len(header_files)}"
        lines = [" ".join([name, *header.record_line.split()[1:]])]
        lines += [" ".join([f"{name}.mat", *signal.line.split()[1:]]) for signal in header.signals]
        lines += [f"#{comment}" for comment in header.comments]
        Path(target, f"{name}.hea").write_text("\n".join(lines) + "\n")
        shutil.copyfile(recording_files[source], Path(target, f"{name}.mat"))
    return target


def print_cli_table(models: Path, test_set: Path, scratch: Path, count: int, runs: int) -> None:
    """Wall clock and CPU time of test_model.py: pipelined, one process, and start-up alone."""
    single = scratch / "single"
    single.mkdir()
    first = sorted(test_set.glob("*.hea"))[0]
    shutil.copyfile(first, single / first.name)
    shutil.copyfile(first.with_suffix(".mat"), single / f"{first.stem}.mat")
    start_up = np.median([run_cli(models, single, scratch, None)[0] for _ in range(runs)])
    print(f"test_model.py on {count} recordings (12 leads, copies of the real records), every core")
    header = (
        f"{'runner':<32} {'wall s':>7} {'CPU s':>7} {'rec/s':>7} {'rec/s after start-up':>21} {'target':>7}"
    )
    print(header)
    print("-" * len(header))
    for label, workers in (("pipelined (default workers)", None), ("one process (ECGCRNN_WORKERS=1)", 1)):
        timings = [run_cli(models, test_set, scratch, workers) for _ in range(runs)]
        wall, cpu = np.median([t[0] for t in timings]), np.median([t[1] for t in timings])
        after = f"{(count - 1) / (wall - start_up):.1f}" if wall > start_up else "n/a"
        met = "met" if count / wall >= THROUGHPUT_TARGET else "missed"
        print(f"{label:<32} {wall:>7.1f} {cpu:>7.1f} {count / wall:>7.1f} {after:>21} {met:>7}")
    print(f"start-up (CLI on 1 recording): {start_up:.1f} s wall; median of {runs} run(s)\n")


def run_cli(models: Path, data: Path, scratch: Path, workers: int | None) -> tuple[float, float]:
    """(wall s, CPU s of the CLI and its workers) of one test_model.py run."""
    environment = dict(_ORIGINAL_ENVIRONMENT, TF_CPP_MIN_LOG_LEVEL="2")
    environment.pop("ECGCRNN_WORKERS", None)
    if workers is not None:
        environment["ECGCRNN_WORKERS"] = str(workers)
    output = scratch / "outputs"
    shutil.rmtree(output, ignore_errors=True)
    command = [sys.executable, str(REPOSITORY / "test_model.py"), str(models), str(data), str(output), "-q"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=environment, cwd=REPOSITORY, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or not done.stdout.strip().endswith(" 0 failed"):
        raise RuntimeError(
            f"test_model.py failed ({done.returncode}): {done.stdout[-300:]}{done.stderr[-600:]}"
        )
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def print_stage_table(models: Path, records, passes: int) -> None:
    """Per-stage milliseconds of run_model for each lead set, one core."""
    from ecgcrnn.inference.predict import run_model
    from ecgcrnn.model.lead_set import LeadSetModel

    print(
        f"run_model by stage on {len(records)} real 10 s 500 Hz records, 1 core, best of {passes} passes per "
        f"record; median / p90 ms; budget {RUN_MODEL_BUDGET_MS:g} ms"
    )
    header = f"{'lead set':<9}" + "".join(f"{stage:>15}" for stage in STAGES)
    header += f"{'within budget':>15}"
    print(header)
    print("-" * len(header))
    for lead_set, leads in LEAD_SETS.items():
        model = LeadSetModel.load(models, leads)
        best = np.full((len(records), len(STAGES)), np.inf)
        for _ in range(passes):
            for index, (text, recording) in enumerate(records):
                stages = time_stages(model, text, recording)
                start = time.perf_counter()
                run_model(model, text, recording)
                stages.append((time.perf_counter() - start) * 1000.0)
                best[index] = np.minimum(best[index], stages)
        cells = "".join(f"{np.median(column):>7.2f} /{np.percentile(column, 90):>6.2f}" for column in best.T)
        within = 100.0 * np.mean(best[:, -1] <= RUN_MODEL_BUDGET_MS)
        print(f"{lead_set:<9}{cells}{within:>14.1f}%")
    assert model.window_function.experimental_get_tracing_count() == 1, "the prediction function was retraced"
    print("stages: delineate = delineate_record; features = features_from_delineation; measure = the global")
    print("measurements; assemble = the inputs, the criteria's grades among them; network = the traced")
    print("function on all windows, mean and thresholds (LeadSetModel.finish); total = run_model itself\n")


def time_stages(model, text: str, recording: np.ndarray) -> list[float]:
    """Milliseconds of each stage of run_model but the total, calling the functions run_model calls."""
    settings, ticks = model.settings, [time.perf_counter()]
    config = settings.preprocess
    header = parse_header(text)
    prepared = preprocess(header, recording, model.leads, config)
    ticks.append(time.perf_counter())
    batch = windows(prepared.signal, config)
    ticks.append(time.perf_counter())
    delineations = [delineate_record(window, config.fs_hz, settings.delineation) for window in batch]
    ticks.append(time.perf_counter())
    features = [
        features_from_delineation(window, config.fs_hz, model.leads, marks.per_lead, settings.features)
        for window, marks in zip(batch, delineations, strict=True)
    ]
    ticks.append(time.perf_counter())
    measurements = [
        measure(window, config.fs_hz, model.leads, marks, settings.measurements)
        for window, marks in zip(batch, delineations, strict=True)
    ]
    ticks.append(time.perf_counter())
    age, sex = get_age(header), get_sex(header)
    inputs = assemble_inputs(batch, features, demographics(age, sex), measurements, age, sex)
    ticks.append(time.perf_counter())
    model.finish(inputs)
    ticks.append(time.perf_counter())
    return list(np.diff(ticks) * 1000.0)


def print_predict_line(models: Path, records) -> None:
    """model.predict per record against the traced function, twelve leads, one core."""
    from ecgcrnn.model.lead_set import LeadSetModel

    model = LeadSetModel.load(models, LEAD_SETS["twelve"])
    inputs = [model.prepare(text, recording) for text, recording in records]
    keras_ms, traced_ms = [], []
    for batch in inputs:
        start = time.perf_counter()
        model.network.predict(batch, verbose=0)
        keras_ms.append((time.perf_counter() - start) * 1000.0)
        start = time.perf_counter()
        np.asarray(model.window_function(batch))
        traced_ms.append((time.perf_counter() - start) * 1000.0)
    print(
        f"network per record, twelve leads, 1 core, {len(records)} records: keras model.predict "
        f"{np.median(keras_ms):.1f} ms median, traced tf.function {np.median(traced_ms):.1f} ms "
        f"({np.median(keras_ms) / np.median(traced_ms):.0f}x)"
    )


if __name__ == "__main__":
    main()
