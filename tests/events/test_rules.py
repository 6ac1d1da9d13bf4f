"""Keyword rules: words on word boundaries in any form, phrases, /regex/, include and exclude."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from digestcli import run, write_config

from digest.config import load_settings
from digest.errors import ConfigError
from digest.events import apply_rules
from digest.models import Article, FeedSource

WHEN = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def article(title: str, text: str = "", feed: str = "https://a.example/rss") -> Article:
    return Article(
        feed_url=feed,
        source="A",
        guid=title,
        url=f"https://a.example/{abs(hash(title))}",
        title=title,
        published=WHEN,
        text=text,
        language="en",
    )


def titles(articles: tuple[Article, ...]) -> list[str]:
    return [a.title for a in articles]


def test_exclude_matches_words_in_any_form_case_insensitive_on_word_boundaries() -> None:
    items = [
        article("Elections called in Spain"),
        article("Quiet day", "The ELECTION commission met."),
        article("Selectioneer praised"),  # 'election' inside another word: kept
        article("Weather"),
    ]
    outcome = apply_rules(items, exclude=["election"])
    assert titles(outcome.kept) == ["Selectioneer praised", "Weather"]
    assert outcome.removed == (("exclude election", 2),)
    assert outcome.removed_total == 2


def test_russian_forms_of_a_word_match() -> None:
    items = [
        article("Путину доложили об урожае"),
        article("Встреча с Путиным"),
        article("В Кремле рассказали о планах Путина"),
        article("Погода в Москве"),
    ]
    outcome = apply_rules(items, exclude=["Путин"])
    assert titles(outcome.kept) == ["Погода в Москве"]
    assert dict(outcome.removed) == {"exclude Путин": 3}


def test_a_phrase_matches_its_words_in_a_row_and_a_regex_as_written() -> None:
    items = [
        article("Talks on climate change resume"),
        article("Change of climate in the boardroom"),  # same words, another order: kept
        article("Bitcoin falls 10%"),
        article("Ethereum steady"),
    ]
    outcome = apply_rules(items, exclude=["climate change", "/bit-?coin|crypto/"])
    assert titles(outcome.kept) == ["Change of climate in the boardroom", "Ethereum steady"]
    assert dict(outcome.removed) == {"exclude climate change": 1, "exclude /bit-?coin|crypto/": 1}


def test_include_keeps_only_matches_and_exclude_wins() -> None:
    items = [
        article("Football: United win"),
        article("Footballers strike over football pay and betting"),
        article("Tennis final"),
    ]
    outcome = apply_rules(items, include=["football"], exclude=["betting"])
    assert titles(outcome.kept) == ["Football: United win"]
    assert dict(outcome.removed) == {"exclude betting": 1, "include (digest): no match": 1}


def test_feed_rules_apply_to_that_feeds_articles_only() -> None:
    sport = FeedSource(url="https://sport.example/rss", name="Sport", exclude=("golf",))
    news = FeedSource(url="https://news.example/rss", name="News", include=("budget",))
    items = [
        article("Golf open", feed=sport.url),
        article("Cup final", feed=sport.url),
        article("Golf club budget", feed=news.url),
        article("Storm warning", feed=news.url),
    ]
    outcome = apply_rules(items, feeds=[sport, news])
    assert titles(outcome.kept) == ["Cup final", "Golf club budget"]
    assert dict(outcome.removed) == {"exclude golf": 1, "include (News): no match": 1}


def test_no_rules_keep_everything() -> None:
    items = [article("One"), article("Two")]
    outcome = apply_rules(items)
    assert titles(outcome.kept) == ["One", "Two"] and outcome.removed == ()


def _config(tmp_path: Path, lines: str, feed_lines: str = "") -> Path:
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feed]]\nurl = "https://x.example/rss"\n{feed_lines}', encoding="utf-8")
    config = tmp_path / "digest.toml"
    config.write_text(f'[[digest]]\nname = "d"\nfeeds = ["feeds.toml"]\n{lines}', encoding="utf-8")
    return config


def test_rules_are_read_from_the_digest_and_the_feed_list(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        'include = ["budget", "/tax(es)?/"]\nexclude = ["football"]\n',
        'exclude = ["horoscope"]\n',
    )
    settings = load_settings(config, env={})
    d = settings.digests[0]
    assert d.include == ("budget", "/tax(es)?/") and d.exclude == ("football",)
    assert d.feeds[0].exclude == ("horoscope",)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('exclude = ["/(unclosed/"]', "digest[0].exclude[0]: /(unclosed/ is not a valid regular"),
        ('include = [""]', "digest[0].include[0]: expected a word, phrase or /regex/"),
        ('exclude = ["--"]', "digest[0].exclude[0]: '--' has no letters or digits"),
        ('exclude = "football"', "digest[0].exclude: expected a list"),
    ],
)
def test_bad_rules_are_config_errors_naming_the_key(
    tmp_path: Path, lines: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_config(tmp_path, lines + "\n"), env={})
    assert message in str(info.value)


def test_a_backtracking_regex_rule_gives_up_in_time_and_is_reported(tmp_path: Path) -> None:
    # `exclude = ["/(a+)+$/"]` and an item of 40 "a" and "!": killed after 120 s (29 "a":
    # 27.6 s); in the service it blocked the one worker and every job behind it.
    trap = "a" * 40 + "!"
    an_hour_ago = format_datetime(datetime.now(UTC) - timedelta(hours=1))
    (tmp_path / "trap.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Trap</title>'
        "<link>https://trap.example/</link><description>t</description>"
        f"<item><title>{trap}</title><link>https://trap.example/1</link>"
        f"<pubDate>{an_hour_ago}</pubDate>"
        f"<description>{trap}</description></item></channel></rss>",
        encoding="utf-8",
    )
    rules = 'exclude = ["/(a+)+$/", "/(a|aa)+$/", "/^(\\\\w+\\\\s?)*$/"]\nsend_empty = true'
    trap_feed = '\n[[feed]]\nurl = "trap.xml"\nname = "Trap"\nfull_text = "never"\n'
    config = write_config(tmp_path, rules, feeds=trap_feed)
    started = time.monotonic()
    done = run(config, "--no-send")
    assert time.monotonic() - started < 60
    assert done.returncode == 1, done.stdout + done.stderr
    said = done.stdout + done.stderr
    assert "rules: /(a|aa)+$/: a search took over 0.25s (on 'aaaa" in said
    assert "skipped for the rest of this run" in said
    assert "(a+)+$/: a search" not in said  # the regex engine needs no time limit for this one
