"""Write a set of output files all or none: into a hidden folder first, then moved in place.

Written straight to their names, a full disk left `*.tmp` files in the served site folder and
a new page whose PDF was never written. Here every file goes to a folder named `.publish-*`
beside them (the same file system, so each move is an atomic rename); only when all are
written whole are they moved in, in the order given, so a page listed last never links to a
file that is not there yet. On any error the hidden folder is removed and the files already
in place stay as they were. The site server never serves a name starting with ".".
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

STAGING_PREFIX = ".publish-"


def write_together(folder: Path, files: Sequence[tuple[str, bytes]]) -> list[Path]:
    """Write (name, data) files into folder, all or none; return their paths in order."""
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
    try:
        for name, data in files:
            with (staging / name).open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())  # whole on disk before the rename makes it visible
        for name, _ in files:
            os.replace(staging / name, folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / name for name, _ in files]
