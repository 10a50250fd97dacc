"""HTTP responses of the data API: compressed as the client accepts, with ETags and cache headers.

A dataset version never changes, so a response is a function of (store hash, path, query, coding). Published
data is cacheable by anyone for a year (`immutable`); private data only by the browser, which revalidates
each time (`no-cache`) so that revoked access takes effect: the check runs, and a 304 costs no data.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response

from cellportal.explorer.encoding import choose_encoding, compress

API_VERSION = "1"
PUBLIC = "public, max-age=31536000, immutable"
PRIVATE = "private, no-cache"
FRAME_TYPE = "application/octet-stream"
JSON_TYPE = "application/json"


def etag_for(store_sha256: str, request: Request, coding: str) -> str:
    what = f"{API_VERSION}|{request.url.path}|{request.url.query}".encode()
    return f'"{store_sha256[:16]}-{hashlib.sha256(what).hexdigest()[:16]}-{coding}"'


class BodyCache:
    """Compressed bodies by ETag, least recently used dropped past `max_bytes`.

    A body depends only on its ETag (store, path, query, coding), so a cached one is never stale; this
    saves reading and compressing the same column again when several readers open the same dataset.
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, etag: str) -> bytes | None:
        with self._lock:
            body = self._bodies.get(etag)
            if body is not None:
                self._bodies.move_to_end(etag)
            return body

    def put(self, etag: str, body: bytes) -> None:
        if len(body) > self.max_bytes // 4:
            return  # one huge body would evict everything else
        with self._lock:
            if etag in self._bodies:
                return
            self._bodies[etag] = body
            self._size += len(body)
            while self._size > self.max_bytes:
                _, old = self._bodies.popitem(last=False)
                self._size -= len(old)


def immutable_response(
    request: Request,
    store_sha256: str,
    public: bool,
    media_type: str,
    make_body: Callable[[], bytes],
    cache: BodyCache | None = None,
) -> Response:
    """The body from `make_body()`, compressed for this client; 304 when its ETag is already held."""
    coding = choose_encoding(request.headers.get("accept-encoding"))
    etag = etag_for(store_sha256, request, coding)
    headers = {"ETag": etag, "Cache-Control": PUBLIC if public else PRIVATE, "Vary": "Accept-Encoding"}
    held = _listed_etags(request.headers.get("if-none-match"))
    if etag in held or "*" in held:
        return Response(status_code=304, headers=headers)
    body = cache.get(etag) if cache is not None else None
    if body is None:
        body = compress(make_body(), coding)
        if cache is not None:
            cache.put(etag, body)
    if coding != "identity":
        headers["Content-Encoding"] = coding
    return Response(content=body, media_type=media_type, headers=headers)


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def _listed_etags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}
