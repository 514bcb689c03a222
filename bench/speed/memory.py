"""Memory of a training run against the size of the cache: peak RSS with 2,000 and with 20,000 records.

Training streams from the on-disk cache, so its memory should not grow with the number of records. Each
size gets a cache synthesised in the cache's own format by replicating the rows of a cache built from the
real records (preprocessing 20,000 records would take hours here): record ``i`` is a copy of real record
``i mod n``, windows, features, labels and demographics alike. Then, in a fresh process per size, one
short training of one lead set's network runs as ``train`` trains each of its networks
(:func:`ecgcrnn.training.loop.fit_lead_set`: the split, feature statistics, the network started from the
criteria, ``--epochs`` epochs of ``--steps`` batches drawn from all training records, the validation
Challenge metric with tuned thresholds after every epoch over all validation windows), and reports its
peak resident set size (``VmHWM``) and, at the end, how much of its resident memory maps files
(``RssFile``). ``--memory-maps`` reads the cache through numpy memory maps instead of
:class:`ecgcrnn.data.reader.RowReader`, as the input pipeline once did, for comparison. Target: the two peaks
differ by less than 10%. The machine line comes first.

Usage: ``.venv/bin/python bench/speed/memory.py [--data DIR] [--sizes 2000 20000] [--lead-set twelve]
[--steps 20] [--epochs 1] [--scratch FOLDER] [--memory-maps]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's root, for devtools

import numpy as np

from devtools.environment import data_root, print_machine_line, quiet_tensorflow
from ecgcrnn.data.cache import DONE, FEATURE_ARRAYS, build_cache, open_cache

TARGET_GROWTH = 0.10
_COPY_WINDOWS = 2048


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=data_root() / "challenge", help="folder of Challenge records"
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000], help="records per cache")
    parser.add_argument("--lead-set", default="twelve")
    parser.add_argument("--steps", type=int, default=20, help="training batches per epoch")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()) / "ecgcrnn_bench_memory")
    parser.add_argument("--memory-maps", action="store_true", help="read the cache through memory maps")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    quiet_tensorflow()  # TensorFlow loads later, in the training child, which inherits this environment
    if args.child:
        print(json.dumps(train_and_measure(args.child, args)))
        return
    print_machine_line()
    source = build_cache(args.data, args.scratch / "source", lead_sets=(args.lead_set,))
    rows = []
    for size in args.sizes:
        folder = args.scratch / f"cache_{size}"
        synthesise_cache(source, folder, size, args.lead_set)
        started = time.perf_counter()
        outcome = run_child(folder, args)
        rows.append((size, folder, outcome, time.perf_counter() - started))
    print_table(rows, args)


def synthesise_cache(source, folder: Path, records: int, lead_set: str) -> None:
    """A cache of ``records`` records at ``folder``, each a copy of one of ``source``'s usable records."""
    meta_file = folder / "meta.json"
    if meta_file.is_file() and json.loads(meta_file.read_text()).get("synthesised_from") == str(
        source.directory
    ):
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    usable = source.usable
    origin = usable[np.arange(records) % len(usable)]
    counts = source.offsets[origin + 1] - source.offsets[origin]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    np.save(folder / "offsets.npy", offsets)
    np.save(folder / "labels.npy", source.labels[origin])
    np.save(folder / "demographics.npy", source.demographics[origin])
    np.save(folder / "status.npy", np.full(records, DONE, np.uint8))
    np.save(folder / "amplitudes_recorded.npy", source.amplitudes_recorded[origin].astype(np.uint8))
    windows, _ = source.windows_of(origin)  # source window of each new window, in order
    names = ["signals", *(f"{lead_set}_{name}" for name in FEATURE_ARRAYS)]
    for name in names:
        reader = source.reader(name)
        target = np.lib.format.open_memmap(
            folder / f"{name}.npy", mode="w+", dtype=reader.dtype, shape=(len(windows), *reader.shape[1:])
        )
        for start in range(0, len(windows), _COPY_WINDOWS):
            target[start : start + _COPY_WINDOWS] = reader[windows[start : start + _COPY_WINDOWS]]
        target.flush()
        del target
    meta = {"key": "synthesised", "lead_sets": [lead_set], "synthesised_from": str(source.directory)}
    meta["settings"] = source.settings.to_dict()  # the arrays are the source's, made with its settings
    meta["record_ids"] = [f"{source.record_ids[i]}_{n}" for n, i in enumerate(origin.tolist())]
    meta_file.write_text(json.dumps(meta))


