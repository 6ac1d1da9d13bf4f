"""Benchmark: `digest worker` throughput on PostgreSQL with 1 and 2 workers, beside one process.

    python bench/scale.py            # 5,000 feeds x 20 items, 20,000 recipients (long)
    python bench/scale.py --quick    # 500 feeds x 20 items, 2,000 recipients

What it runs, all on this machine:

- a throwaway PostgreSQL cluster (tests/pgserver.py: Debian's server, `make system-deps`);
- bench/fetch.py's feed server: realistic RSS on 100 loopback addresses, 50 ms latency;
- an SMTP sink in its own process (plain SMTP, counting messages; see _Sink);
- fetch: N `digest worker` processes are started and, once all are up, the feeds' fetch jobs
  are enqueued as `digest serve` enqueues them (batches by host); items stored per second of
  wall time until no fetch job is left, N = 1 and 2, each on a fresh database (the workers'
  start, mostly imports, is reported apart as startup_s: a deployment starts them once).
  Beside it the single process: `digest fetch` on SQLite over the same feeds;
- delivery: one period rendered with a real PDF, its 20,000 ledger rows prepared as a build
  job does (the body kept once), the delivery jobs enqueued and run by N workers (started
  first, as above); messages per second; beside it the single process on SQLite (deliver_digest, in-process);
- db_bytes_per_recipient_period: the PostgreSQL database's growth while the period's rows
  were prepared, less the period's one copy of the body, per recipient.

The last line is one JSON object. The machine's load average is printed beside each figure:
workers compete for the same cores as everything else, so run it on an idle machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]

import fetch as fetch_bench  # noqa: E402  (bench/fetch.py: corpus and feed server)
from pgserver import PostgresServer, server_binaries  # noqa: E402
from smtpserver import linked_rendered  # noqa: E402

from digest.config import Recipient, load_settings  # noqa: E402
from digest.deliver.send import deliver_digest, prepare_deliveries  # noqa: E402
from digest.service.worker import DELIVER_TASK, FETCH_TASK, JobQueue  # noqa: E402
from digest.store import ledger, open_store  # noqa: E402
from digest.store import queue as job_queue  # noqa: E402

NOW = datetime.now(UTC)
os.environ["DIGEST_UNSUBSCRIBE_SECRET"] = "bench-secret"  # the config's {token} links need one


class _Sink:
    """A local SMTP sink in its own process that counts the recipients of accepted messages.

    It answers commands and looks only for the end of DATA, as a mail server's front end
    would before queueing: aiosmtpd, which parses every line of a 200 KB message in Python
    and ran in this process, took as much CPU per message as the sender, so it measured
    itself rather than the workers.
    """

    def __init__(self) -> None:
        self._count = multiprocessing.Value("q", 0)
        self.port = fetch_bench_free_port()
        ready = multiprocessing.Event()
        self._proc = multiprocessing.Process(
            target=_sink_main, args=(self.port, self._count, ready), daemon=True
        )
        self._proc.start()
        if not ready.wait(30):
            raise SystemExit("the SMTP sink did not start")

    @property
    def count(self) -> int:
        return int(self._count.value)

    def stop(self) -> None:
        self._proc.terminate()
        self._proc.join(10)


def _sink_main(port: int, count: Any, ready: Any) -> None:
    class Session(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.t, self.buf, self.data, self.tail, self.rcpts = transport, b"", False, b"", 0
            transport.write(b"220 sink ESMTP\r\n")

        def data_received(self, chunk: bytes) -> None:
            if self.data:
                seen = self.tail + chunk
                end = seen.find(b"\r\n.\r\n")
                if end < 0:
                    self.tail = seen[-4:]
                    return
                self.data, self.buf = False, seen[end + 5 :]
                with count.get_lock():
                    count.value += self.rcpts
                self.rcpts = 0
                self.t.write(b"250 OK\r\n")
            else:
                self.buf += chunk
            while not self.data and b"\r\n" in self.buf:
                line, _, self.buf = self.buf.partition(b"\r\n")
                verb = line[:4].upper()
                if verb == b"EHLO":
                    self.t.write(b"250-sink\r\n250 8BITMIME\r\n")
                elif verb == b"RCPT":
                    self.rcpts += 1
                    self.t.write(b"250 OK\r\n")
                elif verb == b"DATA":
                    self.data, self.tail = True, b"\r\n"  # the end may follow at once
                    self.t.write(b"354 go ahead\r\n")
                    rest, self.buf = self.buf, b""
                    if rest:
                        self.data_received(rest)
                elif verb == b"QUIT":
                    self.t.write(b"221 bye\r\n")
                    self.t.close()
                else:  # MAIL, RSET, NOOP, HELO
                    self.t.write(b"250 OK\r\n")

    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(Session, "127.0.0.1", port)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def _config(folder: Path, urls: list[str], storage_url: str, smtp_port: int) -> Path:
    (folder / "feeds.toml").write_text("".join(f'[[feed]]\nurl = "{u}"\n\n' for u in urls))
    config = folder / "digest.toml"
    config.write_text(
        f'storage_url = "{storage_url}"\n'
        '[fetch]\nconcurrency = 64\nper_host = 64\nallow_private = ["127.0.0.0/8"]\n\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
        'from = "Digest <digest@example.org>"\n\n'
        '[[digest]]\nname = "bench"\nfeeds = ["feeds.toml"]\n'
        'unsubscribe = "https://example.org/u/{token}"\nrecipients = ["r@example.org"]\n'
    )
    return config


def _workers(
    config: Path, n: int, folder: Path, store: Any, enqueue: Callable[[], object], task: str
) -> dict[str, float]:
    """Start n `digest worker`s, enqueue once all are up, time until the task's jobs are done.

    Steady state, as a deployment runs: the workers' start (imports, connecting) is timed
    apart (`startup_s`), not in the throughput. CPU is the workers' own while they worked.
    """
    env = {k: v for k, v in os.environ.items() if k != "DIGEST_CONFIG"}
    cmd = [sys.executable, "-m", "digest", "worker", "-c", str(config)]
    cmd += ["--data-dir", str(folder / "data"), "--log-level", "warning"]
    started = time.perf_counter()
    procs = [subprocess.Popen(cmd, env=env, cwd=ROOT) for _ in range(n)]
    try:
        while (found := job_queue.stats(store)) is None or found.workers < n:
            if any(p.poll() is not None for p in procs):
                raise SystemExit("a digest worker exited before it started working")
            if time.perf_counter() - started > 300:
                raise SystemExit("the workers did not start within 5 minutes")
            time.sleep(0.05)
        up = time.perf_counter() - started
        cpu = sum(_cpu(p.pid) for p in procs)
        began = time.perf_counter()
        enqueue()
        while job_queue.unfinished(store, task):
            if any(p.poll() is not None for p in procs):
                raise SystemExit("a digest worker exited while there was work")
            time.sleep(0.05)
        seconds = time.perf_counter() - began
        cpu = sum(_cpu(p.pid) for p in procs) - cpu
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(60)
    return {"s": seconds, "cpu_s": cpu, "startup_s": up}


def _cpu(pid: int) -> float:
    """Return a process's CPU seconds so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fetch_bench_free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def fetch_with_workers(
    server: PostgresServer, urls: list[str], n: int, smtp_port: int
) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="digest-scale-") as tmp:
        folder = Path(tmp)
        url = server.new_database()
        config = _config(folder, urls, url, smtp_port)
        settings = load_settings(config, data_dir=folder / "data")
        store = open_store(url)
        queue = JobQueue(settings, store)
        load, jobs = _load(), []
        run = _workers(
            config, n, folder, store, lambda: jobs.extend(queue.fetch(settings.digests[0].feeds, NOW)),
            FETCH_TASK,
        )  # fmt: skip
        seconds, cpu = run["s"], run["cpu_s"]
        items = store.article_count()
        queue.close()
        store.close()
    return {"workers": n, "jobs": len(jobs), "items": items, "s": round(seconds, 2),
            "items_per_s": round(items / seconds, 1),
            "worker_cpu_ms_per_item": round(1000 * cpu / max(items, 1), 2),
            "startup_s": round(run["startup_s"], 2),
            "load_before": load, "load_after": _load()}  # fmt: skip


