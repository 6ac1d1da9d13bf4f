"""A period's files: the rendered digest written to the output folder and the archive site.

`write_period` does both for a run, timed as its "render" and "site" stages.

The output folder (`--out`, default DATA_DIR/digests) gets the period's page, text, PDF, EPUB
and calendar under the period's name, all or none (digest.files.write_together); the archive
site gets the period's page beside the others (site.py). A failure of the site is no failure
of the files: the mail still goes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from digest.config import DigestSettings
from digest.deliver import issue_stem
from digest.errors import DigestError
from digest.files import write_together
from digest.models import Digest, Failure, Rendered
from digest.render.renders import Renders
from digest.render.site import publish_site
from digest.report import StageTimer

# The order the written files are reported in (and always were): the page first.
_OUTPUT_ORDER = (".html", ".txt", ".pdf", ".epub", ".ics")


def write_outputs(rendered: Rendered, d: DigestSettings, key: str, out_dir: Path) -> list[str]:
    """Write a period's files into out_dir, all or none; return their paths, the page first."""
    stem = issue_stem(d, key)  # the period's name, like the attachment's
    files: list[tuple[str, bytes]] = []
    if rendered.pdf is not None:
        files.append((f"{stem}.pdf", rendered.pdf))
    if rendered.epub is not None:
        files.append((f"{stem}.epub", rendered.epub))
    if rendered.ics is not None and "ics" in d.formats:
        files.append((f"{stem}.ics", rendered.ics))
    files.append((f"{stem}.txt", rendered.text.encode("utf-8")))
    files.append((f"{stem}.html", rendered.html.encode("utf-8")))
    # All or none, the page last (a full disk left half of them and *.tmp files).
    written = write_together(out_dir, files)
    return [str(p) for p in sorted(written, key=lambda p: _OUTPUT_ORDER.index(p.suffix))]


def write_period(
    renders: Renders,
    key: str,
    now: datetime,
    out_dir: Path,
    site_dir: Path,
    keep: timedelta,
    timer: StageTimer,
) -> tuple[list[str], list[Failure]]:
    """Return the files written for a period (its outputs, then its archive page), and what failed.

    A digest whose files could not be written has nothing to publish; a site that could not
    be written is no reason to keep the mail.
    """
    d = renders.settings
    with timer.stage("render"):
        try:
            outputs = write_outputs(renders.own(), d, key, out_dir)
        except (DigestError, OSError) as exc:  # OSError: --out unwritable or full
            return [], [Failure("render", d.name, str(exc))]
    with timer.stage("site"):
        page, failed = publish_period(
            site_dir, renders.own(), renders.digest, d, key=key, keep=keep, now=now
        )
    return outputs + page, failed


def publish_period(
    site_dir: Path,
    rendered: Rendered,
    digest: Digest,
    d: DigestSettings,
    *,
    key: str,
    keep: timedelta,
    now: datetime,
) -> tuple[list[str], list[Failure]]:
    """Return the archive page written for this period, or the failure that kept it out."""
    try:
        written = publish_site(site_dir, digest, rendered, d, period_key=key, keep=keep, now=now)
    except (DigestError, OSError) as exc:  # a full disk or a bad template: the mail still goes
        return [], [Failure("site", str(site_dir), str(exc))]
    return [str(p) for p in written if p.suffix == ".html" and p.name != "index.html"], []
