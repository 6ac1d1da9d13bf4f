"""What an operator meets first: the example config from any folder, plain `feeds list`
output for scripts, and help texts that say what the option does."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from digestcli import cli as run_digest

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_digest(*args, env={"COLUMNS": "200"}, cwd=cwd)  # help text unwrapped


def _plain(help_text: str) -> str:
    """Return Rich's boxed help as one line of words."""
    return " ".join(help_text.replace("│", " ").split())


def test_the_example_config_works_from_another_folder(tmp_path: Path) -> None:
    etc = tmp_path / "etc-digest"
    etc.mkdir()
    shutil.copy(REPO / "digest.example.toml", etc / "digest.toml")
    listed = cli("feeds", "list", "-c", "digest.toml", "--data-dir", str(tmp_path / "d"), cwd=etc)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split("\t") for line in listed.stdout.splitlines()[1:]]
    assert len(rows) >= 10
    assert all(row[2] == "config" and row[1].startswith("https://") for row in rows)


def test_feeds_list_for_scripts_has_a_header_and_one_clean_line_per_feed(tmp_path: Path) -> None:
    listed = cli("feeds", "list", "--data-dir", str(tmp_path / "d"))
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split("\t") == [
        "name",
        "url",
        "from",
        "status",
        "last_success",
        "next_check",
        "last_error",
    ]
    assert len(lines) > 2 and all(len(line.split("\t")) == 7 for line in lines)


def test_fetch_as_of_help_speaks_of_fetching() -> None:
    fetch = _plain(cli("fetch", "--help").stdout)
    assert "Build the digest" not in fetch
    assert "Fetch as if it were this ISO time" in fetch
    assert "Build the digest as it would have been" in _plain(cli("build", "--help").stdout)


def test_eval_help_points_to_nothing_outside_the_repository() -> None:
    for kind in ("summarize", "events", "pairs"):
        text = _plain(cli("eval", kind, "--help").stdout)
        assert "DESIGN.md" not in text
        assert "one object per line" in text
