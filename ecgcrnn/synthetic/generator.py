"""Synthetic Challenge records: 12-lead ECGs with known diagnoses and true fiducial points (demo data).

Every record is drawn from its own random stream (``numpy.random.default_rng([seed, index])``): first the
labels, then age and sex, the beat times, the heart's dipole (:mod:`ecgcrnn.synthetic.heartvector`, McSharry
et al. 2003 in three dimensions) and the noise. Labels are Challenge-scored SNOMED CT codes (the first code
of an equivalent pair in weights.csv), drawn so that a record carries one rhythm and only findings compatible
with it:

* rhythms: sinus rhythm (62-95 bpm), sinus bradycardia (42-56), sinus tachycardia (105-140), sinus
  arrhythmia (strong respiratory RR modulation, alone or with bradycardia), atrial fibrillation
  (independent RR intervals with a coefficient of variation of 0.15-0.3, f waves, no P waves), atrial
  flutter (sawtooth F waves at 250-320 per minute, fixed 2:1, 3:1 or 4:1 conduction, no P waves);
* conduction: first-degree AV block (PR 220-320 ms), right bundle branch block (rSR' in V1, wide S in I
  and V6), left bundle branch block (notched broad R in I, aVL, V5, V6, QS in V1), both with QRS >= 130 ms
  and discordant T waves;
* axis: left (-75 to -40°) or right (100 to 140°) deviation, the QRS dipole turned in the frontal plane
  (in RBBB all but the late right-ventricular forces), the T dipole half as far;
* ectopy: premature atrial (different P, sinus reset) and ventricular contractions (wide QRS from one of
  three foci, no P, full compensatory pause);
* repolarisation and voltage: prolonged QT (QTc 480-550 ms), T-wave inversion (anterior, lateral or
  inferior), low QRS voltages (every limb lead under 0.5 mV peak to peak).

Noise is added per electrode (RA, LA, LL, V1-V6) and mapped to the leads, so Einthoven's and Goldberger's
laws hold: white noise of 3-20 µV SD, baseline wander at the breathing rate and a slow drift, and 50 or
60 Hz interference of 2-30 µV.

Files: ``<name>.hea`` (``#Age:``, ``#Sex:``, ``#Dx:``), ``<name>.mat`` (int16, 1000 ADC units per mV) and
``<name>.fiducials.csv``: one row per beat whose R peak lies in the recording, its type (N normal, A
premature atrial, V premature ventricular) and the sample indices of :data:`FIDUCIALS`, empty where the
wave is absent (P in AF, flutter and ventricular beats) or outside the recording.

Usage: ``python -m ecgcrnn.synthetic OUT_DIR --records 100 --seed 0 [--clean]``
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ecgcrnn.app.cli import add_verbosity, configure_logging, whole_number
from ecgcrnn.domain import FIDUCIALS, STANDARD_LEADS
from ecgcrnn.io.atomic import write_text
from ecgcrnn.io.records import parse_header, write_record
from ecgcrnn.synthetic import heartvector as hv
from ecgcrnn.synthetic import rhythm

LABEL_CODES = {
    "NSR": "426783006",
    "SB": "426177001",
    "STach": "427084000",
    "SA": "427393009",
    "AF": "164889003",
    "AFL": "164890007",
    "IAVB": "270492004",
    "RBBB": "713427006",
    "LBBB": "733534002",
    "LAD": "39732003",
    "RAD": "47665007",
    "PAC": "284470004",
    "PVC": "427172004",
    "LQT": "111975006",
    "TInv": "59931005",
    "LQRSV": "251146004",
}
"""The labels the generator produces: short name to the SNOMED CT code written in ``#Dx:``."""

ADC_GAIN = 1000.0  # ADC units per mV in the .mat files
_RHYTHMS = {"NSR": 0.34, "SB": 0.14, "STach": 0.12, "SA": 0.10, "AF": 0.18, "AFL": 0.12}
_FINDINGS = {"IAVB": 0.15, "RBBB": 0.15, "LBBB": 0.10, "LAD": 0.15, "RAD": 0.08, "PAC": 0.12, "PVC": 0.15,
             "LQT": 0.10, "TInv": 0.12, "LQRSV": 0.10}  # fmt: skip
