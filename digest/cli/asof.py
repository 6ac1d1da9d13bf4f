"""`--as-of` on a copy: a run as of another time never writes into the configured database.

A run as of a past (or future) time records its period as done, its deliveries, and feed
state dated then; in the database the service uses, those would make it skip periods or
feeds later. So `run`, `build` and `fetch` with `--as-of` and without `--data-dir` on the
command line work on a copy of the database in a new temporary data folder, where nothing
is sent either: messages (and the `report_to` report) are written to that folder's outbox.
`--data-dir DIR` (as `make demo` does) uses that folder instead; `--in-place` records the
run in the configured database and sends, as a run without `--as-of` would.
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import replace
from pathlib import Path

from digest.cli.common import err_console, fail
from digest.config import Settings

SQLITE = "sqlite:///"


def as_of_copy(settings: Settings, *, quiet: bool) -> Settings:
    """Return settings pointing at a copy of the database in a new data folder, mail off."""
    if not settings.storage_url.startswith(SQLITE):
        fail(
            "--as-of: the database is not an SQLite file, so it cannot be copied: give "
            "--data-dir with a separate storage, or --in-place to record this run in it"
        )
    folder = Path(tempfile.mkdtemp(prefix="digest-as-of-"))
    target = folder / "digest.sqlite3"
    source = Path(settings.storage_url.removeprefix(SQLITE))
    if source.exists():
        _copy(source, target)
    if not quiet:
        err_console.print(
            f"digest: --as-of: working on a copy of {source} in {folder}: the configured "
            "database is not changed and no mail is sent (messages go to "
            f"{folder / 'outbox'}); --in-place records the run there instead",
            markup=False,
        )
    return replace(
        settings,
        data_dir=folder,
        storage_url=f"{SQLITE}{target}",
        outbox_dir=folder / "outbox",
        maildir=None,
        smtp=None,
    )


def _copy(source: Path, target: Path) -> None:
    """Copy an SQLite database, consistent even while the service writes to it."""
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src:
            with sqlite3.connect(target) as dst:
                src.backup(dst)  # SQLite's online backup: a consistent snapshot
            dst.close()
        src.close()
    except sqlite3.Error as exc:
        fail(f"--as-of: store: {source}: cannot copy the database: {exc}")
