"""Training throughput: the input pipeline alone against the training steps, and the full run's wall time.

On a cache of the real records (all five lead sets, built here, which also gives the preprocessing rate),
for each lead set with :class:`ecgcrnn.training.settings.TrainingConfig`'s defaults (architecture, batch size,
augmentation), over epochs of ``--steps`` full batches (the real records, repeated as needed):

- *pipeline*: :class:`ecgcrnn.data.batches.WindowBatches` alone serving training batches (reads from the
  cache, float32 conversion, augmentation), records per second;
- *steps*: the network's training steps alone (``fit`` on batches already in memory, after a warm-up
  that traces the step);
- *fit*: ``fit`` reading from ``WindowBatches``, both together (Keras prepares a batch, then runs it);
- *predict*: validation windows per second (``predict``, as the validation after every epoch runs).

Target: the pipeline at least 3 times faster than the steps, so that the network, not the data, bounds
training. The estimate for the Challenge's 88,253 records assumes the measured rates, this cache's windows
per record, ``TrainingConfig.threshold_folds`` fold networks (each on the other folds' records, validated on
its own; the model kept is their average), every epoch of ``TrainingConfig.epochs`` (early stopping can
only shorten it) and one cache build; it leaves out the per-epoch threshold search, which takes
seconds. The machine line comes first.

Usage: ``.venv/bin/python bench/speed/training.py [--data DIR] [--steps 20] [--lead-sets twelve two]
[--scratch FOLDER]``
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's root, for devtools

from devtools.environment import data_root, print_machine_line, quiet_tensorflow

# TensorFlow reads its log level when it loads, which importing keras does: set it before (hence the E402s).
quiet_tensorflow()

import keras  # noqa: E402
import numpy as np  # noqa: E402

from ecgcrnn.data.cache import build_cache  # noqa: E402
from ecgcrnn.domain import LEAD_SETS  # noqa: E402
from ecgcrnn.training.settings import TrainingConfig  # noqa: E402

CHALLENGE_RECORDS = 88_253
TARGET_RATIO = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=data_root() / "challenge", help="folder of Challenge records"
    )
    parser.add_argument("--steps", type=int, default=20, help="batches per timed epoch")
    parser.add_argument("--lead-sets", nargs="+", default=list(LEAD_SETS), choices=list(LEAD_SETS))
    parser.add_argument(
        "--scratch", type=Path, default=Path(tempfile.gettempdir()) / "ecgcrnn_bench_training"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print_machine_line()
    config = TrainingConfig()
    build_rate = measure_build(args.data, args.scratch)
    cache = build_cache(args.data, args.scratch / "cache", lead_sets=tuple(LEAD_SETS))
    rows = [measure_lead_set(cache, lead_set, config, args.steps) for lead_set in args.lead_sets]
    print_table(rows, cache, config, build_rate, args)


def measure_build(data: Path, scratch: Path) -> float:
    """Records per second of a fresh cache build (all five lead sets, every core); the cache is kept."""
    shutil.rmtree(scratch / "cache", ignore_errors=True)
    started = time.perf_counter()
    cache = build_cache(data, scratch / "cache", lead_sets=tuple(LEAD_SETS))
    return len(cache.record_ids) / (time.perf_counter() - started)


def measure_lead_set(cache, lead_set: str, config: TrainingConfig, steps: int) -> dict:
    """Records (windows) per second of the pipeline, the steps, fit and predict for one lead set."""
    from ecgcrnn.data.batches import WindowBatches, feature_statistics
    from ecgcrnn.domain import default_class_table
    from ecgcrnn.model.losses import make_loss
    from ecgcrnn.model.network import build_model

    keras.utils.set_random_seed(config.seed)
    records = cache.usable
    epoch = np.tile(records, math.ceil(steps * config.batch_size / len(records)))[: steps * config.batch_size]
    augmentation = {"gain_jitter": config.gain_jitter, "noise_mv": config.noise_mv}
    batches = WindowBatches(cache, lead_set, epoch, config.batch_size, config.seed, True, **augmentation)
    pipeline = _records_per_second(lambda: _serve(batches), len(epoch))
    stats = feature_statistics(cache, lead_set, records)
    network = build_model(
        LEAD_SETS[lead_set], default_class_table().names, config.network, stats, cache.settings
    )
    positives = cache.labels[records].mean(axis=0)
    network.compile(keras.optimizers.Adam(config.learning_rate), make_loss(config.loss, positives))
    held = HeldBatches([batches[i] for i in range(len(batches))])
    network.fit(held, epochs=1, verbose=0)  # traces the step
    step_rate = _records_per_second(lambda: network.fit(held, epochs=1, verbose=0), len(epoch))
    fit_rate = _records_per_second(lambda: network.fit(batches, epochs=1, verbose=0), len(epoch))
    validation = WindowBatches(
        cache, lead_set, records[: steps * config.batch_size], config.batch_size, 0, False
    )
    network.predict(validation[0][0], verbose=0)
    predict_rate = _records_per_second(
        lambda: network.predict(validation, verbose=0), len(validation.windows)
    )
    return {
        "lead_set": lead_set,
        "pipeline": pipeline,
        "steps": step_rate,
        "fit": fit_rate,
        "predict": predict_rate,
    }


class HeldBatches(keras.utils.PyDataset):
    """Batches already in memory, served as a PyDataset (what ``fit`` costs without reading the cache)."""

    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int):
        return self.batches[index]


def _serve(batches) -> None:
    """One epoch of training batches, as ``fit`` asks for them."""
    for index in range(len(batches)):
        batches[index]
    batches.on_epoch_end()


def _records_per_second(run, records: int, repeats: int = 2) -> float:
    """Best of ``repeats`` timings of ``run()``, as records per second."""
    best = np.inf
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return records / best


def print_table(rows, cache, config: TrainingConfig, build_rate: float, args) -> None:
    windows_per_record = cache.offsets[-1] / len(cache.record_ids)
    folds = config.threshold_folds
    train = CHALLENGE_RECORDS * (folds - 1) / folds  # each fold network's training records
    validation_windows = CHALLENGE_RECORDS / folds * windows_per_record
    print(
        f"\n{len(cache.record_ids)} real records ({windows_per_record:.2f} windows each), default network "
        f"and batch {config.batch_size}; best of 2 epochs of {args.steps} batches; "
        f"{os.cpu_count()} CPU cores"
    )
    header = (
        f"{'lead set':<9}{'pipeline rec/s':>15}{'steps rec/s':>12}{'fit rec/s':>10}{'predict win/s':>14}"
        f"{'pipeline/steps':>15}{'epoch min':>10}"
    )
    print(header)
    total_s = CHALLENGE_RECORDS / build_rate
    for row in rows:
        ratio = row["pipeline"] / row["steps"]
        epoch_s = train / row["fit"] + validation_windows / row["predict"]  # one fold network's epoch
        total_s += folds * (config.epochs + 1) * epoch_s  # every fold network, every epoch (+1: the start)
        print(
            f"{row['lead_set']:<9}{row['pipeline']:>15.0f}{row['steps']:>12.1f}{row['fit']:>10.1f}"
            f"{row['predict']:>14.1f}{ratio:>14.0f}x{epoch_s / 60:>10.0f}"
        )
    slowest = min(row["pipeline"] / row["steps"] for row in rows)
    verdict = "met" if slowest >= TARGET_RATIO else "missed"
    print(f"pipeline at least {TARGET_RATIO:.0f}x faster than the steps for every lead set: {verdict}")
    print(f"cache build: {build_rate:.1f} records per second (all five lead sets, every core)")
    lead_sets = (
        "all five lead sets" if len(rows) == len(LEAD_SETS) else f"lead sets {', '.join(args.lead_sets)}"
    )
    print(
        f"estimated wall time for {lead_sets} on {CHALLENGE_RECORDS:,} records, {config.epochs} epochs, "
        f"{folds} threshold folds (the fold networks averaged): "
        f"{total_s / 3600:.0f} hours ({total_s / 86400:.1f} days) on this machine"
    )


if __name__ == "__main__":
    main()
