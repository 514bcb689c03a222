"""What the classification bench (bench/quality/classification.py) measures of each classifier's
predictions, and the tables it prints.

Leaving one source out, each held-out source is measured on its own (:func:`measure`): its Challenge metric,
and per class the calls, true calls and labels, with the storms among them (a class called on more than
:data:`STORM_RATIO` times the largest share of records that any training source labels with it). The
tables (:func:`print_sources`) read the report that the bench writes as JSON, so ``--report FILE`` prints
a saved run again. Random folds print one table (:func:`print_table`).
"""

from __future__ import annotations

import json

import numpy as np

from ecgcrnn.data.sources import CHALLENGE_SOURCES
from ecgcrnn.domain import default_class_table
from ecgcrnn.scoring.metrics import compute_challenge_metric, compute_scores
from ecgcrnn.training.thresholds import allowed_calls

METRICS = ("challenge_metric", "auroc", "auprc", "f_measure")
CRNN = "CRNN"
"""The base CRNN row; a variant's row is ``CRNN NAME``."""
ALWAYS_NORMAL = "always normal"
"""The Challenge's inactive classifier, whose metric is 0 by definition."""
STORM_RATIO = 2.0
"""A class called on more than this multiple of its largest labelled share in a training source storms."""
CHANCE = 0.95
"""The binomial quantile beyond which a storm's false calls are more than its source's size explains."""


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


def storm_count(entry: dict, kind: str = "storms") -> int:
    """The classes named under ``kind`` (``storms`` or ``false_storms``), summed over the held-out sources of
    one :func:`measure` entry."""
    return sum(len(measured.get(kind, ())) for measured in entry["sources"].values())


def chance_storm_count(entry: dict, largest: dict) -> int:
    """The classes, summed over the held-out sources, whose false calls exceed what a source of that size
    would state by chance at :data:`STORM_RATIO` times the largest training share: the :data:`CHANCE`
    quantile of the binomial (on 9 records a share of 0.1 is 0.9 calls, and 2 false calls are no storm)."""
    count = 0
    for source, measured in entry["sources"].items():
        limit = np.minimum(STORM_RATIO * np.asarray(largest[source]), 1.0)
        false_calls = np.asarray(measured["calls"]) - np.asarray(measured["true"])
        count += int(np.sum(false_calls > allowed_calls(measured["records"], limit, CHANCE)))
    return count


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
                f"{storm_count(entry, 'storms')}/{storm_count(entry, 'false_storms')}/"
                f"{chance_storm_count(entry, largest)}"
                for entry in _entries(report, lead_set, classifier)
            ]
            print(f"{lead_set:<8} {classifier:<{width}}" + "".join(f"{count:>12}" for count in counts))


def print_table(scores: dict, header: str, configs) -> None:
    """The random folds' table under the line ``header``: every metric as mean ± SD over the folds; then each
    other row's Challenge metric minus the base CRNN's, fold by fold (paired: the folds are the same), the
    variants of ``configs`` first."""
    print(f"\n{header}")
    print_variants(variant_fields(configs))
    print_metrics(
        scores, lambda by_metric, m: f"{np.nanmean(by_metric[m]):>11.3f} ± {np.nanstd(by_metric[m]):.3f}"
    )
    print("\nChallenge metric minus the CRNN's, same folds: mean ± SD over folds (each fold's)")
    for lead_set, by_classifier in scores.items():
        base_metric = np.array(by_classifier[CRNN]["challenge_metric"])
        for row in (row for row in by_classifier if row != CRNN and row != ALWAYS_NORMAL):
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
