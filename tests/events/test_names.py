"""The rules that turn a capitalised run of English text into names, one test each, and the
English defects a reader met: role words, a text cut mid-word, machine-translated lower case."""

from __future__ import annotations

from digest.events import names
from digest.events.facts import find_facts
from digest.events.names import Run


def run(words: str, cue: str = "", person: bool = True) -> Run:
    split = tuple(words.split())
    return Run(split, tuple(names.stem_words(list(split), "en")), cue, person)


def test_cue_of_reads_of_after_a_place_word_as_in() -> None:
    assert names.cue_of(["the", "in"]) == "in"
    assert names.cue_of(["city", "of"]) == "in"  # "the port city of Bandar Abbas"
    assert names.cue_of(["friend", "of"]) == "of"
    assert names.cue_of([]) == ""


def test_may_be_person_is_false_after_an_article_or_a_number() -> None:
    assert not names.may_be_person("the", ["of", "the"])
    assert not names.may_be_person("2013", ["his", "2013"])
    assert not names.may_be_person("silver", ["a", "silver"])  # "a silver Toyota Camry"
    assert names.may_be_person("said", ["he", "said"])


def test_openers_of_an_organisations_name_are_small_words_only() -> None:
    common = frozenset({"european", "the"})
    assert "european" not in names.openers(("european", "commiss"), common, "en")
    assert names.openers(("european", "leader"), common, "en") is common


def test_drop_adverb_opening_a_run() -> None:
    assert names.drop_adverb(run("Ironically Nichols"), opens=False).words == ("Nichols",)
    assert names.drop_adverb(run("Choosing DeGeneres"), opens=True).words == ("DeGeneres",)
    assert names.drop_adverb(run("Channing Tatum"), opens=True).words == ("Channing", "Tatum")


def test_drop_openers_keeps_places_and_marks_titles() -> None:
    common = names.OPENERS["en"]
    kept = names.drop_openers(run("President Vladimir Putin", person=False), common)
    assert kept.words == ("Vladimir", "Putin") and kept.person and kept.cue == "president"
    assert names.drop_openers(run("New York"), common).words == ("New", "York")
    assert not names.drop_openers(run("The Hunger Games"), common).person
    # role words of sport and the press are titles too
    assert names.drop_openers(run("Goalkeeper Tomas Berg"), common).words == ("Tomas", "Berg")


def test_drop_trailing_titles() -> None:
    assert names.drop_trailing_titles(run("Alaska Gov.")).words == ("Alaska",)


def test_split_at_of_a_place_and_someone_else() -> None:
    parts = names.split_at_of(run("Athens of Alexandros Grigoropoulos"))
    assert parts is not None
    assert [p.words for p in parts] == [("Athens",), ("Alexandros", "Grigoropoulos")]
    assert names.split_at_of(run("Gulf of Aden")) is None


def test_cut_at_day() -> None:
    assert names.cut_at_day(run("South Richmond Hill Friday")).words == (
        "South",
        "Richmond",
        "Hill",
    )


def test_split_leading_org_from_a_person() -> None:
    org, rest = names.split_leading_org(run("BBC Jon Sopel"), opens=False)
    assert org == "BBC" and rest.words == ("Jon", "Sopel")
    org, rest = names.split_leading_org(run("GMT Jon Sopel"), opens=False)
    assert org is None and rest.words == ("Jon", "Sopel")  # a time zone names nobody
    assert names.split_leading_org(run("Jon Sopel"), opens=False)[1].words == ("Jon", "Sopel")


def test_drop_connectors() -> None:
    assert names.drop_connectors(run("of Aden")).words == ("Aden",)


def test_too_weak_runs_are_no_names() -> None:
    common = names.OPENERS["en"]
    assert names.too_weak(run("Street"), opens=False, common=common)
    assert names.too_weak(run("Magazine"), opens=False, common=common)
    assert names.too_weak(run("Helsinki"), opens=True, common=common)  # a sentence's first word
    assert names.too_weak(run("PM EDT"), opens=False, common=common)
    assert names.too_weak(run("A B C D E"), opens=False, common=common)
    assert not names.too_weak(run("Helsinki"), opens=False, common=common)


def test_person_like() -> None:
    lower = frozenset({"fire"})
    assert names.person_like(run("Gary Ross"), lower, "en")
    assert not names.person_like(run("Somerset Fire"), lower, "en")
    assert not names.person_like(run("BBC Two"), lower, "en")
    assert not names.person_like(run("Gary Ross", person=False), lower, "en")


