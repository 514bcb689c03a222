"""One recording predicted with one lead set's model, as the Challenge's ``run_model`` does.

The model is a :class:`ecgcrnn.model.lead_set.LeadSetModel` (what ``load_model`` gives): the recording goes
through :attr:`~ecgcrnn.model.lead_set.LeadSetModel.prepare` (the pipeline with the model's leads and
settings) and :meth:`~ecgcrnn.model.lead_set.LeadSetModel.finish` (the network on every window, the mean,
the classes left to their criteria, the thresholds, and no diagnosis for a recording of noise alone or with
nothing measurable).
"""

from __future__ import annotations

import numpy as np

from ecgcrnn.model.lead_set import LeadSetModel


def run_model(model: LeadSetModel, header, recording) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Classes, 0/1 labels and probabilities for one recording (leads in file order, ADC units).

    The recording goes through :func:`ecgcrnn.pipeline.prepare_record` with the model's leads and the
    settings it was trained with; a recording longer than one window is scored over all the windows that
    cover it and their probabilities averaged; a shorter one is zero-padded.
    """
    return model.finish(model.prepare(header, recording), record_name(header))


def record_name(header) -> str:
    """The record's name, the first word of the header's text (or a parsed header's), for the log."""
    if hasattr(header, "record_name"):
        return header.record_name
    words = str(header).split(maxsplit=1)
    return words[0] if words else "a recording"
