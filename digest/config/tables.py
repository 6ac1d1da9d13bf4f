"""Reading TOML tables with typed getters that remember used keys, for clear config errors."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, cast

from digest.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# A century: any configured span added to or taken from now stays a valid datetime (a
# "99999999999d" window would overflow the first time it is subtracted, in a job).
MAX_DURATION = timedelta(days=36500)


def parse_duration(text: str) -> timedelta:
    """Return the timedelta for '90s', '30m', '24h', '2d' or '1w'; ValueError otherwise."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30m, 24h or 2d")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    return _bounded(seconds, repr(text))


def _bounded(seconds: float, shown: str) -> timedelta:
    if not math.isfinite(seconds) or seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{shown} is too long: at most {MAX_DURATION.days}d")
    return timedelta(seconds=seconds)


class TableReader:
    """Walks one TOML table, checking types and remembering which keys were used."""

    def __init__(self, file: str, prefix: str, table: Mapping[str, Any]) -> None:
        self.file, self.prefix, self.table = file, prefix, table
        self.used: set[str] = set()

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.file, f"{self.prefix}{key}: {message}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        self.used.add(key)
        if key not in self.table:
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if (
            isinstance(value, bool)
            and kind is not bool
            and bool not in (kind if isinstance(kind, tuple) else (kind,))
        ):
            raise self.fail(key, f"expected {_kind_name(kind)}, got {value!r}")
        if not isinstance(value, kind):
            raise self.fail(key, f"expected {_kind_name(kind)}, got {value!r}")
        if isinstance(value, str) and "\x00" in value:  # no path, URL or name holds one
            raise self.fail(key, "contains a NUL character")
        return value

    def duration(
        self,
        key: str,
        default: timedelta,
        least: timedelta = timedelta(seconds=1),
        most: timedelta = MAX_DURATION,
    ) -> timedelta:
        """Return a duration ('30m', or whole seconds) in [least, most] (most: a century)."""
        raw = self.get(key, (str, int), None)
        if raw is None:
            return default
        try:
            value = parse_duration(raw) if isinstance(raw, str) else None
        except ValueError as exc:
            raise self.fail(key, str(exc)) from exc
        seconds = value.total_seconds() if value is not None else raw
        if not least.total_seconds() <= seconds <= most.total_seconds():
            span = f"from {_span(least)} to {_span(most)}"
            raise self.fail(key, f"expected a duration {span}, got {raw!r}")
        return value if value is not None else timedelta(seconds=raw)

    def positive(self, key: str, default: int, most: int = 1_000_000) -> int:
        """Return a whole number from 1 to `most`."""
        value = cast(int, self.get(key, int, default))
        if not 1 <= value <= most:
            raise self.fail(key, f"expected a positive whole number up to {most}, got {value}")
        return value

    def whole(self, key: str, default: int, least: int, most: int) -> int:
        """Return a whole number in [least, most]."""
        value = cast(int, self.get(key, int, default))
        if not least <= value <= most:
            raise self.fail(key, f"expected a whole number from {least} to {most}, got {value}")
        return value

    def number(
        self, key: str, default: float, least: float, most: float, *, above: bool = False
    ) -> float:
        """Return a finite number in [least, most] (in (least, most] when `above`)."""
        value = cast(float, self.get(key, float, default))
        low_ok = value > least if above else value >= least
        if not math.isfinite(value) or not low_ok or value > most:
            low = f"more than {least:g} and" if above else f"from {least:g}"
            raise self.fail(key, f"expected a number {low} up to {most:g}, got {value!r}")
        return value

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        value = cast(str, self.get(key, str, default))
        if value not in options:
            raise self.fail(key, f"{value!r} is not one of {', '.join(options)}")
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise self.fail(unknown[0], "unknown key")


def _span(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in sorted(_UNITS.items(), key=lambda u: -u[1]):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return "0s"


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {
        str: "a string",
        int: "a whole number",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a table",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)
