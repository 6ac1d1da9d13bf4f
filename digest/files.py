"""Writing files so that a reader never sees half of one: the one atomic write digest has.

Every file a user or another process reads while digest may be writing it (a period's PDF and
page, the archive site, an .eml in the outbox, a Maildir message) is written to a temporary
name on the same file system, flushed to disk with fsync, and only then renamed to its name:
a rename is atomic, so the name holds the old file or the whole new one, even after a crash
or a full disk. `write_together` does the same for a set of files, all or none.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

# The hidden folder a set of files is staged in; the site server never serves a name
# starting with ".".
STAGING_PREFIX = ".publish-"


def write_atomic(path: Path, data: bytes, *, tmp: Path | None = None) -> Path:
    """Write data to tmp (default: a hidden name beside path), fsync it, rename it to path.

    tmp must be on path's file system (a Maildir's tmp/ is); the folders must exist.
    """
    tmp = tmp or path.with_name(f".{path.name}.tmp")
    try:
        _write_synced(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk leaves no half-written temporary behind
        raise
    return path


def write_together(folder: Path, files: Sequence[tuple[str, bytes]]) -> list[Path]:
    """Write (name, data) files into folder, all or none; return their paths in order.

    Written straight to their names, a full disk left `*.tmp` files in the served site folder
    and a new page whose PDF was never written. Here every file goes to a folder named
    `.publish-*` beside them; only when all are written whole are they moved in, in the order
    given, so a page listed last never links to a file that is not there yet. On any error
    the hidden folder is removed and the files already in place stay as they were.
    """
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
    try:
        for name, data in files:
            _write_synced(staging / name, data)
        for name, _ in files:
            os.replace(staging / name, folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / name for name, _ in files]


def _write_synced(path: Path, data: bytes) -> None:
    """Write data to path and flush it to disk: whole before a rename makes it visible."""
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
