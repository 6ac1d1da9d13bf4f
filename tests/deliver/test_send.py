"""deliver: the ledger-backed stage, to the outbox, a Maildir and a real SMTP server."""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result
from digestcli import AS_OF, emls, run, write_config
from smtpserver import (
    DROP_STAGES,
    NOW,
    PASSWORD,
    DroppingHandler,
    SmtpServer,
    dot_fails_connect,
    free_port,
    make_settings,
    recipients,
    rendered,
    waits_after_body_connect,
)
from typer.testing import CliRunner

from digest.cli.delivery import app as cli_app
from digest.config import load_settings
from digest.config.settings import Recipient
from digest.deliver.message import assemble
from digest.deliver.send import deliver_digest, resend_delivery, retry_pending
from digest.errors import RenderError
from digest.models import Rendered
from digest.store import ledger
from digest.store.database import Store, open_store
from digest.store.lock import run_lock

RU = Recipient(address="ivan@example.org", name="Иван", formats=("html",), language="ru")


def fixed(when: datetime) -> Callable[[], datetime]:
    """Return a clock stopped at when (tests that simulate time passing)."""
    return lambda: when


def render_for(recipient: Recipient) -> tuple[Rendered, Sequence[str]]:
    subject = "Утренний дайджест" if recipient.language == "ru" else "Morning digest"
    return rendered(subject), recipient.formats


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'digest.db'}")
    yield s
    s.close()


def test_outbox_writes_one_eml_per_recipient_once(tmp_path: Path, store: Store) -> None:
    people = (*recipients(2), RU)
    settings, d = make_settings(tmp_path, people)
    run = store.claim_run("morning", "2026-11-25", NOW)
    first = deliver_digest(store, settings, d, run.id, render_for, NOW)
    assert [x.status for x in first] == ["written"] * 3
    files = sorted((tmp_path / "outbox").iterdir())
    assert [f.name for f in files] == [
        "morning-2026-11-25-ivan@example.org.eml",
        "morning-2026-11-25-r000@example.org.eml",
        "morning-2026-11-25-r001@example.org.eml",
    ]
    ivan = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert ivan["Subject"] == "Утренний дайджест"
    assert "application/pdf" not in [p.get_content_type() for p in ivan.walk()]  # html only
    assert first[0].path == str(files[1]) and first[0].message_id == ivan_id(files[1])
    stamps = [f.stat().st_mtime_ns for f in files]
    again = deliver_digest(store, settings, d, run.id, render_for, NOW + timedelta(minutes=5))
    # A written row is never written again, and the outcome says it was an earlier one.
    assert [replace(x, earlier_at=None) for x in again] == list(first)
    assert all(x.earlier_at is not None for x in again)
    assert [f.stat().st_mtime_ns for f in files] == stamps


def ivan_id(path: Path) -> str:
    return str(
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["Message-ID"]
    )


def test_out_dir_and_maildir(tmp_path: Path, store: Store) -> None:
    settings, d = make_settings(tmp_path, recipients(1))
    run = store.claim_run("morning", "p1", NOW)
    (x,) = deliver_digest(store, settings, d, run.id, render_for, NOW, out_dir=tmp_path / "o")
    assert x.path is not None and Path(x.path).parent == tmp_path / "o"
    settings, d = make_settings(tmp_path, recipients(1), maildir=tmp_path / "Mail")
    run = store.claim_run("morning", "p2", NOW)
    (x,) = deliver_digest(store, settings, d, run.id, render_for, NOW)
    assert x.status == "written" and x.path is not None and "/Mail/new/" in x.path


def test_render_failure_and_bad_address_do_not_stop_others(tmp_path: Path, store: Store) -> None:
    people = (Recipient("no-at-sign"), RU, *recipients(1))
    settings, d = make_settings(tmp_path, people)
    run = store.claim_run("morning", "2026-11-25", NOW)

    def flaky(recipient: Recipient) -> tuple[Rendered, Sequence[str]]:
        if recipient.language == "ru":
            raise RenderError("pdf", "font missing")
        return render_for(recipient)

    bad, ru, ok = deliver_digest(store, settings, d, run.id, flaky, NOW)
    assert (bad.status, bad.error) == ("failed", "not an email address")
    assert (ru.status, ru.error) == ("failed", "render: pdf: font missing")
    assert ok.status == "written"
    # The render failure left no row, so a later run renders and delivers it.
    _, ru, _ = deliver_digest(store, settings, d, run.id, render_for, NOW)
    assert ru.status == "written"


