"""What the command-line faces share: the --verbose/--quiet choice and the logging it sets."""

from __future__ import annotations

import argparse
import logging


def add_verbosity(parser: argparse.ArgumentParser) -> None:
    """Add ``-v/--verbose`` (debug messages) and ``-q/--quiet`` (errors only)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="store_true", help="debug messages")
    group.add_argument("-q", "--quiet", action="store_true", help="only errors")


def configure_logging(args: argparse.Namespace) -> None:
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")
