"""The one atomic write (digest/files.py): the whole new file under its name, or the old one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from digest.files import write_atomic, write_together

# Run in a private mount namespace (`unshare -rm`, no root needed) on a 64 KB tmpfs.
FULL_DISK = """
import json, sys
from pathlib import Path
from digest.files import write_atomic, write_together
folder = Path(sys.argv[1])
write_atomic(folder / "page.html", b"old page")
errors = []
try:
    write_atomic(folder / "page.html", b"x" * 200_000)
except OSError as exc:
    errors.append(exc.errno)
try:
    write_together(folder, [("a.txt", b"a"), ("b.pdf", b"x" * 200_000)])
except OSError as exc:
    errors.append(exc.errno)
print(json.dumps({"errors": errors, "files": sorted(p.name for p in folder.iterdir()),
                  "page": (folder / "page.html").read_text()}))
"""


def test_write_atomic_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "feed.atom"
    assert write_atomic(path, b"first") == path
    assert write_atomic(path, b"second") == path
    assert path.read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["feed.atom"]


def test_write_atomic_uses_the_temporary_name_given(tmp_path: Path) -> None:
    (tmp_path / "tmp").mkdir()
    (tmp_path / "new").mkdir()
    path = write_atomic(tmp_path / "new" / "m1", b"message", tmp=tmp_path / "tmp" / "m1")
    assert path.read_bytes() == b"message"
    assert list((tmp_path / "tmp").iterdir()) == []


def test_write_together_writes_every_file_in_order(tmp_path: Path) -> None:
    written = write_together(tmp_path / "out", [("b.pdf", b"pdf"), ("a.html", b"page")])
    assert written == [tmp_path / "out" / "b.pdf", tmp_path / "out" / "a.html"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.html", "b.pdf"]


def test_a_full_disk_keeps_the_old_file_and_leaves_nothing_half_written(tmp_path: Path) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"no user and mount namespaces here: {probe.stderr.decode().strip()}")
    folder = tmp_path / "disk"
    folder.mkdir()
    script = tmp_path / "full.py"
    script.write_text(FULL_DISK, encoding="utf-8")
    shell = (
        f'mount -t tmpfs -o size=64k tmpfs "{folder}" && "{sys.executable}" "{script}" "{folder}"'
    )
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", shell], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    assert result == {"errors": [28, 28], "files": ["page.html"], "page": "old page"}
