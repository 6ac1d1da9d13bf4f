"""Bundled feed lists named `builtin:NAME`: found from a config in any folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import load_settings
from digest.config.feedlists import load_feed_list
from digest.config.settings import PACKAGE_DIR
from digest.errors import ConfigError

CONFIG = """
[[digest]]
name = "morning"
feeds = [{feeds}]
"""


def _config(tmp_path: Path, feeds: str) -> Path:
    folder = tmp_path / "etc" / "digest"
    folder.mkdir(parents=True)
    path = folder / "digest.toml"
    path.write_text(CONFIG.format(feeds=feeds), encoding="utf-8")
    return path


def test_builtin_lists_load_from_a_config_anywhere(tmp_path: Path) -> None:
    path = _config(tmp_path, '"builtin:default", "builtin:samples"')
    feeds = load_settings(path, env={}).digests[0].feeds
    default = load_feed_list(PACKAGE_DIR / "feeds" / "default.toml")
    samples = load_feed_list(PACKAGE_DIR / "feeds" / "samples" / "samples.toml")
    assert len(default) >= 10 and len(samples) >= 5
    assert [f.url for f in feeds] == [f.url for f in default + samples]
    # The samples' relative URLs are resolved against the package, not the config's folder.
    assert all(Path(f.url).is_file() for f in feeds[len(default) :])


def test_an_unknown_builtin_list_names_the_known_ones(tmp_path: Path) -> None:
    path = _config(tmp_path, '"builtin:nope"')
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    message = str(err.value)
    assert "digest[0].feeds[0]: builtin:nope: no bundled feed list of that name" in message
    assert "builtin:default, builtin:samples" in message
