"""Localised labels, plurals, dates and sizes for the rendered digest (en and ru, Babel).

The words themselves live in `templates/strings.toml`, so users restyle wording the same
way they restyle layout: a `strings.toml` in a digest's `templates_dir` overrides single keys.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_decimal

from digest.errors import RenderError
from digest.models import DatedItem

STRINGS_FILE = "strings.toml"
PACKAGED_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
FALLBACK_LANGUAGE = "en"
# Babel's plain "en" is US English; a news digest reads better with day-month dates.
_LOCALES = {"en": "en_GB", "ru": "ru_RU"}
_FORMATTER = string.Formatter()


def template_dirs(templates_dir: Path | None) -> tuple[Path, ...]:
    """Return the template folders in lookup order: the user's first, the packaged last."""
    return (templates_dir, PACKAGED_TEMPLATES) if templates_dir else (PACKAGED_TEMPLATES,)


def babel_locale(language: str) -> str:
    """Return the Babel locale name used for a digest language ('en' -> 'en_GB')."""
    return _LOCALES.get(language, language)


class Strings:
    """The labels of one language: `strings("contents")`, `strings.plural("sources", 3)`."""

    def __init__(self, language: str, table: Mapping[str, Any]) -> None:
        self.language = language
        self._table = dict(table)
        self._plurals: dict[str, Mapping[str, str]] = dict(table.get("plural", {}))
        try:
            self._locale: Locale | None = Locale.parse(babel_locale(language))
        except (ValueError, TypeError):
            self._locale = None

    def __call__(self, key: str, **values: object) -> str:
        """Return the label for key with {placeholders} filled, or the key itself if unknown."""
        text = self._table.get(key)
        if not isinstance(text, str):
            return key
        return fill(key, text, values) if values else text

    def plural(self, key: str, n: int, **values: object) -> str:
        """Return the plural form of key that fits n, e.g. '3 sources' or '5 источников'."""
        forms = self._plurals.get(key)
        if not forms:
            return f"{n} {key}"
        category = self._locale.plural_form(n) if self._locale else ("one" if n == 1 else "other")
        form = forms.get(category) or forms.get("other") or next(iter(forms.values()))
        n_text = format_decimal(n, locale=self._locale or "en")
        return fill(f"plural.{key}", form, {**values, "n": n_text})


def fill(key: str, text: str, values: Mapping[str, object]) -> str:
    """Return a label with its {name} placeholders filled; RenderError for anything else.

    strings.toml is user data like the templates: `{n.__class__}` (attribute access), `{0}`,
    or `{n:>999999999}` (a gigabyte of padding) are refused, not evaluated.
    """
    try:
        for _text, field, spec, conversion in _FORMATTER.parse(text):
            if field is not None and (not field.isidentifier() or spec or conversion):
                raise RenderError(
                    STRINGS_FILE, f"{key}: only {{name}} placeholders, not {{{field}}}"
                )
        return text.format(**values)
    except (ValueError, KeyError) as exc:  # "{" alone, or a placeholder with no value
        raise RenderError(STRINGS_FILE, f"{key}: {text!r}: {type(exc).__name__}: {exc}") from exc


def load_strings(language: str, directories: Iterable[Path]) -> Strings:
    """Return the merged labels for language: later directories' files override earlier ones."""
    merged: dict[str, Any] = {}
    for data in read_toml_layers(directories, STRINGS_FILE):
        for lang in (FALLBACK_LANGUAGE, language):
            deep_merge(merged, data.get(lang, {}))
    return Strings(language, merged)


def read_toml_layers(directories: Iterable[Path], filename: str) -> Iterator[dict[str, Any]]:
    """Yield the parsed TOML file of that name from each directory that has one, in order."""
    for directory in directories:
        path = directory / filename
        if not path.is_file():
            continue
        try:
            yield tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise RenderError(str(path), f"not valid TOML: {exc}") from exc
        except RecursionError as exc:  # tomllib recurses once per nested array or table
            raise RenderError(str(path), "not valid TOML: nested too deeply") from exc


def deep_merge(into: dict[str, Any], table: Mapping[str, Any]) -> None:
    """Merge table into into, key by key, tables recursively (later values win)."""
    for key, value in table.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            deep_merge(into[key], value)
        elif isinstance(value, Mapping):
            into[key] = {}
            deep_merge(into[key], value)
        else:
            into[key] = value


def to_zone(value: datetime, timezone: str) -> datetime:
    """Return an aware datetime shown in the digest's timezone (naive values count as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(ZoneInfo(timezone))


def format_date(value: date | datetime, language: str, timezone: str, style: str = "medium") -> str:
    """Return a localised date: style is 'short', 'medium', 'long', 'full' or a CLDR pattern."""
    if isinstance(value, datetime):
        value = to_zone(value, timezone).date()
    return babel_format_date(value, format=style, locale=babel_locale(language))


FAR_DAYS = 122  # about four months: further ahead, a reader needs the year


def format_upcoming(when: date, today: date, language: str) -> str:
    """Return a "Coming up" date, with its year when that is not today's or is months away."""
    far = when.year != today.year or (when - today).days > FAR_DAYS
    return babel_format_date(
        when, format="EEE d MMM y" if far else "EEE d MMM", locale=babel_locale(language)
    )


def format_dated(item: DatedItem, today: date, strings: Strings, *, upcoming: bool = False) -> str:
    """Return a dated item's date as its text gives it, the year shown when not today's.

    A vague date is never shown as a day: "mid-Feb", «конец нояб.», "Jul 2020" (the
    strings date_early, date_mid, date_late and date_month word it). `upcoming` adds the
    weekday of an exact day, and the year when it is months away too ("Coming up").
    """
    language = strings.language
    when = item.when
    other_year = when.year != today.year
    if item.part:
        month_style = "MMM y" if other_year else "MMM"
        month = babel_format_date(when, format=month_style, locale=babel_locale(language))
        return strings(f"date_{item.part}", month=month)
    if upcoming:
        return format_upcoming(when, today, language)
    style = "d MMM y" if other_year else "d MMM"
    return babel_format_date(when, format=style, locale=babel_locale(language))


def format_datetime(value: datetime, language: str, timezone: str, style: str = "medium") -> str:
    """Return a localised date and time in the digest's timezone."""
    return babel_format_datetime(
        to_zone(value, timezone), format=style, locale=babel_locale(language)
    )


def format_size(size: int, language: str) -> str:
    """Return a byte count as a short localised size such as '9.5 MB'."""
    value, unit = float(size), "B"
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            break
        value /= 1024
    pattern = "#,##0" if unit == "B" else "#,##0.#"
    return f"{format_decimal(value, format=pattern, locale=babel_locale(language))} {unit}"
