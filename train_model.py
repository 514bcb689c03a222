#!/usr/bin/env python
"""Train the entry's models: ``python train_model.py TRAIN_DIR MODEL_DIR``."""

import argparse
import sys

from ecgcrnn.app import cli


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_directory", metavar="TRAIN_DIR")
    parser.add_argument("model_directory", metavar="MODEL_DIR")
    cli.add_verbosity(parser)
    args = parser.parse_args(argv)
    cli.configure_logging(args)

    def train() -> None:
        cli.require_records(args.data_directory, "TRAIN_DIR")
        cli.writable_folder(args.model_directory, "MODEL_DIR")
        from team_code import training_code

        training_code(args.data_directory, args.model_directory)

    reads, writes = {"TRAIN_DIR": args.data_directory}, {"MODEL_DIR": args.model_directory}
    return cli.run("train_model.py", train, reads=reads, writes=writes)


if __name__ == "__main__":
    sys.exit(main())