_SINUS = frozenset({"NSR", "SB", "STach", "SA"})
_NEEDS_SINUS = frozenset({"IAVB", "PAC"})
_EXCLUSIVE = (("RBBB", "LBBB"), ("LAD", "RAD"), ("LBBB", "RAD"), ("TInv", "RBBB"), ("TInv", "LBBB"),
              ("LQT", "RBBB"), ("LQT", "LBBB"), ("IAVB", "STach"))  # fmt: skip
_RATES_BPM = {"NSR": (62, 95), "SB": (42, 56), "STach": (105, 140), "SA": (62, 90), "AF": (60, 130)}
_MARGIN_S = 2.0  # beats are generated this long before and after the recording
_PAC_P = ((0.40, -0.60, 0.20), (0.60, 0.70, -0.30), (-0.30, 0.80, 0.30))


@dataclass(frozen=True)
class SyntheticConfig:
    """Shape of the recordings: sampling rate (Hz) and duration (s)."""

    fs_hz: float = 500.0
    duration_s: float = 10.0


@dataclass(frozen=True)
class SyntheticRecord:
    """One synthetic recording in memory.

    Attributes
    ----------
    signal_mv : np.ndarray, shape (12, n_samples)
        float32 millivolts, leads in :data:`ecgcrnn.domain.STANDARD_LEADS` order (rows), before rounding
        to the files' 1 µV steps.
    fs_hz : float
        Sampling rate.
    labels : tuple of str
        SNOMED CT codes (``#Dx:``), in :data:`LABEL_CODES` order.
    age : int
        Years.
    sex : str
        ``Male`` or ``Female``.
    fiducials : dict of str to np.ndarray, shape (n_beats,)
        The keys of :data:`ecgcrnn.domain.FIDUCIALS`: true sample indices (whole numbers as floats),
        NaN where the wave is absent or outside the recording; one entry per beat whose R lies inside.
    beat_types : np.ndarray of str, shape (n_beats,)
        ``N`` (sinus or conducted), ``A`` (premature atrial) or ``V`` (premature ventricular).
    """

    signal_mv: np.ndarray
    fs_hz: float
    labels: tuple[str, ...]
    age: int
    sex: str
    fiducials: dict[str, np.ndarray]
    beat_types: np.ndarray


def generate_record(
    seed: int,
    index: int = 0,
    labels: Iterable[str] | None = None,
    clean: bool = False,
    config: SyntheticConfig = SyntheticConfig(),
) -> SyntheticRecord:
    """Generate one record in memory.

    Parameters
    ----------
    seed, index : int
        The record's random stream is ``default_rng([seed, index])``; both must be >= 0.
    labels : iterable of str, optional
        Codes or short names of :data:`LABEL_CODES` to impose (one rhythm, compatible findings); drawn
        at random when None.
    clean : bool, default False
        Leave out noise, baseline wander and mains interference (atrial f and F waves stay).
    config : SyntheticConfig, optional
        Sampling rate and duration.

    Raises
    ------
    ValueError
        For an unknown label, no rhythm, several rhythms or incompatible findings.
    """
    rng = np.random.default_rng([seed, index])
    names = _draw_labels(rng) if labels is None else _parse_labels(labels)
    age, sex = _demographics(rng, names)
    n = int(round(config.fs_hz * config.duration_s))
    t = np.arange(n) / config.fs_hz
    resp_hz = rng.uniform(0.2, 0.35)
    r_s, atrial = _rhythm(rng, names, config.duration_s, t, resp_hz)
    r_s, types = _ectopics(rng, names, r_s, config.duration_s)
    heart = _draw_heart(rng, names)
    breathing = np.sin(2 * np.pi * resp_hz * r_s + rng.uniform(0, 2 * np.pi))
    gain = 1 + 0.04 * breathing + rng.normal(0, 0.015, r_s.size)  # beat-to-beat amplitude
    pr_extra = (types == "A") * _pac_pr_change_s(rng, heart.pr_s, "IAVB" in names)
    waves, times = hv.beat_waves(heart, r_s, types, gain, pr_extra, with_p=bool(names & _SINUS))
    signal = hv.project(hv.evaluate(waves, n, config.fs_hz) + atrial)
    if not clean:
        signal += hv.electrode_noise(rng, t, resp_hz)
    keep = (r_s >= 0) & (r_s < config.duration_s)
    fiducials = {key: _to_samples(times[key][keep], config.fs_hz, n) for key in FIDUCIALS}
    codes = tuple(LABEL_CODES[name] for name in LABEL_CODES if name in names)
    return SyntheticRecord(signal.astype(np.float32), config.fs_hz, codes, age, sex, fiducials, types[keep])


