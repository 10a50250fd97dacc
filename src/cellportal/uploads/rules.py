"""What may be uploaded: pure checks, each failing with a sentence that says what to do instead."""

from __future__ import annotations

import urllib.parse
from pathlib import PurePosixPath, PureWindowsPath

H5AD_SUFFIX = ".h5ad"
MAX_FILENAME = 255


class UploadRefused(ValueError):
    """The upload cannot be accepted as asked; ``str(error)`` tells the curator why and what to do."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def clean_filename(raw: str | None) -> str:
    """The file's base name (browsers may send a path), which must end in .h5ad."""
    if not raw or not raw.strip():
        raise UploadRefused("The upload has no file name: send it as the 'filename' metadata.")
    name = PureWindowsPath(PurePosixPath(raw.strip()).name).name  # drop any folder, either separator
    if not name or name in {".", ".."} or any(ord(char) < 32 for char in name):
        raise UploadRefused(f"{raw!r} is not a usable file name.")
    if len(name) > MAX_FILENAME:
        raise UploadRefused(f"The file name is longer than {MAX_FILENAME} characters; rename the file.")
    if not name.lower().endswith(H5AD_SUFFIX):
        raise UploadRefused(f"{name!r} is not an AnnData file: only {H5AD_SUFFIX} files can be uploaded.")
    return name


def check_length(length: int, max_bytes: int) -> int:
    if length == 0:
        raise UploadRefused("The file is empty (0 bytes); choose the .h5ad file again.")
    if length > max_bytes:
        raise UploadRefused(
            f"The file has {length:,} bytes, more than this portal accepts ({max_bytes:,} bytes). "
            "Ask the operator to raise CELLPORTAL_UPLOAD_MAX_BYTES.",
            status=413,
        )
    return length


def check_source_url(url: str, *, allow_http: bool) -> str:
    """A URL the pipeline may download from: https (and http where the operator allows it); never file:
    a curator must not make the server read its own disk."""
    url = (url or "").strip()
    if not url:
        raise UploadRefused("Give the URL of an .h5ad file.")
    parts = urllib.parse.urlsplit(url)
    allowed = ("https", "http") if allow_http else ("https",)
    if parts.scheme.lower() not in allowed:
        shown = " or ".join(f"{scheme}://" for scheme in allowed)
        raise UploadRefused(f"Only {shown} URLs can be downloaded; {parts.scheme or 'this'!s} URLs are not supported.")
    if not parts.hostname:
        raise UploadRefused(f"{url!r} names no host.")
    if parts.username or parts.password:
        raise UploadRefused("Put no user name or password in the URL: use a public or presigned link.")
    return url


def filename_from_url(url: str) -> str:
    """The name the original will carry: the URL path's last part, if it is an .h5ad name."""
    last = urllib.parse.unquote(urllib.parse.urlsplit(url).path).rstrip("/").rsplit("/", 1)[-1]
    return last if last.lower().endswith(H5AD_SUFFIX) else "download.h5ad"