def test_an_unexpected_render_exception_is_recorded_and_others_delivered(
    tmp_path: Path, store: Store, server: SmtpServer
) -> None:
    settings, d = make_settings(tmp_path, recipients(3), smtp=server.settings())
    run = store.claim_run("morning", "2026-11-25", NOW)

    def broken_for_r001(recipient: Recipient) -> tuple[Rendered, Sequence[str]]:
        if recipient.address == "r001@example.org":
            raise RuntimeError("template bug")
        return render_for(recipient)

    result = deliver_digest(store, settings, d, run.id, broken_for_r001, NOW)
    assert [x.status for x in result] == ["sent", "failed", "sent"]
    assert result[1].error == "render: RuntimeError: template bug"
    assert [server.handler.count(p.address) for p in d.recipients] == [1, 0, 1]
    # The failure has a row, so `digest deliveries` shows it; nothing to send, so no retry.
    (row,) = ledger.listing(store, statuses=["failed"])
    assert (row.recipient, row.built, row.error) == ("r001@example.org", False, result[1].error)
    assert retry_pending(store, settings, wall_now() + timedelta(days=1)) == ()
    # The next delivery pass of the run renders it again; the others are not sent twice.
    again = deliver_digest(store, settings, d, run.id, render_for, NOW)
    assert [x.status for x in again] == ["sent"] * 3
    assert [server.handler.count(p.address) for p in d.recipients] == [1, 1, 1]


def wall_now() -> datetime:
    return datetime.now(UTC)


# -- SMTP ------------------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SmtpServer]:
    srv = SmtpServer(tmp_path).start()
    yield srv
    srv.stop()


def test_smtp_sends_each_recipient_once(tmp_path: Path, store: Store, server: SmtpServer) -> None:
    settings, d = make_settings(tmp_path, (*recipients(3), RU), smtp=server.settings())
    run = store.claim_run("morning", "2026-11-25", NOW)
    result = deliver_digest(store, settings, d, run.id, render_for, NOW)
    assert [x.status for x in result] == ["sent"] * 4
    assert all(x.attempts == 1 and x.message_id for x in result)
    deliver_digest(store, settings, d, run.id, render_for, NOW + timedelta(hours=1))
    retry_pending(store, settings, NOW + timedelta(hours=1))
    assert [server.handler.count(p.address) for p in d.recipients] == [1, 1, 1, 1]
    ids = {str(email.message_from_bytes(m.content)["Message-ID"]) for m in server.handler.messages}
    assert ids == {x.message_id for x in result}


def test_server_down_then_up_delivers_once(tmp_path: Path, store: Store) -> None:
    srv = SmtpServer(tmp_path, port=free_port())  # not started: connection refused
    settings, d = make_settings(tmp_path, recipients(2), smtp=srv.settings())
    run = store.claim_run("morning", "2026-11-25", NOW)
    down = deliver_digest(store, settings, d, run.id, render_for, NOW, clock=fixed(NOW))
    assert [x.status for x in down] == ["retry", "retry"]
    assert down[0].error is not None and "connection refused" in down[0].error
    srv.start()
    try:
        assert retry_pending(store, settings, NOW + timedelta(seconds=30)) == ()  # backoff
        up = retry_pending(store, settings, NOW + timedelta(minutes=2))
        assert [(x.status, x.attempts) for x in up] == [("sent", 2), ("sent", 2)]
        assert retry_pending(store, settings, NOW + timedelta(hours=2)) == ()
        assert [srv.handler.count(p.address) for p in d.recipients] == [1, 1]
    finally:
        srv.stop()


