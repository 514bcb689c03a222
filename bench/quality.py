"""Quality: k-fold cross-validation of the CRNN against three references, for every lead set.

Usage: python bench/quality.py DATA_DIR [DATA_DIR ...] [--folds 5] [--epochs 15] [--seed 2021]
                               [--lead-sets twelve two] [--masked] [--protocol {kfold,sources}]
                               [--references-only] [--threshold-folds 3] [--old-rule]

The records are split into k multilabel-stratified folds. For each fold and lead set, the classifiers
learn from the other folds and are scored on the fold with the Challenge's metrics:
- the CRNN (ecgcrnn.training.loop.fit_with_thresholds, the same code as train_model.py, quick settings:
  the network starts from the criteria, its thresholds are chosen on out-of-fold predictions of all its
  training records, ``--threshold-folds`` folds (0: the earlier rule, thresholds and early stopping on a
  validation share); with folds, also "CRNN, one split": the first fold's network with the thresholds
  tuned on its own held-out fold, the earlier rule at no extra cost);
- always normal: sinus rhythm for every recording, the Challenge's inactive classifier;
- logistic regression on the record-level features alone (per-record mean over windows, their mask, age
  and sex), one per class, with thresholds tuned on a multilabel-stratified validation share;
- criteria: the published diagnostic criteria (ecgcrnn.features.criteria) graded on each record's global
  measurements in the lead set's leads, a class predicted where its grade is 0.5 or more (the grade is the
  probability, NaN counting as 0; no class is added when none is met), the same on every fold. The
  measurements come from ecgcrnn.pipeline.prepare_record run on the cache's records with the cache's
  settings, the same calls that made the other classifiers' inputs (the cache keeps features, not
  measurements).
Prints the Challenge metric, AUROC, AUPRC and F-measure per lead set as mean ± SD over the folds.

With ``--protocol sources`` the folds are the sources instead (leave one source out): the source of a record
is its name's prefix (:data:`SOURCES`: A CPSC, Q CPSC-Extra, I St Petersburg, S PTB, HR PTB-XL, E Georgia,
JS Chapman-Shaoxing and Ningbo, L LUDB); every classifier learns from all other sources and predicts the
held-out one, and the out-of-source predictions of all sources are pooled and scored once (and per source).
Several DATA_DIRs are read as one data set. ``--references-only`` leaves the CRNN out (minutes instead of an
hour). This is the protocol the Challenge's hidden test imposes: its records come from hospitals the
training data do not.

With ``--masked`` a fourth classifier is trained on each fold: one twelve-lead network that serves every lead
set, trained with the leads of a lead set drawn at random for each batch (the others' signals zeroed, their
features imputed and masked, the record features those the lead set gives), with thresholds chosen per lead
set. It is the alternative to one network per lead set that the README weighs.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from ecgcrnn.data.batches import WindowBatches
from ecgcrnn.data.cache import build_cache
from ecgcrnn.domain import LEAD_SETS, STANDARD_LEADS, default_class_table
from ecgcrnn.features.beats import beat_feature_names, record_feature_names
from ecgcrnn.pipeline import PipelineSettings
from ecgcrnn.scoring.metrics import compute_scores
from ecgcrnn.training.settings import TrainingConfig, config_from_dict
from ecgcrnn.training.thresholds import apply_thresholds, choose_thresholds

METRICS = ("challenge_metric", "auroc", "auprc", "f_measure")
SOURCES = {"A": "CPSC", "Q": "CPSC-Extra", "I": "St Petersburg", "S": "PTB", "HR": "PTB-XL", "E": "Georgia",
           "JS": "Chapman-Shaoxing/Ningbo", "L": "LUDB"}  # fmt: skip
"""Record-name prefix of each source (the Challenge's naming; LUDB's records as ludb_challenge names them)."""
CLASSIFIERS = ("CRNN", "always normal", "logistic regression", "criteria")
ONE_SPLIT = "CRNN, one split"
MASKED = "CRNN, one masked net"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_directories", nargs="+", type=Path, metavar="DATA_DIR")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--patience", type=int, default=5, help="early stopping: epochs without progress")
    parser.add_argument("--loss", default=TrainingConfig().loss, choices=("weighted_bce", "focal"))
    parser.add_argument("--dropout", type=float, default=TrainingConfig().dropout, help="of the dense layers")
    parser.add_argument("--learning-rate", type=float, default=TrainingConfig().learning_rate)
    parser.add_argument(
        "--validation-fraction",
        type=float,
        default=TrainingConfig().validation_fraction,
        help="share of each fold's training records held out for early stopping and thresholds",
    )
    parser.add_argument("--lead-sets", nargs="+", default=list(LEAD_SETS), choices=list(LEAD_SETS))
    parser.add_argument("--cache", type=Path, default=None, help="cache folder (default: a temporary one)")
    parser.add_argument("--masked", action="store_true", help="also train one lead-masked network per fold")
    parser.add_argument(
        "--protocol", choices=("kfold", "sources"), default="kfold", help="folds: random or sources"
    )
    parser.add_argument("--references-only", action="store_true", help="leave the CRNN out")
    parser.add_argument(
        "--threshold-folds",
        type=int,
        default=TrainingConfig().threshold_folds,
        help="the CRNN's thresholds from out-of-fold predictions of this many folds of its training records",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    config = config_from_dict(
        {
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "patience_epochs": args.patience,
            "loss": args.loss,
            "dropout": args.dropout,
            "seed": args.seed,
            "lead_sets": args.lead_sets,
            "learning_rate": args.learning_rate,
            "validation_fraction": args.validation_fraction,
            "threshold_folds": args.threshold_folds,
        }
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        data = one_folder(args.data_directories, Path(scratch, "data"))
        lead_sets = list(LEAD_SETS) if args.masked else args.lead_sets
        cache = build_cache(data, args.cache or Path(scratch, "cache"), lead_sets=lead_sets)
        grades = criteria_grades(data, cache, config.lead_sets)
        if args.protocol == "sources":
            pooled, per_source = leave_one_source_out(
                cache, config, Path(scratch), grades, args.references_only
            )
            print_sources(pooled, per_source, args, len(cache.usable), time.perf_counter() - started)
            return
        scores = cross_validate(cache, config, args.folds, Path(scratch), args.masked, grades)
    print_table(scores, args, len(cache.usable))


def one_folder(folders: list[Path], scratch: Path) -> Path:
    """The folder itself, or for several a folder of links to them (the record finder follows them)."""
    if len(folders) == 1:
        return folders[0]
    scratch.mkdir(parents=True)
    for index, folder in enumerate(folders):
        (scratch / f"{index}_{folder.resolve().name}").symlink_to(folder.resolve(), target_is_directory=True)
    return scratch


def source_of(record_id: str) -> str:
    """The source of a record from its name's prefix (the longest of :data:`SOURCES` that matches)."""
    prefixes = sorted((prefix for prefix in SOURCES if record_id.startswith(prefix)), key=len, reverse=True)
    return SOURCES[prefixes[0]] if prefixes else "other"


