"""The explorer's wire format and response compression.

A frame is ``b"CPA1"`` | uint32 little-endian header length | UTF-8 JSON header | arrays. The header is
``{"meta": {...}, "arrays": [{"name", "dtype", "length", "offset"}]}``; each array starts at an offset
that is a multiple of 8 from the start of the frame, so the browser views it in place as a typed array
(`frontend/src/explorer/binary.js`). All numbers are little-endian.

Compression follows the client's Accept-Encoding: zstd when accepted (fast at every size), else gzip at
a low level (gzip 6 costs ~300 ms on 8 MB), else none.
"""

from __future__ import annotations

import gzip
import json
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np
import zstandard

MAGIC = b"CPA1"
ALIGN = 8
WIRE_DTYPES = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"}
ZSTD_LEVEL = 1  # float arrays barely compress better at 3, and level 1 is about twice as fast
GZIP_LEVEL = 1
# Below this size compression saves less than it costs in time and headers.
MIN_COMPRESS_BYTES = 512


def pack_frame(arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any] | None = None) -> bytes:
    """One frame holding named 1-D arrays (little-endian, 8-byte aligned) and a JSON `meta` object."""
    specs: list[dict[str, Any]] = []
    payloads: list[np.ndarray] = []
    for name, array in arrays.items():
        flat = np.ascontiguousarray(np.asarray(array).reshape(-1))
        if flat.dtype.name not in WIRE_DTYPES:
            raise TypeError(f"array {name!r} has dtype {flat.dtype}, not one of {sorted(WIRE_DTYPES)}")
        payloads.append(flat.astype(flat.dtype.newbyteorder("<"), copy=False))
        specs.append({"name": name, "dtype": flat.dtype.name, "length": int(flat.size)})
    # The header's length depends on the offsets it lists; offsets depend on the header's length.
    # Reserve room by laying out with a generous header size, then pad the real header up to it.
    header_room = _padded(8 + len(json.dumps({"meta": meta or {}, "arrays": specs})) + 40 * len(specs) + 64)
    offset = header_room
    for spec, payload in zip(specs, payloads, strict=True):
        spec["offset"] = offset
        offset = _padded(offset + payload.nbytes)
    header = json.dumps({"meta": meta or {}, "arrays": specs}, separators=(",", ":")).encode()
    if 8 + len(header) > header_room:
        raise AssertionError("frame header outgrew its reserved room")
    # One copy of each array, straight into the joined result.
    parts: list[bytes | memoryview] = [MAGIC, struct.pack("<I", len(header)), header]
    position = 8 + len(header)
    for spec, payload in zip(specs, payloads, strict=True):
        parts.append(b"\0" * (spec["offset"] - position))
        parts.append(memoryview(payload).cast("B"))
        position = spec["offset"] + payload.nbytes
    parts.append(b"\0" * (offset - position))
    return b"".join(parts)


def unpack_frame(frame: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The inverse of `pack_frame` (used by tests and the benchmark client)."""
    if frame[:4] != MAGIC:
        raise ValueError("not an explorer frame")
    (length,) = struct.unpack("<I", frame[4:8])
    header = json.loads(frame[8 : 8 + length])
    arrays = {
        spec["name"]: np.frombuffer(
            frame, dtype=np.dtype(spec["dtype"]).newbyteorder("<"), count=spec["length"], offset=spec["offset"]
        )
        for spec in header["arrays"]
    }
    return header["meta"], arrays


def _padded(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def choose_encoding(accept_encoding: str | None) -> str:
    """The best content coding the client accepts: 'zstd', 'gzip' or 'identity'.

    Reads q-values (``gzip;q=0`` refuses gzip) and ``*``; ties go to zstd, which is the faster.
    """
    accepted: dict[str, float] = {}
    for part in (accept_encoding or "").split(","):
        token, _, params = part.strip().partition(";")
        token = token.strip().lower()
        if not token:
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        accepted[token] = quality
    wildcard = accepted.get("*")
    for coding in ("zstd", "gzip"):
        quality = accepted.get(coding, wildcard if wildcard is not None else 0.0)
        if quality > 0:
            return coding
    return "identity"


def compress(body: bytes, encoding: str) -> bytes:
    if encoding == "zstd":
        # The content size in the frame header lets decoders allocate once; browsers require a single frame.
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=True).compress(body)
    if encoding == "gzip":
        return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    if encoding == "identity":
        return body
    raise ValueError(f"unknown content coding {encoding!r}")


def encode_for(body: bytes, accept_encoding: str | None) -> tuple[bytes, str]:
    """The body as sent to this client and the coding used ('identity' when not compressed)."""
    encoding = choose_encoding(accept_encoding) if len(body) >= MIN_COMPRESS_BYTES else "identity"
    return compress(body, encoding), encoding
