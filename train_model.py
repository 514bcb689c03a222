#!/usr/bin/env python
"""Train the entry's models: ``python train_model.py TRAIN_DIR MODEL_DIR``."""

import argparse
import logging
import sys

from ecgcrnn.records import find_challenge_files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_directory")
    parser.add_argument("model_directory")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug messages")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")
    try:
        if not find_challenge_files(args.data_directory)[0]:
            raise ValueError(f"{args.data_directory}: no records (.hea with a .mat beside it) found")
        from team_code import training_code

        training_code(args.data_directory, args.model_directory)
    except (OSError, ValueError, NotImplementedError) as error:
        print(f"train_model.py: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
