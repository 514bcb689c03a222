#!/usr/bin/env python
"""Train the entry's models: ``python train_model.py TRAIN_DIR MODEL_DIR``."""

import argparse
import logging
import sys
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_directory")
    parser.add_argument("model_directory")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug messages")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")
    if not Path(args.data_directory).is_dir():
        print(f"train_model.py: error: {args.data_directory}: no such folder", file=sys.stderr)
        return 1

    from team_code import training_code

    training_code(args.data_directory, args.model_directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
