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

from devtools.environment import one_folder, print_machine_line
from ecgcrnn.data.cache import build_cache
from ecgcrnn.data.sources import CHALLENGE_SOURCES, LUDB, OTHER, sources_of
from ecgcrnn.domain import LEAD_SETS, default_class_table
from ecgcrnn.model.settings import NetworkConfig
from ecgcrnn.scoring.metrics import compute_challenge_metric, compute_scores
from ecgcrnn.training.settings import TrainingConfig, config_from_dict
from ecgcrnn.training.thresholds import allowed_calls, apply_thresholds, choose_thresholds, share_limits

log = logging.getLogger("quality")

METRICS = ("challenge_metric", "auroc", "auprc", "f_measure")
CLASSIFIERS = ("CRNN", "always normal", "logistic regression", "criteria")
CRNN = "CRNN"
ONE_SPLIT = "CRNN, one split"
MASKED = "CRNN, one masked net"
SOURCE_ORDER = (*CHALLENGE_SOURCES, LUDB, OTHER)
"""The order in which sources are listed."""
FIGURES = ("mean over sources", "mean over Challenge sources", "pooled")
"""The three Challenge metrics of the sources protocol's main table, the main one first."""
STORM_RATIO = 2.0
"""A class called on more than this multiple of its largest labelled share in a training source storms."""
CHANCE = 0.95
"""The binomial quantile beyond which a storm's false calls are more than its source's size explains."""
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
    print_table(scores, args, len(scored), len(always), configs)


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
            results["always normal"] = always_normal(len(test_records))
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


def measure(labels, binary, scalar, sources, largest) -> dict:
    """One classifier's out-of-source outputs measured.

    Parameters
    ----------
    labels, binary : numpy.ndarray of bool, shape (N, C)
        The usable records' labels and the classifier's calls.
    scalar : numpy.ndarray of float, shape (N, C)
        Its scalar outputs.
    sources : numpy.ndarray of str, shape (N,)
        Each record's source.
    largest : dict of str to numpy.ndarray
        Per held-out source, each class's largest labelled share in a training source, shape (C,).

    Returns
    -------
    dict
        ``sources[source]`` (:func:`source_measures`, in ``largest``'s order), ``pooled`` (every metric of
        :data:`METRICS` on all records together), ``mean_over_sources`` and ``mean_over_challenge_sources``
        (the mean of the sources' Challenge metrics, of all and of :data:`CHALLENGE_SOURCES`' only; NaN
        where there are none).
    """
    pooled = compute_scores(labels, binary, scalar)
    by_source = {
        source: source_measures(labels[sources == source], binary[sources == source], share)
        for source, share in largest.items()
    }
    metrics = {source: measured["challenge_metric"] for source, measured in by_source.items()}
    challenge = [metric for source, metric in metrics.items() if source in CHALLENGE_SOURCES]
    return {
        "mean_over_sources": float(np.mean(list(metrics.values()))),
        "mean_over_challenge_sources": float(np.mean(challenge)) if challenge else float("nan"),
        "pooled": {metric: float(getattr(pooled, metric)) for metric in METRICS},
        "sources": by_source,
    }


def source_measures(labels, binary, largest) -> dict:
    """One held-out source's Challenge metric and, per class (C lists), its ``calls``, ``true`` calls and
    ``labelled`` records; ``storms`` names the classes called on a larger share of the records than
    :data:`STORM_RATIO` times ``largest``, the class's largest labelled share in a training source (C,);
    ``false_storms`` those whose false calls alone exceed that share (a storm of true calls is a source
    where the class is common, not a threshold that fires on everything)."""
    table = default_class_table()
    calls, true, labelled = binary.sum(axis=0), (binary & labels).sum(axis=0), labels.sum(axis=0)
    limit = STORM_RATIO * np.asarray(largest)
    storms, false_storms = calls / len(labels) > limit, (calls - true) / len(labels) > limit
    return {
        "records": len(labels),
        "challenge_metric": compute_challenge_metric(table.weights, labels, binary, table.normal_index),
        "calls": calls.tolist(),
        "true": true.tolist(),
        "labelled": labelled.tolist(),
        "storms": _named(table.abbreviations, storms),
        "false_storms": _named(table.abbreviations, false_storms),
    }


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


