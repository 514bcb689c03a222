#!/usr/bin/env python
"""Train the entry's models: ``python train_model.py TRAIN_DIR MODEL_DIR``."""

import argparse
import sys

from ecgcrnn.cli import add_verbosity, configure_logging
from ecgcrnn.records import find_challenge_files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_directory")
    parser.add_argument("model_directory")
    add_verbosity(parser)
    args = parser.parse_args(argv)
    configure_logging(args)
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
