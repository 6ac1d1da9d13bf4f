"""The error contract of the real command: a damaged database page anywhere gives
`error: store: ...` and exit 2; a database lost or emptied after runs were recorded is
refused, not recreated (which sent the current period to everyone again); a run whose
messages all wait in retry (a TLS misconfiguration) exits 1 and says so.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from badconfig import write_config
from smtpserver import SmtpServer

from digest.service.schedule import is_settled
from digest.store import open_store

RECIPIENTS = 'recipients = ["a@example.org", "b@example.org"]\nsend_empty = true'


def _digest(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    cmd = [sys.executable, "-m", "digest", *args, "--config", str(config)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, check=False)


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("error: ")]
    assert done.stderr.endswith(line + "\n"), done.stderr  # the last thing said
    return line


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder after one real `digest run` that wrote two messages to the outbox."""
    root = tmp_path_factory.mktemp("recorded")
    done = _digest(write_config(root, "", RECIPIENTS), "run", "-q")
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def site(tmp_path: Path, recorded: Path) -> Iterator[Path]:
    """A copy of the recorded folder, its config pointing at the copy."""
    root = tmp_path / "site"
    shutil.copytree(recorded, root)
    yield root


def _damage(db: Path, table: str) -> None:
    """Overwrite the head of a table's root page with garbage, as a bad disk block would."""
    with sqlite3.connect(db) as conn:
        (page,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
    conn.close()
    with db.open("r+b") as f:
        f.seek((page - 1) * size)
        f.write(b"\xff" * 64)


@pytest.mark.parametrize(
    ("table", "command"),
    [
        ("feeds", ("run",)),  # was a traceback and exit 1
        ("runs", ("run",)),  # was a recorded failure and exit 1
        ("deliveries", ("run",)),  # was a recorded failure and exit 1
        ("deliveries", ("fetch",)),  # was swallowed by pruning: exit 0
        ("deliveries", ("deliveries",)),
    ],
)
def test_a_damaged_database_page_is_a_store_error_and_exit_2(
    site: Path, table: str, command: tuple[str, ...]
) -> None:
    db = site / "data" / "digest.sqlite3"
    _damage(db, table)
    done = _digest(site / "digest.toml", *command)
    assert done.returncode == 2, done.stdout + done.stderr
    line = _one_error_line(done)
    assert line.startswith("error: store: ") and "malformed" in line


@pytest.mark.parametrize("loss", ["emptied", "deleted"])
def test_a_lost_database_is_refused_where_runs_were_recorded(site: Path, loss: str) -> None:
    db = site / "data" / "digest.sqlite3"
    marker = db.with_name("digest.sqlite3.has-runs")
    assert marker.is_file()
    sent_before = sorted((site / "data" / "outbox").glob("*.eml"))
    assert len(sent_before) == 2
    for eml in sent_before:
        eml.unlink()  # so a second send would show
    if loss == "emptied":
        db.write_bytes(b"")
    else:
        db.unlink()
    done = _digest(site / "digest.toml", "run")
    assert done.returncode == 2
    line = _one_error_line(done)
    state = "empty (0 bytes)" if loss == "emptied" else "missing"
    assert line.startswith(f"error: store: {db}: the database is {state}, but {marker} says")
    assert not list((site / "data" / "outbox").glob("*.eml"))  # nobody got it twice
    assert (db.stat().st_size == 0) if loss == "emptied" else not db.exists()


def _replace_with_empty_wal_database(db: Path) -> None:
    """`rm digest.sqlite3; sqlite3 digest.sqlite3 "PRAGMA journal_mode=WAL;"`: 4,096 bytes."""
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()


@pytest.mark.parametrize("replacement", ["empty-wal", "another-database", "old-marker"])
def test_a_database_replaced_by_another_valid_file_is_refused(
    site: Path, tmp_path: Path, replacement: str
) -> None:
    # An empty but valid SQLite file (4 KB) passed the old size check: both recipients were
    # mailed the same period again with the same Message-IDs.
    db = site / "data" / "digest.sqlite3"
    marker = db.with_name("digest.sqlite3.has-runs")
    named = re.search(r"database-id: ([0-9a-f]{32})", marker.read_text(encoding="utf-8"))
    for eml in (site / "data" / "outbox").glob("*.eml"):
        eml.unlink()
    if replacement == "another-database":  # another installation's database, runs and all
        other = tmp_path / "other"
        other.mkdir()
        assert _digest(write_config(other, "", RECIPIENTS), "fetch").returncode == 0
        for suffix in ("-wal", "-shm"):
            db.with_name(db.name + suffix).unlink(missing_ok=True)
        shutil.copy(other / "data" / "digest.sqlite3", db)
    else:
        _replace_with_empty_wal_database(db)
        assert db.stat().st_size == 4096
    if replacement == "old-marker":  # a marker written before markers named the database
        marker.write_text("digest recorded runs in digest.sqlite3.\n", encoding="utf-8")
    done = _digest(site / "digest.toml", "run")
    assert done.returncode == 2, done.stdout + done.stderr
    line = _one_error_line(done)
    assert line.startswith(f"error: store: {db}: this file has ")
    if replacement == "old-marker":
        assert "this file has no recorded runs, but " in line
    elif replacement == "empty-wal":
        assert named is not None
        assert (
            f"no database-id (a new database), but {marker} says runs were recorded in {named[1]}"
            in line
        )
    assert "restore the database from a backup, or delete the marker" in line
    assert not list((site / "data" / "outbox").glob("*.eml"))  # nobody got it twice
    if replacement != "another-database":
        assert db.stat().st_size == 4096  # refused before anything was written into it


def test_a_database_restored_from_a_backup_is_used(site: Path, tmp_path: Path) -> None:
    db = site / "data" / "digest.sqlite3"
    backup = tmp_path / "backup.sqlite3"
    with sqlite3.connect(db) as source, sqlite3.connect(backup) as target:
        source.backup(target)
    source.close()
    target.close()
    _replace_with_empty_wal_database(db)
    shutil.copy(backup, db)
    done = _digest(site / "digest.toml", "run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "already written at " in done.stdout  # the same period: nobody mailed again


def test_a_run_whose_messages_all_wait_in_retry_exits_1_and_says_so(tmp_path: Path) -> None:
    server = SmtpServer(tmp_path).start()  # STARTTLS on a plain port
    try:
        smtp = (
            f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "tls"\n'
            f'ca_file = "{server.ca_file}"\ntimeout = 5.0'
        )
        done = _digest(write_config(tmp_path, smtp, RECIPIENTS), "run")
    finally:
        server.stop()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "  retry: a@example.org" in done.stdout and "  retry: b@example.org" in done.stdout
    assert (
        f"digest: morning: deliver: 127.0.0.1:{server.port}: all 2 messages wait in retry, none "
        "delivered: 127.0.0.1:"
    ) in done.stderr
    assert "TLS failed" in done.stderr and "`digest doctor`" in done.stderr
    assert server.handler.messages == []
    # The period is built (the ledger retries the messages), not built again by the service.
    store = open_store(f"sqlite:///{tmp_path / 'data' / 'digest.sqlite3'}")
    (run,) = store.recent_runs("morning")
    store.close()
    assert run.status == "failed" and is_settled(run)
