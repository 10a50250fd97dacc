"""The demo collection: generated datasets, processed by the real pipeline, published, then revised.

Version 1 holds a human blood and a mouse brain dataset. A published revision then replaces the blood
dataset with a new version, so both permanence rules can be seen at work: the canonical dataset id
now resolves to the new version, and the first version's own id and downloads still answer.
Sizes are small so the whole build takes about a minute on a laptop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from cellportal.catalog import service as catalog
from cellportal.catalog.db import transaction
from cellportal.jobs.submit import DatasetState, Submitted, upload_dataset, wait_for, worker_is_alive
from cellportal.runtime import Runtime

DEMO_NAME = "cellportal demo: blood and brain"
DEMO_OWNER = "demo"


@dataclass(frozen=True)
class DemoDataset:
    filename: str
    preset: str
    n_cells: int
    seed: int
    title: str


FIRST_VERSION = (
    DemoDataset("pbmc.h5ad", "human_blood", 1500, 11, "Peripheral blood mononuclear cells (demo)"),
    DemoDataset("cortex.h5ad", "mouse_brain", 1500, 12, "Mouse cortex (demo)"),
)
# Replaces the blood dataset in the revision: same dataset id, a new version.
REVISED_BLOOD = DemoDataset("pbmc-v2.h5ad", "human_blood", 2000, 13, "Peripheral blood mononuclear cells (demo, v2)")

Watch = Callable[[Sequence[Submitted]], AbstractContextManager[Callable[[list[DatasetState]], None] | None]]


@dataclass
class DemoResult:
    collection_id: str
    built: bool  # False when the demo collection was already there


def find_demo(runtime: Runtime) -> str | None:
    """The demo collection's id if a published one exists; an unfinished (never published) one is removed."""
    with transaction(runtime.sessions) as session:
        for version in catalog.published_collections(session):
            if version.name == DEMO_NAME:
                return version.collection_id
        for version in catalog.unpublished_collections(session, owner_id=DEMO_OWNER):
            if version.name == DEMO_NAME and version.collection.published_version_id is None:
                catalog.delete_private_collection(session, collection_id=version.collection_id)
    return None


def build_demo(
    runtime: Runtime, *, say: Callable[[str], None] = lambda _message: None, watch: Watch | None = None
) -> DemoResult:
    existing = find_demo(runtime)
    if existing:
        say(f"the demo collection is already there: {existing}")
        return DemoResult(existing, built=False)
    from cellportal.demo.generator import generate_dataset

    folder = runtime.settings.work_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    use_worker = worker_is_alive(runtime)

    def make(spec: DemoDataset) -> Path:
        say(f"generating {spec.title}: {spec.n_cells} cells")
        return generate_dataset(
            folder / spec.filename, n_cells=spec.n_cells, preset=spec.preset, seed=spec.seed, title=spec.title
        )

    def process(submitted: list[Submitted]) -> None:
        with (watch or _no_watch)(submitted) as update:
            states = wait_for(runtime, submitted, on_update=update)
        failed = [s for s in states if s.processing_status != "SUCCESS"]
        if failed:
            raise RuntimeError(f"demo dataset failed: {failed[0].processing_status}: {failed[0].errors}")

    try:
        with transaction(runtime.sessions) as session:
            version = catalog.create_collection(
                session,
                owner_id=DEMO_OWNER,
                name=DEMO_NAME,
                description="Generated datasets that show the portal at work: two datasets, one revision.",
                contact_name="cellportal demo",
                contact_email="demo@example.org",
                links=[{"link_type": "OTHER", "link_name": "cellportal", "link_url": "https://example.org/cellportal"}],
            )
            collection_id, first_version_id = version.collection_id, version.id
        files = [make(spec) for spec in FIRST_VERSION]
        submitted = [
            upload_dataset(runtime, collection_version_id=first_version_id, path=path, use_worker=use_worker)
            for path in files
        ]
        say("processing the first version")
        process(submitted)
        with transaction(runtime.sessions) as session:
            catalog.publish(session, collection_version_id=first_version_id)
        say("published version 1")

        with transaction(runtime.sessions) as session:
            revision_id = catalog.start_revision(session, collection_id=collection_id).id
        revised = upload_dataset(
            runtime,
            collection_version_id=revision_id,
            path=make(REVISED_BLOOD),
            use_worker=use_worker,
            replace_dataset_id=submitted[0].dataset_id,
        )
        say("processing the revision")
        process([revised])
        with transaction(runtime.sessions) as session:
            catalog.publish(session, collection_version_id=revision_id)
        say("published version 2 (the blood dataset replaced)")
    finally:
        for path in folder.glob("*.h5ad"):
            path.unlink(missing_ok=True)
    return DemoResult(collection_id, built=True)


def _no_watch(_submitted: Sequence[Submitted]) -> AbstractContextManager[None]:
    return nullcontext()