def leave_one_source_out(cache, config, scratch: Path, grades, references_only: bool = False):
    """Out-of-source predictions of every classifier, pooled over the held-out sources.

    Returns ``pooled[lead_set][classifier]`` (scores of all out-of-source predictions together) and
    ``per_source[lead_set][classifier][source]`` (each source's own scores).
    """
    from ecgcrnn.training.loop import split_records

    usable = cache.usable
    sources = np.array([source_of(cache.record_ids[i]) for i in usable])
    classifiers = [c for c in CLASSIFIERS if not (references_only and c == "CRNN")]
    classifiers += [ONE_SPLIT] if config.threshold_folds and not references_only else []
    shape = (len(cache.record_ids), len(default_class_table()))
    outputs = {
        s: {c: (np.zeros(shape, bool), np.zeros(shape)) for c in classifiers} for s in config.lead_sets
    }
    per_source = {s: {c: {} for c in classifiers} for s in config.lead_sets}
    for held_out in sorted(set(sources)):
        test_records = usable[sources == held_out]
        train_records, validation_records = split_records(cache.labels, usable[sources != held_out], config)
        split = (train_records, validation_records, test_records)
        labels = cache.labels[test_records] > 0
        for lead_set in config.lead_sets:
            results = {
                "always normal": always_normal(len(test_records)),
                "logistic regression": logistic_regression(cache, lead_set, split, config.seed),
                "criteria": criteria_classifier(grades[lead_set][test_records]),
            }
            if not references_only:
                checkpoint = scratch / f"source_{held_out.replace('/', '_')}" / lead_set
                results.update(crnn_results(cache, lead_set, split, config, checkpoint))
            for classifier, (binary, scalar) in results.items():
                outputs[lead_set][classifier][0][test_records] = binary
                outputs[lead_set][classifier][1][test_records] = scalar
                per_source[lead_set][classifier][held_out] = compute_scores(labels, binary, scalar)
        print(f"held out {held_out}: {len(test_records)} records", flush=True)
    labels = cache.labels[usable] > 0
    pooled = {
        lead_set: {c: compute_scores(labels, b[usable], v[usable]) for c, (b, v) in by_classifier.items()}
        for lead_set, by_classifier in outputs.items()
    }
    return pooled, per_source


