"""Benchmark: the vectorised Challenge metrics against plain per-recording, per-class Python loops, and
``python evaluate_model.py`` as a whole process.

Usage: python bench/speed/scoring.py [--recordings 5000] [--repeats 5] [--seed 0]

After the machine line, on synthetic labels with the Challenge training set's class prevalence and scalar
outputs rounded to 2 decimals (many ties), times the best of several repetitions of each metric written as
loops that read like the Challenge's definitions (../shared/docs/scoring.md), and of
ecgcrnn.scoring.metrics's vectorised functions; checks that they agree to 1e-10 and prints a table. Then
writes one label and one output file per recording to a temporary folder and times reading them and
evaluate_model in this process, and ``python evaluate_model.py LABELS OUTPUTS`` as a new process
(interpreter start, imports and file reading included; wall and CPU time), next to the interpreter
starting alone and importing numpy alone.

The package must be importable: installed (``pip install -e .``) or with ``PYTHONPATH=.``.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's root, for devtools

import numpy as np

from devtools.challenge import CLASS_COUNTS, TRAINING_RECORDINGS
from devtools.environment import REPOSITORY, print_machine_line
from ecgcrnn.domain import STANDARD_LEADS, default_class_table
from ecgcrnn.io.outputs import save_outputs
from ecgcrnn.scoring import evaluate
from ecgcrnn.scoring import metrics as scoring

EVALUATE_SCRIPT = REPOSITORY / "evaluate_model.py"

TOLERANCE = 1e-10


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    table = default_class_table()
    labels, binary, scalar = synthetic_outputs(args.recordings, np.random.default_rng(args.seed))
    cores = os.cpu_count()
    print_machine_line()
    print(f"{args.recordings} recordings, {len(table)} classes, {cores} CPU cores, best of {args.repeats}")
    print(f"{'metric':<28}{'loop ms':>10}{'vectorised ms':>15}{'speed-up':>10}")
    cases = [
        ("AUROC + AUPRC", loop_auc, scoring.compute_auc, (labels, scalar)),
        ("accuracy", loop_accuracy, scoring.compute_accuracy, (labels, binary)),
        ("F-measure", loop_f_measure, scoring.compute_f_measure, (labels, binary)),
        (
            "challenge metric",
            loop_challenge_metric,
            scoring.compute_challenge_metric,
            (table.weights, labels, binary, table.normal_index),
        ),
    ]
    totals = np.zeros(2)
    for name, loop, vectorised, inputs in cases:
        expected, loop_s = best_time(loop, inputs, args.repeats)
        actual, vectorised_s = best_time(vectorised, inputs, args.repeats)
        check_agree(name, expected, actual)
        totals += (loop_s, vectorised_s)
        print(f"{name:<28}{loop_s * 1e3:>10.1f}{vectorised_s * 1e3:>15.2f}{loop_s / vectorised_s:>9.0f}x")
    print(f"{'total':<28}{totals[0] * 1e3:>10.1f}{totals[1] * 1e3:>15.2f}{totals[0] / totals[1]:>9.0f}x")
    print(f"all metrics agree to {TOLERANCE:g}")
    time_end_to_end(labels, binary, scalar, args.repeats)


def synthetic_outputs(num_recordings: int, rng: np.random.Generator):
    """Labels (N, C) at the training set's prevalence, binary (N, C) and tied scalar outputs (N, C)."""
    prevalence = np.array(CLASS_COUNTS) / TRAINING_RECORDINGS
    labels = rng.random((num_recordings, len(prevalence))) < prevalence
    scalar = np.clip(0.35 * labels + rng.normal(0.3, 0.2, labels.shape), 0, 1).round(2)
    return labels, scalar >= 0.5, scalar


def best_time(function, inputs, repeats: int):
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(*inputs)
        best = min(best, time.perf_counter() - start)
    return result, best


def check_agree(name: str, expected, actual) -> None:
    expected = expected if isinstance(expected, tuple) else (expected,)
    actual = actual if isinstance(actual, tuple) else (actual,)
    for e, a in zip(expected, actual, strict=True):
        if not np.allclose(
            np.asarray(e, float), np.asarray(a, float), rtol=0, atol=TOLERANCE, equal_nan=True
        ):
            raise SystemExit(f"{name}: loop {e} and vectorised {a} disagree")


