"""Test helpers: `digest` run as a subprocess on a small config (one local sample feed, an
outbox, two recipients), and the messages it left in the outbox."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

from httpserver import LOOPBACK_FETCH

from digest.config.settings import SAMPLES_DIR

AS_OF = "2018-10-27T07:00:00Z"
SECRET = "test-secret-0123456789"


def cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m digest ARGS`; DIGEST_CONFIG from the caller's shell never leaks in."""
    merged = {k: v for k, v in os.environ.items() if k != "DIGEST_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env={**merged, **(env or {})},
    )


def write_config(tmp: Path, digest_lines: str = "", feeds: str = "", top: str = "") -> Path:
    """Return a config: one digest 'morning' on the local world-wire sample, outbox in tmp."""
    (tmp / "feeds.toml").write_text(
        # full_text = "never": the sample's links point at real sites, which tests never fetch.
        f'[[feed]]\nurl = "{SAMPLES_DIR / "world-wire.xml"}"\nname = "World Wire"\n'
        f'full_text = "never"\n{feeds}',
        encoding="utf-8",
    )
    config = tmp / "digest.toml"
    config.write_text(
        # Loopback feeds (tests/httpserver.py) are private addresses: allowed here only.
        f'outbox_dir = "outbox"\n{top}\n{LOOPBACK_FETCH}\n[[digest]]\nname = "morning"\nfeeds = ["feeds.toml"]\n'
        f'recipients = ["a@example.org", "b@example.org"]\n{digest_lines}\n',
        encoding="utf-8",
    )
    return config


def run(
    config: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    data = str(config.parent / "data")
    return cli("run", "-c", str(config), "--data-dir", data, *args, env=env)


def emls(tmp: Path) -> list[EmailMessage]:
    folder = tmp / "outbox"
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for f in files
    ]
