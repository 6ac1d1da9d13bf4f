"""extract: clean_text on the seed article and on typical boilerplate; pages; HTML fragments.

Run as a script to measure extraction on a folder of goose3-style pages (NAME.html with its
expected title and body start in NAME.json), e.g. all 51 of ../shared/data/pages/goose3:
    .venv/bin/python tests/test_extract.py ../shared/data/pages/goose3
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from digest.errors import ExtractError
from digest.extract import clean_text, extract_article, html_to_text, normalise

SEED = Path(__file__).parent / "data" / "pages" / "seed-article.txt"


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


GOOSE = Path(__file__).parent / "data" / "pages" / "goose3"


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


@pytest.mark.parametrize("page", sorted(GOOSE.glob("*.html")), ids=lambda p: p.stem)
def test_real_pages_give_the_article_body_first(page: Path) -> None:
    case = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
    expected = case["expected"]
    got = extract_article(page.read_bytes(), expected.get("final_url") or case["url"])
    assert _norm(got.text).startswith(_norm(expected["cleaned_text"])[:100])
    assert "\n\n" in got.text and "\n\n\n" not in got.text
    if expected.get("title"):
        assert _norm(expected["title"]) in _norm(got.title)


def test_page_without_text_raises_extract_error() -> None:
    with pytest.raises(ExtractError, match=r"^extract: https://e\.org/x: "):
        extract_article(b"<html><body><script>x()</script></body></html>", "https://e.org/x")


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
        text, start = _norm(got.text), _norm(expected["cleaned_text"])[:100]
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
