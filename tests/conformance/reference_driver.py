"""Run the reference validator (cellxgene-schema) on many files in one process and write what it said as JSON.

Run by the reference's own interpreter (``$CELLPORTAL_REFERENCE_PYTHON``, the ``.venv-ref`` venv), never by
ours: it imports only the standard library and ``cellxgene_schema``. One process pays the ~20 s ontology
load once for the whole list. Usage::

    python reference_driver.py REQUEST.json

REQUEST is ``[{"path": ..., "result": ..., "labels_out": ... or null}, ...]``. As soon as a file is done,
its outcome ``{"valid", "errors", "warnings", "seconds", "labels_written", "label_errors"}`` is written to
its ``result`` path (atomically, last), so an interrupted run keeps everything it finished. When
``labels_out`` is given and the file is valid, its labelled copy is written there first (the portal's
route: labels only for valid files). Messages have their ``ERROR: `` / ``WARNING: `` prefix removed.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

_PREFIXES = ("ERROR: ", "WARNING: ")


class _Collector(logging.Handler):
    """Keeps every record the reference logs while one file is processed."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _strip(message: str) -> str:
    for prefix in _PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def run_one(path: str, labels_out: str | None, collector: _Collector) -> dict[str, Any]:
    """Validate one file as ``cellxgene_schema.validate.validate`` does, then label it if it is valid.

    The verdict and the labelling are kept apart: the reference's ``validate(add_labels_file=…)`` turns a
    labelling problem (e.g. GuideScan2 missing for perturbation datasets) into ``is_valid=False``.
    """
    import dask
    from cellxgene_schema.validate import Validator
    from cellxgene_schema.write_labels import AnnDataLabelAppender

    collector.records.clear()
    started = time.perf_counter()
    outcome: dict[str, Any] = {"valid": False, "errors": [], "warnings": [], "labels_written": False}
    with dask.config.set({"scheduler": "threads"}):
        validator = Validator()
        try:
            outcome["valid"] = bool(validator.validate_adata(path))
            outcome["errors"] = [_strip(str(e)) for e in validator.errors]
        except SystemExit:
            # The reference exits the process when h5py cannot open the file; its reason is logged at INFO.
            reasons = [r.getMessage() for r in collector.records if "Unable to open" in r.getMessage()]
            outcome["errors"] = reasons or ["Unable to open the file (the reference exited)"]
        except Exception as error:
            # E.g. anndata cannot read the root group: the reference raises before its own error handling
            # exists (the CLI prints a traceback and exits 1). Reported in the reference's wording for crashes.
            outcome["errors"] = [f"Unexpected validation error: (the reference crashed) {error!r}"]
        outcome["warnings"] = [_strip(r.getMessage()) for r in collector.records if r.levelno == logging.WARNING]
        outcome["seconds"] = round(time.perf_counter() - started, 3)
        if labels_out and outcome["valid"]:
            collector.records.clear()
            writer = AnnDataLabelAppender(validator.adata)
            try:
                writer.write_labels(labels_out)
            except Exception as error:  # a crash of the labeller is a result to report, not to hide
                writer.errors.append((f"add-labels crashed: {error!r}", None))
            outcome["label_errors"] = [str(message) for message, _ in writer.errors]
            outcome["labels_written"] = Path(labels_out).exists()
    return outcome


def main(request_path: str) -> int:
    requests = json.loads(Path(request_path).read_text())
    collector = _Collector()
    logger = logging.getLogger("cellxgene_schema")
    logger.setLevel(logging.INFO)
    logger.addHandler(collector)
    logger.propagate = False  # keep the reference's chatter off our stderr
    for item in requests:
        labels_out = item.get("labels_out")
        partial_labels = f"{labels_out}.partial.h5ad" if labels_out else None
        outcome = run_one(item["path"], partial_labels, collector)
        outcome["reference_version"] = version("cellxgene-schema")
        if partial_labels and Path(partial_labels).exists():
            os.replace(partial_labels, labels_out)
        partial_result = Path(f"{item['result']}.partial")
        partial_result.write_text(json.dumps(outcome, indent=1))
        os.replace(partial_result, item["result"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
