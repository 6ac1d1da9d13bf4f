"""`digest eval reader`: build a digest from a corpus of real articles as `digest run` would.

A JSON Lines corpus (`{title, text, url, published?, category?}`, or the ru-news fields
`source, url, title, text, date`) becomes local RSS files, one per outlet (one per `source`
when the corpus names one: an aggregator's feed, whose items say their outlet in
`<source>`), and a config naming them. The digest is then fetched, stored, grouped,
summarised, ranked and rendered by the pipeline itself (`pipeline.run_digests`, as
`digest run --no-send`), in a throw-away data directory; `digest.eval.audit` reads what
came out. Nothing of the product is called stage by stage here, so no stage can be skipped
or run differently from a real build.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from digest.config import load_settings
from digest.errors import DigestError, EvalError
from digest.models import Digest, RunReport
from digest.pipeline import Deps, RunOptions, run_digests
from digest.store import open_store

DAY = timedelta(days=1)
# The corpus files carry dates as "2019-11-18 10:15:00", ISO 8601, or a bare day.
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_CYRILLIC = re.compile(r"[а-яё]", re.I)
# The corus dumps (ru-news) lost the backslash of their line breaks: «сообщаетnРИА Новостиn.n
# По его словам» is «сообщает\nРИА Новости\n.\nПо его словам». Undone on reading, as a
# feed would never carry it.
_LOST_BREAK = re.compile(r"(?<=[а-яёА-ЯЁ.,:;!?»)\"\d])n{1,2}(?=[А-ЯЁа-яё«(\"\d—–.-])")
_LATIN = re.compile(r"[a-z]", re.I)


@dataclass(frozen=True)
class CorpusItem:
    """One article of a reader corpus, as the file gives it."""

    guid: str
    title: str
    text: str
    url: str
    published: datetime | None
    category: str = ""
    source: str = ""  # where the corpus took it from: an outlet's dump or an aggregator
    language: str = ""

    @property
    def outlet(self) -> str:
        """Return the site that published the article: its URL's host without "www."."""
        host = urlsplit(self.url).hostname or ""
        return host.removeprefix("www.")


@dataclass(frozen=True)
class ReaderBuild:
    """A digest built from a corpus, with what the run wrote and the corpus it read."""

    items: tuple[CorpusItem, ...]
    digest: Digest
    report: RunReport
    files: dict[str, bytes] = field(default_factory=dict)  # suffix (".txt") -> contents
    now: datetime = datetime(1970, 1, 1, tzinfo=UTC)

    def item(self, guid: str) -> CorpusItem | None:
        """Return the corpus item a stored article came from (its guid is the item's)."""
        return _by_guid(self.items).get(guid)


def _by_guid(items: Sequence[CorpusItem]) -> dict[str, CorpusItem]:
    return {i.guid: i for i in items}


def item_language(title: str, text: str) -> str:
    """Return "ru" for Cyrillic text, else "en": enough to pick one side of a mixed corpus."""
    sample = f"{title}\n{text[:2000]}"
    return "ru" if len(_CYRILLIC.findall(sample)) > len(_LATIN.findall(sample)) else "en"