def time_end_to_end(labels, binary, scalar, repeats: int) -> None:
    table = default_class_table()
    with tempfile.TemporaryDirectory() as folder:
        label_directory, output_directory = Path(folder, "labels"), Path(folder, "outputs")
        label_directory.mkdir()
        output_directory.mkdir()
        write_files(label_directory, output_directory, labels, binary, scalar)
        files, reading_s = best_time(read_files, (label_directory, output_directory), repeats)
        scores, metrics_s = best_time(scoring.compute_scores, (*files, table), repeats)
        end_to_end, total_s = best_time(evaluate.evaluate_model, (label_directory, output_directory), repeats)
        command = [sys.executable, str(EVALUATE_SCRIPT), str(label_directory), str(output_directory)]
        printed, process_s, process_cpu_s = best_process_time(command, repeats)
        _, bare_s, bare_cpu_s = best_process_time([sys.executable, "-c", "pass"], repeats)
        _, numpy_s, numpy_cpu_s = best_process_time([sys.executable, "-c", "import numpy"], repeats)
    if not np.isclose(scores.challenge_metric, end_to_end.challenge_metric, rtol=0, atol=TOLERANCE):
        raise SystemExit("evaluate_model disagrees with the metrics on the matrices it read")
    if printed != scoring.format_scores(end_to_end):
        raise SystemExit(f"evaluate_model.py printed {printed!r}, not the scores evaluate_model computes")
    print(f"\nevaluate_model on {len(labels)} label and output files, in this process, best of {repeats}")
    print(f"{'reading files':<28}{reading_s * 1e3:>10.1f} ms")
    print(f"{'computing metrics':<28}{metrics_s * 1e3:>10.1f} ms")
    print(f"{'end to end':<28}{total_s * 1e3:>10.1f} ms")
    print(
        f"\npython evaluate_model.py LABELS OUTPUTS on {len(labels)} label and output files, a new process, "
        f"{os.cpu_count()} CPU cores, best of {repeats}"
    )
    print(f"{'process':<28}{'wall ms':>10}{'CPU ms':>10}")
    for name, wall_s, cpu_s in (
        ("python -c pass", bare_s, bare_cpu_s),
        ("python -c 'import numpy'", numpy_s, numpy_cpu_s),
        ("python evaluate_model.py", process_s, process_cpu_s),
    ):
        print(f"{name:<28}{wall_s * 1e3:>10.0f}{cpu_s * 1e3:>10.0f}")


