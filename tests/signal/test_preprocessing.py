import numpy as np
import pytest

from ecgcrnn.domain import STANDARD_LEADS
from ecgcrnn.io.records import find_challenge_files, load_header, load_recording, to_millivolts
from ecgcrnn.signal.preprocessing import (
    PreprocessConfig,
    filter_signal,
    leads_rescaled,
    preprocess,
    repair_missing,
    resample,
    resampled_length,
    window_starts,
    windows,
)

FS = 500.0


def sine(frequency_hz, seconds=10.0, fs=FS, amplitude=1.0):
    t = np.arange(int(seconds * fs)) / fs
    return amplitude * np.sin(2 * np.pi * frequency_hz * t)


def rms(x):
    return float(np.sqrt(np.mean(np.square(x))))


@pytest.mark.parametrize("fs", [250.0, 257.0, 360.0, 500.0, 1000.0, 128.0])
def test_resample_keeps_duration_and_an_in_band_sine(fs):
    out = resample(sine(7.0, fs=fs)[None], fs, FS)
    assert out.shape == (1, 5000) and out.dtype == np.float32
    core = slice(500, 4500)  # away from the ends
    np.testing.assert_allclose(out[0, core], sine(7.0)[core], atol=0.02)


def test_band_pass_removes_baseline_wander_and_keeps_qrs_band():
    kept = sine(10.0)
    filtered = filter_signal((kept + sine(0.1, amplitude=2.0))[None])[0]
    core = slice(1000, 4000)  # away from the ends, where the odd-reflection padding leaves transients
    np.testing.assert_allclose(filtered[core], kept[core], atol=0.05)


@pytest.mark.parametrize("powerline_hz", [50.0, 60.0])
def test_powerline_interference_is_suppressed(powerline_hz):
    filtered = filter_signal(sine(powerline_hz)[None])[0]
    assert rms(filtered[1000:4000]) < 0.01 * rms(sine(powerline_hz))


def test_high_frequency_noise_is_attenuated():
    filtered = filter_signal(sine(180.0)[None])[0]
    assert rms(filtered[1000:4000]) < 0.05 * rms(sine(180.0))


def test_filter_is_zero_phase():
    pulse = np.zeros(5000)
    pulse[2500] = 1.0
    filtered = filter_signal(pulse[None])[0]
    assert int(np.argmax(filtered)) == 2500


def test_missing_samples_are_interpolated_and_flagged():
    signal = np.vstack([np.arange(10.0), np.full(10, np.nan), np.arange(10.0)])
    signal[0, 3:5] = np.nan
    signal[2, [0, 9]] = [np.nan, np.inf]
    repaired, fraction = repair_missing(signal)
    np.testing.assert_allclose(repaired[0], np.arange(10.0))
    assert (repaired[1] == 0).all()
    np.testing.assert_allclose(repaired[2], [1, 1, 2, 3, 4, 5, 6, 7, 8, 8])
    np.testing.assert_allclose(fraction, [0.2, 1.0, 0.2])


def test_windows_pad_short_recordings_at_the_end():
    out = windows(np.ones((2, 3000)))
    assert out.shape == (1, 2, 5000)
    assert (out[0, :, :3000] == 1).all() and (out[0, :, 3000:] == 0).all()