def write_dataset(
    output_directory, n_records: int, seed: int, clean: bool = False, config=SyntheticConfig()
) -> list[Path]:
    """Write records ``S00001`` .. of :func:`generate_record` (index 0 .. n_records - 1) into a folder.

    The folder is created when missing. Returns the header paths. The same seed gives byte-identical files.
    """
    if n_records < 1:
        raise ValueError(f"write_dataset: n_records must be at least 1, got {n_records}")
    output_directory = Path(output_directory)
    output_directory.mkdir(parents=True, exist_ok=True)
    width = max(5, len(str(n_records)))
    paths = []
    for index in tqdm(range(n_records), desc="synthetic records", unit="record", disable=None):
        record = generate_record(seed, index, clean=clean, config=config)
        paths.append(write_record_files(output_directory, f"S{index + 1:0{width}d}", record))
    return paths


def write_record_files(output_directory, name: str, record: SyntheticRecord) -> Path:
    """Write ``<name>.hea``, ``<name>.mat`` and ``<name>.fiducials.csv``; returns the header's path."""
    output_directory = Path(output_directory)
    adc = np.clip(np.rint(record.signal_mv * ADC_GAIN), -32767, 32767).astype(np.int16)
    lines = [f"{name} {len(STANDARD_LEADS)} {record.fs_hz:g} {adc.shape[1]}"]
    lines += [f"{name}.mat 16+24 {ADC_GAIN:g}/mV 16 0 0 0 0 {lead}" for lead in STANDARD_LEADS]
    lines += [f"#Age: {record.age}", f"#Sex: {record.sex}", f"#Dx: {','.join(record.labels)}"]
    lines += ["#Rx: Unknown", "#Hx: Unknown", "#Sx: Unknown"]
    header = parse_header("\n".join(lines) + "\n", source=f"{name}.hea")
    path = write_record(output_directory, header, adc, STANDARD_LEADS)
    rows = [",".join(("beat_type", *FIDUCIALS))]
    columns = np.stack([record.fiducials[key] for key in FIDUCIALS], axis=1)
    for beat_type, values in zip(record.beat_types, columns, strict=True):
        rows.append(",".join([str(beat_type), *("" if np.isnan(v) else str(int(v)) for v in values)]))
    write_text(output_directory / f"{name}.fiducials.csv", "\n".join(rows) + "\n")
    return path


def check_labels(names: Iterable[str]) -> None:
    """ValueError unless ``names`` (short names) hold one rhythm and compatible findings."""
    names = set(names)
    unknown = names - set(LABEL_CODES)
    if unknown:
        raise ValueError(f"synthetic labels: {sorted(unknown)} not in {', '.join(LABEL_CODES)}")
    rhythms = names & set(_RHYTHMS)
    if len(rhythms) != 1 and rhythms != {"SA", "SB"}:
        raise ValueError(
            f"synthetic labels: expected one rhythm of {', '.join(_RHYTHMS)}, got {sorted(rhythms)}"
        )
    if names & _NEEDS_SINUS and not names & _SINUS:
        raise ValueError(f"synthetic labels: {sorted(names & _NEEDS_SINUS)} need a sinus rhythm")
    for a, b in _EXCLUSIVE:
        if a in names and b in names:
            raise ValueError(f"synthetic labels: {a} and {b} are not generated together")


