"""Tests of ecgcrnn.delineation.delineate: synthetic beats with known fiducials, robustness, and LUDB
accuracy.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import LUDB_DATA as LUDB
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.ndimage import maximum_filter1d

from ecgcrnn.delineation.delineate import _p_locking, _pull_to_median, _t_partner, delineate, delineate_leads
from ecgcrnn.delineation.qrs import modulus_maxima_lines, pacing_spikes
from ecgcrnn.delineation.settings import DelineationConfig
from ecgcrnn.delineation.wavelet import quadratic_spline_swt, take_last
from ecgcrnn.domain import FIDUCIALS

# Gaussian waves of one synthetic beat: (name, delay from R in s, amplitude in mV, width SD in s).
WAVES = (
    ("P", -0.16, 0.15, 0.020),
    ("Q", -0.022, -0.10, 0.008),
    ("R", 0.0, 1.0, 0.010),
    ("S", 0.024, -0.25, 0.008),
    ("T", 0.30, 0.30, 0.040),
)


def synthetic_ecg(fs: float, bpm: float, duration_s: float, with_p: bool = True, seed: int = 0):
    """Sum-of-Gaussians ECG; returns (signal in mV, R peak times in s)."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(duration_s * fs)) / fs
    r_times = np.arange(0.5, duration_s - 0.3, 60.0 / bpm)
    x = 0.02 * rng.standard_normal(t.size) * 0.1
    for r in r_times:
        for name, delay, amp, width in WAVES:
            if name == "P" and not with_p:
                continue
            x += amp * np.exp(-0.5 * ((t - r - delay) / width) ** 2)
    return x, r_times


def assert_well_formed(result: dict, n_samples: int, ndim: int = 1) -> None:
    """Nine keys, equal shapes, float, NaN or inside the signal."""
    assert tuple(result) == FIDUCIALS
    shapes = {value.shape for value in result.values()}
    assert len(shapes) == 1
    for value in result.values():
        assert value.ndim == ndim
        assert value.dtype == float
        finite = value[np.isfinite(value)]
        assert np.all((finite >= 0) & (finite <= max(n_samples - 1, 0)))


def test_wavelet_zero_crossing_marks_the_peak_at_every_scale():
    t = np.arange(400.0)
    w = quadratic_spline_swt(np.exp(-0.5 * ((t - 200.3) / 8.0) ** 2), 5)
    for scale in w:
        j = np.flatnonzero((scale[:-1] > 0) & (scale[1:] <= 0))
        j = j[np.argmin(np.abs(j - 200))]
        crossing = j + scale[j] / (scale[j] - scale[j + 1]) + 0.5
        assert abs(crossing - 200.3) < 0.05


@pytest.mark.parametrize("fs", [250.0, 360.0, 500.0, 1000.0])
def test_synthetic_fiducials_are_found_near_the_true_waves(fs):
    x, r_times = synthetic_ecg(fs, bpm=72, duration_s=10.0)
    result = delineate(x, fs)
    assert_well_formed(result, x.size)
    assert result["R"].size == r_times.size
    for name, key, tol_s in (("R", "R", 0.006), ("P", "P_peak", 0.012), ("T", "T_peak", 0.02)):
        delay = next(d for n, d, _, _ in WAVES if n == name)
        np.testing.assert_allclose(result[key] / fs, r_times + delay, atol=tol_s)


def test_synthetic_boundaries_bracket_their_waves_in_order():
    fs = 500.0
    x, _ = synthetic_ecg(fs, bpm=60, duration_s=10.0)
    result = delineate(x, fs)
    stacked = np.vstack([result[key] for key in FIDUCIALS])
    assert np.all(np.isfinite(stacked))
    assert np.all(np.diff(stacked, axis=0) > 0)
    qrs_ms = (result["QRS_off"] - result["QRS_on"]) / fs * 1000
    assert np.all((qrs_ms > 50) & (qrs_ms < 120))


@pytest.mark.parametrize("bpm", [30, 220])
def test_extreme_heart_rates_give_one_beat_per_qrs(bpm):
    fs = 500.0
    x, r_times = synthetic_ecg(fs, bpm=bpm, duration_s=10.0, with_p=bpm < 200)
    result = delineate(x, fs)
    np.testing.assert_allclose(result["R"] / fs, r_times, atol=0.006)


