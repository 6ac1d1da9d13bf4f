"""MIME messages, and .eml and Maildir files (SMTP sending is in smtp.py).

`build_message` makes one message per recipient: multipart/mixed holding a
multipart/alternative (text, HTML) and the PDF. Every body part is quoted-printable or
base64, so the bytes are 7-bit clean and any server accepts them without 8BITMIME.
Feed text reaches headers only through `one_line`, so a newline in a title cannot add a
header.
"""

from __future__ import annotations

import email.policy
import hashlib
import html as html_lib
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import quoprimime
from email.errors import HeaderParseError
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from digest.config import Recipient
from digest.deliver.unsubscribe import PLACEHOLDER
from digest.errors import DeliveryError, PermanentDeliveryError
from digest.files import write_atomic
from digest.models import MessageParts, Rendered


class _OneLineHeader(UnstructuredHeader, BaseHeader):
    """A header kept on one line (RFC 5322 allows 998 characters).

    The default folding turns a word longer than 78 characters, such as an unsubscribe URL
    with its token, into RFC 2047 encoded words, which no mail client reads as a URL.
    """

    def fold(self, *, policy: email.policy.Policy) -> str:
        """Return the header as one line."""
        return f"{self.name}: {self}{policy.linesep}"


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("list-unsubscribe", _OneLineHeader)


class _FoldingPolicy(email.policy.EmailPolicy):
    """email.policy.SMTP, but a header's value never starts on a line of its own.

    The stdlib folder moves a whole value that would fit on a continuation line but not after
    "Subject: " to the next line, leaving the header's first line empty (which some clients
    show as an empty subject); such a fold is refilled from the header name on.
    """

    def fold(self, name: str, value: str) -> str:
        """Return the header folded, its first line filled."""
        return _refill(super().fold(name, value), self.linesep, self.max_line_length or 78)

    def fold_binary(self, name: str, value: str) -> bytes:
        """Return the header folded as bytes, its first line filled."""
        text = super().fold_binary(name, value).decode("ascii", "surrogateescape")
        refilled = _refill(text, self.linesep, self.max_line_length or 78)
        return refilled.encode("ascii", "surrogateescape")


def _refill(folded: str, linesep: str, width: int) -> str:
    head, _, rest = folded.partition(linesep)
    name, _, first = head.partition(":")
    if first.strip() or not rest.startswith((" ", "\t")):
        return folded
    # Any whitespace in the folded value is a place to fold (encoded words hold none).
    lines = [f"{name}:"]
    for word in rest.replace(linesep, "").split():
        if lines[-1] == f"{name}:" or len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(" " + word)
    return linesep.join(lines) + linesep


# CRLF line ends: the bytes are what goes over SMTP and into the ledger, byte for byte.
POLICY = _FoldingPolicy(linesep="\r\n", header_factory=_HEADERS)
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """Return text as one header-safe line: every run of whitespace or control chars -> ' '."""
    return " ".join(_CONTROL.sub(" ", text).split())


def sender_domain(sender: str) -> str:
    """Return the domain of a From address ("Digest <d@example.org>" -> "example.org")."""
    return one_line(parseaddr(sender)[1].rpartition("@")[2]) or "localhost"


def safe_name(text: str) -> str:
    """Return text as a file name: runs of other than [A-Za-z0-9@._+-] -> '_', never empty."""
    return re.sub(r"[^A-Za-z0-9@._+-]+", "_", text).strip("._") or "message"


def unsubscribe_targets(unsubscribe: str | None) -> list[str]:
    """Return the targets of an `unsubscribe` setting: mailto: and URLs, in the given order.

    The setting holds one or more targets separated by spaces or commas, each maybe in <>;
    a bare address becomes a mailto: target.
    """
    targets = []
    for item in re.split(r"[\s,]+", (unsubscribe or "").strip()):
        item = item.strip("<>")
        if not item:
            continue
        if "@" in item and ":" not in item:
            item = "mailto:" + item
        targets.append(item)
    return targets


def unsubscribe_link(unsubscribe: str | None) -> str | None:
    """Return the one target to link in a footer: the first https URL, else mailto, else http."""
    targets = unsubscribe_targets(unsubscribe)
    for scheme in ("https://", "mailto:", "http://"):
        for target in targets:
            if target.lower().startswith(scheme):
                return target
    return None


def message_id_for(key: str, sender: str) -> str:
    """Return a stable Message-ID for a ledger key, on the sender's domain."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    return f"<digest.{digest}@{sender_domain(sender)}>"


@dataclass(frozen=True, slots=True)
class Addressing:
    """What one recipient's copy says in its head: from whom, to whom, when, how to leave.

    `message_id` None makes a new one; `attachment_name` None names the PDF by the date.
    """

    recipient: Recipient
    sender: str
    reply_to: str | None
    list_id: str
    unsubscribe: str | None
    now: datetime
    message_id: str | None = None
    attachment_name: str | None = None

    def pdf_name(self) -> str:
        """Return the PDF attachment's file name."""
        return self.attachment_name or f"digest-{self.now:%Y-%m-%d}.pdf"


