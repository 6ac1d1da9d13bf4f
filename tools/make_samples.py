#!/usr/bin/env python3
"""Build the offline sample feeds in digest/feeds/samples/ from real articles.

Run from the repository root:  .venv/bin/python tools/make_samples.py
It reads ../shared (override with DIGEST_SHARED=/path/to/shared) and rewrites the
*.xml files and samples.toml in digest/feeds/samples/. The output is deterministic.

Sources (see digest/feeds/samples/README.md for licences and attribution):
  * seed/article.txt                        -- the seed article, verbatim
  * data/eval/events-ecbplus-dev.jsonl      -- ECB+ corpus (CC-BY-3.0), English web news
  * data/ru-news/ru-news.jsonl              -- Russian news (Meduza, CC BY 4.0; two rows
                                               from the tgcontest set, see README)

The texts are real; the feeds, the outlets' feed titles and all pubDates are assigned
here so that the demo has events: the English items fall in the 24 hours before
2018-10-27 07:00 UTC, the Russian ones in the 24 hours before 2019-11-19 09:00 MSK.
"""

from __future__ import annotations

import html
import json
import os
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DIGEST_SHARED", ROOT.parent / "shared")).resolve()
OUT = ROOT / "digest" / "feeds" / "samples"

UTC = UTC
MSK = timezone(timedelta(hours=3))
EDT = timezone(timedelta(hours=-4))
BST = timezone(timedelta(hours=1))

# --------------------------------------------------------------------------- feeds

FEEDS: dict[str, dict[str, Any]] = {
    "agency-ru-en": dict(
        fmt="rss",
        lang="en",
        tags=["world", "russia"],
        title="RU News Agency - English service (sample)",
        link="https://agency-ru-en.example/en/",
        desc="Offline sample: the English service of a Russian news agency "
        "(machine-translated stories). Texts are real, dates are assigned.",
    ),
    "world-wire": dict(
        fmt="atom",
        lang="en",
        tags=["world"],
        title="World Wire (sample)",
        link="https://world-wire.example/",
        desc="Offline sample Atom feed: a wire service's top stories.",
    ),
    "broadsheet": dict(
        fmt="rss",
        lang="en",
        tags=["world", "uk"],
        title="The Sample Herald &#8211; World",  # already-escaped on purpose
        link="https://sample-herald.example/world",
        desc="Offline sample: a broadsheet whose feed puts HTML entities in titles.",
    ),
    "public-radio": dict(
        fmt="rss",
        lang="en",
        tags=["world", "us"],
        title="Public Radio News (sample)",
        link="https://public-radio.example/news",
        desc="Offline sample: teasers only (description), no full text in the feed.",
    ),
    "evening-post": dict(
        fmt="rss",
        lang="en",
        tags=["world", "culture", "sport"],
        title="The Evening Post (sample)",
        link="https://evening-post.example/",
        desc="Offline sample: a tabloid-ish evening paper with full text.",
    ),
    "meduza-ru": dict(
        fmt="rss",
        lang="ru",
        tags=["russia"],
        title="Медуза (sample)",
        link="https://meduza.io/",
        desc="Офлайн-пример: реальные материалы «Медузы» (CC BY 4.0), даты публикации "
        "назначены для демо.",
    ),
    "ru-portal-a": dict(
        fmt="rss",
        lang="ru",
        tags=["russia", "ukraine", "world"],
        title="Новостная лента А (sample)",
        link="https://ru-portal-a.example/",
        desc="Офлайн-пример: русскоязычная лента-агрегатор; у каждой новости указан источник.",
    ),
    "ru-portal-b": dict(
        fmt="atom",
        lang="ru",
        tags=["russia", "world"],
        title="Новостная лента Б (sample)",
        link="https://ru-portal-b.example/",
        desc="Офлайн-пример (Atom): русскоязычная лента-агрегатор.",
    ),
}

# --------------------------------------------------------------------------- items
# ECB+: (doc id, feed, time, kind, title line index or a written title, first body line)
# kind: "full" = content:encoded + teaser, "fullonly" = content:encoded only,
#       "teaser" = description only.


def t(day: int, hh: int, mm: int, tz: tzinfo = UTC) -> datetime:
    """A time on October <day> 2018 given in UTC, shown in timezone tz."""
    return datetime(2018, 10, day, hh, mm, tzinfo=UTC).astimezone(tz)


