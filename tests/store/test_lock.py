"""One scheduler per database: the file lock (SQLite) and the advisory lock (PostgreSQL).

Holders are real processes: a second one is refused at once with the first one's name, a
waiting one gets the lock when it is released, and a killed holder leaves no stale lock.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from digest.config.settings import Settings
from digest.errors import LockError
from digest.store.lock import lock_holder, lock_path, run_lock

HOLD = """
import sys, time
from pathlib import Path
from digest.config.settings import Settings
from digest.store.lock import run_lock
s = Settings(config_path=None, data_dir=Path(sys.argv[1]), storage_url=sys.argv[2],
             outbox_dir=Path(sys.argv[1]), digests=())
with run_lock(s):
    print("locked", flush=True)
    time.sleep(float(sys.argv[3]))
"""


def _settings(data_dir: Path, url: str | None = None) -> Settings:
    return Settings(
        config_path=None,
        data_dir=data_dir,
        storage_url=url or f"sqlite:///{data_dir / 'digest.sqlite3'}",
        outbox_dir=data_dir / "outbox",
        digests=(),
    )


class _Holder:
    """Another process holding the lock for `seconds`."""

    def __init__(self, s: Settings, seconds: float) -> None:
        args = [sys.executable, "-c", HOLD, str(s.data_dir), s.storage_url, str(seconds)]
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert self.p.stdout is not None
        assert self.p.stdout.readline().strip() == "locked"

    def close(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait(10)
        if self.p.stdout:
            self.p.stdout.close()


@pytest.fixture
def holder() -> Iterator[list[_Holder]]:
    started: list[_Holder] = []
    yield started
    for h in started:
        h.close()


def test_lock_file_sits_beside_the_database(tmp_path: Path) -> None:
    assert lock_path(_settings(tmp_path)) == tmp_path / "digest.sqlite3.lock"


def test_second_holder_is_refused_at_once_naming_the_first(
    tmp_path: Path, holder: list[_Holder]
) -> None:
    s = _settings(tmp_path)
    holder.append(_Holder(s, 30))
    started = time.monotonic()
    with pytest.raises(LockError) as refused, run_lock(s):
        pass
    assert time.monotonic() - started < 1
    assert f"held by pid {holder[0].p.pid} on " in str(refused.value)
    assert str(refused.value).startswith(f"lock: {tmp_path / 'digest.sqlite3.lock'}: ")
    assert lock_holder(s) == f"pid {holder[0].p.pid} on {os.uname().nodename}"


def test_waiting_holder_gets_the_lock_when_released(
    tmp_path: Path, database_url: str, holder: list[_Holder]
) -> None:
    s = _settings(tmp_path, database_url)
    holder.append(_Holder(s, 0.5))
    with run_lock(s, wait=10):
        assert holder[0].p.wait(5) == 0  # the first one finished before we got in
    assert lock_holder(s) is None


def test_killed_holder_leaves_no_stale_lock(
    tmp_path: Path, database_url: str, holder: list[_Holder]
) -> None:
    s = _settings(tmp_path, database_url)
    holder.append(_Holder(s, 30))
    holder[0].p.send_signal(signal.SIGKILL)
    holder[0].p.wait(5)
    with run_lock(s):
        holder_now = lock_holder(s)  # PostgreSQL adds the server backend holding it
        assert holder_now and holder_now.startswith(f"pid {os.getpid()} on {os.uname().nodename}")
    assert lock_holder(s) is None


def test_a_hard_link_to_the_same_database_is_the_same_lock(
    tmp_path: Path, holder: list[_Holder]
) -> None:
    # The lock was per path: a hard link in another folder started a second service on the
    # same database file.
    first = _settings(tmp_path / "a")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    db = tmp_path / "a" / "digest.sqlite3"
    sqlite3.connect(db).close()
    for name in ("hard", "soft"):
        link = tmp_path / "b" / f"{name}.sqlite3"
        if name == "hard":
            os.link(db, link)
        else:
            link.symlink_to(db)
        holder.append(_Holder(first, 30))
        other = _settings(tmp_path / "b", f"sqlite:///{link}")
        assert lock_path(other) != lock_path(first)
        with pytest.raises(LockError) as refused, run_lock(other):
            pass
        assert "held by another process using this very database file under another name" in (
            str(refused.value)
        )
        assert f"inode {db.stat().st_ino}" in str(refused.value)
        holder.pop().close()
        with run_lock(other):  # free again once the holder is gone
            pass


# -- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture
def postgres_url(postgres_server: Any) -> str:
    """A database on the session's throwaway PostgreSQL server (tests/pgserver.py)."""
    return str(postgres_server.new_database())


def test_postgres_advisory_lock_refuses_a_second_holder_by_name(
    tmp_path: Path, postgres_url: str, holder: list[_Holder]
) -> None:
    s = _settings(tmp_path, postgres_url)
    holder.append(_Holder(s, 30))
    with pytest.raises(LockError) as refused, run_lock(s):
        pass
    assert f"held by pid {holder[0].p.pid} on " in str(refused.value)
    assert "server backend" in str(refused.value)
    assert not (tmp_path / "digest.lock").exists()  # no file lock for PostgreSQL
    holder[0].p.send_signal(signal.SIGKILL)  # the server drops a dead client's locks
    holder[0].p.wait(5)
    with run_lock(s, wait=5):
        pass
    assert lock_holder(s) is None
