"""The command line: a thin Typer layer over pipeline, service and store.

Exit codes of run, build and fetch (digest/cli/reports.py): 0 nothing failed in this run,
1 something failed in this run (named on stderr, e.g. every message waiting in retry),
2 usage, configuration or database error (`error: store: ...`, from every command).
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from digest import __version__
from digest.cli import delivery as cli_delivery
from digest.cli import eval as cli_eval
from digest.cli import feeds as cli_feeds
from digest.cli import service as cli_service
from digest.cli import subscribers as cli_subscribers
from digest.cli.asof import as_of_copy
from digest.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    ConfigOption,
    DataDirOption,
    console,
    err_console,
    fail,
    is_terminal,
    load,
    new_app,
    store_for,
)
from digest.cli.handover import hand_over, request_options
from digest.cli.reports import (
    exit_code,
    print_ingest,
    print_llm_fallbacks,
    print_problems,
    print_report,
)
from digest.config import DigestSettings, Settings, parse_duration
from digest.errors import ConfigError, DigestError, LockError, StoreError
from digest.models import IngestReport, Progress, RunReport, wall_clock
from digest.pipeline import (
    Deps,
    RunOptions,
    fetch_once,
    prune_store,
    run_digests,
    sources_for,
)
from digest.store import MIGRATIONS, Store, held_by_service, run_lock

app = new_app(
    name="digest",
    help="Scheduled news digests: fetch feeds, find the key events, send them as PDF and email.",
)
app.add_typer(cli_feeds.app, name="feeds", help="List, add, check and manage feeds.")
app.add_typer(cli_eval.app, name="eval", help="Measure events and summaries on JSONL datasets.")
app.add_typer(
    cli_subscribers.group,
    name="subscribers",
    help="List recipients (active, unsubscribed, suspended) and resume suspended ones.",
)

DigestOption = Annotated[
    list[str] | None,
    typer.Option("--digest", "-d", help="Only this digest (repeatable). Default: all."),
]
SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Cover this much time before now (e.g. 24h, 2d) instead of the digest's window.",
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", help="Write the PDF, HTML and text here (default: DATA_DIR/digests)."
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Build the digest as it would have been at this ISO time "
        "(e.g. 2018-10-27T07:00:00+00:00; no offset means UTC).",
    ),
]
FetchAsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Fetch as if it were this ISO time: feeds due then are fetched, and `keep` counts "
        "back from it (e.g. 2018-10-27T07:00:00+00:00; no offset means UTC).",
    ),
]
InPlaceOption = Annotated[
    bool,
    typer.Option(
        "--in-place",
        help="With --as-of: record the run in the configured database (and send), instead "
        "of working on a copy of it.",
    ),
]
QuietOption = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="For cron: print nothing unless something failed in this run (then only that, "
        "on stderr), or summaries fell back from the language model for a reason other than "
        "the fact guard (one line).",
    ),
]


# How long `digest run` waits for a run it handed to `digest serve` (a big run takes minutes).
HAND_OVER_WAIT = 3600.0
SiteOption = Annotated[
    Path | None,
    typer.Option("--site", help="Publish the archive site here (default: DATA_DIR/site)."),
]


def main() -> None:
    """Run the command line; a database error from any command is one line and exit 2."""
    # What the imports made lives as long as the process: kept out of the collector's
    # passes, a 1,000-feed pass where every feed answers 304 takes a tenth less CPU.
    gc.freeze()
    try:
        app()
    except StoreError as exc:
        err_console.print(f"error: {exc}", markup=False)
        sys.exit(EXIT_USAGE)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    if ctx.invoked_subcommand != "serve":
        # A one-off command's log is its stderr: an unexpected error's traceback (logged
        # where it became a Failure) shows there, prefixed like every other line.
        # `serve` sets up its own structured log lines.
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="digest: %(message)s")
    if version:
        # The schema this version's database has (docs/operating.md, "Versions and upgrades").
        console.print(f"digest {__version__} (database schema {len(MIGRATIONS)})", markup=False)
        raise typer.Exit(EXIT_OK)


@app.command("run")
def run_command(
    ctx: typer.Context,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    digest: DigestOption = None,
    since: SinceOption = None,
    out: OutOption = None,
    no_send: Annotated[
        bool,
        typer.Option(
            "--no-send", help="Build and write files; send nothing and record no delivery."
        ),
    ] = False,
    no_fetch: Annotated[bool, typer.Option("--no-fetch", help="Use only stored articles.")] = False,
    as_of: AsOfOption = None,
    quiet: QuietOption = False,
    site: SiteOption = None,
    in_place: InPlaceOption = False,
) -> None:
    """Fetch feeds, build each digest, write PDF/HTML/text and deliver it (one-off run)."""
    settings = _settings_as_of(ctx, config, data_dir, as_of, in_place, quiet)
    chosen = _chosen(settings, digest)
    options = RunOptions(
        fetch=not no_fetch, send=not no_send, since=_since(since), out_dir=out, site_dir=site
    )
    when = _now(as_of)
    _run_digests(settings, chosen, options, when, quiet, when if as_of else None)


@app.command("build")
def build_command(
    ctx: typer.Context,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    digest: DigestOption = None,
    since: SinceOption = None,
    out: OutOption = None,
    as_of: AsOfOption = None,
    quiet: QuietOption = False,
    site: SiteOption = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Print, per event, the terms that tie its articles together and the "
            "similarity of each merge (also kept in the run report).",
        ),
    ] = False,
    in_place: InPlaceOption = False,
) -> None:
    """Build and write each digest from stored articles: no fetching, no sending."""
    settings = _settings_as_of(ctx, config, data_dir, as_of, in_place, quiet)
    options = RunOptions(
        fetch=False, send=False, since=_since(since), out_dir=out, site_dir=site, explain=explain
    )
    _run_digests(settings, _chosen(settings, digest), options, _now(as_of), quiet)


@app.command("fetch")
def fetch_command(
    ctx: typer.Context,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Fetch every feed now, even those backing off or disabled."),
    ] = False,
    as_of: FetchAsOfOption = None,
    quiet: QuietOption = False,
    in_place: InPlaceOption = False,
) -> None:
    """Fetch the feeds that are due (every feed with --force) and store new articles."""
    settings = _settings_as_of(ctx, config, data_dir, as_of, in_place, quiet)
    store = store_for(settings)
    now = _now(as_of)
    try:
        # Locked like `digest run`: two writers of the same feed's state would race.
        with run_lock(settings), _progress(quiet) as progress:
            sources = sources_for(settings, store, settings.digests)
            report = fetch_once(settings, store, sources, now, Deps(progress=progress), force=force)
            prune_store(settings, store, now)
    except LockError as exc:
        if not held_by_service(exc):
            fail(f"{exc} (another digest run is using this database)", EXIT_FAILED)
        options = request_options((), RunOptions(), now if as_of else None, force=force)
        handed, _ = _hand_over(settings, store, options, quiet, kind="fetch")
        if handed is None:  # a fetch request always reports its pass, unless the service broke
            fail("fetch: the service finished the request without a report", EXIT_FAILED)
        report = handed
    if not quiet:
        print_ingest(report)
    print_problems(report, ())
    raise typer.Exit(exit_code(report, ()))


def _settings_as_of(
    ctx: typer.Context,
    config: Path | None,
    data_dir: Path | None,
    as_of: str | None,
    in_place: bool,
    quiet: bool,
) -> Settings:
    """Return the settings; with --as-of and no --data-dir given here, on a database copy."""
    settings = load(config, data_dir)
    if in_place and as_of is None:
        fail("--in-place: only with --as-of")
    # Typer's own copy of click says where a value came from: the command line, or
    # DIGEST_DATA_DIR (which the service's unit sets: that is the service's database).
    source = ctx.get_parameter_source("data_dir")
    explicit = source is not None and source.name == "COMMANDLINE"
    if as_of is None or in_place or explicit:
        return settings
    return as_of_copy(settings, quiet=quiet)


def _run_digests(
    settings: Settings,
    chosen: Sequence[DigestSettings],
    options: RunOptions,
    now: datetime,
    quiet: bool,
    as_of: datetime | None = None,
) -> None:
    store = store_for(settings)
    try:
        # `digest build` reads the store and writes files only: it need not wait for a run.
        lock = run_lock(settings) if options.send or options.fetch else nullcontext()
        with lock, _progress(quiet) as progress:
            ingest, reports = run_digests(
                settings, store, chosen, options, now, Deps(progress=progress)
            )
    except LockError as exc:
        if not held_by_service(exc):
            fail(f"{exc} (another digest run is using this database)", EXIT_FAILED)
        handed = request_options(chosen, options, as_of)
        ingest, reports = _hand_over(settings, store, handed, quiet, kind="run")
    if not quiet:
        if ingest is not None:
            print_ingest(ingest)
        for report in reports:
            print_report(report)
    print_problems(None, reports)  # fetch failures are in each digest's report
    print_llm_fallbacks(reports, quiet)
    raise typer.Exit(exit_code(None, reports))


def _hand_over(
    settings: Settings, store: Store, options: str, quiet: bool, *, kind: str
) -> tuple[IngestReport | None, list[RunReport]]:
    """Return the reports of the run done by the `digest serve` that holds the lock."""
    if not quiet:
        err_console.print(
            f"digest: digest serve is running: handing this {kind} to it", markup=False
        )
    try:
        done = hand_over(settings, store, options, wait=HAND_OVER_WAIT, kind=kind)
    except LockError as exc:
        fail(str(exc), EXIT_FAILED)  # names the request and what became of it
    return done.ingest, list(done.reports)


def _chosen(settings: Settings, names: list[str] | None) -> list[DigestSettings]:
    if not names:
        return list(settings.digests)
    try:
        return [settings.digest(n) for n in names]
    except ConfigError as exc:
        fail(str(exc))


def _since(value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        fail(f"--since: {exc}")


def _now(as_of: str | None) -> datetime:
    if as_of is None:
        return wall_clock()
    try:
        parsed = datetime.fromisoformat(as_of)
    except ValueError:
        fail(f"--as-of: {as_of!r} is not an ISO date-time like 2026-11-25T07:00:00+01:00")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@contextmanager
def _progress(quiet: bool) -> Iterator[Progress]:
    """Yield a progress callback: a Rich spinner on a terminal, plain log lines otherwise."""
    if quiet:
        yield lambda _msg: None
    elif is_terminal():
        with console.status("starting") as status:
            yield lambda msg: status.update(msg)
    else:
        # Written straight to stderr: Rich's print costs about a millisecond a line, and a
        # pass prints a line per feed (a second of CPU for 1,000 feeds answering 304).
        yield lambda msg: print(f"digest: {msg}", file=sys.stderr)


@app.command("preview")
def preview_command(
    folder: Annotated[Path, typer.Argument(help="A folder of written digests (see --out).")],
) -> None:
    """Write PNG previews of each digest in a folder: PDF pages and the email at 600 px."""
    from digest.render import write_previews

    pdfs = sorted(folder.glob("*.pdf"))
    if not pdfs:
        fail(f"preview: {folder}: no PDF files here (run `digest run --out {folder}` first)")
    code = EXIT_OK
    for pdf in pdfs:
        try:
            for png in write_previews(pdf, pdf.with_suffix(".html"), folder / "previews"):
                console.print(f"wrote {png}", markup=False)
        except DigestError as exc:
            err_console.print(f"error: {exc}", markup=False)
            code = EXIT_FAILED
    raise typer.Exit(code)


# Registered after run/build/fetch so `digest --help` lists the everyday commands first.
for command in (
    cli_delivery.app.registered_commands
    + cli_service.app.registered_commands
    + cli_subscribers.app.registered_commands
):
    app.registered_commands.append(command)
