"""The delineator's wavelet transform: PyWavelets against the hand-written à trous filter bank it replaced.

Reads every LUDB record, resamples its 12 leads from 500 Hz to the delineator's internal 250 Hz as the
delineator does (``resample_poly(x, 1, 2, axis=-1, padtype="line")``, arrays of 12 x 2500), and

* prints the largest absolute difference, in mV, between :func:`ecgcrnn.delineation.wavelet.
  quadratic_spline_swt` and :func:`devtools.wavelet.hand_written_swt` over all records, and over random
  signals of short and odd lengths;
* times, with one thread, the package's transform (``pywt.swt`` one level per call), the hand-written one,
  and ``pywt.swt`` taking all levels in one call, interleaved record by record, keeping the best of several
  passes per record, and prints the median and 90th percentile in ms, then the machine line.

Usage: ``.venv/bin/python bench/speed/wavelet.py [--ludb DIR] [--passes 15]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's root, for devtools

from devtools.environment import data_root, limit_threads, print_machine_line

limit_threads(1)  # before numpy is first imported, here or by the modules below (hence their E402)

import numpy as np  # noqa: E402
import pywt  # noqa: E402
from scipy.signal import resample_poly  # noqa: E402

from devtools.ludb import read_record  # noqa: E402
from devtools.wavelet import H_TAPS, hand_written_swt  # noqa: E402
from ecgcrnn.delineation.wavelet import quadratic_spline_swt  # noqa: E402

SHORT_LENGTHS = (1, 2, 5, 33, 2501)
"""Signal lengths, in samples, of the random 12-row signals also compared."""

_G_TAPS = np.array([0.0, 2.0, -2.0, 0.0])
_WAVELET = pywt.Wavelet("quadratic_spline", filter_bank=(H_TAPS, _G_TAPS, H_TAPS, _G_TAPS))


def one_call_swt(x: np.ndarray, n_scales: int = 5) -> np.ndarray:
    """The package's transform with every level in a single ``pywt.swt`` call (all levels alive at once)."""
    x = np.asarray(x, dtype=float)
    n = x.shape[-1]
    margin = 3 * 2 ** (n_scales - 1)
    widths = [(0, 0)] * (x.ndim - 1) + [(margin, margin + (-(n + 2 * margin)) % 2**n_scales)]
    padded = np.pad(x, widths, mode="reflect" if n > 1 else "edge")
    details = pywt.swt(padded, _WAVELET, level=n_scales, trim_approx=True, norm=False, axis=-1)[:0:-1]
    return np.stack([d[..., margin - 2**k // 2 + 1 :][..., :n] for k, d in enumerate(details, start=1)])


def load_ludb_250hz(ludb: Path) -> list[np.ndarray]:
    """Every LUDB record's 12 leads, in mV, resampled to 250 Hz as the delineator does: (12, 2500) each."""
    if not ludb.is_dir():
        raise SystemExit(f"{ludb}: LUDB folder not found (expected the records 1 .. 200 in WFDB format)")
    numbers = sorted(int(header.stem) for header in ludb.glob("*.hea") if header.stem.isdigit())
    return [resample_poly(read_record(ludb / str(i))[0], 1, 2, axis=-1, padtype="line") for i in numbers]


def max_difference(signals: list[np.ndarray]) -> float:
    """Largest absolute difference between the package's transform and :func:`hand_written_swt`."""
    return max(
        float(np.max(np.abs(quadratic_spline_swt(x) - hand_written_swt(x)), initial=0.0)) for x in signals
    )


def best_times_ms(signals: list[np.ndarray], functions, passes: int) -> np.ndarray:
    """Best-of-passes wall time of each function on each signal, in ms, shape (n_functions, n_signals).

    The functions take turns on every signal, so that they share whatever load the machine has.
    """
    best = np.full((len(functions), len(signals)), np.inf)
    for _ in range(passes):
        for j, x in enumerate(signals):
            for i, function in enumerate(functions):
                start = time.perf_counter()
                function(x)
                best[i, j] = min(best[i, j], (time.perf_counter() - start) * 1000.0)
    return best


def main() -> None:
    """Compare, time, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ludb", type=Path, default=data_root() / "ludb", help="LUDB folder")
    parser.add_argument("--passes", type=int, default=15, help="timing passes (best per record is kept)")
    args = parser.parse_args()
    records = load_ludb_250hz(args.ludb)
    rng = np.random.default_rng(0)
    short = [rng.standard_normal((12, n)) for n in SHORT_LENGTHS]
    print(
        f"max |pywt - hand-written|, {len(records)} LUDB records at 250 Hz: {max_difference(records):.3g} mV"
    )
    lengths = ", ".join(map(str, SHORT_LENGTHS))
    print(
        f"max |pywt - hand-written|, random 12-row signals of {lengths} samples: {max_difference(short):.3g}"
    )
    rows = (
        ("pywt.swt, one level per call (package)", quadratic_spline_swt),
        ("hand-written a trous (reference)", hand_written_swt),
        ("pywt.swt, all levels in one call", one_call_swt),
    )
    for _, function in rows:
        function(records[0])
    ms = best_times_ms(records, [function for _, function in rows], args.passes)
    shape = records[0].shape
    print(
        f"\n{len(records)} LUDB records, {shape[0]} leads x {shape[1]} samples at 250 Hz, 5 scales, 1 thread,"
        f" best of {args.passes} passes per record"
    )
    header = f"{'transform':<40} {'median ms':>10} {'p90 ms':>8} {'max ms':>8}"
    print(header)
    print("-" * len(header))
    for (name, _), times in zip(rows, ms, strict=True):
        print(f"{name:<40} {np.median(times):>10.3f} {np.percentile(times, 90):>8.3f} {times.max():>8.3f}")
    ratio = ms[0] / ms[1]
    spread = f"median {np.median(ratio):.3f}, p90 {np.percentile(ratio, 90):.3f}"
    print(f"package / hand-written, record by record: {spread}")
    print_machine_line()


if __name__ == "__main__":
    main()
