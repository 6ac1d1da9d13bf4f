"""strip_controls: what goes (C0/C1 controls, bidi overrides, lone surrogates) and what stays."""

from __future__ import annotations

import pytest

from digest.text import strip_controls


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Zorbland \u202egnp.exe\u202c election", "Zorbland gnp.exe election"),
        ("a\u2066b\u2067c\u2068d\u2069e\u202a\u202b\u202df", "abcdef"),
        ("ESC\x1b[31m NUL\x00 DEL\x7f C1\x9b", "ESC[31m NUL DEL C1"),
        ("page\x0cbreak\x0bvertical\x85next\x1funit", "page break vertical next unit"),
        ("windows\r\nline\rold mac", "windows\nline\nold mac"),
        ("lone \ud800 surrogate \ufffe\uffff", "lone  surrogate "),
        # Kept: tab, newline, and the marks right-to-left text uses (RLM, LRM, ALM).
        ("tab\tline\nשלום\u200f abc\u200e \u061c", "tab\tline\nשלום\u200f abc\u200e \u061c"),
    ],
)
def test_strip_controls(raw: str, clean: str) -> None:
    assert strip_controls(raw) == clean


def test_clean_text_is_returned_as_is() -> None:
    text = "An ordinary headline — with «quotes» and ünïcödé"
    assert strip_controls(text) is text