def test_4xx_then_success_and_5xx_recorded(
    tmp_path: Path, store: Store, server: SmtpServer
) -> None:
    settings, d = make_settings(tmp_path, recipients(3), smtp=server.settings())
    server.handler.data_replies.append("451 4.3.0 mailbox busy")
    server.handler.rcpt_replies["r002@example.org"] = "550 5.1.1 mailbox unavailable"
    run = store.claim_run("morning", "2026-11-25", NOW)
    first = deliver_digest(store, settings, d, run.id, render_for, NOW, clock=fixed(NOW))
    assert [x.status for x in first] == ["retry", "sent", "failed"]
    assert first[0].error == "451 4.3.0 mailbox busy"
    assert first[2].error == "550 5.1.1 mailbox unavailable"
    row = ledger.find(store, run.id, "r000@example.org")
    assert row is not None and row.next_attempt_at == NOW + timedelta(minutes=1)
    (later,) = retry_pending(store, settings, NOW + timedelta(minutes=1))
    assert (later.recipient, later.status, later.attempts) == ("r000@example.org", "sent", 2)
    assert retry_pending(store, settings, NOW + timedelta(days=1)) == ()  # 5xx never retried
    assert [server.handler.count(p.address) for p in d.recipients] == [1, 1, 0]


def test_no_answer_after_the_final_dot_is_never_resent(
    tmp_path: Path, store: Store, server: SmtpServer
) -> None:
    settings, d = make_settings(tmp_path, recipients(3), smtp=server.settings())
    server.handler.hang_up_after.add("r001@example.org")
    run = store.claim_run("morning", "2026-11-25", NOW)
    result = deliver_digest(store, settings, d, run.id, render_for, NOW)
    assert [x.status for x in result] == ["sent", "failed", "sent"]  # r002: a new connection
    assert result[1].error is not None
    assert "connection lost after the message was handed over" in result[1].error
    assert "not resent automatically (at-most-once)" in result[1].error
    row = ledger.find(store, run.id, "r001@example.org")
    assert row is not None and row.status == "sending"
    assert retry_pending(store, settings, NOW + timedelta(days=1)) == ()
    assert [server.handler.count(p.address) for p in d.recipients] == [1, 1, 1]


def test_catch_up_of_an_old_period_times_retries_by_the_wall_clock(
    tmp_path: Path, store: Store, server: SmtpServer
) -> None:
    # The service catches up a period with now = its slot time, hours ago; the retry
    # deadline (6 h) and the Date header must count from when it is really sent.
    period_time = wall_now() - timedelta(hours=10)
    settings, d = make_settings(tmp_path, recipients(1), smtp=server.settings())
    server.handler.data_replies.append("451 4.3.0 mailbox busy")
    run = store.claim_run("morning", "2026-11-24", period_time)
    before = wall_now()
    (x,) = deliver_digest(store, settings, d, run.id, render_for, period_time)
    after = wall_now()
    assert (x.status, x.attempts) == ("retry", 1)  # not "gave up after 1 attempts"
    row = ledger.find(store, run.id, "r000@example.org")
    assert row is not None and row.next_attempt_at is not None
    assert before <= row.created_at <= after
    assert before + timedelta(minutes=1) <= row.next_attempt_at <= after + timedelta(minutes=1)
    parts = ledger.message(store, row.id)
    assert parts is not None
    date = email.message_from_bytes(assemble(parts), policy=email.policy.default)["Date"].datetime
    assert before - timedelta(seconds=1) <= date <= after
    (later,) = retry_pending(store, settings, row.next_attempt_at)
    assert later.status == "sent" and server.handler.count("r000@example.org") == 1


def test_failure_writing_the_final_dot_is_retried_and_delivered_once(
    tmp_path: Path, store: Store, server: SmtpServer
) -> None:
    # The dot never arrived whole, so the server cannot have the message: retry, not unknown.
    settings, d = make_settings(tmp_path, recipients(1), smtp=server.settings())
    run = store.claim_run("morning", "2026-11-25", NOW)
    (x,) = deliver_digest(
        store, settings, d, run.id, render_for, NOW, connect=dot_fails_connect, clock=fixed(NOW)
    )
    assert (x.status, x.attempts) == ("retry", 1) and x.error is not None
    assert "before the end of the message" in x.error and "at-most-once" not in x.error
    assert server.handler.count("r000@example.org") == 0
    (later,) = retry_pending(store, settings, NOW + timedelta(minutes=1))
    assert (later.status, later.attempts) == ("sent", 2)
    assert server.handler.count("r000@example.org") == 1


