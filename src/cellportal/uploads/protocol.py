"""The tus 1.0.0 resumable upload protocol (https://tus.io/protocols/resumable-upload), as pure functions.

We implement the core protocol and the creation, termination, expiration and checksum extensions. Every
check raises `TusError` with the status the specification prescribes and a sentence for the person
uploading; the router turns it into a problem document carrying the ``Tus-Resumable`` header.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

TUS_VERSION = "1.0.0"
EXTENSIONS = ("creation", "termination", "expiration", "checksum")
CHECKSUM_ALGORITHMS = ("sha1", "md5", "sha256")  # sha1 is the one the specification requires
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
CHECKSUM_MISMATCH = 460  # the checksum extension's own status code


class TusError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def check_version(headers: Mapping[str, str]) -> None:
    """Every request but OPTIONS names the protocol version; one we do not speak is 412."""
    version = headers.get("tus-resumable")
    if version is None:
        raise TusError(412, f"The header Tus-Resumable: {TUS_VERSION} is required (use a tus client).")
    if version != TUS_VERSION:
        raise TusError(412, f"Tus-Resumable {version!r} is not supported; this server speaks {TUS_VERSION}.")


def non_negative_int(headers: Mapping[str, str], name: str) -> int:
    raw = headers.get(name.lower())
    if raw is None:
        raise TusError(400, f"The header {name} is required.")
    if not raw.isdigit():  # digits only: no sign, no spaces, no exponent
        raise TusError(400, f"The header {name} must be a non-negative integer, not {raw!r}.")
    return int(raw)


def parse_metadata(raw: str | None) -> dict[str, str]:
    """``Upload-Metadata: key base64(value),key2 base64(value2)``; a key may come without a value."""
    metadata: dict[str, str] = {}
    if not raw or not raw.strip():
        return metadata
    for pair in raw.split(","):
        parts = pair.strip().split(" ")
        key = parts[0]
        if not key or len(parts) > 2 or key in metadata:
            raise TusError(400, f"Upload-Metadata is malformed near {pair.strip()!r}.")
        value = ""
        if len(parts) == 2:
            try:
                value = base64.b64decode(parts[1], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise TusError(400, f"Upload-Metadata value of {key!r} is not base64-encoded UTF-8.") from None
        metadata[key] = value
    return metadata


def encode_metadata(metadata: Mapping[str, str]) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in metadata.items())


@dataclass(frozen=True)
class Checksum:
    algorithm: str
    digest: bytes

    def new_hash(self) -> hashlib._Hash:
        return hashlib.new(self.algorithm)


def parse_checksum(raw: str | None) -> Checksum | None:
    """``Upload-Checksum: <algorithm> <base64 digest>`` of the PATCH body (optional)."""
    if raw is None:
        return None
    algorithm, _, encoded = raw.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        supported = ", ".join(CHECKSUM_ALGORITHMS)
        raise TusError(400, f"Checksum algorithm {algorithm!r} is not supported; use one of {supported}.")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise TusError(400, "Upload-Checksum must be '<algorithm> <base64 digest>'.") from None
    if len(digest) != hashlib.new(algorithm).digest_size:
        raise TusError(400, f"Upload-Checksum: a {algorithm} digest has {hashlib.new(algorithm).digest_size} bytes.")
    return Checksum(algorithm, digest)


def check_patch(headers: Mapping[str, str], *, offset: int) -> int:
    """A PATCH appends at the upload's current offset, as ``application/offset+octet-stream``."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != OFFSET_CONTENT_TYPE:
        raise TusError(415, f"A PATCH must have Content-Type: {OFFSET_CONTENT_TYPE}.")
    claimed = non_negative_int(headers, "Upload-Offset")
    if claimed != offset:
        raise TusError(
            409, f"Upload-Offset {claimed} does not match the {offset} bytes received so far; ask HEAD and resume."
        )
    return claimed


def discovery_headers(max_size: int) -> dict[str, str]:
    """What OPTIONS tells a client about this server."""
    return {
        "Tus-Resumable": TUS_VERSION,
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": ",".join(EXTENSIONS),
        "Tus-Max-Size": str(max_size),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
    }
