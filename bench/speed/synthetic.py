"""Speed of the synthetic data generator: 12-lead, 10 s, 500 Hz records per second, in memory and on disk.

Times :func:`ecgcrnn.synthetic.generator.generate_record` alone, then
:func:`ecgcrnn.synthetic.generator.write_dataset` (generation plus the header, MATLAB and fiducials files)
into a temporary folder, in this one process, and prints a table under the machine line. The target:
1,000 records written in under a minute.

Usage: ``.venv/bin/python bench/speed/synthetic.py [--records 1000] [--seed 0]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's root, for devtools

from devtools.environment import machine_line
from ecgcrnn.synthetic.generator import generate_record, write_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000, help="records per stage (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args()
    print(f"{machine_line()}; one process")
    print(f"{'stage':<28}{'records':>9}{'seconds':>10}{'records/s':>11}")
    start = time.perf_counter()
    for index in range(args.records):
        generate_record(args.seed, index)
    report("generate in memory", args.records, time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        write_dataset(folder, args.records, args.seed)
        report("generate and write files", args.records, time.perf_counter() - start)


def report(stage: str, records: int, seconds: float) -> None:
    print(f"{stage:<28}{records:>9}{seconds:>10.2f}{records / seconds:>11.0f}")


if __name__ == "__main__":
    main()
