#!/usr/bin/env python
"""Reduced-lead copies of Challenge records: ``python extract_leads_wfdb.py -i IN -o OUT -l I II V2``."""

import argparse
import logging
import sys

from ecgcrnn.extract import extract_leads


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-i", "--input_directory", required=True, help="folder of .hea/.mat records")
    parser.add_argument("-o", "--output_directory", required=True, help="folder for the reduced records")
    parser.add_argument("-l", "--leads", required=True, nargs="+", help="leads to keep, in this order")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    try:
        extract_leads(args.input_directory, args.output_directory, args.leads)
    except (OSError, ValueError) as error:
        print(f"extract_leads_wfdb.py: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
