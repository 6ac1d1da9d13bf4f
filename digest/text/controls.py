"""Characters no reader should get from a feed: control characters and bidi overrides.

One ESC in a JSON Feed title (or a NUL in an RSS title) made the EPUB writer refuse the whole
book ("All strings must be XML compatible"), so no recipient got any digest; XML 1.0 has no
place for C0 controls other than tab and line breaks, nor for lone surrogates and U+FFFE/FFFF.
The bidi embedding, override and isolate characters (U+202A-202E, U+2066-2069) reorder the
text after them: "Zorbland \u202egnp.exe\u202c election" shows a file name backwards in the
HTML, the text part and a calendar's SUMMARY. Marks that only hint a direction (U+200E, U+200F)
stay: right-to-left sources use them. Fetch strips all of these from every stored text field;
render strips them again from what it is given, for rows stored before.
"""

from __future__ import annotations

import re

# What a layout treats as a line or word break becomes a space; the rest goes.
_AS_SPACE = "\x0b\x0c\x1c\x1d\x1e\x1f\x85"
_UNWANTED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
_TABLE: dict[int, str | None] = {
    code: (" " if chr(code) in _AS_SPACE else None)
    for code in (
        *range(0x00, 0x09),
        *range(0x0B, 0x20),
        *range(0x7F, 0xA0),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        *range(0xD800, 0xE000),
        0xFFFE,
        0xFFFF,
    )
}
_TABLE[0x0D] = "\n"  # a lone carriage return ends a line (CR LF is made LF first)


def strip_controls(text: str) -> str:
    """Return text without C0/C1 controls (tab and newline kept) and bidi overrides."""
    if not _UNWANTED.search(text):
        return text  # the usual case, checked at the speed of a regex scan
    return text.replace("\r\n", "\n").translate(_TABLE)
