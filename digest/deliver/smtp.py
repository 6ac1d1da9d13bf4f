"""SMTP sending with explicit security ("starttls" | "tls" | "none") and `doctor`.

SMTP errors are mapped once, here: 5xx -> PermanentDeliveryError; 4xx, refused connections
and timeouts -> DeliveryError (retried by the ledger). Failures while setting up the
connection (TLS, login) are transient too: they are configuration or outage problems, fixed
by the operator while the ledger keeps retrying until smtp.retry_deadline.

A broken connection is classified by where it breaks. Before the final "." has been written
whole (connect, EHLO, AUTH, MAIL, RCPT, DATA, the body, the dot itself) the server cannot
have accepted the message: DeliveryError, retried. Only a reply lost after the dot was
written is UncertainDeliveryError: the server may have accepted it.

An injected `connect(smtp, ssl_context) -> smtplib.SMTP` returns a connected client (TLS
already on for security = "tls"); EHLO, STARTTLS and login are done here.
"""

from __future__ import annotations

import contextlib
import re
import select
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from email.message import EmailMessage

from digest.config import SmtpSettings
from digest.deliver.message import message_bytes
from digest.errors import DeliveryError, PermanentDeliveryError

Connect = Callable[[SmtpSettings, ssl.SSLContext], smtplib.SMTP]


class UncertainDeliveryError(DeliveryError):
    """The connection broke after the final dot: the server may have accepted the message."""


Report = Callable[[str, bool, str], None]


def tls_context(smtp: SmtpSettings) -> ssl.SSLContext:
    """Return the client TLS context: system CAs (or smtp.ca_file), verified unless disabled.

    Loading the CAs takes tens of milliseconds, and a `digest worker` opens a connection per
    delivery job: a context is reused for a few minutes (so renewed CAs are still read).
    """
    key = (smtp.ca_file, smtp.verify)
    kept = _CONTEXTS.get(key)
    if kept is not None and time.monotonic() - kept[0] < _CONTEXT_KEPT_S:
        return kept[1]
    context = _new_context(smtp)
    _CONTEXTS[key] = (time.monotonic(), context)
    return context


_CONTEXTS: dict[tuple[object, bool], tuple[float, ssl.SSLContext]] = {}
_CONTEXT_KEPT_S = 300.0


def _new_context(smtp: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=smtp.ca_file)
    if not smtp.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _default_connect(smtp: SmtpSettings, context: ssl.SSLContext) -> smtplib.SMTP:
    """Return a connected client: implicit TLS for 'tls', plain TCP otherwise."""
    # gethostname, not smtplib's getfqdn default, which can stall on a slow resolver.
    local = socket.gethostname() or "localhost"
    if smtp.security == "tls":
        return smtplib.SMTP_SSL(
            smtp.host, smtp.port, local_hostname=local, timeout=smtp.timeout, context=context
        )
    return smtplib.SMTP(smtp.host, smtp.port, local_hostname=local, timeout=smtp.timeout)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _describe(exc: BaseException, smtp: SmtpSettings) -> str:
    """Return one line saying what went wrong with the connection, and a hint when useful."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        reply = _text(exc.smtp_error)
        return f"authentication failed for user {smtp.username!r}: {exc.smtp_code} {reply}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"TLS certificate not trusted: {exc.verify_message} "
            "(set smtp.ca_file to the server's CA; verify = false only for testing)"
        )
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc} (does security = {smtp.security!r} fit the port?)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running, and is the port right?)"
    if isinstance(exc, TimeoutError):
        return f"timed out after {smtp.timeout:g}s"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host: {exc.strerror}"
    return str(exc) or type(exc).__name__


def _open(smtp: SmtpSettings, connect: Connect | None, report: Report | None) -> smtplib.SMTP:
    """Return a client that is connected, TLS-secured as configured and logged in."""
    where = f"{smtp.host}:{smtp.port}"
    note: Report = report or (lambda step, ok, detail: None)
    context = tls_context(smtp)
    step, conn = "connect", None
    try:
        conn = (connect or _default_connect)(smtp, context)
        _no_delay(conn)
        conn.ehlo()
        note(step, True, f"connected to {where}, EHLO answered")
        step = "tls"
        if smtp.security == "starttls":
            if not conn.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError(
                    "server does not offer STARTTLS (security = 'starttls'); "
                    "use 'tls' for port 465, or 'none' only on a trusted network"
                )
            conn.starttls(context=context)
            conn.ehlo()
        note(step, True, _tls_detail(conn, smtp))
        step = "auth"
        if smtp.username:
            if not conn.has_extn("auth"):
                raise smtplib.SMTPNotSupportedError("server offers no AUTH on this connection")
            if not smtp.password:
                raise smtplib.SMTPException(
                    f"smtp.username {smtp.username!r} is set but no password is "
                    "(set DIGEST_SMTP_PASSWORD, or the variable named by smtp.password_env)"
                )
            conn.login(smtp.username, smtp.password)
            note(step, True, f"authenticated as {smtp.username!r}")
        else:
            note(step, True, "no username configured: not logging in")
    except (smtplib.SMTPException, OSError) as exc:
        if conn is not None:
            conn.close()
        message = _describe(exc, smtp)
        note(step, False, message)
        raise DeliveryError(where, message) from exc
    return conn


def _no_delay(conn: smtplib.SMTP) -> None:
    """Turn off Nagle: the final dot is a separate small write after the ledger commit, and
    Nagle plus the server's delayed ACK would hold it back ~40 ms per message."""
    if isinstance(conn.sock, socket.socket) and conn.sock.family != socket.AF_UNIX:
        with contextlib.suppress(OSError):  # not TCP: nothing to tune
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _tls_detail(conn: smtplib.SMTP, smtp: SmtpSettings) -> str:
    if smtp.security == "none":
        return "security = 'none': no TLS (use only on a trusted network)"
    version = conn.sock.version() if isinstance(conn.sock, ssl.SSLSocket) else "?"
    checked = "certificate verified" if smtp.verify else "certificate NOT verified (verify = false)"
    kind = "STARTTLS" if smtp.security == "starttls" else "implicit TLS"
    return f"{kind} negotiated ({version}), {checked} for {smtp.host}"


