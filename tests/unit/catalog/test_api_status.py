"""The Curation API's status word, from the catalog's two status columns."""

from __future__ import annotations

import pytest

from cellportal.catalog.statuses import ProcessingStatus, ValidationStatus, api_status


@pytest.mark.parametrize(
    ("processing", "validation", "word"),
    [
        (ProcessingStatus.INITIALIZED, ValidationStatus.NA, "PENDING"),
        (ProcessingStatus.PENDING, ValidationStatus.VALIDATING, "PENDING"),
        (ProcessingStatus.FAILURE, ValidationStatus.INVALID, "VALIDATION_FAILURE"),
        (ProcessingStatus.FAILURE, ValidationStatus.VALID, "PIPELINE_FAILURE"),
        (ProcessingStatus.SUCCESS, ValidationStatus.VALID, "SUCCESS"),
    ],
)
def test_the_word_says_what_a_curator_must_do(processing: str, validation: str, word: str) -> None:
    assert api_status(processing, validation) == word
