"""Calendar days that news names by name: "on Christmas Day", «в День Победы».

A title that says «… в День Победы» dates its story as surely as «… 9 мая» does, so the
events stage reads such names as the days they are. Only days that fall on one fixed date
wherever the language is read are listed; movable feasts (Easter) and days that differ by
country (Independence Day, Constitution Day, Orthodox and Western Christmas in Russian) are
left out, since a wrong day would be false evidence against.
"""

from __future__ import annotations

import re

_RU_DAY = r"[Дд](?:ень|ня|ню|н[её]м)"  # «День», «Дня», «Дню», «Днём» Победы
# (the word a name cannot be without, the whole name, its day). Names are matched as news
# writes them, capitalised where they are ("Christmas Day", «День Победы»).
_NAMED_DAYS: tuple[tuple[str, str, tuple[int, int]], ...] = (
    ("New Year", r"New Year['’]?s Day", (1, 1)),
    ("Valentine", r"Valentine['’]?s Day", (2, 14)),
    ("Patrick", r"(?:St\.? |Saint )Patrick['’]?s Day", (3, 17)),
    ("Fool", r"April Fool['’]?s['’]? Day", (4, 1)),
    ("Bastille", r"Bastille Day", (7, 14)),
    ("Hallowe", r"Hallowe['’]?en", (10, 31)),
    ("Night", r"(?:Bonfire|Guy Fawkes) Night", (11, 5)),
    ("Armistice", r"Armistice Day", (11, 11)),
    ("Remembrance", r"Remembrance Day", (11, 11)),
    ("Veterans", r"Veterans['’]? Day", (11, 11)),
    ("Christmas", r"Christmas Eve", (12, 24)),
    ("Christmas", r"Christmas Day", (12, 25)),
    ("Boxing", r"Boxing Day", (12, 26)),
    ("New Year", r"New Year['’]?s Eve", (12, 31)),
    ("Татьян", r"Татьянин\w* д[ейн]\w*", (1, 25)),
    ("Валентина", rf"{_RU_DAY} (?:святого |св\. )?Валентина", (2, 14)),
    ("Отечества", rf"{_RU_DAY} защитника Отечества", (2, 23)),
    ("женск", r"[Мм]еждународн\w+ женск\w+ д[ейн]\w*", (3, 8)),
    ("космонавтики", rf"{_RU_DAY} космонавтики", (4, 12)),
    ("Победы", rf"{_RU_DAY} Победы", (5, 9)),
    ("России", rf"{_RU_DAY} России", (6, 12)),
    ("знаний", rf"{_RU_DAY} знаний", (9, 1)),
    ("Хэллоуин", r"Хэллоуин", (10, 31)),
    ("единства", rf"{_RU_DAY} народного единства", (11, 4)),
)
_BY_KEY: dict[str, list[tuple[re.Pattern[str], tuple[int, int]]]] = {}
for _key, _name, _day in _NAMED_DAYS:
    _BY_KEY.setdefault(_key, []).append((re.compile(rf"(?<!\w){_name}(?!\w)"), _day))
# A plain alternation of words is a fast scan; the whole names (a slow alternation) are
# then tried only around the words found.
_KEY = re.compile("|".join(re.escape(k) for k in _BY_KEY))
_AROUND = 30  # characters around a key word that hold the whole name


def named_days(text: str) -> set[tuple[int, int]]:
    """Return the (month, day) of each fixed-date day the text names ("Christmas Day": (12, 25))."""
    found: set[tuple[int, int]] = set()
    for m in _KEY.finditer(text):
        start, end = max(0, m.start() - _AROUND), m.end() + _AROUND
        found.update(day for name, day in _BY_KEY[m.group(0)] if name.search(text, start, end))
    return found
