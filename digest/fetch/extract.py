"""Turn article pages and feed HTML into clean plain text.

`extract_article` runs trafilatura over a whole page; `html_to_text` turns a feed's own HTML
fragment into paragraphs; `clean_text` removes what is not the story: photo credits and
captions, the title repeated at the start, share/subscribe/related-links lines.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from digest.errors import ExtractError
from digest.text import is_credit_or_caption, strip_inline_credits, strip_wire


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """What a page yields: its main text and the metadata ingest uses."""

    url: str
    title: str
    text: str
    canonical_url: str | None = None
    language: str | None = None
    image_url: str | None = None  # the page's lead image: absolute, http(s) only


def extract_article(html: bytes, url: str) -> ExtractedPage:
    """Return the page's main text and metadata; ExtractError when no text comes out."""
    # Imported on first use: a pass whose feeds carry their full text (or answer 304)
    # never needs trafilatura, whose import is a tenth of a second.
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            favor_precision=True,
        )
    except (ValueError, TypeError, etree.LxmlError) as exc:
        raise ExtractError(url, f"cannot read the page: {exc}") from exc
    doc = doc.as_dict() if doc is not None and not isinstance(doc, dict) else doc
    if not doc or not str(doc.get("text") or "").strip():
        raise ExtractError(url, "no main text found")
    title = _one_line(str(doc.get("title") or ""))
    canonical = _canonical_link(html) or None
    return ExtractedPage(
        url=url,
        title=title,
        text=clean_text(str(doc["text"]), title),
        canonical_url=canonical,
        language=(str(doc.get("language") or "") or None),
        image_url=lead_image(html, url, str(doc.get("image") or "")),
    )


