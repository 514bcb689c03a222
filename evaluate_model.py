"""Score a classifier's output files against the labels of a folder of headers (PhysioNet/CinC 2021).

Usage: python evaluate_model.py LABELS OUTPUTS [scores.csv] [class_scores.csv] [--plot FILE.png]

Without a scores file, the scores are printed. The definitions are in ecgcrnn.scoring.metrics, the reading
of the folders in ecgcrnn.scoring.evaluate; ``--plot`` draws the per-class scores (ecgcrnn.scoring.plots).
Only what scoring needs is imported at start: the plotting and the error messages are imported when used.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ecgcrnn.io.atomic import write_text
from ecgcrnn.scoring.evaluate import evaluate_model
from ecgcrnn.scoring.metrics import format_class_scores, format_scores


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("label_directory", type=Path, help="folder of *.hea files with Dx lines")
    parser.add_argument("output_directory", type=Path, help="folder of <root>.csv output files")
    parser.add_argument("scores_file", type=Path, nargs="?", help="write the five scores here (CSV)")
    parser.add_argument(
        "class_scores_file", type=Path, nargs="?", help="write the per-class scores here (CSV)"
    )
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="draw the per-class scores here (PNG)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        scores = evaluate_model(args.label_directory, args.output_directory)
        if args.scores_file:
            write_text(args.scores_file, format_scores(scores))
        else:
            print(format_scores(scores), end="")
        if args.class_scores_file:
            write_text(args.class_scores_file, format_class_scores(scores))
        if args.plot:
            from ecgcrnn.scoring.plots import plot_class_scores

            plot_class_scores(scores, args.plot)
    except (OSError, ValueError) as error:
        from ecgcrnn.app.cli import describe

        reads = {"LABEL_DIR": args.label_directory, "OUTPUT_DIR": args.output_directory}
        writes = {
            "SCORES_FILE": args.scores_file,
            "CLASS_SCORES_FILE": args.class_scores_file,
            "PLOT_FILE": args.plot,
        }
        print(f"{parser.prog}: error: {describe(error, reads, writes)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
