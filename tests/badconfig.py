"""Config values digest once accepted and then crashed on, and a config to put them in.

Each case is (top-level lines, [[digest]] lines, the key the one-line error must name). Used at
start-up (tests/config/test_ranges.py) and on SIGHUP (tests/service/test_reload.py).
"""

from __future__ import annotations

from pathlib import Path

DEEP_ARRAY = "deep = " + "[" * 5000 + "]" * 5000

# (top, digest, key named in the error)
BAD_VALUES: list[tuple[str, str, str]] = [
    ("", "attachment_limit_mb = nan", "digest[0].attachment_limit_mb"),
    ("", "attachment_limit_mb = inf", "digest[0].attachment_limit_mb"),
    ("", 'window = "99999999999d"', "digest[0].window"),
    ('keep = "99999999999d"', "", "keep"),
    ('fetch_every = "0s"', "", "fetch_every"),
    ("", 'window = "0s"', "digest[0].window"),
    ("", "window = -3600", "digest[0].window"),
    ("[fetch]\nmax_redirects = -1", "", "fetch.max_redirects"),
    ("[fetch]\ntimeout = -5.0", "", "fetch.timeout"),
    ('[smtp]\nhost = "127.0.0.1"\nport = -1', "", "smtp.port"),
    (DEEP_ARRAY, "", "nested too deeply"),
    ("", 'unsubscribe = "javascript:alert(document.domain)"', "digest[0].unsubscribe"),
]


def case_id(case: tuple[str, str, str]) -> str:
    """Return a short test id for a case."""
    top, digest, _key = case
    text = (top or digest).replace("\n", " ")
    return text if len(text) < 40 else text[:20] + "..."


def write_config(root: Path, top: str = "", digest: str = "") -> Path:
    """Write digest.toml (one digest over one local feed) with extra lines; return its path."""
    feed = root / "feed.xml"
    if not feed.exists():
        feed.write_text(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title>'
            "<link>http://example.org/</link><description>t</description></channel></rss>",
            encoding="utf-8",
        )
        (root / "feeds.toml").write_text('[[feed]]\nurl = "feed.xml"\n', encoding="utf-8")
    config = root / "digest.toml"
    # Top-level keys must come before any table; a [table] line in `top` starts one.
    config.write_text(
        f'data_dir = "data"\n{top}\n\n[[digest]]\nname = "morning"\nfeeds = ["feeds.toml"]\n'
        f'schedule = "0 7 * * *"\n{digest}\n',
        encoding="utf-8",
    )
    return config