def variant_fields(configs) -> dict:
    """Per variant row of ``configs`` (all but :data:`CRNN`), its settings that differ from the base row's."""
    base = configs[CRNN].to_json()
    return {
        row: {name: value for name, value in config.to_json().items() if value != base[name]}
        for row, config in configs.items()
        if row != CRNN
    }


def print_variants(variants: dict) -> None:
    """A line per variant row: its name, then the settings it overrides."""
    for row, fields in variants.items():
        print(f"{row}: " + (", ".join(f"{k}={json.dumps(v)}" for k, v in fields.items()) or "as CRNN"))


def print_sources(report: dict) -> None:
    """The sources protocol's tables (see the module docstring) from :func:`leave_one_source_out`'s report
    and :func:`run_settings`' ``settings``."""
    settings, seeds = report["settings"], list(report["seeds"])
    crnn = "references only" if settings["references_only"] else _crnn_settings(settings["config"])
    print(
        f"\n{sum(report['records'].values())} records, leave one source out; {crnn}; "
        f"seeds {', '.join(seeds)}; {settings['cpu_count']} CPU cores; {settings['minutes']:.1f} minutes"
    )
    print("records per source: " + ", ".join(f"{source} {n}" for source, n in report["records"].items()))
    print_variants(settings["variants"])
    rows = [
        (lead_set, c) for lead_set, by_classifier in report["seeds"][seeds[0]].items() for c in by_classifier
    ]
    width = max(20, *(len(classifier) + 1 for _, classifier in rows))
    print_figure_table(report, rows, width)
    print_seed_table(report, rows, width)
    print_source_table(report, rows, width)
    print_pooled_table(report, rows, width)
    print_calls(report, width)


def print_figure_table(report: dict, rows, width: int) -> None:
    """The main table: per lead set and classifier, the Challenge metric's mean over the held-out sources, its
    mean over the Challenge's sources and the pooled metric, each as mean ± SD over the seeds."""
    labels = ("mean over sources", "mean, Challenge sources", "pooled")
    print(f"\nChallenge metric out of source, mean ± SD over {len(report['seeds'])} seed(s)")
    print(f"{'lead set':<8} {'classifier':<{width}}" + "".join(f"{label:>26}" for label in labels))
    for lead_set, classifier in rows:
        entries = _entries(report, lead_set, classifier)
        figures = (
            [entry["mean_over_sources"] for entry in entries],
            [entry["mean_over_challenge_sources"] for entry in entries],
            [entry["pooled"]["challenge_metric"] for entry in entries],
        )
        print(f"{lead_set:<8} {classifier:<{width}}" + "".join(f"{_mean_sd(f):>26}" for f in figures))


def print_seed_table(report: dict, rows, width: int) -> None:
    """Each seed's mean over sources of the rows a seed changes: the CRNN rows and the logistic regression."""
    seeds = list(report["seeds"])
    print("\nMean over sources of the Challenge metric, per seed")
    print(f"{'lead set':<8} {'classifier':<{width}}" + "".join(f"{seed:>10}" for seed in seeds))
    for lead_set, classifier in rows:
        if classifier.startswith(CRNN) or classifier == "logistic regression":
            values = (entry["mean_over_sources"] for entry in _entries(report, lead_set, classifier))
            print(f"{lead_set:<8} {classifier:<{width}}" + "".join(f"{value:>10.3f}" for value in values))


def print_source_table(report: dict, rows, width: int) -> None:
    """Each held-out source's Challenge metric, mean over the seeds."""
    sources = list(report["records"])
    print(f"\nChallenge metric of each held-out source, mean over {len(report['seeds'])} seed(s)")
    print(f"{'lead set':<8} {'classifier':<{width}}" + "".join(f"{source[:14]:>16}" for source in sources))
    for lead_set, classifier in rows:
        entries = _entries(report, lead_set, classifier)
        values = (
            np.mean([entry["sources"][source]["challenge_metric"] for entry in entries]) for source in sources
        )
        print(f"{lead_set:<8} {classifier:<{width}}" + "".join(f"{value:>16.3f}" for value in values))