def best_process_time(command: list[str], repeats: int) -> tuple[str, float, float]:
    """The standard output of ``command`` and its best wall and CPU (user + system) times in seconds, after
    one run that warms the page cache."""
    best_wall = best_cpu = math.inf
    for run in range(repeats + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed: {result.stderr.strip()}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if run:  # the first run only warms up
            best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
    return result.stdout, best_wall, best_cpu


def write_files(label_directory: Path, output_directory: Path, labels, binary, scalar) -> None:
    table = default_class_table()
    for i, (row, binary_row, scalar_row) in enumerate(zip(labels, binary, scalar, strict=True)):
        record = f"B{i:05d}"
        codes = [sorted(table.codes[j])[0] for j in np.flatnonzero(row)]
        signal_lines = "".join(f"{record}.mat 16+24 1000/mV 16 0 0 0 0 {lead}\n" for lead in STANDARD_LEADS)
        header = f"{record} 12 500 5000\n{signal_lines}#Age: 60\n#Sex: Female\n#Dx: {','.join(codes)}\n"
        (label_directory / f"{record}.hea").write_text(header)
        save_outputs(
            output_directory / f"{record}.csv", record, table.names, binary_row.astype(int), scalar_row
        )


def read_files(label_directory: Path, output_directory: Path):
    table = default_class_table()
    label_files = evaluate.find_label_files(label_directory)
    output_files = evaluate.find_output_files(label_files, output_directory)
    return (evaluate.load_labels(label_files, table), *evaluate.load_classifier_outputs(output_files, table))


def loop_accuracy(labels, outputs) -> float:
    labels, outputs = labels.tolist(), outputs.tolist()
    correct = 0
    for label_row, output_row in zip(labels, outputs, strict=True):
        if all(label == output for label, output in zip(label_row, output_row, strict=True)):
            correct += 1
    return correct / len(labels)


def loop_f_measure(labels, outputs):
    labels, outputs = labels.tolist(), outputs.tolist()
    f_measure = []
    for k in range(len(labels[0])):
        tp = fp = fn = 0
        for label_row, output_row in zip(labels, outputs, strict=True):
            if label_row[k] and output_row[k]:
                tp += 1
            elif output_row[k]:
                fp += 1
            elif label_row[k]:
                fn += 1
        denominator = 2 * tp + fp + fn
        f_measure.append(2 * tp / denominator if denominator else math.nan)
    return loop_nanmean(f_measure), np.array(f_measure)


def loop_auc(labels, outputs):
    labels, outputs = labels.tolist(), outputs.tolist()
    auroc, auprc = [], []
    for k in range(len(labels[0])):
        column = [row[k] for row in outputs]
        positives = sum(1 for row in labels if row[k])
        thresholds = sorted(set(column), reverse=True)
        thresholds.insert(0, thresholds[0] + 1)
        order = sorted(range(len(column)), key=lambda i, column=column: column[i], reverse=True)
        tp, fp, fn, tn = [0], [0], [positives], [len(column) - positives]
        i = 0
        for threshold in thresholds[1:]:
            tp.append(tp[-1]), fp.append(fp[-1]), fn.append(fn[-1]), tn.append(tn[-1])
            while i < len(order) and column[order[i]] >= threshold:
                if labels[order[i]][k]:
                    tp[-1], fn[-1] = tp[-1] + 1, fn[-1] - 1
                else:
                    fp[-1], tn[-1] = fp[-1] + 1, tn[-1] - 1
                i += 1
        tpr = [a / (a + b) if a + b else math.nan for a, b in zip(tp, fn, strict=True)]
        tnr = [b / (a + b) if a + b else math.nan for a, b in zip(fp, tn, strict=True)]
        ppv = [a / (a + b) if a + b else math.nan for a, b in zip(tp, fp, strict=True)]
        roc = prc = 0.0
        for j in range(len(thresholds) - 1):
            roc += 0.5 * (tpr[j + 1] - tpr[j]) * (tnr[j + 1] + tnr[j])
            prc += (tpr[j + 1] - tpr[j]) * ppv[j + 1]
        auroc.append(roc)
        auprc.append(prc)
    return loop_nanmean(auroc), loop_nanmean(auprc), np.array(auroc), np.array(auprc)


def loop_confusion_matrix(labels, outputs):
    num_classes = len(labels[0])
    matrix = [[0.0] * num_classes for _ in range(num_classes)]
    for label_row, output_row in zip(labels, outputs, strict=True):
        n = max(sum(1 for a, b in zip(label_row, output_row, strict=True) if a or b), 1)
        for j in range(num_classes):
            if label_row[j]:
                for k in range(num_classes):
                    if output_row[k]:
                        matrix[j][k] += 1.0 / n
    return matrix


def loop_challenge_metric(weights, labels, outputs, normal_index: int) -> float:
    weights, labels, outputs = weights.tolist(), labels.tolist(), outputs.tolist()
    inactive = [[k == normal_index for k in range(len(row))] for row in labels]

    def score(predictions):
        matrix = loop_confusion_matrix(labels, predictions)
        return sum(
            w * a
            for w_row, a_row in zip(weights, matrix, strict=True)
            for w, a in zip(w_row, a_row, strict=True)
            if not math.isnan(w)
        )

    observed, correct, inactive_score = score(outputs), score(labels), score(inactive)
    if correct == inactive_score:
        return 0.0
    return (observed - inactive_score) / (correct - inactive_score)


def loop_nanmean(values) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return sum(finite) / len(finite) if finite else math.nan


if __name__ == "__main__":
    main()
