"""Recordings of noise alone: the signal-quality rule that finds no ECG in them
(:func:`ecgcrnn.signal.preprocessing.noise_only`) whatever their amplitude, colour, sampling rate or lead set,
never in a real or synthetic ECG, and what ``run_model`` makes of them."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from helpers import save_untrained_model
from scipy import signal as sps

from ecgcrnn.domain import LEAD_SETS, STANDARD_LEADS
from ecgcrnn.features.measurements import NO_ECG
from ecgcrnn.inference.predict import run_model
from ecgcrnn.io.records import Header, find_header_files, load_header, load_recording, parse_header
from ecgcrnn.model.lead_set import LeadSetModel
from ecgcrnn.signal.preprocessing import PreprocessConfig, noise_only, preprocess, qrs_coincidence
from ecgcrnn.synthetic.generator import ADC_GAIN, SyntheticConfig, generate_record

AMPLITUDES_MV = (0.02, 0.1, 0.5, 2.0, 5.0)
RATES_HZ = (500.0, 257.0)
COLOURS = ("white", "low-pass 40 Hz", "low-pass 15 Hz", "with baseline wander")
SYNTHETIC_LABELS = (
    ("NSR",),
    ("SB", "LAD"),
    ("STach", "RBBB"),
    ("AF",),
    ("AFL",),
    ("NSR", "LBBB"),
    ("NSR", "PVC"),
    ("NSR", "LQRSV"),
)


def challenge_header(fs_hz: float, samples: int, name: str = "noise") -> Header:
    """A 12-lead header at ``fs_hz`` with 1000 ADC units per mV, like the Challenge's."""
    lines = [f"{name} 12 {fs_hz:g} {samples}"]
    lines += [f"{name}.mat 16+24 {ADC_GAIN:g}/mV 16 0 0 0 0 {lead}" for lead in STANDARD_LEADS]
    lines += ["#Age: 60", "#Sex: Male"]
    return parse_header("\n".join(lines) + "\n", source=f"{name}.hea")


def noise_recording(amplitude_mv: float, fs_hz: float, colour: str, seed, seconds: float = 10.0):
    """(header, ADC matrix) of 12 leads of independent Gaussian noise of ``amplitude_mv`` SD: white, low-pass
    filtered (4th-order Butterworth at 40 or 15 Hz), or white with 1 mV of baseline wander at 0.3 Hz; ``seed``
    is :func:`numpy.random.default_rng`'s."""
    rng = np.random.default_rng(seed)
    samples = round(seconds * fs_hz)
    noise = rng.normal(0.0, 1.0, (len(STANDARD_LEADS), samples))
    if colour.startswith("low-pass"):
        cutoff_hz = float(colour.split()[1])
        noise = sps.sosfiltfilt(sps.butter(4, cutoff_hz, fs=fs_hz, output="sos"), noise, axis=-1)
    mv = amplitude_mv * noise / noise.std(axis=1, keepdims=True)
    if colour == "with baseline wander":
        t = np.arange(samples) / fs_hz
        mv += np.sin(2 * np.pi * 0.3 * t + rng.uniform(0, 2 * np.pi, (len(STANDARD_LEADS), 1)))
    adc = np.clip(np.rint(mv * ADC_GAIN), -32767, 32767).astype(np.int16)
    return challenge_header(fs_hz, samples), adc


def judged_noise_only(header, recording, leads) -> bool:
    """The rule on the recording as the pipeline preprocesses it for ``leads``."""
    return noise_only(preprocess(header, recording, leads).signal, leads)


@pytest.mark.parametrize("lead_set", list(LEAD_SETS))
@pytest.mark.parametrize("fs_hz", RATES_HZ)
@pytest.mark.parametrize("amplitude_mv", AMPLITUDES_MV)
@pytest.mark.parametrize("colour", COLOURS)
def test_noise_of_any_amplitude_colour_and_rate_is_judged_noise_only_on_every_lead_set(
    colour, amplitude_mv, fs_hz, lead_set
):
    seed = (COLOURS.index(colour), AMPLITUDES_MV.index(amplitude_mv), RATES_HZ.index(fs_hz))
    header, recording = noise_recording(amplitude_mv, fs_hz, colour, seed)

    assert judged_noise_only(header, recording, LEAD_SETS[lead_set])


