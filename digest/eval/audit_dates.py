"""Dates a reader is shown, checked against what their sentence says: vague dates printed as a
day, past or repeated "Coming up" items (`digest eval reader`).
"""

from __future__ import annotations

import html as htmllib
import re
import zipfile
from datetime import date
from io import BytesIO

from digest.eval.audit_text import flat, words
from digest.models import DatedItem

# --- dates ------------------------------------------------------------------------------

_RU_MONTHS = [
    "январ",
    "феврал",
    "март",
    "апрел",
    "ма",
    "июн",
    "июл",
    "август",
    "сентябр",
    "октябр",
    "ноябр",
    "декабр",
]
_EN_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def _month_pattern(month: int) -> str:
    ru = _RU_MONTHS[month - 1]
    ru = r"ма[йяе]" if ru == "ма" else ru + r"[а-я]*"
    en = _EN_MONTHS[month - 1] + r"[a-z]*\.?"
    return rf"(?:{ru}|{en})"


def date_precision(label: str, when: date) -> str:
    """Return "exact" when the sentence gives the day of when's month, "vague" when it names
    the month without a day («в конце ноября», "mid-February", "in July"), else ""."""
    month = _month_pattern(when.month)
    text = flat(label)
    exact = re.search(
        rf"(?<!\d)\d{{1,2}}(?:st|nd|rd|th|-?го|-?е)?\s+(?:of\s+)?{month}(?![а-яa-z])"
        rf"|(?<![а-яa-z]){month}\s+\d{{1,2}}(?!\d)",
        text,
        re.I,
    )
    if exact:
        return "exact"
    if re.search(rf"(?<![а-яa-z]){month}(?![а-яa-z])", text, re.I):
        return "vague"
    return ""


def _shown_dates(rendered: str, label: str) -> list[str]:
    """Return the date printed before each place the label is shown in a rendered text."""
    head = flat(label)[:40]
    if not head:
        return []
    out = []
    for m in re.finditer(re.escape(head), rendered):
        before = rendered[max(0, m.start() - 40) : m.start()]
        out.append(before)
    return out


_DAY_SHOWN = re.compile(r"(?<!\d)\d{1,2}(?!\d)\s*[^\W\d_]{3,}\.?\s*(?:\d{4})?\s*[-—:]?\s*$")


def _plain(html: str) -> str:
    return flat(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)))


def rendered_views(files: dict[str, bytes]) -> dict[str, str]:
    """Return the run's text, HTML and EPUB as flat plain text, by format."""
    views: dict[str, str] = {}
    if ".txt" in files:
        views["text"] = flat(files[".txt"].decode("utf-8"))
    if ".html" in files:
        views["html"] = _plain(files[".html"].decode("utf-8"))
    if ".epub" in files:
        with zipfile.ZipFile(BytesIO(files[".epub"])) as book:
            pages = [
                _plain(book.read(n).decode("utf-8"))
                for n in book.namelist()
                if n.endswith((".xhtml", ".html"))
            ]
        views["epub"] = " ".join(pages)
    return views


def _ics_day(block: str, key: str) -> date | None:
    m = re.search(rf"^{key}[^:]*:(\d{{4}})(\d{{2}})(\d{{2}})", block, re.M)
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def _ics_days(ics: bytes) -> list[tuple[str, bool]]:
    """Return each calendar item's description and whether it is given a single day."""
    text = ics.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "")
    out = []
    for block in text.split("BEGIN:VEVENT")[1:]:
        start, end = _ics_day(block, "DTSTART"), _ics_day(block, "DTEND")
        one_day = start is not None and (end is None or (end - start).days <= 1)
        m = re.search(r"^DESCRIPTION:(.*)$", block, re.M)
        description = m.group(1) if m else ""
        description = description.replace("\\n", " ").replace("\\,", ",").replace("\\;", ";")
        out.append((flat(description), one_day))
    return out


def shown_exact(item: DatedItem, views: dict[str, str], ics: bytes | None) -> list[str]:
    """Return the formats that print a day of the month for the item."""
    bad = []
    for fmt, view in views.items():
        if any(_DAY_SHOWN.search(before) for before in _shown_dates(view, item.label)):
            bad.append(fmt)
    if ics:
        head = flat(item.label)[:30]
        for description, one_day in _ics_days(ics):
            if head and description.startswith(head) and one_day:
                bad.append("ics")
                break
    return bad


_PAST_WORDS = re.compile(
    r"\b(?:прош[её]л|прошла|прошло|прошли|состоял[аиос]?[сь]?|завершил\w*|took place|was held"
    r"|were held|happened|ended|\w{3,}(?:лся|лась|лось|лись))\b",
    re.I,
)
_FUTURE_WORDS = re.compile(
    r"\b(?:будет|будут|состоится|пройд[её]т|пройдут|начн[её]тся|планиру\w+|намечен\w*"
    r"|will|shall|scheduled|due to|is set to|are set to|upcoming|next)\b",
    re.I,
)


def _jaccard(a: str, b: str) -> float:
    wa, wb = set(words(a)), set(words(b))
    return len(wa & wb) / len(wa | wb) if wa | wb else 0.0


def coming_up_error(item: DatedItem, today: date, shown: list[DatedItem]) -> str:
    """Return why a Coming up item is wrong (past, about another year, told of the past, a
    repeat of an item shown above it), or ""."""
    years = [int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", item.label)]
    if item.when <= today:
        return "not after the digest's date"
    if years and item.when.year not in years and max(years) < today.year:
        return f"the sentence is about {max(years)}"
    if _PAST_WORDS.search(item.label) and not _FUTURE_WORDS.search(item.label):
        return "the sentence tells of the past"
    label = flat(item.label).casefold()
    for other in shown:
        same = flat(other.label).casefold() == label
        if same or (other.when == item.when and _jaccard(other.label, item.label) >= 0.5):
            return f"repeats {other.when}: {other.label[:60]}"
    return ""
