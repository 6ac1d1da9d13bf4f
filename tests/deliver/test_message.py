"""mail: MIME structure read back with the stdlib parser, header safety, files, SMTP, doctor."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from smtpserver import NOW, SmtpServer, dot_fails_connect, free_port, rendered

from digest.config.settings import Recipient
from digest.deliver.message import (
    Addressing,
    build_message,
    message_bytes,
    unsubscribe_link,
    unsubscribe_targets,
    write_eml,
    write_maildir,
)
from digest.deliver.smtp import SmtpSession, UncertainDeliveryError, doctor, send_message
from digest.errors import DeliveryError, PermanentDeliveryError
from digest.models import Rendered

BOB = Recipient(address="bob@example.org", name="Боб Иванов")


def _build(r: Rendered, formats: tuple[str, ...] = ("pdf", "html"), **kw: object) -> EmailMessage:
    args: dict[str, object] = {
        "recipient": BOB,
        "sender": "Digest <digest@example.org>",
        "reply_to": "editor@example.org",
        "list_id": "Morning <morning.example.org>",
        "unsubscribe": "mailto:unsub@example.org, https://example.org/u?id=1",
        "now": NOW,
        "formats": formats,
    }
    args.update(kw)
    formats = args.pop("formats")
    return build_message(r, Addressing(**args), formats)  # type: ignore[arg-type]


def _parse(msg: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message_bytes(msg), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_structure_is_mixed_alternative_and_pdf() -> None:
    r = rendered()
    parsed = _parse(_build(r))
    assert parsed.get_content_type() == "multipart/mixed"
    alternative, attachment = parsed.get_payload()  # type: ignore[misc]
    assert alternative.get_content_type() == "multipart/alternative"
    text, html = alternative.get_payload()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert "«ёлка»" in text.get_content() and "«ёлка»" in html.get_content()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename().endswith(".pdf")
    assert attachment.get_content() == r.pdf and r.pdf is not None and r.pdf.startswith(b"%PDF")
    assert parsed["Message-ID"].startswith("<") and parsed["Date"]
    assert parsed["List-Id"] == "Morning <morning.example.org>"
    assert parsed["List-Unsubscribe"] == "<mailto:unsub@example.org>, <https://example.org/u?id=1>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Reply-To"] == "editor@example.org"
    assert parsed["To"].addresses[0].display_name == "Боб Иванов"
    assert message_bytes(_build(r)).isascii()  # 7-bit clean: any server takes it


def test_cyrillic_subject_round_trips() -> None:
    subject = "Утренний дайджест: «главное» за 25 ноября — санкции, наводнения и выборы в регионах"
    parsed = _parse(_build(rendered(subject)))
    assert parsed["Subject"] == subject
    assert b"=?utf-8?" in message_bytes(_build(rendered(subject)))


def test_newline_in_title_stays_in_subject() -> None:
    parsed = _parse(_build(rendered("Storm\r\nBcc: victim@example.com\nX-Evil: 1")))
    assert parsed["Subject"] == "Storm Bcc: victim@example.com X-Evil: 1"
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None


def test_formats_html_only_and_pdf_only() -> None:
    html_only = _parse(_build(rendered(), formats=("html",)))
    assert [p.get_content_type() for p in html_only.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html",
    ]  # fmt: skip
    pdf_only = _parse(_build(rendered(), formats=("pdf",)))
    assert [p.get_content_type() for p in pdf_only.walk()] == [
        "multipart/mixed", "text/plain", "application/pdf",
    ]  # fmt: skip


def test_pdf_note_replaces_attachment() -> None:
    r = Rendered(
        "S", "<html><body><p>x</p></body></html>", "x", b"%PDF-1.4", "PDF too large: 12 MB"
    )
    parsed = _parse(_build(r))
    assert "application/pdf" not in [p.get_content_type() for p in parsed.walk()]
    body = parsed.get_body(("plain",))
    assert body is not None and "PDF too large: 12 MB" in body.get_content()


def test_bad_address_is_a_permanent_error() -> None:
    with pytest.raises(PermanentDeliveryError, match=re.escape("deliver: bob@@example.org")):
        _build(rendered(), recipient=Recipient(address="bob@@example.org"))


@pytest.mark.parametrize(
    ("setting", "targets", "link"),
    [
        (
            "mailto:a@example.org https://example.org/u",
            ["mailto:a@example.org", "https://example.org/u"],
            "https://example.org/u",
        ),
        (
            "<https://example.org/u?id=1>",
            ["https://example.org/u?id=1"],
            "https://example.org/u?id=1",
        ),
        ("a@example.org", ["mailto:a@example.org"], "mailto:a@example.org"),
        (
            "http://example.org/u, b@example.org",
            ["http://example.org/u", "mailto:b@example.org"],
            "mailto:b@example.org",
        ),
        (None, [], None),
    ],
)
def test_unsubscribe_targets_and_the_one_to_link(
    setting: str | None, targets: list[str], link: str | None
) -> None:
    assert unsubscribe_targets(setting) == targets
    assert unsubscribe_link(setting) == link


def test_write_eml_is_atomic_and_stable(tmp_path: Path) -> None:
    msg = _build(rendered())
    path = write_eml(msg, tmp_path / "out", "morning-2026-11-25-bob@example.org")
    assert path.name == "morning-2026-11-25-bob@example.org.eml"
    again = write_eml(message_bytes(msg), tmp_path / "out", "morning-2026-11-25-bob@example.org")
    assert again == path and sorted(p.name for p in path.parent.iterdir()) == [path.name]
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Morning digest — 25 November"


def test_write_maildir_does_not_duplicate_a_read_message(tmp_path: Path) -> None:
    data = message_bytes(_build(rendered()))
    first = write_maildir(data, tmp_path / "Mail", "1764054000.digest1_abc")
    assert first.parent.name == "new"
    moved = tmp_path / "Mail" / "cur" / (first.name + ":2,S")  # a mail client read it
    first.rename(moved)
    assert write_maildir(data, tmp_path / "Mail", "1764054000.digest1_abc") == moved
    assert list((tmp_path / "Mail" / "new").iterdir()) == []
    assert list((tmp_path / "Mail" / "tmp").iterdir()) == []


# -- against a real aiosmtpd server (STARTTLS + AUTH) -----------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SmtpServer]:
    srv = SmtpServer(tmp_path).start()
    yield srv
    srv.stop()


def test_send_over_starttls_with_auth(server: SmtpServer) -> None:
    subject = "Дайджест\nвторая строка"
    send_message(_build(rendered(subject)), server.settings())
    (received,) = server.handler.messages
    assert received.rcpt_tos == ["bob@example.org"]
    assert received.mail_from == "digest@example.org"
    parsed = email.message_from_bytes(received.content, policy=email.policy.default)
    assert parsed["Subject"] == "Дайджест вторая строка"
    assert parsed.get_content_type() == "multipart/mixed"


def test_wrong_password_is_a_clear_error(server: SmtpServer) -> None:
    with pytest.raises(DeliveryError, match="authentication failed for user 'digest': 535"):
        send_message(_build(rendered()), server.settings(password="wrong"))
    assert server.handler.messages == []


def test_missing_password_is_a_clear_error(server: SmtpServer) -> None:
    with pytest.raises(DeliveryError, match="DIGEST_SMTP_PASSWORD"):
        send_message(_build(rendered()), server.settings(password=None))


def test_untrusted_certificate_is_a_clear_error(server: SmtpServer) -> None:
    with pytest.raises(DeliveryError, match="TLS certificate not trusted"):
        send_message(_build(rendered()), server.settings(ca_file=None))


def test_server_down_is_transient(tmp_path: Path) -> None:
    srv = SmtpServer(tmp_path, port=free_port())
    with pytest.raises(DeliveryError, match="connection refused") as info:
        send_message(_build(rendered()), srv.settings())
    assert not isinstance(info.value, PermanentDeliveryError)


def test_4xx_is_transient_and_5xx_permanent(server: SmtpServer) -> None:
    server.handler.data_replies.append("451 4.3.0 try again later")
    with pytest.raises(DeliveryError, match=re.escape("bob@example.org: 451")) as info:
        send_message(_build(rendered()), server.settings())
    assert not isinstance(info.value, PermanentDeliveryError)
    server.handler.rcpt_replies["bob@example.org"] = "550 5.1.1 mailbox unavailable"
    with pytest.raises(
        PermanentDeliveryError, match=re.escape("deliver: bob@example.org: 550 5.1.1")
    ):
        send_message(_build(rendered()), server.settings())


def test_session_reconnects_when_the_server_dropped_the_idle_connection(
    server: SmtpServer,
) -> None:
    session = SmtpSession(server.settings())
    data = message_bytes(_build(rendered()))
    session.send(data, sender="digest@example.org", recipients=["a@example.org"])
    server.handler.mail_replies.append("421 4.4.2 idle too long, closing")
    session.send(data, sender="digest@example.org", recipients=["b@example.org"])
    session.close()
    assert [m.rcpt_tos for m in server.handler.messages] == [["a@example.org"], ["b@example.org"]]
    # On a fresh connection a 421 is an ordinary transient error, not retried in a loop.
    server.handler.mail_replies.append("421 4.3.2 shutting down")
    with pytest.raises(DeliveryError, match=re.escape("421 4.3.2 shutting down")) as info:
        send_message(_build(rendered()), server.settings())
    assert not isinstance(info.value, PermanentDeliveryError)


def test_failure_writing_the_final_dot_is_retryable_not_uncertain(server: SmtpServer) -> None:
    # The dot never arrived whole: the server cannot have the message, so it is retried.
    session = SmtpSession(server.settings(), dot_fails_connect)
    data = message_bytes(_build(rendered()))
    handed_over: list[bool] = []
    with pytest.raises(DeliveryError, match="before the end of the message") as caught:
        session.send(
            data,
            sender="digest@example.org",
            recipients=["bob@example.org"],
            before_dot=lambda: handed_over.append(True),
        )
    session.close()
    assert not isinstance(caught.value, UncertainDeliveryError)
    assert handed_over == [True]
    assert server.handler.messages == []  # without the dot the server kept nothing


def test_doctor_reports_each_step(server: SmtpServer) -> None:
    steps = doctor(server.settings())
    assert [(name, ok) for name, ok, _ in steps] == [
        ("connect", True),
        ("tls", True),
        ("auth", True),
    ]
    assert "STARTTLS negotiated (TLSv1." in steps[1][2]
    bad = doctor(server.settings(password="nope"))
    assert [(name, ok) for name, ok, _ in bad] == [
        ("connect", True),
        ("tls", True),
        ("auth", False),
    ]
    assert "535" in bad[2][2]
    down = doctor(server.settings(port=free_port()))
    assert down == [("connect", False, down[0][2])] and "refused" in down[0][2]


def test_implicit_tls_and_plain_modes(tmp_path: Path) -> None:
    for mode in ("tls", "none"):
        srv = SmtpServer(tmp_path, mode=mode).start()
        try:
            steps = doctor(srv.settings())
            assert all(ok for _, ok, _ in steps), steps
            assert ("implicit TLS negotiated" in steps[1][2]) == (mode == "tls")
            send_message(_build(rendered()), srv.settings())
            assert srv.handler.count("bob@example.org") == 1
            if mode == "none":  # STARTTLS asked of a server without it: said plainly
                with pytest.raises(DeliveryError, match="server does not offer STARTTLS"):
                    send_message(_build(rendered()), srv.settings(security="starttls"))
        finally:
            srv.stop()


def test_tls_mode_on_a_starttls_port_is_a_clear_error(server: SmtpServer) -> None:
    with pytest.raises(DeliveryError, match=re.escape("TLS failed: WRONG_VERSION_NUMBER")):
        send_message(_build(rendered()), server.settings(security="tls", timeout=3.0))
