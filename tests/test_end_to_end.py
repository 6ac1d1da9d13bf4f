"""End to end: the sample feeds served by a real local HTTP server, `digest run` as a user runs it."""

from __future__ import annotations

import email
import email.policy
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from httpserver import LOOPBACK_FETCH
from pypdf import PdfReader

from digest.config.feedlists import load_feed_list
from digest.config.settings import SAMPLES_DIR

AS_OF = "2018-10-27T07:00:00+00:00"


def digest_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def served_config(tmp_path: Path, serve_dir: Callable[[Path], str], extra_feeds: str = "") -> Path:
    site = tmp_path / "site"
    shutil.copytree(SAMPLES_DIR, site)
    (site / "broken.xml").write_text("<rss><channel><item><title>oops", encoding="utf-8")
    base = serve_dir(site)
    lines = []
    for feed in load_feed_list(SAMPLES_DIR / "samples.toml"):
        tags = ", ".join(f'"{t}"' for t in feed.tags)
        lines.append(
            f'[[feed]]\nurl = "{base}/{Path(feed.url).name}"\nname = "{feed.name}"\n'
            f'tags = [{tags}]\nfull_text = "never"\n'
        )
    lines.append(extra_feeds.replace("BASE", base))
    (tmp_path / "feeds.toml").write_text("\n".join(lines), encoding="utf-8")
    config = tmp_path / "digest.toml"
    config.write_text(
        """
outbox_dir = "outbox"
[[digest]]
name = "briefing"
title = "Morning Briefing"
feeds = ["feeds.toml"]
timezone = "Europe/London"
recipients = ["a@example.org", { address = "b@example.org", formats = ["html"] }]
"""
        + LOOPBACK_FETCH,
        encoding="utf-8",
    )
    return config


def parse_eml(path: Path) -> EmailMessage:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def headlines(db: Path) -> list[str]:
    with sqlite3.connect(db) as con:
        return [r[0] for r in con.execute("SELECT headline FROM digest_events ORDER BY id")]


