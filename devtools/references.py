"""The references the classification bench sets beside the CRNN (bench/quality/classification.py): always
normal, the published criteria, and a logistic regression on the record-level features.

Each takes what a protocol gives it (the cache and a split of its records, or the criteria grades of the
records to predict) and returns binary and scalar outputs, shape (records, C), classes in the weights
file's order.
"""

from __future__ import annotations

import json
import os

import numpy as np
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from tqdm import tqdm

from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.features.criteria import criteria_decisions, criteria_scores
from ecgcrnn.io.records import (
    find_challenge_files,
    get_age,
    get_sex,
    load_header,
    load_recording,
    parse_header,
)
from ecgcrnn.pipeline import prepare_record
from ecgcrnn.training.thresholds import apply_thresholds, choose_thresholds


def always_normal(count: int):
    """Sinus rhythm for each of ``count`` recordings, nothing else: the Challenge's inactive classifier."""
    table = default_class_table()
    binary = np.zeros((count, len(table)), dtype=bool)
    binary[:, table.normal_index] = True
    return binary, binary.astype(float)


def criteria_grades(data_directory, cache, lead_sets, n_jobs: int = 0) -> dict[str, np.ndarray]:
    """Per lead set, the criteria grades of every record of the cache, shape (records, classes) in the
    weights file's order, NaN where unmeasurable (and for the records the cache could not use).

    Each usable record goes through :func:`ecgcrnn.pipeline.prepare_record` with the cache's own settings
    and the lead set's leads, as the cache's build did, and its windows' measurements are combined
    (:meth:`~ecgcrnn.pipeline.PreparedRecord.record_measurements`) and graded with the record's age and sex.
    """
    header_files, recording_files = find_challenge_files(data_directory, required=True)
    meta = json.loads((cache.directory / "meta.json").read_text())  # the files it was built from
    if [str(f) for f in header_files] != [str(f) for f in meta["header_files"]]:
        raise ValueError(f"{cache.directory}: the cache's records are not those of {data_directory}")
    usable = cache.usable
    tasks = (
        delayed(_record_grades)(header_files[i], recording_files[i], lead_sets, cache.settings)
        for i in usable
    )
    rows = Parallel(n_jobs=n_jobs or os.cpu_count() or 1)(
        tqdm(tasks, total=len(usable), desc="criteria", unit="rec", disable=None)
    )
    classes = len(default_class_table())
    grades = {lead_set: np.full((len(cache.record_ids), classes), np.nan) for lead_set in lead_sets}
    for record, row in zip(usable, rows, strict=True):
        for lead_set in lead_sets:
            grades[lead_set][record] = row[lead_set]
    return grades


def _record_grades(header_file, recording_file, lead_sets, settings) -> dict[str, np.ndarray]:
    """One record's criteria grades in each lead set, classes in the weights file's order."""

    header = parse_header(load_header(header_file), header_file)
    recording = load_recording(recording_file, header)
    names = default_class_table().names
    out = {}
    for lead_set in lead_sets:
        measurements = prepare_record(header, recording, LEAD_SETS[lead_set], settings).record_measurements()
        scores = criteria_scores(measurements, get_age(header), get_sex(header))
        out[lead_set] = np.array([scores[name] for name in names])
    return out


def criteria_classifier(grades: np.ndarray):
    """Binary and scalar outputs from criteria grades (records, classes): the classes a reader of the
    criteria states (:func:`ecgcrnn.features.criteria.criteria_decisions`: graded 0.5 or more, less those
    another stated class implies), the scalar the grade (NaN as 0); nothing is learned and nothing is
    added to a record that meets no criterion (sinus rhythm only where its own grade is 0.5 or more)."""

    names = default_class_table().names
    scalar = np.nan_to_num(np.asarray(grades, dtype=float), nan=0.0)
    binary = np.zeros(scalar.shape, bool)
    for row, values in enumerate(grades):
        stated = criteria_decisions(dict(zip(names, values, strict=True)))
        binary[row] = [name in stated for name in names]
    return binary, scalar


def logistic_regression(cache, lead_set, split, seed: int):
    """One logistic regression per class on standardised record-level features."""

    table = default_class_table()
    train_records, validation_records, test_records = split
    x_train, x_validation, x_test = (record_features(cache, lead_set, r) for r in split)
    scaler = StandardScaler().fit(x_train)
    x_train, x_validation, x_test = (scaler.transform(x) for x in (x_train, x_validation, x_test))
    y_train = cache.labels[train_records] > 0
    probabilities = {"validation": [], "test": []}
    for k in range(len(table)):
        if y_train[:, k].all() or not y_train[:, k].any():
            constant = float(y_train[:, k].mean())
            probabilities["validation"].append(np.full(len(x_validation), constant))
            probabilities["test"].append(np.full(len(x_test), constant))
            continue
        model = LogisticRegression(C=0.1, max_iter=2000, random_state=seed).fit(x_train, y_train[:, k])
        probabilities["validation"].append(model.predict_proba(x_validation)[:, 1])
        probabilities["test"].append(model.predict_proba(x_test)[:, 1])
    validation, test = (np.stack(probabilities[name], axis=1) for name in ("validation", "test"))
    labels = cache.labels[validation_records] > 0
    thresholds = choose_thresholds(labels, validation, table.weights, table.normal_index)
    return apply_thresholds(test, thresholds), test


def record_features(cache, lead_set: str, records: np.ndarray) -> np.ndarray:
    """Per record: mean over its windows of the record features and their mask, then the demographics."""
    features = cache.features(lead_set)
    rows = []
    for record in records:
        window = slice(cache.offsets[record], cache.offsets[record + 1])
        values = np.asarray(features["record_values"][window], dtype=np.float64).mean(axis=0)
        mask = np.asarray(features["record_mask"][window], dtype=np.float64).mean(axis=0)
        rows.append(np.concatenate([values, mask, cache.demographics[record]]))
    return np.array(rows)
