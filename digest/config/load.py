"""Loading the settings: a TOML file plus DIGEST_* environment overrides, validated with clear
errors, one reader per section ([fetch], [smtp], each [[digest]] and its recipients).

Every error names the file, the key and what was expected, for example
`config: digest.toml: digest[0].schedule: "61 7 * * *" is not a valid cron expression`.
Unknown keys are errors. Secrets (the SMTP password) come only from the environment.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from digest.config.cron import cron_trigger
from digest.config.feedlists import feed_list_path, load_feed_list
from digest.config.llm import read_llm
from digest.config.rules import read_rules
from digest.config.settings import (
    EXTRA_FORMATS,
    FORMATS,
    LANGUAGES,
    MAX_GRACE,
    MAX_TIMEOUT,
    CatchUp,
    DigestSettings,
    FetchSettings,
    Recipient,
    Security,
    Settings,
    SmtpSettings,
)
from digest.config.tables import TableReader
from digest.errors import ConfigError
from digest.models import FeedSource


def load_settings(
    path: Path | None, *, data_dir: Path | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Return validated settings from a TOML file (or built-in defaults) and the environment."""
    env = os.environ if env is None else env
    if path is None:
        raw: dict[str, Any] = {
            "digest": [
                {
                    "name": "samples",
                    "title": "Sample digest",
                    "feeds": ["builtin:samples"],
                }
            ]
        }
        file = "(built-in defaults)"
        base = Path.cwd()
    else:
        file = str(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(file, "file not found") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(file, f"cannot read: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(file, f"not valid TOML: {exc}") from exc
        except RecursionError as exc:  # tomllib recurses once per nested array or table
            raise ConfigError(file, "not valid TOML: nested too deeply") from exc
        base = path.resolve().parent
    return _settings(raw, file, base, path, data_dir, env)


def _settings(
    raw: Mapping[str, Any],
    file: str,
    base: Path,
    path: Path | None,
    data_dir: Path | None,
    env: Mapping[str, str],
) -> Settings:
    top = TableReader(file, "", raw)
    file_dir = top.get("data_dir", str)
    dir_value = data_dir or _path(env.get("DIGEST_DATA_DIR") or file_dir, base)
    resolved_dir = dir_value or Path(platformdirs.user_data_dir("digest"))
    storage_url = (
        env.get("DIGEST_STORAGE_URL")
        or top.get("storage_url", str)
        or (f"sqlite:///{resolved_dir / 'digest.sqlite3'}")
    )
    outbox = _path(top.get("outbox_dir", str), base) or resolved_dir / "outbox"
    maildir = _path(top.get("maildir", str), base)
    fetch_every = top.duration("fetch_every", timedelta(minutes=30))
    # Shorter would forget what earlier digests showed before "developing" looks back.
    keep = top.duration("keep", timedelta(days=90), least=timedelta(days=8))
    fetch = _fetch(TableReader(file, "fetch.", top.get("fetch", dict, {})))
    smtp = _smtp(file, top.get("smtp", dict, None), env)
    llm = read_llm(file, top.get("llm", dict, None), env)
    tables = top.get("digest", list, [])
    if not tables:
        raise top.fail("digest", "expected at least one [[digest]] table")
    digests = tuple(_digest(file, i, t, base) for i, t in enumerate(tables))
    names = [d.name for d in digests]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(file, f"digest: name {name!r} is used twice")
    for d in digests:
        if d.summarizer == "llm" and llm is None:
            raise ConfigError(file, f'digest {d.name!r}: summarizer = "llm" needs an [llm] table')
    top.finish()
    secret = env.get("DIGEST_UNSUBSCRIBE_SECRET") or None
    for d in digests:
        if "{token}" in (d.unsubscribe or "") and not secret:
            raise ConfigError(
                file, f"digest {d.name!r}: unsubscribe has {{token}}: set DIGEST_UNSUBSCRIBE_SECRET"
            )
    return Settings(
        config_path=path,
        data_dir=resolved_dir,
        storage_url=storage_url,
        outbox_dir=outbox,
        digests=digests,
        fetch=fetch,
        smtp=smtp,
        fetch_every=fetch_every,
        maildir=maildir,
        keep=keep,
        llm=llm,
        unsubscribe_secret=secret,
    )


def _path(value: str | None, base: Path) -> Path | None:
    if not value:
        return None
    p = Path(value).expanduser()
    p = p if p.is_absolute() else base / p
    try:
        return p.resolve()
    except OSError:  # a name too long, a symlink loop: whoever uses the path says so
        return p


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long for the file system
        return False


def _fetch(r: TableReader) -> FetchSettings:
    d = FetchSettings()
    s = FetchSettings(
        concurrency=r.positive("concurrency", d.concurrency, 1000),
        per_host=r.positive("per_host", d.per_host, 100),
        connect_timeout=r.number("connect_timeout", d.connect_timeout, 0, MAX_TIMEOUT, above=True),
        timeout=r.number("timeout", d.timeout, 0, MAX_TIMEOUT, above=True),
        max_bytes=r.positive("max_bytes", d.max_bytes, 2**30),
        max_redirects=r.whole("max_redirects", d.max_redirects, 0, 100),
        max_errors=r.positive("max_errors", d.max_errors),
        allow_private=_networks(r, "allow_private"),
        page_budget=_seconds(r, "page_budget", d.page_budget),
        pages_per_feed=r.positive("pages_per_feed", d.pages_per_feed),
        user_agent=r.get("user_agent", str, d.user_agent),
        full_text_min_chars=r.whole("full_text_min_chars", d.full_text_min_chars, 0, 10**6),
    )
    if r.get("block_private_addresses", bool, None) is not None:
        logging.getLogger("digest.config").warning(
            "config: %s: fetch.block_private_addresses is deprecated and ignored: private, "
            "loopback and link-local addresses are refused unless their network is listed "
            'in fetch.allow_private (e.g. ["10.0.0.0/8"])',
            r.file,
        )
    r.finish()
    return s


def _networks(r: TableReader, key: str) -> tuple[str, ...]:
    """Return the list of networks under key, each checked ("10.0.0.0/8", "::1")."""
    values = r.get(key, list, [])
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except (TypeError, ValueError) as exc:
            raise r.fail(key, f'{value!r} is not a network like "10.0.0.0/8"') from exc
    return tuple(values)


def _seconds(r: TableReader, key: str, default: float) -> float:
    """Return a positive, finite number of seconds under key."""
    value = float(r.get(key, float, default))
    if not 0 < value < float("inf"):
        raise r.fail(key, f"expected a positive number of seconds, got {value!r}")
    return value


def _smtp(
    file: str, table: Mapping[str, Any] | None, env: Mapping[str, str]
) -> SmtpSettings | None:
    merged = dict(table or {})
    for key in ("host", "security", "username", "from", "reply_to", "ca_file"):
        if env.get(f"DIGEST_SMTP_{key.upper()}"):
            merged[key] = env[f"DIGEST_SMTP_{key.upper()}"]
    if env.get("DIGEST_SMTP_PORT"):
        try:
            merged["port"] = int(env["DIGEST_SMTP_PORT"])
        except ValueError as exc:
            raise ConfigError("DIGEST_SMTP_PORT", "expected a whole number") from exc
    if not merged:
        return None
    if "password" in merged:
        raise ConfigError(
            file,
            "smtp.password: not allowed in the file; set DIGEST_SMTP_PASSWORD "
            "(or the variable named by smtp.password_env)",
        )
    r = TableReader(file, "smtp.", merged)
    host = r.get("host", str)
    if not host:
        raise r.fail("host", "required when [smtp] is given")
    password_env = r.get("password_env", str, "DIGEST_SMTP_PASSWORD")
    s = SmtpSettings(
        host=host,
        port=r.whole("port", 587, 1, 65535),
        security=cast(Security, r.choice("security", ("starttls", "tls", "none"), "starttls")),
        username=r.get("username", str, None),
        password=env.get(password_env),
        timeout=r.number("timeout", 30.0, 0, MAX_TIMEOUT, above=True),
        from_addr=r.get("from", str, "digest@localhost"),
        reply_to=r.get("reply_to", str, None),
        ca_file=r.get("ca_file", str, None),
        verify=r.get("verify", bool, True),
        retry_deadline=r.duration("retry_deadline", timedelta(hours=6)),
        suspend_after=r.whole("suspend_after", 3, 0, 1000),
    )
    r.finish()
    return s


def _digest(file: str, index: int, table: Any, base: Path) -> DigestSettings:
    if not isinstance(table, dict):
        raise ConfigError(file, f"digest[{index}]: expected a table")
    r = TableReader(file, f"digest[{index}].", table)
    name = r.get("name", str)
    if not name or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise r.fail("name", "required: letters, digits, '-', '_' or '.'")
    timezone = r.get("timezone", str, "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise r.fail(
            "timezone", f"{timezone!r} is not an IANA time zone like Europe/Berlin"
        ) from exc
    schedule = r.get("schedule", str, "0 7 * * *")
    _check_cron(r, schedule, timezone)
    feed_values = r.get("feeds", list, [])
    if not feed_values:
        raise r.fail(
            "feeds", "expected a list of feed files (TOML or OPML), builtin:NAME or feed URLs"
        )
    feeds = _feeds(r, feed_values, base)
    language = r.choice("language", LANGUAGES, "en")
    formats = _formats(r, r.get("formats", list, list(FORMATS)), "formats")
    recipients = tuple(
        _recipient(r, i, v, formats) for i, v in enumerate(r.get("recipients", list, []))
    )
    tag_weights = r.get("tag_weights", dict, {})
    for tag in tag_weights:
        TableReader(r.file, f"{r.prefix}tag_weights.", tag_weights).number(tag, 1.0, 0, 1000)
    columns = r.positive("columns", 1)
    if columns > 2:
        raise r.fail("columns", f"expected 1 or 2, got {columns}")
    s = DigestSettings(
        name=name,
        title=r.get("title", str, name),
        feeds=feeds,
        schedule=schedule,
        timezone=timezone,
        window=r.duration("window", timedelta(hours=24)),
        max_events=r.positive("max_events", 12, 1000),
        recipients=recipients,
        language=language,
        formats=formats,
        templates_dir=_path(r.get("templates_dir", str, None), base),
        catch_up=cast(CatchUp, r.choice("catch_up", ("latest", "none", "all"), "latest")),
        catch_up_grace=r.duration(
            "catch_up_grace", timedelta(hours=12), least=timedelta(0), most=MAX_GRACE
        ),
        summary_sentences=r.positive("summary_sentences", 3, 50),
        page_size=cast(Literal["A4", "Letter"], r.choice("page_size", ("A4", "Letter"), "A4")),
        columns=columns,
        images=r.get("images", bool, False),
        attachment_limit=int(r.number("attachment_limit_mb", 10.0, 0, 1024, above=True) * 2**20),
        tag_weights=tuple((str(k), float(v)) for k, v in tag_weights.items()),
        unsubscribe=_unsubscribe(r),
        include=read_rules(r, "include"),
        exclude=read_rules(r, "exclude"),
        summarizer=cast(
            Literal["extractive", "llm"],
            r.choice("summarizer", ("extractive", "llm"), "extractive"),
        ),
        send_empty=r.get("send_empty", bool, False),
        report_to=r.get("report_to", str, None),
        not_news=cast(
            Literal["last", "drop", "keep"], r.choice("not_news", ("last", "drop", "keep"), "last")
        ),
    )
    if s.templates_dir is not None and not _is_dir(s.templates_dir):
        raise r.fail("templates_dir", f"{s.templates_dir} is not a directory")
    r.finish()
    return s


def _unsubscribe(r: TableReader) -> str | None:
    """Return the List-Unsubscribe setting when each of its targets is mailto: or https:."""
    value = cast(str | None, r.get("unsubscribe", str, None))
    if value is None:
        return None
    # Split as deliver.unsubscribe_targets does: spaces or commas, each maybe in <>, a bare
    # address meaning mailto:. Anything else (javascript:, data:, http:) never reaches a header.
    for item in re.split(r"[\s,]+", value.strip()):
        target = item.strip("<>")
        if not target:
            continue
        if "@" in target and ":" not in target:
            target = "mailto:" + target
        parts = urlsplit(target)
        scheme = parts.scheme.lower()
        usable = (scheme == "mailto" and "@" in parts.path) or (
            scheme == "https" and bool(parts.hostname)
        )
        if not usable or re.search(r"[<>\x00-\x1f\x7f]", target):
            raise r.fail("unsubscribe", f"{target!r} is not a mailto: or https: URL")
    return value


def _check_cron(r: TableReader, schedule: str, timezone: str) -> None:
    try:
        cron_trigger(schedule, timezone)
    except ValueError as exc:
        raise r.fail("schedule", f'"{schedule}" is not a valid cron expression ({exc})') from exc


def _formats(r: TableReader, values: list[Any], key: str) -> tuple[str, ...]:
    for v in values:
        if v not in FORMATS + EXTRA_FORMATS:
            raise r.fail(key, f"{v!r} is not one of {', '.join(FORMATS + EXTRA_FORMATS)}")
    if not values:
        raise r.fail(key, "expected at least one of pdf, html")
    return tuple(dict.fromkeys(values))


def _recipient(
    r: TableReader, index: int, value: Any, default_formats: tuple[str, ...]
) -> Recipient:
    if isinstance(value, str):
        value = {"address": value}
    if not isinstance(value, dict):
        raise r.fail(f"recipients[{index}]", "expected an address or a table")
    sub = TableReader(r.file, f"{r.prefix}recipients[{index}].", value)
    address = sub.get("address", str)
    # The same characters mail.py refuses in an address: caught here, not at send time.
    if not address or not re.fullmatch(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+", address):
        raise sub.fail("address", f"{address!r} is not an email address")
    language = sub.get("language", str, None)
    if language is not None and language not in LANGUAGES:
        raise sub.fail("language", f"{language!r} is not one of {', '.join(LANGUAGES)}")
    rec = Recipient(
        address=address,
        name=sub.get("name", str, ""),
        formats=_formats(sub, sub.get("formats", list, list(default_formats)), "formats"),
        language=language,
    )
    sub.finish()
    return rec


def _feeds(r: TableReader, values: list[Any], base: Path) -> tuple[FeedSource, ...]:
    feeds: dict[str, FeedSource] = {}
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise r.fail(f"feeds[{i}]", f"expected a file path or URL, got {value!r}")
        if re.match(r"^https?://", value):
            found: tuple[FeedSource, ...] = (FeedSource(url=value),)
        else:
            try:
                found = load_feed_list(feed_list_path(value, base))
            except ConfigError as exc:
                raise r.fail(f"feeds[{i}]", f"{exc.subject}: {exc.message}") from exc
        for f in found:
            feeds.setdefault(f.url, f)
    return tuple(feeds.values())
