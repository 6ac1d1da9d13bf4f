"""extract: html_to_text, clean_text and clean_html give exactly what they gave before the batched rewrite.

The reference functions below are the formulation before the speed-ups (every node visited,
normalising twice, the caption-mark search on every paragraph, the first paragraph's key
made per title candidate); the rewritten ones must agree with them on real pages and texts
and on random fragments made of the pieces the rules look for.
"""

from __future__ import annotations

import random
import re

import lxml.html
from lxml import etree
from textreference import real_pages, real_texts

from digest.fetch import extract as x
from digest.fetch.extract import clean_html, clean_text, html_to_text, normalise
from digest.text import is_credit_or_caption, strip_inline_credits, strip_wire


def ref_html_to_text(fragment: str) -> str:
    if not fragment.strip():
        return ""
    if "<" not in fragment:
        return ref_normalise(lxml.html.fromstring(f"<p>{fragment}</p>").text_content())
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return ref_normalise(re.sub(r"<[^>]*>", " ", fragment))
    for bad in list(root.iter(*x._DROP)):
        bad.drop_tree()
    for node in root.iter():
        if isinstance(node.tag, str) and node.tag in x._BLOCKS:
            node.text = "\n\n" + (node.text or "")
            node.tail = "\n\n" + (node.tail or "")
    return ref_normalise(root.text_content())


def ref_normalise(text: str) -> str:
    text = x._ZERO_WIDTH.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    blocks = re.split(r"\n\s*\n", text) if "\n\n" in text else text.split("\n")
    paragraphs = [x.squeeze(" ".join(b.split("\n"))).strip() for b in blocks]
    return "\n\n".join(p for p in paragraphs if p)


def ref_clean_text(text: str, title: str) -> str:
    kept: list[str] = []
    for paragraph in ref_normalise(text).split("\n\n"):
        cleaned = _ref_clean_paragraph(paragraph, leading=not kept)
        if cleaned and (not kept or kept[-1] != cleaned):
            kept.append(cleaned)
    return "\n\n".join(x._skip_kickers(_ref_drop_title(x._skip_kickers(kept), title)))


def _ref_clean_paragraph(paragraph: str, leading: bool) -> str:
    paragraph = strip_wire(paragraph, first=leading)
    if not paragraph or is_credit_or_caption(paragraph, leading):
        return ""
    if len(paragraph) < 200 and x._BOILERPLATE.match(paragraph):
        return ""
    if x._CAPTION_MARK.search(paragraph) and (len(paragraph) < 300 or "©" in paragraph):
        return ""
    cleaned = x._CREDIT.sub(" ", paragraph) if "©" in paragraph else paragraph
    return x.squeeze(strip_inline_credits(cleaned)).strip()


def _ref_drop_title(paragraphs: list[str], title: str) -> list[str]:
    if not title or not paragraphs:
        return paragraphs
    seps = (" - ", " | ", " — ", " – ")
    candidates = [title] + [title.split(sep)[0] for sep in seps if sep in title]
    first = paragraphs[0]
    for candidate in candidates:
        key = x._key(candidate)
        if len(key) < 8:
            continue
        if x._key(first) == key:
            return paragraphs[1:]
        head = first[: len(candidate)].casefold() == candidate.casefold()
        if head and x._key(first).startswith(key + " "):
            if not x.opens_sentence(first[len(candidate) :]):
                return paragraphs
            rest = first[len(candidate) :].lstrip(" .:—–-")
            return [rest, *paragraphs[1:]] if rest else paragraphs[1:]
    return paragraphs


TITLE = "Storm closes the harbour of Port Ellen"
PIECES = [
    "<p>", "</p>", "<br>", "<div>", "</div>", "<b>", "</b>", "<!-- note -->", "<li>", "<P>",
    "<script>x()</script>", "<figcaption>Cap</figcaption>", "<o:p>", "<svg:p>", "<?pi x?>",
    "<", ">", "&amp;", "&nbsp;", " ", "  ", "\n", "\n\n", "\r\n", "\r", "\t", "\xa0", "\u200b",
    "\u2003", "\u00ad", "© AP Photo / Andrew Harnik", "© РИА Новости / Имя Фамилия", "©",
    "Archival photo", "ARCHIVE PHOTO", "File photo", "Фото из архива", "архивное ФОТО",
    "Архивное фᲂᲄᲂ", "PHOTO", "photograph", "Photo: Reuters", "(AP Photo/Evan Vucci)",
    "(Фото: РИА Новости)", "На фото: мэр", "Share this", "Read more", "Читайте также",
    "4 августа 2019 года", "Aug. 4, 2019", "Analysis", "Main content", TITLE, f"{TITLE} - BBC",
    "Hello world.", "The mayor said the harbour would reopen on Wednesday.", "x" * 120,
    "Привет, мир", "В Москве прошёл снег.", "ǅ İ ß",
]  # fmt: skip
TITLES = ["", TITLE, f"{TITLE} | Site", "Hello world", "Привет, мир — РИА", "Analysis"]


def _fragments(rng: random.Random, count: int) -> list[str]:
    return ["".join(rng.choices(PIECES, k=rng.randint(0, 30))) for _ in range(count)]


def test_html_to_text_and_clean_html_match_the_reference() -> None:
    rng = random.Random(3)
    pages = list(real_pages())
    fragments = [*pages, *(p[len(p) // 3 : len(p) // 2] for p in pages), *_fragments(rng, 3000)]
    for fragment in fragments:
        text = ref_html_to_text(fragment)
        assert html_to_text(fragment) == text, fragment
        title = rng.choice(TITLES)
        assert clean_html(fragment, title) == ref_clean_text(text, title), fragment


def test_clean_text_matches_the_reference() -> None:
    rng = random.Random(4)
    texts = [*real_texts(), *(t.replace(". ", ".\n\n") for t in real_texts())]
    texts += [" ".join(rng.choices(PIECES[20:], k=rng.randint(0, 25))) for _ in range(3000)]
    for text in texts:
        title = rng.choice([*TITLES, text[:60]])
        assert clean_text(text, title) == ref_clean_text(text, title), text
        assert normalise(text) == ref_normalise(text)


def test_the_caption_guard_letters_match_only_themselves_under_the_regex_engine() -> None:
    # The guard looks for "photo" or "ф" in str.lower(): it may only skip the search when
    # the case-blind regex cannot match, so every character the engine takes for one of
    # these letters (re.I) must lower-case to a string holding it ("о" does not: "ᲂ").
    every = "".join(map(chr, range(0x110000)))
    for letter in "photф":
        for m in re.finditer(letter, every, re.I):
            assert letter in m.group().lower(), hex(ord(m.group()))
    assert not x._has_caption_mark("Архивное фᲂᲄᲂ"[:9]) and x._has_caption_mark("Архивное фᲂᲄᲂ")
