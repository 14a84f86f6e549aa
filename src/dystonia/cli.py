"""Command-line entry point: reads and writes JSON documents.

Each clinical capability adds a subcommand here; the JSON Schemas of their documents live
in ``src/dystonia/schemas/``. Exit codes: 0 success, 2 usage error, 3 invalid input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from dystonia import __version__

EXIT_OK = 0
EXIT_INVALID_INPUT = 3


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="python -m dystonia",
        description=(
            "Dystonia Clinic's clinical core as a command-line tool. "
            "Subcommands read a JSON document on standard input or from a file "
            "and write a JSON document to standard output."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    version = subcommands.add_parser("version", help="print the core's version as JSON")
    version.set_defaults(handler=_print_version)
    return parser


def _print_version(_args: argparse.Namespace) -> int:
    print(json.dumps({"name": "dystonia", "version": __version__}))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stdout)
        return EXIT_OK
    exit_code: int = args.handler(args)
    return exit_code
