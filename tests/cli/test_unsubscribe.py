"""Issue 17, defect 11 and defect 7: per-recipient unsubscribe (signed tokens, the CLI, the
RFC 8058 one-click endpoint of `digest serve --http`) and `digest run` while serve runs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from digestcli import AS_OF, SECRET, cli, emls, run, write_config
from serveproc import ServeProcess

from digest.deliver import make_token, read_token
from digest.errors import DeliveryError
from digest.store import Store, open_store

HTTPS = "https://digest.example.org/unsubscribe?token={token}"
ENV = {"DIGEST_UNSUBSCRIBE_SECRET": SECRET}


def _serve(config: Path) -> ServeProcess:
    """`digest serve --http 127.0.0.1:0` with the unsubscribe secret."""
    data = str(config.parent / "data")
    return ServeProcess(config, "--data-dir", data, "--http", "127.0.0.1:0", env=ENV)


def http(url: str, data: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def legacy_token(digest: str, address: str) -> str:
    """Return a token as digest sent them before 0.2.0: the address readable in it."""
    payload = base64.urlsafe_b64encode(json.dumps([digest, address]).encode()).decode()
    payload = payload.rstrip("=")
    mac = hmac.new(SECRET.encode(), b"digest-unsubscribe-v1:" + payload.encode(), hashlib.sha256)
    return payload + "." + base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def _store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'data' / 'digest.sqlite3'}")


def test_token_round_trip_and_forgery(tmp_path: Path) -> None:
    store = _store(tmp_path)
    now = datetime.now(UTC)
    token = make_token(SECRET, store.recipient_token("morning", "A@Example.org", now))
    assert token == make_token(SECRET, store.recipient_token("morning", "a@example.org", now))
    assert read_token(SECRET, token, store.token_recipient) == ("morning", "a@example.org")
    with pytest.raises(DeliveryError, match="not signed"):
        read_token("another secret", token, store.token_recipient)
    _payload, _, mac = token.partition(".")
    other = make_token(SECRET, store.recipient_token("morning", "b@example.org", now))
    with pytest.raises(DeliveryError):
        read_token(SECRET, other.split(".")[0] + "." + mac, store.token_recipient)
    # A token sent before 0.2.0 (digest and address inside) is still honoured, if signed.
    old = legacy_token("morning", "c@example.org")
    assert read_token(SECRET, old, store.token_recipient) == ("morning", "c@example.org")
    with pytest.raises(DeliveryError, match="not signed"):
        read_token(SECRET, old[:-2] + "xx", store.token_recipient)


def test_a_token_placeholder_needs_the_secret(tmp_path: Path) -> None:
    config = write_config(tmp_path, f'unsubscribe = "{HTTPS}"')
    ran = run(config, "--as-of", AS_OF, env={"DIGEST_UNSUBSCRIBE_SECRET": ""})
    assert ran.returncode == 2
    assert "DIGEST_UNSUBSCRIBE_SECRET" in ran.stderr


def test_each_recipient_gets_an_own_signed_link_and_one_click_only_over_https(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, f'unsubscribe = "mailto:unsub@example.org {HTTPS}"')
    ran = run(config, "--as-of", AS_OF, "--out", str(tmp_path / "out"), env=ENV)
    assert ran.returncode == 0, ran.stderr
    tokens = {}
    store = _store(tmp_path)
    for message in emls(tmp_path):
        header = message["List-Unsubscribe"]
        token = re.search(r"token=([A-Za-z0-9_.-]+)>", header).group(1)  # type: ignore[union-attr]
        assert read_token(SECRET, token, store.token_recipient) == ("morning", message["To"])
        # Opaque: the address is in no decoding of the link (it was base64 of a JSON list).
        for part in token.split("."):
            decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
            assert b"example" not in decoded and b"morning" not in decoded
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert f"unsubscribe?token={token}" in html and "{token}" not in html
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        tokens[message["To"]] = token
    assert len(set(tokens.values())) == 2
    for raw in sorted((tmp_path / "outbox").glob("*.eml")):
        # On one line as written, not folded into encoded words no client reads as a URL.
        line = (
            rf"^List-Unsubscribe: <mailto:unsub@example\.org>, <{re.escape(HTTPS[:-7])}[\w.-]+>\r$"
        )
        assert re.search(line.encode(), raw.read_bytes(), re.M), raw.read_bytes()[:1500]

    plain = tmp_path / "plain"
    plain.mkdir()
    # Issue 14: an http: target is refused at load (mailto: and https: only) ...
    config = write_config(plain, 'unsubscribe = "http://digest.example.org/unsubscribe"')
    refused = run(config, "--as-of", AS_OF, "--out", str(plain / "out"))
    assert refused.returncode == 2 and "is not a mailto: or https: URL" in refused.stderr
    # ... and without an https: target there is no one-click header.
    config = write_config(plain, 'unsubscribe = "mailto:unsub@example.org"')
    assert run(config, "--as-of", AS_OF, "--out", str(plain / "out")).returncode == 0
    message = emls(plain)[0]
    assert message["List-Unsubscribe"] == "<mailto:unsub@example.org>"
    assert message["List-Unsubscribe-Post"] is None  # RFC 8058 wants HTTPS


def test_unsubscribed_recipients_are_skipped_and_listed(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    data = str(tmp_path / "data")
    said = cli("unsubscribe", "B@example.org", "-c", str(config), "--data-dir", data)
    assert said.returncode == 0 and "unsubscribed from every digest" in said.stdout
    ran = run(config, "--as-of", AS_OF, "--out", str(tmp_path / "out"))
    assert ran.returncode == 0, ran.stderr
    assert "not sent to b@example.org: unsubscribed" in ran.stdout
    assert [m["To"] for m in emls(tmp_path)] == ["a@example.org"]
    status = cli("status", "-c", str(config), "--data-dir", data)
    assert (
        "unsubscribed: 1" in status.stdout
        and "b@example.org from every digest (cli" in status.stdout
    )
    undo = cli("unsubscribe", "--undo", "b@example.org", "-c", str(config), "--data-dir", data)
    assert "subscribed again" in undo.stdout
    assert "unsubscribed: 0" in cli("status", "-c", str(config), "--data-dir", data).stdout


def test_serve_http_one_click_and_run_while_serve_holds_the_lock(tmp_path: Path) -> None:
    config = write_config(tmp_path, f'title = "Morning Briefing"\nunsubscribe = "{HTTPS}"')
    serve = _serve(config)
    try:
        token = make_token(
            SECRET, _store(tmp_path).recipient_token("morning", "b@example.org", datetime.now(UTC))
        )
        base = f"http://127.0.0.1:{serve.port('site')}/unsubscribe"
        # A link scanner's GET only shows a button, naming the digest by its title and the
        # address half hidden; a forged token is refused, and logged.
        status, page = http(f"{base}?token={token}")
        assert status == 200 and "method='post'" in page
        assert "Stop sending Morning Briefing to b…@example.org?" in page
        assert http(f"{base}?token={token[:-2]}xx", b"List-Unsubscribe=One-Click")[0] == 403
        serve.wait_for(r"level=WARNING event=unsubscribe-refused method=POST reason=")
        status, page = http(f"{base}?token={token}", b"List-Unsubscribe=One-Click")
        assert status == 200 and "b@example.org will not receive Morning Briefing any" in page
        serve.wait_for(r"event=unsubscribe digest=morning address=b@example.org already=False")
        # A link sent before 0.2.0 still works.
        old = legacy_token("morning", "a@example.org")
        assert http(f"{base}?token={old}", b"List-Unsubscribe=One-Click")[0] == 200
        assert (
            cli(
                "unsubscribe",
                "--undo",
                "a@example.org",
                "-c",
                str(config),
                "--data-dir",
                str(tmp_path / "data"),
                env=ENV,
            ).returncode
            == 0
        )

        # Send now: `digest run` hands the run to the service, waits and prints its report.
        ran = run(config, "--as-of", AS_OF, "--out", str(tmp_path / "out"), env=ENV)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert "digest serve is running: handing this run to it" in ran.stderr
        assert "morning [2018-10-27T07:00+0000]" in ran.stdout
        assert "  written: a@example.org -> " in ran.stdout
        assert "not sent to b@example.org: unsubscribed" in ran.stdout
        serve.wait_for(r"event=request-done id=1 ")
        # `digest fetch` is handed over the same way.
        fetched = cli("fetch", "-c", str(config), "--data-dir", str(tmp_path / "data"), env=ENV)
        assert fetched.returncode == 0, fetched.stdout + fetched.stderr
        assert "handing this fetch to it" in fetched.stderr
        assert fetched.stdout.startswith("fetched 1 feed (0 failed, 0 waiting")
        serve.wait_for(r"event=request-done id=2 ")
    finally:
        assert serve.stop() == 0
    assert [m["To"] for m in emls(tmp_path)] == ["a@example.org"]
    assert (tmp_path / "out" / "morning-2018-10-27.pdf").is_file()
    status = cli("status", "-c", str(config), "--data-dir", str(tmp_path / "data"), env=ENV)
    assert "b@example.org from digest morning (one-click" in status.stdout