def print_pooled_table(report: dict, rows, width: int) -> None:
    """The pooled out-of-source :data:`METRICS`, mean ± SD over the seeds."""
    print(f"\nPooled out-of-source scores, mean ± SD over {len(report['seeds'])} seed(s)")
    print(f"{'lead set':<8} {'classifier':<{width}}" + "".join(f"{metric:>18}" for metric in METRICS))
    for lead_set, classifier in rows:
        entries = _entries(report, lead_set, classifier)
        cells = (_mean_sd([entry["pooled"][metric] for entry in entries]) for metric in METRICS)
        print(f"{lead_set:<8} {classifier:<{width}}" + "".join(f"{cell:>18}" for cell in cells))


def print_calls(report: dict, width: int) -> None:
    """Per seed, lead set, CRNN row (the criteria once, the same for every seed) and held-out source, the
    classes called or labelled there, ``calls/true calls/labelled``, ``!`` after a storm; then the storms'
    count per lead set and classifier (every classifier), one column per seed."""
    seeds, classes = list(report["seeds"]), report["classes"]
    print(
        f"\nCalls on each held-out source, per class: calls/true calls/labelled; ! a storm (called on more "
        f"than {STORM_RATIO:g} times the largest share of records any training source labels with it)"
    )
    for seed, by_lead_set in report["seeds"].items():
        for lead_set, by_classifier in by_lead_set.items():
            for classifier, entry in by_classifier.items():
                if classifier.startswith(CRNN) or (classifier == "criteria" and seed == seeds[0]):
                    label = "any seed" if classifier == "criteria" else f"seed {seed}"
                    for source, measured in entry["sources"].items():
                        head = f"{label:<10} {lead_set:<8} {classifier:<{width}} {source[:16]:<17}"
                        print(head + _class_calls(measured, classes))
    print(
        "\nStorms (classes summed over the held-out sources), per seed: all storms / storms of false calls "
        f"/ false calls beyond chance (more than the {CHANCE:g} quantile of Binomial(records, "
        f"{STORM_RATIO:g} x largest share))"
    )
    print(f"{'lead set':<8} {'classifier':<{width}}" + "".join(f"{seed:>12}" for seed in seeds))
    largest = report["largest_training_share"]
    for lead_set, by_classifier in report["seeds"][seeds[0]].items():
        for classifier in by_classifier:
            counts = [
                f"{_storm_count(entry, 'storms')}/{_storm_count(entry, 'false_storms')}/"
                f"{_chance_storm_count(entry, largest)}"
                for entry in _entries(report, lead_set, classifier)
            ]
            print(f"{lead_set:<8} {classifier:<{width}}" + "".join(f"{count:>12}" for count in counts))


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
                    by_metric = scores[lead_set].setdefault(classifier, {m: [] for m in METRICS})
                    by_metric[metric].append(getattr(result, metric))
            crnn_metrics = ", ".join(
                f"{row} {scores[lead_set][row]['challenge_metric'][-1]:.3f}" for row in configs
            )
            print(f"fold {fold + 1}/{folds} {lead_set}: challenge metric {crnn_metrics}", flush=True)
    return scores


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


