"""The EPUB: valid under epubcheck, a navigable contents, every event with what it needs."""

from __future__ import annotations

import html
import io
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from factories import hostile_digest, make_digest
from lxml import etree

from digest.config.settings import DigestSettings
from digest.models import Digest
from digest.render.outputs import render_digest
from digest.render.pdf.story import source_links


def epubcheck_command() -> list[str] | None:
    """Return how to run epubcheck: Debian installs it as an executable .jar (needs binfmt)."""
    found = shutil.which("epubcheck")
    if found is None:
        return None
    real = Path(found).resolve()
    if real.suffix == ".jar":
        java = shutil.which("java")
        return [java, "-jar", str(real)] if java else None
    return [found]


needs_epubcheck = pytest.mark.skipif(
    epubcheck_command() is None,
    reason="epubcheck not installed (Debian package epubcheck; `make system-deps` as root)",
)
NS = {
    "x": "http://www.w3.org/1999/xhtml",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
}


def build(digest: Digest) -> bytes:
    settings = DigestSettings(
        name=digest.name,
        title=digest.title,
        feeds=(),
        language=digest.language,
        timezone=digest.timezone,
        formats=("html", "epub"),
    )
    epub = render_digest(digest, settings).epub
    assert epub is not None
    return epub


@needs_epubcheck
@pytest.mark.parametrize("which", ["en", "ru", "hostile"])
def test_the_epub_passes_epubcheck(tmp_path: Path, which: str) -> None:
    digest = hostile_digest() if which == "hostile" else make_digest(which)
    path = tmp_path / f"{which}.epub"
    path.write_bytes(build(digest))
    command = epubcheck_command()
    assert command is not None
    result = subprocess.run(
        [*command, str(path)], capture_output=True, text=True, timeout=180, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "No errors or warnings detected" in output


def test_contents_metadata_and_every_event_with_sources_facts_and_links() -> None:
    digest = make_digest("ru")
    book = zipfile.ZipFile(io.BytesIO(build(digest)))
    assert book.read("mimetype") == b"application/epub+zip"
    opf = etree.fromstring(book.read("EPUB/content.opf"))
    assert opf.findtext(".//dc:language", namespaces=NS) == "ru"
    assert opf.findtext(".//dc:title", namespaces=NS).startswith(digest.title)
    assert opf.findtext(".//dc:identifier", namespaces=NS).startswith("urn:uuid:")
    nav = etree.fromstring(book.read("EPUB/nav.xhtml"))
    targets = [a.get("href") for a in nav.iterfind(".//x:nav//x:a", NS)]
    labels = [a.xpath("string()") for a in nav.iterfind(".//x:nav//x:a", NS)]
    sections = [s for s in digest.sections if s.events]
    # The title page, each section with its events under it, and "Coming up".
    assert len(targets) == 1 + len(sections) + len(digest.events) + 1
    assert "Что впереди" in labels
    chapters = "".join(
        book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xhtml")
    )
    for target in targets:  # every entry of the contents lands on an existing anchor
        name, _, anchor = target.partition("#")
        page = book.read(f"EPUB/{name}").decode("utf-8")
        assert not anchor or f'id="{anchor}"' in page, target
    text = html.unescape(chapters)
    for event in digest.events:
        assert event.headline in text
        for sentence in event.sentences:
            assert sentence.text in text
        for name in (*event.facts.people, *event.facts.places):
            assert name in text
        for source, url in source_links(event):
            assert f'href="{html.escape(url)}"' in chapters and source in text
    for item in digest.coming_up:
        assert item.label in text


def test_the_book_is_small_enough_for_send_to_kindle() -> None:
    size = len(build(make_digest("en", events=40)))
    assert size < 200_000, size


def test_a_generated_summary_is_marked_as_in_the_email() -> None:
    digest = make_digest("en")
    first = digest.sections[0]
    marked = replace(first.events[0], generated_by="test-model")
    digest = replace(
        digest, sections=(replace(first, events=(marked, *first.events[1:])), *digest.sections[1:])
    )
    book = zipfile.ZipFile(io.BytesIO(build(digest)))
    chapter = book.read("EPUB/section-1.xhtml").decode("utf-8")
    assert "Summary written by test-model" in chapter
    assert chapter.count("Summary written by") == 1