def _refuse(conn: smtplib.SMTP, subject: str, code: int, reply: bytes) -> DeliveryError:
    """Return the error for a refusing reply, resetting the transaction for the next message."""
    text = f"{code} {_text(reply)}"
    if code == 421:  # the server is closing the connection
        conn.close()
    else:
        try:
            conn.rset()
        except (smtplib.SMTPException, OSError):
            conn.close()
    if 500 <= code < 600:
        return PermanentDeliveryError(subject, text)
    return DeliveryError(subject, text)


class _StaleConnection(Exception):
    """A reused connection turned out closed before the transaction began."""


def _transfer(
    conn: smtplib.SMTP,
    data: bytes,
    sender: str,
    recipients: Sequence[str],
    before_dot: Callable[[], None] | None,
) -> None:
    """Run one SMTP transaction by hand, so before_dot runs just before the final dot."""
    subject = ", ".join(recipients)
    try:
        code, reply = conn.mail(sender)
    except smtplib.SMTPServerDisconnected as exc:
        raise _StaleConnection(f"connection closed by the server: {exc}") from exc
    if code == 421:  # the server timed the idle connection out
        raise _StaleConnection(f"{code} {_text(reply)}")
    if code != 250:
        raise _refuse(conn, subject, code, reply)
    for rcpt in recipients:
        code, reply = conn.rcpt(rcpt)
        if code not in (250, 251):
            raise _refuse(conn, subject, code, reply)
    code, reply = conn.docmd("DATA")
    if code != 354:
        raise _refuse(conn, subject, code, reply)
    # Dot-stuffing, as smtplib does; most messages have no line starting with a dot, and a
    # search is cheaper than the substitution over a whole message with its PDF.
    stuff = data.startswith(b".") or b"\n." in data
    body = re.sub(rb"(?m)^\.", b"..", data) if stuff else data
    conn.send(body if body.endswith(b"\r\n") else body + b"\r\n")
    if before_dot is not None:
        try:
            before_dot()
        except BaseException:  # whatever stops us here (even ^C), the dot must not follow
            conn.close()  # without the dot the server discards the message
            raise
    _send_dot(conn, subject)
    # The dot is written whole: from here on only a reply settles whether the server has
    # the message, so a lost reply leaves it unknown.
    try:
        code, reply = conn.getreply()
    except (smtplib.SMTPException, OSError) as exc:
        conn.close()
        raise UncertainDeliveryError(
            subject, f"connection lost after the message was handed over: {exc}"
        ) from exc
    if code != 250:
        raise _refuse(conn, subject, code, reply)