def t19(day: int, hh: int, mm: int, tz: tzinfo = UTC) -> datetime:
    """A time on November <day> 2019 given in UTC, shown in timezone tz.

    The Russian texts are from 2019 (the Ukrainian ships were handed back on 18 November
    2019): dated in 2018 like the English items, the dates they mention would all look ahead.
    """
    return datetime(2019, 11, day, hh, mm, tzinfo=UTC).astimezone(tz)


ECB = [
    # 20b: earthquake on Qeshm island, southern Iran (5 feeds)
    ("20_1ecbplus", "agency-ru-en", t(26, 11, 5), "full", 1, 2),
    (
        "20_7ecbplus",
        "world-wire",
        t(26, 10, 42),
        "fullonly",
        "Earthquake kills at least 10 in southern Iran",
        1,
    ),
    ("20_8ecbplus", "broadsheet", t(26, 13, 30, BST), "full", 0, 2),
    ("20_3ecbplus", "public-radio", t(26, 12, 15, EDT), "teaser", 2, 3),
    ("20_11ecbplus", "evening-post", t(26, 17, 48, EDT), "full", 0, 4),
    # 8b: firebomb attack on a bank in Athens during austerity riots (5 feeds)
    ("8_5ecbplus", "agency-ru-en", t(26, 15, 40), "full", 0, 2),
    ("8_8ecbplus", "world-wire", t(26, 14, 58), "fullonly", 0, 2),
    ("8_1ecbplus", "broadsheet", t(26, 16, 20, BST), "full", 0, 2),
    ("8_7ecbplus", "public-radio", t(26, 19, 5, EDT), "teaser", 0, 2),
    ("8_3ecbplus", "evening-post", t(26, 18, 33, EDT), "full", 0, 2),
    # 2b: Ellen DeGeneres to host the Oscars (4 feeds)
    ("2_8ecbplus", "world-wire", t(26, 18, 50), "fullonly", 0, 2),
    ("2_6ecbplus", "broadsheet", t(26, 19, 12, BST), "full", 0, 2),
    ("2_4ecbplus", "public-radio", t(26, 20, 40, EDT), "teaser", 0, 2),
    ("2_10ecbplus", "evening-post", t(26, 21, 15, EDT), "full", 0, 2),
    # 7b: Wladimir Klitschko stops Tony Thompson (4 feeds)
    ("7_1ecbplus", "world-wire", t(26, 22, 4), "fullonly", 0, 2),
    ("7_8ecbplus", "broadsheet", t(26, 22, 46, BST), "full", 0, 3),
    ("7_3ecbplus", "public-radio", t(26, 23, 40, EDT), "teaser", 0, 3),
    ("7_2ecbplus", "evening-post", t(26, 23, 7, EDT), "full", 0, 3),
    # 14b: fire at the Waitrose supermarket in Wellington (2 feeds)
    ("14_1ecbplus", "broadsheet", t(26, 9, 11, BST), "full", 1, 2),
    ("14_7ecbplus", "public-radio", t(26, 8, 30, EDT), "teaser", 0, 2),
    # 12b: Indian Navy foils pirate attack in the Gulf of Aden (2 feeds)
    ("12_2ecbplus", "agency-ru-en", t(26, 13, 20), "full", 0, 2),
    ("12_10ecbplus", "broadsheet", t(26, 14, 2, BST), "full", 0, 2),
    # 4b: death of Esther Williams (2 feeds)
    ("4_2ecbplus", "agency-ru-en", t(26, 20, 10), "teaser", 0, 2),
    ("4_5ecbplus", "public-radio", t(26, 21, 30, EDT), "teaser", 0, 2),
    # singles
    ("21_1ecbplus", "world-wire", t(27, 1, 3), "fullonly", 0, 2),
    ("19_1ecbplus", "world-wire", t(27, 0, 12), "teaser", 0, 2),
    ("6_3ecbplus", "evening-post", t(27, 3, 47, EDT), "full", 0, 2),
    # older than the demo window (must not appear in the demo digest)
    ("11_3ecbplus", "agency-ru-en", t(25, 9, 20), "teaser", 0, 2),
    ("3_6ecbplus", "world-wire", t(24, 21, 40), "fullonly", 0, 2),
]

