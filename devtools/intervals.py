"""The global intervals the accuracy benches compare, and the table of their errors.

bench/quality/intervals.py compares measured intervals with a simulator's truth, bench/quality/measure.py
with LUDB's cardiologists'; both print :func:`error_table`.
"""

from __future__ import annotations

import numpy as np

INTERVALS = {"PR": ("P_on", "QRS_on"), "QRS": ("QRS_on", "QRS_off"), "QT": ("QRS_on", "T_off")}
"""Interval name: (start fiducial, end fiducial); measured as ``<name>_ms``."""


def error_table(results: dict[str, tuple[np.ndarray, np.ndarray]], target_ms: float | None = None) -> str:
    """One row per interval of ``results`` (name: measured and reference values in ms, NaN where not
    given): the records compared, those the reference gives but the measurement does not (missed) and
    the reverse (extra), the median absolute error, the mean error and the 95th percentile of the absolute
    error; with ``target_ms``, whether the median absolute error is within it."""
    header = f"{'interval':<9} {'n':>5} {'missed':>6} {'extra':>6}"
    header += f" {'med|e| ms':>9} {'mean e ms':>9} {'p95|e| ms':>9}"
    lines = [header, "-" * len(header)]
    for name, (measured, reference) in results.items():
        given, marked = np.isfinite(measured), np.isfinite(reference)
        error = measured[given & marked] - reference[given & marked]
        missed, extra = int((marked & ~given).sum()), int((given & ~marked).sum())
        counts = f"{name:<9} {error.size:>5d} {missed:>6d} {extra:>6d}"
        if error.size == 0:
            lines.append(counts)
            continue
        median_abs = float(np.median(np.abs(error)))
        row = f"{counts} {median_abs:>9.1f} {error.mean():>+9.1f} {np.percentile(np.abs(error), 95):>9.1f}"
        if target_ms is not None:
            row += f"   {'ok' if median_abs <= target_ms else 'MISS'} (med|e| <= {target_ms:g})"
        lines.append(row)
    return "\n".join(lines)
