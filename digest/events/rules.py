"""Keyword rules: drop a period's articles by `exclude` lists, keep only `include` matches.

Rules come from a digest and from each feed (config/rules.py checks them). A word or phrase
matches on word boundaries, case-insensitive, in the title and the text, in any form the
Snowball stemmer folds together: "election" matches "elections", "Путин" matches "Путина"
and "Путину". A phrase matches its words in a row. A `/regex/` is searched as written,
case-insensitive. Exclude wins: an article matching any exclude rule is dropped; where
include rules are given (by the digest or by the article's feed), an article must match one
of them. Each removal is counted under the rule that caused it, for the run report.

A `/regex/` runs on the `regex` package, with a time limit: `(a+)+$` against forty a's and a
"!" backtracks for hours under the standard `re`, which has no way to stop a search, and
checking patterns for such shapes at load would refuse rules people rely on (back
references, look-arounds) while missing others. A search that takes longer than
`REGEX_TIMEOUT`, or a rule that has used `REGEX_BUDGET` over the run, gives up: the rule
counts as not matching for the rest of the run and is reported (`RulesOutcome.gave_up`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import regex

from digest.config import is_regex_rule
from digest.models import Article, FeedSource
from digest.text import stem_words

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_CYRILLIC = re.compile(r"[а-яёіїєґ]", re.IGNORECASE)

Matcher = Callable[[str, "_Stems"], bool]
# One search may take this long; all of one rule's searches in a run, this long together.
REGEX_TIMEOUT = 0.25
REGEX_BUDGET = 5.0


@dataclass(frozen=True, slots=True)
class RulesOutcome:
    """The articles kept and, per rule, how many were removed (rules that removed none left out)."""

    kept: tuple[Article, ...]
    removed: tuple[tuple[str, int], ...] = ()
    # (rule, why) for each /regex/ that ran out of time and was skipped for the rest of the run
    gave_up: tuple[tuple[str, str], ...] = ()

    @property
    def removed_total(self) -> int:
        """Return the number of articles removed by any rule."""
        return sum(n for _, n in self.removed)


class _Stems:
    """Stems each distinct word once per run; Cyrillic words with the Russian stemmer.

    `joined` remembers the last text it saw (by identity): every rule looks at one article
    in turn, so its text is split and stemmed once.
    """

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}
        self._last: tuple[str, str] | None = None

    def words(self, text: str) -> list[str]:
        """Return the stems of text's words, in order."""
        words = [w.lower().replace("ё", "е") for w in _WORD.findall(text)]
        missing = [w for w in dict.fromkeys(words) if w not in self._cache]
        for lang in ("ru", "en"):
            batch = [w for w in missing if bool(_CYRILLIC.search(w)) == (lang == "ru")]
            self._cache.update(zip(batch, stem_words(batch, lang), strict=True))
        return [self._cache[w] for w in words]

    def joined(self, text: str) -> str:
        """Return text's stems joined by \x01, with one at each end (word boundaries)."""
        if self._last is None or self._last[0] is not text:
            self._last = (text, "\x01" + "\x01".join(self.words(text)) + "\x01")
        return self._last[1]


class _TimedRegex:
    """A /regex/ rule searched with a time limit per search and a budget per run."""

    def __init__(self, rule: str, gave_up: dict[str, str]) -> None:
        self.rule, self.gave_up = rule, gave_up
        self.pattern = regex.compile(rule[1:-1], regex.IGNORECASE)
        self.spent = 0.0

    def __call__(self, text: str, _stems: _Stems) -> bool:
        if self.rule in self.gave_up:
            return False
        limit = min(REGEX_TIMEOUT, REGEX_BUDGET - self.spent)
        started = time.perf_counter()
        try:
            return self.pattern.search(text, timeout=limit) is not None
        except TimeoutError:
            self.gave_up[self.rule] = (
                f"a search took over {limit:.2f}s (on {text[:60].strip()!r}); "
                "skipped for the rest of this run: nested repeats like (a+)+ backtrack "
                "without end, simplify it"
            )
            return False
        finally:
            self.spent += time.perf_counter() - started
            if self.spent >= REGEX_BUDGET and self.rule not in self.gave_up:
                self.gave_up[self.rule] = (
                    f"its searches took {self.spent:.1f}s in this run; skipped for the rest of it"
                )


def _matcher(rule: str, stems: _Stems, gave_up: dict[str, str]) -> Matcher:
    """Return a function telling whether an article's text matches one rule."""
    if is_regex_rule(rule):
        return _TimedRegex(rule, gave_up)
    # Joined with a separator no stem contains, a phrase is a substring on word boundaries.
    needle = "\x01" + "\x01".join(stems.words(rule)) + "\x01"
    return lambda text, s: needle in s.joined(text)


def apply_rules(
    articles: Sequence[Article],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    feeds: Sequence[FeedSource] = (),
) -> RulesOutcome:
    """Return the articles that pass the digest's and their feeds' rules, with removal counts."""
    by_url: Mapping[str, FeedSource] = {f.url: f for f in feeds}
    if not (include or exclude or any(f.include or f.exclude for f in feeds)):
        return RulesOutcome(kept=tuple(articles))
    stems = _Stems()
    compiled: dict[str, Matcher] = {}
    gave_up: dict[str, str] = {}

    def match(text: str, rule: str) -> bool:
        if rule not in compiled:
            compiled[rule] = _matcher(rule, stems, gave_up)
        return compiled[rule](text, stems)

    kept: list[Article] = []
    removed: dict[str, int] = {}
    for article in articles:
        feed = by_url.get(article.feed_url)
        why = _removal(article, include, exclude, feed, match)
        if why is None:
            kept.append(article)
        else:
            removed[why] = removed.get(why, 0) + 1
    return RulesOutcome(
        kept=tuple(kept), removed=tuple(removed.items()), gave_up=tuple(gave_up.items())
    )


def _removal(
    article: Article,
    include: Sequence[str],
    exclude: Sequence[str],
    feed: FeedSource | None,
    match: Callable[[str, str], bool],
) -> str | None:
    """Return the label of the rule that removes the article, None when it stays."""
    text = f"{article.title}\n{article.text}"
    feed_exclude = feed.exclude if feed else ()
    for rule in (*exclude, *feed_exclude):
        if match(text, rule):
            return f"exclude {rule}"
    if include and not any(match(text, rule) for rule in include):
        return "include (digest): no match"
    if feed and feed.include and not any(match(text, rule) for rule in feed.include):
        return f"include ({feed.label}): no match"
    return None
