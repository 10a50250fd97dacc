"""What may be uploaded: checks, each failing with a sentence that says what to do instead.

All are pure but `check_source_url`, which also resolves the URL's host: the server downloads from it, so it
must not be made to reach itself, its network or a cloud metadata service (server-side request forgery).
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cellportal.config import Settings

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


IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]  # (host, port) -> the addresses it names


@dataclass(frozen=True)
class UrlPolicy:
    """Which URLs the server downloads from, and how much: https on the public internet, unless the operator
    allows more (``CELLPORTAL_UPLOAD_URL_ALLOW_HTTP``, ``CELLPORTAL_UPLOAD_URL_PRIVATE_NETWORKS``), and no more
    bytes than a browser upload may send (``CELLPORTAL_UPLOAD_MAX_BYTES``)."""

    allow_http: bool = False
    private_networks: tuple[IpNetwork, ...] = ()
    max_bytes: int | None = None

    @classmethod
    def of(cls, settings: Settings) -> UrlPolicy:
        networks = parse_networks(settings.upload_url_private_networks)
        return cls(settings.upload_url_allow_http, networks, settings.upload_max_bytes)


def parse_networks(raw: str | Iterable[str]) -> tuple[IpNetwork, ...]:
    """``"10.1.2.0/24, 127.0.0.1"`` -> networks; ValueError names the part that is not one."""
    parts = raw.split(",") if isinstance(raw, str) else raw
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in parts if part.strip())


def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an address literal resolves to itself)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def refused_address(address: str, private_networks: Iterable[IpNetwork] = ()) -> str | None:
    """Why the server must not connect to `address`, or None when it is on the public internet (or in one
    of the networks the operator allowed). Loopback, private, link-local (169.254.169.254, the cloud
    metadata service), shared, reserved and multicast addresses are all refused."""
    ip: IpAddress = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if any(ip in network for network in private_networks):
        return None
    if ip.is_global and not ip.is_multicast:  # Python counts some multicast ranges as global
        return None
    kind = (
        "a loopback"
        if ip.is_loopback
        else "a link-local"
        if ip.is_link_local
        else "a multicast"
        if ip.is_multicast
        else "a private or reserved"
    )
    return f"{kind} address ({ip})"


def check_source_url(url: str, policy: UrlPolicy, *, resolve: Resolver = resolve_host) -> str:
    """A URL the pipeline may download from: https (and http where the operator allows it), on a host that
    resolves to public addresses only; never file: a curator must not make the server read its own disk.
    The pipeline checks every redirect again (`jobs.pipeline.fetch_source`)."""
    checked_addresses(url, policy, resolve=resolve)
    return url.strip()


def checked_addresses(url: str, policy: UrlPolicy, *, resolve: Resolver = resolve_host) -> list[str]:
    """The addresses `url`'s host resolves to, every one of them allowed by `policy`; UploadRefused with a
    sentence otherwise. A download must connect to one of these, not look the name up again: a second
    lookup could answer differently (DNS rebinding)."""
    url = (url or "").strip()
    if not url:
        raise UploadRefused("Give the URL of an .h5ad file.")
    parts = urllib.parse.urlsplit(url)
    allowed = ("https", "http") if policy.allow_http else ("https",)
    scheme = parts.scheme.lower()
    if scheme not in allowed:
        shown = " or ".join(f"{each}://" for each in allowed)
        raise UploadRefused(f"Only {shown} URLs can be downloaded; {parts.scheme or 'this'!s} URLs are not supported.")
    if not parts.hostname:
        raise UploadRefused(f"{url!r} names no host.")
    if parts.username or parts.password:
        raise UploadRefused("Put no user name or password in the URL: use a public or presigned link.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
        addresses = resolve(parts.hostname, port)
    except ValueError:
        raise UploadRefused(f"{url!r} has an invalid port.") from None
    except OSError:
        raise UploadRefused(f"The host {parts.hostname} could not be found: check the URL.") from None
    for address in addresses:
        reason = refused_address(address, policy.private_networks)
        if reason is not None:
            raise UploadRefused(
                f"{parts.hostname} is {reason}: only files on the public internet can be downloaded "
                "(an operator can allow a network with CELLPORTAL_UPLOAD_URL_PRIVATE_NETWORKS)."
            )
    if not addresses:
        raise UploadRefused(f"The host {parts.hostname} could not be found: check the URL.")
    return list(addresses)


def filename_from_url(url: str) -> str:
    """The name the original will carry: the URL path's last part, if it is an .h5ad name."""
    last = urllib.parse.unquote(urllib.parse.urlsplit(url).path).rstrip("/").rsplit("/", 1)[-1]
    return last if last.lower().endswith(H5AD_SUFFIX) else "download.h5ad"