@pytest.mark.parametrize("lead_set", list(LEAD_SETS))
@pytest.mark.parametrize("labels", SYNTHETIC_LABELS, ids="+".join)
def test_synthetic_ecgs_are_never_judged_noise_only(labels, lead_set):
    for index, config in enumerate((SyntheticConfig(), SyntheticConfig(fs_hz=257.0, duration_s=12.0))):
        record = generate_record(31, index, labels, config=config)
        header = challenge_header(record.fs_hz, record.signal_mv.shape[1], "ecg")

        assert not judged_noise_only(header, np.rint(record.signal_mv * ADC_GAIN), LEAD_SETS[lead_set])


def test_limb_leads_computed_from_i_and_ii_add_no_evidence_of_an_ecg():
    """III, aVR, aVL and aVF are sums of I and II: that they rise and fall with them is arithmetic."""
    header, recording = noise_recording(0.5, 500.0, "white", 7)
    signal = preprocess(header, recording, STANDARD_LEADS).signal
    one, two = signal[0], signal[1]
    derived = np.stack([one, two, two - one, -(one + two) / 2, one - two / 2, two - one / 2])

    assert noise_only(derived, LEAD_SETS["six"])


def test_one_lead_with_a_signal_cannot_be_judged():
    header, recording = noise_recording(0.5, 500.0, "white", 8)
    signal = preprocess(header, recording, LEAD_SETS["two"]).signal
    signal[0] = 0.0

    assert math.isnan(qrs_coincidence(signal, LEAD_SETS["two"], 500.0))
    assert not noise_only(signal, LEAD_SETS["two"])


def test_a_flat_recording_is_not_judged_noise_only():
    assert not noise_only(np.zeros((12, 5000), np.float32), STANDARD_LEADS)


def test_run_model_of_a_noise_recording_gives_every_class_0_with_a_warning(tmp_path, caplog):
    save_untrained_model(tmp_path, "twelve", thresholds=0.0)  # any output of the network would be a label
    model = LeadSetModel.load(tmp_path, STANDARD_LEADS)
    header, recording = noise_recording(0.5, 500.0, "white", 9)

    with caplog.at_level(logging.WARNING, logger="ecgcrnn.model.lead_set"):
        classes, labels, probabilities = run_model(model, header, recording)

    assert len(classes) == 26
    np.testing.assert_array_equal(labels, np.zeros(26))
    np.testing.assert_array_equal(probabilities, np.zeros(26, np.float32))
    assert probabilities.dtype == np.float32
    assert f"noise: {NO_ECG}: no diagnosis" in caplog.text


@pytest.mark.real_data
@pytest.mark.slow
def test_no_real_record_is_judged_noise_only_on_any_lead_set(challenge_dir, ludb_challenge_dir):
    config = PreprocessConfig()
    lowest, judged = math.inf, []
    headers = find_header_files(challenge_dir) + find_header_files(ludb_challenge_dir)
    assert len(headers) == 371
    for header_file in headers:
        header = parse_header(load_header(header_file), source=header_file)
        recording = load_recording(header_file[: -len(".hea")] + ".mat", header)
        signal = preprocess(header, recording, STANDARD_LEADS, config).signal  # each lead on its own
        for lead_set, leads in LEAD_SETS.items():
            rows = [STANDARD_LEADS.index(lead) for lead in leads]
            lowest = min(lowest, qrs_coincidence(signal[rows], leads, config.fs_hz, config.qrs_band_hz))
            if noise_only(signal[rows], leads, config):
                judged.append(f"{header.record_name} ({lead_set})")

    assert judged == []
    assert lowest >= config.min_qrs_coincidence + 0.1  # a margin, not only a pass
