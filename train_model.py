#!/usr/bin/env python
"""Train the entry's models: ``python train_model.py TRAIN_DIR MODEL_DIR [--config FILE]``."""

import argparse
import os
import sys

from ecgcrnn.app import cli

SETTINGS = """\
settings: the defaults (meant for the full training set), overridden by --config FILE (without it, the
file the environment variable ECGCRNN_CONFIG names, if any), then by ECGCRNN_<FIELD> variables for single
training or network fields (ECGCRNN_EPOCHS=2, ECGCRNN_LEAD_SETS='["twelve","two"]', ECGCRNN_DROPOUT=0.2).
FILE is JSON with two optional sections; a key that is absent keeps its default:
  "training": TrainingConfig's fields (seed, lead_sets, epochs, batch_size, learning_rate, ...,
              cache_directory, n_jobs), the network's sizes nested as "network": {conv_filters,
              signal_rnn_units, feature_rnn_units, dense_units, dropout}
  "pipeline": PipelineSettings' stages (preprocess, delineation, features, measurements), as a model's
              model.json holds them under "settings"
e.g. {"training": {"epochs": 8, "network": {"dropout": 0.2}}, "pipeline": {"features": {"max_beats": 24}}}
Every key, its meaning and default: docs/method.md (Settings) and ecgcrnn/training/settings.py."""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=SETTINGS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("data_directory", metavar="TRAIN_DIR")
    parser.add_argument("model_directory", metavar="MODEL_DIR")
    parser.add_argument(
        "--config", metavar="FILE", help="JSON file of training and pipeline settings (below)"
    )
    cli.add_verbosity(parser)
    args = parser.parse_args(argv)
    cli.configure_logging(args)

    def train() -> None:
        from ecgcrnn.training.settings import load_settings  # imports the pipeline: not needed for --help

        config, settings = load_settings(args.config, os.environ)  # the environment, read once here
        cli.require_records(args.data_directory, "TRAIN_DIR")
        cli.writable_folder(args.model_directory, "MODEL_DIR")
        cli.import_tensorflow(args)  # quietly, unless -v
        from team_code import training_code  # the package: --help and a wrong folder answer at once

        training_code(args.data_directory, args.model_directory, config, settings)

    reads, writes = {"TRAIN_DIR": args.data_directory}, {"MODEL_DIR": args.model_directory}
    reads |= {"--config": args.config}
    return cli.run("train_model.py", train, reads=reads, writes=writes)


if __name__ == "__main__":
    sys.exit(main())