# og:image first (what sites pick for link previews), then twitter:image; :url/:src are
# the same image under the alternative names some sites use.
_IMAGE_KEYS = (
    ("og:image", "og:image:url", "og:image:secure_url"),
    ("twitter:image", "twitter:image:src"),
)
_META = re.compile(rb"<meta\b[^<>]*>", re.I)  # [^<>]: linear on a page of unclosed tags
_ATTR = re.compile(
    rb"""(?<![\w-])(property|name|content)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I
)
_MAX_URL = 2048


def lead_image(html: bytes, url: str, fallback: str = "") -> str | None:
    """Return the page's lead image (og:image, twitter:image, else fallback) as an absolute
    http(s) URL resolved against url, or None; a javascript:, data: or unreadable value is
    skipped for the next candidate."""
    found: dict[str, list[str]] = {}
    for tag in _META.findall(html[:200_000]):
        attrs: dict[str, str] = {}
        for m in _ATTR.finditer(tag):
            value = m.group(2) if m.group(2) is not None else m.group(3) or m.group(4) or b""
            attrs.setdefault(m.group(1).decode().lower(), value.decode("utf-8", "replace"))
        key = (attrs.get("property") or attrs.get("name") or "").strip().lower()
        if key and "content" in attrs:
            found.setdefault(key, []).append(htmllib.unescape(attrs["content"]))
    candidates = [v for keys in _IMAGE_KEYS for k in keys for v in found.get(k, [])]
    for candidate in [*candidates, fallback]:
        if absolute := _http_url(candidate, url):
            return absolute
    return None


_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.I)


def _http_url(value: str, base: str) -> str | None:
    value = value.strip()
    # "java\nscript:" is a scheme to a browser, and trafilatura's copy of a value has its
    # whitespace turned into spaces: judge the scheme with all whitespace taken out.
    scheme = _SCHEME.match(re.sub(r"\s+", "", value))
    if scheme and scheme.group(0).lower() not in ("http:", "https:"):
        return None
    value = value.replace(" ", "%20")
    if not value or len(value) > _MAX_URL or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return None
    try:
        absolute = urljoin(base, value)
        parts = urlsplit(absolute)
    except ValueError:  # a malformed URL such as "http://[x/" names nothing
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return absolute


def _canonical_link(html: bytes) -> str:
    # trafilatura's "url" metadata falls back to og:url and the given URL; ingest wants only
    # what the page itself declares canonical.
    match = re.search(rb"<link\b[^<>]*\brel=[\"']?canonical\b[^<>]*>", html[:200_000], re.I)
    if not match:
        return ""
    href = re.search(rb"\bhref=[\"']([^\"'>]+)", match.group(0), re.I)
    return href.group(1).decode("utf-8", "replace").strip() if href else ""


_BLOCKS = {
    "p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
    "tr", "section", "article", "header", "footer", "ul", "ol", "table", "dd", "dt", "hr",
}  # fmt: skip
_DROP = ("script", "style", "noscript", "figcaption", "iframe", "object", "svg", "form", "button")


def html_to_text(fragment: str) -> str:
    """Return a feed's HTML fragment as plain-text paragraphs separated by blank lines."""
    if not fragment.strip():
        return ""
    if "<" not in fragment:
        return normalise(lxml.html.fromstring(f"<p>{fragment}</p>").text_content())
    # Hand-written instead of trafilatura: trafilatura is tuned for whole pages and throws
    # away short fragments such as a feed's two-sentence description.
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return normalise(re.sub(r"<[^>]*>", " ", fragment))
    for bad in list(root.iter(*_DROP)):
        bad.drop_tree()
    # Only the block elements, picked by lxml, rather than a Python proxy object and test for
    # every node (inline tags and comments included).
    for node in root.iter(*_BLOCKS):
        node.text = "\n\n" + (node.text or "")
        node.tail = "\n\n" + (node.tail or "")
    return normalise(root.text_content())


_INLINE_SPACE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_ODD_SPACE = re.compile(r"[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]")


def squeeze(text: str) -> str:
    """Return text with each run of spaces, tabs and odd spaces as one space."""
    # Most paragraphs have nothing to squeeze, and a substitution at every single space
    # (each one a match) was a tenth of a cold fetch's CPU: look first.
    if "  " in text or _ODD_SPACE.search(text):
        return _INLINE_SPACE.sub(" ", text)
    return text


_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_BLANK_LINE = re.compile(r"\n\s*\n")


def normalise(text: str) -> str:
    """Return text with whitespace normalised, paragraphs separated by one blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.isascii():  # isascii is O(1); the zero-width characters are all non-ASCII
        text = _ZERO_WIDTH.sub("", text)
    blocks = _BLANK_LINE.split(text) if "\n\n" in text else text.split("\n")
    lines = [" ".join(b.split("\n")) for b in blocks]
    # squeeze looks for odd spaces in each paragraph: one look at the whole text does.
    odd = "\t" in text if text.isascii() else _ODD_SPACE.search(text) is not None
    if odd:
        paragraphs = [squeeze(line).strip() for line in lines]
    else:
        paragraphs = [(_INLINE_SPACE.sub(" ", p) if "  " in p else p).strip() for p in lines]
    return "\n\n".join(p for p in paragraphs if p)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# A photo credit: "© AP Photo / Andrew Harnik", "© РИА Новости / Имя Фамилия", "© Reuters".
_NAME = r"[A-ZА-ЯЁ][\w'’.-]*"
_CREDIT = re.compile(
    rf"©\s*[^\s/©]+(?:\s+[^\s/©]+)?(?:\s+(?:Photo|Фото|Images?))?"
    rf"(?:\s*/\s*{_NAME}(?:\s+{_NAME})?)?"
)
_CAPTION_MARK = re.compile(
    r"(?:^|\s|[.])(?:Archival photo|Archive photo|File photo|Архивное фото|Фото из архива)",
    re.I,
)
_BOILERPLATE = re.compile(
    r"^(?:share(?: this| on|:)|follow us|subscribe|sign up|read more|related(?: articles| stories|:)"
    r"|see also|advertisement|click here|you may also like|recommended|more on this story"
    r"|читайте (?:также|нас)|подписывайтесь|поделиться|реклама|смотрите также)",
    re.I,
)


def clean_text(text: str, title: str) -> str:
    """Return the article body without credits, captions, repeated title or boilerplate."""
    return _clean_paragraphs(normalise(text).split("\n\n"), title)


def clean_html(fragment: str, title: str) -> str:
    """Return clean_text(html_to_text(fragment), title), normalising the text only once."""
    # html_to_text's text is normalised already, and normalising is idempotent (the
    # paragraphs are squeezed and stripped, "\n\n" only between them): the second pass
    # clean_text would make changes nothing and was a fifth of its time.
    return _clean_paragraphs(html_to_text(fragment).split("\n\n"), title)


def _clean_paragraphs(paragraphs: list[str], title: str) -> str:
    # The paragraphs are normalise's: squeezed, stripped, without line breaks.
    kept: list[str] = []
    for paragraph in paragraphs:
        cleaned = _clean_paragraph(paragraph, leading=not kept)
        if cleaned and (not kept or kept[-1] != cleaned):
            kept.append(cleaned)
    kept = _skip_kickers(_drop_title(_skip_kickers(kept), title))
    return "\n\n".join(kept)


def _clean_paragraph(paragraph: str, leading: bool) -> str:
    # Datelines, credits, counters and promotion tails go first: «Фото предоставлено
    # пресс-службой… В день рождения…» is a credit before a story, not a credit line.
    paragraph = strip_wire(paragraph, first=leading)
    if not paragraph or is_credit_or_caption(paragraph, leading):
        return ""
    if len(paragraph) < 200 and _BOILERPLATE.match(paragraph):
        return ""
    # A caption glued to the text ("... Donald Trump. Archival photoTrump called ...") is
    # only recognisable by its markers; short paragraphs carrying one are captions.
    if (len(paragraph) < 300 or "©" in paragraph) and _has_caption_mark(paragraph):
        return ""
    cleaned = _CREDIT.sub(" ", paragraph) if "©" in paragraph else paragraph
    cleaned = strip_inline_credits(cleaned)
    # A normalised paragraph nothing was cut from is squeezed and stripped already.
    return cleaned if cleaned == paragraph else squeeze(cleaned).strip()


def _has_caption_mark(paragraph: str) -> bool:
    # The case-blind search at every position was half of clean_text's time.
    # Every marker holds "photo" or "ф", and only "P"/"p" lower-cases to "p" (and so on,
    # whereas "о" and "т" also match rarer letters under re.I): text lacking both cannot
    # match (tests/fetch/test_extract_reference.py checks the letters against the regex engine).
    lower = paragraph.lower()
    return ("photo" in lower or "ф" in lower) and _CAPTION_MARK.search(paragraph) is not None


def _skip_kickers(paragraphs: list[str]) -> list[str]:
    # A first line of one to three words without a full stop ("Analysis", "Main content",
    # "Courtesy G4") is a kicker or a credit, not the story's first sentence.
    while len(paragraphs) > 1 and _is_kicker(paragraphs[0]):
        paragraphs = paragraphs[1:]
    return paragraphs


def _is_kicker(paragraph: str) -> bool:
    return (
        len(paragraph) < 40
        and len(paragraph.split()) <= 3
        and not paragraph.endswith((".", "!", "?", "»", '"', "。"))
    )


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


def _drop_title(paragraphs: list[str], title: str) -> list[str]:
    if not title or not paragraphs:
        return paragraphs
    # A page title often carries the site's name after a dash or a bar.
    seps = (" - ", " | ", " — ", " – ")
    candidates = [title] + [title.split(sep)[0] for sep in seps if sep in title]
    first = paragraphs[0]
    first_key = ""  # made once, on the first candidate that needs it
    for candidate in candidates:
        key = _key(candidate)
        if len(key) < 8:
            continue
        first_key = first_key or _key(first)
        if first_key == key:
            return paragraphs[1:]
        head = first[: len(candidate)].casefold() == candidate.casefold()
        if head and first_key.startswith(key + " "):
            rest = first[len(candidate) :].lstrip(" .:—–-")
            if not opens_sentence(first[len(candidate) :]):
                # «В Иванове задержали банду мошенников, которые действовали…»: the lead
                # begins with the title's words; cutting them would leave «, которые…».
                return paragraphs
            return [rest, *paragraphs[1:]] if rest else paragraphs[1:]
    return paragraphs


def opens_sentence(after_title: str) -> bool:
    """Tell whether what follows a title at the start of the lead is a sentence of its own.

    The title stood apart when a full stop, a colon or a dash follows it, or when the text
    goes on with a capital letter, a digit or an opening quote ("Title Lead…" as pages glue
    them); a comma or a small letter means the title's words began the lead's sentence.
    """
    rest = after_title.lstrip()
    if not rest:
        return True
    if rest[0] in ".:—–-|!?":
        return True
    return rest[0].isupper() or rest[0].isdigit() or rest[0] in "«\"“„'("
