"""Cue words for telling names in capitalised text: titles, organisations, places, openers.

English news (and any language natasha does not read) names people, organisations and
places with capitals only; these small lists say what a capitalised run is: a title opens
a person's name, a word of organisations or places ends one, a common word that opens a
sentence is none. `names` applies them.
"""

from __future__ import annotations

import re
from collections.abc import Container

from digest.text import STOP_WORDS, stem_words


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _stems(text: str) -> frozenset[str]:
    """Return the words stemmed as English and as Russian (the lists mix both)."""
    return frozenset(stem_words(text.split(), "en") + stem_words(text.split(), "ru"))


# A name is a run of capitalised words on one line, joined by the connectors of names; a middle
# initial ("Franklin D. Roosevelt") stays inside it.
NAME = re.compile(
    r"(?<!\w)[A-ZА-ЯЁ][\w’'\-]*(?:[ \t\xa0]+(?:(?:of|de|von|van|al|bin)[ \t\xa0]+)?"
    r"[A-ZА-ЯЁ](?:\.(?=[ \t\xa0]+[A-ZА-ЯЁ]\w)|[\w’'\-]*))*"
)
ROLES = """president minister prime mr mrs ms dr secretary senator chancellor king queen prince
    judge spokesman spokeswoman spokesperson leader chief ceo actor actress singer director coach
    general press former governor gov mayor commissioner constable sheriff officer detective
    inspector captain sergeant lieutenant colonel manager chairman chairwoman ambassador envoy
    pope bishop rev sen rep lt gen col sgt capt supt councilman councilwoman councillor
    goalkeeper keeper striker defender midfielder winger forward quarterback pitcher referee
    journalist reporter correspondent columnist editor writer author novelist poet photographer
    filmmaker producer rapper musician guitarist drummer comedian designer artist painter
    architect economist analyst scientist researcher professor lecturer teacher doctor nurse
    surgeon lawyer attorney prosecutor defendant suspect activist campaigner blogger youtuber
    influencer businessman businesswoman entrepreneur billionaire founder investor banker
    astronaut soldier veteran pastor priest rabbi imam cardinal archbishop diplomat lawmaker
    legislator congressman congresswoman assemblyman nominee premier deputy vice
    президент премьер министр глава лидер председатель пресс-секретарь адвокат студент ректор
    проректор губернатор мэр депутат кандидат судья директор журналист прокурор следователь посол
    генерал сенатор активист"""
