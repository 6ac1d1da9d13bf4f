from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from httpserver import LOOPBACK_FETCH

from digest.config import load_settings
from digest.config.settings import SAMPLES_DIR
from digest.models import Event, EventSummary
from digest.pipeline import Deps, RunOptions, fetch_once, run_once, sources_for
from digest.store.database import open_store

NOW = datetime(2018, 10, 27, 7, 0, tzinfo=UTC)
RU_NOW = datetime(2019, 11, 19, 6, 0, tzinfo=UTC)  # the Russian sample items' morning


def test_a_feed_in_two_digests_takes_each_digests_tags(tmp_path: Path) -> None:
    feed = SAMPLES_DIR / "ru-portal-a.xml"
    for name, tag in (("a.toml", "Alpha section"), ("b.toml", "Beta section")):
        (tmp_path / name).write_text(
            f'[[feed]]\nurl = "{feed}"\nname = "Portal"\ntags = ["{tag}"]\nweight = 2\n',
            encoding="utf-8",
        )
    config = tmp_path / "digest.toml"
    config.write_text(
        '[[digest]]\nname = "a"\nfeeds = ["a.toml"]\n\n[[digest]]\nname = "b"\nfeeds = ["b.toml"]\n'
        + LOOPBACK_FETCH,
        encoding="utf-8",
    )
    settings = load_settings(config, data_dir=tmp_path / "data", env={})
    store = open_store(settings.storage_url)
    ingest = fetch_once(
        settings, store, sources_for(settings, store, settings.digests), RU_NOW, Deps()
    )
    assert ingest.new_articles == 1 and not ingest.failures
    texts = {}
    for d in settings.digests:
        report = run_once(
            settings,
            d,
            store,
            RU_NOW,
            Deps(),
            RunOptions(send=False, out_dir=tmp_path),
            ingest_report=ingest,
        )
        assert report.ok and report.count("events") == 1
        # 06:00 UTC is before the 07:00 schedule: the period (and the file) is the 18th's.
        texts[d.name] = (tmp_path / f"{d.name}-2019-11-18.txt").read_text(encoding="utf-8")
    assert "ALPHA SECTION" in texts["a"].upper() and "BETA" not in texts["a"].upper()
    assert "BETA SECTION" in texts["b"].upper() and "ALPHA" not in texts["b"].upper()