# Russian rows, found by URL: (url, feed, time, kind)
RU = [
    (
        "https://meduza.io/news/2019/08/06/umerla-feshn-direktor-tsuma-alla-verber",
        "meduza-ru",
        t19(18, 11, 20, MSK),
        "full",
    ),
    (
        "https://meduza.io/news/2019/08/06/u-zaderzhannyh-na-aktsii-za-svobodnye-vybory-3-avgusta-pytalis-vzlomat-telegram-i-gmail-ranee-ih-telefony-iz-yala-politsiya",
        "meduza-ru",
        t19(18, 11, 35, MSK),
        "full",
    ),
    (
        "https://meduza.io/news/2019/08/06/kandidata-v-mosgordumu-yuliyu-galyaminu-arestovali-na-15-sutok-ona-uzhe-otsidela-10",
        "meduza-ru",
        t19(18, 12, 14, MSK),
        "full",
    ),
    (
        "https://meduza.io/feature/2019/08/06/zhalko-chto-bolshinstvo-uchastnikov-mitinga-ne-moskvichi",
        "meduza-ru",
        t19(18, 12, 19, MSK),
        "teaser",
    ),
    ("https://meduza.io/feature/2019/08/06/more-ognya", "meduza-ru", t19(18, 12, 20, MSK), "full"),
    (
        "https://meduza.io/short/2019/08/06/skolko-prestupleniy-vyyavili-v-silovyh-strukturah-v-2018-godu-v-rosgvardii-277",
        "meduza-ru",
        t19(18, 12, 43, MSK),
        "full",
    ),
    (
        "https://meduza.io/news/2019/11/14/kompaniya-facebook-vpervye-raskryla-dannye-ob-udalenii-kontenta-iz-instagrama-za-polgoda-tam-zablokirovali-bolshe-treh-millionov-postov",
        "meduza-ru",
        t19(18, 16, 5, MSK),
        "full",
    ),
    (
        "https://meduza.io/cards/sledovateli-zasekretili-delo-ivana-golunova-hotya-zasekrechivat-prestupleniya-politseyskih-nelzya-i-chto-eto-zakonno",
        "meduza-ru",
        t19(18, 18, 50, MSK),
        "fullonly",
    ),
    # older than the demo window
    (
        "https://meduza.io/feature/2019/08/06/matros-razgovarival-v-kazarme-po-videosvyazi",
        "meduza-ru",
        t19(17, 8, 15, MSK),
        "teaser",
    ),
    # one Russian event, two outlets: the captured Ukrainian navy ships are handed back
    (
        "https://gordonua.com/news/crimea/v-fsb-isklyuchili-ukrainskie-korabli-iz-chisla-veshchestvennyh-dokazatelstv-smi-1433329.html",
        "ru-portal-a",
        t19(19, 3, 25, MSK),
        "full",
    ),
    (
        "https://news.rambler.ru/world/43177544-rossiya-vyvela-ukrainskie-korabli-v-more/",
        "ru-portal-b",
        t19(19, 4, 40, MSK),
        "full",
    ),
]

# currency signs lost in the corpus (U+FFFD or "?"), restored from context
MOJIBAKE = {
    "8_5ecbplus": [("\ufffd", "\u00a3")],  # Sky News: "(\u00a325.7bn)"
    "8_1ecbplus": [("an ? 110 billion", "a \u20ac 110 billion")],
}

SEED_TIME = t(27, 1, 15, MSK)  # Sat, 27 Oct 2018 04:15 +0300 (the rally: 26 Oct, US time)

SOURCE_NAMES = {  # display names for <source>; the host is the attribution ECB+ gives
    "news.bbc.co.uk": "BBC News",
    "bbc.co.uk": "BBC",
    "cbc.ca": "CBC News",
    "query.nytimes.com": "The New York Times",
    "usatoday30.usatoday.com": "USA Today",
    "articles.latimes.com": "Los Angeles Times",
    "news.sky.com": "Sky News",
    "uk.reuters.com": "Reuters",
    "reuters.com": "Reuters",
    "thenational.ae": "The National",
    "abc.net.au": "ABC News (Australia)",
    "theguardian.com": "The Guardian",
    "hollywoodreporter.com": "The Hollywood Reporter",
    "variety.com": "Variety",
    "espn.go.com": "ESPN",
    "dailymail.co.uk": "Daily Mail",
    "middevongazette.co.uk": "Mid Devon Gazette",
    "ndtv.com": "NDTV",
    "hindustantimes.com": "Hindustan Times",
    "nytimes.com": "The New York Times",
    "articles.chicagotribune.com": "Chicago Tribune",
    "ny1.com": "NY1",
    "businessinsider.com": "Business Insider",
    "examiner.com": "Examiner.com",
    "centralasiaonline.com": "Central Asia Online",
    "foxnews.com": "Fox News",
    "meduza.io": "Медуза",
    "gordonua.com": "Гордон",
    "news.rambler.ru": "Рамблер/новости",
}

