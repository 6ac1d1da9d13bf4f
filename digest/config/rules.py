"""Keyword rules in the config: `include` and `exclude` lists, checked when the file is read.

A rule is a word or phrase ("football", "climate change", "Путин") matched on word
boundaries in any grammatical form, or a `/regular expression/` (case-insensitive). Matching
lives in digest/events/rules.py; here a bad regex becomes a config error naming the key.
Regexes are compiled by the `regex` package, which runs them (with a time limit).
"""

from __future__ import annotations

import re

import regex

from digest.config.tables import TableReader


def is_regex_rule(rule: str) -> bool:
    """Return True for a rule written as /regex/."""
    return len(rule) >= 3 and rule.startswith("/") and rule.endswith("/")


def read_rules(r: TableReader, key: str) -> tuple[str, ...]:
    """Return the checked rules listed under key (empty when absent)."""
    values = r.get(key, list, [])
    out: list[str] = []
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise r.fail(f"{key}[{i}]", f"expected a word, phrase or /regex/, got {value!r}")
        rule = value.strip()
        if is_regex_rule(rule):
            try:
                regex.compile(rule[1:-1], regex.IGNORECASE)
            except regex.error as exc:
                message = f"{rule} is not a valid regular expression: {exc}"
                raise r.fail(f"{key}[{i}]", message) from exc
        elif not re.search(r"\w", rule):
            raise r.fail(f"{key}[{i}]", f"{rule!r} has no letters or digits to match")
        out.append(rule)
    return tuple(dict.fromkeys(out))
