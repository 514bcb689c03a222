#!/usr/bin/env python
"""Run a trained entry over a folder of recordings: ``python test_model.py MODEL_DIR TEST_DIR OUTPUT_DIR``.

One output file per recording; a recording that fails is logged and gets an all-negative output, and the
run ends with the line ``N recordings, K failed``.
"""

import argparse
import os
import sys

from ecgcrnn.cli import add_verbosity, configure_logging
from ecgcrnn.runner import run_test_set


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_directory")
    parser.add_argument("data_directory")
    parser.add_argument("output_directory")
    add_verbosity(parser)
    args = parser.parse_args(argv)
    configure_logging(args)

    # The network runs in this process while worker processes prepare recordings on the other cores:
    # TensorFlow's own thread pool would only compete with them.
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    from team_code import load_model, run_model

    try:
        total, failed = run_test_set(
            args.model_directory, args.data_directory, args.output_directory, load_model, run_model
        )
    except (OSError, ValueError) as error:
        print(f"test_model.py: error: {error}", file=sys.stderr)
        return 1
    print(f"{total} recordings, {failed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