# --------------------------------------------------------------------------- text


def detok(s: str, seen: int = 0) -> tuple[str, int]:
    """Undo the ECB+ tokenisation of one sentence ("Reid 's" -> "Reid's").

    `seen` is the number of double quotes met so far in the article (a quotation can
    run over several sentences); the updated count is returned with the text."""
    s = " " + s.strip() + " "
    s = s.replace("``", '"').replace("''", '"')
    s = re.sub(r"(?<=\w) (['’]) ?(s|S|re|ve|ll|d|m|t) ", r"\1\2 ", s)
    s = re.sub(r" (n't) ", r"\1 ", s)
    s = re.sub(r"(\d) ([.,:/]) (\d)", r"\1\2\3", s)  # 6 . 1, 120 , 000, 10 : 04
    s = re.sub(r"(\d) ([.,:/]) (\d)", r"\1\2\3", s)
    s = re.sub(r"\b([A-Z]) \. (?=[A-Z] \.)", r"\1.", s)  # U . S . -> U.S .
    s = re.sub(r"\b([A-Z]) \. ([A-Z]) \.", r"\1.\2.", s)
    s = re.sub(r"\b([A-Z]\.[A-Z])\. (?=[A-Z]\b)", r"\1.", s)
    s = s.replace(" - - ", " — ")  # "--" dash
    s = re.sub(r"(\w) - (\w)", r"\1-\2", s)  # two - party
    s = re.sub(r"(\w) - (\w)", r"\1-\2", s)
    s = re.sub(r" ([,.;:!?%)\]}”’])", r"\1", s)
    s = re.sub(r"([(\[{“‘$€£]) ", r"\1", s)
    s = re.sub(r" ([’'])(?=[.,;:]? )", r"\1", s)
    # lone straight double quotes: pair them up and glue each to its contents
    toks, out = s.split(" "), list[str]()
    orig = list(toks)
    for i, tok in enumerate(toks):
        if tok == '"':
            if seen % 2 == 0 and i + 1 < len(toks):
                toks[i + 1] = '"' + toks[i + 1]
            elif out:
                out[-1] += '"'
            else:
                out.append(tok)
            seen += 1
            continue
        seen += orig[i].count('"')
        out.append(tok)
    s = " ".join(out)
    s = re.sub(r" ([,.;:!?])", r"\1", s)
    return re.sub(r"\s+", " ", s).strip(), seen


def fix_ru(text: str, corus: bool) -> list[str]:
    """Return paragraphs; the corus rows lost their newlines to a bare "n"."""
    s = text.replace("\r", "")
    s = re.sub(r"``(.+?)``", r"«\1»", s)
    if corus:
        cyr, CYR = "а-яё", "А-ЯЁ"
        s = re.sub(r"(?<=[^A-Za-z])nn(?=[^a-z])", "\n", s)
        s = re.sub(rf"(?<=[.!?…»])n(?=[«\"{CYR}A-Z0-9—])", "\n", s)
        s = re.sub(rf"(?<=[{cyr}])n(?=[{CYR}—])", "\n", s)
        s = re.sub(r"(?<=[«(])n(?=\S)", "", s)
        s = re.sub(rf"(?<=[{cyr}{CYR}0-9A-Za-z])n(?=[»),.:;!?])", "", s)
        s = re.sub(rf"(?<=[{cyr}{CYR}0-9])n(?=[{cyr}«(A-Za-z])", " ", s)
        s = re.sub(rf"(?<=[a-z])n(?=[{cyr}«])", " ", s)
        s = re.sub(rf"(?<=[»)])n(?=[{cyr}«(A-Za-z0-9])", " ", s)
        s = re.sub(rf"(?<=[,;:{cyr}A-Z])n(?=[{cyr}0-9№«])", " ", s)
    paras = [re.sub(r"[ \t]+", " ", p).strip() for p in s.split("\n")]
    return [p for p in paras if p]


def paragraphs_from_sentences(lines: list[str]) -> list[str]:
    """Group sentences two by two; a line without final punctuation stands alone."""
    out: list[str] = []
    cur: list[str] = []
    for ln in lines:
        if not re.search(r"[.!?\"”’')]$", ln):
            if cur:
                out.append(" ".join(cur))
                cur = []
            out.append(ln)
            continue
        cur.append(ln)
        if len(cur) == 2:
            out.append(" ".join(cur))
            cur = []
    if cur:
        out.append(" ".join(cur))
    return out


