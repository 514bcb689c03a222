"""The interval error table the accuracy benches print (devtools.intervals)."""

from __future__ import annotations

import numpy as np

from devtools.intervals import error_table


def _row(table: str, name: str) -> list[str]:
    return next(line.split() for line in table.splitlines() if line.startswith(f"{name} "))


def test_error_table_counts_records_compared_missed_and_extra_and_gives_the_errors():
    measured = np.array([100.0, 110.0, np.nan, 130.0, 90.0, np.nan])
    reference = np.array([96.0, 120.0, 140.0, np.nan, 90.0, 150.0])  # errors +4, -10, 0; 2 missed, 1 extra
    row = _row(error_table({"QRS": (measured, reference)}), "QRS")
    assert row[:4] == ["QRS", "3", "2", "1"]
    assert [float(value) for value in row[4:7]] == [4.0, -2.0, np.percentile([4.0, 10.0, 0.0], 95).round(1)]


def test_error_table_judges_the_median_absolute_error_against_a_target_only_when_given():
    values = {"PR": (np.array([150.0, 170.0]), np.array([140.0, 160.0]))}  # median |error| 10 ms
    assert _row(error_table(values, target_ms=8), "PR")[7] == "MISS"
    assert _row(error_table(values, target_ms=10), "PR")[7] == "ok"
    assert len(_row(error_table(values), "PR")) == 7


def test_an_interval_never_measured_where_marked_has_counts_but_no_errors():
    row = _row(error_table({"QT": (np.full(3, np.nan), np.array([400.0, 410.0, np.nan]))}), "QT")
    assert row == ["QT", "0", "2", "0"]
