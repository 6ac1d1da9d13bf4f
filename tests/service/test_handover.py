"""Runs handed to `digest serve` when things go wrong, from outside: a real service process,
a real requester (`digest fetch`), kill -9, and the requests table read back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from digestcli import write_config
from httpserver import LoopbackServer, Reply, rss
from serveproc import ServeProcess

from digest.store import open_store

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


class _Stall:
    """A feed that answers at once until armed, then holds the request (a slow fetch)."""

    def __init__(self) -> None:
        self.armed = threading.Event()
        self.asked = threading.Event()
        self.release = threading.Event()

    def __call__(self, _handler: BaseHTTPRequestHandler) -> Reply:
        if self.armed.is_set():
            self.asked.set()
            self.release.wait(60)
        return Reply(200, rss([("Slow story", "https://e.org/slow", "Slow text. " * 20)]))


@pytest.fixture
def stall() -> Iterator[tuple[_Stall, str]]:
    held = _Stall()
    with LoopbackServer() as server:
        server.routes["/slow.xml"] = held
        yield held, server.url("/slow.xml")
        held.release.set()


def _requester(config: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    cmd = [sys.executable, "-m", "digest", "fetch", "--force", "-c", str(config)]
    cmd += ["--data-dir", str(config.parent / "data")]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _requests(config: Path) -> list[tuple[int, str, str | None]]:
    store = open_store(f"sqlite:///{config.parent / 'data' / 'digest.sqlite3'}")
    try:
        found = [store.get_request(n) for n in range(1, 20)]
    finally:
        store.close()
    return [(r.id, r.status, r.result) for r in found if r is not None]


def _serve(config: Path, name: str) -> ServeProcess:
    proc = ServeProcess(config, "--data-dir", str(config.parent / "data"), name=name)
    proc.wait_for(r"event=stage stage=fetch digest=all ")
    return proc


def test_a_killed_service_fails_its_hand_over_and_the_requester_says_so(
    tmp_path: Path, stall: tuple[_Stall, str]
) -> None:
    # kill -9 during a handed-over `digest fetch --force`: the row stayed 'taken' for good,
    # the requester still waited at 130 s (up to an hour), a restarted service never took it.
    held, url = stall
    config = write_config(tmp_path, feeds=f'\n[[feed]]\nurl = "{url}"\nname = "Slow"\n')
    first = _serve(config, "first")
    held.armed.set()
    orphan = _requester(config)
    assert held.asked.wait(60), first.text()
    orphan.kill()  # nobody is left waiting for request 1
    orphan.communicate(timeout=10)
    first.p.kill()
    first.p.wait(10)
    assert _requests(config) == [(1, "taken", None)]

    # A new service fails what the dead one left taken, and says so.
    held.armed.clear()
    held.asked.clear()
    second = _serve(config, "second")
    second.wait_for(r"event=request-orphaned id=1 taken_by=\"digest serve, pid \d+ on ")
    ((_, status, result),) = _requests(config)
    assert status == "failed"
    assert result is not None and result.startswith(
        f"the service that took it (digest serve, pid {first.p.pid} on "
    )

    # The requester of a service killed under it gives up at once, naming what happened.
    held.armed.set()
    waiting = _requester(config)
    assert held.asked.wait(60), second.text()
    started = time.monotonic()
    second.p.send_signal(signal.SIGKILL)
    second.p.wait(10)
    out, err = waiting.communicate(timeout=60)
    assert time.monotonic() - started < 20, err
    assert waiting.returncode == 1, out + err
    assert (
        f"error: lock: serve: request 2: the service running it (digest serve, pid {second.p.pid}"
        in (err)
    )
    assert "stopped; see `digest status` and the service's log, then run the command again" in err
    assert [s for _, s, _ in _requests(config)] == ["failed", "failed"]


def test_a_hand_over_whose_job_raises_is_marked_failed_and_the_next_one_runs(
    tmp_path: Path,
) -> None:
    # A request the job cannot run (a malformed time from another version of the CLI) raised
    # in the job and left its row 'taken': its requester waited until it gave up.
    config = write_config(tmp_path)
    serve = _serve(config, "serve")
    try:
        store = open_store(f"sqlite:///{tmp_path / 'data' / 'digest.sqlite3'}")
        try:
            store.add_request("run", '{"as_of": "yesterday-ish", "since": "long"}', NOW)
        finally:
            store.close()
        serve.wait_for(r"event=request-failed id=1 error=")
        ((_, status, result),) = _requests(config)
        assert (
            status == "failed"
            and result is not None
            and "TypeError: unsupported type for timedelta" in result
        )
        fetched = subprocess.run(
            [sys.executable, "-m", "digest", "fetch", "-c", str(config), "--data-dir",
             str(tmp_path / "data")],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert fetched.returncode == 0, fetched.stderr
        assert [s for _, s, _ in _requests(config)] == ["failed", "done"]
    finally:
        assert serve.stop() == 0
