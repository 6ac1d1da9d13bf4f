"""Benchmark rendering: PDF and HTML time and peak memory for 30, 300 and 3,000 events.

Each size runs in its own process (so peak RSS belongs to that size) after a warm-up render;
times are CPU seconds (the machine is shared), best of 3 up to 300 events.

Two raw ReportLab baselines lay out the same words in a SimpleDocTemplate with the same fonts
and none of our machinery (style file, strings, page templates, masthead, contents page
numbers, outline, running header/footer, columns):
  raw       the same paragraphs with the same inline markup (bold labels, source links):
            what ReportLab itself needs for this output; `pdf_vs_raw` compares against it.
  raw text  the same words as unmarked paragraphs: no bold, no links (printed for context;
            markup and 600+ link annotations are most of the difference).

    .venv/bin/python bench/render.py            # all sizes; last line is one JSON object
    .venv/bin/python bench/render.py --sizes 30 300
    .venv/bin/python bench/render.py --run-on 100 200 400

`--run-on` feeds one article whose body is a single run-on sentence of that many
KB (and whose title is as long) through article building, events, summary and rendering:
time and output size must stay linear in the input (caps on stored text and quotes), not
give a PDF of a hundred pages.

Targets: ours within 1.5x of raw; cost linear in events (per-event cost at 3,000
within ~1.2x of 300); 30 events without images under 1 MB.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from factories import make_digest  # noqa: E402
from pypdf import PdfReader  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.platypus import Paragraph, SimpleDocTemplate  # noqa: E402

from digest.config.settings import DigestSettings  # noqa: E402
from digest.events.cluster import find_events  # noqa: E402
from digest.events.summarize import summarize_event  # noqa: E402
from digest.fetch.articles import draft_article  # noqa: E402
from digest.models import Digest, Entry, FeedSource, ParsedFeed  # noqa: E402
from digest.render.compose import compose_digest  # noqa: E402
from digest.render.outputs import render_digest  # noqa: E402
from digest.render.pdf.document import render_pdf  # noqa: E402
from digest.render.pdf.story import esc  # noqa: E402
from digest.render.pdf.styles import register_fonts  # noqa: E402


def settings_for(digest: Digest) -> DigestSettings:
    return DigestSettings(name=digest.name, title=digest.title, feeds=(), timezone=digest.timezone)


def raw_texts(digest: Digest, markup: bool) -> list[tuple[str, str]]:
    """Return (style, paragraph) pairs: the words our PDF prints, in the same order."""
    b = (lambda x: f"<b>{esc(x)}</b>") if markup else esc
    out = [("title", esc(digest.title))]
    out += [("toc", esc(e.headline[:160])) for e in digest.events]
    for section in digest.sections:
        out.append(("section", esc(section.title.upper())))
        for e in section.events:
            out.append(("headline", esc(e.headline)))
            sources = f"{len(e.event.sources)} sources"
            out.append(("meta", f"{b(sources)}: " + esc(", ".join(e.event.sources))))
            out.append(("body", esc(" ".join(s.text for s in e.sentences))))
            lines = [
                f"{b(label)} {esc(', '.join(names))}"
                for label, names in (
                    ("People", e.facts.people),
                    ("Organisations", e.facts.organisations),
                    ("Places", e.facts.places),
                )
                if names
            ]
            for d in e.dates[:3]:
                lines.append(f"{b('Dates')} {d.when:%d %b} — {esc(d.label)}")
            # One link per source, as the digest prints them.
            first = {a.source: a.url for a in reversed(e.event.articles)}
            links = [
                f'<a href="{first[name]}" color="#1f4e79">{esc(name)}</a>' if markup else esc(name)
                for name in e.event.sources
            ]
            lines.append(f"{b('Sources')} " + " · ".join(links))
            out.append(("meta", "<br/>".join(lines)))
    return out


def render_raw(digest: Digest, markup: bool = True) -> bytes:
    """Return a PDF of the digest's words laid out by plain ReportLab (the baseline)."""
    fonts = register_fonts()
    styles = {
        "title": ParagraphStyle("t", fontName=fonts["serif"] + "-Bold", fontSize=30, leading=34),
        "toc": ParagraphStyle("c", fontName=fonts["serif"], fontSize=9.5, leading=12),
        "section": ParagraphStyle("s", fontName=fonts["sans"] + "-Bold", fontSize=9, leading=12),
        "headline": ParagraphStyle(
            "h", fontName=fonts["serif"] + "-Bold", fontSize=16, leading=19.5
        ),
        "meta": ParagraphStyle("m", fontName=fonts["sans"], fontSize=7.6, leading=10.6),
        "body": ParagraphStyle("b", fontName=fonts["serif"], fontSize=10.4, leading=14.6),
    }
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, initialFontName=fonts["sans"])
    doc.build([Paragraph(text, styles[kind]) for kind, text in raw_texts(digest, markup)])
    return buffer.getvalue()


