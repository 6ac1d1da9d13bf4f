"""End to end over the bundled sample feeds: keyword rules, the archive site and the formats."""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import icalendar

from digest.config import load_settings
from digest.config.settings import SAMPLES_DIR
from digest.pipeline import Deps, RunOptions, run_once
from digest.store.database import open_store

NOW = datetime(2018, 10, 27, 7, 0, tzinfo=UTC)
STORY = "Klitschko"


def config(tmp_path: Path, extra: str = "", feed_extra: str = "") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    feeds = tmp_path / "feeds.toml"
    # The samples' own list, with the world wire's feed carrying feed_extra.
    text = (SAMPLES_DIR / "samples.toml").read_text(encoding="utf-8")
    text = text.replace('url = "', f'url = "{SAMPLES_DIR}/')
    text = text.replace(
        'name = "World Wire (sample)"\n', f'name = "World Wire (sample)"\n{feed_extra}'
    )
    feeds.write_text(text, encoding="utf-8")
    path = tmp_path / "digest.toml"
    path.write_text(
        f'outbox_dir = "outbox"\n[[digest]]\nname = "briefing"\ntitle = "Briefing"\n'
        f'feeds = ["feeds.toml"]\n{extra}',
        encoding="utf-8",
    )
    return path


def build(tmp_path: Path, extra: str = "", feed_extra: str = "", send: bool = False) -> str:
    settings = load_settings(
        config(tmp_path, extra, feed_extra), data_dir=tmp_path / "data", env={}
    )
    store = open_store(settings.storage_url)
    report = run_once(
        settings,
        settings.digests[0],
        store,
        NOW,
        Deps(),
        RunOptions(send=send, out_dir=tmp_path / "out"),
    )
    assert report.ok, report.failures
    return (tmp_path / "out" / "briefing-2018-10-27.txt").read_text(encoding="utf-8")


def test_an_exclude_rule_removes_a_story_and_the_report_says_so(tmp_path: Path) -> None:
    assert STORY in build(tmp_path / "plain")
    path = config(tmp_path, f'exclude = ["{STORY}", "/greek riots?/"]\n')
    result = subprocess.run(
        [sys.executable, "-m", "digest", "run", "--no-send", "--config", str(path), "--data-dir",
         str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--as-of", NOW.isoformat()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "out" / "briefing-2018-10-27.txt").read_text(encoding="utf-8")
    assert STORY not in text
    assert f"removed by exclude {STORY}: " in result.stdout
    # One of the four articles on the Greek riots says "riots": it goes, the story stays.
    assert "removed by exclude /greek riots?/: 1 article" in result.stdout
    assert "Greek" in text


def test_a_feed_rule_applies_to_its_feed_and_is_reported(tmp_path: Path) -> None:
    settings = load_settings(
        config(tmp_path, feed_extra='include = ["/zzz-never/"]\n'),
        data_dir=tmp_path / "data",
        env={},
    )
    report = run_once(
        settings,
        settings.digests[0],
        open_store(settings.storage_url),
        NOW,
        Deps(),
        RunOptions(send=False, out_dir=tmp_path / "out"),
    )
    removed = report.count("removed by include (World Wire (sample)): no match")
    assert removed > 0 and report.count("filtered") == removed
    assert report.count("articles") > 0  # the other feeds' articles stay


def test_a_run_publishes_the_site_writes_epub_and_ics_and_mails_them(tmp_path: Path) -> None:
    extra = (
        'formats = ["pdf", "html", "epub", "ics"]\n'
        'recipients = [{ address = "a@example.org", formats = ["html", "epub", "ics"] },'
        ' { address = "b@example.org", formats = ["html"] }]\n'
    )
    build(tmp_path, extra, send=True)
    out = tmp_path / "out"
    for ext in ("pdf", "epub", "ics", "html"):
        assert (out / f"briefing-2018-10-27.{ext}").is_file(), ext
    site = tmp_path / "data" / "site"
    page = site / "briefing" / "2018-10-27-0700"
    for ext in ("html", "pdf", "epub", "ics", "json"):
        assert page.with_suffix(f".{ext}").is_file(), ext
    assert "briefing/2018-10-27-0700.html" in (site / "index.html").read_text(encoding="utf-8")
    feed = feedparser.parse((site / "briefing" / "feed.atom").read_bytes())
    assert not feed.bozo and len(feed.entries) == 1
    cal = icalendar.Calendar.from_ical(page.with_suffix(".ics").read_bytes())
    uids = [str(e["uid"]) for e in cal.walk("VEVENT")]
    assert uids
    attachments = {}
    for eml in (tmp_path / "outbox").glob("*.eml"):
        msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        attachments[str(msg["To"])] = sorted(p.get_content_type() for p in msg.iter_attachments())
    assert attachments == {
        "a@example.org": ["application/epub+zip", "text/calendar"],
        "b@example.org": [],
    }
    # The same period built again: the same page, the same calendar UIDs, one feed entry.
    build(tmp_path, extra)
    again = icalendar.Calendar.from_ical(page.with_suffix(".ics").read_bytes())
    assert [str(e["uid"]) for e in again.walk("VEVENT")] == uids
    feed = feedparser.parse((site / "briefing" / "feed.atom").read_bytes())
    assert len(feed.entries) == 1


def test_a_site_that_cannot_be_written_is_a_failure_but_the_mail_still_goes(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the site should go", encoding="utf-8")
    settings = load_settings(
        config(tmp_path, 'recipients = ["a@example.org"]\n'), data_dir=tmp_path / "data", env={}
    )
    report = run_once(
        settings,
        settings.digests[0],
        open_store(settings.storage_url),
        NOW,
        Deps(),
        RunOptions(out_dir=tmp_path / "out", site_dir=blocker),
    )
    assert [f.stage for f in report.failures] == ["site"]
    assert str(blocker) in str(report.failures[0])
    assert [d.status for d in report.deliveries] == ["written"]
    assert (tmp_path / "out" / "briefing-2018-10-27.pdf").is_file()


def test_a_digest_that_cannot_be_rendered_publishes_nothing_and_says_why(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "email.txt.j2").write_text("{{ no_such_variable }}", encoding="utf-8")
    settings = load_settings(
        config(tmp_path, 'templates_dir = "broken"\n'), data_dir=tmp_path / "data", env={}
    )
    report = run_once(
        settings,
        settings.digests[0],
        open_store(settings.storage_url),
        NOW,
        Deps(),
        RunOptions(send=False, out_dir=tmp_path / "out"),
    )
    # The render failure itself, not a second attempt at rendering for the site.
    assert [f.stage for f in report.failures] == ["render"]
    assert "no_such_variable" in str(report.failures[0])
    assert not (tmp_path / "data" / "site").exists()
