"""What every converter receives and returns: the context of one dataset version, and the outcome."""

from __future__ import annotations

import enum
from dataclasses import dataclass

# R's integer vectors (and so dgCMatrix@i / @x lengths without long-vector support in Matrix) stop at 2^31 - 1.
R_MAX_NNZ = 2**31 - 1


class ConversionStatus(enum.StrEnum):
    CONVERTED = "CONVERTED"
    SKIPPED = "SKIPPED"


class ConversionError(Exception):
    """A conversion failed; the message is shown to the curator as is, so it must say what and why."""


@dataclass(frozen=True)
class ConversionResult:
    status: ConversionStatus
    reason: str | None = None

    @classmethod
    def converted(cls) -> ConversionResult:
        return cls(ConversionStatus.CONVERTED)

    @classmethod
    def skipped(cls, reason: str) -> ConversionResult:
        return cls(ConversionStatus.SKIPPED, reason)


@dataclass(frozen=True)
class ConversionContext:
    """Identity and links of the dataset version being converted (everything a file must cite)."""

    dataset_version_id: str
    dataset_id: str
    collection_id: str
    collection_version_id: str
    public_url: str
    portal_name: str
    doi: str | None = None
    # Above this many non-zeros in X or the raw counts the Seurat step is skipped (R's vector limit);
    # a parameter so tests can exercise the rule on a small file.
    max_nnz_for_rds: int = R_MAX_NNZ

    def download_url(self, extension: str) -> str:
        """The permanent download URL of this version's artifact with that extension."""
        return f"{self.public_url.rstrip('/')}/datasets/{self.dataset_version_id}.{extension}"

    @property
    def collection_url(self) -> str:
        return f"{self.public_url.rstrip('/')}/collections/{self.collection_id}"

    @property
    def doi_url(self) -> str | None:
        if not self.doi:
            return None
        doi = self.doi.strip()
        if doi.startswith(("http://", "https://")):
            return doi
        return f"https://doi.org/{doi.removeprefix('doi:')}"

    def citation(self, extension: str = "h5ad") -> str:
        """The citation written into each artifact, shaped like CELLxGENE Discover's.

        It names the URL of the artifact that carries it (the .rds cites the .rds), which CELLxGENE got
        wrong once (single-cell-data-portal#6671).
        """
        parts = []
        if self.doi_url:
            parts.append(f"Publication: {self.doi_url}")
        parts.append(
            f"Dataset Version: {self.download_url(extension)} curated and distributed by {self.portal_name}"
            f" in Collection: {self.collection_url}"
        )
        return " ".join(parts)
