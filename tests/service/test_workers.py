"""`digest serve` and two `digest worker` processes on PostgreSQL, one of them killed mid-delivery.

Real components throughout: a throwaway PostgreSQL server, 200 feeds on a loopback HTTP
server, 300 recipients on a loopback SMTP server, and the `digest` commands as processes.
The SMTP server holds one session at RCPT once 100 messages are in, the worker owning that
session is killed with SIGKILL, and the scheduler hands its job to the other worker: every
recipient gets the digest exactly once and every feed's items are stored.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpserver import LOOPBACK_FETCH, LoopbackServer, Reply, rss
from smtpserver import Handler, SmtpServer

from digest.store import ledger, open_store

FEEDS, ITEMS, RECIPIENTS = 200, 3, 300


class _HoldingHandler(Handler):
    """Records messages; once 100 are in, holds the next RCPT and says whose session it is."""

    def __init__(self) -> None:
        super().__init__()
        self.held = threading.Event()
        self.peer_port = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        with self.lock:
            hold = len(self.messages) >= 100 and not self.held.is_set()
            if hold:
                self.peer_port = int(session.peer[1])
                self.held.set()
        if hold:
            await asyncio.sleep(5)  # the client waits for this reply when it is killed
        return await super().handle_RCPT(server, session, envelope, address, options)


def _owner(port: int, pids: list[int]) -> int:
    """Return which of pids has the TCP socket bound to local port 127.0.0.1:port."""
    inode = ""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == f"0100007F:{port:04X}":
            inode = fields[9]
    assert inode, f"no socket on local port {port}"
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    raise AssertionError(f"no worker owns the socket on port {port}")


def _config(tmp: Path, db_url: str, feed_base: str, smtp_port: int) -> Path:
    feeds = "".join(
        f'[[feed]]\nurl = "{feed_base}/f{i}.xml"\nname = "Feed {i}"\nfull_text = "never"\n'
        for i in range(FEEDS)
    )
    (tmp / "feeds.toml").write_text(feeds, encoding="utf-8")
    slot = datetime.now(UTC) - timedelta(minutes=2)  # a period that is due at start
    people = ", ".join(f'"r{i:03d}@example.org"' for i in range(RECIPIENTS))
    config = tmp / "digest.toml"
    config.write_text(
        f'storage_url = "{db_url}"\nfetch_every = "1h"\n{LOOPBACK_FETCH}\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
        'from = "Digest <digest@example.org>"\n\n'
        f'[[digest]]\nname = "morning"\nfeeds = ["feeds.toml"]\nformats = ["pdf", "html"]\n'
        f'schedule = "{slot.minute} {slot.hour} * * *"\ntimezone = "UTC"\nwindow = "3650d"\n'
        f"recipients = [{people}]\n",
        encoding="utf-8",
    )
    return config


@pytest.mark.slow
def test_serve_and_two_workers_deliver_once_when_one_is_killed(
    tmp_path: Path, postgres_server: Any
) -> None:
    db_url = postgres_server.new_database()
    web = LoopbackServer()
    for i in range(FEEDS):
        items = [
            (f"Story {i}-{n} about event {n}", f"https://example.org/{i}/{n}", f"Text {n}. " * 20)
            for n in range(ITEMS)
        ]
        web.routes[f"/f{i}.xml"] = Reply(body=rss(items, title=f"Feed {i}"))
    smtp = SmtpServer(tmp_path, mode="none")
    smtp.handler = _HoldingHandler()
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Any] = []
    with web:
        smtp.start()
        try:
            config = _config(tmp_path, db_url, web.url("").rstrip("/"), smtp.port)
            base = [sys.executable, "-m", "digest"]
            args = ["-c", str(config), "--data-dir", str(tmp_path / "data")]
            env = {k: v for k, v in os.environ.items() if k != "DIGEST_CONFIG"}
            logs += [open(tmp_path / f"{n}.log", "wb") for n in ("serve", "w1", "w2")]  # noqa: SIM115
            commands = (["serve", "--health-port", "0"], ["worker"], ["worker"])
            for cmd, log in zip(commands, logs, strict=True):
                procs.append(subprocess.Popen([*base, *cmd, *args], stderr=log, env=env))
            handler = smtp.handler
            assert isinstance(handler, _HoldingHandler)
            assert handler.held.wait(240), _logs(tmp_path)
            victim = _owner(handler.peer_port, [p.pid for p in procs[1:]])
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and len(handler.messages) < RECIPIENTS:
                time.sleep(0.5)
            time.sleep(2)  # nothing more may arrive
            counts = {
                f"r{i:03d}@example.org": handler.count(f"r{i:03d}@example.org")
                for i in range(RECIPIENTS)
            }
            assert sorted(set(counts.values())) == [1], (
                {a: n for a, n in counts.items() if n != 1},
                _logs(tmp_path),
            )
            serve_log = (tmp_path / "serve.log").read_text()
            assert "event=recover" in serve_log
            # What an operator sees: `digest status` and /metrics count jobs and workers.
            status = subprocess.run(
                [*base, "status", *args], capture_output=True, text=True, env=env, timeout=60
            )
            assert "job queue: 0 waiting; jobs: " in status.stdout, status.stdout + status.stderr
            assert "workers seen in the last minute: " in status.stdout
            port = re.search(r"event=health host=127.0.0.1 port=(\d+)", serve_log)
            assert port is not None
            time.sleep(6)  # one more queue check sets the gauges
            metrics = httpx.get(f"http://127.0.0.1:{port[1]}/metrics", timeout=10).text
            assert "digest_queue_depth 0.0" in metrics, metrics
            workers = re.search(r"^digest_workers (\d+)", metrics, re.M)
            assert workers is not None and int(workers[1]) >= 1
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
            for log in logs:
                log.close()
            smtp.stop()
    store = open_store(db_url)
    try:
        assert store.article_count() == FEEDS * ITEMS
        for i in range(FEEDS):
            assert len(store.stored_guids(web.url(f"/f{i}.xml"))) == ITEMS
        rows = ledger.listing(store, limit=RECIPIENTS + 10)
        assert len(rows) == RECIPIENTS and {r.status for r in rows} == {"sent"}
    finally:
        store.close()


def _logs(tmp: Path) -> str:
    return "\n".join(
        f"--- {n}\n" + (tmp / f"{n}.log").read_text(errors="replace")[-3000:]
        for n in ("serve", "w1", "w2")
        if (tmp / f"{n}.log").exists()
    )


def test_a_worker_on_sqlite_refuses_to_start_and_says_why(tmp_path: Path) -> None:
    from digestcli import cli, write_config

    done = cli("worker", "-c", str(write_config(tmp_path)), "--data-dir", str(tmp_path / "d"))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: digest worker needs storage_url on PostgreSQL (the job queue lives there); "
        "with SQLite, `digest serve` does all the work itself"
    )


def test_one_hosts_feeds_are_fetched_in_one_batch() -> None:
    from digest.models import FeedSource
    from digest.service.worker import FETCH_BUCKETS, batches

    sources = [FeedSource(url=f"https://h{n % 40}.example/feed{n}.xml") for n in range(400)]
    grouped = batches(sources)
    assert 1 < len(grouped) <= FETCH_BUCKETS
    assert sorted(u for urls in grouped.values() for u in urls) == sorted(s.url for s in sources)
    for host in {s.url.split("/")[2] for s in sources}:  # each host in exactly one batch
        assert sum(any(f"//{host}/" in u for u in urls) for urls in grouped.values()) == 1


def test_a_worker_run_once_does_the_queued_jobs_then_exits(
    tmp_path: Path, postgres_server: Any
) -> None:
    from smtpserver import linked_rendered

    from digest.config import load_settings
    from digest.deliver.send import prepare_deliveries
    from digest.service.worker import DELIVER_BATCH, JobQueue

    db_url = postgres_server.new_database()
    smtp = SmtpServer(tmp_path, mode="none").start()
    try:
        config = _config(tmp_path, db_url, "http://127.0.0.1:9", smtp.port)
        settings = load_settings(config, data_dir=tmp_path / "data")
        d = settings.digests[0]
        store = open_store(db_url)
        queue = JobQueue(settings, store)
        try:
            run = store.claim_run(d.name, "2026-12-01", datetime.now(UTC))
            rendered = linked_rendered()
            prepare_deliveries(
                store,
                settings,
                d,
                run.id,
                lambda r: (rendered, r.formats),
                lambda: datetime.now(UTC),
            )
            ids = ledger.due_ids(store, datetime.now(UTC), run.id)
            assert len(queue.deliver(run.id, ids)) == -(-RECIPIENTS // DELIVER_BATCH)
        finally:
            queue.close()
        command = [sys.executable, "-m", "digest", "worker", "--once", "-c", str(config)]
        command += ["--data-dir", str(tmp_path / "data")]
        env = {k: v for k, v in os.environ.items() if k != "DIGEST_CONFIG"}
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        assert len(smtp.handler.messages) == RECIPIENTS
        assert {r.status for r in ledger.for_run(store, run.id)} == {"sent"}
        # Nothing left: a second one finds the queue empty and exits at once.
        started = time.monotonic()
        again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert again.returncode == 0, again.stderr[-3000:]
        assert time.monotonic() - started < 60
        assert len(smtp.handler.messages) == RECIPIENTS
        store.close()
    finally:
        smtp.stop()
