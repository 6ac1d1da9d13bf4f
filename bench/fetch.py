"""Benchmark: the real `digest fetch` command against sequential feedparser, on a local server.

    python bench/fetch.py             # 1,000 and 100 feeds x 50 items, 50 ms latency (~6 min)
    python bench/fetch.py --quick     # 200 and 20 feeds, a 20,000-item near-duplicate case
    python bench/fetch.py --profile   # also print the cProfile top entries of a warm pass

A server process serves the feeds (about 190 KiB each, real article texts from
../shared/data) on 100 loopback addresses with a fixed latency per response, ETag and
Last-Modified. Each client runs in its own process so its peak RSS is its own:

- digest: `digest fetch -c CONFIG --data-dir DIR` as a user runs it, in a subprocess: cold
  with a fresh data directory, then warm with the same one (every feed answers 304), with
  `concurrency = per_host = 64`; then a cold pass with the default limits
  (16 at once, 2 per host) to count failures; then the same at the small size, whose cost
  per item is compared with the large one's (`per_item_growth`);
- baseline: one `feedparser.parse(url)` after another (with etag/modified on the warm pass);
- neardup (bench/neardup.py): 100,000 near-duplicate short items through the command's
  storage step (near-duplicate index + batched inserts into a fresh SQLite file).

The last line printed is one JSON object. The CPU-bound cold pass suffers from other
processes far more than the baseline, which mostly waits on latency: run it on an otherwise
idle machine (each client reports `load_before`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import hashlib
import html
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = next(
    (p / "shared" / "data" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared").is_dir()),
    ROOT.parent / "shared" / "data",
)
HOSTS = 100
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
    """Serve folder on 127.0.0.2..101 (one port), printing the port once listening."""
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


def _adopt_orphans() -> None:
    # digest's worker processes are forked by multiprocessing's fork server, which outlives
    # the command by a moment: as a subreaper (Linux), this process inherits them when the
    # command exits, and their CPU counts once they are waited for.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER


def _reap_orphans(patience: float = 2.0) -> None:
    # The fork server exits as soon as the command has: wait for it (and nothing else).
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not pid:
            time.sleep(0.02)


def _usage() -> tuple[float, float]:
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    return cpu, max(me.ru_maxrss, kids.ru_maxrss) / 1024


def _tree_rss_mb(pid: int) -> float:
    """Return the summed RSS of a process and its descendants (Linux /proc; 0 elsewhere)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, AttributeError):
            continue
    return total / 1024


def _sample_peak(pid: int, done: threading.Event, peak: list[float]) -> None:
    while not done.wait(0.05):
        peak[0] = max(peak[0], _tree_rss_mb(pid))


def write_config(folder: Path, urls: list[str], concurrency: int, per_host: int) -> Path:
    """Write a config with one digest over the feeds and the given fetch limits."""
    (folder / "feeds.toml").write_text("".join(f'[[feed]]\nurl = "{u}"\n\n' for u in urls))
    config = folder / "digest.toml"
    config.write_text(
        # The feeds are served on loopback, which is refused unless allowed.
        f"[fetch]\nconcurrency = {concurrency}\nper_host = {per_host}\n"
        'allow_private = ["127.0.0.0/8"]\n\n'
        '[[digest]]\nname = "bench"\nfeeds = ["feeds.toml"]\n'
    )
    return config


_SUMMARY = re.compile(
    r"fetched (\d+) feeds \((\d+) failed, [^)]*?(\d+) not modified\): (\d+) entries"
)