def run_child(folder: Path, args) -> dict:
    command = [sys.executable, __file__, "--child", str(folder), "--lead-set", args.lead_set]
    command += ["--steps", str(args.steps), "--epochs", str(args.epochs), "--scratch", str(args.scratch)]
    command += ["--memory-maps"] if args.memory_maps else []
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"training on {folder} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def train_and_measure(folder: Path, args) -> dict:
    """One short training on the cache at ``folder`` (in this process); its memory figures."""
    import keras

    from ecgcrnn.data import cache as cache_module
    from ecgcrnn.training.decisions import split_records
    from ecgcrnn.training.loop import fit_lead_set
    from ecgcrnn.training.settings import TrainingConfig

    if args.memory_maps:
        cache_module.Cache.reader = lambda self, name: np.load(self.directory / f"{name}.npy", mmap_mode="r")
    cache = open_cache(folder)
    config = TrainingConfig(lead_sets=(args.lead_set,), epochs=args.epochs, steps_per_epoch=args.steps)
    train_records, validation_records = split_records(cache.labels, cache.usable, config)
    keras.utils.set_random_seed(config.seed)
    checkpoint = Path(tempfile.mkdtemp(prefix="checkpoint_", dir=args.scratch))
    started = time.perf_counter()
    fitted = fit_lead_set(cache, args.lead_set, train_records, validation_records, config, checkpoint)
    seconds = time.perf_counter() - started
    shutil.rmtree(checkpoint, ignore_errors=True)
    status = _proc_status()
    return {
        # VmHWM is this process's own peak: ru_maxrss may carry the parent's across a vfork and exec
        "peak_rss_mb": status.get("VmHWM", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024,
        "rss_file_mb": status.get("RssFile", 0) / 1024,
        "rss_anon_mb": status.get("RssAnon", 0) / 1024,
        "windows": int(cache.offsets[-1]),
        "train_records": len(train_records),
        "validation_records": len(validation_records),
        "training_s": seconds,
        "metric": fitted.metric,
    }


def _proc_status() -> dict[str, int]:
    """``/proc/self/status`` memory lines in kB (empty where there is no /proc)."""
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return {}
    return {
        k: int(v.split()[0])
        for k, _, v in (line.partition(":") for line in lines)
        if v.strip().endswith("kB")
    }


def print_table(rows, args) -> None:
    reading = "numpy memory maps" if args.memory_maps else "RowReader (os.preadv)"
    print(
        f"\nshort training of the {args.lead_set}-lead network ({args.epochs} epoch(s) of {args.steps} "
        f"batches of 64, validation over all its windows), default architecture; cache read with {reading}; "
        f"{os.cpu_count()} CPU cores"
    )
    print(
        f"{'records':>8} {'windows':>8} {'cache GB':>9} {'train':>6} {'valid':>6} "
        f"{'peak RSS MB':>12} {'RssFile MB':>11} {'RssAnon MB':>11} {'run s':>7}"
    )
    for size, folder, outcome, seconds in rows:
        gigabytes = sum(path.stat().st_size for path in folder.glob("*.npy")) / 1e9
        print(
            f"{size:>8} {outcome['windows']:>8} {gigabytes:>9.2f} {outcome['train_records']:>6} "
            f"{outcome['validation_records']:>6} {outcome['peak_rss_mb']:>12.0f} "
            f"{outcome['rss_file_mb']:>11.0f} {outcome['rss_anon_mb']:>11.0f} {seconds:>7.0f}"
        )
    peaks = [outcome["peak_rss_mb"] for _, _, outcome, _ in rows]
    growth = peaks[-1] / peaks[0] - 1
    verdict = "met" if abs(growth) < TARGET_GROWTH else "missed"
    print(f"peak RSS from {rows[0][0]} to {rows[-1][0]} records: {growth:+.1%} (target under 10%: {verdict})")


if __name__ == "__main__":
    main()