def render_9k(recipient: Recipient) -> tuple[Rendered, Sequence[str]]:
    """Return a message of about 9 KB (text and HTML, no PDF)."""
    filler = "An ordinary paragraph of the morning digest, repeated. " * 70
    base = rendered("Morning digest", pdf=None)
    text = base.text + filler
    html = base.html.replace("</body>", f"<p>{filler}</p></body>")
    return Rendered(subject=base.subject, html=html, text=text, pdf=None), ("html",)


@pytest.mark.parametrize("stage", [s for s in DROP_STAGES if s != "after-dot"])
def test_a_connection_dropped_before_the_dot_is_retried_and_delivered_once(
    tmp_path: Path, store: Store, stage: str
) -> None:
    srv = SmtpServer(tmp_path, drop_at=stage).start()
    try:
        settings, d = make_settings(tmp_path, recipients(1), smtp=srv.settings())
        handler = srv.handler
        assert isinstance(handler, DroppingHandler)
        # mid-data: the client waits after the body until the server has hung up, so the
        # drop surely comes before the dot (on a real network it usually does too).
        connect = waits_after_body_connect(handler.dropped) if stage == "mid-data" else None
        run = store.claim_run("morning", "2026-11-25", NOW)
        (x,) = deliver_digest(
            store, settings, d, run.id, render_9k, NOW, connect=connect, clock=fixed(NOW)
        )
        assert handler.dropped.wait(5)
        assert (x.status, x.attempts) == ("retry", 1), x.error
        assert x.error is not None and "at-most-once" not in x.error
        row = ledger.find(store, run.id, "r000@example.org")
        assert row is not None and row.status == "retry"
        assert srv.handler.count("r000@example.org") == 0
        (later,) = retry_pending(store, settings, NOW + timedelta(minutes=1))
        assert (later.status, later.attempts) == ("sent", 2), later.error
        assert srv.handler.count("r000@example.org") == 1
        parts = ledger.message(store, row.id)
        assert parts is not None and len(assemble(parts)) > 8000
    finally:
        srv.stop()


def test_a_reply_lost_after_the_dot_is_unknown_never_retried(tmp_path: Path, store: Store) -> None:
    srv = SmtpServer(tmp_path, drop_at="after-dot").start()
    try:
        settings, d = make_settings(tmp_path, recipients(1), smtp=srv.settings())
        run = store.claim_run("morning", "2026-11-25", NOW)
        (x,) = deliver_digest(store, settings, d, run.id, render_9k, NOW)
        assert x.status == "failed" and x.error is not None
        assert "not resent automatically (at-most-once)" in x.error
        row = ledger.find(store, run.id, "r000@example.org")
        assert row is not None and row.status == "sending"
        assert retry_pending(store, settings, wall_now() + timedelta(days=1)) == ()
        assert srv.handler.count("r000@example.org") == 1
    finally:
        srv.stop()


def test_retry_gives_up_at_the_deadline(tmp_path: Path, store: Store) -> None:
    srv = SmtpServer(tmp_path, port=free_port())  # never started
    smtp = srv.settings(retry_deadline=timedelta(minutes=10))
    settings, d = make_settings(tmp_path, recipients(1), smtp=smtp)
    run = store.claim_run("morning", "2026-11-25", NOW)
    deliver_digest(store, settings, d, run.id, render_for, NOW, clock=fixed(NOW))
    attempts = [NOW + timedelta(minutes=m) for m in (1, 3, 7, 10)]  # 1, 2, 4 min, then capped
    for when in attempts:
        (x,) = retry_pending(store, settings, when)
    assert (x.status, x.attempts) == ("failed", 5)
    assert x.error is not None and x.error.endswith("(gave up after 5 attempts)")


