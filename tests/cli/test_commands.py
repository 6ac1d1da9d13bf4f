from __future__ import annotations

from pathlib import Path

from digestcli import AS_OF, cli

from digest.config import load_settings
from digest.store.lock import run_lock


def test_build_runs_while_the_lock_is_held_but_run_fails_fast(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    assert cli("fetch", "--data-dir", data, "--as-of", AS_OF, "-q").returncode == 0
    settings = load_settings(None, data_dir=tmp_path / "data", env={})
    with run_lock(settings):
        built = cli(
            "build", "--data-dir", data, "--out", str(tmp_path / "out"), "--as-of", AS_OF, "-q"
        )
        assert built.returncode == 0, built.stderr
        assert (tmp_path / "out" / "samples-2018-10-27.pdf").is_file()
        ran = cli("run", "--data-dir", data, "--as-of", AS_OF, "-q")
        assert ran.returncode == 1
        assert "lock:" in ran.stderr and "held by pid" in ran.stderr


def test_enable_refuses_an_unknown_feed(tmp_path: Path) -> None:
    result = cli("feeds", "enable", "https://unknown.example/rss", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert "not a configured or added feed" in result.stderr


def test_version_and_help_list_every_command() -> None:
    helped = cli("--help")
    for command in (
        "run",
        "build",
        "fetch",
        "preview",
        "feeds",
        "deliveries",
        "resend",
        "doctor",
        "serve",
        "status",
        "eval",
    ):
        assert f" {command} " in helped.stdout, command
    assert cli("--version").stdout.startswith("digest ")
