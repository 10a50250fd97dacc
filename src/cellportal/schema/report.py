"""The result of a validation: every issue, errors first, as text for curators or JSON for programs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cellportal.schema.issues import Issue

SCHEMA_VERSION = "7.1.0"


@dataclass
class ValidationReport:
    path: str
    issues: list[Issue] = field(default_factory=list)
    readable: bool = True  # False when the file could not be opened at all
    schema_version: str = SCHEMA_VERSION
    elapsed_seconds: float = 0.0

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.is_error]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if not i.is_error]

    @property
    def valid(self) -> bool:
        return self.readable and not self.errors

    @property
    def codes(self) -> list[str]:
        return [i.code for i in self.issues]

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "schema_version": self.schema_version,
            "errors": [i.to_dict() for i in self.errors],
            "warnings": [i.to_dict() for i in self.warnings],
        }

    def render_text(self) -> str:
        lines = [
            f"{self.path}: {'VALID' if self.valid else 'INVALID'} (schema {self.schema_version}, "
            f"{len(self.errors)} error(s), {len(self.warnings)} warning(s), {self.elapsed_seconds:.2f} s)"
        ]
        for title, group in (("Errors", self.errors), ("Warnings", self.warnings)):
            if not group:
                continue
            lines.append("")
            lines.append(f"{title}:")
            for found in group:
                where = f" [{found.location}]" if found.location else ""
                lines.append(f"  - {found.code}{where}: {found.message}")
                details = []
                if found.count is not None:
                    details.append(f"count: {found.count}")
                if found.values:
                    details.append("values: " + ", ".join(repr(v) for v in found.values))
                if found.examples:
                    details.append("e.g. " + ", ".join(found.examples))
                if details:
                    lines.append("      " + "; ".join(details))
        return "\n".join(lines)
