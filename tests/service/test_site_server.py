"""`digest serve --http HOST:PORT` serves the archive site the digest jobs publish."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from factories import make_digest

from digest.config.settings import DigestSettings
from digest.render.outputs import render_digest
from digest.render.site import publish_site
from digest.service import parse_address


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_http_serves_the_site_until_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "data"
    digest = make_digest("en")
    settings = DigestSettings(name=digest.name, title=digest.title, feeds=(), formats=("html",))
    publish_site(
        data / "site",
        digest,
        render_digest(digest, settings),
        settings,
        period_key="2026-11-25T06:00+0000",
        keep=timedelta(days=90),
        now=digest.period_end,
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "digest", "serve", "--data-dir", str(data), "--http",
         f"127.0.0.1:{port}", "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        page = None
        while time.monotonic() < deadline and page is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
            except httpx.TransportError:
                time.sleep(0.3)
        assert page is not None and page.status_code == 200
        assert "morning/2026-11-25-0600.html" in page.text
        feed = httpx.get(f"http://127.0.0.1:{port}/morning/feed.atom", timeout=5)
        assert feed.status_code == 200 and feed.text.startswith("<?xml")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err


def test_serve_http_refuses_a_bad_address(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "digest", "serve", "--data-dir", str(tmp_path), "--http", "8080"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "error: --http: '8080' is not HOST:PORT" in result.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("[::1]:80", ("::1", 80)),
        (":9000", ("127.0.0.1", 9000)),
    ],
)
def test_parse_address(value: str, expected: tuple[str, int]) -> None:
    assert parse_address(value) == expected


def test_serve_http_on_a_port_in_use_exits_2_naming_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "digest", "serve", "--data-dir", str(tmp_path), "--http",
             f"127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"error: config: --http 127.0.0.1:{port}: cannot listen:" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_health_port_in_use_exits_2_naming_it(tmp_path: Path) -> None:
    # It ended in a traceback (exit 1), so systemd's Restart=on-failure looped.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "digest", "serve", "--data-dir", str(tmp_path),
             "--health-port", str(port)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"error: config: --health-port 127.0.0.1:{port}: cannot listen:" in result.stderr
    assert "Traceback" not in result.stderr
