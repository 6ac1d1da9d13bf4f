"""Build realistic Digest objects for tests and benchmarks, in English and Russian.

`make_digest("en")` gives a small, varied digest; `make_digest("en", events=300)` repeats the
stories with numbered headlines; `hostile_digest()` carries titles that try to become markup.
Other test modules may import these; nothing here touches the network or the disk.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from digest.models import (
    Article,
    DatedItem,
    Digest,
    Event,
    EventSummary,
    FeedHealth,
    KeyFacts,
    Section,
    SummarySentence,
)

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)

# (section, headline, sources, sentences, people, organisations, places, dated items)
_Story = tuple[
    str,
    str,
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
    tuple[tuple[int, str], ...],
]

EN_STORIES: tuple[_Story, ...] = (
    (
        "World",
        "EU leaders agree on a new package of sanctions after all-night talks",
        ("Reuters", "BBC News", "The Guardian"),
        (
            "European Union leaders agreed early on Wednesday on a package of sanctions that targets shipping and banking.",
            "The deal came after talks that ran for more than fourteen hours in Brussels.",
            "Officials said the measures would take effect once published in the bloc's official journal.",
        ),
        ("Ursula von der Leyen", "António Costa"),
        ("European Union", "European Commission"),
        ("Brussels",),
        ((3, "Sanctions take effect"),),
    ),
    (
        "World",
        "Floods force thousands from their homes in northern Italy",
        ("AP", "Reuters"),
        (
            "Heavy rain caused rivers to burst their banks across Emilia-Romagna overnight.",
            "Civil protection officials said more than 4,000 people had been evacuated.",
            "Rail services between Bologna and Florence were suspended.",
        ),
        ("Giorgia Meloni",),
        ("Civil Protection Department",),
        ("Emilia-Romagna", "Bologna", "Florence"),
        (),
    ),
    (
        "Politics",
        "Senate schedules a final vote on the budget before the holiday recess",
        ("The New York Times", "Politico", "AP"),
        (
            "Senate leaders said a final vote on the spending bill would be held next Tuesday.",
            "The bill funds the government through the end of September.",
            "Several senators have said they will not support it without changes to border spending.",
        ),
        ("John Thune", "Chuck Schumer"),
        ("US Senate",),
        ("Washington",),
        ((6, "Final Senate vote"), (20, "Current funding expires")),
    ),
    (
        "Business",
        "Central bank holds rates steady and signals cuts next year",
        ("Financial Times", "Bloomberg"),
        (
            "The central bank left its main interest rate unchanged at 4.25 per cent on Tuesday.",
            "Its governor said inflation was falling faster than expected and cuts were likely in the spring.",
        ),
        ("Andrew Bailey",),
        ("Bank of England",),
        ("London",),
        ((49, "Next rate decision"),),
    ),
    (
        "Business",
        "Chipmaker shares jump after record quarterly revenue",
        ("Reuters",),
        (
            "Shares in the chipmaker rose 9% in after-hours trading after it reported record revenue.",
            "Demand for data-centre processors more than doubled from a year earlier.",
        ),
        (),
        ("Nvidia",),
        ("Santa Clara",),
        (),
    ),
    (
        "Science",
        "Space telescope finds water vapour around a distant rocky planet",
        ("Nature", "BBC News"),
        (
            "Astronomers detected water vapour in the atmosphere of a rocky planet 48 light years away.",
            "The finding, published in Nature, is the clearest sign yet of an atmosphere on such a world.",
            "The team plans further observations next year to confirm the result.",
        ),
        ("Laura Kreidberg",),
        ("NASA", "Max Planck Institute"),
        (),
        (),
    ),
    (
        "Sport",
        "Champions League: late goal sends holders into the knockout round",
        ("BBC Sport", "The Guardian"),
        (
            "A header in the 89th minute gave the holders a 2–1 win and a place in the last sixteen.",
            "The draw for the knockout round takes place in Nyon next month.",
        ),
        (),
        ("UEFA",),
        ("Nyon",),
        ((23, "Knockout-round draw"),),
    ),
    (
        "Science",
        "Antarctic sea ice reaches a record low for November",
        ("The Guardian", "Reuters", "AP", "Nature"),
        (
            "Sea ice around Antarctica covered less area this month than in any November since records began.",
            "Scientists said warmer ocean water was the most likely cause.",
        ),
        (),
        ("National Snow and Ice Data Center",),
        ("Antarctica",),
        (),
    ),
)

RU_STORIES: tuple[_Story, ...] = (
    (
        "Политика",
        "Госдума приняла бюджет на три года во втором чтении",
        ("ТАСС", "Интерфакс", "Коммерсантъ"),
        (
            "Государственная дума во втором чтении приняла проект федерального бюджета на 2027–2029 годы.",
            "За документ проголосовали 340 депутатов.",
            "Третье чтение назначено на следующую неделю.",
        ),
        ("Вячеслав Володин",),
        ("Государственная дума", "Минфин"),
        ("Москва",),
        ((7, "Третье чтение бюджета"),),
    ),
    (
        "Общество",
        "«Я не ожидала такого»: жители Калуги о новом мосте через Оку",
        ("Meduza", "РИА Новости"),
        (
            "Новый мост через Оку открыли для движения в среду утром.",
            "Жители говорят, что дорога до центра теперь занимает «не сорок минут, а десять».",
        ),
        ("Владислав Шапша",),
        (),
        ("Калуга", "Ока"),
        (),
    ),
    (
        "Экономика",
        "Центробанк сохранил ключевую ставку на уровне 16,5 %",
        ("Ведомости", "РБК", "Интерфакс"),
        (
            "Банк России сохранил ключевую ставку на уровне 16,5 % годовых.",
            "Регулятор допустил снижение ставки в первом квартале следующего года.",
        ),
        ("Эльвира Набиуллина",),
        ("Банк России",),
        (),
        ((30, "Следующее заседание совета директоров"),),
    ),
    (
        "Наука",
        "Учёные МГУ описали новый вид глубоководных рачков",
        ("Наука и жизнь",),
        (
            "Биологи МГУ описали новый вид амфипод, найденный на глубине более шести километров.",
            "Рачков обнаружили во время экспедиции в Курило-Камчатский жёлоб.",
        ),
        (),
        ("МГУ",),
        ("Курило-Камчатский жёлоб",),
        (),
    ),
    (
        "Спорт",
        "«Зенит» обыграл «Спартак» в центральном матче тура",
        ("Спорт-Экспресс", "Чемпионат"),
        (
            "«Зенит» победил «Спартак» со счётом 2:1 на «Газпром Арене».",
            "Победный мяч был забит на 88-й минуте.",
        ),
        (),
        ("Зенит", "Спартак"),
        ("Санкт-Петербург",),
        (),
    ),
)

HOSTILE_HEADLINES = (
    "Markup <b>bold</b> & <script>alert('x')</script> <para> ]]> </font> & done",
    "Long: " + "Я" * 5000 + "x" * 5000,
    "שלום עולם: مرحبا بالعالم — right-to-left text in a headline",
    '"Quotes" & \'apostrophes\' <a href="javascript:alert(1)">link</a> {{ jinja }} {% if %}',
)


def make_article(source: str, title: str, i: int, language: str, when: datetime) -> Article:
    """Return an Article from source with a stable URL."""
    slug = f"{zlib.crc32((source + title).encode()) % 10**8}-{i}"
    return Article(
        feed_url=f"https://{_host(source)}/rss",
        source=source,
        guid=slug,
        url=f"https://{_host(source)}/news/{slug}",
        title=title,
        published=when,
        text=title,
        language=language,
        id=i,
    )


def _host(source: str) -> str:
    """Return a host per source: each outlet is on its own site, as outlets are counted."""
    ascii_name = "".join(c for c in source.lower() if c.isalnum() and c.isascii())
    return f"{ascii_name or f'source{zlib.crc32(source.encode()) % 10**6}'}.example"


def make_summary(story: _Story, n: int, language: str, *, suffix: str = "") -> EventSummary:
    """Return an EventSummary built from one story tuple; n numbers its article ids."""
    section, headline, sources, sentences, people, orgs, places, dated = story
    when = NOW - timedelta(hours=2 + n % 20)
    articles = tuple(
        make_article(src, headline, n * 10 + k, language, when + timedelta(minutes=7 * k))
        for k, src in enumerate(sources)
    )
    quoted = tuple(
        SummarySentence(
            text=s,
            source=articles[k % len(articles)].source,
            url=articles[k % len(articles)].url,
            article_id=articles[k % len(articles)].id,
        )
        for k, s in enumerate(sentences)
    )
    dates = tuple(
        DatedItem(
            when=NOW.date() + timedelta(days=d),
            label=label,
            text=sentences[0],
            source=articles[0].source,
            url=articles[0].url,
        )
        for d, label in dated
    )
    event = Event(
        key=f"ev-{n}",
        articles=tuple(replace(a, tags=(section,)) for a in articles),
        score=100.0 - n,
        developing_since=NOW - timedelta(days=2) if n % 4 == 2 else None,
    )
    return EventSummary(
        event=event,
        headline=headline + suffix,
        sentences=quoted,
        facts=KeyFacts(people=people, organisations=orgs, places=places),
        dates=dates,
    )


def make_digest(
    language: str = "en",
    events: int | None = None,
    *,
    failed: bool = True,
    images: bool = False,
    title: str | None = None,
) -> Digest:
    """Return a Digest of `events` stories (all stories once when None), grouped by section."""
    stories = EN_STORIES if language == "en" else RU_STORIES
    count = len(stories) if events is None else events
    summaries = []
    for n in range(count):
        story = stories[n % len(stories)]
        suffix = "" if n < len(stories) else f" ({n // len(stories) + 1})"
        summary = make_summary(story, n, language, suffix=suffix)
        if images:
            summary = replace(summary, image_url=f"https://img.example/{n}.jpg")
        summaries.append(summary)
    return _assemble(language, summaries, failed=failed, title=title)


def _assemble(
    language: str, summaries: list[EventSummary], *, failed: bool, title: str | None
) -> Digest:
    order: dict[str, list[EventSummary]] = {}
    for s in summaries:
        order.setdefault(s.event.tags[0] if s.event.tags else "News", []).append(s)
    coming = tuple(sorted((d for s in summaries[:40] for d in s.dates), key=lambda d: d.when))
    health = (
        FeedHealth(url="https://reuters.example/rss", name="Reuters", ok=True),
        FeedHealth(
            url="https://broken.example/feed.xml",
            name="Broken Feed",
            ok=not failed,
            error=None if not failed else "HTTP 404",
            error_count=3,
        ),
    )
    return Digest(
        name="morning",
        title=title or ("Morning Briefing" if language == "en" else "Утренний выпуск"),
        language=language,
        timezone="Europe/London" if language == "en" else "Europe/Moscow",
        period_start=NOW - timedelta(hours=24),
        period_end=NOW,
        generated_at=NOW,
        sections=tuple(Section(title=t, events=tuple(ev)) for t, ev in order.items()),
        coming_up=coming,
        feed_health=health,
    )


def hostile_digest(language: str = "en") -> Digest:
    """Return a digest whose headlines, sources and facts hold markup, huge words and RTL text."""
    base = list(make_digest(language).events[:2])
    hostile = []
    for n, headline in enumerate(HOSTILE_HEADLINES):
        story: _Story = (
            "<Section & Co>",
            headline,
            ("Src <i>&amp;", "]]> Feed"),
            (headline, "Plain sentence with <tags> & ampersands ]]> and \x00 control chars."),
            ("<Person>",),
            ("Org & Sons",),
            ("שלום",),
            ((1, "<b>date</b> & label " + headline),),
        )
        hostile.append(make_summary(story, 100 + n, language))
    return _assemble(language, base + hostile, failed=True, title="Digest <&> ]]>")


def empty_digest(language: str = "en") -> Digest:
    """Return a digest with no events (a quiet night) and healthy feeds."""
    return replace(make_digest(language, 0, failed=False), coming_up=())


def coming_up_dates(digest: Digest) -> tuple[date, ...]:
    """Return the dates of the digest's 'Coming up' items."""
    return tuple(d.when for d in digest.coming_up)