def test_low_amplitude_beat_between_normal_beats_is_found():
    fs = 500.0
    x, r_times = synthetic_ecg(fs, bpm=60, duration_s=10.0)
    small = (np.abs(np.arange(x.size) / fs - r_times[5]) < 0.35).astype(float)
    x = x * (1.0 - 0.4 * small)
    result = delineate(x, fs)
    np.testing.assert_allclose(result["R"] / fs, r_times, atol=0.006)


def test_inverted_lead_keeps_qrs_boundaries():
    fs = 500.0
    x, _ = synthetic_ecg(fs, bpm=72, duration_s=10.0)
    upright, inverted = delineate(x, fs), delineate(-x, fs)
    for key in ("QRS_on", "QRS_off"):
        np.testing.assert_allclose(inverted[key], upright[key], atol=0.004 * fs)


def test_atrial_fibrillation_has_no_p_waves():
    fs, rng = 500.0, np.random.default_rng(3)
    t = np.arange(round(10 * fs)) / fs
    r_times = np.cumsum(rng.uniform(0.45, 1.0, 20))
    r_times = r_times[r_times < 9.7]
    x = sum(a * np.exp(-0.5 * ((t[:, None] - r_times - d) / w) ** 2).sum(axis=1) for _, d, a, w in WAVES[1:])
    phase = rng.uniform(0, 2 * np.pi, 3)
    x = x + sum(0.06 * np.sin(2 * np.pi * f * t + p) for f, p in zip((5.3, 6.1, 7.4), phase, strict=True))
    result = delineate(x, fs)
    assert result["R"].size == r_times.size
    assert np.isnan(result["P_peak"]).mean() >= 0.8


def test_paced_beats_are_not_split_by_the_pacing_spike():
    fs = 1000.0
    x, r_times = synthetic_ecg(fs, bpm=70, duration_s=8.0, with_p=False)
    spikes = np.round((r_times - 0.04) * fs).astype(int)
    x[spikes] += 3.0
    x[spikes + 1] -= 1.0
    result = delineate(x, fs)
    assert_well_formed(result, x.size)
    assert abs(result["R"].size - r_times.size) <= 1


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: np.zeros(5000), id="flat"),
        pytest.param(lambda: np.full(5000, 3.2), id="constant"),
        pytest.param(lambda: np.random.default_rng(0).standard_normal(5000), id="noise"),
        pytest.param(lambda: np.full(5000, np.nan), id="all-nan"),
        pytest.param(lambda: np.zeros(0), id="empty"),
        pytest.param(lambda: np.array([1.0]), id="one-sample"),
    ],
)
def test_hopeless_leads_give_no_beats_or_well_formed_output(make):
    x = make()
    result = delineate(x, 500.0)
    assert_well_formed(result, x.size)
    if not np.any(np.isfinite(x)) or np.ptp(np.nan_to_num(x)) == 0:
        assert result["R"].size == 0


@pytest.mark.parametrize("duration_s", [1.0, 3.0])
def test_short_records_are_delineated(duration_s):
    fs = 500.0
    x, r_times = synthetic_ecg(fs, bpm=80, duration_s=duration_s)
    result = delineate(x, fs)
    assert_well_formed(result, x.size)
    assert result["R"].size == r_times.size


def test_nan_runs_and_clipping_do_not_break_delineation():
    fs = 500.0
    x, r_times = synthetic_ecg(fs, bpm=72, duration_s=10.0)
    x = np.clip(x, -0.5, 0.6)
    x[1200:1500] = np.nan
    result = delineate(x, fs)
    assert_well_formed(result, x.size)
    assert r_times.size - 1 <= result["R"].size <= r_times.size


def test_integer_input_matches_float_input():
    fs = 500
    x, _ = synthetic_ecg(fs, bpm=72, duration_s=5.0)
    counts = np.round(x * 1000).astype(np.int16)
    as_int, as_float = delineate(counts, fs), delineate(counts.astype(float), fs)
    for key in FIDUCIALS:
        np.testing.assert_array_equal(as_int[key], as_float[key])


@pytest.mark.parametrize("fs", [0, -500, float("nan"), float("inf"), "500", None])
def test_invalid_sampling_rate_raises_value_error(fs):
    with pytest.raises(ValueError, match="fs"):
        delineate(np.zeros(1000), fs)