def teaser(paras: list[str], limit: int = 280) -> str:
    first = paras[0]
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def slug(s: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")
    return "-".join(s.split("-")[:8]) or "item"


# --------------------------------------------------------------------------- build


def load_items() -> dict[str, list[dict[str, Any]]]:
    by_feed: dict[str, list[dict[str, Any]]] = {k: [] for k in FEEDS}

    # the seed article, verbatim
    seed = (SHARED / "seed" / "article.txt").read_text(encoding="utf-8")
    seed_paras = [p.strip() for p in re.split(r"\n\s*\n", seed) if p.strip()]
    by_feed["agency-ru-en"].append(
        dict(
            title=seed_paras[0],
            paras=seed_paras,
            kind="fullonly",
            when=SEED_TIME,
            link="https://agency-ru-en.example/en/20181027/trump-victory-worst-thing-russia.html",
            guid="agency-ru-en:20181027-trump-victory",
            source=None,
            origin="seed/article.txt",
            licence="sample input (see README)",
        )
    )

    ecb = {}
    with open(SHARED / "data" / "eval" / "events-ecbplus-dev.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            ecb[d["id"]] = d
    for doc_id, feed, when, kind, title, body_from in ECB:
        d = ecb[doc_id]
        text = d["text"]
        for bad, good in MOJIBAKE.get(doc_id, ()):
            text = text.replace(bad, good)
        lines, seen = [], 0
        for x in text.split("\n"):
            if x.strip():
                line, seen = detok(x, seen)
                lines.append(line)
        head = lines[title] if isinstance(title, int) else str(title)
        body = paragraphs_from_sentences(lines[body_from:])
        host = d["source"]
        by_feed[feed].append(
            dict(
                title=head,
                paras=body,
                kind=kind,
                when=when,
                link=f"{FEEDS[feed]['link'].rstrip('/')}/2018/10/{when.day:02d}/{slug(head)}",
                guid=f"{feed}:ecbplus-{doc_id}",
                source=host,
                event=d["event"],
                origin=f"ECB+ {doc_id} ({host})",
                licence="CC-BY-3.0",
            )
        )

    ru = {}
    with open(SHARED / "data" / "ru-news" / "ru-news.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            ru[d["url"]] = d
    for url, feed, when, kind in RU:
        d = ru[url]
        paras = fix_ru(d["text"], corus="corus" in d["source"])
        host = re.sub(r"^https?://", "", url).split("/")[0]
        by_feed[feed].append(
            dict(
                title=d["title"].strip(),
                paras=paras,
                kind=kind,
                when=when,
                link=url,
                guid=url if feed == "meduza-ru" else f"{feed}:{url}",
                source=None if feed == "meduza-ru" else host,
                origin=f"ru-news {d['source']}",
                licence="see README",
            )
        )
    for items in by_feed.values():
        items.sort(key=lambda it: it["when"], reverse=True)
    return by_feed


def cdata(s: str) -> str:
    return "<![CDATA[" + s.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def html_body(paras: list[str]) -> str:
    return "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paras)


def entity_title(s: str) -> str:
    """The broadsheet's CMS writes typographic characters as HTML entities, and
    double-escapes ampersands: the parsed title then still holds '&#8217;' etc."""
    s = html.escape(s, quote=False)
    s = (
        s.replace("’", "&#8217;")
        .replace("‘", "&#8216;")
        .replace("“", "&#8220;")
        .replace("”", "&#8221;")
        .replace("—", "&#8212;")
        .replace("–", "&#8211;")
    )
    s = s.replace("'", "&#039;").replace('"', "&quot;")
    return escape(s)  # second escaping level: entities survive XML parsing as text


def rss(key: str, items: list[dict[str, Any]]) -> str:
    f = FEEDS[key]
    title = f["title"]
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">',
        "<channel>",
        f"  <title>{title if key == 'broadsheet' else escape(title)}</title>",
        f"  <link>{escape(f['link'])}</link>",
        f"  <description>{escape(f['desc'])}</description>",
        f"  <language>{f['lang']}</language>",
        f"  <lastBuildDate>{format_datetime(items[0]['when'])}</lastBuildDate>",
        "  <generator>digest tools/make_samples.py</generator>",
    ]
    for it in items:
        out.append("  <item>")
        t_ = entity_title(it["title"]) if key == "broadsheet" else escape(it["title"])
        out.append(f"    <title>{t_}</title>")
        out.append(f"    <link>{escape(it['link'])}</link>")
        perma = "true" if it["guid"].startswith("http") else "false"
        out.append(f'    <guid isPermaLink="{perma}">{escape(it["guid"])}</guid>')
        out.append(f"    <pubDate>{format_datetime(it['when'])}</pubDate>")
        if it["kind"] in ("full", "teaser"):
            tz = teaser(it["paras"])
            if key == "broadsheet":  # HTML teaser with entities, escaped once for XML
                desc = html.escape(tz, quote=False).replace("—", "&mdash;").replace("’", "&rsquo;")
                out.append(f"    <description>{escape('<p>' + desc + '</p>')}</description>")
            else:
                out.append(f"    <description>{escape(tz)}</description>")
        if it["kind"] in ("full", "fullonly"):
            out.append(f"    <content:encoded>{cdata(html_body(it['paras']))}</content:encoded>")
        if it.get("source"):
            name = SOURCE_NAMES.get(it["source"], it["source"])
            out.append(
                f"    <source url={quoteattr('https://' + it['source'] + '/')}>"
                f"{escape(name)}</source>"
            )
        out.append("  </item>")
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out)


def atom(key: str, items: list[dict[str, Any]]) -> str:
    f = FEEDS[key]
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{f["lang"]}">',
        f"  <title>{escape(f['title'])}</title>",
        f"  <subtitle>{escape(f['desc'])}</subtitle>",
        f'  <link rel="alternate" type="text/html" href="{escape(f["link"])}"/>',
        f'  <link rel="self" type="application/atom+xml" href="{escape(f["link"])}feed.atom"/>',
        f"  <id>{escape(f['link'])}</id>",
        f"  <updated>{items[0]['when'].isoformat()}</updated>",
        f"  <author><name>{escape(f['title'])}</name></author>",
    ]
    for it in items:
        out.append("  <entry>")
        out.append(f'    <title type="text">{escape(it["title"])}</title>')
        out.append(f'    <link rel="alternate" type="text/html" href="{escape(it["link"])}"/>')
        guid = it["guid"] if it["guid"].startswith("http") else "urn:sample:" + it["guid"]
        out.append(f"    <id>{escape(guid)}</id>")
        out.append(f"    <published>{it['when'].isoformat()}</published>")
        out.append(f"    <updated>{it['when'].isoformat()}</updated>")
        if it.get("source"):
            name = SOURCE_NAMES.get(it["source"], it["source"])
            out.append(
                f"    <author><name>{escape(name)}</name>"
                f"<uri>https://{escape(it['source'])}/</uri></author>"
            )
        if it["kind"] in ("full", "teaser"):
            out.append(f'    <summary type="text">{escape(teaser(it["paras"]))}</summary>')
        if it["kind"] in ("full", "fullonly"):
            out.append(f'    <content type="html">{escape(html_body(it["paras"]))}</content>')
        out.append("  </entry>")
    out += ["</feed>", ""]
    return "\n".join(out)


