"""The one path from a recording to the network's inputs, and the settings that shape them.

:func:`prepare_record` is the pipeline, stage by stage: preprocessing (:mod:`ecgcrnn.signal`: millivolts,
500 Hz, band-pass and notches, 10 s windows covering the recording), the wavelet delineation of every window
(:mod:`ecgcrnn.delineation`), the features and the global measurements of every window
(:mod:`ecgcrnn.features`) and the network's inputs assembled from them. The training cache, ``run_model``,
the ECG viewer and the benchmarks all call it. :class:`PipelineSettings` holds every setting of those
stages; a trained model keeps them in its ``model.json`` and runs with them, and the training cache is keyed
by their :meth:`~PipelineSettings.digest`, which also covers the source code of the stages, so a cache made
by other settings or another version of the feature code is rebuilt, never reused. A recording of noise
alone (:func:`ecgcrnn.signal.preprocessing.noise_only`) is measured as such in every window, which
:func:`judged_noise_only` reads back from the inputs: ``run_model`` gives it no diagnosis.

:func:`input_shapes` states the inputs once, names, order, shapes and dtypes: the network's inputs, the
training cache's arrays and ``run_model``'s batches are made from it. The classes of the ``criteria`` inputs
are those of :func:`ecgcrnn.domain.default_class_table`, in its order.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ecgcrnn.delineation.delineate import delineate_record
from ecgcrnn.delineation.settings import DelineationConfig
from ecgcrnn.domain import default_class_table
from ecgcrnn.features.beats import (
    Features,
    beat_feature_names,
    features_from_delineation,
    record_feature_names,
)
from ecgcrnn.features.criteria import criteria_scores, stated_grades
from ecgcrnn.features.measurements import (
    Measurements,
    combine_windows,
    measure,
    measurement_names,
    noise_only_measurements,
    noise_only_rows,
)
from ecgcrnn.features.settings import FeatureConfig, MeasurementConfig
from ecgcrnn.io.records import Header, as_header, get_age, get_sex
from ecgcrnn.signal.preprocessing import PreprocessConfig, Preprocessed, noise_only, preprocess, windows

DEMOGRAPHICS = ("age_per_100_years", "age_known", "male", "female")
STAGE_SOURCES = ("io/records.py", "io/matfile.py", "signal", "delineation", "features", "pipeline.py")
"""The code that computes the inputs (relative to the package), covered by :meth:`PipelineSettings.digest`."""


@dataclass(frozen=True)
class PipelineSettings:
    """Every setting of the stages from a recording to the network's inputs.

    Attributes
    ----------
    preprocess : PreprocessConfig
    delineation : DelineationConfig
    features : FeatureConfig
    measurements : MeasurementConfig
    """

    preprocess: PreprocessConfig = PreprocessConfig()
    delineation: DelineationConfig = DelineationConfig()
    features: FeatureConfig = FeatureConfig()
    measurements: MeasurementConfig = MeasurementConfig()

    def to_dict(self) -> dict:
        """Plain values (tuples as lists), as ``model.json`` keeps them."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, values: dict) -> PipelineSettings:
        """The settings :meth:`to_dict` gave; a setting that is absent takes its default.

        Raises
        ------
        ValueError
            For a stage or a setting this version does not know (naming it).
        """
        parts = {}
        for field in dataclasses.fields(cls):
            parts[field.name] = _dataclass_from_dict(field.default, values.get(field.name, {}), field.name)
        unknown = set(values) - set(parts)
        if unknown:
            raise ValueError(f"unknown pipeline stages {sorted(unknown)}; expected {', '.join(parts)}")
        return cls(**parts)

    def digest(self) -> str:
        """SHA-256 of the settings and of the stages' source code (:data:`STAGE_SOURCES`)."""
        text = json.dumps({"settings": self.to_dict(), "code": code_digest()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


class InputShape(NamedTuple):
    """One of the network's inputs for one window: its shape (no batch axis) and its dtype."""

    shape: tuple[int, ...]
    dtype: np.dtype


def input_shapes(leads, settings: PipelineSettings, classes) -> dict[str, InputShape]:
    """The network's inputs, in their order, each with its shape for one window and its dtype.

    The one statement of the inputs: :func:`assemble_inputs` makes them so, the training cache allocates
    its arrays from them (:mod:`ecgcrnn.data.cache`), the network declares them
    (:func:`ecgcrnn.model.network.build_model`) and ``run_model`` batches them
    (:mod:`ecgcrnn.inference.predict`). For L leads and C classes, every input float32:

    | input | shape | content |
    |---|---|---|
    | ``signal`` | (window samples, L) | preprocessed millivolts, 500 Hz, 10 s (5,000), channels last |
    | ``beat_values`` | (max_beats, 2 + 11 L) | :attr:`Features.beats` (seconds, millivolts) |
    | ``beat_mask`` | (max_beats, 2 + 11 L) | 1 where measured, 0 where imputed or padding |
    | ``record_values`` | (9 + 11 L,) | :attr:`Features.record` |
    | ``record_mask`` | (9 + 11 L,) | 1 where measured |
    | ``demographics`` | (4,) | age / 100 (0 if unknown), age known, male, female |
    | ``measurements`` | (209,) | :func:`~ecgcrnn.features.measurements.measurement_names`, 0 if NaN |
    | ``measurement_mask`` | (209,) | 1 where measured |
    | ``criteria`` | (C,) | each class's criterion grade less 0.5 (:func:`criteria_inputs`); 0: undecided |
    | ``criteria_mask`` | (C,) | 1 where the criterion decides (its grade is not NaN) |

    Parameters
    ----------
    leads : sequence of str
        The lead set, in the order of the ``signal`` channels.
    settings : PipelineSettings
        Give the window's samples and ``max_beats`` (:attr:`FeatureConfig.max_beats
        <ecgcrnn.features.settings.FeatureConfig>`).
    classes : sequence of str
        The classes of the ``criteria`` inputs (:func:`prepare_record` grades those of
        :func:`ecgcrnn.domain.default_class_table`).
    """
    beats = (settings.features.max_beats, len(beat_feature_names(leads)))
    record, measured = (len(record_feature_names(leads)),), (len(measurement_names()),)
    shapes = {
        "signal": (settings.preprocess.window_samples, len(leads)),
        "beat_values": beats,
        "beat_mask": beats,
        "record_values": record,
        "record_mask": record,
        "demographics": (len(DEMOGRAPHICS),),
        "measurements": measured,
        "measurement_mask": measured,
        "criteria": (len(classes),),
        "criteria_mask": (len(classes),),
    }
    return {name: InputShape(shape, np.dtype(np.float32)) for name, shape in shapes.items()}


INPUT_NAMES = tuple(input_shapes((), PipelineSettings(), ()))
"""The names of the network's inputs, in :func:`input_shapes`' order."""


@dataclass(frozen=True)
class PreparedRecord:
    """One recording through the pipeline.

    Attributes
    ----------
    windows : numpy.ndarray
        float32 millivolts, shape (W, len(leads), window samples): the windows that cover the recording.
    delineations : list of Delineation
        One per window: :func:`ecgcrnn.delineation.delineate.delineate_record`'s fiducials, per lead
        (leads, beats) and global (beats,).
    features : list of Features
        One per window.
    measurements : list of Measurements
        One per window: the global measurements (:func:`ecgcrnn.features.measurements.measure`), or
        :func:`~ecgcrnn.features.measurements.noise_only_measurements` for a recording of noise alone.
    inputs : dict of str to numpy.ndarray
        The network's inputs for the W windows (:func:`input_shapes`, with a first axis of W).
    preprocessed : Preprocessed
        The whole recording preprocessed (:func:`ecgcrnn.signal.preprocessing.preprocess`), before it was
        cut into windows.
    """

    windows: np.ndarray
    delineations: list
    features: list
    measurements: list
    inputs: dict
    preprocessed: Preprocessed

    @property
    def amplitudes_recorded(self) -> bool:
        """False for a recording whose leads were rescaled to one range
        (:func:`ecgcrnn.signal.preprocessing.leads_rescaled`): its measurements hold no amplitude."""
        return not self.preprocessed.rescaled

    def record_measurements(self) -> Measurements:
        """The whole recording's measurements, combined from its windows'
        (:func:`ecgcrnn.features.measurements.combine_windows`)."""
        return combine_windows(self.measurements)


def prepare_record(
    header: str | Header, recording: np.ndarray, leads, settings: PipelineSettings = PipelineSettings()
) -> PreparedRecord:
    """Preprocess, delineate and featurise one recording, and assemble the network's inputs.

    The measurements of a recording whose leads were rescaled to one range
    (:func:`ecgcrnn.signal.preprocessing.leads_rescaled`) keep no amplitude
    (:meth:`Measurements.without_amplitudes <ecgcrnn.features.measurements.Measurements.without_amplitudes>`),
    so no criterion reads voltages that were not recorded as such. A recording of noise alone
    (:func:`ecgcrnn.signal.preprocessing.noise_only`, judged on the whole recording) has
    :func:`~ecgcrnn.features.measurements.noise_only_measurements` in every window instead.

    Parameters
    ----------
    header : str or Header
        The record's header (text or parsed): gains, baselines, rate, leads in file order, age and sex.
    recording : numpy.ndarray
        Shape (header leads, samples), leads in file order, ADC units.
    leads : sequence of str
        The leads to use, in the order of the inputs' channels (any case).
    settings : PipelineSettings
    """
    header = as_header(header)
    fs_hz = settings.preprocess.fs_hz
    preprocessed, cut = record_windows(header, recording, leads, settings.preprocess)
    delineations = [delineate_record(window, fs_hz, settings.delineation) for window in cut]
    features = [
        features_from_delineation(window, fs_hz, leads, delineation.per_lead, settings.features)
        for window, delineation in zip(cut, delineations, strict=True)
    ]
    measurements = [
        measure(window, fs_hz, leads, delineation, settings.measurements)
        for window, delineation in zip(cut, delineations, strict=True)
    ]
    if preprocessed.rescaled:  # amplitudes that say nothing in millivolts
        measurements = [m.without_amplitudes() for m in measurements]
    if noise_only(preprocessed.signal, leads, settings.preprocess):  # no ECG: nothing to measure or diagnose
        measurements = [noise_only_measurements(preprocessed.signal)] * len(cut)
    age, sex = get_age(header), get_sex(header)
    inputs = assemble_inputs(cut, features, demographics(age, sex), measurements, age, sex)
    return PreparedRecord(cut, delineations, features, measurements, inputs, preprocessed)


def record_windows(
    header: str | Header, recording: np.ndarray, leads, config: PreprocessConfig
) -> tuple[Preprocessed, np.ndarray]:
    """The first stage of :func:`prepare_record` alone: the recording preprocessed
    (:func:`ecgcrnn.signal.preprocessing.preprocess`) and its windows, float32 (W, len(leads), samples)."""
    preprocessed = preprocess(as_header(header), recording, leads, config)
    return preprocessed, windows(preprocessed.signal, config)


def record_inputs(leads, settings: PipelineSettings, header, recording) -> dict:
    """``prepare_record(header, recording, leads, settings).inputs`` (arguments in the order that lets a
    model bind its leads and settings with :func:`functools.partial`)."""
    return prepare_record(header, recording, leads, settings).inputs


def judged_noise_only(inputs: dict) -> bool:
    """Whether :func:`prepare_record` judged the recording to hold noise alone, read from its ``inputs``:
    every window's measurements are :func:`~ecgcrnn.features.measurements.noise_only_measurements`."""
    rows = noise_only_rows(inputs["measurements"], inputs["measurement_mask"])
    return bool(rows.size and rows.all())


@functools.cache
def code_digest() -> str:
    """SHA-256 of the source files of :data:`STAGE_SOURCES`, in a fixed order."""
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for source in STAGE_SOURCES:
        path = package / source
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(package).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def demographics(age: float | None, sex: str | None) -> np.ndarray:
    """The ``demographics`` vector, shape (4,), from age (years; None or NaN if unknown) and sex."""
    known = age is not None and math.isfinite(age) and 0 <= age <= 120
    sex = (sex or "").strip().lower()
    return np.array(
        [
            age / 100 if known else 0.0,
            float(known),
            float(sex in ("male", "m")),
            float(sex in ("female", "f")),
        ],
        dtype=np.float32,
    )


def criteria_inputs(
    measurements: Measurements, age: float | None, sex: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """The ``criteria`` and ``criteria_mask`` inputs of one window, shape (classes,) each, float32.

    ``criteria`` is each class's criterion grade (:func:`ecgcrnn.features.criteria.criteria_scores` with
    :func:`~ecgcrnn.features.criteria.stated_grades`' rule, so that a grade of 0.5 or more is exactly the
    criteria's statement) less 0.5, in [-0.5, 0.5], and 0 where the grade is NaN; ``criteria_mask`` is 1
    where the grade is not NaN.
    """
    grades = stated_grades(criteria_scores(measurements, age, sex))
    values = np.array([grades.get(name, math.nan) for name in default_class_table().names], np.float64)
    known = np.isfinite(values)
    return np.where(known, values - 0.5, 0.0).astype(np.float32), known.astype(np.float32)


def assemble_inputs(
    signals: np.ndarray,
    features: Sequence[Features],
    demographic: np.ndarray,
    measurements: Sequence[Measurements],
    age: float | None = None,
    sex: str | None = None,
) -> dict:
    """The network's inputs for windows of one or more records.

    Parameters
    ----------
    signals : numpy.ndarray
        Shape (B, L, samples): windows as :func:`ecgcrnn.signal.preprocessing.windows` gives them.
    features : sequence of Features
        One per window.
    demographic : numpy.ndarray
        Shape (4,) for one record (repeated for every window) or (B, 4).
    measurements : sequence of Measurements
        One per window.
    age, sex
        The record's, for the criteria (:func:`criteria_inputs`); the windows are of one record.
    """
    count = len(signals)
    demographic = np.broadcast_to(np.asarray(demographic, np.float32), (count, len(DEMOGRAPHICS)))
    vectors = [m.vector() for m in measurements]
    criteria = [criteria_inputs(m, age, sex) for m in measurements]
    return {
        "signal": np.ascontiguousarray(np.asarray(signals, np.float32).transpose(0, 2, 1)),
        "beat_values": np.stack([f.beats for f in features]),
        "beat_mask": np.stack([f.beats_mask for f in features]),
        "record_values": np.stack([f.record for f in features]),
        "record_mask": np.stack([f.record_mask for f in features]),
        "demographics": np.ascontiguousarray(demographic),
        "measurements": np.stack([values for values, _ in vectors]),
        "measurement_mask": np.stack([mask for _, mask in vectors]),
        "criteria": np.stack([grades for grades, _ in criteria]),
        "criteria_mask": np.stack([known for _, known in criteria]),
    }


def _dataclass_from_dict(default, values: dict, where: str):
    """A copy of the dataclass instance ``default`` with the fields given in ``values`` (lists as tuples)."""
    fields = {field.name for field in dataclasses.fields(default)}
    unknown = set(values) - fields
    if unknown:
        raise ValueError(f"unknown {where} settings {sorted(unknown)}; known: {', '.join(sorted(fields))}")
    return dataclasses.replace(default, **{name: _tuples(value) for name, value in values.items()})


def _tuples(value):
    """Lists, nested too, as tuples (the frozen settings' form)."""
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value