@pytest.mark.parametrize("samples", [5000, 5001, 7500, 30000, 57600, 60000])
def test_windows_cover_every_sample_of_long_recordings(samples):
    signal = np.arange(samples, dtype=np.float32)[None]
    out = windows(signal)
    assert out.shape == (-(-samples // 5000), 1, 5000)
    covered = np.unique(out[:, 0].astype(np.int64))
    np.testing.assert_array_equal(covered, np.arange(samples))


def test_window_starts_are_evenly_spaced_from_first_to_last():
    np.testing.assert_array_equal(window_starts(7500, 5000), [0, 2500])
    np.testing.assert_array_equal(window_starts(15000, 5000), [0, 5000, 10000])
    np.testing.assert_array_equal(window_starts(100, 5000), [0])


@pytest.mark.real_data
def test_preprocess_real_1000_hz_record_in_requested_lead_order(challenge_dir):
    header = load_header(challenge_dir / "S0001.hea")
    recording = load_recording(challenge_dir / "S0001.mat", header)
    out = preprocess(header, recording, ("V2", "I"))
    assert out.signal.shape == (2, 19200) and out.fs_hz == 500.0 and out.signal.dtype == np.float32
    reference = preprocess(header, recording, ("I",)).signal[0]
    np.testing.assert_array_equal(out.signal[1], reference)
    assert np.isfinite(out.signal).all() and (out.repaired == 0).all()


@pytest.mark.real_data
def test_preprocess_repairs_invalid_samples_of_a_real_record(challenge_dir):
    header = load_header(challenge_dir / "A0001.hea")
    recording = load_recording(challenge_dir / "A0001.mat", header)
    recording[1, 100:200] = -32768
    out = preprocess(header, recording, STANDARD_LEADS)
    assert np.isfinite(out.signal).all()
    assert out.repaired[1] == pytest.approx(100 / 7500) and out.repaired[0] == 0


@pytest.mark.real_data
def test_preprocess_every_shared_record_gives_finite_windows(challenge_dir):
    from ecgcrnn.io.records import find_challenge_files

    for header_file, recording_file in zip(*find_challenge_files(challenge_dir), strict=True):
        header = load_header(header_file)
        out = preprocess(header, load_recording(recording_file, header), STANDARD_LEADS)
        batch = windows(out.signal)
        assert batch.shape[1:] == (12, 5000) and np.isfinite(batch).all(), header_file


def test_very_short_signals_do_not_break_the_filters():
    assert filter_signal(np.ones((3, 5))).shape == (3, 5)
    assert filter_signal(np.ones((3, 0))).shape == (3, 0)
    assert windows(filter_signal(np.ones((3, 0)))).shape == (1, 3, 5000)


def test_config_window_samples():
    assert PreprocessConfig().window_samples == 5000
    assert PreprocessConfig(fs_hz=250.0, window_s=8.0).window_samples == 2000


@pytest.mark.parametrize(
    "fs, samples", [(257.0, 1000), (360.0, 3601), (1000.0, 115174), (500.0, 7), (250.0, 0)]
)
def test_resampled_length_predicts_resample(fs, samples):
    assert resample(np.zeros((1, samples)), fs, FS).shape[1] == resampled_length(samples, fs, FS)


def _header(leads: int, gains=None) -> str:
    gains = gains or [1000] * leads
    lines = [f"R1 {leads} 500 5000"]
    lines += [
        f"R1.mat 16 {gain}/mV 16 0 0 0 0 {lead}" for gain, lead in zip(gains, STANDARD_LEADS, strict=False)
    ]
    return "\n".join(lines) + "\n"


def _leads(spans_mv, gains=None) -> np.ndarray:
    """Waves of the given peak-to-peak spans (mV), a frequency each, in ADC units at ``gains``."""
    gains = gains or [1000] * len(spans_mv)
    rows = []
    for i, (span, gain) in enumerate(zip(spans_mv, gains, strict=True)):
        wave = sine(1.0 + i)
        rows.append(((wave - wave.min()) / np.ptp(wave) - 0.5) * span * gain)
    return np.round(np.array(rows)).astype(np.int16)


def _rescaled(header, recording) -> bool:
    """What :func:`preprocess` says of the recording's leads, asked for leads I and II."""
    return preprocess(header, recording, ("I", "II")).rescaled


def test_leads_rescaled_to_one_range_are_recognised_in_millivolts_whatever_the_gains():
    gains = [1000, 500, 2000]

    assert _rescaled(_header(3, gains), _leads([1.0, 1.0, 1.0], gains))
    assert _rescaled(_header(12), _leads([2.0] * 12))


def test_recorded_leads_of_different_ranges_are_not_rescaled():
    assert not _rescaled(_header(3), _leads([1.0, 0.8, 1.3]))
    assert not _rescaled(_header(3, [1000, 500, 2000]), _leads([1.0, 1.0, 1.0]))  # equal in ADC only


def test_two_leads_flat_leads_and_missing_leads_never_count_as_rescaled():
    assert not _rescaled(_header(2), _leads([1.0, 1.0]))  # pairs of equal range occur by chance
    assert not _rescaled(_header(3), np.zeros((3, 5000), np.int16))
    missing = _leads([1.0, 1.0, 1.0])
    missing[2] = -32768  # WFDB's invalid sample throughout
    assert not _rescaled(_header(3), missing)


def test_rescaling_is_judged_on_every_lead_of_the_header_whichever_leads_are_wanted():
    header, recording = _header(3), _leads([1.0, 1.0, 1.0])
    different = _leads([1.0, 1.0, 1.3])

    assert all(preprocess(header, recording, [lead]).rescaled for lead in ("I", "II", "III"))
    assert not any(preprocess(header, different, [lead]).rescaled for lead in ("I", "II"))
    assert leads_rescaled(to_millivolts(header, recording))
    assert not leads_rescaled(to_millivolts(header, different))


@pytest.mark.real_data
def test_no_real_challenge_record_counts_as_rescaled(challenge_dir):
    for header_file, recording_file in zip(*find_challenge_files(challenge_dir), strict=True):
        header = load_header(header_file)
        assert not _rescaled(header, load_recording(recording_file, header)), header_file


@pytest.mark.real_data
def test_every_ludb_record_in_the_challenge_format_counts_as_rescaled(ludb_challenge_dir):
    for header_file, recording_file in zip(*find_challenge_files(ludb_challenge_dir), strict=True):
        header = load_header(header_file)
        assert _rescaled(header, load_recording(recording_file, header)), header_file
