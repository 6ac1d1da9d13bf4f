"""Every config value is range-checked at load: one line naming file and key, exit 2.

The values that once crashed it go through the real command (`digest serve` at start-up, where a
traceback and exit 1 made systemd's Restart=on-failure loop); the rest in-process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from badconfig import BAD_VALUES, case_id, write_config

from digest.config import load_settings
from digest.errors import ConfigError


def test_start_up_refuses_each_bad_value_in_one_line(tmp_path: Path) -> None:
    # All at once: each is a separate `digest serve` process, and they only wait on imports.
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    started = []
    for i, (top, digest, key) in enumerate(BAD_VALUES):
        root = tmp_path / str(i)
        root.mkdir()
        config = write_config(root, top, digest)
        cmd = [sys.executable, "-m", "digest", "serve", "--config", str(config)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        started.append((case_id((top, digest, key)), root, config, key, proc))
    for name, root, config, key, proc in started:
        _out, err = proc.communicate(timeout=120)
        text = err.decode()
        assert proc.returncode == 2, (name, text)
        assert text.count("\n") == 1, (name, text)  # one line, no traceback
        assert text.startswith(f"error: config: {config}: "), (name, text)
        assert key in text, (name, text)
        assert not (root / "data").exists()  # refused before anything was opened


@pytest.mark.parametrize(
    ("top", "digest", "message"),
    [
        ('fetch_every = "-1s"', "", "fetch_every: '-1s' is not a duration"),
        ("fetch_every = 0", "", "fetch_every: expected a duration from 1s to 36500d, got 0"),
        ("fetch_every = -9223372036854775808", "", "fetch_every: expected a duration"),
        ('keep = "7d"', "", "keep: expected a duration from 8d to 36500d"),
        ('keep = "36501d"', "", "keep: '36501d' is too long: at most 36500d"),
        ("", 'catch_up_grace = "32d"', "catch_up_grace: expected a duration from 0s to 31d"),
        ('[smtp]\nhost = "h"\nretry_deadline = "0s"', "", "smtp.retry_deadline"),
        ('[smtp]\nhost = "h"\nport = 65536', "", "smtp.port: expected a whole number from 1"),
        ('[smtp]\nhost = "h"\ntimeout = nan', "", "smtp.timeout: expected a number more than 0"),
        ("[fetch]\nconnect_timeout = 0.0", "", "fetch.connect_timeout"),
        ("[fetch]\ntimeout = inf", "", "fetch.timeout"),
        ("[fetch]\nmax_redirects = 101", "", "fetch.max_redirects"),
        ("[fetch]\nmax_bytes = 0", "", "fetch.max_bytes"),
        ("[fetch]\nconcurrency = 9223372036854775807", "", "fetch.concurrency"),
        ("[fetch]\nfull_text_min_chars = -1", "", "fetch.full_text_min_chars"),
        ("", "attachment_limit_mb = 0", "attachment_limit_mb: expected a number more than 0"),
        ("", "attachment_limit_mb = -inf", "attachment_limit_mb"),
        ("", "max_events = 0", "max_events"),
        ("", "summary_sentences = 100", "summary_sentences"),
        ("", "tag_weights = { world = nan }", "tag_weights.world"),
        ("", 'templates_dir = "a\\u0000b"', "templates_dir: contains a NUL character"),
        ("", 'timezone = "' + "x" * 5000 + '"', "timezone"),
        ("", 'unsubscribe = "http://example.org/u"', "unsubscribe: 'http://example.org/u'"),
        ("", 'unsubscribe = "data:text/html,x"', "unsubscribe"),
        ("", 'unsubscribe = "mailto:a@example.org javascript:x"', "'javascript:x'"),
        ("", 'unsubscribe = "https://"', "unsubscribe"),
    ],
)
def test_out_of_range_values_name_file_and_key(
    tmp_path: Path, top: str, digest: str, message: str
) -> None:
    config = write_config(tmp_path, top, digest)
    with pytest.raises(ConfigError) as err:
        load_settings(config, env={})
    assert str(err.value).startswith(f"config: {config}: ")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_smtp_port_from_the_environment_is_checked(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[smtp]\nhost = "h"')
    with pytest.raises(ConfigError, match=r"smtp\.port: expected a whole number from 1 to 65535"):
        load_settings(config, env={"DIGEST_SMTP_PORT": "0"})


def test_feed_list_weight_must_be_finite(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    (tmp_path / "feeds.toml").write_text('[[feed]]\nurl = "feed.xml"\nweight = nan\n')
    with pytest.raises(ConfigError, match=r"feeds\.toml: feed\[0\]\.weight: expected a number"):
        load_settings(config, env={})


def test_deeply_nested_feed_list_is_a_config_error(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    (tmp_path / "feeds.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_settings(config, env={})


def test_values_at_the_edges_of_their_ranges_load(tmp_path: Path) -> None:
    top = (
        'fetch_every = "1s"\nkeep = "8d"\n[fetch]\nmax_redirects = 0\ntimeout = 0.5\n'
        '[smtp]\nhost = "h"\nport = 65535'
    )
    digest = (
        'window = "36500d"\ncatch_up_grace = "0s"\nattachment_limit_mb = 0.5\n'
        'unsubscribe = "mailto:unsub@example.org, <https://example.org/u?id=1> a@example.org"'
    )
    s = load_settings(write_config(tmp_path, top, digest), env={})
    d = s.digests[0]
    assert (s.fetch_every, s.keep) == (timedelta(seconds=1), timedelta(days=8))
    assert (s.fetch.max_redirects, s.fetch.timeout) == (0, 0.5)
    assert s.smtp is not None and s.smtp.port == 65535
    assert (d.window, d.catch_up_grace) == (timedelta(days=36500), timedelta(0))
    assert d.attachment_limit == 512 * 1024
    assert d.unsubscribe is not None and d.unsubscribe.startswith("mailto:unsub@")


def test_deeply_nested_opml_is_a_config_error(tmp_path: Path) -> None:
    opml = tmp_path / "feeds.opml"
    deep = '<outline text="x">' * 5000 + "</outline>" * 5000
    opml.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>{deep}</body></opml>')
    config = write_config(tmp_path, "", "").read_text().replace("feeds.toml", "feeds.opml")
    (tmp_path / "digest.toml").write_text(config)
    with pytest.raises(ConfigError, match="outlines nested too deeply"):
        load_settings(tmp_path / "digest.toml", env={})
