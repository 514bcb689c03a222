"""The lead-masked network: one twelve-lead network that serves every lead set, the alternative to one
network per lead set that ``bench/quality/classification.py --masked`` measures (and the README weighs).

It is trained with the leads of a lead set drawn at random for each batch (:class:`MaskedLeadBatches`: the
other leads' signals zeroed, their features imputed and masked, the record features those of the lead set),
and its thresholds are chosen per lead set on the validation records served with that lead set's leads only.
Development only: the entry trains one network per lead set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ecgcrnn.data.batches import WindowBatches
from ecgcrnn.domain import LEAD_SETS, STANDARD_LEADS, default_class_table
from ecgcrnn.features.beats import beat_feature_names, record_feature_names
from ecgcrnn.training.thresholds import apply_thresholds, choose_thresholds


def masked_crnn(cache, split, config, checkpoint: Path) -> dict:
    """One twelve-lead network trained with random lead masking; binary and scalar outputs per lead set."""
    from ecgcrnn.training.loop import fit_lead_set, predict_records

    train_records, validation_records, test_records = split
    fitted = fit_lead_set(
        cache, "twelve", train_records, validation_records, config, checkpoint, batches=MaskedLeadBatches
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
        imputed = cache.settings.features  # the settings the cache was built with
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
