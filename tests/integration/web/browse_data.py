"""A small catalog with realistic term mixes, built through the catalog service (so the index hooks run),
and the brute-force answers the browse queries must agree with, computed in Python from the same rows.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from cellportal.browse import synthetic
from cellportal.browse.index import ontology_ancestors
from cellportal.browse.terms import FACETS, ROLLUP_FACETS, tokens
from cellportal.catalog import service
from cellportal.catalog.statuses import ArtifactType, ConversionStatus, ProcessingStatus, UploadStatus, ValidationStatus

OWNER = "curator-1"
START = datetime(2022, 1, 1, tzinfo=UTC)


@dataclass
class Listed:
    dataset_version_id: str
    dataset_id: str  # the canonical id: what pages show and link to
    collection_id: str
    metadata: dict[str, Any]
    published_at: datetime | None
    text: set[str]  # the words it can be found by
    private: bool


@dataclass
class Catalog:
    public: list[Listed] = field(default_factory=list)
    private: list[Listed] = field(default_factory=list)  # visible to OWNER only
    withdrawn_collection_id: str = ""
    withdrawn_dataset_id: str = ""

    def visible(self, owner: bool) -> list[Listed]:
        return self.public + (self.private if owner else [])


def _ready(session: Session, version_id: str, metadata: dict[str, Any]) -> None:
    service.set_dataset_status(
        session,
        dataset_version_id=version_id,
        upload_status=UploadStatus.UPLOADED,
        validation_status=ValidationStatus.VALID,
    )
    service.set_dataset_metadata(session, dataset_version_id=version_id, metadata=metadata)
    for artifact_type in (ArtifactType.H5AD, ArtifactType.RDS, ArtifactType.LOOM, ArtifactType.EXPLORER):
        data = f"{artifact_type} of {version_id}".encode()
        service.record_artifact(
            session,
            dataset_version_id=version_id,
            type=artifact_type,
            status=ConversionStatus.CONVERTED,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            format_version="1",
        )
    service.set_dataset_status(session, dataset_version_id=version_id, processing_status=ProcessingStatus.SUCCESS)


def build(session: Session, *, collections: int = 5, seed: int = 7) -> Catalog:
    """``collections`` published collections of 1-5 datasets, two private ones, one withdrawn collection and
    one withdrawn dataset (neither may appear anywhere)."""
    rng = random.Random(seed)
    catalog = Catalog()
    for number in range(collections + 3):
        private = number >= collections + 1
        text = synthetic.collection_text(rng, number)
        version = service.create_collection(
            session,
            owner_id=OWNER,
            name=text["name"],
            description=text["description"],
            contact_name="Ada Curator",
            contact_email="ada@example.org",
            consortia=text["consortia"],
            doi=text["doi"],
            publisher_metadata=text["publisher_metadata"],
        )
        words = tokens(text["name"], text["description"], text["doi"], *text["consortia"]) | tokens(
            *(a["family"] + " " + a["given"] for a in text["publisher_metadata"]["authors"]),
            text["publisher_metadata"]["journal"],
        )
        members = []
        for _ in range(rng.randint(1, 5)):
            dataset = service.create_dataset(session, collection_version_id=version.id, original_filename="x.h5ad")
            metadata = synthetic.dataset_metadata(rng, synthetic.title(rng))
            _ready(session, dataset.id, metadata)
            members.append((dataset, metadata))
        when = START + timedelta(days=97 * number)
        if not private:
            service.publish(session, collection_version_id=version.id, now=when)
        for dataset, metadata in members:
            listed = Listed(
                dataset.id,
                dataset.dataset_id,
                version.collection_id,
                metadata,
                None if private else when,
                words | tokens(metadata["title"]),
                private,
            )
            (catalog.private if private else catalog.public).append(listed)
    # Withdraw the last published collection, and one dataset of the first collection that has two or more.
    withdrawn = catalog.public[-1].collection_id
    service.withdraw_collection(session, collection_id=withdrawn, reason="Consent was withdrawn")
    catalog.withdrawn_collection_id = withdrawn
    catalog.public = [d for d in catalog.public if d.collection_id != withdrawn]
    by_collection: dict[str, list[Listed]] = {}
    for d in catalog.public:
        by_collection.setdefault(d.collection_id, []).append(d)
    victim = next((members[0] for members in by_collection.values() if len(members) >= 2), None)
    if victim is not None:  # a collection's last dataset cannot be withdrawn alone
        dataset_id = service.resolve_dataset(session, victim.dataset_version_id)[0].id
        when = START + timedelta(days=5000)
        service.withdraw_dataset(session, dataset_id=dataset_id, reason="Wrong donor labels", now=when)
        catalog.withdrawn_dataset_id = dataset_id
        catalog.public.remove(victim)
    return catalog


# --- brute force ------------------------------------------------------------------------------------------


def terms_of(d: Listed, facet: str) -> set[str]:
    """The dataset's values for a facet, with ontology ancestors for the roll-up facets."""
    values = d.metadata.get(facet) or []
    found = {v["ontology_term_id"] if isinstance(v, dict) else str(v) for v in values}
    if facet in ROLLUP_FACETS:
        for term in list(found):
            found |= set(ontology_ancestors(term))
    return found


def direct_terms(d: Listed, facet: str) -> set[str]:
    return {v["ontology_term_id"] if isinstance(v, dict) else str(v) for v in d.metadata.get(facet) or []}


def matches(
    d: Listed,
    chosen: dict[str, tuple[str, ...]],
    query: str = "",
    cells: tuple[int | None, int | None] = (None, None),
    skip: str | None = None,
) -> bool:
    for facet, values in chosen.items():
        if facet != skip and values and not (terms_of(d, facet) & set(values)):
            return False
    for word in tokens(query):
        if not any(t.startswith(word) for t in d.text):
            return False
    low, high = cells
    count = d.metadata["cell_count"]
    return not (skip != "cells" and ((low is not None and count < low) or (high is not None and count > high)))


def facet_truth(
    datasets: list[Listed], chosen: dict[str, tuple[str, ...]], query: str = "", *, by: str = "datasets"
) -> dict[str, dict[str, int]]:
    """What facet_counts must say: per facet, term -> count, over datasets matching every *other* filter."""
    truth: dict[str, dict[str, int]] = {}
    for facet in FACETS:
        pool = [d for d in datasets if matches(d, chosen, query, skip=facet)]
        shown = set().union(*(direct_terms(d, facet) for d in pool)) | set(chosen.get(facet, ()))
        counts = {}
        for term in shown:
            having = [d for d in pool if term in terms_of(d, facet)]
            counts[term] = len({d.collection_id for d in having}) if by == "collections" else len(having)
        truth[facet] = counts
    return truth
