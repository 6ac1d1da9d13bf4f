"""The renders of one period: each (language, formats) that recipients ask for, made once."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from digest.config import DigestSettings, Recipient
from digest.models import Digest, Rendered
from digest.render.outputs import render_digest


class Renders:
    """Renders a digest once per (language, formats) that recipients ask for."""

    def __init__(
        self,
        settings: DigestSettings,
        digest: Digest,
        fetch_image: Callable[[str], bytes | None] | None = None,
    ) -> None:
        self.settings, self.digest, self.fetch_image = settings, digest, fetch_image
        self.cache: dict[tuple[str, tuple[str, ...]], Rendered] = {}
        # An EPUB (or PDF) one recipient asks for is rendered even when the digest's own
        # formats leave it out; who gets what is decided per message.
        wanted = [settings.formats, *(r.formats for r in settings.recipients)]
        self.formats = tuple(dict.fromkeys(f for fs in wanted for f in fs))

    def get(self, language: str, formats: Sequence[str], *, pdf: bool = True) -> Rendered:
        """Return the digest rendered in language with formats (and the recipients' ones)."""
        formats = tuple(dict.fromkeys((*self.formats, *formats)))
        if not pdf:  # the body then says nothing of an attached PDF
            formats = tuple(f for f in formats if f != "pdf")
        key = (language, formats)
        if key not in self.cache:
            self.cache[key] = render_digest(
                self.digest,
                self.settings,
                language=language,
                formats=formats,
                fetch_image=self.fetch_image,
            )
        return self.cache[key]

    def own(self) -> Rendered:
        """Return the digest in its own language and formats: its files and archive page."""
        return self.get(self.settings.language, self.settings.formats)

    def for_recipient(self, recipient: Recipient) -> tuple[Rendered, Sequence[str]]:
        """Return what one recipient gets: the render in their language, and their formats."""
        language = recipient.language or self.settings.language
        # Rendered without a PDF for a recipient who gets none: its email and text part
        # must not say "the full digest is attached as a PDF".
        wants_pdf = "pdf" in recipient.formats
        return self.get(language, self.settings.formats, pdf=wants_pdf), recipient.formats
