"""The body of `cellportal validate`, shared by the typer command and a typer-free fast start.

Importing typer (and through it pydantic) costs about half a second, a quarter of the budget for answering a
small file, so :func:`main` parses the few options with argparse when `validate` is the command.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


def run_validate(path: Path, as_json: bool, add_labels: Path | None, ignore_labels: bool) -> int:
    """Validate, print the report, write labels when asked and valid; return the exit code."""
    from cellportal.schema.validator import validate

    report = validate(path, ignore_labels=ignore_labels)
    print(json.dumps(report.to_dict(), indent=2) if as_json else report.render_text())
    if not report.readable:
        return EXIT_UNREADABLE
    if not report.valid:
        return EXIT_INVALID
    if add_labels is not None:
        from cellportal.schema.labeller import write_labels

        write_labels(path, add_labels)
        if not as_json:
            print(f"labelled file written to {add_labels}")
    return EXIT_VALID


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cellportal validate", description="Validate an h5ad file (schema 7.1.0).")
    parser.add_argument("path", type=Path)
    parser.add_argument("--json", dest="as_json", action="store_true")
    parser.add_argument("--add-labels", type=Path, default=None)
    parser.add_argument("--ignore-labels", action="store_true")
    options = parser.parse_args(argv)
    sys.stdout.flush()
    return run_validate(options.path, options.as_json, options.add_labels, options.ignore_labels)
