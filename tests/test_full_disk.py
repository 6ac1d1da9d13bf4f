"""A full output disk, for real: the `digest run` command with its output folder and its site
on small tmpfs mounts (a private mount namespace, `unshare -rm`, so no root is needed)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from digestcli import cli, emls, write_config

LINES = 'formats = ["pdf", "epub", "ics"]\nsend_empty = true'
DAYS = ("2018-10-27T07:00:00Z", "2018-10-28T07:00:00Z", "2018-10-29T07:00:00Z")
SCRIPT = """
set -u
mount -t tmpfs -o size=256k tmpfs "$SITE"
mount -t tmpfs -o size=64k tmpfs "$FULL"
run() {{ "$PY" -m digest run -c "$CONFIG" --data-dir "$DATA" --as-of "$1" --out "$2" --site "$SITE" \
  --since 3d > "$ROOT/run-$3.out" 2> "$ROOT/run-$3.err"; echo $? > "$ROOT/run-$3.code"; }}
run {day1} "$ROOT/out" 1          # fits: the site has day 1
run {day2} "$ROOT/out" 2          # the site is full: day 2's PDF does not fit
cp -r "$SITE" "$ROOT/site-after-2"
run {day3} "$FULL" 3              # the output folder is full: its PDF does not fit
ls -A "$FULL" > "$ROOT/full-after-3.txt"
"""


def test_a_full_disk_leaves_no_partial_files_and_a_run_row_naming_the_error(
    tmp_path: Path,
) -> None:
    # A full output disk left no run row and *.tmp files in the served site folder, whose
    # new page then linked to a missing PDF.
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"no user and mount namespaces here: {probe.stderr.decode().strip()}")
    config = write_config(tmp_path, LINES)
    (tmp_path / "site").mkdir()
    (tmp_path / "full").mkdir()
    env = {
        "PY": sys.executable,
        "CONFIG": str(config),
        "DATA": str(tmp_path / "data"),
        "ROOT": str(tmp_path),
        "SITE": str(tmp_path / "site"),
        "FULL": str(tmp_path / "full"),
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    }
    script = SCRIPT.format(day1=DAYS[0], day2=DAYS[1], day3=DAYS[2])
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    def said(n: int) -> str:
        return (tmp_path / f"run-{n}.out").read_text() + (tmp_path / f"run-{n}.err").read_text()

    assert (tmp_path / "run-1.code").read_text().strip() == "0", said(1)
    # Day 2: the mail went out; the site kept day 1 whole and got nothing half-written.
    assert "No space left on device" in said(2) and "site: " in said(2)
    site = tmp_path / "site-after-2"
    names = sorted(p.relative_to(site).as_posix() for p in site.rglob("*"))
    assert not [n for n in names if n.endswith(".tmp") or "/." in f"/{n}"], names
    assert not [n for n in names if n.startswith("morning/2018-10-28")], names
    for page in site.rglob("*.html"):
        for link in re.findall(r'href="([^":#]+)"', page.read_text(encoding="utf-8")):
            assert (page.parent / link).exists(), f"{page.name} links to missing {link}"
    # Day 3: nothing written, nothing left behind, and a run row naming the error.
    assert (tmp_path / "run-3.code").read_text().strip() == "1", said(3)
    assert "render: morning: " in said(3) and "No space left on device" in said(3)
    assert (tmp_path / "full-after-3.txt").read_text() == ""
    assert len(emls(tmp_path)) == 4  # days 1 and 2, two recipients each
    status = cli("status", "-c", str(config), "--data-dir", str(tmp_path / "data"))
    assert re.search(r"last run: 2018-10-29T07:00\+0000 failed at .*", status.stdout), status.stdout
    assert "failed: render: morning: " in status.stdout
    assert "No space left on device" in status.stdout
    # Not settled: with room again, the same period is built and sent.
    again = cli(
        "run", "-c", str(config), "--data-dir", str(tmp_path / "data"), "--as-of", DAYS[2],
        "--out", str(tmp_path / "out"), "--site", str(tmp_path / "site"), "--since", "3d",
    )  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(emls(tmp_path)) == 6
