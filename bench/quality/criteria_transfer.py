"""Do the criteria's false calls on the training hospitals foretell their false calls on a new one?

A rule tried and rejected (CHANGELOG.md, "Knowledge in the network"): a class with too few positives to learn
a threshold from (``TrainingConfig.min_positives``) is decided by its criterion; it could instead be left
unstated wherever stating its criterion lowers the Challenge metric of the training records. This bench
measures that rule without any network (so with no run-to-run noise), on the criteria path's own decisions
(each record's mean probability over its windows, :func:`ecgcrnn.training.loop.criteria_record_probabilities`,
0.5 or more), leaving one source out (each record's source from its name,
:func:`ecgcrnn.data.sources.source_of`):

- stated: every criterion as it is;
- gated: each rare class of the training sources, in turn, switched off where that raises their metric
  with the other classes as they stand (a tie keeps the criterion).

Prints the machine line, then, per lead set and rule, the pooled out-of-source Challenge metric and each
held-out source's.

Usage: ``python bench/quality/criteria_transfer.py DATA_DIR [DATA_DIR ...] [--cache DIR]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's root, for devtools

import numpy as np

from devtools.environment import one_folder, print_machine_line
from ecgcrnn.data.cache import build_cache
from ecgcrnn.data.sources import source_of
from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.scoring.metrics import compute_challenge_metric
from ecgcrnn.training.loop import criteria_record_probabilities
from ecgcrnn.training.settings import TrainingConfig

RULES = ("stated", "gated")


def gate(labels: np.ndarray, stated: np.ndarray, rare: np.ndarray, table) -> np.ndarray:
    """The rare classes (C,) bool whose criterion is kept: off where that raises the records' metric."""
    keep = np.ones(labels.shape[1], bool)
    for k in np.flatnonzero(rare):
        on = compute_challenge_metric(table.weights, labels, stated & keep, table.normal_index)
        keep[k] = False
        off = compute_challenge_metric(table.weights, labels, stated & keep, table.normal_index)
        keep[k] = off <= on  # a tie keeps the criterion
    return keep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_directories", nargs="+", type=Path, metavar="DATA_DIR")
    parser.add_argument("--cache", type=Path, default=None, help="cache folder (default: a temporary one)")
    args = parser.parse_args()
    print_machine_line()
    with tempfile.TemporaryDirectory() as scratch:
        data = one_folder(args.data_directories, Path(scratch, "data"))
        compare(build_cache(data, args.cache or Path(scratch, "cache")))


def compare(cache) -> None:
    """Print the pooled and per-source metric of both rules for every lead set."""
    table, minimum = default_class_table(), TrainingConfig().min_positives
    usable = cache.usable
    sources = np.array([source_of(cache.record_ids[i]) for i in usable])
    names = sorted(set(sources))
    labels = cache.labels[usable] > 0
    print(
        f"{len(usable)} records, leave one source out; rare: under {minimum} positives; "
        f"{os.cpu_count()} CPU cores"
    )
    print(f"{'lead set':<8} {'rule':<7} {'pooled':>7}" + "".join(f"{name[:12]:>13}" for name in names))
    for lead_set in LEAD_SETS:
        outputs = {rule: np.zeros(labels.shape, bool) for rule in RULES}
        for held_out in names:
            here = sources == held_out
            train, test = usable[~here], usable[here]
            train_labels = cache.labels[train] > 0
            prevalence = train_labels.mean(axis=0)
            stated = criteria_record_probabilities(cache, lead_set, train, prevalence) >= 0.5
            keep = gate(train_labels, stated, train_labels.sum(axis=0) < minimum, table)
            test_stated = criteria_record_probabilities(cache, lead_set, test, prevalence) >= 0.5
            outputs["stated"][here] = test_stated
            outputs["gated"][here] = test_stated & keep
        for rule, binary in outputs.items():
            scores = [compute_challenge_metric(table.weights, labels, binary, table.normal_index)]
            for name in names:
                here = sources == name
                scores.append(
                    compute_challenge_metric(table.weights, labels[here], binary[here], table.normal_index)
                )
            print(f"{lead_set:<8} {rule:<7} {scores[0]:>7.3f}" + "".join(f"{x:>13.3f}" for x in scores[1:]))


if __name__ == "__main__":
    main()