def build_message(rendered: Rendered, to: Addressing, formats: Sequence[str]) -> EmailMessage:
    """Return the MIME message of a rendered digest for one recipient."""
    msg = EmailMessage(policy=POLICY)
    _add_headers(msg, rendered.subject, to)
    _add_content(msg, rendered, formats, to.pdf_name(), slots=False)
    return msg


def _add_headers(msg: EmailMessage, subject: str, to: Addressing) -> None:
    """Add the headers of one recipient's message (all but the MIME ones)."""
    recipient = to.recipient
    if not _ADDRESS.fullmatch(recipient.address):
        raise PermanentDeliveryError(recipient.address, "not an email address")
    try:
        msg["From"] = one_line(to.sender)
        msg["To"] = Address(display_name=one_line(recipient.name), addr_spec=recipient.address)
        if to.reply_to:
            msg["Reply-To"] = one_line(to.reply_to)
    except (ValueError, IndexError, HeaderParseError) as exc:  # headerregistry's errors
        raise PermanentDeliveryError(recipient.address, f"bad address: {exc}") from exc
    msg["Subject"] = one_line(subject)
    msg["Date"] = format_datetime(to.now)
    list_id = one_line(to.list_id)
    msg["List-Id"] = list_id if "<" in list_id else f"<{list_id}>"
    _add_unsubscribe(msg, to.unsubscribe)
    msg["Auto-Submitted"] = "auto-generated"  # vacation responders must not answer
    msg["Message-ID"] = to.message_id or make_msgid("digest", domain=sender_domain(to.sender))


def _add_content(
    msg: EmailMessage, rendered: Rendered, formats: Sequence[str], pdf_name: str, *, slots: bool
) -> None:
    """Add the text, HTML and attachments; with slots, each {token} becomes a TOKEN_SLOT."""
    attach = "pdf" in formats and rendered.pdf is not None and not rendered.pdf_note
    note = rendered.pdf_note if "pdf" in formats and rendered.pdf_note else None
    text = rendered.text + (f"\n\n{note}\n" if note else "")
    msg.set_content(text, charset="utf-8", cte="quoted-printable")
    if slots:
        _slot_tokens(msg, text)
    if "html" in formats:
        html = _with_note(rendered.html, note) if note else rendered.html
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
        if slots:
            html_part = msg.get_payload()[-1]  # type: ignore[index]
            if isinstance(html_part, EmailMessage):  # what add_alternative just made
                _slot_tokens(html_part, html)
    if attach and rendered.pdf is not None:
        msg.add_attachment(rendered.pdf, maintype="application", subtype="pdf", filename=pdf_name)
    else:
        msg.make_mixed()  # the same tree shape for every recipient, attachment or not
    stem = pdf_name.rpartition(".")[0]
    _attach_extras(msg, rendered, formats, stem)


# Where a recipient's unsubscribe token goes in a shared body: a line that quoted-printable
# never produces ("=?" is no escape) and base64 has no "=" inside a line, so it is never
# found in other content. `fill_tokens` replaces it with the token as soft-broken lines.
TOKEN_SLOT = b"=?digest-token?="
_QP_LINE = 76


def _slot_tokens(part: EmailMessage, text: str) -> None:
    """Encode a text part's {token} places as TOKEN_SLOT lines between quoted-printable runs."""
    if PLACEHOLDER not in text:
        return
    lines = text.encode("utf-8").splitlines()
    normal = (b"\n".join(lines) + b"\n").decode("latin-1")  # as set_content normalises it
    slot = "=\n" + TOKEN_SLOT.decode("ascii") + "=\n"
    # Each run ends in a soft line break before the slot ("=" at the end of a line), so one
    # line of a run with its break stays within quoted-printable's 76 characters.
    encoded = slot.join(quoprimime.body_encode(p, _QP_LINE - 1) for p in normal.split(PLACEHOLDER))
    part.set_payload(encoded)


def fill_tokens(body: bytes, token: str | None) -> bytes:
    """Return a shared body with each TOKEN_SLOT replaced by the token (quoted-printable lines)."""
    if token is None or TOKEN_SLOT not in body:
        return body
    step = _QP_LINE - 1
    lines = [token[i : i + step] for i in range(0, len(token), step)] or [""]
    return body.replace(TOKEN_SLOT, "=\r\n".join(lines).encode("ascii"))


def assemble(parts: MessageParts) -> bytes:
    """Return the exact bytes of a stored message: its head, then the body with its token."""
    return parts.head + fill_tokens(parts.body, parts.token)