def test_resend_sends_again_with_a_new_message_id(
    tmp_path: Path, store: Store, server: SmtpServer
) -> None:
    settings, d = make_settings(tmp_path, recipients(1), smtp=server.settings())
    run = store.claim_run("morning", "2026-11-25", NOW)
    (first,) = deliver_digest(store, settings, d, run.id, render_for, NOW)
    row = ledger.find(store, run.id, first.recipient)
    assert row is not None
    again = resend_delivery(store, settings, row.id, NOW + timedelta(hours=1))
    assert again.status == "sent" and again.message_id != first.message_id
    ids = [str(email.message_from_bytes(m.content)["Message-ID"]) for m in server.handler.messages]
    assert ids == [first.message_id, again.message_id]


def test_resend_sends_only_the_requested_row(tmp_path: Path, store: Store) -> None:
    srv = SmtpServer(tmp_path, port=free_port())  # down at first: both rows wait for a retry
    settings, d = make_settings(tmp_path, recipients(2), smtp=srv.settings())
    run = store.claim_run("morning", "2026-11-25", NOW)
    down = deliver_digest(store, settings, d, run.id, render_for, NOW, clock=fixed(NOW))
    assert [x.status for x in down] == ["retry", "retry"]
    first, second = ledger.for_run(store, run.id)
    srv.start()
    try:
        later = NOW + timedelta(hours=1)  # both rows are due by then
        again = resend_delivery(store, settings, first.id, later, clock=fixed(later))
        assert (again.recipient, again.status) == ("r000@example.org", "sent")
        assert [srv.handler.count(p.address) for p in d.recipients] == [1, 0]
        untouched = ledger.get(store, second.id)
        assert untouched is not None and (untouched.status, untouched.attempts) == ("retry", 1)
    finally:
        srv.stop()


def test_200_recipients_in_bounded_time(tmp_path: Path, store: Store, server: SmtpServer) -> None:
    settings, d = make_settings(tmp_path, recipients(200), smtp=server.settings())
    run = store.claim_run("morning", "2026-11-25", NOW)
    started = time.monotonic()
    result = deliver_digest(store, settings, d, run.id, render_for, NOW)
    elapsed = time.monotonic() - started
    assert [x.status for x in result] == ["sent"] * 200
    assert len(server.handler.messages) == 200
    assert elapsed < 20, f"200 recipients took {elapsed:.1f}s"


# -- CLI: deliveries, resend, doctor -----------------------------------------------------------


def _config(tmp_path: Path, server: SmtpServer | None) -> Path:
    smtp = (
        f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "starttls"\n'
        f'username = "digest"\nca_file = "{server.ca_file}"\nfrom = "digest@example.org"\n'
        if server
        else ""
    )
    path = tmp_path / "digest.toml"
    path.write_text(
        f'{smtp}\n[[digest]]\nname = "morning"\nfeeds = ["http://127.0.0.1:9/feed.xml"]\n'
        'recipients = ["r000@example.org", "r001@example.org"]\n',
        encoding="utf-8",
    )
    return path


def _cli(tmp_path: Path, *args: str, password: str = PASSWORD) -> Result:
    env = {"DIGEST_SMTP_PASSWORD": password, "DIGEST_CONFIG": None, "DIGEST_DATA_DIR": None}
    return CliRunner().invoke(cli_app, [*args, "--data-dir", str(tmp_path / "data")], env=env)


