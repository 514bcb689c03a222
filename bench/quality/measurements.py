"""How well single global measurements separate their classes on labelled real records.

Every record under the given folders goes through :func:`ecgcrnn.pipeline.prepare_record` (12 leads, the
default settings); its windows' measurements are combined
(:meth:`~ecgcrnn.pipeline.PreparedRecord.record_measurements`). For each pair of a class and the measurement
its textbook criterion rests on, prints the AUROC of the measurement (its sign chosen by the criterion's
direction) for the class against all other records, over the records where it was measured, per folder
and pooled, with the positives' count; then the machine line.

Usage: ``.venv/bin/python bench/quality/measurements.py [FOLDER ...]`` (default: the data root's
``challenge`` and ``ludb_challenge``, ../shared/data or ``$ECGCRNN_SHARED/data``)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's root, for devtools

import numpy as np
from joblib import Parallel, delayed
from sklearn.metrics import roc_auc_score
from tqdm import tqdm

from devtools.environment import data_root, print_machine_line
from ecgcrnn.domain import STANDARD_LEADS
from ecgcrnn.io.records import dx_codes, find_header_files, load_header, load_recording, parse_header
from ecgcrnn.pipeline import prepare_record

PAIRS = (  # class, its SNOMED CT codes, the measurement, +1 when larger means the class
    ("first-degree AV block", {"270492004"}, "PR_ms", 1),
    ("atrial fibrillation", {"164889003"}, "P_presence", -1),
    ("atrial fibrillation", {"164889003"}, "RR_irregularity", 1),
    ("atrial flutter", {"164890007"}, "flutter_regularity", 1),
    ("left bundle branch block", {"733534002", "164909002"}, "QRS_ms", 1),
    ("right bundle branch block", {"713427006", "59118001"}, "QRS_ms", 1),
    ("left axis deviation", {"39732003"}, "QRS_axis_deg", -1),
    ("prolonged QT", {"111975006"}, "QTc_Bazett_ms", 1),
    ("low QRS voltages", {"251146004"}, "limb_QRS_max_mV", -1),
    ("sinus bradycardia", {"426177001"}, "heart_rate_bpm", -1),
    ("sinus tachycardia", {"427084000"}, "heart_rate_bpm", 1),
    ("premature ventricular contractions", {"427172004", "17338001"}, "premature_wide_beats", 1),
    ("premature atrial contractions", {"284470004", "63593006"}, "premature_narrow_beats", 1),
    ("pacing rhythm", {"10370003"}, "paced_beats", 1),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "folders", nargs="*", type=Path, default=[data_root() / "challenge", data_root() / "ludb_challenge"]
    )
    args = parser.parse_args()
    files = [(folder.name, Path(h)) for folder in args.folders for h in find_header_files(folder)]
    rows = Parallel(n_jobs=os.cpu_count() or 1)(
        delayed(_measure)(source, header_file)
        for source, header_file in tqdm(files, unit="rec", disable=None)
    )
    sources = sorted({source for source, *_ in rows})
    print(f"{len(rows)} records; AUROC of one measurement for its class (positives), 12 leads")
    header = f"{'class':<36} {'measurement':<24}" + "".join(f"{name:>20}" for name in [*sources, "pooled"])
    print(header)
    print("-" * len(header))
    for name, codes, measurement, sign in PAIRS:
        cells = [_auroc([r for r in rows if r[0] == s], codes, measurement, sign) for s in sources]
        cells.append(_auroc(rows, codes, measurement, sign))
        print(f"{name:<36} {measurement:<24}" + "".join(f"{cell:>20}" for cell in cells))
    print()
    print_machine_line()


def _measure(source: str, header_file: Path):
    text = load_header(header_file)
    header = parse_header(text, source=str(header_file))
    recording = load_recording(header_file.with_suffix(".mat"), header)
    measurements = prepare_record(header, recording, STANDARD_LEADS).record_measurements()
    return source, set(dx_codes(text)), dict(measurements)


def _auroc(rows, codes, measurement: str, sign: int) -> str:
    labels = np.array([bool(row[1] & codes) for row in rows], dtype=bool)
    values = np.array([row[2][measurement] for row in rows], dtype=float) * sign
    measured = np.isfinite(values)
    positives = int(labels[measured].sum())
    if positives == 0 or positives == measured.sum():
        return f"- ({positives})"
    return f"{roc_auc_score(labels[measured], values[measured]):.2f} ({positives})"


if __name__ == "__main__":
    main()
