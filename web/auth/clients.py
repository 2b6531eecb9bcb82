"""Who the client is: the peer address, or what a trusted reverse proxy says it is.

``X-Forwarded-For`` is written by whoever sends the request, so it is believed only when
the peer is a trusted proxy (``[web] trusted_proxies``): then the hops are read from the
right, skipping trusted proxies, and the first address that is not one of ours is the
client. Anything a client put further left is its own claim and ignored; a hop that is not
an address stops the walk at the last proxy we trust. Without trusted proxies the peer
address is the client, whatever the header says.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

FORWARDED_FOR = "X-Forwarded-For"
# a header longer than this is not read (a client could send megabytes of hops)
MAX_HOPS = 32


def parse_networks(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs (``"10.0.0.0/8"``, ``"::1/128"``; a bare address is one host); ValueError names the bad one."""
    found = []
    for entry in entries:
        try:
            found.append(ipaddress.ip_network(entry.strip(), strict=True))
        except ValueError as exc:
            raise ValueError(f"{entry!r} is not a network in CIDR notation ({exc})") from None
    return tuple(found)


def _address(text: str) -> IPAddress | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:5123"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def client_address(remote: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]) -> str | None:
    """The client's address given the peer ``remote``, the ``X-Forwarded-For`` header values and the trusted proxies."""
    if remote is None or not trusted:
        return remote
    peer = _address(remote)
    if peer is None or not _trusted(peer, trusted):
        return remote
    hops = [hop for value in forwarded_for for hop in value.split(",")][-MAX_HOPS:]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # garbage: believe no further than the last proxy we trust
        client = address
        if not _trusted(address, trusted):
            break
    return str(client)


__all__ = ["FORWARDED_FOR", "IPNetwork", "client_address", "parse_networks"]