def _parse_date(value: Any, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise EvalError(where, f"published: expected a date string, got {value!r}")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for pattern in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        else:
            raise EvalError(where, f"published: {value!r} is not a date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def read_corpus(
    path: Path, *, language: str | None = None, limit: int | None = None
) -> list[CorpusItem]:
    """Return the corpus's articles (of `language` only, when given), each checked."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(str(path), f"cannot read: {exc}") from exc
    items: list[CorpusItem] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}: line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalError(where, f"not JSON: {exc.msg}") from exc
        if not isinstance(row, dict):
            raise EvalError(where, "expected an object")
        missing = [k for k in ("title", "text", "url") if not isinstance(row.get(k), str)]
        if missing:
            raise EvalError(where, f"missing {', '.join(missing)}")
        text = row["text"]
        if _CYRILLIC.search(text):
            text = _LOST_BREAK.sub("\n", text)
        if not text.strip():
            continue  # nothing to read: a feed would carry no such item either
        lang = str(row.get("language") or item_language(row["title"], text))
        if language and lang != language:
            continue
        published = _parse_date(row.get("published", row.get("date")), where)
        items.append(
            CorpusItem(
                guid=f"item-{number}",
                title=row["title"],
                text=text,
                url=row["url"],
                published=published,
                category=str(row.get("category") or ""),
                source=str(row.get("source") or ""),
                language=lang,
            )
        )
        if limit is not None and len(items) >= limit:
            break
    if not items:
        raise EvalError(str(path), "no articles" + (f" in {language}" if language else ""))
    return items


def undated_day(items: Sequence[CorpusItem]) -> date:
    """Return the day undated items are spread over: that of the latest dated item, else today."""
    dated = [i.published for i in items if i.published is not None]
    return max(dated).date() if dated else datetime.now(UTC).date()


def with_times(items: Sequence[CorpusItem], day: date) -> list[CorpusItem]:
    """Return the items with the undated ones spread evenly over `day` (UTC), in file order."""
    undated = [i for i in items if i.published is None]
    step = DAY / max(1, len(undated))
    start = datetime.combine(day, time(0, 0), tzinfo=UTC)
    times = {i.guid: start + step * n for n, i in enumerate(undated)}
    return [i if i.published is not None else _replace_published(i, times[i.guid]) for i in items]


def _replace_published(item: CorpusItem, when: datetime) -> CorpusItem:
    return CorpusItem(
        item.guid,
        item.title,
        item.text,
        item.url,
        when,
        item.category,
        item.source,
        item.language,
    )


def _feed_key(item: CorpusItem) -> str:
    """Return which feed carries the item: its corpus source when named, else its site."""
    return item.source or item.outlet or "unknown"


def _feed_title(items: Sequence[CorpusItem], key: str) -> str:
    outlets = {i.outlet for i in items}
    if len(outlets) == 1:
        return next(iter(outlets)) or key
    # An aggregator: named after the corpus file it came from ("ru_cat_honey").
    name = key.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return re.sub(r"\.(?:tsv|csv|jsonl?)(?:\.gz)?$", "", name) or key


def _rss_item(item: CorpusItem, aggregator: bool) -> str:
    # Undated items were given times across the day before this; one left without gets none
    # here and is dated by the fetch, as a feed's undated item is.
    dated = f"<pubDate>{format_datetime(item.published)}</pubDate>" if item.published else ""
    paragraphs = [p.strip() for p in item.text.split("\n") if p.strip()]
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    source = ""
    if aggregator and item.outlet:
        site = f"https://{item.outlet}/"
        source = f"<source url={quoteattr(site)}>{escape(item.outlet)}</source>"
    return (
        "<item>"
        f"<title>{escape(item.title)}</title>"
        f"<link>{escape(item.url)}</link>"
        f'<guid isPermaLink="false">{escape(item.guid)}</guid>'
        f"{dated}{source}"
        f"<content:encoded>{escape(body)}</content:encoded>"
        "</item>"
    )


def write_feeds(items: Sequence[CorpusItem], directory: Path) -> list[Path]:
    """Write one RSS 2.0 file per feed (full text in content:encoded); return their paths."""
    groups: dict[str, list[CorpusItem]] = {}
    for item in items:
        groups.setdefault(_feed_key(item), []).append(item)
    directory.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for number, (key, group) in enumerate(groups.items(), 1):
        title = _feed_title(group, key)
        aggregator = len({i.outlet for i in group}) > 1
        link = f"https://{group[0].outlet}/" if not aggregator else "https://example.invalid/"
        xml = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>{escape(title)}</title><link>{escape(link)}</link>"
            f"<description>{escape(title)}</description>"
            + "".join(_rss_item(i, aggregator) for i in group)
            + "</channel></rss>\n"
        )
        path = directory / f"feed-{number:03d}.xml"
        path.write_text(xml, encoding="utf-8")
        paths.append(path)
    return paths


def _feed_list(feeds: Sequence[Path]) -> str:
    """Return the TOML feed list naming the feed files."""
    # full_text = "never": the corpus holds the whole text; a page fetch would go online.
    return "".join(f'[[feed]]\nurl = {json.dumps(str(p))}\nfull_text = "never"\n\n' for p in feeds)


def _config(feed_list: Path, language: str, window: timedelta, events: int) -> str:
    """Return the TOML of a digest reading the feeds: every article in its window, no mail."""
    hours = int(window.total_seconds() // 3600) + 1
    title = "Reader audit" if language == "en" else "Проверка читателем"
    return (
        'keep = "36500d"\n'
        "[[digest]]\n"
        'name = "reader"\n'
        f"title = {json.dumps(title, ensure_ascii=False)}\n"
        f"feeds = [{json.dumps(str(feed_list))}]\n"
        'timezone = "UTC"\n'
        f'window = "{hours}h"\n'
        f"max_events = {events}\n"
        f'language = "{language}"\n'
        'formats = ["html", "epub", "ics"]\n'
    )


def main_language(items: Sequence[CorpusItem]) -> str:
    """Return the language most of the items are in."""
    ru = sum(1 for i in items if i.language == "ru")
    return "ru" if ru * 2 > len(items) else "en"


def build_reader_digest(
    items: Sequence[CorpusItem], *, day: date | None = None, out_dir: Path | None = None
) -> ReaderBuild:
    """Return the digest `digest run --no-send` builds from the corpus's articles as feeds.

    The digest is built at the end of `day` (the day undated items are spread over), with a
    window that holds every article and room for every event, so the whole corpus is read.
    `out_dir` keeps the files the run writes (.html, .txt, .epub, .ics).
    """
    day = day or undated_day(items)
    timed = with_times(items, day)
    now = max(
        datetime.combine(day + DAY, time(0, 0), tzinfo=UTC),
        max(i.published for i in timed if i.published) + timedelta(minutes=1),
    )
    earliest = min(i.published for i in timed if i.published)
    with tempfile.TemporaryDirectory(prefix="digest-reader-") as tmp:
        work = Path(tmp)
        feeds = write_feeds(timed, work / "feeds")
        feed_list = work / "feeds.toml"
        feed_list.write_text(_feed_list(feeds), encoding="utf-8")
        config = work / "digest.toml"
        window = now - earliest
        config.write_text(
            _config(feed_list, main_language(timed), window, len(timed)), encoding="utf-8"
        )
        try:
            settings = load_settings(config, data_dir=work / "data", env={})
        except DigestError as exc:
            raise EvalError("reader", f"the generated settings: {exc}") from exc
        store = open_store(settings.storage_url)
        seen: list[Digest] = []
        out = out_dir or work / "out"
        options = RunOptions(fetch=True, send=False, out_dir=out, site_dir=work / "site")
        try:
            _, reports = run_digests(
                settings, store, settings.digests, options, now, Deps(on_digest=seen.append)
            )
        finally:
            store.close()
        report = reports[-1]
        if not seen:
            failures = "; ".join(str(f) for f in report.failures) or "no digest was built"
            raise EvalError("reader", failures)
        written = [Path(p) for p in report.outputs if Path(p).parent == out]
        files = {p.suffix: p.read_bytes() for p in written if p.exists()}
    return ReaderBuild(tuple(timed), seen[-1], report, files, now)
