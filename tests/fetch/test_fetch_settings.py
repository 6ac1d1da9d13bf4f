"""[fetch] settings of the address guard and page budget: allow_private, page_budget,
pages_per_feed, and the deprecated block_private_addresses."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from digest.config import load_settings
from digest.config.settings import FetchSettings
from digest.errors import ConfigError


def _config(tmp_path: Path, fetch: str) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(
        f'[fetch]\n{fetch}\n\n[[digest]]\nname = "m"\nfeeds = ["https://e.org/rss"]\n',
        encoding="utf-8",
    )
    return path


def test_defaults_refuse_every_private_network() -> None:
    d = FetchSettings()
    assert d.allow_private == () and d.page_budget == 120.0 and d.pages_per_feed == 50


def test_allow_private_page_budget_and_cap_load(tmp_path: Path) -> None:
    text = (
        'allow_private = ["127.0.0.1/8", "10.0.0.0/8", "::1"]\npage_budget = 30\npages_per_feed = 5'
    )
    s = load_settings(_config(tmp_path, text), env={}).fetch
    assert s.allow_private == ("127.0.0.1/8", "10.0.0.0/8", "::1")
    assert s.page_budget == 30.0 and s.pages_per_feed == 5


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('allow_private = ["intranet"]', "fetch.allow_private: 'intranet' is not a network"),
        ('allow_private = "10.0.0.0/8"', "fetch.allow_private: expected a list"),
        ("page_budget = 0", "fetch.page_budget: expected a positive number of seconds"),
        ("page_budget = nan", "fetch.page_budget: expected a positive number of seconds"),
        ("page_budget = inf", "fetch.page_budget: expected a positive number of seconds"),
        ("pages_per_feed = 0", "fetch.pages_per_feed: expected a positive whole number"),
    ],
)
def test_bad_values_are_config_errors(tmp_path: Path, line: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_config(tmp_path, line), env={})
    assert expected in str(caught.value)


@pytest.mark.parametrize("value", ["true", "false"])
def test_block_private_addresses_still_loads_with_a_clear_message(
    tmp_path: Path, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="digest.config"):
        s = load_settings(_config(tmp_path, f"block_private_addresses = {value}"), env={})
    assert s.fetch.allow_private == ()  # false no longer opens private networks
    (record,) = caplog.records
    message = record.getMessage()
    assert "fetch.block_private_addresses is deprecated and ignored" in message
    assert "fetch.allow_private" in message and "digest.toml" in message
