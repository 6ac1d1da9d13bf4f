"""workers: the cycle collector paused for a pass; threads when workers could not start."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from digest.fetch.workers import Workers, collector_paused


def test_the_collector_is_paused_during_a_pass_and_enabled_again_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a pass that fails")
    assert gc.isenabled()


def test_a_caller_that_paused_the_collector_keeps_it_paused() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_main_script_read_from_stdin_runs_the_steps_in_threads(tmp_path: Path) -> None:
    # Worker processes import the main module again: "<stdin>" cannot be. The workers died
    # at start, each printing a traceback, and with Debian's Python 3.11.2 the pool's
    # shutdown then waited forever for the tasks queued to them.
    script = f"""
import asyncio, os, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_workers import run_many
print(asyncio.run(run_many(os.getpid())))
"""
    ran = subprocess.run(
        [sys.executable, "-"], input=script, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.split() == ["30", "True"]  # all done, all in the calling process
    assert "Traceback" not in ran.stderr  # no worker was started to die


def _where(parent: int, blob: bytes) -> bool:
    return os.getpid() == parent and len(blob) > 0


async def run_many(parent: int) -> str:
    """Run 30 feed-sized steps through Workers; return how many ran and whether all ran here."""
    workers = Workers(feeds=100)
    try:
        blob = b"x" * 200_000
        done = await asyncio.gather(*(workers.run(_where, parent, blob) for _ in range(30)))
    finally:
        workers.close()
    return f"{len(done)} {all(done)}"
