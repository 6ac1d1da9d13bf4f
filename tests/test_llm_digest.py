"""summarizer = "llm" end to end: config, pipeline, report counts, cache, and no key anywhere."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from llmserver import Scripted, chat_server, summary
from pypdf import PdfReader

from digest.config import load_settings
from digest.models import RunReport
from digest.pipeline import Deps, RunOptions, run_once
from digest.store import open_store

NOW = datetime(2013, 6, 7, 7, 0, tzinfo=UTC)
KEY = "sk-live-do-not-leak-7f3a"
FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link>
<item><title>Esther Williams dies at 91</title><link>https://wire.example/williams</link>
<guid>williams</guid><pubDate>Thu, 06 Jun 2013 22:00:00 GMT</pubDate>
<description>Esther Williams, the champion swimmer who became a Hollywood star, died on
Thursday in Beverly Hills, California, at the age of 91, her spokesman said. She starred in
Million Dollar Mermaid in 1952 and made 26 films for MGM.</description></item>
</channel></rss>"""


def _config(tmp_path: Path, base_url: str) -> Path:
    (tmp_path / "wire.xml").write_text(FEED, encoding="utf-8")
    (tmp_path / "feeds.toml").write_text('[[feed]]\nurl = "wire.xml"\nname = "Wire"\n')
    config = tmp_path / "digest.toml"
    config.write_text(
        f"""
[llm]
base_url = "{base_url}"
model = "test-model"
api_key_env = "TEST_LLM_KEY"

[[digest]]
name = "morning"
feeds = ["feeds.toml"]
summarizer = "llm"
formats = ["pdf", "html"]
""",
        encoding="utf-8",
    )
    return config


def test_generated_summaries_are_counted_cached_and_never_leak_the_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    good = summary(
        "Esther Williams dies at 91",
        "Esther Williams died on Thursday in Beverly Hills at the age of 91.",
    )
    with chat_server([good]) as server, httpx.Client() as client:
        settings = load_settings(
            _config(tmp_path, server.base_url),
            data_dir=tmp_path / "data",
            env={"TEST_LLM_KEY": KEY},
        )
        store = open_store(settings.storage_url)
        d = settings.digest("morning")
        deps = Deps(llm_client=client)
        first = run_once(
            settings, d, store, NOW, deps, RunOptions(send=False, out_dir=tmp_path / "a")
        )
        again = run_once(
            settings, d, store, NOW, deps, RunOptions(send=False, out_dir=tmp_path / "b")
        )
        store.close()
    assert first.ok and first.count("llm_generated") == 1 and first.count("events") == 1
    assert again.count("llm_cached") == 1 and len(server.requests) == 1  # no new call
    assert server.requests[0][0]["Authorization"] == f"Bearer {KEY}"
    text = (tmp_path / "a" / "morning-2013-06-07.txt").read_text(encoding="utf-8")
    assert "died on Thursday in Beverly Hills at the age of 91" in text
    assert "Summary written by test-model and checked against the sources" in text
    html = (tmp_path / "a" / "morning-2013-06-07.html").read_text(encoding="utf-8")
    assert "Summary written by test-model" in html
    pdf = "".join(
        p.extract_text() for p in PdfReader(tmp_path / "a" / "morning-2013-06-07.pdf").pages
    )
    assert "Summary written by test-model" in " ".join(pdf.split())
    leaks = [
        first.to_json(), again.to_json(), caplog.text, repr(settings), text, html,
        (tmp_path / "data" / "digest.sqlite3").read_bytes().decode("latin-1"),
    ]  # fmt: skip
    assert not [x for x in leaks if KEY in x]
    assert RunReport.from_json(first.to_json()).count("llm_generated") == 1


def test_llm_summarizer_without_an_llm_table_is_a_config_error(tmp_path: Path) -> None:
    from digest.errors import ConfigError

    (tmp_path / "d.toml").write_text(
        '[[digest]]\nname = "m"\nfeeds = ["https://wire.example/feed"]\nsummarizer = "llm"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match='summarizer = "llm" needs an \\[llm\\] table'):
        load_settings(tmp_path / "d.toml", env={})


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('base_url = "ftp://x"\nmodel = "m"', "llm.base_url: expected an http"),
        ('base_url = "http://x/v1"\nmodel = "m"\napi_key = "sk"', "llm.api_key: not allowed"),
        ('base_url = "http://x/v1"\nmodel = "m"\napi_key_env = "NOPE"', "NOPE is not set"),
        ('base_url = "http://x/v1"\nmodel = "m"\ntemperature = nan', "llm.temperature: expected"),
        ('base_url = "http://x/v1"\nmodel = "m"\nconcurrency = 0', "llm.concurrency: expected"),
    ],
)
def test_bad_llm_settings_name_the_key(tmp_path: Path, table: str, message: str) -> None:
    from digest.errors import ConfigError

    (tmp_path / "d.toml").write_text(
        f'[llm]\n{table}\n\n[[digest]]\nname = "m"\nfeeds = ["https://wire.example/feed"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=message):
        load_settings(tmp_path / "d.toml", env={})


def test_doctor_checks_the_llm_endpoint(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    with chat_server([summary("ok", "ok"), Scripted(status=401)]) as server:
        config = _config(tmp_path, server.base_url)
        env = {**os.environ, "TEST_LLM_KEY": KEY, "DIGEST_DATA_DIR": str(tmp_path / "d")}
        run = [sys.executable, "-m", "digest", "doctor", "-c", str(config)]
        good = subprocess.run(run, capture_output=True, text=True, env=env, check=False)
        bad = subprocess.run(run, capture_output=True, text=True, env=env, check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    assert f"ok   llm {server.base_url} (test-model): answered" in good.stdout
    assert bad.returncode == 1 and "FAIL llm" in bad.stdout and "HTTP 401" in bad.stdout
    assert KEY not in good.stdout + good.stderr + bad.stdout + bad.stderr
