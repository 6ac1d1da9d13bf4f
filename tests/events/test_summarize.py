"""Tests for digest.events.summarize: quoted sentences, boilerplate, redundancy, headline, facts, dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

from digest.events.summarize import (
    Summarizer,
    article_sentences,
    clean_headline,
    default_summarizer,
    story_paragraphs,
    summarize_event,
    summarize_lead,
)
from digest.models import Article, Event

PUBLISHED = datetime(2018, 10, 27, 9, 0, tzinfo=UTC)
# The seed article of the sample feeds (a machine translation, as published).
SEED_TITLE = "Trump called his victory «the worst thing to happen with Russia»"
SEED_TEXT = """© AP Photo / Andrew Naked USA Donald trump. Archival photoTrump called his victory «the worst thing to happen with Russia»© AP Photo / Andrew Harnik
The US President Donald trump said that his victory is the worst thing that could happen to Russia.
«You know what I tell you, my victory in the elections is the worst thing that happened to Russia ever,» he said, speaking at a campaign rally in North Carolina.
«However, to get along with Russia, along with China, North Korea, Japan is good, not bad,» he added, noting that he had a good meeting with Russian President Vladimir Putin in Helsinki.
Trump is involved in an election rally in support of Republican candidates in the midterm elections.
Elections will be held in the US on 6 November. They are called intermediate because it is held in the middle of the term of the current President.
Accusations of «interference»
In mid-February, the U.S. government was charged with 13 citizens of Russia and three Russian organizations attempt to intervene in the American political process and the presidential race of 2016.
The indictment, consisting of 37 pages, was prepared by the office of spectracolor Robert Mueller.
Russia has repeatedly denied accusations of trying to influence the elections in different countries, as the press Secretary of the President of Russia Dmitry Peskov called them «completely unfounded».
The only bilateral talks between Putin and trump took place in July this year in Helsinki.
The next meeting of the leaders of the two countries scheduled for November 11 in Paris."""


def article(
    n: int, source: str, title: str, text: str, language: str = "en", image: str | None = None
) -> Article:
    return Article(
        feed_url=f"https://{source}/feed",
        source=source,
        guid=str(n),
        url=f"https://{source}/{n}",
        title=title,
        published=PUBLISHED,
        text=text,
        language=language,
        id=n,
        image_url=image,
    )


def seed_event() -> Event:
    return Event(key="seed", articles=(article(1, "ria.ru", SEED_TITLE, SEED_TEXT),))


def test_sentences_are_quoted_exactly_with_their_source() -> None:
    summary = summarize_event(seed_event(), sentences=3, now=PUBLISHED)
    assert len(summary.sentences) == 3
    for sentence in summary.sentences:
        assert sentence.text in SEED_TEXT
        assert (sentence.source, sentence.url, sentence.article_id) == (
            "ria.ru",
            "https://ria.ru/1",
            1,
        )


def test_photo_credits_subheads_and_repeated_title_never_appear() -> None:
    for method in (summarize_event, summarize_lead):
        texts = [s.text for s in method(seed_event(), sentences=4, now=PUBLISHED).sentences]
        assert not any("©" in t or "Archival photo" in t for t in texts)
        assert "Accusations of «interference»" not in texts
        assert texts[0].startswith("The US President Donald trump said")


def test_lead_baseline_takes_the_first_sentences_in_order() -> None:
    summary = summarize_lead(seed_event(), sentences=2, now=PUBLISHED)
    assert [s.text[:20] for s in summary.sentences] == [
        "The US President Don",
        "«You know what I tel",
    ]


def test_headline_is_the_most_shared_title_cleaned() -> None:
    event = Event(
        key="k",
        articles=(
            article(
                1,
                "a.org",
                "Quake kills seven on Qeshm island - Reuters",
                "A quake hit Qeshm island today.",
            ),
            article(
                2,
                "b.org",
                " Qeshm island quake kills seven. ",
                "Seven died when a quake hit Qeshm.",
            ),
            article(
                3, "c.org", "Iran: rescue under way", "Rescuers reached the island by ferry today."
            ),
        ),
    )
    assert summarize_event(event, now=PUBLISHED).headline in {
        "Quake kills seven on Qeshm island",
        "Qeshm island quake kills seven",
    }
    assert (
        clean_headline("  Storm  closes harbour | BBC News ", ["BBC News"])
        == "Storm closes harbour"
    )


def test_the_same_sentence_from_two_sources_is_said_once() -> None:
    lead = (
        "A magnitude 5.9 earthquake struck Qeshm island off southern Iran on Sunday, killing seven."
    )
    event = Event(
        key="k",
        articles=(
            article(
                1,
                "a.org",
                "Quake on Qeshm",
                f"{lead}\nRescue teams from Bandar Abbas arrived by ferry.",
            ),
            article(
                2,
                "b.org",
                "Quake on Qeshm",
                f"{lead}\nThe governor said 40 houses collapsed in Dargahan.",
            ),
        ),
    )
    texts = [s.text for s in summarize_event(event, sentences=3, now=PUBLISHED).sentences]
    assert texts.count(lead) == 1
    assert {s.source for s in summarize_event(event, sentences=3, now=PUBLISHED).sentences} == {
        "a.org",
        "b.org",
    }


def test_future_dates_and_key_facts_of_the_seed_article() -> None:
    summary = summarize_event(seed_event(), now=PUBLISHED)
    future = {(d.when, d.text) for d in summary.dates if d.when > PUBLISHED.date()}
    assert future == {(date(2018, 11, 6), "6 November"), (date(2018, 11, 11), "November 11")}
    assert all(d.source == "ria.ru" and d.url == "https://ria.ru/1" for d in summary.dates)
    assert "Vladimir Putin" in summary.facts.people
    assert {"Russia", "Helsinki"} <= set(summary.facts.places)


def test_russian_article_gets_a_summary() -> None:
    text = (
        "В Казани в субботу открыли новый мост через реку Казанку.\n"
        "Строительство заняло три года и обошлось в 5 млрд руб. Мэр города заявил, что мост "
        "разгрузит центр. Движение по мосту начнётся 3 ноября."
    )
    event = Event(key="ru", articles=(article(1, "tass.ru", "В Казани открыли мост", text, "ru"),))
    summary = summarize_event(event, sentences=2, now=PUBLISHED)
    assert summary.headline == "В Казани открыли мост"
    assert summary.sentences[0].text == "В Казани в субботу открыли новый мост через реку Казанку."
    assert [d.when for d in summary.dates] == [date(2018, 11, 3)]


def test_default_summarizer_is_a_summarizer_and_keeps_the_image() -> None:
    summarizer: Summarizer = default_summarizer()
    event = Event(
        key="i", articles=(article(1, "a.org", SEED_TITLE, SEED_TEXT, image="https://a.org/i.jpg"),)
    )
    summary = summarizer.summarize(event, sentences=2, now=PUBLISHED)
    assert len(summary.sentences) == 2
    assert summary.image_url == "https://a.org/i.jpg"


def test_an_article_without_sentences_still_gets_a_headline() -> None:
    event = Event(key="e", articles=(article(1, "a.org", "Breaking: markets closed", ""),))
    summary = summarize_event(event, now=PUBLISHED)
    assert summary.headline == "Breaking: markets closed"
    assert summary.sentences == ()


def test_dated_item_opening_with_a_pronoun_leads_with_the_headline() -> None:
    # "She will make her second appearance…" in "Coming up" had no context
    text = (
        "Jane Doe was charged with fraud at Bolton Crown Court on Friday.\n"
        "She will make her second appearance at the court on 6 November."
    )
    event = Event(key="k", articles=(article(1, "a.org", "Jane Doe charged with fraud", text),))
    summary = summarize_event(event, now=PUBLISHED)
    labels = [d.label for d in summary.dates if d.when == date(2018, 11, 6)]
    assert labels == [
        "Jane Doe charged with fraud: She will make her second appearance at the court on 6 November."
    ]


def test_paragraphs_read_once_are_the_reader_own_list() -> None:
    # Paragraphs are cleaned once per article and kept: a caller that edits the list it got
    # must not change what the next caller (key facts, dates) reads.
    seed = article(1, "ria.ru", SEED_TITLE, SEED_TEXT)
    first = story_paragraphs(seed)
    first.clear()
    assert story_paragraphs(seed) and story_paragraphs(seed) is not first


def test_credits_in_any_case_are_left_out_of_the_sentences() -> None:
    # Credits are looked for only in sentences naming a credit's word in some case: "PHOTO:",
    # "Getty Images" and «ФОТО:» still find the credit pattern (it ignores case).
    text = (
        "Firefighters fought the blaze through the night in the hills.\n"
        "The crews were helped by PHOTO: aircraft dropping water on the flames.\n"
        "Residents were told to leave GETTY IMAGES their homes before midnight.\n"
        "Пожарные тушили огонь всю ночь ФОТО: в горах над городом.\n"
        "Officials said the fire was contained by the morning."
    )
    quoted = [c.text for c in article_sentences(article(2, "example.org", "Fire", text))]
    assert quoted == [
        "Firefighters fought the blaze through the night in the hills.",
        "Officials said the fire was contained by the morning.",
    ]


def test_a_quote_of_several_sentences_is_quoted_whole_or_not_at_all() -> None:
    from digest.events.summarize import article_sentences

    text = (
        "Матч прошёл в Москве при полных трибунах стадиона. Тренер сказал: «Мы готовились к "
        "этой игре очень долго. Команда сыграла хорошо и заслужила победу». Матч завершился "
        "вничью со счётом 1:1 после перерыва."
    )
    shown = [c.text for c in article_sentences(article(1, "a.ru", "Ничья", text, "ru"))]
    assert all(s.count("«") == s.count("»") for s in shown), shown
    assert (
        "Тренер сказал: «Мы готовились к этой игре очень долго. Команда сыграла хорошо и "
        "заслужила победу»." in shown
    )
    inner = (
        "Беспилотник упал у жилого дома в поселке. «Экспериментальный образец упал при "
        "выполнении полета. Это [беспилотный аппарат] „Орион“», — сказал следователь ТАСС."
    )
    shown = [c.text for c in article_sentences(article(3, "a.ru", "Т", inner, "ru"))]
    assert all(s.count("«") == s.count("»") for s in shown), shown
    straight = (
        'Тренер сборной поделился ожиданиями от матча. "С точки зрения жребия нам важно '
        'попасть в посев. Если мы хотим быть в нем, нужно выиграть", - сказал он журналистам.'
    )
    shown = [c.text for c in article_sentences(article(4, "a.ru", "Т", straight, "ru"))]
    assert all(s.count('"') % 2 == 0 for s in shown), shown
    long_quote = "Он заявил: «" + " ".join(["Мы будем работать дальше и дальше."] * 20) + "» Всё."
    shown = [c.text for c in article_sentences(article(2, "a.ru", "Т", long_quote, "ru"))]
    assert all(s.count("«") == s.count("»") for s in shown), shown