def main(argv=None, prog: str = "python -m ecgcrnn.synthetic") -> None:
    """Command line: ``python -m ecgcrnn.synthetic OUT_DIR --records N --seed S [--clean]``."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("output_directory", type=Path, help="folder for the records (created if missing)")
    parser.add_argument("--records", type=whole_number(1), default=100, help="records (default 100)")
    parser.add_argument("--seed", type=whole_number(0), default=0, help="random seed, >= 0 (default 0)")
    parser.add_argument("--clean", action="store_true", help="no noise, baseline wander or mains hum")
    add_verbosity(parser)
    args = parser.parse_args(argv)
    configure_logging(args)
    folder = args.output_directory
    if folder.exists() and not folder.is_dir():
        parser.error(f"{folder}: exists and is not a folder")
    try:
        paths = write_dataset(folder, args.records, args.seed, clean=args.clean)
    except OSError as error:
        parser.error(f"{folder}: cannot write records ({error.strerror or error})")
    logging.info("wrote %d records to %s", len(paths), folder)


def _parse_labels(labels: Iterable[str]) -> frozenset[str]:
    by_code = {code: name for name, code in LABEL_CODES.items()}
    names = frozenset(by_code.get(str(label).strip(), str(label).strip()) for label in labels)
    check_labels(names)
    return names


def _draw_labels(rng: np.random.Generator) -> frozenset[str]:
    """One rhythm by :data:`_RHYTHMS`' odds, then each finding by its odds when it is compatible."""
    names = {str(rng.choice(list(_RHYTHMS), p=list(_RHYTHMS.values())))}
    if names == {"SA"} and rng.random() < 0.3:
        names.add("SB")
    for finding, odds in _FINDINGS.items():
        if rng.random() < odds:
            try:
                check_labels(names | {finding})
            except ValueError:
                continue
            names.add(finding)
    return frozenset(names)


def _demographics(rng: np.random.Generator, names: frozenset[str]) -> tuple[int, str]:
    """Age (18-95, older with AF, flutter, LBBB or AV block) and sex (54 % male)."""
    older = 12 if names & {"AF", "AFL", "LBBB", "IAVB"} else 0
    age = int(np.clip(rng.normal(54 + older, 16), 18, 95))
    return age, "Male" if rng.random() < 0.54 else "Female"


def _rhythm(rng, names, duration_s: float, t: np.ndarray, resp_hz: float):
    """R times in s, shape (B,), from -_MARGIN_S to duration + 1 s, and the atrial dipole (3, n) in mV."""
    span = (-_MARGIN_S, duration_s + 1.0)
    small = 0.5 if "LQRSV" in names else 1.0
    if "AF" in names:
        mean_rr = 60 / rng.uniform(*_RATES_BPM["AF"])
        r_s = rhythm.fibrillation_times(rng, mean_rr, rng.uniform(0.15, 0.3), span)
        return r_s, rhythm.fibrillatory_waves(rng, t, rng.uniform(0.04, 0.15) * small)
    if "AFL" in names:
        cycle, ratio = 60 / rng.uniform(250, 320), int(rng.choice([2, 3, 4], p=[0.4, 0.15, 0.45]))
        start = span[0] + rng.uniform(0, cycle)
        r_s = rhythm.flutter_times(cycle, ratio, start + rng.uniform(0.16, 0.24), span[1])
        return r_s, rhythm.flutter_waves(t, cycle, start, rng.uniform(0.2, 0.4) * small)
    low, high = (45, 56) if {"SA", "SB"} <= names else _RATES_BPM[min(names & _SINUS)]
    mean_rr = 60 / rng.uniform(low, high)
    if "SA" in names:
        r_s = rhythm.sinus_times(rng, mean_rr, rng.uniform(0.08, 0.14), span, 0.2, resp_hz)
    else:
        r_s = rhythm.sinus_times(rng, mean_rr, rng.uniform(0.012, 0.035), span, 0.5, resp_hz)
    return r_s, np.zeros((3, t.size))


def _ectopics(rng, names, r_s: np.ndarray, duration_s: float) -> tuple[np.ndarray, np.ndarray]:
    """1-2 premature atrial beats with PAC, 1-3 ventricular with PVC (one of each label comes first)."""
    extra_a = int(rng.integers(0, 2)) if "PAC" in names else -1
    extra_v = int(rng.integers(0, 3)) if "PVC" in names else -1
    kinds = ["A"][: extra_a + 1] + ["V"][: extra_v + 1] + ["A"] * max(extra_a, 0) + ["V"] * max(extra_v, 0)
    return rhythm.insert_ectopics(rng, r_s, kinds, (0.5, duration_s - 1.2))


