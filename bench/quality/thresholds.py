"""Benchmark: choosing per-class thresholds on a Challenge-sized validation set.

Usage: python bench/quality/thresholds.py [--recordings 13000] [--repeats 3] [--seed 0]

On synthetic labels with the Challenge training set's class prevalence and noisy probabilities, times the
best of several runs of ``choose_thresholds`` and prints, under the machine line, the time with the CPU
count, and the challenge metric at 0.5 everywhere, at the per-class F-measure optimum and at the chosen
thresholds.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's root, for devtools

import numpy as np

from devtools.challenge import CLASS_COUNTS, TRAINING_RECORDINGS
from devtools.environment import print_machine_line
from ecgcrnn.domain import default_class_table
from ecgcrnn.scoring.metrics import compute_challenge_metric
from ecgcrnn.training.thresholds import apply_thresholds, best_f_measure_thresholds, choose_thresholds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=13000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    table = default_class_table()
    labels, probabilities = synthetic_validation(args.recordings, np.random.default_rng(args.seed))
    inputs = (labels, probabilities, table.weights, table.normal_index)
    best = math.inf
    for _ in range(args.repeats):
        start = time.perf_counter()
        chosen = choose_thresholds(*inputs)
        best = min(best, time.perf_counter() - start)
    print_machine_line()
    print(f"{args.recordings} recordings, {len(table)} classes, {os.cpu_count()} CPU cores")
    print(f"choose_thresholds: {best * 1e3:.0f} ms (best of {args.repeats})")
    print(f"{'thresholds':<24}{'challenge metric':>18}")
    for name, thresholds in (
        ("0.5 everywhere", np.full(len(table), 0.5)),
        ("best F-measure", best_f_measure_thresholds(labels, probabilities)),
        ("chosen", chosen),
    ):
        outputs = apply_thresholds(probabilities, thresholds)
        metric = compute_challenge_metric(table.weights, labels, outputs, table.normal_index)
        print(f"{name:<24}{metric:>18.4f}")


def synthetic_validation(num_recordings: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Labels (N, C) at the training set's prevalence and probabilities (N, C) in [0, 1] that rank them."""
    prevalence = np.array(CLASS_COUNTS) / TRAINING_RECORDINGS
    labels = rng.random((num_recordings, len(prevalence))) < prevalence
    logits = 2.5 * labels - 2.0 + rng.normal(0.0, 1.2, labels.shape)
    return labels, 1.0 / (1.0 + np.exp(-logits))


if __name__ == "__main__":
    main()
