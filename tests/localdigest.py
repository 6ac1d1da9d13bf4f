"""Build one Russian digest from local feed files through the pipeline, as `digest run` does."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from digest.config import load_settings
from digest.pipeline import Deps, RunOptions, fetch_once, run_once, sources_for
from digest.store.database import open_store


def digest_text(tmp_path: Path, feeds: str, now: datetime, digest_lines: str = "") -> str:
    """Return the text part of digest "d" built at `now` from the `[[feed]]` tables `feeds`."""
    (tmp_path / "feeds.toml").write_text(feeds, encoding="utf-8")
    (tmp_path / "digest.toml").write_text(
        '[[digest]]\nname = "d"\nlanguage = "ru"\nfeeds = ["feeds.toml"]\nformats = ["html"]\n'
        f'window = "48h"\n{digest_lines}',
        encoding="utf-8",
    )
    settings = load_settings(tmp_path / "digest.toml", data_dir=tmp_path / "data", env={})
    store = open_store(settings.storage_url)
    ingest = fetch_once(
        settings, store, sources_for(settings, store, settings.digests), now, Deps()
    )
    report = run_once(
        settings,
        settings.digests[0],
        store,
        now,
        Deps(),
        RunOptions(send=False, out_dir=tmp_path),
        ingest_report=ingest,
    )
    assert report.ok, report.failures
    return next(tmp_path.glob("d-*.txt")).read_text(encoding="utf-8")
