"""Reading TOML tables with typed getters that remember used keys, for clear config errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, cast

from digest.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """Return the timedelta for '90s', '30m', '24h', '2d' or '1w'; ValueError otherwise."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30m, 24h or 2d")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


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
        return value

    def duration(self, key: str, default: timedelta) -> timedelta:
        raw = self.get(key, (str, int), None)
        if raw is None:
            return default
        try:
            return timedelta(seconds=raw) if isinstance(raw, int) else parse_duration(raw)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from exc

    def positive(self, key: str, default: int) -> int:
        value = cast(int, self.get(key, int, default))
        if value < 1:
            raise self.fail(key, f"expected a positive whole number, got {value}")
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
