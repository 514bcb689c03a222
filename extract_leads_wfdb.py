#!/usr/bin/env python
"""Reduced-lead copies of Challenge records: ``python extract_leads_wfdb.py -i IN -o OUT -l I II V2``."""

import argparse
import sys

from ecgcrnn.cli import add_verbosity, configure_logging
from ecgcrnn.extract import extract_leads


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-i", "--input_directory", required=True, help="folder of .hea/.mat records")
    parser.add_argument("-o", "--output_directory", required=True, help="folder for the reduced records")
    parser.add_argument("-l", "--leads", required=True, nargs="+", help="leads to keep, in this order")
    add_verbosity(parser)
    args = parser.parse_args(argv)
    configure_logging(args)
    try:
        extract_leads(args.input_directory, args.output_directory, args.leads)
    except (OSError, ValueError) as error:
        print(f"extract_leads_wfdb.py: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
