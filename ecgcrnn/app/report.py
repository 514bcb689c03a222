"""One ECG read as an interpretive electrocardiograph reads it: the measurements, the criteria met as a
clinician writes them, and a trained model's classes beside them.

:func:`read_ecg` runs the pipeline once (:func:`ecgcrnn.pipeline.prepare_record`), combines the windows'
measurements into the recording's (:func:`ecgcrnn.features.measurements.combine_windows`), states the
criteria they meet (:func:`ecgcrnn.features.criteria.criteria_statements`) and, given a model, adds the
classes it predicts from the same prepared record. :func:`report_text` and :meth:`Reading.to_json` give it
to a reader and to other tools; :func:`panel_lines` is what the ECG viewer prints above the traces. A
recording of noise alone is read as :data:`~ecgcrnn.features.measurements.NO_ECG`, with no diagnosis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ecgcrnn.domain import ABBREVIATIONS
from ecgcrnn.features.criteria import criteria_scores, criteria_statements
from ecgcrnn.features.measurements import MEASUREMENTS, NO_ECG
from ecgcrnn.io.records import as_header, get_age, get_sex
from ecgcrnn.pipeline import PipelineSettings, PreparedRecord, prepare_record

HEADLINE = (
    ("heart_rate_bpm", "rate", "/min", "{:.0f}"),
    ("PR_ms", "PR", " ms", "{:.0f}"),
    ("P_duration_ms", "P", " ms", "{:.0f}"),
    ("QRS_ms", "QRS", " ms", "{:.0f}"),
    ("QT_ms", "QT", " ms", "{:.0f}"),
    ("QTc_Bazett_ms", "QTc (Bazett)", " ms", "{:.0f}"),
    ("QTc_Fridericia_ms", "QTc (Fridericia)", " ms", "{:.0f}"),
    ("P_axis_deg", "P axis", "°", "{:+.0f}"),
    ("QRS_axis_deg", "QRS axis", "°", "{:+.0f}"),
    ("T_axis_deg", "T axis", "°", "{:+.0f}"),
)
"""The measurements a report leads with: (name, label, unit, format)."""
RESCALED = "not read: every lead spans the same range (rescaled, not as recorded); axes approximate"
_UNITS = {name: unit for name, unit, _ in MEASUREMENTS}


@dataclass(frozen=True)
class Reading:
    """The reading of one recording.

    Attributes
    ----------
    record : str
        The record's name.
    leads : tuple of str
        The leads read.
    measurable : bool
        False when the recording was too noisy, flat or short to measure: no numbers are reported then.
    measurements : dict of str to float
        The recording's record-level measurements (:data:`ecgcrnn.features.measurements.MEASUREMENTS`),
        NaN where not measured.
    statements : list of str
        The criteria met, as a clinician writes them, rhythm first; for a recording that cannot be measured
        why not, alone (:data:`~ecgcrnn.features.measurements.NO_ECG` for one of noise alone).
    criteria : dict of str to float
        Every criterion's grade in [0, 1] by class name (NaN where it could not be judged).
    predictions : list of (str, str, float), or None
        Without a model, None; with one, the classes above their thresholds as (class, abbreviation,
        probability), most probable first.
    amplitudes_recorded : bool
        False when every lead was rescaled to one range: no amplitude is read then, and the axes are
        approximate.
    """

    record: str
    leads: tuple[str, ...]
    measurable: bool
    measurements: dict
    statements: list
    criteria: dict
    predictions: list | None = None
    amplitudes_recorded: bool = True

    def to_json(self) -> dict:
        """Plain values (NaN as None), for ``json.dump``."""
        return {
            "record": self.record,
            "leads": list(self.leads),
            "measurable": self.measurable,
            "amplitudes_recorded": self.amplitudes_recorded,
            "measurements": {name: _plain(value) for name, value in self.measurements.items()},
            "units": {name: _UNITS[name] for name in self.measurements},
            "statements": list(self.statements),
            "criteria": {name: _plain(value) for name, value in self.criteria.items()},
            "predictions": None
            if self.predictions is None
            else [
                {"class": c, "abbreviation": a, "probability": round(p, 4)} for c, a, p in self.predictions
            ],
        }


def read_ecg(header, recording: np.ndarray, leads=None, settings=None, model=None) -> Reading:
    """Measure a recording, state the criteria it meets and, given a model, add the model's classes.

    Parameters
    ----------
    header : str or Header
        The record's header (its age and sex choose age- and sex-dependent limits).
    recording : numpy.ndarray
        Shape (header leads, samples), ADC units.
    leads : sequence of str, optional
        The leads to read; the model's when a model is given, else the header's.
    settings : PipelineSettings, optional
        The pipeline's settings; the model's when a model is given, else the defaults.
    model : LeadSetModel, optional
        A model of :meth:`ecgcrnn.model.lead_set.LeadSetModel.load`; run on the same prepared record.
    """
    header = as_header(header)
    if model is not None:
        leads, settings = model.leads, model.settings
    leads = tuple(leads or header.leads)
    prepared = prepare_record(header, recording, leads, settings or PipelineSettings())
    return reading_of(header, leads, prepared, model)


def reading_of(header, leads, prepared: PreparedRecord, model=None) -> Reading:
    """:func:`read_ecg` of a recording already through the pipeline."""
    header = as_header(header)
    combined = prepared.record_measurements()
    age, sex = get_age(header), get_sex(header)
    values = {name: combined[name] for name, *_ in MEASUREMENTS}
    predictions = None
    if model is not None:
        classes, labels, probabilities = model.finish(prepared.inputs)
        chosen = sorted(np.flatnonzero(labels), key=lambda k: -probabilities[k])
        predictions = [(classes[k], ABBREVIATIONS.get(classes[k], classes[k]), float(probabilities[k]))
                       for k in chosen]  # fmt: skip
    return Reading(
        record=header.record_name,
        leads=tuple(leads),
        measurable=combined.measurable,
        measurements=values,
        statements=[NO_ECG] if combined.noise_only else criteria_statements(combined, age, sex),
        criteria=criteria_scores(combined, age, sex),
        predictions=predictions,
        amplitudes_recorded=prepared.amplitudes_recorded,
    )


def panel_lines(reading: Reading) -> list[str]:
    """The measurements line and the statements line(s) of the viewer's panel; a line saying that the
    amplitudes were not read when every lead was rescaled (the printed gain is then not the recording's)."""
    if not reading.measurable:
        return [f"{reading.record}: {reading.statements[0] if reading.statements else 'not measurable'}"]
    shown = []
    for name, label, unit, spec in HEADLINE:
        value = reading.measurements[name]
        if math.isfinite(value):
            shown.append(f"{label} {spec.format(value)}{unit}")
    lines = ["; ".join(shown), "; ".join(reading.statements) or "no criterion met"]
    if not reading.amplitudes_recorded:
        lines.insert(1, f"amplitudes {RESCALED}")
    if reading.predictions is not None:
        model = ", ".join(f"{a} {p:.2f}" for _, a, p in reading.predictions) or "no class above its threshold"
        lines.append(f"model: {model}")
    return lines


def report_text(reading: Reading) -> str:
    """The reading as text: record and leads, the measurements, the statements, the model's classes."""
    lines = [f"{reading.record} ({len(reading.leads)} leads: {', '.join(reading.leads)})"]
    if not reading.measurable:
        lines.append(reading.statements[0] if reading.statements else "not measurable")
        noise = reading.measurements.get("noise_mV", math.nan)
        beats = reading.measurements.get("beats", math.nan)
        lines.append(f"  noise {noise:.3f} mV, beats found {beats:.0f}")
    else:
        for name, label, unit, spec in HEADLINE:
            value = reading.measurements[name]
            shown = f"{spec.format(value)}{unit}" if math.isfinite(value) else "not measured"
            lines.append(f"  {label:<17} {shown}")
        if not reading.amplitudes_recorded:
            lines.append(f"  {'amplitudes':<17} {RESCALED}")
        lines.append("Interpretation (criteria):")
        lines.extend(f"  {statement}" for statement in reading.statements or ["no criterion met"])
    if reading.predictions is not None:
        lines.append("Model:")
        lines.extend(f"  {a} ({c}) {p:.2f}" for c, a, p in reading.predictions)
        if not reading.predictions:
            lines.append("  no class above its threshold" if reading.measurable else "  no diagnosis")
    return "\n".join(lines)


def _plain(value: float):
    return None if not math.isfinite(value) else round(float(value), 3)
