"""``ecgcrnn measure``'s throughput on the labelled records.

``ecgcrnn measure`` runs as a user runs it (a fresh process, worker start-up included) on the 371 labelled
records (``challenge`` and ``ludb_challenge`` of the data root under one folder of links), once with each
``--jobs`` given; prints records per second between two machine lines (the load before and after). How
close its intervals come to LUDB's cardiologists is bench/quality/measure.py's.

Usage: ``.venv/bin/python bench/speed/measure.py [--shared DIR] [--jobs N [N ...]]``
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's root, for devtools

from devtools.environment import data_root, print_machine_line
from ecgcrnn.app.measure import default_jobs


def throughput(shared: Path, jobs: list[int]) -> str:
    """Time ``ecgcrnn measure`` on the labelled records with each number of processes; a table."""
    command = _command()
    lines = [f"{'jobs':>4} {'records':>7} {'wall s':>7} {'records/s':>9}", "-" * 30]
    with tempfile.TemporaryDirectory() as work:
        data = Path(work) / "data"
        data.mkdir()
        for source in ("challenge", "ludb_challenge"):
            (data / source).symlink_to((shared / source).resolve(), target_is_directory=True)
        for count in jobs:
            arguments = [
                *command,
                "measure",
                str(data),
                str(Path(work) / "out.csv"),
                "-q",
                "--jobs",
                str(count),
            ]
            print(f"$ {' '.join(arguments)}", flush=True)
            start = time.perf_counter()
            subprocess.run(arguments, check=True)
            seconds = time.perf_counter() - start
            with open(Path(work) / "out.csv", newline="", encoding="utf-8") as stream:
                records = sum(1 for _ in csv.DictReader(stream))
            lines.append(f"{count:>4d} {records:>7d} {seconds:>7.1f} {records / seconds:>9.1f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=data_root(), help="the folder of the data sets")
    parser.add_argument("--jobs", type=int, nargs="+", default=[default_jobs()], help="processes to time")
    args = parser.parse_args()
    print_machine_line()
    print("\necgcrnn measure on the labelled records (Challenge and LUDB), a fresh process each run")
    print(throughput(args.shared, args.jobs))
    print_machine_line()


def _command() -> list[str]:
    """``ecgcrnn`` as installed beside this interpreter, else ``python -m ecgcrnn``."""
    script = shutil.which("ecgcrnn", path=os.path.dirname(os.path.abspath(sys.executable)))
    return [script] if script else [sys.executable, "-m", "ecgcrnn"]


if __name__ == "__main__":
    main()
