"""Russian key facts: natasha's names in the nominative, merged, most mentioned first."""

from __future__ import annotations

from digest.events import facts_ru
from digest.events.facts import find_facts

# The Russian demo's story as its sources tell it (digest/feeds/samples/ru-portal-a.xml).
UKRAINE = (
    "Омбудсмен Украины Людмила Денисова заявила, что Россия блокирует порты Азовского моря. "
    "Позицию Людмилы Денисовой поддержала Елена Зеркаль. Денисовой ответили в Совфеде РФ. "
    "Корабли вернутся в Одессу, сообщил адвокат Николай Полозов. Катера задержали в Черном "
    "море. Зеркаль заявила, что Украина ждет решения. Полозов добавил, что Москва молчит."
)


def test_names_are_in_the_nominative_and_merged() -> None:
    facts = find_facts([UKRAINE], "ru")
    # was «Людмилы Денисовой, Елены Зеркаль» and «Украины, Россией, Москва, Черном, Одессу, Азовское»
    assert facts.people[:2] == ("Людмила Денисова", "Елена Зеркаль")
    assert "Николай Полозов" in facts.people
    assert not {"Денисовой", "Денисова", "Зеркаль", "Полозов"} & set(facts.people)
    assert {"Украина", "Россия", "Одесса", "Азовское море"} <= set(facts.places)
    assert not {"Украины", "Россией", "Одессу", "Азовское", "Черном"} & set(facts.places)
    assert "Совфед РФ" in facts.organisations


def test_one_entry_per_entity_most_mentioned_first() -> None:
    facts = find_facts(
        [
            "Мэр Москвы Юрий Лужков приехал. Лужкова встретил Борис Громов. Лужков уехал.",
            "Юрию Лужкову позвонили из Верховного суда Бангладеша.",
        ],
        "ru",
    )
    assert facts.people == ("Юрий Лужков", "Борис Громов")
    assert "Верховный суд Бангладеша" in facts.organisations  # the complement keeps its case
    assert facts.places[0] == "Москва"


def test_patronymics_initials_and_bracketed_originals_are_left_out() -> None:
    facts = find_facts(
        [
            "Борис Николаевич Ельцин подписал указ. Его поддержал А. Кудрин. "
            "Журналист Джошуа Вольф (Joshua Wolf) вышел на свободу."
        ],
        "ru",
    )
    assert {"Борис Ельцин", "Джошуа Вольф"} <= set(facts.people)
    assert not any("." in p or "(" in p or "Николаевич" in p for p in facts.people)


def test_foreign_surnames_and_unknown_words_get_the_nominative() -> None:
    facts = find_facts(
        ["Путин встретился с Бараком Обамой. Позиция Обамы ясна. Кими Райкконена поздравили."],
        "ru",
    )
    assert {"Барак Обама", "Кими Райкконен"} <= set(facts.people)


def test_union_of_states_is_an_organisation() -> None:
    facts = find_facts(["Евросоюз ввел санкции против Ирана. ЕС заявил о поддержке."], "ru")
    assert "Евросоюз" in facts.organisations
    assert "Евросоюз" not in facts.places


def test_models_load_once_per_process() -> None:
    assert facts_ru._models() is facts_ru._models()
    find_facts(["Владимир Путин прилетел в Москву."], "ru")
    assert facts_ru._models.cache_info().currsize == 1


def test_a_womans_name_keeps_its_gender() -> None:
    # the demo printed «Валерий Касамар» for «Проректор ВШЭ Валерия Касамара — кандидат»
    facts = find_facts(
        [
            "Проректор Высшей школы экономики Валерия Касамара\xa0— зарегистрированный кандидат. "
            "Кандидатуру Валерии Касамары поддержали."
        ],
        "ru",
    )
    assert facts.people == ("Валерия Касамара",)
    assert facts.organisations == ("Высшая школа экономики",)  # not «Высочайшая»


def test_a_generic_territory_word_is_no_place() -> None:
    # The Russian demo listed «Федерация» among places, from «суды субъектов Федерации».
    facts = find_facts(
        [
            "По словам Евгения Смирнова из «Команды 29», вопросами гостайны занимаются суды "
            "субъектов Федерации (например, Мосгорсуд). Суд в Москве отказал адвокату."
        ],
        "ru",
    )
    assert "Федерация" not in facts.places
    assert "Москва" in facts.places


def test_a_person_the_ner_took_for_a_place_is_left_out() -> None:
    text = (
        "Сначала боксёр взял верх над представителем Мурманской области Равшаном Эргашевым, "
        "затем над Савелием Садома из Хабаровского края."
    )
    facts = find_facts([text], "ru")
    assert "Савелий Садома" not in facts.places + facts.organisations
    assert "Хабаровский край" in facts.places


def test_an_outlet_cited_as_the_source_is_no_organisation() -> None:
    text = (
        "Передача кораблей состоится в ближайшее время. Как передает «Керчь. ФМ» со ссылкой "
        "на своего корреспондента, корабли направились к Крымскому мосту."
    )
    assert find_facts([text], "ru").organisations == ()


def test_the_web_written_with_a_capital_is_no_organisation() -> None:
    text = "При помощи размещенных в Сети баз данных можно найти информацию о депутатах КПРФ."
    facts = find_facts([text], "ru")
    assert "Сеть" not in facts.organisations


def test_a_name_never_keeps_a_quote_it_does_not_close() -> None:
    facts = find_facts(["Продукцию поставляет НПЗ 'Панчево' в Сербии, сообщил он."], "ru")
    assert facts.organisations and all(n.count("'") % 2 == 0 for n in facts.organisations)
    assert facts_ru._unpaired_quotes_out("УК «Спортивные проекты") == "УК Спортивные проекты"
    assert facts_ru._unpaired_quotes_out("Центр «Э»") == "Центр «Э»"
    assert facts_ru._unpaired_quotes_out("Юджин О'Нил") == "Юджин О'Нил"


def test_a_common_noun_the_text_writes_in_small_letters_is_no_organisation() -> None:
    text = (
        "По словам представителей, кредиты выдал Банк, а Фонд выделил гранты. Такой банк "
        "обязан проверять заемщиков, а фонд работает с 2010 года, заявили в Россельхозбанке."
    )
    facts = find_facts([text], "ru")
    assert not {"Банк", "Фонд"} & set(facts.organisations), facts


def test_a_name_left_in_the_instrumental_is_left_out() -> None:
    assert not facts_ru._listed_name("Квинси Промесом", "people")
    assert not facts_ru._listed_name("Александр Протасовицком", "people")
    for name in ("Максим Ким", "Том Круз", "Сергей Шойгу", "Абрахам Линкольн"):
        assert facts_ru._listed_name(name, "people"), name
