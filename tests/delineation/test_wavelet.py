"""Tests of ecgcrnn.delineation.wavelet.quadratic_spline_swt: formulas worked by hand, shapes, short inputs,
and agreement with the hand-written filter bank it replaced (devtools/wavelet.py) on random and LUDB signals.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import LUDB_DATA as LUDB
from scipy.signal import resample_poly

from devtools.ludb import read_record
from devtools.wavelet import hand_written_swt
from ecgcrnn.delineation.wavelet import quadratic_spline_swt

EDGE = 2**5
"""Samples at either end of a signal within reach of the reflection at scales up to 2^5."""


def impulse_response(n_scales: int, n: int = 256, at: int = 128) -> np.ndarray:
    """Transform of a unit impulse at sample ``at`` of ``n`` zeros: (n_scales, n)."""
    x = np.zeros(n)
    x[at] = 1.0
    return quadratic_spline_swt(x, n_scales)


def test_scale_one_is_twice_the_forward_difference():
    x = np.random.default_rng(1).standard_normal((3, 200))
    w = quadratic_spline_swt(x)
    np.testing.assert_allclose(w[0, :, :-1], 2.0 * (x[:, 1:] - x[:, :-1]), rtol=0, atol=1e-12)


def test_scale_one_impulse_response_is_the_high_pass_taps():
    w = impulse_response(1)[0]
    np.testing.assert_array_equal(np.flatnonzero(w), [127, 128])
    np.testing.assert_allclose(w[127:129], [2.0, -2.0], rtol=0, atol=1e-15)


def test_scale_two_impulse_response_is_the_high_pass_of_the_smoothed_signal():
    # W2[n] = 2 (A1[n + 1] - A1[n - 1]), A1[n] = (x[n - 1] + 3 x[n] + 3 x[n + 1] + x[n + 2]) / 8: an impulse
    # at m gives (1, 3, 2, -2, -3, -1) / 4 at n = m - 3 .. m + 2.
    w = impulse_response(2)[1]
    np.testing.assert_array_equal(np.flatnonzero(w), np.arange(125, 131))
    np.testing.assert_allclose(
        w[125:131], np.array([1.0, 3.0, 2.0, -2.0, -3.0, -1.0]) / 4.0, rtol=0, atol=1e-15
    )


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_impulse_response_is_odd_about_half_a_sample_before_the_impulse(k):
    # Centred on n + 0.5 (WAVELET_OFFSET): W[m - 1 - j] = -W[m + j]; 2^(k + 1) - 2 taps; zero sum.
    w = impulse_response(5)[k - 1]
    taps = np.flatnonzero(np.abs(w) > 1e-15)
    assert taps.size == 2 ** (k + 1) - 2
    np.testing.assert_array_equal(taps, 255 - taps[::-1])
    np.testing.assert_allclose(w[127::-1][:64], -w[128:][:64], rtol=0, atol=1e-15)
    assert abs(w.sum()) < 1e-12


def test_linear_ramp_gives_a_constant_detail_of_two_to_the_k_times_the_slope():
    slope = 0.3
    w = quadratic_spline_swt(slope * np.arange(300.0) - 5.0)
    expected = slope * 2.0 ** np.arange(1, 6)
    np.testing.assert_allclose(w[:, EDGE:-EDGE], np.broadcast_to(expected[:, None], (5, 300 - 2 * EDGE)))


def test_constant_signal_transforms_to_zero():
    np.testing.assert_allclose(quadratic_spline_swt(np.full((2, 100), 3.5)), 0.0, atol=1e-12)


@pytest.mark.parametrize(
    ("shape", "n_scales"), [((12, 2500), 5), ((2500,), 5), ((2, 3, 40), 4), ((12, 0), 5), ((1, 7), 1)]
)
def test_output_shape_is_scales_then_input_shape(shape, n_scales):
    w = quadratic_spline_swt(np.ones(shape), n_scales)
    assert w.shape == (n_scales, *shape)
    assert w.dtype == np.float64


@pytest.mark.parametrize("n", [1, 2, 5, 33, 2501])
def test_short_and_odd_lengths_give_finite_coefficients_of_the_input_length(n):
    w = quadratic_spline_swt(np.random.default_rng(n).standard_normal((12, n)))
    assert w.shape == (5, 12, n)
    assert np.isfinite(w).all()


def test_single_sample_transforms_to_zero():
    np.testing.assert_array_equal(quadratic_spline_swt(np.array([[2.0], [-1.0]])), np.zeros((5, 2, 1)))


def test_integer_input_is_transformed_in_float():
    x = np.arange(50)
    np.testing.assert_allclose(quadratic_spline_swt(x), quadratic_spline_swt(x.astype(float)))


def test_fewer_than_one_scale_is_rejected():
    with pytest.raises(ValueError, match="n_scales must be at least 1"):
        quadratic_spline_swt(np.zeros((12, 100)), 0)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 33, 100, 2500, 2501])
@pytest.mark.parametrize("n_scales", [1, 3, 5, 6])
def test_agrees_with_the_hand_written_filter_bank_on_random_signals(n, n_scales):
    x = np.random.default_rng(n * 10 + n_scales).standard_normal((12, n))
    np.testing.assert_allclose(
        quadratic_spline_swt(x, n_scales), hand_written_swt(x, n_scales), rtol=0, atol=1e-6
    )


@pytest.mark.real_data
def test_agrees_with_the_hand_written_filter_bank_on_ludb_records_at_250_hz():
    if not LUDB.is_dir():
        pytest.skip("../shared/data/ludb not found")
    for number in (1, 26, 51, 76, 101, 126, 151, 176, 200):
        x = resample_poly(read_record(LUDB / str(number))[0], 1, 2, axis=-1, padtype="line")
        assert x.shape == (12, 2500)
        np.testing.assert_allclose(quadratic_spline_swt(x), hand_written_swt(x), rtol=0, atol=1e-6)
