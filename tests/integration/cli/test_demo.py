"""`cellportal demo`: builds the demo collection once, published with a revision that replaced a dataset."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from cellportal.catalog import service as catalog
from cellportal.catalog.db import transaction
from cellportal.config import Settings
from cellportal.demo.collection import DEMO_NAME
from cellportal.runtime import Runtime
from tests.integration.cli.conftest import parse_json

pytestmark = pytest.mark.slow

Cli = Callable[..., subprocess.CompletedProcess[str]]


def test_demo_builds_a_published_revised_collection_once(cli: Cli, settings: Settings) -> None:
    first = cli("demo", timeout=900)
    assert first.returncode == 0, first.stderr
    assert "published version 2" in first.stderr

    [collection] = parse_json(cli("collections", "--json"))
    assert collection["name"] == DEMO_NAME and collection["datasets"] == 2
    datasets = parse_json(cli("datasets", "--json"))
    assert [d["processing_status"] for d in datasets] == ["SUCCESS", "SUCCESS"]

    runtime = Runtime(settings)
    try:
        with transaction(runtime.sessions) as session:
            history = catalog.collection_versions_history(session, collection_id=collection["collection_id"])
            assert len(history) == 2  # version 1 and the published revision
            first_ids = {v.dataset_id: v.id for v in history[0].dataset_versions}
            second_ids = {v.dataset_id: v.id for v in history[1].dataset_versions}
            assert first_ids.keys() == second_ids.keys()
            replaced = [d for d in first_ids if first_ids[d] != second_ids[d]]
            assert len(replaced) == 1  # the blood dataset got a new version, the brain one kept its own
            [dataset_id] = replaced
            # Permanence: the canonical id resolves to the new version, the old version id still resolves.
            assert catalog.resolve_dataset(session, dataset_id)[1].id == second_ids[dataset_id]
            assert catalog.resolve_dataset(session, first_ids[dataset_id])[1].id == first_ids[dataset_id]
    finally:
        runtime.close()

    again = cli("demo")
    assert again.returncode == 0, again.stderr
    assert "already there" in again.stderr
    assert len(parse_json(cli("collections", "--all", "--json"))) == 1