def best_of(fn: object, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.process_time()
        result = fn()  # type: ignore[operator]
        times.append(time.process_time() - start)
    return min(times), result


def measure(size: int) -> dict[str, float]:
    """Return timings and sizes for one digest size, measured in this process."""
    warm = make_digest("en", 10)
    render_pdf(warm, settings_for(warm), language="en", images=False)
    render_raw(warm)
    digest = make_digest("en", size)
    settings = settings_for(digest)
    repeat = 3 if size <= 300 else 1
    pdf_s, pdf = best_of(lambda: render_pdf(digest, settings, language="en", images=False), repeat)
    raw_s, _ = best_of(lambda: render_raw(digest), repeat)
    text_s, _ = best_of(lambda: render_raw(digest, markup=False), repeat)
    html_s, _ = best_of(lambda: render_digest(digest, settings, formats=("html",)), repeat)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert isinstance(pdf, bytes)
    return {
        "events": size,
        "pdf_s": pdf_s,
        "raw_s": raw_s,
        "text_s": text_s,
        "html_s": html_s,
        "pdf_bytes": len(pdf),
        "peak_rss_mb": rss_mb,
    }


def run_on(kb: int) -> dict[str, float]:
    """Return time and output sizes for one article that is a run-on sentence of kb KB."""
    words = ("council", "bridge", "river", "budget", "mayor", "vote", "night", "plan")
    text = " ".join(words[i % len(words)] for i in range(kb * 1024 // 6))
    title = " ".join(words[i % len(words)] for i in range(5, kb * 1024 // 6, 3))
    now = make_digest("en", 1).generated_at
    source = FeedSource(url="https://example.org/feed.xml", name="Example")
    entry = Entry(source.url, "g1", "https://example.org/a", title, now, f"<p>{text}</p>")
    feed = ParsedFeed(source.url, "Example", "https://example.org/", (entry,), "en")
    start = time.process_time()
    article = draft_article(source, feed, entry, now)
    assert article is not None
    (event,) = find_events([article], now=now)
    summary = summarize_event(event, sentences=3, now=now)
    settings = DigestSettings(name="runon", title="Run-on", feeds=())
    digest = compose_digest(settings, [summary], period_start=now, period_end=now, now=now)
    pdf = render_pdf(digest, settings, language="en", images=False)
    html = render_digest(digest, settings, formats=("html",)).html
    seconds = time.process_time() - start
    return {
        "input_kb": kb,
        "seconds": seconds,
        "stored_title_chars": len(article.title),
        "stored_text_chars": len(article.text),
        "pdf_pages": len(PdfReader(io.BytesIO(pdf)).pages),
        "pdf_kb": len(pdf) / 1024,
        "html_kb": len(html.encode()) / 1024,
    }


def main_run_on(sizes: list[int]) -> None:
    """Print one line per run-on size, then one JSON object of all of them."""
    rows = []
    for kb in sizes:
        r = run_on(kb)
        rows.append(r)
        print(
            f"{kb:>5} KB  {r['seconds']:7.2f} s  title {r['stored_title_chars']:>7} chars  "
            f"text {r['stored_text_chars']:>7} chars  {r['pdf_pages']:>4.0f} pages  "
            f"PDF {r['pdf_kb']:7.0f} KB  HTML {r['html_kb']:6.0f} KB",
            flush=True,
        )
    print(json.dumps({"run_on": [{k: round(v, 3) for k, v in r.items()} for r in rows]}))


def run_child(size: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", str(size)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[30, 300, 3000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--run-on", type=int, nargs="+", metavar="KB", help="run-on sentences")
    args = parser.parse_args()
    if args.run_on:
        main_run_on(args.run_on)
        return
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    results = {}
    print(
        f"{'events':>7} {'pdf s':>8} {'raw s':>8} {'ours/raw':>8} {'raw text':>8} "
        f"{'html s':>8} {'pdf KB':>8} {'RSS MB':>7}"
    )
    for size in args.sizes:
        r = results[size] = run_child(size)
        print(
            f"{size:>7} {r['pdf_s']:>8.3f} {r['raw_s']:>8.3f} {r['pdf_s'] / r['raw_s']:>8.2f} "
            f"{r['text_s']:>8.3f} "
            f"{r['html_s']:>8.3f} {r['pdf_bytes'] / 1024:>8.0f} {r['peak_rss_mb']:>7.0f}",
            flush=True,
        )
    mid = results.get(300) or results[args.sizes[0]]
    big = results.get(3000) or results[args.sizes[-1]]
    growth = (big["pdf_s"] / big["events"]) / (mid["pdf_s"] / mid["events"])
    print(
        json.dumps(
            {
                "pdf_s_300": round(mid["pdf_s"], 3),
                "raw_s_300": round(mid["raw_s"], 3),
                "pdf_vs_raw": round(mid["pdf_s"] / mid["raw_s"], 2),
                "html_s_300": round(mid["html_s"], 3),
                "peak_rss_mb": round(max(r["peak_rss_mb"] for r in results.values()), 1),
                "cost_growth_3000_vs_300": round(growth, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