def _send_dot(conn: smtplib.SMTP, subject: str) -> None:
    """Write the final dot; DeliveryError (retried) when the server is gone before it."""
    # A server that hung up mid-DATA leaves the socket readable (EOF or a reset); the
    # dot's write may still land in the kernel's buffer, so look before writing it. No
    # reply is due before the dot, so anything readable means the transaction is over.
    sock = conn.sock
    gone = sock is None or (isinstance(sock, ssl.SSLSocket) and sock.pending() > 0)
    if sock is not None and not gone:
        with contextlib.suppress(OSError, ValueError):
            gone = bool(select.select([sock], [], [], 0)[0])
    if not gone:
        try:
            # A failed write means the terminator did not arrive whole (sendall stops at
            # the first error): the server cannot have accepted the message.
            conn.send(b".\r\n")
            return
        except (smtplib.SMTPException, OSError) as exc:
            detail = f"connection lost before the end of the message: {exc}"
    else:
        detail = "connection closed by the server before the end of the message"
    conn.close()
    raise DeliveryError(subject, detail)


class SmtpSession:
    """One SMTP connection reused across messages, reopened once when it breaks."""

    def __init__(self, smtp: SmtpSettings, connect: Connect | None = None) -> None:
        self.smtp = smtp
        self._connect = connect
        self._conn: smtplib.SMTP | None = None
        # After a failed connect, the rest of this pass fails fast instead of waiting out
        # one timeout per recipient.
        self._failed: DeliveryError | None = None

    def send(
        self,
        data: bytes,
        *,
        sender: str,
        recipients: Sequence[str],
        before_dot: Callable[[], None] | None = None,
    ) -> None:
        """Send the bytes to the recipients; raise DeliveryError (or a subclass) on failure."""
        reused = self._conn is not None
        try:
            self._attempt(data, sender, recipients, before_dot, stale_ok=reused)
        except _StaleConnection:
            # The server dropped the idle connection before MAIL FROM was answered: nothing
            # of this message reached it, so one fresh connection is safe.
            self._attempt(data, sender, recipients, before_dot, stale_ok=False)

    def _attempt(
        self,
        data: bytes,
        sender: str,
        recipients: Sequence[str],
        before_dot: Callable[[], None] | None,
        *,
        stale_ok: bool,
    ) -> None:
        conn = self._open()
        try:
            _transfer(conn, data, sender, recipients, before_dot)
        except _StaleConnection as exc:
            conn.close()
            if stale_ok:
                raise
            raise DeliveryError(", ".join(recipients), str(exc)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            conn.close()
            raise DeliveryError(", ".join(recipients), _describe(exc, self.smtp)) from exc
        finally:
            if conn.sock is None:  # smtplib closes the socket when the connection broke
                self._conn = None

    def _open(self) -> smtplib.SMTP:
        if self._conn is None:
            if self._failed is not None:
                raise self._failed
            try:
                self._conn = _open(self.smtp, self._connect, None)
            except DeliveryError as exc:
                self._failed = exc
                raise
        return self._conn

    def close(self) -> None:
        """Say QUIT politely and close; errors at this point change nothing."""
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                self._conn.close()
            self._conn = None


def send_message(msg: EmailMessage, smtp: SmtpSettings, *, connect: Connect | None = None) -> None:
    """Send one message to its To/Cc addresses; raise DeliveryError or PermanentDeliveryError."""
    recipients = [a.addr_spec for h in ("To", "Cc") for a in getattr(msg[h], "addresses", ())]
    session = SmtpSession(smtp, connect)
    try:
        session.send(message_bytes(msg), sender=smtp.from_addr, recipients=recipients)
    finally:
        session.close()


def doctor(smtp: SmtpSettings, *, connect: Connect | None = None) -> list[tuple[str, bool, str]]:
    """Connect, negotiate TLS and log in; return each step as (name, ok, detail)."""
    steps: list[tuple[str, bool, str]] = []
    try:
        conn = _open(smtp, connect, lambda step, ok, detail: steps.append((step, ok, detail)))
    except DeliveryError:
        return steps
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()
    return steps
