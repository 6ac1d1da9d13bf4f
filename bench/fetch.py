"""Benchmark: fetch and parse N feeds from a local server, against feedparser.parse(url).

    python bench/fetch.py                 # 1,000 feeds x 50 items, 50 ms latency (~3 min)
    python bench/fetch.py --feeds 100     # smaller, while developing

A server process serves the feeds (about 190 KiB each, real article texts from
../shared/data) on 64 loopback addresses with a fixed latency per response, ETag and
Last-Modified. Each client runs in its own process so its peak RSS is its own: digest's
fetch + parse (one httpx client, worker processes for parsing) and the baseline, one
`feedparser.parse(url)` after another (with etag/modified on the warm pass). The cold pass
gets every feed (200), the warm pass sends the validators back (all 304). The last line
printed is one JSON object.

digest's cold pass is CPU-bound (feedparser needs ~13 ms per feed even with sanitising
off; two worker processes share the machine's cores), while the baseline mostly waits on
latency: run it on an otherwise idle machine (each client reports `load_before`).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import html
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = next(
    (p / "shared" / "data" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared").is_dir()),
    ROOT.parent / "shared" / "data",
)
HOSTS = 64
LAST_MODIFIED = "Tue, 24 Nov 2026 06:00:00 GMT"


# -- corpus ---------------------------------------------------------------------------------


def _texts() -> list[tuple[str, str]]:
    out = []
    for name in ("eval/summarize-bbc.jsonl", "ru-news/ru-news.jsonl"):
        for line in (SHARED / name).read_text(encoding="utf-8").splitlines():
            doc = json.loads(line)
            if doc.get("title") and len(doc.get("text", "")) > 800:
                out.append((doc["title"], doc["text"]))
    return out


def _item(rng: random.Random, texts: list[tuple[str, str]], feed: int, n: int) -> str:
    title, text = rng.choice(texts)
    while len(text) < 3000:  # pad short stories so a feed weighs about 190 KiB
        text += "\n" + rng.choice(texts)[1]
    text = text[:3000]
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n") if p.strip())
    when = datetime(2026, 11, 24, tzinfo=UTC) - timedelta(minutes=37 * n + feed)
    link = (
        f"https://news{feed % 97}.example/{feed}/{n}-{hashlib.md5(title.encode()).hexdigest()[:8]}"
    )
    return (
        f"<item><title>{html.escape(title)}</title><link>{link}</link>"
        f'<guid isPermaLink="true">{link}</guid><pubDate>{format_datetime(when)}</pubDate>'
        f"<description>{html.escape(text[:300])}</description>"
        f"<content:encoded><![CDATA[{paragraphs}]]></content:encoded></item>"
    )


def build_corpus(folder: Path, feeds: int, items: int) -> None:
    """Write feeds/feed{i}.xml: realistic RSS 2.0 with content:encoded."""
    texts = _texts()
    for i in range(feeds):
        rng = random.Random(i)
        body = "".join(_item(rng, texts, i, n) for n in range(items))
        (folder / f"feed{i}.xml").write_text(
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>Bench feed {i}</title><link>https://news{i % 97}.example/</link>"
            f"<description>Feed {i}</description><language>en</language>{body}</channel></rss>",
            encoding="utf-8",
        )


def feed_urls(port: int, feeds: int) -> list[str]:
    """Return the feeds' URLs, spread over HOSTS loopback addresses (per-host limits apply)."""
    return [f"http://127.0.0.{2 + i % HOSTS}:{port}/feed{i}.xml" for i in range(feeds)]


# -- server ---------------------------------------------------------------------------------


async def _handle(
    folder: Path, latency: float, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {
                k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)
            }
            await asyncio.sleep(latency)
            file = folder / path.lstrip("/")
            etag = f'"{hashlib.md5(path.encode()).hexdigest()}"'
            if not file.is_file():
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            elif headers.get("if-none-match") == etag:
                writer.write(f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\n\r\n".encode())
            else:
                body = file.read_bytes()
                writer.write(
                    f"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\n"
                    f"Content-Length: {len(body)}\r\nETag: {etag}\r\n"
                    f"Last-Modified: {LAST_MODIFIED}\r\n\r\n".encode()
                    + body
                )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, IndexError):
        pass
    finally:
        writer.close()


async def serve(folder: Path, latency: float) -> None:
    """Serve folder on 127.0.0.2..65 (one port), printing the port once listening."""
    handler = lambda r, w: _handle(folder, latency, r, w)  # noqa: E731
    first = await asyncio.start_server(handler, "127.0.0.2", 0, backlog=1024)
    port = first.sockets[0].getsockname()[1]
    others = [
        await asyncio.start_server(handler, f"127.0.0.{2 + i}", port, backlog=1024)
        for i in range(1, HOSTS)
    ]
    print(port, flush=True)
    async with first:
        await asyncio.gather(first.serve_forever(), *(s.serve_forever() for s in others))


# -- clients --------------------------------------------------------------------------------


def _usage() -> tuple[float, float]:
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    return cpu, max(me.ru_maxrss, kids.ru_maxrss) / 1024


