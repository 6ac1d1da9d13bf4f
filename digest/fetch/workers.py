"""Run CPU-bound steps (parsing, text extraction) off the event loop."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

T = TypeVar("T")
POOL_MIN_FEEDS = 24  # below this, starting worker processes costs more than it saves


class Workers:
    """Runs CPU-bound steps off the event loop: worker processes for big passes, else a thread."""

    def __init__(self, feeds: int) -> None:
        self.count = min(os.cpu_count() or 1, 4)
        self.wanted = feeds >= POOL_MIN_FEEDS and self.count > 1
        self.pool: Executor | None = None

    async def run(self, func: Callable[..., T], *args: object) -> T:
        """Return func(*args), computed in a worker."""
        if not self.wanted:
            return await asyncio.to_thread(func, *args)
        if self.pool is None:
            # Started on first use (a pass of 304s needs none); spawn, not fork, because
            # the service calls this from a scheduler thread.
            context = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(self.count, mp_context=context)
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, func, *args)
        except BrokenProcessPool:
            # A worker died (out of memory, a crash in a C library): finish the pass in
            # threads rather than fail every feed still queued.
            self.wanted = False
            return await asyncio.to_thread(func, *args)

    def close(self) -> None:
        """Stop the worker processes."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