def test_two_dimensional_input_to_single_lead_form_raises_value_error():
    with pytest.raises(ValueError, match="1-D"):
        delineate(np.zeros((2, 1000)), 500.0)


def test_three_dimensional_input_to_multi_lead_form_raises_value_error():
    with pytest.raises(ValueError, match="n_leads, n_samples"):
        delineate_leads(np.zeros((2, 2, 1000)), 500.0)


def test_multi_lead_shares_one_beat_grid_across_leads():
    fs = 500.0
    x, r_times = synthetic_ecg(fs, bpm=72, duration_s=10.0)
    noise = np.random.default_rng(1).standard_normal(x.size)
    leads = np.vstack([x, -0.5 * x, 2.0 * x, np.full(x.size, np.nan), 0.05 * noise])
    result = delineate_leads(leads, fs)
    assert_well_formed(result, x.size, ndim=2)
    assert result["R"].shape == (5, r_times.size)
    assert np.all(np.isnan(result["R"][3]))
    np.testing.assert_allclose(result["R"][[0, 2]] / fs, np.tile(r_times, (2, 1)), atol=0.006)
    assert np.all(np.diff(result["R"][0]) > 0)


def test_extreme_sampling_rates_do_not_crash():
    for fs in (1.0, 50.0, 100_000.0):
        x, _ = synthetic_ecg(fs, bpm=72, duration_s=3.0)
        assert_well_formed(delineate(x, fs), x.size)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_samples=st.integers(0, 4000),
    fs=st.floats(250.0, 1000.0),
    n_leads=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([0.0, 1e-6, 1.0, 1e4]),
    nan_fraction=st.sampled_from([0.0, 0.1, 1.0]),
)
def test_random_signals_never_crash_and_are_well_formed(n_samples, fs, n_leads, seed, scale, nan_fraction):
    rng = np.random.default_rng(seed)
    x = scale * np.cumsum(rng.standard_normal((n_leads, n_samples)), axis=1)
    x[rng.random(x.shape) < nan_fraction] = np.nan
    result = delineate_leads(x, fs)
    assert_well_formed(result, n_samples, ndim=2)
    assert result["R"].shape[0] == n_leads
    assert_well_formed(delineate(x[0], fs), n_samples)


@settings(max_examples=15, deadline=None)
@given(bpm=st.floats(30.0, 220.0), fs=st.floats(250.0, 1000.0), seed=st.integers(0, 1000))
def test_random_rates_find_every_synthetic_beat(bpm, fs, seed):
    x, r_times = synthetic_ecg(fs, bpm=bpm, duration_s=6.0, with_p=bpm < 180, seed=seed)
    result = delineate(x, fs)
    np.testing.assert_allclose(result["R"] / fs, r_times, atol=0.008)


@pytest.mark.real_data
@pytest.mark.skipif(not LUDB.is_dir(), reason="../shared/data/ludb not found")
def test_ludb_records_meet_qrs_accuracy():
    from devtools.ludb import LEADS, compare_lead, read_record, read_reference

    errors, n_ref = {"QRS_on": [], "QRS_off": []}, {"QRS_on": 0, "QRS_off": 0}
    for number in (1, 2, 3, 10, 20):
        signals, fs = read_record(LUDB / str(number))
        detected = delineate_leads(signals, fs)
        for index, lead in enumerate(LEADS):
            row = {key: detected[key][index] for key in FIDUCIALS}
            results = compare_lead(read_reference(LUDB / str(number), lead), row, 0.15 * fs)
            for key in errors:
                errors[key].append(results[key].errors_samples / fs * 1000)
                n_ref[key] += results[key].n_reference
    for key, parts in errors.items():
        err = np.concatenate(parts)
        assert err.size >= 0.99 * n_ref[key]
        assert abs(err.mean()) < 10 and err.std() < 20


def paced_leads(fs: float = 500.0):
    """Three synthetic leads, a one-sample pacemaker spike 40 ms before every R; (leads, spike samples)."""
    x, r_times = synthetic_ecg(fs, bpm=70, duration_s=8.0, with_p=False)
    leads = np.vstack([x, -0.7 * x, 1.5 * x])
    spikes = np.round((r_times - 0.04) * fs).astype(int)
    leads[:, spikes] += np.array([[2.0], [-1.5], [2.5]])
    return leads, spikes


