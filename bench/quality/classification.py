"""Quality: the CRNN against three references, for every lead set, across random folds or across sources.

Usage: python bench/quality/classification.py DATA_DIR [DATA_DIR ...] [--protocol {kfold,sources}]
           [--folds 5] [--epochs 15] [--patience 5] [--batch-size 32] [--seed 2021]
           [--loss {weighted_bce,focal}] [--dropout D] [--learning-rate R] [--validation-fraction F]
           [--lead-sets twelve two] [--masked] [--references-only] [--threshold-folds 2] [--cache FOLDER]
           [--seeds S [S ...]] [--variant NAME KEY=VALUE [KEY=VALUE ...]] [--json FILE] [--workdir FOLDER]
           [--always-train SOURCE]
       python bench/quality/classification.py --report FILE

The classifiers, each trained on some records and scored on others with the Challenge's metrics:
- the CRNN (ecgcrnn.training.loop.fit_with_thresholds, the same code as train_model.py, quick settings:
  the network starts from the criteria, its thresholds are chosen on out-of-fold predictions of all its
  training records, ``--threshold-folds`` folds (0: the earlier rule, thresholds and early stopping on a
  validation share); with folds, also "CRNN, one split": the first fold's network with the thresholds
  tuned on its own held-out fold, the earlier rule at no extra cost);
- always normal: sinus rhythm for every recording, the Challenge's inactive classifier;
- logistic regression on the record-level features alone (per-record mean over windows, their mask, age
  and sex), one per class, with thresholds tuned on a multilabel-stratified validation share;
- criteria: the published diagnostic criteria (ecgcrnn.features.criteria) graded on each record's global
  measurements in the lead set's leads, the classes a reader of the criteria states predicted
  (ecgcrnn.features.criteria.criteria_decisions: graded 0.5 or more, less those another stated class
  implies; the grade is the probability, NaN counting as 0; no class is added when none is met), the same
  on every fold and seed.
  The measurements come from ecgcrnn.pipeline.prepare_record run on the cache's records with the cache's
  settings, the same calls that made the other classifiers' inputs, combined over each record's windows
  (the cache keeps each window's measurements, not the record's combined ones that are graded here).
The references are devtools.references'; what is measured and printed, devtools.classification_tables'.
Several DATA_DIRs are read as one data set; a ``--cache`` folder is reused by a later run on the same
records with the same settings (for several DATA_DIRs it keeps links to them in its ``records`` folder).

``--protocol kfold`` (the default): the records are split into ``--folds`` multilabel-stratified folds;
each classifier learns from the other folds and is scored on each fold. Prints the Challenge metric,
AUROC, AUPRC and F-measure per lead set as mean ± SD over the folds. With ``--masked`` one more classifier
is trained on each fold: one twelve-lead network that serves every lead set, trained with the leads of a
lead set drawn at random for each batch (the others' signals zeroed, their features imputed and masked,
the record features those the lead set gives), with thresholds chosen per lead set; it is the alternative
to one network per lead set that the README weighs. With ``--always-train SOURCE`` (e.g. LUDB) that source's
records are in every fold's training records and never scored: the other records are split into folds,
as the hidden test holds records of the hospitals trained on while the entry is trained on all of them.

``--protocol sources``: leave one source out, the protocol closest to the Challenge's hidden test (which
holds a hospital that the training data do not, and weighs its sources otherwise). A record's source comes
from its name (ecgcrnn.data.sources.source_of: A CPSC, Q CPSC-Extra, I St Petersburg, S PTB, HR PTB-XL, E
Georgia, JS00001-JS10646 Chapman-Shaoxing, later JS Ningbo, L LUDB, anything else "other"); each source is
held out in turn, every classifier learns from all the others and predicts it. The whole run is repeated for
each of ``--seeds`` (the cache and the criteria grades are made once; the CRNN and the logistic regression's
validation share depend on the seed). ``--variant NAME KEY=VALUE ...`` (repeatable) adds a row "CRNN NAME":
the CRNN trained with those fields of ecgcrnn.training.settings.TrainingConfig overridden (values read as
JSON, else as text), e.g. ``--variant stratified threshold_grouping=stratified --variant nomask
unknown_labels=none``; ``--references-only`` leaves the CRNN rows out (under a minute instead of an hour).
It prints, every figure as mean ± SD (population) over the seeds:
- per lead set and classifier, the Challenge metric three ways: the mean over the held-out sources of each
  source's own metric (every hospital counts the same: the main figure), that mean over the Challenge's
  sources alone (LUDB and "other" left out), and the metric of all out-of-source predictions pooled
  (which the largest source dominates: LUDB is 200 of the 371 records at hand);
- per seed, the mean over sources of the CRNN rows and the logistic regression (the rows a seed changes);
- each held-out source's Challenge metric (mean over the seeds);
- the pooled AUROC, AUPRC and F-measure;
- per seed, lead set, held-out source, and CRNN row or the criteria (once: they do not depend on the
  seed), each class called or labelled on that source as ``calls/true calls/labelled``, with ``!`` after a
  storm: a class called on a larger share of the held-out records than STORM_RATIO (2) times the largest
  share of records that any training source labels with it; then the number of storms per lead set,
  classifier and seed.
``--json FILE`` writes all of it (per seed, lead set, classifier and source: the Challenge metric and each
class's calls, true calls and labels; the pooled scores; the settings) as one JSON file, whose tables
``--report FILE`` prints again.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's root, for devtools

import numpy as np

from devtools.classification_tables import (
    ALWAYS_NORMAL,
    CRNN,
    METRICS,
    STORM_RATIO,
    measure,
    print_sources,
    print_table,
    variant_fields,
)
from devtools.environment import one_folder, print_machine_line
from devtools.references import always_normal, criteria_classifier, criteria_grades, logistic_regression
from ecgcrnn.data.cache import build_cache
from ecgcrnn.data.sources import CHALLENGE_SOURCES, LUDB, OTHER, sources_of
from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.model.settings import NetworkConfig
from ecgcrnn.scoring.metrics import compute_scores
from ecgcrnn.training.settings import TrainingConfig, config_from_dict
from ecgcrnn.training.thresholds import apply_thresholds, share_limits

log = logging.getLogger("quality")

ONE_SPLIT = "CRNN, one split"
MASKED = "CRNN, one masked net"
SOURCE_ORDER = (*CHALLENGE_SOURCES, LUDB, OTHER)
"""The order in which sources are listed."""
RUN_OWN = ("seed", "lead_sets")
"""TrainingConfig fields that ``--seeds`` and ``--lead-sets`` set for every row, never a variant."""

DECISION_FIELDS = ("max_share_ratio", "share_confidence", "criteria_fallback")
"""Settings applied after the fold networks are trained: rows that differ only in these share networks."""


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.report:
        print_sources(json.loads(args.report.read_text()))
        return
    if not args.data_directories:
        parser.error("DATA_DIR is required but with --report")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    log.setLevel(logging.INFO)
    print_machine_line()
    config = config_from_dict(
        {
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "patience_epochs": args.patience,
            "loss": args.loss,
            "network": {"dropout": args.dropout},
            "seed": args.seed,
            "lead_sets": args.lead_sets,
            "learning_rate": args.learning_rate,
            "validation_fraction": args.validation_fraction,
            "threshold_folds": args.threshold_folds,
        }
    )
    configs = crnn_configs(parser, args, config)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        data = one_folder(args.data_directories, Path(scratch, "data"), args.cache)
        lead_sets = list(LEAD_SETS) if args.masked else args.lead_sets
        cache = build_cache(data, args.cache or Path(scratch, "cache"), lead_sets=lead_sets)
        grades = criteria_grades(data, cache, config.lead_sets)
        if args.protocol == "sources":
            seeds = args.seeds or [args.seed]
            work = args.workdir or Path(scratch)
            report = leave_one_source_out(cache, configs, seeds, grades, work, args.references_only)
            report["settings"] = run_settings(args, configs, seeds, time.perf_counter() - started)
            print_sources(report)
            if args.json:
                args.json.write_text(json.dumps(_plain(report), indent=1, allow_nan=False) + "\n")
            return
        work = args.workdir or Path(scratch)
        scored, always = _scored_and_always(cache, args.always_train)
        if args.always_train:  # other splits than plain folds': their networks apart
            work = work / f"always_{_slug(args.always_train)}"
        scores = cross_validate(cache, configs, args.folds, work, args.masked, grades, scored, always)
    print_table(scores, kfold_header(args, len(scored), len(always)), configs)


def build_parser() -> argparse.ArgumentParser:
    """The command line (see the module docstring)."""
    defaults = TrainingConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_directories", nargs="*", type=Path, metavar="DATA_DIR")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--patience", type=int, default=5, help="early stopping: epochs without progress")
    parser.add_argument("--loss", default=defaults.loss, choices=("weighted_bce", "focal"))
    parser.add_argument("--dropout", type=float, default=defaults.network.dropout, help="of the dense layers")
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument(
        "--validation-fraction",
        type=float,
        default=defaults.validation_fraction,
        help="share of each fold's training records held out for early stopping and thresholds",
    )
    parser.add_argument("--lead-sets", nargs="+", default=list(LEAD_SETS), choices=list(LEAD_SETS))
    parser.add_argument("--cache", type=Path, default=None, help="cache folder (default: a temporary one)")
    parser.add_argument("--masked", action="store_true", help="also train one lead-masked network per fold")
    parser.add_argument(
        "--protocol", choices=("kfold", "sources"), default="kfold", help="folds: random or sources"
    )
    parser.add_argument("--references-only", action="store_true", help="sources: leave the CRNN out")
    parser.add_argument(
        "--threshold-folds",
        type=int,
        default=defaults.threshold_folds,
        help="the CRNN's thresholds from out-of-fold predictions of this many folds of its training records",
    )
    parser.add_argument("--seeds", type=int, nargs="+", help="sources: one run per seed (default: --seed)")
    parser.add_argument(
        "--variant",
        action="append",
        nargs="+",
        metavar=("NAME", "KEY=VALUE"),
        help="a row 'CRNN NAME' trained with these TrainingConfig fields overridden (repeatable)",
    )
    parser.add_argument("--json", type=Path, help="sources: write everything measured to this JSON file")
    parser.add_argument("--report", type=Path, help="print the tables of a --json file and stop")
    parser.add_argument(
        "--always-train",
        choices=(*CHALLENGE_SOURCES, LUDB),
        metavar="SOURCE",
        help="kfold: this source's records learn in every fold and are never scored",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep the CRNN's fold networks here (default: a temporary folder); a rerun of the same "
        "code reuses every network already trained under the same training settings",
    )
    return parser


def crnn_configs(parser, args, config: TrainingConfig) -> dict[str, TrainingConfig]:
    """The configuration of each CRNN row: :data:`CRNN` the base one, ``CRNN NAME`` each ``--variant``'s
    (the base one with the variant's fields overridden, values read as JSON, else as text; a field of the
    network, :class:`ecgcrnn.model.settings.NetworkConfig`, by its own name)."""
    if args.protocol != "sources" and (args.seeds or args.json):
        parser.error("--seeds and --json serve --protocol sources")
    if args.protocol == "sources" and args.always_train:
        parser.error("--always-train serves --protocol kfold")
    if args.seeds and len(set(args.seeds)) < len(args.seeds):
        parser.error(f"--seeds {' '.join(map(str, args.seeds))}: each seed once")
    fields = {f.name: f.default for f in dataclasses.fields(TrainingConfig) if f.name != "network"}
    network_fields = {f.name: f.default for f in dataclasses.fields(NetworkConfig)}
    fields |= network_fields
    configs = {CRNN: config}
    for name, *pairs in args.variant or []:
        row = f"{CRNN} {name}"
        if not pairs or row in configs:
            parser.error(f"--variant {name}: expected a new name, then KEY=VALUE at least once")
        overrides = {}
        for pair in pairs:
            key, equals, text = pair.partition("=")
            if not equals or key not in fields or key in RUN_OWN:
                known = ", ".join(field for field in fields if field not in RUN_OWN)
                parser.error(f"--variant {name} {pair}: expected KEY=VALUE, KEY one of {known}")
            overrides[key] = _json_or_text(text)
            if not _fits(overrides[key], fields[key]):
                expected = type(fields[key]).__name__
                parser.error(f"--variant {name} {pair}: {key} takes a {expected}, written as JSON")
        base = config.to_json()
        base["network"] |= {key: overrides.pop(key) for key in list(overrides) if key in network_fields}
        try:
            configs[row] = config_from_dict({**base, **overrides})
        except ValueError as error:
            parser.error(f"--variant {name}: {error}")
    return configs


def leave_one_source_out(cache, configs, seeds, grades, scratch: Path, references_only: bool = False) -> dict:
    """Every classifier's out-of-source predictions, measured, once per seed.

    Parameters
    ----------
    cache : ecgcrnn.data.cache.Cache
        The records; each usable one is predicted with its source (:func:`ecgcrnn.data.sources.source_of`)
        held out.
    configs : dict of str to TrainingConfig
        :func:`crnn_configs`: each CRNN row's settings, :data:`CRNN` the base one, which also gives the lead
        sets and the logistic regression's validation share; every seed replaces their ``seed``.
    seeds : list of int
        One whole leave-one-source-out run per seed.
    grades : dict of str to numpy.ndarray
        :func:`criteria_grades`.
    scratch : Path
        Where the CRNN rows keep their checkpoints (one folder per seed, source, lead set and row).
    references_only : bool, default False
        Leave the CRNN rows out.

    Returns
    -------
    dict
        ``classes`` (the C abbreviations), ``records`` (per source), ``largest_training_share`` (per held-out
        source, each class's largest share of records labelled with it in any other source, C floats) and
        ``seeds[str(seed)][lead_set][classifier]``, :func:`measure`'s entries.
    """
    usable = cache.usable
    sources = sources_of([cache.record_ids[i] for i in usable])
    order = [source for source in SOURCE_ORDER if source in set(sources)]
    if len(order) < 2:
        raise ValueError(f"{cache.directory}: records of {order} only, no source to leave out")
    labels = cache.labels[usable] > 0
    largest = {held: share_limits(labels[sources != held], sources[sources != held], 1.0) for held in order}
    report = {
        "classes": list(default_class_table().abbreviations),
        "records": {source: int(np.sum(sources == source)) for source in order},
        "largest_training_share": {source: largest[source].tolist() for source in order},
        "seeds": {},
    }
    for seed in seeds:
        seeded = {row: dataclasses.replace(config, seed=seed) for row, config in configs.items()}
        outputs = out_of_source_outputs(
            cache, seeded, grades, (sources, order), scratch / f"seed{seed}", references_only
        )
        report["seeds"][str(seed)] = {
            lead_set: {
                classifier: measure(labels, binary[usable], scalar[usable], sources, largest)
                for classifier, (binary, scalar) in by_classifier.items()
            }
            for lead_set, by_classifier in outputs.items()
        }
    return report


def out_of_source_outputs(cache, configs, grades, sources, scratch: Path, references_only: bool) -> dict:
    """``outputs[lead_set][classifier]``: binary and scalar outputs, shape (records of the cache, C), of
    every usable record predicted with its source held out (``sources``: each usable record's source and
    the sources in order); the CRNN rows are ``configs``' (none for references only), then
    :data:`ONE_SPLIT`, always normal, the logistic regression and the criteria."""
    from ecgcrnn.training.decisions import split_records

    (record_sources, order), base, usable = sources, configs[CRNN], cache.usable
    shape = (len(cache.record_ids), len(default_class_table()))
    outputs: dict = {}
    for held_out in order:
        started = time.perf_counter()
        test_records = usable[record_sources == held_out]
        learn = usable[record_sources != held_out]
        split = (*split_records(cache.labels, learn, base), test_records)
        for lead_set in base.lead_sets:
            results = {}
            if not references_only:
                results = crnn_rows(cache, lead_set, split, configs, scratch / _slug(held_out) / lead_set)
            results[ALWAYS_NORMAL] = always_normal(len(test_records))
            results["logistic regression"] = logistic_regression(cache, lead_set, split, base.seed)
            results["criteria"] = criteria_classifier(grades[lead_set][test_records])
            for classifier, (binary, scalar) in results.items():
                empty = (np.zeros(shape, bool), np.zeros(shape))
                held = outputs.setdefault(lead_set, {}).setdefault(classifier, empty)
                held[0][test_records], held[1][test_records] = binary, scalar
        minutes = (time.perf_counter() - started) / 60
        log.info(
            "seed %d, %s held out: %d records, %.1f minutes", base.seed, held_out, len(test_records), minutes
        )
    return outputs


def crnn_rows(cache, lead_set, split, configs, folder: Path) -> dict:
    """Every CRNN row's binary and scalar outputs on the split's test records (:func:`crnn_results`), then
    the base row's :data:`ONE_SPLIT` if it has one. Rows whose settings differ only in how decisions are
    made from the fold networks (:data:`DECISION_FIELDS`) share one checkpoint folder under ``folder``, so
    their networks are trained once."""
    results, one_split = {}, {}
    for row, config in configs.items():
        outputs = crnn_results(cache, lead_set, split, config, folder / training_key(config))
        results[row] = outputs[CRNN]
        if row == CRNN and ONE_SPLIT in outputs:
            one_split[ONE_SPLIT] = outputs[ONE_SPLIT]
    return {**results, **one_split}


def training_key(config: TrainingConfig) -> str:
    """A name for the settings that shape one lead set's fold networks: all but :data:`DECISION_FIELDS`
    and the lead sets the run covers, which do not shape them (a run of some lead sets finds the networks
    of a run of all five). The key is written as it was before these were set apart, so that networks
    trained then are found: the network's settings by their own names, the lead sets all five."""
    settings = config.to_json()
    settings |= settings.pop("network")
    settings["lead_sets"] = list(LEAD_SETS)
    shaping = {k: v for k, v in settings.items() if k not in DECISION_FIELDS}
    return "networks_" + hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:12]


