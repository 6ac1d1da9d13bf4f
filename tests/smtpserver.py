"""Test helpers for delivery: a loopback aiosmtpd server with STARTTLS and AUTH, and builders.

`SmtpServer` runs aiosmtpd on 127.0.0.1 with a certificate from a throwaway trustme CA;
clients trust it through `SmtpSettings.ca_file`. It requires STARTTLS before AUTH and AUTH
before MAIL, records every accepted message, and can be told to answer 4xx/5xx on purpose.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, LoginPassword

from digest.config.settings import DigestSettings, Recipient, Settings, SmtpSettings
from digest.models import Rendered

USER, PASSWORD = "digest", "s3cret-pass"
NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class Handler:
    """aiosmtpd handler that records messages and fails on demand."""

    messages: list[Received] = field(default_factory=list)
    # Replies to give to the next DATA commands instead of accepting ("451 ...", "554 ...").
    data_replies: list[str] = field(default_factory=list)
    # Replies to give to the next MAIL FROM commands instead of accepting ("421 ...").
    mail_replies: list[str] = field(default_factory=list)
    # Recipient address -> reply to RCPT TO (e.g. "550 5.1.1 mailbox unavailable").
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    # Called with the number of messages accepted so far, after recording each one.
    on_message: Callable[[int], None] | None = None
    # Recipients whose message is accepted, after which the server hangs up without the 250.
    hang_up_after: set[str] = field(default_factory=set)
    # Called with each RCPT TO address before answering it.
    on_rcpt: Callable[[str], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        with self.lock:
            if self.mail_replies:
                return self.mail_replies.pop(0)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.on_rcpt is not None:
            self.on_rcpt(address)
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.data_replies:
                return self.data_replies.pop(0)
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
            count = len(self.messages)
        if self.on_message is not None:
            self.on_message(count)
        if self.hang_up_after.intersection(envelope.rcpt_tos):
            server.transport.abort()  # the client never hears whether it was accepted
        return "250 2.0.0 Message accepted for delivery"

    def count(self, address: str) -> int:
        """Return how many accepted messages went to address."""
        with self.lock:
            return sum(m.rcpt_tos.count(address) for m in self.messages)


DROP_STAGES = ("connect", "ehlo", "auth", "mail", "rcpt", "data", "mid-data", "after-dot")


@dataclass
class DroppingHandler(Handler):
    """A Handler whose first session hangs up (a TCP abort, no reply) at one stage.

    Stages: connect (before the greeting), ehlo, auth, mail, rcpt, data (the DATA
    command), mid-data (after 2 KB of the message), after-dot (message taken, no reply).
    Later sessions behave normally, so a retry can succeed.
    """

    drop_at: str = ""
    done: bool = False
    # Set once the dropped connection's socket is closed (not merely asked to close).
    dropped: threading.Event = field(default_factory=threading.Event)

    def drop(self, server: Any, stage: str) -> bool:
        """Abort the connection if this is the stage to drop at (once); return whether."""
        if self.drop_at != stage or self.done:
            return False
        self.done = server.dropping = True
        server.transport.abort()
        return True

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.drop(server, "ehlo")
        return responses

    async def handle_AUTH(self, server: Any, session: Any, envelope: Any, args: Any) -> Any:
        return "421 gone" if self.drop(server, "auth") else MISSING

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.drop(server, "mail"):
            return "421 gone"
        return await super().handle_MAIL(server, session, envelope, address, options)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.drop(server, "rcpt"):
            return "421 gone"
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        self.drop(server, "after-dot")  # recorded as accepted, but the client hears nothing
        return reply


class _DroppingSMTP(SMTP):
    """aiosmtpd's SMTP, hanging up before the greeting, on DATA or in the middle of DATA."""

    def __init__(self, handler: DroppingHandler, armed: bool, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.dropper = handler
        self.armed = armed
        self.body = -1  # bytes of the message received so far; -1 before DATA

    dropping = False

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        if self.armed:
            self.dropper.drop(self, "connect")

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        if self.dropping:
            # asyncio closes the socket right after this call returns.
            self.loop.call_soon(self.dropper.dropped.set)

    def data_received(self, data: bytes) -> None:
        if self.body >= 0:
            self.body += len(data)
            if self.body >= 2048 and self.dropper.drop(self, "mid-data"):
                return
        elif data.upper().startswith(b"DATA"):
            if self.dropper.drop(self, "data"):
                return
            self.body = 0
        super().data_received(data)


class _DroppingController(Controller):
    calls = 0

    def factory(self) -> SMTP:
        # The first connection is the Controller's own check that the server is up.
        self.calls += 1
        return _DroppingSMTP(self.handler, self.calls > 1, **self.SMTP_kwargs)


class _DropLoginDataNotice(logging.Filter):
    """aiosmtpd 1.4 logs a deprecation notice on every AUTH from its own code; not ours."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_DropLoginDataNotice())


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """aiosmtpd on 127.0.0.1: STARTTLS (trustme certificate) and required AUTH by default.

    mode "tls" serves implicit TLS (like port 465) with AUTH; mode "none" is plain SMTP
    without TLS or AUTH, as on a trusted relay.
    """

    def __init__(
        self, tmp: Path, port: int | None = None, mode: str = "starttls", drop_at: str = ""
    ) -> None:
        self.ca = trustme.CA()
        self.ca_file = tmp / "smtp-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.port = port or free_port()
        self.mode = mode
        # drop_at: hang up at that stage of the first session (see DroppingHandler).
        self.handler: Handler = DroppingHandler(drop_at=drop_at) if drop_at else Handler()
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        """Start listening (again, on the same port)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        options: dict[str, Any] = {"auth_required": True, "authenticator": _authenticate}
        if self.mode == "starttls":
            options.update(tls_context=context, require_starttls=True)
        elif self.mode == "tls":
            # aiosmtpd only counts STARTTLS as TLS for AUTH; the socket here is TLS from the
            # first byte, so AUTH is offered without that check (and without auth_required,
            # whose combination with it makes aiosmtpd warn).
            options = {"ssl_context": context, "auth_require_tls": False}
            options["authenticator"] = _authenticate
        else:
            options = {}
        kind = _DroppingController if isinstance(self.handler, DroppingHandler) else Controller
        self.controller = kind(self.handler, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()
        return self

    def stop(self) -> None:
        """Stop listening; a client then gets connection refused."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def settings(self, **changes: Any) -> SmtpSettings:
        """Return client settings for this server (trusting the test CA)."""
        return replace(client_settings(self.port, self.ca_file, self.mode), **changes)


def client_settings(
    port: int, ca_file: Path, mode: str = "starttls", **changes: Any
) -> SmtpSettings:
    """Return SmtpSettings for a test server on 127.0.0.1 (login unless mode is 'none')."""
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": mode,
        "username": None if mode == "none" else USER,
        "password": None if mode == "none" else PASSWORD,
        "timeout": 10.0,
        "from_addr": "Digest <digest@example.org>",
        "ca_file": str(ca_file),
        "retry_deadline": timedelta(hours=6),
    }
    return SmtpSettings(**values)


class _DotFails(smtplib.SMTP):
    """A client whose socket dies just as the final "." is written (body already sent)."""

    def send(self, s: Any) -> None:  # smtplib's own type (Buffer | str) needs Python 3.12
        if s == b".\r\n" and self.sock is not None:
            # The write below then fails as on a reset connection; the server sees EOF.
            self.sock.shutdown(socket.SHUT_RDWR)
        super().send(s)


class _WaitsAfterBody(smtplib.SMTP):
    """A client that, after writing a message body, waits until the server has hung up.

    Makes "the server dropped in the middle of DATA, before the client wrote the dot"
    happen in that order every time, instead of racing the server's event loop.
    """

    hung_up: threading.Event

    def send(self, s: Any) -> None:
        super().send(s)
        if isinstance(s, bytes) and len(s) > 2048:
            self.hung_up.wait(5)


def waits_after_body_connect(
    hung_up: threading.Event,
) -> Callable[[SmtpSettings, ssl.SSLContext], smtplib.SMTP]:
    """Return a connect function whose client waits for hung_up after sending a body."""

    def connect(smtp: SmtpSettings, context: ssl.SSLContext) -> smtplib.SMTP:
        client = _WaitsAfterBody(smtp.host, smtp.port, local_hostname="localhost", timeout=5)
        client.hung_up = hung_up
        return client

    return connect


def dot_fails_connect(smtp: SmtpSettings, context: ssl.SSLContext) -> smtplib.SMTP:
    """Return a connected client (plain TCP) whose write of the final dot fails."""
    return _DotFails(smtp.host, smtp.port, local_hostname="localhost", timeout=smtp.timeout)


def small_pdf() -> bytes:
    """Return a real one-page PDF."""
    from reportlab.pdfgen.canvas import Canvas

    buffer = BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, "Morning digest")
    canvas.save()
    return buffer.getvalue()


def pages_pdf(pages: int = 12) -> bytes:
    """Return a real PDF of text pages (tens of KB), about a digest's size."""
    from reportlab.pdfgen.canvas import Canvas

    buffer = BytesIO()
    canvas = Canvas(buffer)
    for page in range(pages):
        for line in range(50):
            canvas.drawString(40, 800 - 15 * line, f"Page {page} line {line}: " + "news " * 12)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def linked_rendered(link: str = "https://example.org/u/{token}") -> Rendered:
    """Return a Rendered of digest size: long HTML and text ending in an unsubscribe link."""
    para = "<p>" + "Stories of the day, in some detail. " * 40 + "</p>"
    return Rendered(
        subject="Morning digest",
        html=f"<html><body>{para * 20}<p><a href='{link}'>Unsubscribe</a> ({link})</p></body></html>",
        text="Morning digest\n\n" + "A story. " * 400 + f"\n\nUnsubscribe: {link}\n",
        pdf=pages_pdf(),
    )


def rendered(subject: str = "Morning digest — 25 November", pdf: bytes | None = b"") -> Rendered:
    """Return a small Rendered with text, HTML and (by default) a real PDF."""
    return Rendered(
        subject=subject,
        html="<html><body><h1>Morning digest</h1><p>Café, «ёлка» & more</p></body></html>",
        text="Morning digest\n\nCafé, «ёлка» & more\n",
        pdf=small_pdf() if pdf == b"" else pdf,
    )


def recipients(n: int) -> tuple[Recipient, ...]:
    """Return n recipients r000@example.org, r001@example.org, ..."""
    return tuple(Recipient(address=f"r{i:03d}@example.org", name=f"Reader {i}") for i in range(n))


def make_settings(
    tmp: Path,
    people: tuple[Recipient, ...],
    smtp: SmtpSettings | None = None,
    maildir: Path | None = None,
) -> tuple[Settings, DigestSettings]:
    """Return Settings with one digest 'morning' for these recipients, data under tmp."""
    d = DigestSettings(
        name="morning",
        title="Morning digest",
        feeds=(),
        recipients=people,
        unsubscribe="mailto:unsubscribe@example.org https://example.org/unsub?u=1",
    )
    settings = Settings(
        config_path=None,
        data_dir=tmp,
        storage_url=f"sqlite:///{tmp / 'digest.db'}",
        outbox_dir=tmp / "outbox",
        digests=(d,),
        smtp=smtp,
        maildir=maildir,
    )
    return settings, d