def samples_toml() -> str:
    lines = [
        "# Offline sample feeds for `make demo` and the tests (generated by",
        "# tools/make_samples.py; see README.md here for sources and licences).",
        "# The demo builds the English digest as of 2018-10-27T07:00:00Z and the Russian one as of",
        "# 2019-11-19T09:00:00+03:00, each with a 24 h window (see examples/demo.toml).",
        "",
    ]
    for key, f in FEEDS.items():
        name = html.unescape(f["title"])
        lines += [
            "[[feed]]",
            f'url = "{key}.xml"',
            f"name = {json.dumps(name, ensure_ascii=False)}",
            "tags = [" + ", ".join(json.dumps(x) for x in f["tags"]) + "]",
            'full_text = "never"',
            "weight = 1.0",
            f'language = "{f["lang"]}"',
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    by_feed = load_items()
    OUT.mkdir(parents=True, exist_ok=True)
    total = 0
    for key, items in by_feed.items():
        text = rss(key, items) if FEEDS[key]["fmt"] == "rss" else atom(key, items)
        (OUT / f"{key}.xml").write_text(text, encoding="utf-8")
        total += len(items)
        print(f"{key}.xml: {len(items)} items")
    (OUT / "samples.toml").write_text(samples_toml(), encoding="utf-8")
    print(f"{len(by_feed)} feeds, {total} items -> {OUT}")


if __name__ == "__main__":
    main()