def _draw_heart(rng: np.random.Generator, names: frozenset[str]) -> hv.Heart:
    """The patient's dipoles: conduction, a slightly turned heart, the labelled axis, voltage and T wave."""
    conduction = "rbbb" if "RBBB" in names else "lbbb" if "LBBB" in names else "normal"
    base, turns = hv.qrs_template(conduction)
    turn = _small_rotation(rng)
    stretch = rng.uniform(0.92, 1.08)
    amplitudes = base.amplitude_mv * rng.uniform(0.8, 1.25, (turns.size, 1)) @ turn.T
    inverted = "TInv" in names
    t_key = f"inverted_{rng.choice(['anterior', 'lateral', 'inferior'])}" if inverted else conduction
    t_vector = hv.unit(hv.T_DIRECTIONS[t_key]) @ turn.T * rng.uniform(0.2, 0.45)
    area = np.sqrt(2 * np.pi) * (base.width_s * turns) @ amplitudes
    angle = hv.rotation_to_axis(area, _axis_target_deg(rng, names))
    amplitudes[turns] = hv.rotate_frontal(amplitudes[turns], angle)
    qrs = hv.Waves(base.center_s * stretch, base.width_s * stretch, amplitudes)
    t_vector = t_vector if inverted else hv.rotate_frontal(t_vector, angle / 2)
    limb = hv.limb_qrs_range_mv(qrs)
    low = "LQRSV" in names
    gain = rng.uniform(0.3, 0.45) / limb if low else max(rng.uniform(0.7, 1.3), 0.75 / limb)
    qrs = hv.Waves(qrs.center_s, qrs.width_s, qrs.amplitude_mv * gain)
    small = 0.5 if low else 1.0
    pvc, pvc_t = hv.pvc_template(rng, rng.uniform(1.3, 2.2) * small)
    p_vector = hv.unit(np.array([0.8, 0.55, 0.1]) + rng.normal(0, 0.1, 3)) @ turn.T  # P axis about +60°
    pac_p = hv.unit(_PAC_P[rng.integers(len(_PAC_P))])
    return hv.Heart(
        qrs=qrs,
        t_vector=t_vector * (min(gain, 1.0) if low else 1.0),
        pvc=pvc,
        pvc_t_vector=pvc_t * rng.uniform(0.35, 0.6) * np.linalg.norm(pvc.amplitude_mv[0]),
        p_vector=p_vector * rng.uniform(0.08, 0.2) * small,
        pac_p_vector=pac_p * rng.uniform(0.06, 0.15) * small,
        p_width_s=rng.uniform(0.018, 0.024),
        pr_s=rng.uniform(0.22, 0.32) if "IAVB" in names else rng.uniform(0.12, 0.19),
        qtc_s=rng.uniform(0.48, 0.55) if "LQT" in names else rng.uniform(0.37, 0.43),
    )


def _pac_pr_change_s(rng: np.random.Generator, pr_s: float, block: bool) -> float:
    """Change of a premature atrial beat's PR: 0-40 ms with AV block, else -20 to 30 ms up to 195 ms."""
    if block:
        return rng.uniform(0.0, 0.04)
    return float(np.clip(pr_s + rng.uniform(-0.02, 0.03), 0.11, 0.195)) - pr_s


def _axis_target_deg(rng: np.random.Generator, names: frozenset[str]) -> float:
    """Frontal QRS axis: -75 to -40° with LAD, 100 to 140° with RAD, else normal (leftward in LBBB)."""
    if "LAD" in names:
        return rng.uniform(-75, -40)
    if "RAD" in names:
        return rng.uniform(100, 140)
    return rng.uniform(-20, 40) if "LBBB" in names else rng.uniform(-10, 80)


def _small_rotation(rng: np.random.Generator, sd_deg: float = 8.0) -> np.ndarray:
    """A random rotation of the heart in the chest: three small turns about X, Y and Z, shape (3, 3)."""
    rotation = np.eye(3)
    for axis, angle in enumerate(np.radians(rng.normal(0, sd_deg, 3))):
        c, s = np.cos(angle), np.sin(angle)
        i, j = [a for a in range(3) if a != axis]
        turn = np.eye(3)
        turn[[i, i, j, j], [i, j, i, j]] = c, -s, s, c
        rotation = turn @ rotation
    return rotation


def _to_samples(times_s: np.ndarray, fs_hz: float, n_samples: int) -> np.ndarray:
    samples = np.rint(times_s * fs_hz)
    samples[~((samples >= 0) & (samples < n_samples))] = np.nan
    return samples


if __name__ == "__main__":
    main()
