"""Permanence rules, pure: no database, no server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cellportal.catalog import rules
from cellportal.catalog.errors import (
    CatalogError,
    Conflict,
    Gone,
    ImmutableVersion,
    InvalidInput,
    InvalidState,
    NotFound,
    PublishRefused,
)
from cellportal.catalog.rules import DatasetSnapshot

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def snapshot(dataset_id: str = "d1", status: str = "SUCCESS", schema: str | None = "7.1.0") -> DatasetSnapshot:
    return DatasetSnapshot(dataset_id, f"{dataset_id}-v1", status, schema, title=f"title of {dataset_id}")


# --- immutability and tombstones


def test_unpublished_versions_may_change() -> None:
    rules.ensure_mutable("dataset", "v1", None)


def test_every_change_to_a_published_version_is_refused_with_a_date() -> None:
    with pytest.raises(ImmutableVersion, match=r"collection version v1 was published on 2026-03-01.*revision"):
        rules.ensure_mutable("collection", "v1", WHEN)


def test_tombstone_raises_gone_with_reason_and_date() -> None:
    with pytest.raises(Gone) as caught:
        rules.ensure_not_tombstoned("dataset", "d1", WHEN, "consent withdrawn")
    assert caught.value.reason == "consent withdrawn"
    assert caught.value.tombstoned_at == WHEN
    assert "2026-03-01" in str(caught.value) and "consent withdrawn" in str(caught.value)


def test_live_things_are_not_gone() -> None:
    rules.ensure_not_tombstoned("dataset", "d1", None, None)


def test_a_tombstone_without_reason_still_explains() -> None:
    with pytest.raises(Gone) as caught:
        rules.ensure_not_tombstoned("collection", "c1", WHEN, None)
    assert caught.value.reason


def test_domain_errors_share_a_base_and_a_message() -> None:
    for error in (NotFound("x"), Conflict("x"), ImmutableVersion("x"), InvalidState("x"), InvalidInput("x")):
        assert isinstance(error, CatalogError) and error.message == "x"
    assert issubclass(PublishRefused, InvalidState)


# --- resolution


def test_canonical_id_means_the_latest_published_version_even_with_an_open_revision() -> None:
    assert rules.pick_collection_version("c1", "published", ["open-revision"]) == "published"


def test_never_published_canonical_id_means_its_private_version() -> None:
    assert rules.pick_collection_version("c1", None, ["private"]) == "private"


def test_a_collection_without_versions_is_not_found() -> None:
    with pytest.raises(NotFound):
        rules.pick_collection_version("c1", None, [])


# --- revisions


def test_a_revision_needs_a_published_collection() -> None:
    with pytest.raises(InvalidState, match="never been published"):
        rules.ensure_can_start_revision("c1", None, None)


def test_one_open_revision_per_collection() -> None:
    rules.ensure_can_start_revision("c1", "v1", None)
    with pytest.raises(Conflict, match="already has an open revision \\(v2\\)"):
        rules.ensure_can_start_revision("c1", "v1", "v2")


def test_cancel_applies_to_open_revisions_only() -> None:
    rules.ensure_can_cancel_revision("v2", None, collection_published=True)
    with pytest.raises(ImmutableVersion):
        rules.ensure_can_cancel_revision("v1", WHEN, collection_published=True)
    with pytest.raises(InvalidState, match="delete the private collection"):
        rules.ensure_can_cancel_revision("v1", None, collection_published=False)


def test_a_published_collection_cannot_be_deleted_only_withdrawn() -> None:
    rules.ensure_can_delete_private("c1", None)
    with pytest.raises(ImmutableVersion, match="withdrawn"):
        rules.ensure_can_delete_private("c1", "v1")


def test_withdrawal_needs_a_published_collection_and_a_reason() -> None:
    rules.ensure_can_withdraw("c1", "v1", "retracted paper")
    with pytest.raises(InvalidState):
        rules.ensure_can_withdraw("c1", None, "retracted paper")
    with pytest.raises(InvalidInput):
        rules.ensure_can_withdraw("c1", "v1", "   ")


# --- datasets in a version


@pytest.mark.parametrize(
    ("processing", "upload", "allowed"),
    [
        ("INITIALIZED", "WAITING", True),
        ("INITIALIZED", "UPLOADING", False),
        ("PENDING", "UPLOADED", False),
        ("SUCCESS", "UPLOADED", True),
        ("FAILURE", "UPLOADED", True),
        ("FAILURE", "FAILED", True),
    ],
)
def test_no_replacement_while_the_previous_version_is_processing(processing: str, upload: str, allowed: bool) -> None:
    if allowed:
        rules.ensure_can_replace("d1", "v1", processing, upload)
    else:
        with pytest.raises(Conflict, match="still being uploaded or processed"):
            rules.ensure_can_replace("d1", "v1", processing, upload)


def test_a_dataset_must_be_in_the_version_to_be_replaced_or_removed() -> None:
    rules.ensure_dataset_in_version("d1", ["d1", "d2"], "cv")
    with pytest.raises(NotFound, match="d3 is not part of collection version cv"):
        rules.ensure_dataset_in_version("d3", ["d1", "d2"], "cv")


# --- publishing


def test_publishing_gives_the_common_schema_version() -> None:
    assert rules.ensure_publishable("cv", None, [snapshot("d1"), snapshot("d2")]) == "7.1.0"


def test_publishing_refuses_an_empty_collection() -> None:
    with pytest.raises(PublishRefused, match="no datasets") as caught:
        rules.ensure_publishable("cv", None, [])
    assert caught.value.problems == ["it has no datasets; add at least one"]


def test_publishing_refuses_a_published_version() -> None:
    with pytest.raises(ImmutableVersion):
        rules.ensure_publishable("cv", WHEN, [snapshot()])


@pytest.mark.parametrize("status", ["INITIALIZED", "PENDING", "FAILURE"])
def test_publishing_refuses_datasets_not_in_success(status: str) -> None:
    with pytest.raises(PublishRefused, match=f"'title of d2' \\(d2-v1\\) is {status}, not SUCCESS"):
        rules.ensure_publishable("cv", None, [snapshot("d1"), snapshot("d2", status=status)])


def test_publishing_refuses_mixed_schema_versions() -> None:
    with pytest.raises(PublishRefused, match=r"different schema versions \(7.0.0, 7.1.0\)"):
        rules.ensure_publishable("cv", None, [snapshot("d1", schema="7.0.0"), snapshot("d2")])


def test_a_successful_dataset_needs_a_schema_version() -> None:
    with pytest.raises(PublishRefused, match="no schema version recorded"):
        rules.ensure_publishable("cv", None, [snapshot("d1", schema=None)])


def test_datasets_still_processing_do_not_count_as_a_schema_mix() -> None:
    problems = rules.publish_problems([snapshot("d1"), snapshot("d2", status="INITIALIZED", schema=None)])
    assert problems == ["dataset 'title of d2' (d2-v1) is INITIALIZED, not SUCCESS"]


def test_publishing_lists_every_problem_at_once() -> None:
    problems = rules.publish_problems(
        [snapshot("d1", status="PENDING"), snapshot("d2", status="FAILURE", schema="7.0.0")]
    )
    assert len(problems) == 3


def test_first_publication_plan() -> None:
    plan = rules.plan_publish(None, {"d1": "v1", "d2": "v2"})
    assert plan.first_publication and plan.datasets_changed
    assert plan.removed_dataset_ids == frozenset()
    assert plan.new_or_revised_dataset_ids == {"d1", "d2"}


def test_revision_plan_tombstones_dropped_datasets_and_moves_replaced_ones() -> None:
    plan = rules.plan_publish({"d1": "v1", "d2": "v2", "d3": "v3"}, {"d1": "v1", "d2": "v2b", "d4": "v4"})
    assert not plan.first_publication and plan.datasets_changed
    assert plan.removed_dataset_ids == {"d3"}
    assert plan.new_or_revised_dataset_ids == {"d2", "d4"}


def test_a_metadata_only_revision_changes_no_dataset() -> None:
    plan = rules.plan_publish({"d1": "v1"}, {"d1": "v1"})
    assert not plan.datasets_changed and not plan.removed_dataset_ids and not plan.new_or_revised_dataset_ids


# --- collection metadata


@pytest.mark.parametrize(
    "doi",
    [
        "10.1038/s41586-020-2922-4",
        "doi:10.1038/s41586-020-2922-4",
        "https://doi.org/10.1038/s41586-020-2922-4",
        "http://dx.doi.org/10.1038/s41586-020-2922-4",
    ],
)
def test_doi_forms_normalise_to_one_url(doi: str) -> None:
    assert rules.normalize_doi(doi) == "https://doi.org/10.1038/s41586-020-2922-4"


def test_not_a_doi() -> None:
    with pytest.raises(InvalidInput, match="is not a DOI"):
        rules.normalize_doi("nature paper")


def test_links_are_checked_and_the_doi_argument_replaces_the_doi_link() -> None:
    links = [
        {"link_type": "doi", "link_url": "10.1000/old"},
        {"link_type": "RAW_DATA", "link_name": "GEO", "link_url": "https://example.org/geo"},
    ]
    result = rules.normalize_links(links, "10.1000/new")
    assert result[0] == {"link_type": "DOI", "link_name": None, "link_url": "https://doi.org/10.1000/new"}
    assert [link["link_type"] for link in result] == ["DOI", "RAW_DATA"]
    assert [link["link_type"] for link in rules.normalize_links(links, "")] == ["RAW_DATA"]
    assert rules.normalize_links(links, None)[0]["link_url"] == "https://doi.org/10.1000/old"


@pytest.mark.parametrize(
    ("links", "message"),
    [
        ([{"link_type": "WEBSITE", "link_url": "https://example.org"}], "is not one of"),
        ([{"link_type": "OTHER", "link_url": "ftp://example.org"}], "http"),
        ([{"link_type": "DOI", "link_url": "10.1000/a"}, {"link_type": "DOI", "link_url": "10.1000/b"}], "one DOI"),
    ],
)
def test_bad_links_are_refused(links: list[dict[str, str]], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        rules.normalize_links(links, None)


def test_collection_fields() -> None:
    rules.check_collection_fields("Atlas", "ada@example.org")
    rules.check_collection_fields(None, None)
    with pytest.raises(InvalidInput, match="needs a name"):
        rules.check_collection_fields("  ", None)
    with pytest.raises(InvalidInput, match="not an email"):
        rules.check_collection_fields(None, "ada at example")


def test_withdrawing_one_dataset_needs_a_publishable_revision_without_it() -> None:
    rules.ensure_can_withdraw_dataset("d1", True, None, 1, "consent withdrawn")
    with pytest.raises(InvalidState, match="never published"):
        rules.ensure_can_withdraw_dataset("d1", False, None, 1, "consent withdrawn")
    with pytest.raises(Conflict, match="open revision \\(v2\\)"):
        rules.ensure_can_withdraw_dataset("d1", True, "v2", 1, "consent withdrawn")
    with pytest.raises(InvalidState, match="withdraw the collection instead"):
        rules.ensure_can_withdraw_dataset("d1", True, None, 0, "consent withdrawn")
    with pytest.raises(InvalidInput, match="needs a reason"):
        rules.ensure_can_withdraw_dataset("d1", True, None, 1, " ")