def test_lead_images_are_fetched_over_http_and_embedded(
    tmp_path: Path, serve_dir: Callable[[Path], str]
) -> None:
    from PIL import Image
    from pypdf import PdfReader

    site = tmp_path / "site"
    site.mkdir()
    Image.new("RGB", (320, 200), (200, 40, 40)).save(site / "lead.png")
    base = serve_dir(site)
    (site / "feed.xml").write_text(
        f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Pics</title>
<item><title>Harbour reopens after storm</title><link>{base}/a</link><guid>a</guid>
<pubDate>Sat, 27 Oct 2018 05:00:00 GMT</pubDate>
<enclosure url="{base}/lead.png" type="image/png" length="1000"/>
<description>The harbour reopened on Saturday after the storm closed it for two days.
Ferries resumed their crossings in the afternoon.</description></item>
<item><title>Bridge closed</title><link>{base}/b</link><guid>b</guid>
<pubDate>Sat, 27 Oct 2018 04:00:00 GMT</pubDate>
<enclosure url="{base}/missing.png" type="image/png" length="1000"/>
<description>The old bridge was closed for repairs on Saturday morning.</description></item>
</channel></rss>""",
        encoding="utf-8",
    )
    config = tmp_path / "digest.toml"
    config.write_text(
        f'[[digest]]\nname = "pics"\nfeeds = ["{base}/feed.xml"]\nimages = true\n' + LOOPBACK_FETCH,
        encoding="utf-8",
    )
    settings = load_settings(config, data_dir=tmp_path / "data", env={})
    store = open_store(settings.storage_url)
    report = run_once(
        settings, settings.digests[0], store, NOW, Deps(), RunOptions(send=False, out_dir=tmp_path)
    )
    assert report.ok, report.failures
    pdf = PdfReader(tmp_path / "pics-2018-10-27.pdf")
    images = [image for page in pdf.pages for image in page.images]
    assert len(images) == 1  # the missing picture is skipped, the build goes on


def _item(base: str, guid: str, title: str, when: str, text: str) -> str:
    return (
        f"<item><title>{title}</title><link>{base}/{guid}</link><guid>{guid}</guid>"
        f"<pubDate>{when}</pubDate><description>{text}</description></item>"
    )


def test_a_story_shown_yesterday_is_marked_developing_today(tmp_path: Path) -> None:
    """Two real runs a day apart; the second starts earlier in its minute than the first."""
    feed = tmp_path / "feed.xml"
    base = "https://news.example"
    day1 = _item(
        base,
        "a1",
        "Volcano erupts on Mount Tavurvur near Rabaul",
        "Fri, 26 Oct 2018 20:00:00 GMT",
        "Mount Tavurvur erupted near Rabaul in Papua New Guinea on Friday, "
        "forcing the evacuation of villages around Rabaul harbour.",
    )
    day2 = _item(
        base,
        "a2",
        "Rabaul evacuation widens as Tavurvur volcano keeps erupting",
        "Sat, 27 Oct 2018 20:00:00 GMT",
        "The Tavurvur eruption near Rabaul in Papua New Guinea continued on Saturday, "
        "and officials widened the evacuation around Rabaul harbour.",
    )
    (tmp_path / "feeds.toml").write_text(f'[[feed]]\nurl = "{feed}"\n', encoding="utf-8")
    config = tmp_path / "digest.toml"
    config.write_text(
        '[[digest]]\nname = "d"\nfeeds = ["feeds.toml"]\nrecipients = ["a@example.org"]\n',
        encoding="utf-8",
    )
    settings = load_settings(config, data_dir=tmp_path / "data", env={})
    store = open_store(settings.storage_url)
    texts = []
    for items, now in (
        (day1, datetime(2018, 10, 27, 7, 0, 5, tzinfo=UTC)),
        (day1 + day2, datetime(2018, 10, 28, 7, 0, 0, tzinfo=UTC)),
    ):
        feed.write_text(
            f'<rss version="2.0"><channel><title>N</title>{items}</channel></rss>', encoding="utf-8"
        )
        report = run_once(
            settings, settings.digests[0], store, now, Deps(), RunOptions(out_dir=tmp_path / "out")
        )
        assert report.ok, report.failures
        texts.append((tmp_path / "out" / f"d-{now:%Y-%m-%d}.txt").read_text(encoding="utf-8"))
    assert "Developing since" not in texts[0]
    assert "Developing since 26 Oct" in texts[1]


def test_one_broken_digest_does_not_stop_the_next(tmp_path: Path) -> None:
    broken = tmp_path / "broken-templates"
    broken.mkdir()
    (broken / "email.txt.j2").write_text("{{ 1 // 0 }}", encoding="utf-8")
    (tmp_path / "feeds.toml").write_text(
        f'[[feed]]\nurl = "{SAMPLES_DIR / "world-wire.xml"}"\n', encoding="utf-8"
    )
    config = tmp_path / "digest.toml"
    config.write_text(
        '[[digest]]\nname = "a"\nfeeds = ["feeds.toml"]\ntemplates_dir = "broken-templates"\n\n'
        '[[digest]]\nname = "b"\nfeeds = ["feeds.toml"]\n',
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "digest",
            "run",
            "-c",
            str(config),
            "--data-dir",
            str(tmp_path / "data"),
            "--out",
            str(tmp_path / "out"),
            "--as-of",
            "2018-10-27T07:00:00Z",
            "--no-send",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    # --quiet: nothing on stdout; the one failure, named, on stderr, and the bug's stack
    # before it (logged where the error became a Failure).
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("digest: a: run: a: ZeroDivisionError")
    assert lines[0] == "digest: run: a: ZeroDivisionError: integer division or modulo by zero"
    assert lines[1] == "Traceback (most recent call last):"
    assert any("1 // 0" in line or "ZeroDivisionError" in line for line in lines[2:-1])
    assert (tmp_path / "out" / "b-2018-10-27.pdf").is_file()
    assert not (tmp_path / "out" / "a-2018-10-27.txt").exists()


def test_a_message_the_runs_own_retry_sent_is_not_reported_as_already_sent(
    tmp_path: Path,
) -> None:
    from smtpserver import SmtpServer

    from digest.pipeline import run_digests

    server = SmtpServer(tmp_path, mode="none").start()
    server.handler.data_replies.append("451 4.3.0 mailbox busy")
    try:
        config = tmp_path / "digest.toml"
        config.write_text(
            f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n\n'
            '[[digest]]\nname = "morning"\nfeeds = ["builtin:samples"]\n'
            'recipients = ["a@example.org"]\n',
            encoding="utf-8",
        )
        settings = load_settings(config, data_dir=tmp_path / "data", env={})
        store = open_store(settings.storage_url)
        wall = [datetime(2026, 11, 30, 6, 0, tzinfo=UTC)]
        deps = Deps(clock=lambda: wall[0])
        options = RunOptions(out_dir=tmp_path / "out")
        _, (first,) = run_digests(settings, store, settings.digests, options, NOW, deps)
        wall[0] = datetime(2026, 11, 30, 6, 5, tzinfo=UTC)  # the retry is due
        _, reports = run_digests(settings, store, settings.digests, options, NOW, deps)
    finally:
        server.stop()
    assert [x.status for x in first.deliveries] == ["retry"]
    # The period's own run sent it: this run's news, not "already sent", not a retry report.
    (again,) = reports
    (delivery,) = again.deliveries
    assert (delivery.status, delivery.earlier_at) == ("sent", None)
    assert (again.delivered, again.already_delivered, again.delivery) == (1, 0, "complete")
    assert server.handler.count("a@example.org") == 1


class _BrokenSummarizer:
    """A summarizer with a bug: every event raises."""

    def summarize(self, event: Event, *, sentences: int, now: datetime) -> EventSummary:
        return _buggy_step(event)


def _buggy_step(event: Event) -> EventSummary:
    raise KeyError(f"no such field in {event.key}")


def test_an_unexpected_error_keeps_its_stack_in_the_log_and_the_report(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "feeds.toml").write_text(
        f'[[feed]]\nurl = "{SAMPLES_DIR / "world-wire.xml"}"\n', encoding="utf-8"
    )
    config = tmp_path / "digest.toml"
    config.write_text('[[digest]]\nname = "d"\nfeeds = ["feeds.toml"]\n', encoding="utf-8")
    settings = load_settings(config, data_dir=tmp_path / "data", env={})
    store = open_store(settings.storage_url)
    now = datetime(2018, 10, 27, 7, 0, tzinfo=UTC)
    with caplog.at_level(logging.ERROR, logger="digest"):
        report = run_once(
            settings,
            settings.digests[0],
            store,
            now,
            Deps(summarizer=_BrokenSummarizer()),
            RunOptions(out_dir=tmp_path / "out", send=False),
        )
    failures = [f for f in report.failures if f.stage == "summarize"]
    assert failures, report.failures
    assert failures[0].message.startswith("KeyError: ")
    # The report keeps where the bug is, not only what it said ...
    assert "_buggy_step" in failures[0].trace
    assert failures[0].trace.startswith("Traceback (most recent call last):")
    # ... and so does the log, once per failed event.
    logged = [r for r in caplog.records if r.name == "digest.summarize" and r.exc_info]
    assert len(logged) == len(failures)