def command_pass(config: Path, data_dir: Path, profile: Path | None = None) -> dict[str, float]:
    """Run `digest fetch` once; return its wall and CPU seconds, counts and peak tree RSS."""
    cmd = ["-m", "digest", "fetch", "-c", str(config), "--data-dir", str(data_dir)]
    if profile is not None:
        cmd = ["-m", "cProfile", "-o", str(profile), *cmd]
    cpu0, started = _usage()[0], time.perf_counter()
    proc = subprocess.Popen([sys.executable, *cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)  # fmt: skip
    done, peak = threading.Event(), [0.0]
    sampler = threading.Thread(target=_sample_peak, args=(proc.pid, done, peak))
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    _reap_orphans()
    cpu = _usage()[0] - cpu0
    done.set()
    sampler.join()
    found = _SUMMARY.search(out)
    if found is None:
        raise SystemExit(f"digest fetch printed no summary:\n{out}\n{err[-2000:]}")
    feeds, failed, not_modified, entries = map(int, found.groups())
    return {"s": wall, "cpu_s": cpu, "feeds": feeds, "failed": failed,
            "not_modified": not_modified, "entries": entries, "tree_rss_mb": peak[0]}  # fmt: skip


def run_digest(urls: list[str], args: argparse.Namespace) -> dict[str, object]:
    """Return cold and warm figures for `digest fetch` (and a cold pass with default limits)."""
    with tempfile.TemporaryDirectory(prefix="digest-bench-cmd-") as tmp:
        folder = Path(tmp)
        config = write_config(folder, urls, args.concurrency, args.concurrency)
        load = os.getloadavg()[0]
        cold = command_pass(config, folder / "data")
        warm = command_pass(config, folder / "data")
        figures: dict[str, object] = {"cold": cold, "warm": warm, "load_before": load}
        if args.profile:
            stats = folder / "warm.prof"
            command_pass(config, folder / "data", profile=stats)
            figures["warm_profile"] = _profile_top(stats)
        if args.defaults:
            other = folder / "defaults"
            other.mkdir()
            defaults = write_config(other, urls, 16, 2)  # FetchSettings' defaults
            figures["defaults"] = command_pass(defaults, other / "data")
        figures["peak_rss_mb"] = _usage()[1]  # the largest single process (waited for)
        return figures


def _profile_top(stats: Path, count: int = 25) -> str:
    import io
    import pstats

    out = io.StringIO()
    pstats.Stats(str(stats), stream=out).sort_stats("cumulative").print_stats(count)
    return out.getvalue()


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


def _client(kind: str, port: int, feeds: int, extra: list[str]) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--client", kind, "--port", str(port), "--feeds", str(feeds),
           *extra]  # fmt: skip
    ran = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if ran.returncode != 0:
        raise SystemExit(f"{kind} client failed:\n{ran.stdout[-2000:]}\n{ran.stderr[-3000:]}")
    return json.loads(ran.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _neardup(items: int) -> dict[str, float]:
    cmd = [sys.executable, str(Path(__file__).with_name("neardup.py")), "--items", str(items)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--small", type=int, default=100, help="the smaller run (per_item_growth)")
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=64, help="and per_host")
    ap.add_argument("--neardup", type=int, default=100_000, help="near-duplicate items")
    ap.add_argument("--quick", action="store_true", help="200/20 feeds, 20,000 near-duplicates")
    ap.add_argument("--profile", action="store_true", help="print a warm pass's cProfile top")
    ap.add_argument("--no-baseline", action="store_true", help="skip the slow baseline")
    ap.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--client", choices=("digest", "baseline"), help=argparse.SUPPRESS)
    ap.add_argument("--defaults", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.feeds, args.small, args.neardup = 200, 20, 20_000
    return args


def _run_clients(args: argparse.Namespace, port: int) -> dict[str, dict[str, object]]:
    extra = ["--concurrency", str(args.concurrency)]
    runs: dict[str, dict[str, object]] = {}
    runs["digest"] = _client("digest", port, args.feeds, [*extra, "--defaults"] +
                             (["--profile"] if args.profile else []))  # fmt: skip
    profile = runs["digest"].pop("warm_profile", None)
    if profile:
        print(f"warm pass profile ({args.feeds} feeds):\n{profile}", flush=True)
    print(f"digest {args.feeds}: {json.dumps(runs['digest'])}", flush=True)
    runs["small"] = _client("digest", port, args.small, extra)
    print(f"digest {args.small}: {json.dumps(runs['small'])}", flush=True)
    if not args.no_baseline:
        runs["baseline"] = _client("baseline", port, args.feeds, [])
        print(f"baseline {args.feeds}: {json.dumps(runs['baseline'])}", flush=True)
    return runs


def _summary(args: argparse.Namespace, runs: dict[str, dict[str, object]],
             near: dict[str, float]) -> dict[str, object]:  # fmt: skip
    big, small, base = runs["digest"], runs["small"], runs.get("baseline")
    cold, warm, defaults = big["cold"], big["warm"], big["defaults"]
    assert isinstance(cold, dict) and isinstance(warm, dict) and isinstance(defaults, dict)
    small_cold = small["cold"]
    assert isinstance(small_cold, dict)
    per_big = cold["s"] / max(1, cold["entries"])
    per_small = small_cold["s"] / max(1, small_cold["entries"])
    cpu_big = cold["cpu_s"] / max(1, cold["entries"])
    cpu_small = small_cold["cpu_s"] / max(1, small_cold["entries"])
    return {
        "feeds": args.feeds, "items": args.items,
        "cold_s": round(cold["s"], 2), "warm_s": round(warm["s"], 2),
        "baseline_cold_s": round(float(base["cold_s"]), 2) if base else None,  # type: ignore[arg-type]
        "baseline_warm_s": round(float(base["warm_s"]), 2) if base else None,  # type: ignore[arg-type]
        "cold_speedup": round(float(base["cold_s"]) / cold["s"], 2) if base else None,  # type: ignore[arg-type]
        "warm_speedup": round(float(base["warm_s"]) / warm["s"], 2) if base else None,  # type: ignore[arg-type]
        "failed_feeds": cold["failed"] + warm["failed"],
        "warm_not_modified": warm["not_modified"],
        "defaults_cold_s": round(defaults["s"], 2), "defaults_failed_feeds": defaults["failed"],
        "per_item_growth": round(per_big / per_small, 2),
        "per_item_cpu_growth": round(cpu_big / cpu_small, 2),
        "cold_cpu_s": round(cold["cpu_s"], 1), "warm_cpu_s": round(warm["cpu_s"], 2),
        "small_cold_s": round(small_cold["s"], 2),
        "dedup_items": near["items"], "dedup_100k_s": round(near["dedup_s"], 2),
        "dedup_groups": near["groups"], "dedup_fingerprint_s": round(near["fingerprint_s"], 2),
        "dedup_rss_mb": round(near["peak_rss_mb"], 1),
        "peak_rss_mb": round(float(big["peak_rss_mb"]), 1),  # type: ignore[arg-type]
        "peak_tree_rss_mb": round(max(cold["tree_rss_mb"], warm["tree_rss_mb"]), 1),
        "load_before": big["load_before"],
    }  # fmt: skip


def main() -> None:
    args = _arguments()
    if args.serve:
        asyncio.run(serve(args.serve, args.latency))
        return
    if args.client:
        _adopt_orphans()
        urls = feed_urls(args.port, args.feeds)
        figures = run_digest(urls, args) if args.client == "digest" else run_baseline(urls)
        print(json.dumps(figures))
        return
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        build_corpus(folder, max(args.feeds, args.small), args.items)
        size = sum(p.stat().st_size for p in folder.iterdir()) / max(args.feeds, args.small) / 1024
        print(f"corpus: {args.feeds} feeds x {args.items} items, {size:.0f} KiB per feed "
              f"({time.perf_counter() - started:.1f} s to build)", flush=True)  # fmt: skip
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(folder), "--latency", str(args.latency)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            runs = _run_clients(args, int(server.stdout.readline()))
        finally:
            server.terminate()
            server.wait()
    near = _neardup(args.neardup)
    print(f"near-duplicates: {json.dumps(near)}", flush=True)
    print(json.dumps(_summary(args, runs, near)))


if __name__ == "__main__":
    main()
