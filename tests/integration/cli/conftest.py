"""The CLI run as a user runs it: the installed `cellportal` script in a subprocess, settings in the environment."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cellportal.config import Settings
from cellportal.jobs.supervisor import settings_env
from tests.integration.jobs.conftest import make_settings

CELLPORTAL = str(Path(sys.executable).parent / "cellportal")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def cli(settings: Settings) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CELLPORTAL, *args], env=settings_env(settings), capture_output=True, text=True, timeout=timeout
        )

    return run


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cellportal.demo.generator import generate_dataset

    folder = tmp_path_factory.mktemp("cli-datasets")
    return generate_dataset(folder / "small.h5ad", n_cells=600, n_genes=800, preset="mouse_brain", seed=5)


def parse_json(result: subprocess.CompletedProcess[str]) -> Any:
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"stdout is not JSON (exit {result.returncode}):\n{result.stdout}\n--- stderr:\n{result.stderr}")
