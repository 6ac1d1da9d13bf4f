"""Tests for `digest eval reader`: a digest built from real articles and its reader errors.

The corpora are real crawled articles of the Telegram Data Clustering Contest (Apache-2.0,
tests/data/eval/LICENSE-tgcontest), with their datelines, counters and tails left in.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.cli.eval import app
from digest.errors import EvalError
from digest.eval import audit, reader
from digest.models import DatedItem

DATA = Path(__file__).parents[1] / "data" / "eval"
RU = DATA / "reader-ru-mini.jsonl"
EN = DATA / "reader-en-mini.jsonl"


def test_corpus_reads_both_field_sets_and_spreads_undated_items(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    rows = [
        {"title": "A", "text": "Один.", "url": "https://a.ru/1", "date": "2019-11-17 10:00:00"},
        {"title": "B", "text": "Two words.", "url": "https://b.com/2", "category": "not_news"},
        {"title": "C", "text": "Three words.", "url": "https://b.com/3", "published": None},
        {"title": "D", "text": "  ", "url": "https://b.com/4"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    items = reader.read_corpus(path)
    assert [i.language for i in items] == ["ru", "en", "en"]  # the empty text is skipped
    assert items[0].published == datetime(2019, 11, 17, 10, tzinfo=UTC)
    assert items[1].category == "not_news" and items[1].outlet == "b.com"
    timed = reader.with_times(items, date(2019, 11, 18))
    assert [i.published.hour for i in timed if i.published] == [10, 0, 12]
    assert reader.read_corpus(path, language="ru")[0].title == "A"


def test_corpus_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"title": "A", "text": "x", "url": "u"}\n{"title": "B"}\n', encoding="utf-8")
    with pytest.raises(EvalError, match=r"line 2.*missing text, url"):
        reader.read_corpus(path)
    path.write_text('{"title": "A", "text": "x", "url": "u", "date": "soon"}\n', encoding="utf-8")
    with pytest.raises(EvalError, match=r"line 1.*not a date"):
        reader.read_corpus(path)


def test_lost_line_breaks_of_the_corus_dumps_are_restored(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    row = {
        "title": "T",
        "text": "Об этом сообщаетnРИА Новостиn.nПо его словам, iPhone.",
        "url": "u",
    }
    path.write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
    assert (
        reader.read_corpus(path)[0].text
        == "Об этом сообщает\nРИА Новости\n.\nПо его словам, iPhone."
    )


def test_aggregator_feeds_name_each_item_s_site(tmp_path: Path) -> None:
    honey = [i for i in reader.read_corpus(RU) if i.source.endswith("ru_cat_honey.tsv")]
    items = reader.with_times(honey[:4], date(2019, 11, 18))
    (path,) = reader.write_feeds(items, tmp_path)  # one corpus source: one feed
    xml = path.read_text(encoding="utf-8")
    assert xml.count("<item>") == 4
    assert "<title>ru_cat_honey</title>" in xml
    assert xml.count("<source url=") == 4


def test_reader_builds_the_digest_and_reports_every_class(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["reader", str(RU), "--json", "--day", "2019-11-18", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["articles"] == 23
    assert 15 <= figures["events"] <= 23
    assert set(figures["reader"]) == {name for name, _, _ in audit.CLASSES}
    for error in figures["reader"].values():
        assert error["count"] <= error["of"]
        assert error["rate"] == (round(error["count"] / error["of"], 4) if error["of"] else 0)
    assert figures["reader"]["boilerplate"]["of"] >= figures["events"]  # sentences read
    text = next(out.glob("*.txt")).read_text(encoding="utf-8")
    assert "Волочков" in text and next(out.glob("*.html")).stat().st_size > 1000


def test_reader_refuses_a_bad_day() -> None:
    result = CliRunner().invoke(app, ["reader", str(RU), "--day", "18.11.2019"])
    assert result.exit_code == 2
    assert "--day" in result.output


@pytest.mark.parametrize(
    "sentence",
    [
        "МОСКВА, 17 ноя — РИА Новости. Ученые из Германии нашли способ.",
        "КРАСНОЯРСК, 10 августа. /ТАСС/. Две ЛЭП повреждены.",
        "Москва. 30 апреля. INTERFAX.RU - Чемпион мира наказан.",
        "INTERFAX.RU - Пропавшая в Ставрополе девушка обнаружена.",
        "NEW YORK (Reuters) - Stocks rose on Monday.",
        "Both go on sale on Nov. 7. Subscribe to our tech newsletter.",
        "прочитано 3454 раза Рита Дакота удивила поклонников.",
        "Вчера, 19:11 Вчера, 19:11 Учёные из Университета Лондона пришли к выводу.",
        "Начислено вознаграждениеЭта новость написана посетителем сайта, и за неё начислено.",
        "NASDAQ упал на 0,05%.По материалам: Корреспондент.biz",
        "(Reporting by Jeff Mason; Editing by Peter Cooney)",
        "Соревнования продлятся до 10 ноября. #спорт#хоккей#турнир",
        "Вертолет тушит лесной пожар. 4 августа 2019 года Учёные заявили об этом.",
    ],
)
def test_boilerplate_rules_catch_what_readers_met(sentence: str) -> None:
    assert audit.boilerplate(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Учёные из Германии 17 ноября нашли способ лечения.",
        "Washington (state) lawmakers met on Monday to vote.",
        "Он родился 4 августа 1961 года в Гонолулу.",
        "По материалам дела, руководство ООО «Лента» плохо организовало питание.",
    ],
)
def test_boilerplate_rules_leave_news_alone(sentence: str) -> None:
    assert audit.boilerplate(sentence) == ""


def test_cut_and_altered_sentences() -> None:
    paragraphs = [
        "В Иванове задержали банду мошенников, которые действовали в разных регионах России.",
        "Такие нарушения регулируются по ч. 2 ст. 12.8 КоАП. Штраф составит 30 тысяч.",
        "Трамваи заходят в цех депо имени Н.Э. Баумана. Там их моют.",
        "Омичка выиграла у знатоков клуба «Что? Где? Когда?» 80 тысяч рублей.",
    ]
    check = audit.cut_or_altered
    assert check(", которые действовали в разных регионах России.", paragraphs).startswith("cut")
    assert check("Такие нарушения регулируются по ч. 2 ст.", paragraphs).startswith("cut")
    assert check("Трамваи заходят в цех депо имени Н.Э.", paragraphs).startswith("cut")
    assert check("Баумана. Там их моют.", paragraphs).startswith("cut")
    assert check("Омичка выиграла у знатоков клуба «Что? Когда?»", paragraphs).startswith("altered")
    assert check("Штраф составит 30 тысяч.", paragraphs) == ""
    assert check("Такие нарушения регулируются по ч. 2 ст. 12.8 КоАП.", paragraphs) == ""


def test_a_quote_left_open_is_a_cut_sentence() -> None:
    paragraphs = [
        "Тренер сказал: «Мы готовились долго. Команда сыграла хорошо». Матч завершился вничью.",
        "Источник пишет «Так было всегда. Но",  # a source that never closes its quote
    ]
    check = audit.cut_or_altered
    assert check("Тренер сказал: «Мы готовились долго.", paragraphs).startswith("cut")
    assert check("Команда сыграла хорошо».", paragraphs).startswith("cut")
    whole = "Тренер сказал: «Мы готовились долго. Команда сыграла хорошо»."
    assert check(whole, paragraphs) == ""
    assert check("Источник пишет «Так было всегда.", paragraphs) == ""
    straight = ['Он сказал: "Мы готовы. Мы выиграем". Матч начался.']
    assert check('Он сказал: "Мы готовы.', straight).startswith("cut")


def test_words_a_crawl_glued_may_be_shown_apart() -> None:
    paragraphs = ["Жюри возглавила вдова поэтаЦыпил Чимитова, сообщили в парламенте."]
    shown = "Жюри возглавила вдова поэта Цыпил Чимитова, сообщили в парламенте."
    assert audit.cut_or_altered(shown, paragraphs) == ""
    text = audit.TextWords(paragraphs)
    assert audit.not_derivable("Цыпил Чимитова", text) == ""


def test_facts_the_text_does_not_say() -> None:
    text = audit.TextWords(
        ["Публика ужаснулась, увидев покупки для Анастасии Волочковой. Волочкова молчит.",
         "Интервью с Игорем Сосиным, директором. Сосин рассказал о бизнесе."]
    )  # fmt: skip
    assert audit.not_derivable("Анастасия Волочкова", text) == ""
    assert audit.not_derivable("Анастасия Волочковая", text) == "not in the text"
    assert audit.not_derivable("Игорь Сосин", text) == ""
    assert audit.not_derivable("Игорь Сосиный", text) == "not in the text"
    assert audit.not_derivable("Начислено вознаграждениеЭта", text) == "glued words"
    assert audit.not_derivable("улица", text).startswith("not a name")
    places = audit.TextWords(["Взрывы прогремели в Красноярском крае и Тулунском районе."])
    assert audit.not_derivable("Красноярский край", places) == ""
    assert audit.not_derivable("Тулунский район", places) == ""
    english = audit.TextWords(["He received France's Legion d'Honneur, as Pete Sampras’s record."])
    assert audit.not_derivable("France", english) == ""
    assert audit.not_derivable("Pete Sampras", english) == ""
    soft = audit.TextWords(["Затем он победил Са\u00adвелия Садома из Хабаровского края."])
    assert audit.not_derivable("Савелий Садома", soft) == ""


@pytest.mark.parametrize(
    ("name", "kind", "bad"),
    [
        ("Соединенных Штаты", "places", True),
        ("Босния и Герцеговины", "places", True),
        ("Петером Тэгтгреном", "people", True),
        ("Соединенные Штаты", "places", False),
        ("Банк России", "organisations", False),
        ("ФТС России", "organisations", False),
        ("Юрий Лужков", "people", False),
        ("Анастасия Волочкова", "people", False),
        ("Игорь Лапин", "people", False),  # a surname, not «лапа»'s genitive plural
        ("Роберт Фарах", "people", False),
        ("Владимиром Шуваевым", "people", True),
        ("Восточную Европу", "places", True),
        # surnames the dictionary knows only as a first name's plural («Мамай») or a man's
        # genitive («Кротов»): in -ов, -ев, -ин and -ова their nominative is the word itself
        ("Павел Мамаев", "people", False),
        ("Доржо Раднаев", "people", False),
        ("Павел Колобков", "people", False),
        ("Алина Кротова", "people", False),
        ("Павла Колобкова", "people", True),
    ],
)
def test_names_not_in_the_nominative(name: str, kind: str, bad: bool) -> None:
    assert bool(audit.non_nominative(name, kind)) is bad


def test_sources_and_duplicates_among_facts() -> None:
    text = "Об этом сообщает ТАСС. Автор: Мария Федорова\nМОСКВА, 1 мая. Ученые Москвы"
    assert audit.outlet_or_byline("ТАСС", "organisations", text, set()) == "an outlet"
    assert audit.outlet_or_byline("Мария Федорова", "people", text, set())
    assert audit.outlet_or_byline("Москва", "places", "МОСКВА, 1 мая. Учёные", set())
    assert audit.outlet_or_byline("Москва", "places", text, set()) == ""
    assert audit.same_entity("Россия", "РФ")
    assert audit.same_entity("Эммануэль Макрон", "Эмманюэл Макрон")
    assert audit.same_entity("Макрон", "Эммануэль Макрон", people=True)
    assert audit.same_entity("ООН", "Организация Объединенных Наций")
    assert not audit.same_entity("РФ", "Минсельхоз РФ")
    assert not audit.same_entity("Россия", "Россия 1")


def test_vague_dates_are_told_from_exact_ones() -> None:
    assert audit.date_precision("В конце ноября пройдёт форум.", date(2019, 11, 28)) == "vague"
    assert audit.date_precision("Starting in mid-February, prices rise.", date(2020, 2, 15)) == (
        "vague"
    )
    assert audit.date_precision("Форум пройдёт 28 ноября.", date(2019, 11, 28)) == "exact"
    assert audit.date_precision("It opens on Nov. 7.", date(2019, 11, 7)) == "exact"
    item = DatedItem(date(2019, 11, 28), "В конце ноября пройдёт форум.", "в конце ноября")
    views = {
        "text": "Даты: 28 нояб. - В конце ноября пройдёт форум.",
        "html": "конец нояб. В конце ноября пройдёт форум.",
    }
    assert audit.shown_exact(item, views, None) == ["text"]