def test_run_builds_pdf_html_and_mail_from_served_feeds(
    tmp_path: Path, serve_dir: Callable[[Path], str]
) -> None:
    config = served_config(tmp_path, serve_dir)
    data, out = tmp_path / "data", tmp_path / "out"
    result = digest_cli(
        "run",
        "--config",
        str(config),
        "--data-dir",
        str(data),
        "--out",
        str(out),
        "--as-of",
        AS_OF,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    shown = headlines(data / "digest.sqlite3")
    assert len(shown) >= 6

    pdf = out / "briefing-2018-10-27.pdf"
    pdf_text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    flat = " ".join(pdf_text.split())
    for headline in shown:
        assert " ".join(headline.split())[:40] in flat, headline
    assert "«" in flat and "Trump" in flat  # the seed article, its guillemets intact
    assert "AP Photo" not in flat and "Archival photo" not in flat

    html = (out / "briefing-2018-10-27.html").read_text(encoding="utf-8")
    for headline in shown:
        assert (
            headline.replace("&", "&amp;").replace("'", "&#39;")[:30] in html
            or headline[:30] in html
        ), headline
    assert "sources" in (out / "briefing-2018-10-27.txt").read_text(encoding="utf-8")

    emls = sorted((config.parent / "outbox").glob("*.eml"))
    assert len(emls) == 2
    full = parse_eml(next(p for p in emls if "a@example.org" in p.name))
    assert full.get_content_type() == "multipart/mixed"
    alternative, attachment = full.get_payload()  # type: ignore[misc]
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html"]
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename().endswith(".pdf")
    assert attachment.get_payload(decode=True).startswith(b"%PDF")
    html_only = parse_eml(next(p for p in emls if "b@example.org" in p.name))
    assert not any(p.get_content_type() == "application/pdf" for p in html_only.walk())

    with sqlite3.connect(data / "digest.sqlite3") as con:
        articles_before = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    again = digest_cli(
        "run",
        "--config",
        str(config),
        "--data-dir",
        str(data),
        "--out",
        str(out),
        "--as-of",
        AS_OF,
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    with sqlite3.connect(data / "digest.sqlite3") as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == articles_before
        assert con.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 2
    assert len(list((config.parent / "outbox").glob("*.eml"))) == 2  # sent once per period


def test_failing_feeds_are_reported_and_the_digest_still_built(
    tmp_path: Path, serve_dir: Callable[[Path], str]
) -> None:
    extra = (
        '[[feed]]\nurl = "BASE/missing.xml"\nname = "Gone"\n\n'
        '[[feed]]\nurl = "BASE/broken.xml"\nname = "Broken"\n'
    )
    config = served_config(tmp_path, serve_dir, extra)
    out = tmp_path / "out"
    result = digest_cli(
        "run",
        "--config",
        str(config),
        "--data-dir",
        str(tmp_path / "data"),
        "--out",
        str(out),
        "--as-of",
        AS_OF,
        "--no-send",
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    # The operator gets the names and errors on stderr ...
    assert "missing.xml" in result.stderr and "404" in result.stderr
    assert "broken.xml" in result.stderr
    assert "(2 failed, 0 waiting after earlier errors" in result.stdout
    assert (out / "briefing-2018-10-27.pdf").stat().st_size > 10_000
    # ... the subscribers only how many sources are missing.
    for part in ("txt", "html"):
        text = " ".join((out / f"briefing-2018-10-27.{part}").read_text("utf-8").split())
        assert "2 of 10 sources could not be reached" in text
        assert "missing.xml" not in text and "404" not in text and "not a feed" not in text
    pdf = "".join(p.extract_text() for p in PdfReader(out / "briefing-2018-10-27.pdf").pages)
    assert "2 of 10 sources could not be reached" in " ".join(pdf.split())
    assert "missing.xml" not in pdf and "404" not in pdf
    assert not (config.parent / "outbox").exists()  # --no-send sends nothing


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('schedule = "61 7 * * *"', 'digest[0].schedule: "61 7 * * *" is not a valid cron'),
        ('colour = "red"', "digest[0].colour: unknown key"),
        ('feeds = ["nope.toml"]', "nope.toml: feeds file not found"),
    ],
)
def test_bad_config_exits_2_with_one_line(tmp_path: Path, toml: str, expected: str) -> None:
    feeds = tmp_path / "feeds.toml"
    feeds.write_text('[[feed]]\nurl = "https://example.org/rss"\n', encoding="utf-8")
    lines = ['name = "x"', 'feeds = ["feeds.toml"]', toml]
    if toml.startswith("feeds"):
        lines.remove('feeds = ["feeds.toml"]')
    config = tmp_path / "bad.toml"
    config.write_text("[[digest]]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    result = digest_cli("run", "--config", str(config), "--data-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert expected in result.stderr and "bad.toml" in result.stderr


def test_demo_runs_offline_in_under_a_minute(tmp_path: Path) -> None:
    """What `make demo` runs, on a copy of examples/ so the outbox lands in tmp_path."""
    repo = Path(__file__).resolve().parent.parent
    examples = tmp_path / "examples"
    shutil.copytree(repo / "examples", examples)
    config = examples / "demo.toml"
    text = config.read_text(encoding="utf-8").replace('"../out"', '"../outbox"')
    config.write_text(text, encoding="utf-8")
    for name in ("demo-en.toml", "demo-ru.toml"):
        feeds = examples / name
        text = feeds.read_text(encoding="utf-8").replace(
            "../digest/feeds/samples/", f"{SAMPLES_DIR}/"
        )
        feeds.write_text(text, encoding="utf-8")
    started = datetime.now(UTC)
    for digest, as_of in (("briefing", AS_OF), ("svodka", "2019-11-19T09:00:00+03:00")):
        result = digest_cli(
            "run",
            "--config",
            str(config),
            "--data-dir",
            str(tmp_path / "data"),
            "--out",
            str(tmp_path / "out"),
            "--site",
            str(tmp_path / "out" / "site"),
            "--digest",
            digest,
            "--as-of",
            as_of,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert datetime.now(UTC) - started < timedelta(minutes=1)
    outputs = sorted(p.name for p in (tmp_path / "out").iterdir() if p.name != "site")
    assert outputs == [
        f"{stem}.{ext}"
        for stem in ("briefing-2018-10-27", "svodka-2019-11-19")
        for ext in ("epub", "html", "ics", "pdf", "txt")
    ]
    site = sorted(
        str(p.relative_to(tmp_path / "out" / "site"))
        for p in (tmp_path / "out" / "site").rglob("*.*")
    )
    assert site == [
        *(f"briefing/2018-10-27-0700.{ext}" for ext in ("epub", "html", "ics", "json", "pdf")),
        "briefing/calendar.ics",
        "briefing/feed.atom",
        "index.html",
        *(f"svodka/2019-11-19-0900.{ext}" for ext in ("epub", "html", "ics", "json", "pdf")),
        "svodka/calendar.ics",
        "svodka/feed.atom",
    ]
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 3
    english = (tmp_path / "out" / "briefing-2018-10-27.txt").read_text(encoding="utf-8")
    coming_up = english[english.index("COMING UP") :]
    assert "6 Nov" in coming_up and "11 Nov" in coming_up  # the seed article's two items
    assert "sources:" in english  # multi-source events
    russian = " ".join(
        p.extract_text() for p in PdfReader(tmp_path / "out" / "svodka-2019-11-19.pdf").pages
    )
    assert "Украин" in russian and "2 источника" in russian
