"""The whole method end to end on synthetic data, as a Challenge entry is run: ``python -m ecgcrnn.app.demo``.

1. ``python -m ecgcrnn.synthetic`` writes a training set and a test set of 12-lead recordings (different
   seeds);
2. ``train_model.py`` trains the five lead sets' models, with settings made for a quick run (written to
   ``WORKDIR/config.json`` and given as ``--config``);
3. ``extract_leads_wfdb.py`` reduces the test set to the 6, 4, 3 and 2 lead sets;
4. ``test_model.py`` runs each lead set's test set, and ``evaluate_model.py`` scores it;
5. a table of the scores per lead set is printed, with the wall time of each step.

Every step is the command a user would type, run as a subprocess of this Python, so the demo proves the
entry's command-line contract and not only the package. A step that fails stops the demo with its output.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from ecgcrnn.app.cli import run
from ecgcrnn.domain import LEAD_SETS
from ecgcrnn.io.atomic import write_text

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]  # the repository: ecgcrnn/app/demo.py
SCORES = ("Challenge metric", "AUROC", "AUPRC", "F-measure", "Accuracy")
QUICK_SETTINGS = {"epochs": 8, "batch_size": 32, "patience_epochs": 4, "learning_rate": 1e-3}


def main(argv=None, prog: str = "python -m ecgcrnn.app.demo") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("demo"), help="folder for data, model, outputs")
    parser.add_argument("--train-records", type=int, default=600, help="synthetic training recordings")
    parser.add_argument("--test-records", type=int, default=150, help="synthetic test recordings")
    parser.add_argument(
        "--epochs", type=int, default=QUICK_SETTINGS["epochs"], help="training epochs at most"
    )
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args(argv)
    if args.train_records < 20 or args.test_records < 1 or args.epochs < 1:
        parser.error("--train-records must be at least 20, --test-records and --epochs at least 1")
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    def demo() -> None:
        scores = run_demo(args.workdir, args.train_records, args.test_records, args.epochs, args.seed)
        print(format_table(scores, args))

    return run("demo", demo, writes={"--workdir": args.workdir})


class DemoError(ValueError):
    """A step of the demo failed."""


def run_demo(workdir: Path, train_records: int, test_records: int, epochs: int, seed: int) -> dict:
    """Run the five steps in ``workdir``; returns ``{lead_set: {score name: value}}``."""
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    data, model, outputs = workdir / "data", workdir / "model", workdir / "outputs"
    config = workdir / "config.json"
    write_text(config, json.dumps({"training": {**QUICK_SETTINGS, "epochs": epochs, "seed": seed}}, indent=2))
    step(
        "synthetic training set",
        "-m",
        "ecgcrnn.synthetic",
        data / "train",
        "--records",
        train_records,
        "--seed",
        seed,
    )
    step(
        "synthetic test set",
        "-m",
        "ecgcrnn.synthetic",
        data / "test" / "twelve",
        "--records",
        test_records,
        "--seed",
        seed + 1,
    )
    step("training (five lead sets)", "train_model.py", data / "train", model, "--config", config)
    scores = {}
    for lead_set, leads in LEAD_SETS.items():
        test = data / "test" / lead_set
        if lead_set != "twelve":
            step(
                f"{lead_set}-lead test set",
                "extract_leads_wfdb.py",
                "-i",
                data / "test" / "twelve",
                "-o",
                test,
                "-l",
                *leads,
            )
        step(f"test_model.py, {lead_set} leads", "test_model.py", model, test, outputs / lead_set)
        scores_file = workdir / f"scores_{lead_set}.csv"
        step(
            f"evaluate_model.py, {lead_set} leads", "evaluate_model.py", test, outputs / lead_set, scores_file
        )
        scores[lead_set] = read_scores(scores_file)
    return scores


def step(title: str, *command) -> None:
    """Run ``python COMMAND...`` in the repository's folder; raise :class:`DemoError` if it fails."""
    arguments = [sys.executable, *(str(part) for part in command)]
    env = {"TF_CPP_MIN_LOG_LEVEL": "2", **os.environ}
    start = time.perf_counter()
    result = subprocess.run(arguments, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-20:]
        raise DemoError(f"{title} failed ({' '.join(arguments[1:])}):\n" + "\n".join(output))
    log.info("%-34s %7.1f s", title, time.perf_counter() - start)


def read_scores(path: Path) -> dict[str, float]:
    """The scores file of ``evaluate_model.py``: a header row and one row of values."""
    header, values = path.read_text().splitlines()[:2]
    return dict(zip(header.split(","), (float(v) for v in values.split(",")), strict=True))


def format_table(scores: dict, args) -> str:
    lines = [
        f"\n{args.train_records} synthetic training and {args.test_records} test recordings, "
        f"{args.epochs} epochs at most, seed {args.seed}, {os.cpu_count()} CPU cores "
        f"(files in {args.workdir}):",
        f"{'lead set':<10}" + "".join(f"{name:>18}" for name in SCORES),
    ]
    for lead_set, values in scores.items():
        lines.append(f"{lead_set:<10}" + "".join(f"{values[name]:>18.3f}" for name in SCORES))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