def print_sources(pooled, per_source, args, records: int, seconds: float) -> None:
    """The pooled out-of-source scores, then each source's Challenge metric."""
    crnn = "references only"
    if not args.references_only:
        crnn = (
            f"CRNN {args.epochs} epochs at most (patience {args.patience}), "
            f"{args.threshold_folds} threshold folds"
        )
    print(
        f"\n{records} records, leave one source out, out-of-source predictions pooled; {crnn}; "
        f"seed {args.seed}; {os.cpu_count()} CPU cores; {seconds / 60:.1f} minutes"
    )
    print_metrics(pooled, lambda result, metric: f"{getattr(result, metric):>18.3f}")
    sources = sorted(next(iter(next(iter(per_source.values())).values())))
    print("\nChallenge metric of each held-out source")
    print(f"{'lead set':<8} {'classifier':<20}" + "".join(f"{source[:14]:>16}" for source in sources))
    for lead_set, by_classifier in per_source.items():
        for classifier, by_source in by_classifier.items():
            cells = "".join(f"{by_source[source].challenge_metric:>16.3f}" for source in sources)
            print(f"{lead_set:<8} {classifier:<20}{cells}")


def cross_validate(cache, config, folds: int, scratch: Path, masked: bool = False, grades=None) -> dict:
    """scores[lead_set][classifier][metric] = list over folds; ``grades`` are :func:`criteria_grades`'
    (the criteria classifier is left out without them)."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

    from ecgcrnn.training.loop import split_records

    usable = cache.usable
    splitter = MultilabelStratifiedKFold(n_splits=folds, shuffle=True, random_state=config.seed)
    classifiers = tuple(c for c in CLASSIFIERS if grades is not None or c != "criteria")
    classifiers += (MASKED,) if masked else ()
    classifiers += (ONE_SPLIT,) if config.threshold_folds else ()
    scores = {s: {c: {m: [] for m in METRICS} for c in classifiers} for s in config.lead_sets}
    for fold, (learn, test) in enumerate(splitter.split(np.zeros(len(usable)), cache.labels[usable])):
        train_records, validation_records = split_records(cache.labels, usable[learn], config)
        test_records = usable[test]
        split = (train_records, validation_records, test_records)
        if masked:
            masked_results = masked_crnn(cache, split, config, scratch / f"fold{fold}" / "masked")
        for lead_set in config.lead_sets:
            results = {
                **crnn_results(cache, lead_set, split, config, scratch / f"fold{fold}" / lead_set),
                "always normal": always_normal(len(test_records)),
                "logistic regression": logistic_regression(cache, lead_set, split, config.seed),
            }
            if grades is not None:
                results["criteria"] = criteria_classifier(grades[lead_set][test_records])
            if masked:
                results[MASKED] = masked_results[lead_set]
            labels = cache.labels[test_records] > 0
            for classifier, (binary, scalar) in results.items():
                result = compute_scores(labels, binary, scalar)
                for metric in METRICS:
                    scores[lead_set][classifier][metric].append(getattr(result, metric))
            crnn_metric = scores[lead_set]["CRNN"]["challenge_metric"][-1]
            print(f"fold {fold + 1}/{folds} {lead_set}: CRNN challenge metric {crnn_metric:.3f}", flush=True)
    return scores


def crnn_results(cache, lead_set, split, config, checkpoint: Path) -> dict:
    """The CRNN's binary and scalar outputs on the split's test records, trained as train_model.py trains
    (:func:`ecgcrnn.training.loop.fit_with_thresholds` on the split's training and validation records
    together); with threshold folds, also :data:`ONE_SPLIT`: the first fold's network with the thresholds
    tuned on its own held-out fold (the earlier rule, one network with thresholds from one validation
    share, here a share of 1 / ``threshold_folds``), at no extra training."""
    import keras

    from ecgcrnn.data.batches import WindowBatches
    from ecgcrnn.training.loop import (
        CRITERIA,
        FOLD_NETWORK,
        criteria_record_probabilities,
        fit_with_thresholds,
        predict_records,
    )

    train_records, validation_records, test_records = split
    learn = np.sort(np.concatenate([train_records, validation_records]))
    fitted = fit_with_thresholds(cache, lead_set, learn, config, PipelineSettings(), checkpoint)
    batches = WindowBatches(cache, lead_set, test_records, config.batch_size, config.seed, training=False)
    probabilities = predict_records(fitted.network, batches)
    by_criteria = np.array([rule == CRITERIA for rule in fitted.decided_by])
    if by_criteria.any():
        start = criteria_record_probabilities(cache, lead_set, test_records, fitted.prevalence)
        probabilities[:, by_criteria] = start[:, by_criteria]
    results = {"CRNN": (apply_thresholds(probabilities, fitted.thresholds), probabilities)}
    if config.threshold_folds:
        fold = checkpoint / "fold1"
        network = keras.saving.load_model(fold / FOLD_NETWORK, compile=False, safe_mode=True)
        one = predict_records(network, batches)
        results[ONE_SPLIT] = apply_thresholds(one, np.load(fold / "out_of_fold.npz")["thresholds"]), one
    return results


def masked_crnn(cache, split, config, checkpoint: Path) -> dict:
    """One twelve-lead network trained with random lead masking; binary and scalar outputs per lead set."""
    from ecgcrnn.training.loop import fit_lead_set, predict_records

    train_records, validation_records, test_records = split
    fitted = fit_lead_set(
        cache,
        "twelve",
        train_records,
        validation_records,
        config,
        PipelineSettings(),
        checkpoint,
        batches=MaskedLeadBatches,
    )
    table = default_class_table()
    labels = cache.labels[validation_records] > 0
    results = {}
    for lead_set in config.lead_sets:

        def served(records, lead_set=lead_set):
            return MaskedLeadBatches(
                cache, "twelve", records, config.batch_size, config.seed, False, serve=lead_set
            )

        validation = predict_records(fitted.network, served(validation_records))
        thresholds = choose_thresholds(labels, validation, table.weights, table.normal_index)
        probabilities = predict_records(fitted.network, served(test_records))
        results[lead_set] = apply_thresholds(probabilities, thresholds), probabilities
    return results


class MaskedLeadBatches(WindowBatches):
    """Twelve-lead batches in which only one lead set's leads are present: the other leads' signals are
    zero and their features are imputed (the features' defaults) with mask 0; the record features are the
    lead set's own. The lead set is ``serve``, or, where that is None, drawn at random for each batch (per
    epoch in training, fixed for evaluation)."""

    def __init__(self, cache, lead_set, records, batch_size, seed, training, serve=None, **augmentation):
        super().__init__(cache, "twelve", records, batch_size, seed, training, **augmentation)
        self.serve = serve
        imputed = PipelineSettings().features  # the settings the cache was built with
        self.names = {"beat_values": beat_feature_names, "record_values": record_feature_names}
        self.defaults = {name: _imputed(names(STANDARD_LEADS), imputed) for name, names in self.names.items()}

    def __getitem__(self, index: int):
        inputs, labels = super().__getitem__(index)
        if self.serve:
            lead_set = self.serve
        else:
            key = [self.seed, self.epoch, index] if self.training else [self.seed, index]
            lead_set = list(LEAD_SETS)[np.random.default_rng(key).integers(len(LEAD_SETS))]
        if lead_set == "twelve":
            return inputs, labels
        present = [STANDARD_LEADS.index(lead) for lead in LEAD_SETS[lead_set]]
        absent = [i for i in range(len(STANDARD_LEADS)) if i not in present]
        if "signal" in inputs:
            inputs["signal"][:, :, absent] = 0
        rows = self.windows[index * self.batch_size : (index + 1) * self.batch_size]
        order = np.argsort(rows, kind="stable")
        own = self.cache.features(lead_set)
        for name, names in self.names.items():
            position = {column: i for i, column in enumerate(names(STANDARD_LEADS))}
            columns = [position[column] for column in names(LEAD_SETS[lead_set])]
            mask_name = name.replace("values", "mask")
            values = np.broadcast_to(self.defaults[name], inputs[name].shape).copy()
            mask = np.zeros_like(inputs[mask_name])
            values[..., columns] = np.asarray(own[name][rows[order]], np.float32)[np.argsort(order)]
            mask[..., columns] = np.asarray(own[mask_name][rows[order]], np.float32)[np.argsort(order)]
            inputs[name], inputs[mask_name] = values, mask
        return inputs, labels


def _imputed(columns, config) -> np.ndarray:
    """The imputed value of each feature column (``I:PR``, ``I:median_PR``, ``heart_rate`` ...)."""
    return np.array(
        config.imputed_values([c.split(":")[-1].removeprefix("median_") for c in columns]), np.float32
    )


def always_normal(count: int):
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
    import json

    from joblib import Parallel, delayed
    from tqdm import tqdm

    from ecgcrnn.io.records import find_challenge_files

    header_files, recording_files = find_challenge_files(data_directory, required=True)
    meta = json.loads((cache.directory / "meta.json").read_text())
    if [str(f) for f in header_files] != [str(f) for f in meta["header_files"]]:
        raise ValueError(f"{cache.directory}: the cache's records are not those of {data_directory}")
    settings = PipelineSettings.from_dict(meta["settings"])
    usable = cache.usable
    tasks = (
        delayed(_record_grades)(header_files[i], recording_files[i], lead_sets, settings) for i in usable
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
    from ecgcrnn.features.criteria import criteria_scores
    from ecgcrnn.io.records import get_age, get_sex, load_header, load_recording, parse_header
    from ecgcrnn.pipeline import prepare_record

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
    from ecgcrnn.features.criteria import criteria_decisions

    names = default_class_table().names
    scalar = np.nan_to_num(np.asarray(grades, dtype=float), nan=0.0)
    binary = np.zeros(scalar.shape, bool)
    for row, values in enumerate(grades):
        stated = criteria_decisions(dict(zip(names, values, strict=True)))
        binary[row] = [name in stated for name in names]
    return binary, scalar


def logistic_regression(cache, lead_set, split, seed: int):
    """One logistic regression per class on standardised record-level features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

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


