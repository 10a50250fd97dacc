"""The browser code's own unit tests (frontend/tests, Node's test runner): run as part of `make test`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import require

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


def test_frontend_unit_tests_pass() -> None:
    node = shutil.which("node")
    require(node is not None, "Node.js (for the frontend's unit tests)")
    require((FRONTEND / "node_modules").is_dir(), "frontend/node_modules (make frontend)")
    assert node is not None
    result = subprocess.run(
        [node, "--test", "tests/"], cwd=FRONTEND, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout and "# pass " in result.stdout