TITLES = _words(ROLES)
TITLE_STEMS = _stems(ROLES)
# Nationality words open names ("Russian President ...") but make nobody a person.
DEMONYMS = _words(
    """russian american british french german chinese ukrainian israeli iranian indian pakistani
    afghan iraqi syrian saudi turkish greek italian spanish japanese korean european african
    asian arab persian egyptian mexican canadian australian somali polish dutch swedish
    palestinian brazilian english scottish irish welsh austrian swiss belgian serbian croatian
    bosnian albanian slovak slovenian czech hungarian romanian bulgarian norwegian danish finnish
    icelandic estonian latvian lithuanian belarusian georgian armenian azerbaijani kazakh uzbek
    portuguese argentine argentinian chilean colombian peruvian venezuelan bolivian uruguayan
    paraguayan ecuadorian cuban jamaican haitian nigerian kenyan ghanaian ethiopian sudanese
    libyan tunisian moroccan algerian lebanese jordanian qatari emirati yemeni kuwaiti kurdish
    bangladeshi nepalese thai vietnamese indonesian malaysian filipino singaporean taiwanese
    mongolian zimbabwean ugandan rwandan congolese cameroonian senegalese ivorian"""
)
# Common English words that open sentences and headlines in capitals ("Choosing", "Despite",
# "Fatal", "Ball Game"); none is a usual given name, so a name neither starts nor ends in one.
COMMON_EN = _words(
    """about above across after against ahead along already also although amid among another
    around because before behind below besides between beyond breaking despite during each
    either every except exclusive following however including inside instead like live
    meanwhile near nearly neither never none outside plus since though thus today tomorrow
    toward towards unless unlike until update updated published posted upon via whenever
    whether yesterday yet latest watch read see video photo photos report reports story
    analysis opinion editorial comment interview review special feature exclusive
    fatal deadly major massive huge big small old new first second third last final top high
    low hot cold red blue dark bright great grand free good bad best worst early late acting
    interim senior junior national international federal royal naval military civil public
    private local global western eastern northern southern central upper lower sexiest alive
    man woman men women boy girl child children people family team star stars world city state
    country home night week year time life money water air land motion picture pictures arts
    art music film movie show series season episode award awards prize cup league ball game
    games fire fires hit war peace police crash death deaths attack attacks quake storm flood
    hire hires fired choosing take make get give put set keep let say says said tell told ask
    call calls go goes went come comes came find found know think want need look use work try
    leave meet shot shoot killed kill kills dies died dead win wins won lose loses lost beat"""
)
# Acronyms that are units, time zones, results or things, not organisations.
NOT_ORGS = _words(
    """gmt utc edt est cst pst cet cest bst ist msk am pm ko tko ok tv cctv dwi dui gps dna ceo
    id suv mvp hiv mp mps vip usb gdp hq faq sms pdf et pt ct mt pdt mdt cdt"""
)
ORG_WORDS = _stems(
    """inc corp company co ltd group bank party council committee agency ministry department
    university association union organisation organization court police army navy commission
    fund office house senate parliament congress government news times post reuters nato un
    eu fbi cia opec apec fifa kremlin pentagon summit academy awards survey institute
    reporter journal herald tribune telegraph gazette magazine radio television broadcasting
    network bbc cnn abc cbs nbc command forces corps brigade guard rescue service club league
    foundation college school entertainment distribution studios media airlines airways motors holdings
    министерство партия агентство компания банк совет комитет союз служба суд правительство
    кремль госдума дума совфед мосгордума росгвардия"""
)
PLACES = _stems(
    """russia china japan france germany britain england scotland ukraine india iran iraq
    israel syria turkey italy spain poland canada mexico brazil australia europe asia africa
    america korea north south east west washington moscow london paris berlin beijing tokyo
    kiev kyiv helsinki hamburg carolina california texas york new brussels geneva rome madrid
    nang malibu hollywood arab emirates los angeles chicago florida us usa uk gulf aden united
    states kingdom boston philadelphia detroit atlanta houston dallas miami seattle denver
    portland toronto montreal vancouver sydney melbourne delhi mumbai tehran dubai cairo
    istanbul athens warsaw vienna uae drc prc dprk
    россия москва китай сша франция германия украина париж лондон вашингтон хельсинки
    европа япония петербург санкт киев минск беларусь"""
)
PLACE_WORDS = _stems(
    """avenue ave street st road rd boulevard blvd square island river city bay gulf sea ocean
    mountains valley county province region district village airport theatre theater hotel
    hospital center centre church cathedral stadium arena station bridge palace harbour harbor
    площадь улица остров река область район"""
)
# "the city of Bandar Abbas", "35 miles south-west of Bandar Abbas": a place follows.
BEFORE_OF_PLACE = _words(
    """city town port village province region island capital district county north south east
    west north-east north-west south-east south-west northeast northwest southeast southwest"""
)
QUOTES = frozenset("\"“«'‘")
QUOTED = re.compile(r"[,.!?]?[\"”»'’]")
LOCATIVE = _words("in at from to near в из во на под около")
WEAK_LOCATIVE = _words("to from")  # "lost to Lamon Brewster", "a call from MV Gibe"
# Nobody is "a Toyota Camry", "his 2013 Toyota Camry" or "the Hollywood Reporter".
ARTICLES = _words("a an the his its their our your my")
# Titles that may follow a place ("Alaska Gov. Sarah Palin"); "Associated Press", "Attorney
# General" and "Billy King" end in title words that are part of the name.
TRAILING_TITLES = _words(
    """president governor gov mayor minister senator sen rep chancellor secretary spokesman
    spokeswoman spokesperson"""
)
# Generic words that name no organisation alone ("Magazine", "Command", "Union").
GENERIC_ORG = _stems(
    """company co group bank party council committee agency ministry department university
    association union organisation organization court police army navy commission fund office club
    league command forces service rescue magazine journal radio television network foundation
    министерство партия агентство компания банк совет комитет союз служба суд"""
)
CONTRACTION = re.compile(r"[’'](?:m|re|ve|ll|d|t)$|n[’']t$")
LOWER_WORD = re.compile(r"\b[a-zа-яё][a-zа-яё’'\-]+\b")
SKIP = _words(
    """monday tuesday wednesday thursday friday saturday sunday january february march april
    june july august september october november december"""
)
COMPASS = _stems("north south east west new upper lower")  # "South Richmond Hill" is one place
KNOWN = PLACES | ORG_WORDS | PLACE_WORDS
SMALL_WORDS = {lang: frozenset(words) | TITLES for lang, words in STOP_WORDS.items()}
CODE = re.compile(r"\s?-?\s?\d")  # "AK-47", "Boeing 737"
NEXT = re.compile(r"\s*(\S+)")
OPENERS = {
    "en": SMALL_WORDS["en"] | DEMONYMS | COMMON_EN,
    "ru": SMALL_WORDS.get("ru", SMALL_WORDS["en"]) | DEMONYMS,
}


class Either:
    """A word in one of two sets, without copying either."""

    def __init__(self, first: Container[str], second: Container[str]) -> None:
        self.first, self.second = first, second

    def __contains__(self, word: object) -> bool:
        return word in self.first or word in self.second


ROMAN = frozenset({"II", "III", "IV", "VI", "VII", "VIII"})  # "Anthony LaCalamita III"
ING_NAMES = _words("channing sterling irving browning fleming manning harding")
SAYS = _words("says said reports reported adds added")


# Articles of other languages that open names of places and things, never a person's given
# name: "La Paz", "Le Havre", "El Salvador", "Los Alamos".
FOREIGN_ARTICLES = _words("la le les los las el il lo")


def is_acronym(word: str) -> bool:
    return 2 <= len(word) <= 6 and word.isupper() and word.isalpha() and word not in ROMAN


def adverb_or_gerund(word: str, opens: bool) -> bool:
    """Tell "Ironically Nichols" and a sentence opening "Choosing DeGeneres" from a name."""
    w = word.lower()
    if len(w) < 6:
        return False
    adverb = ("ally", "edly", "ately", "ively", "ously", "ily", "fully", "lessly", "ingly")
    return w.endswith(adverb) or (opens and w.endswith("ing") and w not in ING_NAMES)
