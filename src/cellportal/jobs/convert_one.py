"""Run one converter in a process of its own: ``python -m cellportal.jobs.convert_one REQUEST.json``.

A conversion gets its own process so independent conversions run in parallel on several cores, a crash
or memory blow-up inside one (h5py, R-sized matrices) fails only that artifact, and the memory it used is
returned when it ends. The request and the outcome are small JSON files.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path


def main(request_path: str) -> int:
    request = json.loads(Path(request_path).read_text())
    outcome_path = Path(request["outcome"])
    try:
        from cellportal.formats.conversion import ConversionContext, ConversionError
        from cellportal.formats.registry import get_converter

        converter = get_converter(request["artifact_type"])
        ctx = ConversionContext(**request["context"])
        try:
            result = converter.convert(Path(request["source"]), Path(request["dest"]), ctx)
            outcome = {"status": str(result.status), "reason": result.reason}
        except ConversionError as error:
            outcome = {"status": "FAILED", "reason": str(error)}
    except Exception as error:  # anything else is our bug or the file's; the curator sees a short form
        traceback.print_exc()
        outcome = {"status": "FAILED", "reason": f"{type(error).__name__}: {error}"}
    outcome_path.write_text(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