def test_locative_cue_is_emptied_where_no_place_follows() -> None:
    assert names.locative_cue(run("Helsinki", cue="in"), ["on"], "en") == "in"
    assert names.locative_cue(run("Taser", cue="to"), ["him"], "en") == ""
    assert names.locative_cue(run("Lamon Brewster", cue="to"), ["in"], "en") == ""


def test_role_words_are_not_part_of_a_name() -> None:
    facts = find_facts(
        [
            "Goalkeeper Tomas Berg saved twice in the second half. "
            "Journalist Jamal Khashoggi was killed in the consulate, officials said."
        ],
        "en",
    )
    assert {"Tomas Berg", "Jamal Khashoggi"} <= set(facts.people)
    assert not {"Goalkeeper Tomas Berg", "Journalist Jamal Khashoggi"} & set(facts.people)


def test_names_are_found_in_the_whole_text_never_a_cut_word() -> None:
    filler = "The protest went on through the night and into the next morning. " * 37
    text = filler + (
        "By Monday evening the rioting had spread from Athens to the far northern Greek city of "
        "Thessaloniki as well."
    )
    assert 2480 < text.index("Thessaloniki") < 2500  # the old cut fell inside the name
    places = find_facts([text], "en").places
    assert "Thessaloniki" in places
    assert not any(p.startswith("Thess") and p != "Thessaloniki" for p in places)


def test_a_machine_translations_lower_case_name_is_recognised() -> None:
    text = (
        "The US President Donald trump said that his victory is the worst thing for Russia. "
        "The only talks between Putin and trump took place in Helsinki."
    )
    title = "Trump called his victory «the worst thing to happen with Russia»"
    assert "Donald Trump" in find_facts([text], "en", titles=[title]).people
    # without the title nothing says that "trump" is a name
    assert "Donald Trump" not in find_facts([text], "en").people
    # a headline in title case capitalises every word: it says nothing of names
    assert "Donald Trump" not in find_facts([text], "en", titles=["Trump Talks To Press"]).people


def test_nationality_words_section_labels_and_unsure_names_are_no_facts() -> None:
    text = (
        "Austrian Dominic Thiem beat Novak Djokovic in London on Tuesday. Thiem, runner-up at "
        "the French Open to Nadal in June, won again. Rafael Nadal was watching."
    )
    facts = find_facts([text], "en")
    assert "Dominic Thiem" in facts.people and "Austrian Dominic Thiem" not in facts.people
    assert "Nadal" not in facts.places and "Rafael Nadal" in facts.people
    ratings = (
        "BAILEY: Good game, solid all afternoon for Birmingham. REF: Poor. NEXT UP: Leeds away "
        "on Saturday. Easily Beaten by the winger, he was taken off."
    )
    facts = find_facts([ratings], "en")
    assert not {"BAILEY", "REF", "NEXT UP"} & set(facts.organisations)
    assert "Easily Beaten" not in facts.people
    clubs = "Neymar joined Paris St Germain in 2017. The team then flew to La Paz for a match."
    facts = find_facts([clubs], "en")
    assert not {"Paris St Germain", "La Paz"} & set(facts.people)


def test_a_capital_inside_a_word_opens_no_name() -> None:
    text = "The tablet runs iPadOS and takes a microSD card, as Jony Ive designed it in London."
    facts = find_facts([text], "en")
    assert not {"OS", "SD"} & set(facts.organisations)
    assert "Jony Ive" in facts.people


def test_a_cue_alone_is_weak_evidence_of_a_place() -> None:
    text = (
        "Gardner crossed to Hoilett, who scored. Profits reached RM353 million in Q2FY20, "
        "said Ahmad Zaki. Perceived Iranian influence grew "
        "in Basra, as Washington D said."
    )
    facts = find_facts([text], "en")
    assert not {"Hoilett", "RM353", "Q2FY20"} & set(facts.places), facts
    assert not {"Perceived Iranian", "Washington D"} & set(facts.people), facts
    assert "Basra" in facts.places


def test_a_nationality_is_neither_a_place_nor_a_person() -> None:
    text = "Bolivia's crisis is the worst in South American politics, said Evo Morales in La Paz."
    facts = find_facts([text], "en")
    assert "South American" not in facts.places + facts.people, facts
