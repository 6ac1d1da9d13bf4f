"""Check that a URL's host resolves only to public addresses (the guard for remote pages).

The resolver is a parameter so tests can make a loopback host look public.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

from digest.errors import FetchError

Resolver = Callable[[str], Awaitable[Sequence[str]]]


async def resolve_host(host: str) -> list[str]:
    """Return the addresses a host name resolves to (OSError when it does not)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def check_public(url: str, resolve: Resolver) -> None:
    """Raise FetchError unless every address the URL's host resolves to is public."""
    try:
        host = urlsplit(url).hostname
    except ValueError as exc:  # e.g. an unclosed "[" in the host
        raise FetchError(url, f"bad URL: {exc}") from exc
    if not host:
        raise FetchError(url, "URL has no host")
    try:
        addresses = await resolve(host)
    except (OSError, UnicodeError) as exc:
        raise FetchError(url, f"cannot resolve {host}: {exc}") from exc
    if not addresses:
        raise FetchError(url, f"cannot resolve {host}: no addresses")
    for found in addresses:
        # A scoped IPv6 address ("fe80::1%eth0") is link-local: the scope does not matter.
        address = ipaddress.ip_address(found.split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
        if not address.is_global:
            raise FetchError(url, f"{host} resolves to non-public address {address}")
