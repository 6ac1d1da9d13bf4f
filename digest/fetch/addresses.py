"""Refuse private addresses on the connection actually made (no SSRF, no DNS rebinding).

`GuardedTransport` (httpx) runs on `GuardedBackend`, the httpcore network backend: for every new
connection it resolves the host once, keeps the addresses that are public (or inside a
`fetch.allow_private` network), refuses the host when none is, and connects to one of those
very addresses. TLS still
uses the host name (SNI and certificate checks) and HTTP the Host header, since httpcore
passes them on unchanged. A second, separate look-up (which a rebinding DNS server could
answer differently) never happens. Feeds, every redirect hop, pages, robots.txt and images
all go through it. The resolver is a parameter so tests can play public and private hosts.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence

import httpcore
import httpx

from digest.config import FetchSettings
from digest.errors import FetchError
from digest.fetch.pools import OriginPools

Resolver = Callable[[str], Awaitable[Sequence[str]]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


async def resolve_host(host: str) -> list[str]:
    """Return the addresses a host name resolves to (OSError when it does not)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_networks(texts: Iterable[str]) -> tuple[Network, ...]:
    """Return the networks named ("127.0.0.0/8", "::1"); ValueError for a malformed one."""
    return tuple(ipaddress.ip_network(text.strip(), strict=False) for text in texts)


def _address(text: str) -> Address:
    # A scoped IPv6 address ("fe80::1%eth0") is link-local: the scope does not matter.
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return address


def _networks(*texts: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(t) for t in texts)


# Not a public unicast address, whatever the standard library's is_global says (it called
# ::7f00:1 and 64:ff9b::a9fe:a9fe global). IPv4: this network, private, shared (CGN),
# loopback, link-local (169.254.169.254 is the cloud metadata address), IETF protocol
# assignments, documentation, the 6to4 relay anycast, benchmarking, multicast, reserved.
DENIED_V4 = _networks(
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
)  # fmt: skip
# IPv6 is allowed only inside global unicast (2000::/3), and there not in these: Teredo and
# the other special-purpose blocks of 2001::/23, documentation. Outside it: unspecified,
# loopback, IPv4-compatible (::/96: ::7f00:1 is 127.0.0.1), IPv4-mapped and -translated
# (::ffff:0:0/96, ::ffff:0:0:0/96), local-use NAT64 (64:ff9b:1::/48), discard, ULA,
# site-local (fec0::/10), link-local, multicast.
DENIED_V6 = _networks("2001::/23", "2001:db8::/32", "3fff::/20")
GLOBAL_V6 = ipaddress.IPv6Network("2000::/3")
# Addresses that carry an IPv4 address inside them: allowed only when that one is.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix: last 32 bits
SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")  # RFC 3056: bits 16 to 48


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address a NAT64 or 6to4 address leads to, None for other addresses."""
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _public(address: Address) -> bool:
    """Return True for a public unicast address, by the explicit ranges above."""
    if isinstance(address, ipaddress.IPv4Address):
        return address.is_global and not any(address in net for net in DENIED_V4)
    embedded = _embedded_v4(address)
    if embedded is not None:
        return _public(embedded)
    return address in GLOBAL_V6 and not any(address in net for net in DENIED_V6)


def is_allowed(address: Address, allowed: Sequence[Network]) -> bool:
    """Return True for a public unicast address, or one inside an allowed network."""
    # Versions compared first: an IPv4 address tests as "in" some IPv6 networks (::/96).
    if any(address.version == net.version and address in net for net in allowed):
        return True
    return _public(address)


async def checked_addresses(host: str, resolve: Resolver, allowed: Sequence[Network]) -> list[str]:
    """Return the host's allowed addresses (resolved once); FetchError when none is."""
    host = host.strip("[]")
    try:
        literal: Address | None = _address(host)
    except ValueError:
        literal = None
    if literal is not None:
        found = [host]
    else:
        try:
            found = list(await resolve(host))
        except (OSError, UnicodeError) as exc:
            raise FetchError(host, f"cannot resolve {host}: {exc}") from exc
        if not found:
            raise FetchError(host, f"cannot resolve {host}: no addresses")
    # Only checked addresses are ever connected to, so the others can simply be left out:
    # "localhost" gives ::1 and 127.0.0.1, and allow_private = ["127.0.0.0/8"] should do.
    usable = [text for text in found if is_allowed(_address(text), allowed)]
    if not usable:
        where = "" if literal is not None else f"{host} resolves to "
        raise FetchError(
            host,
            f"{where}non-public address {_address(found[0])} "
            "(refused; list its network in fetch.allow_private to allow it)",
        )
    return usable


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to checked addresses: resolve once, check, connect to that address."""

    def __init__(self, resolve: Resolver, allowed: Sequence[Network]) -> None:
        self.resolve = resolve
        self.allowed = tuple(allowed)
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Return a stream to one of host's addresses, each checked before any is tried."""
        try:
            async with asyncio.timeout(timeout):
                addresses = await checked_addresses(host, self.resolve, self.allowed)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        error: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host}: no address to connect to")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Refuse: digest never fetches over a Unix socket."""
        raise httpcore.ConnectError("unix sockets are not used for fetching")

    async def sleep(self, seconds: float) -> None:
        """Sleep (httpcore's retry backoff)."""
        await self.inner.sleep(seconds)


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """Return the process's TLS context (certifi's CAs), made once.

    Loading the CA bundle costs about 0.1 CPU-s; httpx made it twice for every client (the
    transport's own context, then ours), that is twice per fetch pass and per page fetch. A
    context is safe to share between clients and threads once made.
    """
    return httpx.create_ssl_context(trust_env=False)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool whose every connection is address-checked."""

    def __init__(
        self, settings: FetchSettings, resolve: Resolver, context: ssl.SSLContext | None
    ) -> None:
        limits = httpx.Limits(
            max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency
        )
        context = context or default_ssl_context()
        super().__init__(limits=limits, trust_env=False, verify=context)
        # httpx takes no network backend, so the pool is made again with the same settings
        # and the guarded backend (httpcore's documented extension point). Should httpx
        # ever rename its pool, fail loudly rather than fetch unguarded.
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("httpx.AsyncHTTPTransport has no _pool: cannot guard fetches")
        backend = GuardedBackend(resolve, parse_networks(settings.allow_private))
        # One pool per origin (digest/fetch/pools.py): httpcore's pool scans all of its
        # connections on every request. The fetcher limits requests overall and per host, so
        # a pool holds what one host uses at once; it keeps up to per_host of them idle, and
        # the pools of the 4 x concurrency hosts used last are kept (a feed list often has
        # many feeds per host; the rest close, so idle sockets stay bounded).
        # httpx types _pool as one pool but only calls handle_async_request, aclose and the
        # async context methods on it, which OriginPools has.
        self._pool = OriginPools(  # type: ignore[assignment]
            lambda: httpcore.AsyncConnectionPool(
                ssl_context=context,
                max_connections=limits.max_connections,
                max_keepalive_connections=min(settings.per_host, settings.concurrency),
                keepalive_expiry=limits.keepalive_expiry,
                network_backend=backend,
            ),
            keep=4 * settings.concurrency,
        )
