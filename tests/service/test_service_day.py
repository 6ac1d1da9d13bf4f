"""A simulated day of `digest serve` under attack: an hourly digest, the wall clock stepped back
and forward (time-machine in the service process; its monotonic clock runs true), a
slow-loris on the site port and oversized bodies on both ports all along. Every period is
sent once to each recipient over real SMTP, and /healthz stays 200 and tells the truth."""

from __future__ import annotations

import contextlib
import email
import json
import re
import socket
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from digestcli import SECRET
from serveproc import ServeProcess, clock_env, step_clock
from smtpserver import SmtpServer

from digest.config.settings import SAMPLES_DIR

START = datetime(2026, 11, 24, 0, 0, 20, tzinfo=UTC)
EVERY = timedelta(hours=2)  # the digest's schedule: "0 */2 * * *"
# Steps of the service's wall clock, in hours: on through the day, once back an hour (as a
# wrongly set clock is corrected), and jumps of several hours (a suspended machine).
STEPS = (1, 2, -1, 3, 4, 0.5, 3.5, 2, 4, 3, 2)
RECIPIENTS = ("a@example.org", "b@example.org")


class _Attacks:
    """Slow-loris connections on one port and Content-Length: -1 bodies on others."""

    def __init__(self, loris_port: int, body_ports: tuple[int, ...]) -> None:
        self.stop = threading.Event()
        self.bodies = Counter[str]()
        self.loris_opened = 0
        self.threads = [
            threading.Thread(target=self._loris, args=(loris_port,), daemon=True),
            threading.Thread(target=self._bodies, args=(body_ports,), daemon=True),
        ]
        for t in self.threads:
            t.start()

    def _loris(self, port: int) -> None:
        held: list[socket.socket] = []
        while not self.stop.is_set():
            while len(held) < 150:  # more than the server's 64 slots
                try:
                    s = socket.create_connection(("127.0.0.1", port), timeout=2)
                    s.sendall(b"GET / HTTP/1.1\r\n")
                except OSError:
                    break
                held.append(s)
                self.loris_opened += 1
            for s in list(held):  # a header byte now and then: never the blank line
                try:
                    s.sendall(b"X")
                except OSError:
                    s.close()
                    held.remove(s)
            self.stop.wait(0.5)
        for s in held:
            s.close()

    def _bodies(self, ports: tuple[int, ...]) -> None:
        head = b"POST /unsubscribe?token=x HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"
        chunk = bytes(1024 * 1024)
        while not self.stop.is_set():
            for port in ports:
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), timeout=5) as s,
                ):
                    s.sendall(head)
                    with contextlib.suppress(OSError):
                        for _ in range(64):  # 64 MB, unless the server hangs up first
                            s.sendall(chunk)
                    s.settimeout(5)
                    answer = s.recv(64)
                    self.bodies[answer[:12].decode("latin-1") or "nothing"] += 1
            self.stop.wait(0.2)

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)


def _config(root: Path, smtp_port: int) -> Path:
    (root / "feeds.toml").write_text(
        f'[[feed]]\nurl = "{SAMPLES_DIR / "world-wire.xml"}"\nname = "World Wire"\n'
        'full_text = "never"\n',
        encoding="utf-8",
    )
    config = root / "digest.toml"
    config.write_text(
        f'data_dir = "data"\nfetch_every = "30m"\n\n[smtp]\nhost = "127.0.0.1"\n'
        f'port = {smtp_port}\nsecurity = "none"\nfrom = "digest@example.org"\n\n'
        '[[digest]]\nname = "hourly"\nfeeds = ["feeds.toml"]\nschedule = "0 */2 * * *"\n'
        'timezone = "UTC"\ncatch_up = "all"\ncatch_up_grace = "4h"\nsend_empty = true\n'
        f'formats = ["html"]\nrecipients = {json.dumps(list(RECIPIENTS))}\n',
        encoding="utf-8",
    )
    return config


def _wait(condition: Callable[[], bool], timeout: float, what: str, log: ServeProcess) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout}s; the log:\n{log.text()[-4000:]}")
        time.sleep(0.1)