def print_table(scores: dict, args, scored: int, always: int, configs) -> None:
    """The k-fold protocol's table (``scored`` records in the folds, ``always`` more in every fold's
    training): every metric as mean ± SD over the folds; with variants, each CRNN row's Challenge metric
    minus the base row's, fold by fold (paired: the folds are the same)."""
    learning = f" (and {args.always_train}'s {always} in every fold's training)" if always else ""
    print(
        f"\n{scored} records{learning}, {args.folds}-fold multilabel-stratified cross-validation, "
        f"CRNN {args.epochs} epochs at most (patience {args.patience}, batch {args.batch_size}, "
        f"{args.threshold_folds} threshold folds), "
        f"learning rate {args.learning_rate:g}, loss {args.loss}, dropout {args.dropout:g}, "
        f"validation fraction {args.validation_fraction:g}, seed {args.seed}, "
        f"{os.cpu_count()} CPU cores"
    )
    print_variants(variant_fields(configs))
    print_metrics(
        scores, lambda by_metric, m: f"{np.nanmean(by_metric[m]):>11.3f} ± {np.nanstd(by_metric[m]):.3f}"
    )
    if len(configs) > 1:
        print("\nChallenge metric minus the CRNN's, same folds: mean ± SD over folds (each fold's)")
        for lead_set, by_classifier in scores.items():
            base_metric = np.array(by_classifier[CRNN]["challenge_metric"])
            for row in list(configs)[1:]:
                difference = np.array(by_classifier[row]["challenge_metric"]) - base_metric
                each = " ".join(f"{value:+.3f}" for value in difference)
                print(f"{lead_set:<8} {row:<28} {_mean_sd(difference):>16}   ({each})")


def print_metrics(table: dict, cell) -> None:
    """One row per lead set and classifier of ``table[lead_set][classifier]``, a ``cell(entry, metric)`` per
    metric of :data:`METRICS`."""
    print(f"{'lead set':<8} {'classifier':<20}" + "".join(f"{m:>18}" for m in METRICS))
    for lead_set, by_classifier in table.items():
        for classifier, entry in by_classifier.items():
            print(f"{lead_set:<8} {classifier:<20}" + "".join(cell(entry, m) for m in METRICS))


def _crnn_settings(config: dict) -> str:
    """The CRNN's settings in the sources protocol's header line, from :meth:`TrainingConfig.to_json`."""
    fallback = "on" if config["criteria_fallback"] else "off"
    return (
        f"CRNN {config['epochs']} epochs at most (patience {config['patience_epochs']}, batch "
        f"{config['batch_size']}), {config['threshold_folds']} threshold folds grouped by "
        f"{config['threshold_grouping']}, unknown labels left out: {config['unknown_labels']}, max share "
        f"ratio {config['max_share_ratio']:g} (share confidence "
        f"{config.get('share_confidence', 0):g}), criteria fallback {fallback}"
    )


def _entries(report: dict, lead_set: str, classifier: str) -> list[dict]:
    """A lead set's and classifier's :func:`measure` entries, one per seed."""
    return [by_lead_set[lead_set][classifier] for by_lead_set in report["seeds"].values()]


def _mean_sd(values) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def _class_calls(measured: dict, classes) -> str:
    """``AF 3/2/4!, IAVB 1/1/2``: each class called or labelled, a storm marked ``!``."""
    cells = [
        f"{name} {calls}/{true}/{labelled}" + ("!" if name in measured["storms"] else "")
        for name, calls, true, labelled in zip(
            classes, measured["calls"], measured["true"], measured["labelled"], strict=True
        )
        if calls or labelled
    ]
    return ", ".join(cells) or "nothing called or labelled"


def _named(names, chosen) -> list[str]:
    return [name for name, pick in zip(names, chosen, strict=True) if pick]


def _storm_count(entry: dict, kind: str = "storms") -> int:
    return sum(len(measured.get(kind, ())) for measured in entry["sources"].values())


def _chance_storm_count(entry: dict, largest: dict) -> int:
    """The classes, summed over the held-out sources, whose false calls exceed what a source of that size
    would state by chance at :data:`STORM_RATIO` times the largest training share: the :data:`CHANCE`
    quantile of the binomial (on 9 records a share of 0.1 is 0.9 calls, and 2 false calls are no storm)."""
    count = 0
    for source, measured in entry["sources"].items():
        limit = np.minimum(STORM_RATIO * np.asarray(largest[source]), 1.0)
        false_calls = np.asarray(measured["calls"]) - np.asarray(measured["true"])
        count += int(np.sum(false_calls > allowed_calls(measured["records"], limit, CHANCE)))
    return count


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
