#!/usr/bin/env python
"""Reduced-lead copies of records: ``python extract_leads_wfdb.py -i INPUT_DIR -o OUTPUT_DIR -l I II V2``."""

import argparse
import sys

from ecgcrnn.app import cli
from ecgcrnn.io.extract import check_extraction, extract_leads


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-i", "--input_directory", metavar="INPUT_DIR", required=True, help="records")
    parser.add_argument(
        "-o", "--output_directory", metavar="OUTPUT_DIR", required=True, help="reduced records"
    )
    parser.add_argument("-l", "--leads", required=True, nargs="+", help="leads to keep, in this order")
    cli.add_verbosity(parser)
    args = parser.parse_args(argv)
    cli.configure_logging(args)

    def extract() -> None:
        check_extraction(args.input_directory, args.output_directory, args.leads)
        cli.require_records(args.input_directory, "INPUT_DIR")
        cli.writable_folder(args.output_directory, "OUTPUT_DIR")
        extract_leads(args.input_directory, args.output_directory, args.leads)

    reads, writes = {"INPUT_DIR": args.input_directory}, {"OUTPUT_DIR": args.output_directory}
    return cli.run("extract_leads_wfdb.py", extract, reads=reads, writes=writes)


if __name__ == "__main__":
    sys.exit(main())
