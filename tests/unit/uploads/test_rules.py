"""Which hosts upload-from-URL may reach: the address check, with the resolver given in (no DNS here)."""

from __future__ import annotations

import pytest

from cellportal.config import Settings
from cellportal.uploads.rules import UploadRefused, UrlPolicy, check_source_url, parse_networks, refused_address


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "127.0.0.2", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "fe80::1",
     "100.64.0.1", "0.0.0.0", "::ffff:10.0.0.1", "fd00::1", "224.0.0.1"],
)  # fmt: skip
def test_non_public_addresses_are_refused(address: str) -> None:
    assert refused_address(address) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700:4700::1111", "8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert refused_address(address) is None


def test_an_allowed_network_lets_only_its_addresses_through() -> None:
    networks = parse_networks("10.1.2.0/24, 127.0.0.1")
    assert refused_address("10.1.2.77", networks) is None
    assert refused_address("127.0.0.1", networks) is None
    assert refused_address("127.0.0.2", networks) is not None
    assert refused_address("169.254.169.254", networks) is not None


def test_the_settings_refuse_what_the_policy_could_not_parse() -> None:
    with pytest.raises(ValueError, match=r"PRIVATE_NETWORKS: 'nope' does not appear to be"):
        Settings(upload_url_private_networks="10.1.2.0/24, nope")
    settings = Settings(upload_url_private_networks="10.1.2.0/24, 127.0.0.1")
    assert UrlPolicy.of(settings).private_networks == parse_networks(["10.1.2.0/24", "127.0.0.1/32"])


def test_a_name_with_any_private_address_is_refused() -> None:
    """A host name that resolves to a public and a private address could be connected to either."""

    def resolve(host: str, port: int) -> list[str]:
        assert (host, port) == ("data.example.org", 443)
        return ["93.184.215.14", "10.0.0.5"]

    with pytest.raises(UploadRefused, match=r"data\.example\.org is a private or reserved address \(10\.0\.0\.5\)"):
        check_source_url("https://data.example.org/a.h5ad", UrlPolicy(), resolve=resolve)
    assert check_source_url("https://data.example.org/a.h5ad", UrlPolicy(), resolve=lambda *_: ["93.184.215.14"])


def test_a_host_that_does_not_resolve_is_refused() -> None:
    def resolve(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(UploadRefused, match="could not be found"):
        check_source_url("https://nowhere.invalid/a.h5ad", UrlPolicy(), resolve=resolve)
