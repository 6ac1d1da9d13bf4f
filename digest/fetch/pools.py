"""One httpcore connection pool per origin, so finding a connection costs O(that host's).

httpcore's AsyncConnectionPool looks over every connection it holds each time a request
starts or ends, and asks the kernel whether each idle one is still open (one or two system
calls apiece); its count of idle connections is itself a list built per connection. With
one pool for a whole pass (64 connections across 100 hosts in the fetch benchmark) that was
a sixth of the event loop's CPU on a cold pass of 1,000 feeds, and it holds the event loop
while responses wait. Split by origin, each pool holds what one host uses at once (the
fetcher already limits requests in flight overall and per host), and a scan is one or two
connections. Pools are kept most recently used last; beyond `keep` of them, the oldest
whose connections are all idle are closed, so idle sockets stay bounded.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from types import TracebackType

import httpcore

Key = tuple[bytes, bytes, int | None]


class OriginPools:
    """Routes each request to its origin's own connection pool, made by make_pool."""

    def __init__(self, make_pool: Callable[[], httpcore.AsyncConnectionPool], keep: int) -> None:
        self.make_pool, self.keep = make_pool, max(1, keep)
        self.pools: OrderedDict[Key, httpcore.AsyncConnectionPool] = OrderedDict()

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        """Send the request through its origin's pool (made on first use)."""
        url = request.url
        key = (url.scheme, url.host, url.port)
        pool = self.pools.pop(key, None) or self.make_pool()
        self.pools[key] = pool
        if len(self.pools) > self.keep:
            await self._trim(key)
        return await pool.handle_async_request(request)

    async def _trim(self, current: Key) -> None:
        # Oldest first; a pool with a connection in use (or being made) is left alone.
        for key in list(self.pools):
            if len(self.pools) <= self.keep:
                return
            pool = self.pools[key]
            if key != current and all(c.is_idle() or c.is_closed() for c in pool.connections):
                del self.pools[key]
                await pool.aclose()

    async def aclose(self) -> None:
        """Close every pool and its connections."""
        pools, self.pools = list(self.pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()

    async def __aenter__(self) -> OriginPools:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()