def fetch_one_process(urls: list[str], smtp_port: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="digest-scale-") as tmp:
        folder = Path(tmp)
        config = _config(folder, urls, f"sqlite:///{folder / 'digest.sqlite3'}", smtp_port)
        load = _load()
        figures = fetch_bench.command_pass(config, folder / "data")
    items = figures["entries"]
    return {"items": items, "s": round(figures["s"], 2),
            "items_per_s": round(items / figures["s"], 1), "load_before": load}  # fmt: skip


def _people(n: int) -> tuple[Recipient, ...]:
    return tuple(Recipient(address=f"reader{i:05d}@example.org", name=f"R {i}") for i in range(n))


def deliver_with_workers(
    server: PostgresServer, recipients: int, n: int, sink: _Sink, smtp_port: int
) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="digest-scale-") as tmp:
        folder = Path(tmp)
        url = server.new_database()
        config = _config(folder, [], url, smtp_port)
        settings = load_settings(config, data_dir=folder / "data")
        d = replace(settings.digests[0], recipients=_people(recipients))
        store = open_store(url)
        queue = JobQueue(settings, store)
        run = store.claim_run(d.name, "2026-12-01", NOW)
        rendered = linked_rendered()
        before = _db_size(store)
        started = time.perf_counter()
        prepare_deliveries(store, settings, d, run.id, lambda r: (rendered, r.formats), lambda: NOW)
        prepared = time.perf_counter() - started
        growth = _db_size(store) - before
        kept = ledger.stored_bytes(store)
        due = ledger.due_ids(store, datetime.now(UTC), run.id)
        sent_before, load = sink.count, _load()
        timed = _workers(config, n, folder, store, lambda: queue.deliver(run.id, due), DELIVER_TASK)
        seconds, cpu = timed["s"], timed["cpu_s"]
        sent = sink.count - sent_before
        queue.close()
        store.close()
    return {
        "workers": n, "sent": sent, "s": round(seconds, 2),
        "msgs_per_s": round(sent / seconds, 1), "prepare_s": round(prepared, 2),
        "worker_cpu_ms_per_msg": round(1000 * cpu / max(sent, 1), 2),
        "startup_s": round(timed["startup_s"], 2),
        "message_bytes": kept["bodies"] + kept["rows_own"] // max(kept["rows"], 1),
        "db_bytes_per_recipient_period": round((growth - kept["bodies"]) / recipients),
        "row_own_bytes": round(kept["rows_own"] / max(kept["rows"], 1)),
        "load_before": load, "load_after": _load(),
    }  # fmt: skip


