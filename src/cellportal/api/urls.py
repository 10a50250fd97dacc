"""The permanent URLs the portal hands out, built in one place from ``settings.public_url``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Urls:
    public_url: str

    @property
    def base(self) -> str:
        return self.public_url.rstrip("/")

    def collection(self, collection_id: str) -> str:
        return f"{self.base}/collections/{collection_id}"

    def download(self, dataset_version_id: str, extension: str) -> str:
        """Per version, never reused: the file behind it never changes."""
        return f"{self.base}/datasets/{dataset_version_id}.{extension}"

    def explorer(self, dataset_or_version_id: str) -> str:
        return f"{self.base}/e/{dataset_or_version_id}/"