def print_table(scores: dict, args, records: int) -> None:
    print(
        f"\n{records} records, {args.folds}-fold multilabel-stratified cross-validation, "
        f"CRNN {args.epochs} epochs at most (patience {args.patience}, batch {args.batch_size}, "
        f"{args.threshold_folds} threshold folds), "
        f"learning rate {args.learning_rate:g}, loss {args.loss}, dropout {args.dropout:g}, "
        f"validation fraction {args.validation_fraction:g}, seed {args.seed}, "
        f"{os.cpu_count()} CPU cores"
    )
    print_metrics(
        scores, lambda by_metric, m: f"{np.nanmean(by_metric[m]):>11.3f} ± {np.nanstd(by_metric[m]):.3f}"
    )


def print_metrics(table: dict, cell) -> None:
    """One row per lead set and classifier of ``table[lead_set][classifier]``, a ``cell(entry, metric)`` per
    metric of :data:`METRICS`."""
    print(f"{'lead set':<8} {'classifier':<20}" + "".join(f"{m:>18}" for m in METRICS))
    for lead_set, by_classifier in table.items():
        for classifier, entry in by_classifier.items():
            print(f"{lead_set:<8} {classifier:<20}" + "".join(cell(entry, m) for m in METRICS))


if __name__ == "__main__":
    main()
