"""Per-origin connection pools (digest/fetch/pools.py) over real loopback servers."""

from __future__ import annotations

import asyncio
import contextlib
from http.server import BaseHTTPRequestHandler

from httpserver import LOOPBACK, LoopbackServer, Reply

from digest.config.settings import FetchSettings
from digest.fetch.client import make_client
from digest.fetch.pools import OriginPools


def _port_reply(handler: BaseHTTPRequestHandler) -> Reply:
    # The client's port names the connection a request came on.
    return Reply(200, str(handler.client_address[1]).encode(), {"Content-Type": "text/plain"})


async def _get_all(
    settings: FetchSettings, urls: list[str]
) -> tuple[list[str], dict[str, int], OriginPools]:
    """Return each reply's client port, the hosts pooled with their connections, the pools."""
    async with make_client(settings) as client:
        pools = client._transport._pool  # type: ignore[attr-defined]
        assert isinstance(pools, OriginPools)
        ports = [(await client.get(u)).text for u in urls]
        held = {key[1].decode(): len(pool.connections) for key, pool in pools.pools.items()}
    assert pools.pools == {}  # closing the client closed every pool
    return ports, held, pools


def test_each_host_gets_its_own_pool_and_keeps_its_connection() -> None:
    settings = FetchSettings(allow_private=LOOPBACK, concurrency=8, per_host=2)
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(LoopbackServer(f"127.0.0.{i}")) for i in (1, 2, 3)]
        for s in servers:
            s.routes["/p"] = _port_reply
        urls = [s.url("/p") for s in servers] * 3
        ports, held, _ = asyncio.run(_get_all(settings, urls))
    assert held == {"127.0.0.1": 1, "127.0.0.2": 1, "127.0.0.3": 1}
    # One connection per host, reused by that host's next two requests.
    assert [ports[i] == ports[i + 3] == ports[i + 6] for i in range(3)] == [True] * 3
    assert len(set(ports)) == 3


def test_idle_pools_beyond_the_limit_are_closed_oldest_first() -> None:
    settings = FetchSettings(allow_private=LOOPBACK, concurrency=1, per_host=1)
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(LoopbackServer(f"127.0.0.{i}")) for i in range(1, 7)]
        for s in servers:
            s.routes["/p"] = _port_reply
        ports, held, _ = asyncio.run(_get_all(settings, [s.url("/p") for s in servers]))
    # keep = 4 x concurrency: the four most recent hosts, oldest first.
    assert list(held) == ["127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"]
    assert len(set(ports)) == 6