def deliver_one_process(recipients: int, sink: _Sink, smtp_port: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="digest-scale-") as tmp:
        folder = Path(tmp)
        config = _config(folder, [], f"sqlite:///{folder / 'digest.sqlite3'}", smtp_port)
        settings = load_settings(config, data_dir=folder / "data")
        d = replace(settings.digests[0], recipients=_people(recipients))
        store = open_store(settings.storage_url)
        run = store.claim_run(d.name, "2026-12-01", NOW)
        rendered = linked_rendered()
        sent_before, load = sink.count, _load()
        started = time.perf_counter()
        deliver_digest(store, settings, d, run.id, lambda r: (rendered, r.formats), NOW)
        seconds = time.perf_counter() - started
        sent = sink.count - sent_before
        store.close()
        db = (folder / "digest.sqlite3").stat().st_size
    return {"sent": sent, "s": round(seconds, 2), "msgs_per_s": round(sent / seconds, 1),
            "db_bytes": db, "load_before": load}  # fmt: skip


def _db_size(store: Any) -> int:
    import sqlalchemy as sa

    with store.begin() as conn:
        return int(conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 feeds, 2,000 recipients")
    parser.add_argument("--feeds", type=int)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--recipients", type=int)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    feeds = args.feeds or (500 if args.quick else 5000)
    recipients = args.recipients or (2000 if args.quick else 20000)
    bindir = server_binaries()
    if bindir is None:
        raise SystemExit("PostgreSQL server binaries not found: `make system-deps` as root")
    sink = _Sink()
    smtp_port = sink.port
    server = PostgresServer(bindir)
    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="digest-scale-feeds-") as tmp:
            folder = Path(tmp)
            fetch_bench.build_corpus(folder, feeds, args.items)
            feed_server = subprocess.Popen(
                [sys.executable, fetch_bench.__file__, "--serve", str(folder),
                 "--latency", str(args.latency)], stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                assert feed_server.stdout is not None
                urls = fetch_bench.feed_urls(int(feed_server.stdout.readline()), feeds)
                for n in (1, 2):
                    results[f"fetch_w{n}"] = fetch_with_workers(server, urls, n, smtp_port)
                    print(f"fetch, {n} worker(s): {results[f'fetch_w{n}']}", flush=True)
                results["fetch_sqlite"] = fetch_one_process(urls, smtp_port)
                print(f"fetch, one process (SQLite): {results['fetch_sqlite']}", flush=True)
            finally:
                feed_server.terminate()
                feed_server.wait()
        for n in (1, 2):
            results[f"deliver_w{n}"] = deliver_with_workers(server, recipients, n, sink, smtp_port)
            print(f"deliver, {n} worker(s): {results[f'deliver_w{n}']}", flush=True)
        results["deliver_sqlite"] = deliver_one_process(recipients, sink, smtp_port)
        print(f"deliver, one process (SQLite): {results['deliver_sqlite']}", flush=True)
    finally:
        server.stop()
        sink.stop()
    w1, w2 = results["fetch_w1"], results["fetch_w2"]
    d1, d2 = results["deliver_w1"], results["deliver_w2"]
    print(json.dumps({
        "feeds": feeds, "items": args.items, "recipients": recipients,
        "fetch_items_per_s_w1": w1["items_per_s"], "fetch_items_per_s_w2": w2["items_per_s"],
        "fetch_items_per_s_sqlite": results["fetch_sqlite"]["items_per_s"],
        "fetch_speedup_w2": round(w2["items_per_s"] / w1["items_per_s"], 2),
        "deliver_msgs_per_s_w1": d1["msgs_per_s"], "deliver_msgs_per_s_w2": d2["msgs_per_s"],
        "deliver_msgs_per_s_sqlite": results["deliver_sqlite"]["msgs_per_s"],
        "deliver_speedup_w2": round(d2["msgs_per_s"] / d1["msgs_per_s"], 2),
        "fetch_worker_cpu_ms_per_item_w1": w1["worker_cpu_ms_per_item"],
        "fetch_worker_cpu_ms_per_item_w2": w2["worker_cpu_ms_per_item"],
        "deliver_worker_cpu_ms_per_msg_w1": d1["worker_cpu_ms_per_msg"],
        "deliver_worker_cpu_ms_per_msg_w2": d2["worker_cpu_ms_per_msg"],
        "db_bytes_per_recipient_period": d1["db_bytes_per_recipient_period"],
        "message_bytes": d1["message_bytes"],
        "load": _load(),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
