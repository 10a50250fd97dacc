"""What a rule reports: one :class:`Issue` per problem, with where it is and a few examples."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cellportal.schema.codes import ERROR, REGISTRY

MAX_EXAMPLES = 5


def _json_safe(value: Any) -> Any:
    """Plain JSON values for numpy scalars and other oddities found in h5ad files."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "item"):
        try:
            return value.item()
        except (ValueError, TypeError):
            pass
    return str(value)


@dataclass
class Issue:
    code: str
    message: str
    location: str | None = None
    values: list[Any] = field(default_factory=list)  # the first few offending values
    count: int | None = None  # how many values (or cells/features) are affected in total
    examples: list[str] = field(default_factory=list)  # example cell or feature names

    @property
    def severity(self) -> str:
        return REGISTRY[self.code].severity

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "severity": self.severity, "message": self.message}
        if self.location is not None:
            out["location"] = self.location
        if self.values:
            out["values"] = [_json_safe(v) for v in self.values[:MAX_EXAMPLES]]
        if self.count is not None:
            out["count"] = int(self.count)
        if self.examples:
            out["examples"] = [str(e) for e in self.examples[:MAX_EXAMPLES]]
        return out


def issue(
    code: str,
    message: str,
    location: str | None = None,
    values: list[Any] | None = None,
    count: int | None = None,
    examples: list[Any] | None = None,
) -> Issue:
    """Build an issue, checking the code exists (a typo must fail loudly in tests, not ship)."""
    if code not in REGISTRY:
        raise KeyError(f"unknown issue code {code!r}")
    return Issue(
        code,
        message,
        location,
        list(values or [])[:MAX_EXAMPLES],
        count,
        [str(e) for e in list(examples or [])[:MAX_EXAMPLES]],
    )