class MessageTemplate:
    """A period's message body built once per distinct (rendered, formats); heads per recipient.

    Sharing the body is what lets the ledger keep it once: the MIME boundaries are derived
    from the content (the same for every recipient), and each {token} is a TOKEN_SLOT.
    """

    def __init__(self) -> None:
        self._bodies: dict[tuple[int, tuple[str, ...], str, bool], tuple[Rendered, str, bytes]] = {}

    def body(
        self, rendered: Rendered, formats: Sequence[str], pdf_name: str, slots: bool
    ) -> tuple[str, bytes]:
        """Return (the top Content-Type, the body from the blank line on) of a message."""
        key = (id(rendered), tuple(formats), pdf_name, slots)
        if key not in self._bodies:
            msg = EmailMessage(policy=POLICY)
            _add_content(msg, rendered, formats, pdf_name, slots=slots)
            seed = hashlib.sha256(repr(key[1:]).encode() + rendered.html.encode()).hexdigest()
            for n, part in enumerate(msg.walk()):
                if part.is_multipart():
                    part.set_boundary(f"===============digest{n}{seed[:20]}==")
            data = message_bytes(msg)
            end = data.index(b"\r\n\r\n")
            content_type = str(msg["Content-Type"])
            self._bodies[key] = (rendered, content_type, data[end + 2 :])
        _, content_type, body = self._bodies[key]
        return content_type, body

    def parts(
        self, rendered: Rendered, to: Addressing, formats: Sequence[str], token: str | None
    ) -> MessageParts:
        """Return one recipient's message as the ledger keeps it (see MessageParts)."""
        content_type, body = self.body(rendered, formats, to.pdf_name(), token is not None)
        msg = EmailMessage(policy=POLICY)
        _add_headers(msg, rendered.subject, to)
        msg["MIME-Version"] = "1.0"
        msg["Content-Type"] = content_type
        head = message_bytes(msg)
        return MessageParts(head=head[: head.index(b"\r\n\r\n") + 2], body=body, token=token)


def _attach_extras(
    msg: EmailMessage, rendered: Rendered, formats: Sequence[str], stem: str
) -> None:
    """Attach the EPUB and the "Coming up" calendar when the recipient's formats ask for them."""
    if "epub" in formats and rendered.epub is not None:
        msg.add_attachment(
            rendered.epub, maintype="application", subtype="epub+zip", filename=f"{stem}.epub"
        )
    # A calendar without events would only clutter the message.
    if "ics" in formats and rendered.ics is not None and b"BEGIN:VEVENT" in rendered.ics:
        msg.add_attachment(
            rendered.ics, maintype="text", subtype="calendar", filename=f"{stem}.ics"
        )


def _with_note(html: str, note: str) -> str:
    paragraph = f"<p>{html_lib.escape(note)}</p>"
    if "</body>" in html:
        return html.replace("</body>", paragraph + "</body>", 1)
    return html + paragraph


def _add_unsubscribe(msg: EmailMessage, unsubscribe: str | None) -> None:
    """Add List-Unsubscribe (mailto and/or URLs) and the RFC 8058 one-click header."""
    targets = unsubscribe_targets(unsubscribe)
    if not targets:
        return
    msg["List-Unsubscribe"] = ", ".join(f"<{t}>" for t in targets)
    # RFC 8058 one-click requires an HTTPS URI: a mail provider POSTs to it unattended.
    if any(t.lower().startswith("https://") for t in targets):
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"


def message_bytes(msg: EmailMessage) -> bytes:
    """Return the message as the exact bytes sent over SMTP (CRLF, 7-bit)."""
    return msg.as_bytes(policy=POLICY)


# -- files -----------------------------------------------------------------------------------


def write_eml(msg: EmailMessage | bytes, folder: Path, name: str) -> Path:
    """Write the message as folder/name(.eml) atomically; return the file's path."""
    data = msg if isinstance(msg, bytes) else message_bytes(msg)
    safe = safe_name(name)
    path = folder / (safe if safe.endswith(".eml") else safe + ".eml")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    except OSError as exc:
        raise DeliveryError(str(path), f"cannot write message: {exc}") from exc
    return path


def write_maildir(msg: EmailMessage | bytes, maildir: Path, key: str) -> Path:
    """Deliver into a Maildir's new/ under a stable name; return the existing file if any."""
    data = msg if isinstance(msg, bytes) else message_bytes(msg)
    unique = re.sub(r"[^A-Za-z0-9_-]+", "_", key)
    try:
        for sub in ("tmp", "new", "cur"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        # A message already delivered (maybe read and moved to cur/ with flags) is not repeated.
        for sub in ("new", "cur"):
            for existing in (maildir / sub).glob(f"{unique}.*"):
                return existing
        name = f"{unique}.{socket.gethostname().replace('/', '_').replace(':', '_')}"
        path = maildir / "new" / name
        write_atomic(path, data, tmp=maildir / "tmp" / name)
    except OSError as exc:
        raise DeliveryError(str(maildir), f"cannot write to Maildir: {exc}") from exc
    return path