async def _digest_pass(
    urls: list[str], states: dict[str, object], concurrency: int
) -> tuple[int, dict[str, object]]:
    from digest.config.settings import FetchSettings
    from digest.fetch.client import Fetcher, make_client
    from digest.fetch.parse import parse_feed
    from digest.fetch.workers import Workers
    from digest.models import FeedSource, FeedState

    settings = FetchSettings(concurrency=concurrency)
    now = datetime.now(UTC)
    workers = Workers(len(urls))
    counts: list[int] = []
    new_states: dict[str, object] = {}
    async with make_client(settings) as client:
        fetcher = Fetcher(settings, client)

        in_flight = asyncio.Semaphore(2 * concurrency)  # as in digest.fetch.ingest

        async def one(url: str) -> None:
            async with in_flight:
                await fetch_and_parse(url)

        async def fetch_and_parse(url: str) -> None:
            state = states.get(url) or FeedState(url=url)
            result = await fetcher.fetch(url, state)  # type: ignore[arg-type]
            new_states[url] = FeedState(
                url=url, etag=result.etag, last_modified=result.last_modified
            )
            if result.body is not None:
                parsed = await workers.run(parse_feed, result, FeedSource(url), now)
                counts.append(len(parsed.entries))
            elif not result.not_modified:
                raise SystemExit(f"{url}: {result.error}")

        try:
            await asyncio.gather(*(one(u) for u in urls))
        finally:
            workers.close()
    return sum(counts), new_states


def run_digest(urls: list[str], concurrency: int) -> dict[str, float]:
    """Return cold/warm wall and CPU seconds, entries and peak RSS for digest's fetcher."""
    import digest.fetch.ingest  # noqa: F401  (imported before the clock starts, like feedparser)

    # Other processes slow the CPU-bound cold pass far more than the baseline, which mostly
    # waits on latency: the load average before each pass says how busy the machine was.
    load = os.getloadavg()[0]
    started, cpu0 = time.perf_counter(), _usage()[0]
    entries, states = asyncio.run(_digest_pass(urls, {}, concurrency))
    cold, cpu1 = time.perf_counter() - started, _usage()[0]
    started = time.perf_counter()
    warm_entries, _ = asyncio.run(_digest_pass(urls, states, concurrency))
    warm, (cpu2, rss) = time.perf_counter() - started, _usage()
    assert warm_entries == 0, "the warm pass should be all 304"
    return {"cold_s": cold, "cold_cpu_s": cpu1 - cpu0, "warm_s": warm, "warm_cpu_s": cpu2 - cpu1,
            "entries": entries, "peak_rss_mb": rss, "load_before": load}  # fmt: skip


def run_baseline(urls: list[str]) -> dict[str, float]:
    """Return the same figures for feedparser.parse(url), one feed after another."""
    import feedparser

    load = os.getloadavg()[0]
    started, cpu0 = time.perf_counter(), _usage()[0]
    results = [feedparser.parse(u) for u in urls]
    entries = sum(len(r.entries) for r in results)
    cold, cpu1 = time.perf_counter() - started, _usage()[0]
    validators = [(r.get("etag"), r.get("modified")) for r in results]
    del results
    started = time.perf_counter()
    warm_results = [
        feedparser.parse(u, etag=e, modified=m) for u, (e, m) in zip(urls, validators, strict=True)
    ]
    warm, (cpu2, rss) = time.perf_counter() - started, _usage()
    assert all(r.get("status") == 304 for r in warm_results), "baseline warm pass not all 304"
    return {"cold_s": cold, "cold_cpu_s": cpu1 - cpu0, "warm_s": warm, "warm_cpu_s": cpu2 - cpu1,
            "entries": entries, "peak_rss_mb": rss, "load_before": load}  # fmt: skip


def _client(kind: str, port: int, feeds: int, concurrency: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--client", kind, "--port", str(port), "--feeds", str(feeds),
           "--concurrency", str(concurrency)]  # fmt: skip
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--no-baseline", action="store_true", help="skip the slow baseline")
    ap.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--client", choices=("digest", "baseline"), help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.latency))
        return
    if args.client:
        urls = feed_urls(args.port, args.feeds)
        figures = (
            run_digest(urls, args.concurrency) if args.client == "digest" else run_baseline(urls)
        )
        print(json.dumps(figures))
        return
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        build_corpus(folder, args.feeds, args.items)
        size = sum(p.stat().st_size for p in folder.iterdir()) / args.feeds / 1024
        print(f"corpus: {args.feeds} feeds x {args.items} items, {size:.0f} KiB per feed "
              f"({time.perf_counter() - started:.1f} s to build)", flush=True)  # fmt: skip
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(folder), "--latency", str(args.latency)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            ours = _client("digest", port, args.feeds, args.concurrency)
            print(f"digest:   {json.dumps(ours)}", flush=True)
            base = None if args.no_baseline else _client("baseline", port, args.feeds, 1)
            if base:
                print(f"baseline: {json.dumps(base)}", flush=True)
        finally:
            server.terminate()
            server.wait()
    result = {
        "cold_s": round(ours["cold_s"], 2),
        "baseline_cold_s": round(base["cold_s"], 2) if base else None,
        "cold_speedup": round(base["cold_s"] / ours["cold_s"], 1) if base else None,
        "warm_s": round(ours["warm_s"], 2),
        "baseline_warm_s": round(base["warm_s"], 2) if base else None,
        "peak_rss_mb": round(ours["peak_rss_mb"], 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
