from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from digest.config import load_settings
from digest.config.feedlists import load_feed_list
from digest.config.tables import parse_duration
from digest.errors import ConfigError

FEEDS = """
[[feed]]
url = "local.xml"
name = "Local"
tags = ["world"]
full_text = "never"

[[feed]]
url = "https://example.org/rss"
weight = 2
"""


def write(tmp_path: Path, text: str, feeds: str = FEEDS) -> Path:
    (tmp_path / "feeds.toml").write_text(feeds, encoding="utf-8")
    path = tmp_path / "digest.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
data_dir = "data"
[smtp]
host = "mail.example.org"
port = 465
security = "tls"
username = "bot"
from = "Digest <digest@example.org>"
[[digest]]
name = "morning"
title = "Morning Briefing"
feeds = ["feeds.toml"]
schedule = "0 7 * * 1-5"
timezone = "Europe/Berlin"
window = "36h"
recipients = ["a@example.org", { address = "b@example.org", language = "ru", formats = ["html"] }]
"""


def test_loads_a_full_config(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, GOOD), env={"DIGEST_SMTP_PASSWORD": "s3cret"})
    d = s.digest("morning")
    assert s.data_dir == tmp_path / "data"
    assert s.storage_url == f"sqlite:///{tmp_path / 'data' / 'digest.sqlite3'}"
    assert s.smtp is not None and s.smtp.security == "tls" and s.smtp.password == "s3cret"
    assert d.window == timedelta(hours=36) and d.timezone == "Europe/Berlin"
    assert [f.name for f in d.feeds] == ["Local", ""]
    assert d.feeds[0].url == str(tmp_path / "local.xml") and d.feeds[0].tags == ("world",)
    assert d.feeds[1].weight == 2.0
    assert d.recipients[1].language == "ru" and d.recipients[1].formats == ("html",)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ('schedule = "0 7 * * 1-5"', "digest[0].schedule"),
        ('timezone = "Europe/Berlin"', "digest[0].timezone"),
        ('window = "36h"', "digest[0].window"),
        ('title = "Morning Briefing"', "digest[0].colour: unknown key"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, change: str, expected: str) -> None:
    bad = {
        'schedule = "0 7 * * 1-5"': 'schedule = "61 7 * * *"',
        'timezone = "Europe/Berlin"': 'timezone = "Mars/Olympus"',
        'window = "36h"': 'window = "soon"',
        'title = "Morning Briefing"': 'title = "x"\ncolour = "red"',
    }[change]
    path = write(tmp_path, GOOD.replace(change, bad))
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    message = str(err.value)
    assert message.startswith(f"config: {path}: ")
    assert expected in message
    assert "\n" not in message


def test_cron_error_message(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('"0 7 * * 1-5"', '"61 7 * * *"'))
    with pytest.raises(
        ConfigError, match=r'digest\[0\]\.schedule: "61 7 \* \* \*" is not a valid cron'
    ):
        load_settings(path, env={})


def test_missing_feeds_file_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('["feeds.toml"]', '["nope.toml"]'))
    with pytest.raises(
        ConfigError, match=r"digest\[0\]\.feeds\[0\]: .*nope\.toml: feeds file not found"
    ):
        load_settings(path, env={})


def test_password_in_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('username = "bot"', 'username = "bot"\npassword = "x"'))
    with pytest.raises(ConfigError, match=r"smtp\.password: not allowed in the file"):
        load_settings(path, env={})


def test_environment_overrides(tmp_path: Path) -> None:
    env = {
        "DIGEST_SMTP_HOST": "relay.local",
        "DIGEST_SMTP_PORT": "2525",
        "DIGEST_STORAGE_URL": "sqlite:////tmp/x.db",
    }
    s = load_settings(write(tmp_path, GOOD), env=env)
    assert s.smtp is not None and (s.smtp.host, s.smtp.port) == ("relay.local", 2525)
    assert s.storage_url == "sqlite:////tmp/x.db"


def test_data_dir_argument_wins(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, GOOD), data_dir=tmp_path / "elsewhere", env={})
    assert s.outbox_dir == tmp_path / "elsewhere" / "outbox"


def test_opml_feed_list(tmp_path: Path) -> None:
    opml = tmp_path / "feeds.opml"
    opml.write_text(
        """<?xml version="1.0"?><opml version="2.0"><head/><body>
      <outline text="World"><outline text="BBC" xmlUrl="https://bbc.example/rss"/></outline>
      <outline text="Solo" xmlUrl="https://solo.example/atom" category="tech"/>
    </body></opml>""",
        encoding="utf-8",
    )
    feeds = load_feed_list(opml)
    assert [(f.url, f.name, f.tags) for f in feeds] == [
        ("https://bbc.example/rss", "BBC", ("World",)),
        ("https://solo.example/atom", "Solo", ("tech",)),
    ]


def test_bad_toml_names_file(tmp_path: Path) -> None:
    path = tmp_path / "digest.toml"
    path.write_text("[[digest]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, env={})


def test_durations() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("2d") == timedelta(days=2)
    with pytest.raises(ValueError):
        parse_duration("tomorrow")


def test_recipient_addresses_and_default_formats(tmp_path: Path) -> None:
    bad = GOOD.replace('"a@example.org"', '"a@example.org, c@example.org"')
    with pytest.raises(ConfigError, match=r"recipients\[0\]\.address: .* is not an email address"):
        load_settings(write(tmp_path, bad), env={})
    html_only = GOOD.replace('window = "36h"', 'window = "36h"\nformats = ["html"]')
    d = load_settings(write(tmp_path, html_only), env={}).digests[0]
    assert d.recipients[0].formats == ("html",)  # a recipient inherits the digest's formats


def test_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "digest.example.toml"
    s = load_settings(example, env={"DIGEST_SMTP_PASSWORD": "x"})
    assert s.digests[0].name == "morning" and len(s.digests[0].feeds) >= 15


def test_feeds_are_joined_once_per_url_and_the_first_definition_wins() -> None:
    from digest.config import union_feeds
    from digest.models import FeedSource

    a = FeedSource("https://a.example/feed", name="A", tags=("world",))
    a_again = FeedSource("https://a.example/feed", name="A as added", tags=("other",))
    b = FeedSource("https://b.example/feed", name="B")
    assert union_feeds([a, b], [a_again, b], []) == (a, b)
    assert union_feeds([], [a_again], [a]) == (a_again,)
