"""extract: clean_text on the seed article and on typical boilerplate; pages; HTML fragments.

Run as a script to measure extraction on a folder of goose3-style pages (NAME.html with its
expected title and body start in NAME.json), e.g. all 51 of ../shared/data/pages/goose3:
    .venv/bin/python tests/test_extract.py ../shared/data/pages/goose3
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from digest.errors import ExtractError
from digest.fetch.extract import (
    _INLINE_SPACE,
    clean_text,
    extract_article,
    html_to_text,
    lead_image,
    normalise,
    squeeze,
)

SEED = Path(__file__).parents[1] / "data" / "pages" / "seed-article.txt"


def _seed() -> tuple[str, str]:
    text = SEED.read_text(encoding="utf-8")
    return text.split("\n", 1)[0].strip(), text


def test_seed_article_comes_out_clean() -> None:
    title, text = _seed()
    out = clean_text(text, title)
    assert "©" not in out and "AP Photo" not in out
    assert "Archival photo" not in out and "Andrew" not in out
    assert title not in out  # the title is not repeated (neither alone nor in the caption)
    assert out.startswith("The US President Donald trump said that his victory")
    assert "«You know what I tell you," in out and "ever,» he said" in out
    assert out.endswith("scheduled for November 11 in Paris.")
    assert "\n\nAccusations of «interference»\n\n" in out
    assert "\n\n\n" not in out


def test_words_are_unchanged_apart_from_whitespace() -> None:
    title, text = _seed()
    out = clean_text(text, title)
    body = text.split("The US President", 1)[1]
    assert "".join(out.split()).endswith("".join(body.split()))


def test_credit_glued_into_a_paragraph_is_removed() -> None:
    text = "The minister spoke on Monday.© Reuters / Jane Smith He said talks would go on."
    assert clean_text(text, "") == "The minister spoke on Monday. He said talks would go on."


def test_caption_and_boilerplate_paragraphs_are_dropped() -> None:
    text = (
        "Big news today\n\nPhoto: John Doe/Reuters\n\nThe first real paragraph.\n\n"
        "Share this article\n\nSubscribe to our newsletter\n\nЧитайте также: другое\n\n"
        "Second paragraph stays."
    )
    assert (
        clean_text(text, "Big news today") == "The first real paragraph.\n\nSecond paragraph stays."
    )


def test_title_prefix_glued_to_first_paragraph_is_removed() -> None:
    out = clean_text("Storm hits coast. Thousands lost power overnight.", "Storm hits coast")
    assert out == "Thousands lost power overnight."


def test_whitespace_is_normalised_and_paragraphs_kept() -> None:
    assert normalise("a\u00a0 b\t c\r\n\r\n\r\nd\u200be") == "a b c\n\nde"
    assert normalise("one\ntwo") == "one\n\ntwo"


def test_html_fragment_to_paragraphs() -> None:
    html = (
        "<p>Hello <b>world</b> &amp; all.</p><script>x()</script>"
        "<figure><img src=a.jpg><figcaption>Photo: AP</figcaption></figure><p>Next</p>"
    )
    assert html_to_text(html) == "Hello world & all.\n\nNext"
    assert html_to_text("plain &lt;text&gt;") == "plain <text>"
    assert html_to_text("") == ""


GOOSE = Path(__file__).parents[1] / "data" / "pages" / "goose3"


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


# goose3 keeps the wire's dateline ("ANAHEIM, Calif. — Musicians…"); digest drops it.
_DATELINE = re.compile(r"^[A-Z][A-Z .'-]+(?:, [A-Z][a-z]+\.?)?\s+[—–-]+\s+")


def _expected_start(text: str) -> str:
    return _norm(_DATELINE.sub("", text))[:100]


@pytest.mark.parametrize("page", sorted(GOOSE.glob("*.html")), ids=lambda p: p.stem)
def test_real_pages_give_the_article_body_first(page: Path) -> None:
    case = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
    expected = case["expected"]
    got = extract_article(page.read_bytes(), expected.get("final_url") or case["url"])
    assert _norm(got.text).startswith(_expected_start(expected["cleaned_text"]))
    assert "\n\n" in got.text and "\n\n\n" not in got.text
    if expected.get("title"):
        assert _norm(expected["title"]) in _norm(got.title)


def test_page_without_text_raises_extract_error() -> None:
    with pytest.raises(ExtractError, match=r"^extract: https://e\.org/x: "):
        extract_article(b"<html><body><script>x()</script></body></html>", "https://e.org/x")


_BODY = "<p>" + "The council voted to expand the tram network to the north. " * 6 + "</p>"


def _with_head(head: str) -> bytes:
    return f"<html><head><title>T</title>{head}</head><body><article>{_BODY}</article></body></html>".encode()


def test_page_lead_image_is_og_image_resolved_against_the_page() -> None:
    head = "<meta content='/img/lead.jpg?w=1&amp;h=2' data-page='x' property='og:image'>"
    page = extract_article(_with_head(head), "https://e.org/news/story")
    assert page.image_url == "https://e.org/img/lead.jpg?w=1&h=2"
    # og:image wins over twitter:image whatever their order; protocol-relative takes the scheme
    head = '<meta name="twitter:image" content="https://t.example/t.jpg"><meta property="og:image" content="//cdn.e.org/o.jpg">'
    assert lead_image(_with_head(head), "https://e.org/a") == "https://cdn.e.org/o.jpg"
    head = '<meta name="twitter:image" content="t.jpg">'
    assert lead_image(_with_head(head), "http://e.org/news/a") == "http://e.org/news/t.jpg"


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "java&#10;script:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "file:///etc/passwd",
        "http:///nohost.jpg",
        "http://[x/",
        "https://e.org/" + "a" * 3000,
    ],
)
def test_page_lead_image_is_http_only(bad: str) -> None:
    head = f'<meta property="og:image" content="{bad}">'
    assert extract_article(_with_head(head), "https://e.org/a").image_url is None
    # a bad og:image is skipped for the next candidate, not taken as "no image"
    head += '<meta name="twitter:image" content="/t.jpg">'
    assert lead_image(_with_head(head), "https://e.org/a") == "https://e.org/t.jpg"


def test_page_without_a_lead_image_has_none() -> None:
    assert extract_article(_with_head(""), "https://e.org/a").image_url is None
    assert lead_image(b'<meta data-content="x.jpg" property="og:image">', "https://e.org/") is None
    assert (
        lead_image(b"", "https://e.org/", "https://e.org/fallback.jpg")
        == "https://e.org/fallback.jpg"
    )


@pytest.mark.parametrize("tag", [b"<meta ", b"<link rel=canonical "])
def test_head_scans_stay_linear_on_unclosed_tags(tag: bytes) -> None:
    import time

    from digest.fetch.extract import _canonical_link

    junk = tag * 40_000  # no ">" anywhere: a backtracking scan would take seconds
    start = time.perf_counter()
    assert lead_image(junk, "https://e.org/") is None and _canonical_link(junk) == ""
    assert time.perf_counter() - start < 0.5


def measure(folder: Path) -> dict[str, int]:
    """Return page counts: total, body starting as expected, expected start in the first
    1,000 characters, titles expected and matched (equal or contained), pages without text."""
    counts = dict.fromkeys(
        ("pages", "body_start", "start_in_1000", "titled", "title_ok", "no_text"), 0
    )
    for page in sorted(folder.glob("*.html")):
        case = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
        expected = case["expected"]
        counts["pages"] += 1
        try:
            got = extract_article(page.read_bytes(), expected.get("final_url") or case["url"])
        except ExtractError:
            counts["no_text"] += 1
            continue
        text, start = _norm(got.text), _expected_start(expected["cleaned_text"])
        counts["body_start"] += text.startswith(start)
        counts["start_in_1000"] += start in text[:1000]
        if expected.get("title"):
            counts["titled"] += 1
            counts["title_ok"] += _norm(expected["title"]) in _norm(got.title)
    return counts


def test_measure_counts_the_copied_pages() -> None:
    assert measure(GOOSE) == {
        "pages": 11, "body_start": 11, "start_in_1000": 11, "titled": 2, "title_ok": 2, "no_text": 0,
    }  # fmt: skip


if __name__ == "__main__":
    import sys

    print(measure(Path(sys.argv[1])))


def test_russian_credits_and_a_dated_caption_are_dropped() -> None:
    # the Meduza sample's credit made a person and two organisations, and its
    # caption opened the "Море огня" summary
    text = (
        "Вертолет тушит лесной пожар в Красноярском крае. 4 августа 2019 года\n\n"
        "Обширные лесные пожары продолжаются уже месяц.\n\n"
        "Источник фото: ТАСС\n\n"
        "Пожары тушат с воздуха (Фото: РИА Новости) и с земли.\n\n"
        "Фото в\xa0анонсе: Александр Неменов / AFP / Scanpix / LETA"
    )
    out = clean_text(text, "Море огня")
    assert out == (
        "Обширные лесные пожары продолжаются уже месяц.\n\nПожары тушат с воздуха и с земли."
    )


def test_squeeze_is_the_full_substitution_whether_or_not_it_looks_first() -> None:
    # squeeze skips the substitution when there is nothing to squeeze; its result must be
    # what substituting every run gives, on every kind of space and run.
    rng = random.Random(11)
    pieces = ["a", "bc", " ", "  ", "\t", "\u00a0", "\u2009", "\u3000", "\u202f", "\n", "д"]
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert squeeze(text) == _INLINE_SPACE.sub(" ", text), repr(text)
    assert squeeze("one  two\u00a0three\tfour") == "one two three four"
