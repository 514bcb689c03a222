"""The shared median (ecgcrnn.signal.arrays.nanmedian): numpy's median where every entry is finite, numpy's
nanmedian where some are missing."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ecgcrnn.signal.arrays import nanmedian

FINITE = st.floats(-1e6, 1e6, allow_nan=False, width=32)
WITH_GAPS = st.one_of(FINITE, st.just(np.nan), st.just(np.inf), st.just(-np.inf))


@settings(max_examples=200, deadline=None)
@given(
    arrays(
        st.sampled_from([np.float32, np.float64]),
        st.tuples(st.integers(1, 4), st.integers(2, 9)),
        elements=FINITE,
    )
)
def test_finite_values_give_numpys_median_to_the_bit_in_their_dtype(values):
    result = nanmedian(values)
    expected = np.median(values, axis=-1)
    assert result.dtype == values.dtype
    assert np.array_equal(np.abs(result), np.abs(expected))  # the sign of a zero median aside


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(0, 9)), elements=WITH_GAPS))
def test_missing_values_are_skipped_and_a_row_without_any_gives_nan(values):
    finite = np.where(np.isfinite(values), values, np.nan)
    expected = [np.median(row[~np.isnan(row)]) if (~np.isnan(row)).any() else np.nan for row in finite]
    assert np.array_equal(nanmedian(values), np.array(expected, dtype=float), equal_nan=True)


def test_the_axis_reduced_is_the_one_asked_for():
    values = np.arange(24, dtype=float).reshape(2, 3, 4)
    assert np.array_equal(nanmedian(values, axis=1), np.median(values, axis=1))
