from __future__ import annotations

import pytest

from web.auth.clients import client_address, parse_networks

PROXIES = parse_networks(["127.0.0.1/32", "10.0.0.0/8", "::1/128"])


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        # no trusted peer: the header is anyone's claim
        ("203.0.113.7", ["198.51.100.1"], "203.0.113.7"),
        # the proxy forwards the client
        ("127.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        # the client claimed an address; the proxy appended the real one: right-most untrusted wins
        ("127.0.0.1", ["1.2.3.4, 198.51.100.1"], "198.51.100.1"),
        # two proxies of ours in a chain, header repeated
        ("10.0.0.2", ["1.2.3.4, 198.51.100.1", "10.0.0.5"], "198.51.100.1"),
        # trusted peer without the header: the peer
        ("127.0.0.1", [], "127.0.0.1"),
        # garbage right after our proxy: stop at the proxy
        ("127.0.0.1", ["198.51.100.1, não-é-ip"], "127.0.0.1"),
        # ports and IPv6 brackets
        ("::1", ["[2001:db8::5]:443"], "2001:db8::5"),
        ("127.0.0.1", ["198.51.100.1:5123"], "198.51.100.1"),
        # only proxies of ours: the left-most of them
        ("127.0.0.1", ["10.0.0.7, 10.0.0.8"], "10.0.0.7"),
    ],
)
def test_right_most_untrusted_address(remote: str, forwarded: list[str], expected: str) -> None:
    assert client_address(remote, forwarded, PROXIES) == expected


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_address("127.0.0.1", ["198.51.100.1"], ()) == "127.0.0.1"


def test_bad_networks_are_named() -> None:
    with pytest.raises(ValueError, match="'10.0.0.1/8'"):
        parse_networks(["127.0.0.1/32", "10.0.0.1/8"])
    with pytest.raises(ValueError, match="'proxy'"):
        parse_networks(["proxy"])
