"""Live processing status for the portal's pages: ``GET /portal/api/dataset-versions/<id>/status``.

The curator's dataset rows poll it (frontend/src/portal/status.js) until ``finished``. Reading it needs
the policy's READ on the dataset version: anyone else gets 404, as for every private thing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from cellportal.api.deps import PrincipalDep, SessionDep
from cellportal.api.discover.queries import readable_dataset_version
from cellportal.uploads.status import dataset_version_status

router = APIRouter(tags=["portal"])


@router.get("/portal/api/dataset-versions/{dataset_version_id}/status", summary="Processing status of a dataset")
def dataset_status(
    dataset_version_id: str, session: SessionDep, principal: PrincipalDep, response: Response
) -> dict[str, Any]:
    version = readable_dataset_version(session, principal, dataset_version_id)
    response.headers["Cache-Control"] = "no-store"
    return dataset_version_status(session, version)