@pytest.mark.slow
def test_a_day_of_clock_steps_and_attacks_sends_every_period_once(tmp_path: Path) -> None:
    smtp = SmtpServer(tmp_path, mode="none").start()
    config = _config(tmp_path, smtp.port)
    # The one-click /unsubscribe is on (a secret is set): the endpoint that reads a body.
    env = {**clock_env(tmp_path, START.isoformat()), "DIGEST_UNSUBSCRIBE_SECRET": SECRET}
    serve = ServeProcess(config, "--http", "127.0.0.1:0", "--health-port", "0", env=env)
    health: list[tuple[int, str, str | None]] = []
    files: list[int] = []
    polling = threading.Event()

    def poll() -> None:
        url = f"http://127.0.0.1:{serve.port('health')}/healthz"
        while not polling.is_set():
            try:
                answer = httpx.get(url, timeout=5)
                body = answer.json()
                health.append((answer.status_code, body["scheduler"], body.get("reason")))
            except (httpx.HTTPError, ValueError) as exc:
                health.append((0, "unreachable", str(exc)))
            files.append(serve.open_files())
            polling.wait(0.5)

    memory_before = serve.peak_memory_kb()
    attacks = _Attacks(serve.port("site"), (serve.port("site"), serve.port("health")))
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    now = START
    # Start-up catch-up: the periods within the 4 h grace, 22:00 and 00:00.
    expected = {START.replace(minute=0, second=0) - h * EVERY for h in range(2)}
    try:
        _wait(lambda: smtp.handler.count(RECIPIENTS[0]) == 2, 60, "the catch-up", serve)
        for hours in STEPS:
            step_clock(tmp_path, hours * 3600)
            later = now + timedelta(hours=hours)
            slot = START.replace(minute=0, second=0)
            while slot + EVERY <= later:
                slot += EVERY
                expected.add(slot)
            now = later
            if hours < 0:  # nothing falls due: give the service time to see the step
                time.sleep(3)
            count = len(expected)
            _wait(  # generous: the service shares the machine with the attacks
                lambda count=count: smtp.handler.count(RECIPIENTS[0]) >= count,
                60,
                f"{count} periods sent by {now:%H:%M}",
                serve,
            )
        time.sleep(3)  # anything sent twice would arrive now
        final = httpx.get(f"http://127.0.0.1:{serve.port('health')}/healthz", timeout=5).json()
        grown = serve.peak_memory_kb() - memory_before
    finally:
        polling.set()
        attacks.close()
        poller.join(10)
        code = serve.stop()
        smtp.stop()
    assert code == 0, serve.text()[-3000:]
    assert now == START + timedelta(hours=sum(STEPS)) and now.day == 25  # a day went by

    # Every period once to each recipient: distinct Message-IDs, one per (period, address).
    ids = Counter(email.message_from_bytes(m.content)["Message-ID"] for m in smtp.handler.messages)
    assert [i for i, n in ids.items() if n > 1] == []
    assert len(ids) == len(expected) * len(RECIPIENTS)
    with sqlite3.connect(tmp_path / "data" / "digest.sqlite3") as db:
        runs = sorted(db.execute("SELECT period_key, status FROM runs"))
    db.close()
    assert runs == sorted((f"{s:%Y-%m-%dT%H:%M+0000}", "done") for s in expected)
    built = re.findall(r"event=run digest=hourly period=(\S+) status=done", serve.text())
    assert len(built) == len(set(built)) == len(expected)  # none built twice, none missed
    assert re.search(r"event=clock-step seconds=-36\d\d ", serve.text())

    # /healthz was answered throughout, and truthfully: the scheduler ran the whole time.
    assert len(health) > 20
    assert {(status, state) for status, state, _ in health} == {(200, "running")}, [
        h for h in health if h[0] != 200
    ][:5]
    upcoming = max(expected) + EVERY
    assert final["next_runs"]["digest:hourly"] == upcoming.isoformat()

    # The attacks ran, and cost neither descriptors nor memory.
    assert attacks.loris_opened > 200
    assert attacks.bodies["HTTP/1.0 400"] > 20, attacks.bodies
    assert max(files) < 200, max(files)
    assert grown < 100 * 1024, f"the service grew by {grown} kB"
