"""The collection metadata form: read from a POST, checked field by field, written back on an error.

Pure: form values in, a ``CollectionForm`` with per-field messages out. The catalog's rules
(``catalog/rules.py``) stay the authority: each field is checked by the same function the service calls,
so the form cannot accept what the service would refuse; the form only adds *where* the problem is, so
the page can put the message next to the field and keep everything the curator typed.

Link rows are added and removed without JavaScript: the "add a link" and "remove" buttons submit the form
with ``form_action=add_link`` / ``remove_link=<row>``, and the page comes back with the rows changed and
nothing saved or lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from cellportal.catalog import rules
from cellportal.catalog.errors import InvalidInput
from cellportal.catalog.statuses import CollectionLinkType

# What the form offers, in the order of CELLxGENE Discover's form; DATA_SOURCE is set by programs only.
LINK_TYPES: tuple[tuple[str, str], ...] = (
    (CollectionLinkType.DOI.value, "DOI"),
    (CollectionLinkType.RAW_DATA.value, "Raw data"),
    (CollectionLinkType.PROTOCOL.value, "Protocol"),
    (CollectionLinkType.LAB_WEBSITE.value, "Lab website"),
    (CollectionLinkType.OTHER.value, "Other"),
)
KNOWN_LINK_TYPES = {value for value, _ in LINK_TYPES} | {CollectionLinkType.DATA_SOURCE.value}
MAX_LINKS = 30


class FormValues(Protocol):
    """What Starlette's ``FormData`` offers (and a plain multidict in tests)."""

    def get(self, key: str, default: Any = None) -> Any: ...
    def getlist(self, key: str) -> list[Any]: ...


@dataclass
class LinkRow:
    link_type: str = ""
    link_name: str = ""
    link_url: str = ""

    @property
    def blank(self) -> bool:
        return not (self.link_name.strip() or self.link_url.strip())


@dataclass
class CollectionForm:
    name: str = ""
    description: str = ""
    contact_name: str = ""
    contact_email: str = ""
    consortia: str = ""  # one per line, as typed
    links: list[LinkRow] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # field ("name", "links.2.link_url", ...) -> message

    # -- reading ------------------------------------------------------------------------------------------

    @classmethod
    def from_values(cls, values: FormValues) -> CollectionForm:
        types, names, urls = (values.getlist(key) for key in ("link_type", "link_name", "link_url"))
        rows = [LinkRow(str(kind), str(name), str(url)) for kind, name, url in zip(types, names, urls, strict=False)][
            :MAX_LINKS
        ]
        return cls(
            name=str(values.get("name") or ""),
            description=str(values.get("description") or ""),
            contact_name=str(values.get("contact_name") or ""),
            contact_email=str(values.get("contact_email") or ""),
            consortia=str(values.get("consortia") or ""),
            links=rows,
        )

    @classmethod
    def from_version(cls, version: Any) -> CollectionForm:
        """The form of an existing collection version (a ``CollectionVersion``)."""
        return cls(
            name=version.name,
            description=version.description or "",
            contact_name=version.contact_name or "",
            contact_email=version.contact_email or "",
            consortia="\n".join(version.consortia or []),
            links=[
                LinkRow(str(link.get("link_type") or ""), str(link.get("link_name") or ""), str(link["link_url"]))
                for link in version.links or []
            ],
        )

    # -- editing the rows (no JavaScript needed) ----------------------------------------------------------

    def add_link_row(self) -> None:
        if len(self.links) < MAX_LINKS:
            self.links.append(LinkRow())

    def remove_link_row(self, index: int) -> None:
        if 0 <= index < len(self.links):
            del self.links[index]

    def rows_for_display(self, spare: int = 1) -> list[LinkRow]:
        """The rows plus ``spare`` empty ones, so a new link can be typed without pressing "add"."""
        blanks = sum(row.blank for row in self.links)
        return [*self.links, *(LinkRow() for _ in range(max(0, spare - blanks)))]

    # -- checking -----------------------------------------------------------------------------------------

    @property
    def consortia_list(self) -> list[str]:
        seen: dict[str, None] = {}
        for line in self.consortia.splitlines():
            if line.strip():
                seen.setdefault(line.strip(), None)
        return list(seen)

    def filled_links(self) -> list[tuple[int, LinkRow]]:
        return [(index, row) for index, row in enumerate(self.links) if not row.blank]

    def validate(self) -> bool:
        """Fill ``errors`` with one message per wrong field; True when there is none."""
        self.errors = {}
        if not self.name.strip():
            self.errors["name"] = "A collection needs a name (usually the title of the paper)."
        if not self.contact_name.strip():
            self.errors["contact_name"] = "Give the name of the person readers can contact about this data."
        if not self.contact_email.strip():
            self.errors["contact_email"] = "Give an e-mail address readers can write to about this data."
        else:
            _check(self.errors, "contact_email", lambda: rules.check_collection_fields(None, self.contact_email))
        dois = 0
        for index, row in self.filled_links():
            prefix = f"links.{index}"
            if row.link_type not in KNOWN_LINK_TYPES:
                self.errors[f"{prefix}.link_type"] = "Choose what kind of link this is."
                continue
            if not row.link_url.strip():
                self.errors[f"{prefix}.link_url"] = "A link needs a URL (or clear its name to drop the row)."
                continue
            if row.link_type == CollectionLinkType.DOI:
                dois += 1
                _check(self.errors, f"{prefix}.link_url", lambda url=row.link_url: rules.normalize_doi(url))
            else:
                message = url_problem(row.link_url)
                if message:
                    self.errors[f"{prefix}.link_url"] = message
        if dois > 1:
            self.errors["links"] = "A collection has at most one DOI; keep the paper's DOI and remove the others."
        if not self.errors:
            # The service's own check of the whole list, so form and catalog can never disagree.
            _check(self.errors, "links", lambda: rules.normalize_links(self.service_links(), None))
        return not self.errors

    # -- writing ------------------------------------------------------------------------------------------

    def service_links(self) -> list[dict[str, Any]]:
        return [
            {"link_type": row.link_type, "link_name": row.link_name.strip() or None, "link_url": row.link_url.strip()}
            for _, row in self.filled_links()
        ]

    def service_fields(self) -> dict[str, Any]:
        """Keyword arguments for ``create_collection`` / ``update_collection_metadata``."""
        return {
            "name": self.name.strip(),
            "description": self.description.strip(),
            "contact_name": self.contact_name.strip(),
            "contact_email": self.contact_email.strip(),
            "links": self.service_links(),
            "consortia": self.consortia_list,
        }


def url_problem(url: str) -> str | None:
    """Why a link URL would not work for a reader, or None. Stricter than the catalog's http(s) check: a
    typo like ``https//lab.org`` or ``https://lab org`` is caught here, where the curator can still fix it."""
    value = url.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        return f"'{value}' is not a web address; it must start with https:// (or http://)."
    host = parts.hostname or ""
    if not host or any(ch.isspace() for ch in value) or ("." not in host and host != "localhost"):
        return f"'{value}' is not a complete web address; expected something like https://example.org/page."
    return None


def remove_index(values: Mapping[str, Any] | FormValues) -> int | None:
    raw = values.get("remove_link")
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _check(errors: dict[str, str], key: str, check: Any) -> None:
    try:
        check()
    except InvalidInput as problem:
        errors[key] = _sentence(problem.message)


def _sentence(message: str) -> str:
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def link_type_label(value: str, choices: Sequence[tuple[str, str]] = LINK_TYPES) -> str:
    return dict(choices).get(value, value.replace("_", " ").title())