def test_pacing_spikes_are_found_only_at_the_spikes():
    leads, spikes = paced_leads()
    found = pacing_spikes(leads, np.ones(3, dtype=bool), DelineationConfig().pace_z)
    found = np.flatnonzero(found)
    assert np.all(np.isin(spikes, found))
    assert np.all(np.min(np.abs(found[:, None] - spikes), axis=1) <= 1)
    clean, _ = synthetic_ecg(500.0, bpm=70, duration_s=8.0)
    assert not pacing_spikes(clean[None, :], np.ones(1, dtype=bool), DelineationConfig().pace_z).any()


def test_paced_qrs_onset_is_not_before_its_spike():
    leads, spikes = paced_leads()
    result = delineate_leads(leads, 500.0)
    assert result["QRS_on"].shape == (3, spikes.size)
    assert np.all(result["QRS_on"] >= spikes + 0.005 * 500.0)


def test_pull_to_median_clips_then_shrinks_each_leads_deviation():
    values = np.array([[10.0], [12.0], [20.0], [14.0]])
    pulled = _pull_to_median(values, limit=4.0, shrink=0.5)
    np.testing.assert_allclose(pulled[:, 0], [13.0 - 1.5, 13.0 - 0.5, 13.0 + 2.0, 13.0 + 0.5])


@pytest.mark.real_data
@pytest.mark.skipif(not LUDB.is_dir(), reason="../shared/data/ludb not found")
def test_ludb_paced_record_qrs_onset_follows_the_stimulus():
    from devtools.ludb import LEADS, compare_lead, read_record, read_reference

    signals, fs = read_record(LUDB / "74")
    detected = delineate_leads(signals, fs)
    errors = []
    for index, lead in enumerate(LEADS):
        row = {key: detected[key][index] for key in FIDUCIALS}
        errors.append(
            compare_lead(read_reference(LUDB / "74", lead), row, 0.15 * fs)["QRS_on"].errors_samples
        )
    assert abs(np.mean(np.concatenate(errors)) / fs * 1000) < 15


def single_lead_errors_ms(number: int, lead: str, key: str) -> tuple[np.ndarray, int]:
    """Errors (ms) of :func:`delineate` on one LUDB lead against its marks of ``key``; and their count."""
    from devtools.ludb import LEADS, compare_lead, read_record, read_reference

    signals, fs = read_record(LUDB / str(number))
    result = delineate(signals[LEADS.index(lead)], fs)
    match = compare_lead(read_reference(LUDB / str(number), lead), result, 0.15 * fs)[key]
    return match.errors_samples / fs * 1000.0, match.n_reference


@pytest.mark.real_data
@pytest.mark.skipif(not LUDB.is_dir(), reason="../shared/data/ludb not found")
def test_single_lead_finds_the_p_waves_of_a_sinus_rhythm():
    errors, n_reference = single_lead_errors_ms(22, "iii", "P_on")
    assert errors.size >= 0.9 * n_reference
    assert np.all(np.abs(errors) <= 20.0)


@pytest.mark.real_data
@pytest.mark.skipif(not LUDB.is_dir(), reason="../shared/data/ludb not found")
@pytest.mark.parametrize(("number", "lead"), [(38, "ii"), (38, "v1"), (51, "ii"), (51, "v1")])
def test_single_lead_reports_no_p_waves_in_atrial_fibrillation(number, lead):
    from devtools.ludb import LEADS, read_record

    signals, fs = read_record(LUDB / str(number))
    result = delineate(signals[LEADS.index(lead)], fs)
    assert result["R"].size > 5
    assert not np.isfinite(result["P_on"]).any()


@pytest.mark.real_data
@pytest.mark.skipif(not LUDB.is_dir(), reason="../shared/data/ludb not found")
@pytest.mark.parametrize(("number", "lead"), [(57, "i"), (7, "ii")])
def test_single_lead_qrs_onset_is_not_placed_in_the_p_wave(number, lead):
    errors, n_reference = single_lead_errors_ms(number, lead, "QRS_on")
    assert errors.size >= 0.9 * n_reference
    assert np.all(np.abs(errors) <= 20.0)


