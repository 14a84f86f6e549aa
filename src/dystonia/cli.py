"""Command-line entry point: reads and writes JSON documents.

Each clinical capability adds a subcommand here; the JSON Schemas of their documents live
in ``src/dystonia/schemas/``. Exit codes: 0 success; 2 usage error or invalid input, with one
line per problem on standard error naming the field.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from dystonia import __version__
from dystonia.assessment import assess, assessment_document
from dystonia.errors import InvalidDocument
from dystonia.findings import findings_from_document

EXIT_OK = 0
EXIT_INVALID_INPUT = 2
# Findings documents are small; refuse anything far larger before parsing it.
MAX_DOCUMENT_BYTES = 1_000_000


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
    classify = subcommands.add_parser(
        "classify",
        help="classify a findings document (schemas/findings.schema.json)",
        description=(
            "Read a JSON findings document and print the classification, codes, work-up "
            "and treatment pathway as JSON (schemas/classification.schema.json)."
        ),
    )
    classify.add_argument("file", help="the findings document, or - for standard input")
    classify.set_defaults(handler=_classify)
    return parser


def _read_document(name: str) -> str:
    if name == "-":
        return sys.stdin.read(MAX_DOCUMENT_BYTES + 1)
    with Path(name).open(encoding="utf-8") as handle:
        return handle.read(MAX_DOCUMENT_BYTES + 1)


def _fail(*lines: str) -> int:
    for line in lines:
        print(line, file=sys.stderr)
    return EXIT_INVALID_INPUT


def _classify(args: argparse.Namespace) -> int:
    try:
        text = _read_document(args.file)
    except (OSError, UnicodeDecodeError) as error:
        return _fail(f"file: cannot read {args.file!r}: {error}")
    if len(text) > MAX_DOCUMENT_BYTES:
        return _fail(f"file: larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        return _fail(f"file: not valid JSON ({error})")
    try:
        findings = findings_from_document(document)
    except InvalidDocument as error:
        return _fail(*(str(problem) for problem in error.problems))
    print(json.dumps(assessment_document(assess(findings)), indent=2, ensure_ascii=False))
    return EXIT_OK


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
