"""Control characters and bidi overrides in feeds, through the real `digest run`: stripped at
ingest, and stripped again at render for rows stored before, in every output format."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from digestcli import emls, run, write_config

ODD = ("\x1b", "\x00", "\u202e", "\u2066", "\u2069", "\x85", "\x7f")
LINES = 'formats = ["pdf", "epub", "ics"]\nsend_empty = true'


def _feeds(root: Path) -> str:
    """Write a JSON Feed with an ESC and bidi overrides and an RSS feed with a NUL."""
    when = datetime.now(UTC) - timedelta(hours=1)
    body = "The council voted on the plan on Monday, and the vote was close. " * 4
    items = [
        {
            "id": "j1",
            "url": "https://odd.example/j1",
            "title": "Zorbland \u202egnp.exe\u202c election \x1b[31mresult",
            "content_text": f"Isolated \u2066text\u2069 here. {body}",
            "date_published": when.isoformat(),
        }
    ]
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "Odd\x1b JSON", "items": items}
    (root / "odd.json").write_text(json.dumps(feed), encoding="utf-8")
    (root / "nul.xml").write_bytes(
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>NUL</title>'
        b"<link>https://nul.example/</link><description>t</description><item>"
        b"<title>Harbour \x00reopens after the storm</title><link>https://nul.example/1</link>"
        b"<pubDate>" + format_datetime(when).encode() + b"</pubDate>"
        b"<description>" + body.encode() + b"</description></item></channel></rss>"
    )
    return (
        '\n[[feed]]\nurl = "odd.json"\nname = "Odd"\nfull_text = "never"\n'
        '\n[[feed]]\nurl = "nul.xml"\nname = "Nul"\nfull_text = "never"\n'
    )


def _outputs(root: Path) -> dict[str, str]:
    """Return every text a reader gets: the files written, the EPUB's parts, the mail."""
    texts: dict[str, str] = {}
    for path in (root / "data" / "digests").iterdir():
        if path.suffix == ".epub":
            with zipfile.ZipFile(path) as book:
                for name in book.namelist():
                    texts[f"{path.name}:{name}"] = book.read(name).decode("utf-8", "replace")
        elif path.suffix in (".html", ".txt", ".ics"):
            texts[path.name] = path.read_text(encoding="utf-8")
    for n, message in enumerate(emls(root)):
        texts[f"mail {n}"] = message.as_string()
    return texts


def test_controls_and_bidi_overrides_are_stripped_at_ingest(tmp_path: Path) -> None:
    # An ESC in a JSON Feed title (or a NUL in an RSS title) with epub in the formats:
    # "render: epub: ValueError: All strings must be XML compatible", no files, no mail.
    config = write_config(tmp_path, LINES, feeds=_feeds(tmp_path))
    done = run(config)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(emls(tmp_path)) == 2
    texts = _outputs(tmp_path)
    assert any(name.endswith(".epub:EPUB/section-1.xhtml") for name in texts), sorted(texts)
    for name, text in texts.items():
        assert not [c for c in ODD if c in text], name
    assert "Zorbland gnp.exe election" in "".join(texts.values())  # the words stay
    with sqlite3.connect(tmp_path / "data" / "digest.sqlite3") as db:
        stored = [t for (t,) in db.execute("SELECT title || source || text FROM articles")]
    db.close()
    assert stored and not [t for t in stored if any(c in t for c in ODD)]


def test_rows_stored_before_are_stripped_at_render(tmp_path: Path) -> None:
    config = write_config(tmp_path, LINES, feeds=_feeds(tmp_path))
    assert run(config, "--no-send").returncode == 0
    # As a database filled by an older version holds them: the characters in stored rows.
    with sqlite3.connect(tmp_path / "data" / "digest.sqlite3") as db:
        db.execute(
            "UPDATE articles SET title = title || ? , text = ? || text, source = source || ?",
            ("\x1b\u202e exe.gnp", "\x00\u2066", "\x7f"),
        )
    db.close()
    done = run(config)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(emls(tmp_path)) == 2
    for name, text in _outputs(tmp_path).items():
        assert not [c for c in ODD if c in text], name