def test_p_locking_is_high_for_repeating_waves_and_low_for_random_ones():
    rng = np.random.default_rng(1)
    n_beats, length = 10, 60
    anchors = np.arange(n_beats)[None, :] * 200 + 100
    start, stop = anchors - length, anchors
    t = np.arange(length)
    wave = np.sin(2 * np.pi * t / length)
    locked = np.zeros((1, n_beats * 200 + 200))
    random = rng.standard_normal(locked.shape)
    for a in anchors[0]:
        locked[0, a - length : a] = wave + 0.2 * rng.standard_normal(length)
    assert _p_locking(locked, anchors, start, stop) > 0.8
    assert _p_locking(random, anchors, start, stop) < 0.3
    assert _p_locking(random, anchors[:, :2], start[:, :2], stop[:, :2]) == 1.0


def test_t_partner_is_the_larger_neighbouring_lobe_not_a_distant_larger_maximum():
    v = np.array([0.0, 0.2, 0.0, -0.5, -1.0, -0.5, 0.0, 0.1, 0.0, -0.1, 0.0, 0.6, 0.0])[None, None, :]
    a = np.abs(v)
    lm = np.zeros(a.shape, dtype=bool)
    lm[..., [1, 4, 7, 9, 11]] = True
    crossing = np.zeros(a.shape, dtype=bool)
    crossing[..., :-1] = (v[..., :-1] * v[..., 1:] <= 0) & (v[..., :-1] != 0)
    partner, paired = _t_partner(a, lm, crossing, np.array([[4]]))
    assert paired[0, 0]
    assert partner[0, 0] == 1


def test_late_t_wave_of_a_slow_rhythm_is_found():
    fs, rr_s, t_delay_s = 500.0, 1.6, 0.56
    t = np.arange(round(12 * fs)) / fs
    r_times = np.arange(0.5, 11.5, rr_s)
    x = np.zeros_like(t)
    for r in r_times:
        x += np.exp(-0.5 * ((t - r) / 0.01) ** 2) - 0.25 * np.exp(-0.5 * ((t - r - 0.024) / 0.008) ** 2)
        x += 0.3 * np.exp(-0.5 * ((t - r - t_delay_s) / 0.045) ** 2)
    result = delineate(x, fs)
    assert result["T_peak"].size == r_times.size
    np.testing.assert_allclose(result["T_peak"] / fs - r_times, t_delay_s, atol=0.01)


@pytest.mark.real_data
@pytest.mark.skipif(not LUDB.is_dir(), reason="../shared/data/ludb not found")
def test_single_lead_t_offset_is_not_taken_in_the_next_p_wave():
    errors, n_reference = single_lead_errors_ms(65, "ii", "T_off")
    assert errors.size >= 0.9 * n_reference
    assert np.all(np.abs(errors) <= 30.0)


def test_take_last_is_take_along_the_last_axis():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 4, 9))
    index = rng.integers(0, 9, (3, 4))
    np.testing.assert_array_equal(
        take_last(a, index), np.take_along_axis(a, index[..., None], axis=-1)[..., 0]
    )


def test_modulus_maxima_lines_see_the_running_maximum_with_reflected_ends():
    # Candidates next to the ends: the gathered neighbourhoods must match scipy's running maximum.
    rng = np.random.default_rng(4)
    w = np.cumsum(rng.standard_normal((5, 3, 60)), axis=-1)
    eps = np.full((4, 3), 0.5)
    row, position, positive, modulus = modulus_maxima_lines(w, eps, 5)
    a4 = np.abs(w[3])
    ok = np.zeros_like(a4, dtype=bool)
    ok[:, 1:-1] = (a4[:, 1:-1] >= a4[:, :-2]) & (a4[:, 1:-1] > a4[:, 2:])
    ok &= a4 > 0.5
    up = w[3] > 0
    same = [np.where(up, maximum_filter1d(w[k], 11), maximum_filter1d(-w[k], 11)) for k in range(3)]
    for k in range(3):
        ok &= same[k] > 0.5
    expected_row, expected_position = np.nonzero(ok)
    assert expected_row.size > 0
    np.testing.assert_array_equal(row, expected_row)
    np.testing.assert_array_equal(position, expected_position)
    np.testing.assert_array_equal(positive, up[ok])
    np.testing.assert_array_equal(modulus, same[1][ok])
