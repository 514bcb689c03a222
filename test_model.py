#!/usr/bin/env python
"""Run a trained entry over a folder of recordings: ``python test_model.py MODEL_DIR TEST_DIR OUTPUT_DIR``.

One output file per recording; a recording that fails is logged and gets an all-negative output, and the
run ends with the line ``N recordings, K failed``. SIGTERM stops the run as Ctrl-C does.
"""

import argparse
import os
import sys

from ecgcrnn.app import cli
from ecgcrnn.inference.runner import run_test_set


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_directory", metavar="MODEL_DIR")
    parser.add_argument("data_directory", metavar="TEST_DIR")
    parser.add_argument("output_directory", metavar="OUTPUT_DIR")
    cli.add_verbosity(parser)
    args = parser.parse_args(argv)
    cli.configure_logging(args)

    def test() -> None:
        train = "check MODEL_DIR, or train a model there with train_model.py"
        cli.require_folder(args.model_directory, "MODEL_DIR", train)
        cli.require_records(args.data_directory, "TEST_DIR")
        cli.writable_folder(args.output_directory, "OUTPUT_DIR")
        # The network runs in this process while worker processes prepare recordings on the other cores:
        # TensorFlow's own thread pool would only compete with them.
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
        os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
        cli.import_tensorflow(args)  # quietly, unless -v
        from team_code import load_model, run_model

        total, failed = run_test_set(
            args.model_directory, args.data_directory, args.output_directory, load_model, run_model
        )
        print(f"{total} recordings, {failed} failed")

    reads = {"MODEL_DIR": args.model_directory, "TEST_DIR": args.data_directory}
    return cli.run("test_model.py", test, reads=reads, writes={"OUTPUT_DIR": args.output_directory})


if __name__ == "__main__":
    sys.exit(main())
