"""`digest feeds ...`: add, remove, list (with health), import/export OPML, enable, check."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from digest.cli.common import (
    EXIT_FAILED,
    ConfigOption,
    DataDirOption,
    console,
    err_console,
    fail,
    is_terminal,
    load,
    new_app,
    store_for,
)
from digest.cli.reports import plural
from digest.config import Settings, load_feed_list, union_feeds
from digest.errors import DigestError
from digest.fetch import export_opml, find_feed, importable, is_local, preview_article
from digest.models import FeedSource, FeedState, wall_clock
from digest.store import Store

app = new_app()

AddArg = Annotated[
    str, typer.Argument(help="Feed URL, or a web page that links its feed (rel=alternate).")
]
KnownArg = Annotated[str, typer.Argument(help="Feed URL, as `digest feeds list` shows it.")]
CheckArg = Annotated[
    str, typer.Argument(help="Feed URL, a web page that links its feed, or a local feed file.")
]
PLAIN_COLUMNS = ("name", "url", "from", "status", "last_success", "next_check", "last_error")
TagOption = Annotated[
    list[str] | None, typer.Option("--tag", "-t", help="Tag for the feed (repeatable).")
]


def _all_sources(settings: Settings, store: Store) -> list[tuple[FeedSource, str]]:
    configured = {f.url for f in settings.all_feeds}
    return [
        (f, "config" if f.url in configured else "added")
        for f in union_feeds(settings.all_feeds, store.added_feeds())
    ]


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def _status(state: FeedState, now: datetime) -> str:
    if state.disabled:
        return "disabled"
    if state.error_count:
        return f"failing ({state.error_count})"
    if state.last_success_at is None:
        return "never fetched"
    return "ok" if state.next_check_at is None or state.next_check_at <= now else "waiting"


def _local_or_url(url: str) -> str:
    # A relative path names a local feed file; the fetcher wants it absolute.
    if "://" not in url and not is_local(url) and Path(url).exists():
        return str(Path(url).resolve())
    return url


@app.command("list")
def list_feeds(config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """List every feed (configured and added) with its health."""
    settings = load(config, data_dir)
    store = store_for(settings, reading=True)
    now = wall_clock()
    rows = []
    for source, origin in _all_sources(settings, store):
        state = store.feed_state(source.url)
        rows.append(
            (
                source.name or state.title or source.url,
                source.url,
                origin,
                _status(state, now),
                _when(state.last_success_at),
                # A disabled feed is not checked again until `digest feeds enable`.
                "never (disabled)" if state.disabled else _when(state.next_check_at),
                state.last_error or "",
            )
        )
    if not is_terminal():
        # Plain lines for scripts and logs: a header naming the columns, then one feed per
        # line, tab-separated; a tab or newline inside a value (an error) becomes a space.
        typer.echo("\t".join(PLAIN_COLUMNS))
        for row in rows:
            typer.echo("\t".join(" ".join(value.split()) for value in row))
        return
    table = Table("feed", "from", "status", "last success", "next check", "last error")
    for name, url, *rest in rows:
        table.add_row(f"{name}\n{url}" if name != url else url, *rest)
    console.print(table)


@app.command("add")
def add(
    url: AddArg,
    name: Annotated[str, typer.Option("--name", "-n", help="Name to show.")] = "",
    tag: TagOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Add a feed, finding it through the page's <link rel="alternate"> if URL is a page."""
    settings = load(config, data_dir)
    store = store_for(settings)
    if is_local(_local_or_url(url)):
        fail(f"feeds: {url}: a local feed file is read only when named in the config file")
    try:
        feed_url, parsed = find_feed(_local_or_url(url), settings.fetch)
    except DigestError as exc:
        fail(str(exc), EXIT_FAILED)
    store.add_feed(FeedSource(feed_url, name=name or parsed.title, tags=tuple(tag or ())))
    entries = plural(len(parsed.entries), "entry", "entries")
    console.print(f"added {feed_url} ({parsed.title or 'untitled'}, {entries})")


@app.command("remove")
def remove(url: KnownArg, config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """Forget an added feed and its state (its stored articles stay)."""
    settings = load(config, data_dir)
    store = store_for(settings)
    if any(f.url == url for f in settings.all_feeds):
        err_console.print("note: this feed is in the config file; remove it there too")
    if not store.remove_feed(url):
        fail(f"feeds: {url}: not a known feed", EXIT_FAILED)
    console.print(f"removed {url}")


@app.command("import")
def import_opml(
    file: Annotated[Path, typer.Argument(help="OPML (or TOML feed list) file.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Add every feed listed in an OPML file (folders become tags)."""
    settings = load(config, data_dir)
    store = store_for(settings)
    try:
        sources, refused = importable(load_feed_list(file))
    except DigestError as exc:
        fail(str(exc))
    for url in refused:
        err_console.print(
            f"feeds: {url}: not imported (only http(s) feeds; name local files in the config)"
        )
    for source in sources:
        store.add_feed(source)
    console.print(f"imported {len(sources)} feeds from {file}")


@app.command("export")
def export(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here.")] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Print (or write) every feed as OPML."""
    settings = load(config, data_dir)
    store = store_for(settings)
    text = export_opml([s for s, _ in _all_sources(settings, store)])
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")


@app.command("enable")
def enable(url: KnownArg, config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """Re-enable a disabled feed and clear its error count and backoff."""
    settings = load(config, data_dir)
    store = store_for(settings)
    known = {f.url for f in settings.all_feeds} | {s.url for s in store.feed_states()}
    if url not in known:
        fail(f"feeds: {url}: not a configured or added feed (see `digest feeds list`)")
    state = store.feed_state(url)
    store.save_feed_state(
        replace(state, disabled=False, error_count=0, next_check_at=None, last_error=None)
    )
    console.print(f"enabled {url}")


@app.command("check")
def check(url: CheckArg, config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """Fetch and parse one feed; print what would be stored, with its first item's clean text."""
    settings = load(config, data_dir)
    now = wall_clock()
    url = _local_or_url(url)
    known = {f.url: f for f in settings.all_feeds}
    try:
        feed_url, parsed = find_feed(url, settings.fetch, now)
    except DigestError as exc:
        fail(str(exc), EXIT_FAILED)
    source = known.get(feed_url) or FeedSource(feed_url)
    out = console.print
    out(f"feed: {parsed.title or '(untitled)'} <{feed_url}>")
    out(f"language: {parsed.language or '-'}; entries: {len(parsed.entries)}")
    if parsed.bozo:
        out(f"warning: the feed is not well-formed ({parsed.bozo})")
    for entry in parsed.entries:
        out(f"  - {entry.title} <{entry.url}>")
    if not parsed.entries:
        return
    article = preview_article(
        settings, source, parsed, parsed.entries[0], now, on_progress=err_console.print
    )
    if article is None:
        return
    out("")
    out(f"first item: {article.title}")
    out(f"url: {article.url}\npublished: {_when(article.published)}; language: {article.language}")
    out(f"source: {article.source}; fingerprint: {article.fingerprint}\n")
    typer.echo(article.text)
