"""Agency text read right: datelines, credits, counters and tails gone, sentences whole.

Each case is a defect a reader met in a digest built from real Russian and English feeds
(the texts are of the Telegram Data Clustering Contest, Apache-2.0, and written for here).
Fetch cleans text before storing it (clean_text), and summaries read text stored earlier
through story_paragraphs: both must give the same clean text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.events.summarize import article_sentences, story_paragraphs
from digest.fetch.extract import clean_text
from digest.models import Article
from digest.text import split_sentences, strip_wire

DATA = Path(__file__).parents[1] / "data" / "eval"


def _article(text: str, title: str = "Заголовок", language: str = "ru") -> Article:
    return Article(
        feed_url="f",
        source="s",
        guid="g",
        url="https://example.org/a",
        title=title,
        published=datetime(2019, 11, 18, tzinfo=UTC),
        text=text,
        language=language,
    )


def _both(text: str, title: str = "Заголовок") -> tuple[str, str]:
    """Return the text as fetch stores it and as summaries read a copy stored uncleaned."""
    language = "ru" if any("а" <= c <= "я" for c in text.lower()) else "en"
    stored = clean_text(text, title)
    read = "\n\n".join(story_paragraphs(_article(text, title, language)))
    return stored, read


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (
            "МОСКВА, 17 ноя — РИА Новости. Ученые из Калифорнийского университета нашли белок.",
            "Ученые из Калифорнийского университета нашли белок.",
        ),
        (
            "КРАСНОЯРСК, 10 августа. /ТАСС/. Взрывы на военном складе повредили две ЛЭП.",
            "Взрывы на военном складе повредили две ЛЭП.",
        ),
        (
            "Москва. 12 ноября. INTERFAX.RU - Пропавшая в Ставрополе девушка обнаружена живой.",
            "Пропавшая в Ставрополе девушка обнаружена живой.",
        ),
        (
            "INTERFAX.RU - Пропавшая в Ставрополе девушка обнаружена живой.",
            "Пропавшая в Ставрополе девушка обнаружена живой.",
        ),
        ("ТОМСК, 13 ноя – РИА Томск. Технология создана в ТГУ.", "Технология создана в ТГУ."),
        (
            "NEW YORK (Reuters) - Stocks rose on Monday as investors cheered the trade talks.",
            "Stocks rose on Monday as investors cheered the trade talks.",
        ),
        (
            "GENEVA, Nov 1 — The treatment of Julian Assange puts his life at risk. — AFP",
            "The treatment of Julian Assange puts his life at risk.",
        ),
        (
            "прочитано 3454 раза Рита Дакота удивила поклонников провокационным снимком.",
            "Рита Дакота удивила поклонников провокационным снимком.",
        ),
        (
            "Вчера, 19:11 Вчера, 19:11 Учёные из Университета Лондона пришли к выводу.",
            "Учёные из Университета Лондона пришли к выводу.",
        ),
        (
            "Начислено вознаграждениеЭта новость написана посетителем сайта, и за неё начислено "
            "вознаграждение. Недавно компания Xiaomi представила телевизоры.",
            "Недавно компания Xiaomi представила телевизоры.",
        ),
        (
            "Индекс NASDAQ упал на 0,05% – до 8482,1 пункта.По материалам: Корреспондент.biz",
            "Индекс NASDAQ упал на 0,05% – до 8482,1 пункта.",
        ),
        (
            "Both go on sale on Nov. 7. Subscribe to our tech newsletter.",
            "Both go on sale on Nov. 7.",
        ),
        (
            "The deal could be delayed until December. (Reporting by Jeff Mason; Editing by "
            "Peter Cooney)",
            "The deal could be delayed until December.",
        ),
        (
            "Похолодание будет сопровождаться ветром. Интересно? Жми, чтобы подписаться на сайт "
            "в Яндексе Автор: Мария Федорова",
            "Похолодание будет сопровождаться ветром.",
        ),
        (
            "Соревнования продлятся до 10 ноября. #спорт#хоккей#женская сборная России#турнир",
            "Соревнования продлятся до 10 ноября.",
        ),
        (
            "Ключи удобны. Читайте также: Как работает распознавание речи в iOS 13.2 Ключи "
            "безопасности невосприимчивы к фишингу. Благодаря им можно быть уверенным в "
            "безопасности. Apple хочет будущего без паролей, и это видно по каждому шагу "
            "компании в последние годы, по каждому её обновлению и по каждой новой функции. "
            "Другое дело, что теперь придётся всюду носить с собой ключ, а это неудобно.",
            "Ключи удобны. Ключи безопасности невосприимчивы к фишингу. Благодаря им можно быть "
            "уверенным в безопасности. Apple хочет будущего без паролей, и это видно по каждому "
            "шагу компании в последние годы, по каждому её обновлению и по каждой новой функции. "
            "Другое дело, что теперь придётся всюду носить с собой ключ, а это неудобно.",
        ),
        (
            "Музыкальный инструмент. Фото: Минкультуры Оренбургской области Кроме того, "
            "учреждение планирует приобрести фортепиано.",
            "Музыкальный инструмент. Кроме того, учреждение планирует приобрести фортепиано.",
        ),
    ],
)
def test_agency_and_site_furniture_is_removed(raw: str, clean: str) -> None:
    stored, read = _both(raw)
    assert stored == clean
    assert read == clean
    assert strip_wire(clean) == clean  # cleaning twice changes nothing


def test_a_caption_glued_to_the_lead_goes() -> None:
    raw = (
        "Вертолет тушит лесной пожар в Красноярском крае. 4 августа 2019 года Обширные "
        "лесные пожары продолжаются в Сибири уже месяц, площадь огня растёт каждый день."
    )
    stored, read = _both(raw)
    assert (
        stored
        == read
        == (
            "Обширные лесные пожары продолжаются в Сибири уже месяц, площадь огня растёт "
            "каждый день."
        )
    )


def test_a_story_opening_with_its_photo_credit_keeps_its_text() -> None:
    raw = (
        "Фото предоставлено пресс-службой Народного Хурала РБ В день рождения народного поэта "
        "Гунги Чимитова в центральной городской библиотеке Улан-Удэ прошла литературная игра, "
        "посвященная его жизни и творчеству. В ней приняли участие школьники. Жюри возглавила "
        "поэтесса, а победители получили книги с автографами поэта и его родных, которые "
        "пришли поздравить ребят."
    )
    stored, read = _both(raw)
    assert stored.startswith("В день рождения народного поэта Гунги Чимитова")
    assert read == stored


def test_a_repeated_title_is_never_cut_out_of_its_sentence() -> None:
    title = "В Иванове задержали банду телефонных мошенников"
    raw = f"{title}, которые действовали в разных регионах России. Их было пятеро."
    stored, _ = _both(raw, title)
    assert stored == raw
    # A title standing apart before the lead still goes.
    assert clean_text(f"{title}. Их было пятеро, и все задержаны.", title) == (
        "Их было пятеро, и все задержаны."
    )


@pytest.mark.parametrize(
    ("paragraph", "first"),
    [
        (
            "Такие нарушения регулируются по ч. 2 ст. 12.8 КоАП. Штраф составит 30 тысяч.",
            "Такие нарушения регулируются по ч. 2 ст. 12.8 КоАП.",
        ),
        (
            "Трамваи заходят в цех депо имени Н.Э. Баумана. Там их моют.",
            "Трамваи заходят в цех депо имени Н.Э. Баумана.",
        ),
        (
            "Омичка выиграла у знатоков клуба «Что? Где? Когда?» 80 тысяч рублей. Она рада.",
            "Омичка выиграла у знатоков клуба «Что? Где? Когда?» 80 тысяч рублей.",
        ),
        (
            "There was a girl whose day brightened when J.D. Gibbs visited. He smiled.",
            "There was a girl whose day brightened when J.D. Gibbs visited.",
        ),
        (
            "The jailor spoke, quoting the lawyers.None of his family members have visited.",
            "The jailor spoke, quoting the lawyers.",
        ),
    ],
)
def test_sentences_keep_abbreviations_initials_and_quoted_names(paragraph: str, first: str) -> None:
    language = "en" if paragraph.isascii() else "ru"
    assert split_sentences(paragraph, language)[0] == first


def test_an_interview_question_is_quoted_with_its_answer() -> None:
    raw = (
        "Журналист поговорил с председателем правления банка Игорем Сосиным об итогах работы. "
        "Каких принципов придерживается банк и что помогает вам добиваться результатов? "
        "— Во многом успех любого бизнеса зависит от его репутации. С момента создания банк "
        "определил главные принципы своей деятельности."
    )
    texts = [c.text for c in article_sentences(_article(raw))]
    question = next(t for t in texts if "Каких принципов" in t)
    assert question.endswith("зависит от его репутации.")
    assert not any(t.startswith("— Во многом") for t in texts)
    raw = (
        "Шарль Леклер остался недоволен собой после неудачной попытки в квалификации. "
        "Вопрос: В первой части квалификации вы выполнили три попытки?Шарль Леклер: Да, три "
        "быстрых круга, но в финале я остался очень недоволен тем, как проехал свой круг."
    )
    texts = [c.text for c in article_sentences(_article(raw))]
    assert texts[1].startswith("Вопрос: В первой части") and texts[1].endswith("свой круг.")


def test_real_articles_lose_only_their_furniture() -> None:
    # The corpus's articles, cleaned: what was removed is furniture, and the stories stay.
    lines = (DATA / "reader-ru-mini.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    for row in rows:
        stored = clean_text(row["text"], row["title"])
        assert len(stored) > 0.5 * len(row["text"]), row["title"]
        for furniture in ("прочитано 3454", "Вчера, 19:11", "Начислено вознаграждение", "INTERFAX.RU", "Корреспондент.biz"):  # fmt: skip
            assert furniture not in stored, row["title"]


def test_words_a_crawl_glued_are_parted_before_anything_reads_them() -> None:
    raw = "Жюри возглавила вдова поэтаЦыпил Чимитова. Об этом сообщили в парламенте."
    stored, read = _both(raw)
    assert "поэта Цыпил Чимитова" in stored and "поэта Цыпил Чимитова" in read
    # Brands written in camel case keep their capitals together.
    brands = "Абоненты МегаФон, ЕвроХим и ТрансКонтейнер заключили договор с ВКонтакте."
    assert _both(brands) == (brands, brands)


def test_menu_words_of_a_site_go_from_the_lead() -> None:
    raw = "Популярныеновости Российская социальная сеть ВКонтакте представила ряд обновлений."
    for text in _both(raw):
        assert text == "Российская социальная сеть ВКонтакте представила ряд обновлений."
    raw = "Но только в комментариях. Популярные новости Сеть представила обновления."
    assert "Популярные" not in _both(raw)[0]


def test_a_caption_s_name_glued_to_the_lead_goes() -> None:
    raw = (
        "Георгий Кушиташвили В Самаре стартовал чемпионат России по боксу. Официальная "
        "церемония открытия состоялась в областном спорткомплексе."
    )
    for text in _both(raw):
        assert text.startswith("В Самаре стартовал чемпионат России по боксу.")
    # A name that opens a sentence stays: a small word follows it.
    story = "Георгий Кушиташвили выиграл два боя на предварительной стадии чемпионата."
    assert _both(story) == (story, story)


def test_a_site_s_note_on_reporting_typos_goes() -> None:
    raw = (
        "Причины заболевания до сих пор не установлены. Выделите фрагмент с текстом ошибки и "
        "нажмите Ctrl+Enter"
    )
    for text in _both(raw):
        assert text == "Причины заболевания до сих пор не установлены."
