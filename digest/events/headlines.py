"""Headlines as a reader should see them: without the outlet's name that feeds append.

A trailing " - Source" or " | Source" goes only when it names the article's own outlet (the
feed's name, the site's name in the URL, or a suffix the feed's other titles share); a dash
inside a headline is usually a clause («Жалко, что большинство участников митинга — не
москвичи», "Brexit - what happens next?") and stays.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

_TAIL = re.compile(r"\s+[|–—-]\s+((?:(?!\s[|–—-]\s).){2,60})$")
# Second-level labels that are not a site's name: "bbc.co.uk", "lenta.com.ru".
_GENERIC_LABELS = frozenset({"co", "com", "org", "net", "gov", "ac", "edu", "www", "m", "news"})
# What an outlet's name adds to its site's name: "BBC News", "Lenta.ru", "The Guardian".
_OUTLET_WORDS = re.compile(r"^(?:the)?(.+?)(?:news|online|com|ru|uk|org|net|tv|today)*$")


def _compact(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold().replace("ё", "е"))


def site_name(url: str) -> str:
    """Return the site's name in a URL: "https://www.bbc.co.uk/news/x" -> "bbc"."""
    labels = (urlsplit(url).hostname or "").split(".")[:-1]
    labels = [label for label in labels if label not in _GENERIC_LABELS]
    return labels[-1] if labels else ""


def shared_suffixes(titles: Sequence[str]) -> set[str]:
    """Return the tails after " - " or " | " that at least half of two or more titles share."""
    tails = Counter(m.group(1).strip() for t in titles if (m := _TAIL.search(t.strip())))
    return {tail for tail, n in tails.items() if n >= 2 and 2 * n >= len(titles)}


def _is_outlet(tail: str, outlets: Iterable[str]) -> bool:
    """Tell whether `tail` names one of the outlets (names, site names or shared suffixes)."""
    key = _compact(tail)
    bare = _OUTLET_WORDS.sub(r"\1", key)
    for outlet in outlets:
        name = _compact(outlet)
        if len(name) < 2:
            continue
        if key == name or bare == name or (len(key) >= 3 and name.startswith(key)):
            return True  # "BBC News" of the feed "BBC News - World", "bbc" of bbc.co.uk
    return False


def clean_headline(title: str, outlets: Iterable[str] = ()) -> str:
    """Return the title without surrounding space, its own outlet's name or a final period."""
    title = re.sub(r"\s+", " ", title).strip()
    names = list(outlets)
    m = _TAIL.search(title)
    if m and m.start() > 0 and _is_outlet(m.group(1), names):
        title = title[: m.start()]
    return title.rstrip(".").strip()
