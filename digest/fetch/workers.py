"""Run CPU-bound and blocking steps off the event loop: parsing and cleaning, and storage.

`Workers` runs parsing and text extraction in worker processes (a thread for small passes);
`Batcher` runs a pass's storage in one thread, several jobs per call, so the database's one
writer is never waited for on the event loop and queued feeds share a transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Generic, TypeVar

T = TypeVar("T")
J = TypeVar("J")
R = TypeVar("R")
POOL_MIN_FEEDS = 24  # below this, starting worker processes costs more than it saves


class Workers:
    """Runs CPU-bound steps off the event loop: worker processes for big passes, else a thread."""

    def __init__(self, feeds: int) -> None:
        self.count = min(os.cpu_count() or 1, 4)
        self.wanted = feeds >= POOL_MIN_FEEDS and self.count > 1 and _main_importable()
        self.pool: Executor | None = None

    async def run(self, func: Callable[..., T], *args: object) -> T:
        """Return func(*args), computed in a worker."""
        if not self.wanted:
            return await asyncio.to_thread(func, *args)
        if self.pool is None:
            self.pool = ProcessPoolExecutor(self.count, mp_context=_context())
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


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cycle collector for a pass; it runs as usual again afterwards."""
    # A pass allocates articles, responses and tasks by the ten thousand, which reference
    # counting frees; the collector's passes over them cost about a CPU-second per 1,000
    # feeds in the process that runs the event loop. The few cycles a pass leaves (tasks
    # with their exceptions) wait for the next collection after it.
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _main_importable() -> bool:
    # A worker process imports the caller's main module again. A script read from stdin
    # ("python - < script") names a file that does not exist: every worker would die at
    # start, and the pool's shutdown would wait forever for the tasks queued to them.
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return getattr(main, "__spec__", None) is not None or path is None or os.path.exists(path)


def _context() -> multiprocessing.context.BaseContext:
    # Started on first use (a pass of 304s needs none). Not fork: the service calls this from
    # a scheduler thread. A fork server imports the steps' modules once and forks each worker
    # from itself, where spawn would import them again in every worker (half a CPU-second
    # each).
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["digest.fetch.articles"])
    return context


class Batcher(Generic[J, R]):
    """Runs handle(jobs) in one thread, on every job queued while the last call ran."""

    def __init__(self, handle: Callable[[Sequence[J]], Sequence[R]], limit: int = 200) -> None:
        self.handle, self.limit = handle, limit
        self.queue: queue.SimpleQueue[tuple[J, Future[R]] | None] = queue.SimpleQueue()
        self.thread: threading.Thread | None = None

    async def run(self, job: J) -> R:
        """Return handle's result for job, computed in the batch thread with other jobs."""
        if self.thread is None:
            self.thread = threading.Thread(target=self._serve, name="digest-batch", daemon=True)
            self.thread.start()
        done: Future[R] = Future()
        self.queue.put((job, done))
        return await asyncio.wrap_future(done)

    def close(self) -> None:
        """Finish the queued jobs and stop the thread."""
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None

    def _serve(self) -> None:
        while (first := self.queue.get()) is not None:
            batch = [first]
            while len(batch) < self.limit:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self.queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            self._settle(batch)

    def _settle(self, batch: list[tuple[J, Future[R]]]) -> None:
        live = [(job, done) for job, done in batch if done.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            results = self.handle([job for job, _ in live])
        except Exception as exc:  # handed to the jobs' futures: their callers decide
            if len(live) == 1:
                live[0][1].set_exception(exc)
                return
            # One job's failure must not fail the others it happened to share a call with.
            for job, done in live:
                try:
                    done.set_result(self.handle([job])[0])
                except Exception as one:  # this job's own error, for its caller
                    done.set_exception(one)
            return
        for (_, done), result in zip(live, results, strict=True):
            done.set_result(result)