def run_settings(args, configs, seeds, seconds: float) -> dict:
    """What a sources run was asked for: the data, lead sets, seeds, the base CRNN configuration and each
    variant's fields that differ from it, the CPU cores and the minutes taken."""
    variants = {} if args.references_only else variant_fields(configs)
    return {
        "protocol": "sources",
        "data_directories": [str(folder) for folder in args.data_directories],
        "lead_sets": list(args.lead_sets),
        "seeds": list(seeds),
        "references_only": args.references_only,
        "storm_ratio": STORM_RATIO,
        "config": configs[CRNN].to_json(),
        "variants": variants,
        "cpu_count": os.cpu_count(),
        "minutes": seconds / 60,
    }


def cross_validate(
    cache, configs, folds: int, scratch: Path, masked: bool, grades, scored: np.ndarray, always: np.ndarray
) -> dict:
    """scores[lead_set][classifier][metric] = list over folds: every CRNN row of ``configs``
    (:func:`crnn_rows`, :data:`CRNN` the base one, which also gives the folds' seed and lead sets), then the
    references; ``grades`` are :func:`criteria_grades`' (the criteria classifier is left out without them).
    The records ``scored`` are split into the folds; the records ``always`` learn in every fold and are never
    scored (:func:`_scored_and_always`)."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

    from ecgcrnn.training.decisions import split_records

    config = configs[CRNN]
    splitter = MultilabelStratifiedKFold(n_splits=folds, shuffle=True, random_state=config.seed)
    scores: dict = {lead_set: {} for lead_set in config.lead_sets}
    for fold, (learn, test) in enumerate(splitter.split(np.zeros(len(scored)), cache.labels[scored])):
        learn_records = np.sort(np.concatenate([scored[learn], always]))
        train_records, validation_records = split_records(cache.labels, learn_records, config)
        test_records = scored[test]
        split = (train_records, validation_records, test_records)
        if masked:
            from devtools.masked import masked_crnn

            masked_results = masked_crnn(cache, split, config, scratch / f"fold{fold}" / "masked")
        for lead_set in config.lead_sets:
            results = {
                **crnn_rows(cache, lead_set, split, configs, scratch / f"fold{fold}" / lead_set),
                ALWAYS_NORMAL: always_normal(len(test_records)),
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
                    by_metric = scores[lead_set].setdefault(classifier, {m: [] for m in METRICS})
                    by_metric[metric].append(getattr(result, metric))
            crnn_metrics = ", ".join(
                f"{row} {scores[lead_set][row]['challenge_metric'][-1]:.3f}" for row in configs
            )
            print(f"fold {fold + 1}/{folds} {lead_set}: challenge metric {crnn_metrics}", flush=True)
    return scores


def kfold_header(args, scored: int, always: int) -> str:
    """The random folds' table's first line: ``scored`` records in the folds, ``always`` more in every fold's
    training, and the settings."""
    learning = f" (and {args.always_train}'s {always} in every fold's training)" if always else ""
    return (
        f"{scored} records{learning}, {args.folds}-fold multilabel-stratified cross-validation, "
        f"CRNN {args.epochs} epochs at most (patience {args.patience}, batch {args.batch_size}, "
        f"{args.threshold_folds} threshold folds), "
        f"learning rate {args.learning_rate:g}, loss {args.loss}, dropout {args.dropout:g}, "
        f"validation fraction {args.validation_fraction:g}, seed {args.seed}, "
        f"{os.cpu_count()} CPU cores"
    )


def _scored_and_always(cache, always_train) -> tuple[np.ndarray, np.ndarray]:
    """The usable records scored in the folds, and those of the source ``always_train`` (none when None)."""
    usable = cache.usable
    always = np.zeros(len(usable), bool)
    if always_train:
        always = sources_of(cache.record_ids)[usable] == always_train
        if not always.any() or always.all():
            raise SystemExit(f"--always-train {always_train}: expected some, not all, of the records from it")
    return usable[~always], usable[always]


def crnn_results(cache, lead_set, split, config, checkpoint: Path) -> dict:
    """The CRNN's binary and scalar outputs on the split's test records, trained as train_model.py trains
    (:func:`ecgcrnn.training.loop.fit_with_thresholds` on the split's training and validation records
    together); with threshold folds, also :data:`ONE_SPLIT`: the first fold's network with the thresholds
    tuned on its own held-out fold (the earlier rule, one network with thresholds from one validation
    share, here a share of 1 / ``threshold_folds``), at no extra training."""
    import keras

    from ecgcrnn.data.batches import WindowBatches
    from ecgcrnn.model.lead_set import decide
    from ecgcrnn.training.loop import (
        FOLD_NETWORK,
        criteria_record_probabilities,
        fit_with_thresholds,
        predict_records,
    )

    train_records, validation_records, test_records = split
    learn = np.sort(np.concatenate([train_records, validation_records]))
    model = fit_with_thresholds(cache, lead_set, learn, config, checkpoint).model
    batches = WindowBatches(cache, lead_set, test_records, config.batch_size, config.seed, training=False)
    network = predict_records(model.network, batches)
    criteria = criteria_record_probabilities(cache, lead_set, test_records, model.prevalence)
    probabilities = decide(network, criteria, model.by_criteria)
    results = {"CRNN": (apply_thresholds(probabilities, model.thresholds), probabilities)}
    if config.threshold_folds:
        fold = checkpoint / "fold1"
        network = keras.saving.load_model(fold / FOLD_NETWORK, compile=False, safe_mode=True)
        one = predict_records(network, batches)
        results[ONE_SPLIT] = apply_thresholds(one, np.load(fold / "out_of_fold.npz")["thresholds"]), one
    return results


def _json_or_text(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _fits(value, default) -> bool:
    """Whether a value read from the command line may stand for a TrainingConfig field of this default."""
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, tuple):
        return isinstance(value, list)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def _slug(name: str) -> str:
    """A folder name for a source or a row (``St Petersburg`` -> ``St_Petersburg``)."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", name).strip("_")


def _plain(value):
    """``value`` with numpy numbers as Python's, tuples as lists and NaN as None, ready for strict JSON."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


if __name__ == "__main__":
    main()