def test_cli_deliveries_and_resend(tmp_path: Path, server: SmtpServer) -> None:
    config = _config(tmp_path, server)
    env = {"DIGEST_SMTP_PASSWORD": PASSWORD}
    settings = load_settings(config, data_dir=tmp_path / "data", env=env)
    store = open_store(settings.storage_url)
    server.handler.rcpt_replies["r001@example.org"] = "550 5.1.1 no such user"
    run = store.claim_run("morning", "2026-11-25", NOW)
    deliver_digest(store, settings, settings.digests[0], run.id, render_for, NOW)
    store.close()

    listed = _cli(tmp_path, "deliveries", "-c", str(config))
    assert listed.exit_code == 0, listed.output
    lines = [line.split("\t") for line in listed.output.splitlines()]
    assert [(x[3], x[4], x[5]) for x in lines] == [
        ("r001@example.org", "failed", "1"),
        ("r000@example.org", "sent", "1"),
    ]
    assert lines[0][7] == "550 5.1.1 no such user"
    only_failed = _cli(tmp_path, "deliveries", "-c", str(config), "--status", "failed")
    assert [x.split("\t")[3] for x in only_failed.output.splitlines()] == ["r001@example.org"]

    again = _cli(tmp_path, "resend", lines[1][0], "-c", str(config))
    assert again.exit_code == 0 and again.output.strip() == "sent: r000@example.org"
    by_key = _cli(
        tmp_path, "resend", "-c", str(config),
        "--digest", "morning", "--period", "2026-11-25", "--recipient", "r001@example.org",
    )  # fmt: skip
    assert by_key.exit_code == 1 and "550 5.1.1 no such user" in by_key.output
    assert [server.handler.count(f"r00{i}@example.org") for i in (0, 1)] == [2, 0]
    missing = _cli(tmp_path, "resend", "999", "-c", str(config))
    assert missing.exit_code == 1 and "delivery 999: no such delivery" in missing.output


def test_cli_resend_refuses_while_a_run_holds_the_lock(tmp_path: Path, server: SmtpServer) -> None:
    config = _config(tmp_path, server)
    env = {"DIGEST_SMTP_PASSWORD": PASSWORD}
    settings = load_settings(config, data_dir=tmp_path / "data", env=env)
    store = open_store(settings.storage_url)
    run = store.claim_run("morning", "2026-11-25", NOW)
    (row, _) = deliver_digest(store, settings, settings.digests[0], run.id, render_for, NOW)
    store.close()
    with run_lock(settings):
        held = _cli(tmp_path, "resend", "1", "-c", str(config))
    assert held.exit_code == 1, held.output
    assert "held by" in held.output and "another digest run or digest serve" in held.output
    assert server.handler.count(row.recipient) == 1
    free = _cli(tmp_path, "resend", "1", "-c", str(config))
    assert free.exit_code == 0, free.output
    assert server.handler.count(row.recipient) == 2


def test_cli_doctor(tmp_path: Path, server: SmtpServer) -> None:
    config = _config(tmp_path, server)
    ok = _cli(tmp_path, "doctor", "-c", str(config))
    assert ok.exit_code == 0, ok.output
    assert [line.split(":")[0] for line in ok.output.splitlines()[1:]] == [
        "ok   connect", "ok   tls", "ok   auth",
    ]  # fmt: skip
    bad = _cli(tmp_path, "doctor", "-c", str(config), password="wrong")
    assert bad.exit_code == 1
    assert "FAIL auth: authentication failed for user 'digest': 535" in bad.output
    outbox = _cli(tmp_path, "doctor", "-c", str(_config(tmp_path, None)))
    assert outbox.exit_code == 0 and "ok   outbox: no SMTP configured" in outbox.output


def test_recipients_differing_only_in_the_domains_case_get_one_message(tmp_path: Path) -> None:
    # Bob@Example.org and Bob@example.org got two messages of the same period.
    config = write_config(tmp_path, "send_empty = true")
    text = config.read_text(encoding="utf-8").replace(
        'recipients = ["a@example.org", "b@example.org"]',
        'recipients = ["Bob@Example.org", "Bob@example.org", "a@example.org", "a@EXAMPLE.ORG"]',
    )
    config.write_text(text, encoding="utf-8")
    done = run(config, "--as-of", AS_OF)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(m["To"] for m in emls(tmp_path)) == ["Bob@Example.org", "a@example.org"]
    # Written another way in the config later, the same recipient is not sent the period again.
    config.write_text(text.replace('"Bob@Example.org", ', ""), encoding="utf-8")
    again = run(config, "--as-of", AS_OF)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already written at " in again.stdout
    assert len(emls(tmp_path)) == 2
